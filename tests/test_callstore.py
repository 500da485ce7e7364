"""The webhooks' call store: load the latest row, append one row a step, sessions join the save."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hotline.messages.threads import open_thread
from hotline.rules.routing import Party
from hotline.store.callstate import CallState
from hotline.store.callstore import (
    CallStatements,
    CallWork,
    record_failure,
    statements,
)
from hotline.store.database import Store
from hotline.store.models import CallEventRow, OutboxRow, ThreadRow
from tests.conftest import postgresql_dialect

SID = "CA00000000000000000000000000000001"
START = datetime(2026, 6, 10, 10, 30, tzinfo=UTC)
COLUMNS = [field.name for field in dataclasses.fields(CallState)]


@pytest.fixture
def write_locked(db_path: Path) -> Iterator[Any]:
    """Whether someone holds the SQLite write lock now (asked without waiting for it)."""
    probe = sqlite3.connect(db_path, timeout=0, isolation_level=None)

    def locked() -> bool:
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return True
        probe.execute("ROLLBACK")
        return False

    yield locked
    probe.close()


def new_call(sid: str = SID, **changes: Any) -> CallState:
    """A call as the first webhook makes it."""
    call = CallState(
        sid=sid,
        language="en",
        started_at=START,
        updated_at=START,
        step="welcome",
        from_number="+48601100200",
        to_number="+442071000000",
    )
    return dataclasses.replace(call, **changes)


def stored(store: Store, sid: str = SID) -> dict[str, Any] | None:
    """The call's state as the ORM reads it from its latest row (None when there is none)."""
    with store.session() as session:
        row = session.scalars(
            select(CallEventRow).where(CallEventRow.call_sid == sid).order_by(CallEventRow.seq)
        ).all()[-1:]
        if not row:
            return None
        names = {"sid": "call_sid", "updated_at": "at", "step": "call_step"}
        return {name: getattr(row[0], names.get(name, name)) for name in COLUMNS}


def events(store: Store, sid: str = SID) -> list[tuple[str, datetime, str, str | None, str]]:
    """The call's events, oldest first."""
    with store.session() as session:
        rows = session.scalars(
            select(CallEventRow).where(CallEventRow.call_sid == sid).order_by(CallEventRow.seq)
        )
        return [(r.call_sid, r.at, r.step, r.input, r.decision) for r in rows]


def count(store: Store, model: type[Any]) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def save_new(store: Store, call: CallState) -> None:
    with CallWork(store) as work:
        assert work.load(call.sid) is None
        work.save(call, "welcome", None, "menu")


def test_saving_a_new_call_inserts_its_row_and_one_event(store: Store) -> None:
    call = new_call(order_id="1234567", seller_accepted=True)

    with CallWork(store) as work:
        assert work.load(SID) is None
        work.save(call, "welcome", None, "greeted > menu")

    assert stored(store) == dataclasses.asdict(call)
    assert events(store) == [(SID, START, "welcome", None, "greeted > menu")]


def test_load_gives_back_what_was_saved(store: Store) -> None:
    warsaw = datetime(2026, 6, 10, 12, 30, tzinfo=ZoneInfo("Europe/Warsaw"))
    call = new_call(started_at=warsaw, updated_at=warsaw, thread_id=7, question="Where is it?")
    save_new(store, call)

    with CallWork(store) as work:
        loaded = work.load(SID)

    assert loaded == call
    assert loaded is not None
    assert loaded.started_at.tzinfo is UTC
    assert loaded.seller_accepted is False
    assert loaded.topic is None


def test_a_loaded_call_holds_no_read_open_through_the_turn(store: Store, db_path: Path) -> None:
    save_new(store, new_call())

    with CallWork(store) as work:
        assert work.load(SID) is not None
        # Between the read and the save (where the turn runs), nothing of this work holds a
        # snapshot of the database: a checkpoint can copy the whole WAL back and empty it.
        with contextlib.closing(sqlite3.connect(db_path)) as other:
            busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

    assert busy == 0


def test_saving_a_loaded_call_writes_its_changes_and_an_event(store: Store) -> None:
    save_new(store, new_call())
    later = START + timedelta(seconds=40)

    with CallWork(store) as work:
        call = work.load(SID)
        assert call is not None
        call.topic = "delivery"
        call.seller_accepted = True
        call.updated_at = later
        work.save(call, "menu", "1", "delivery")

    assert stored(store) == dataclasses.asdict(
        new_call(topic="delivery", seller_accepted=True, updated_at=later)
    )
    assert events(store) == [
        (SID, START, "welcome", None, "menu"),
        (SID, later, "menu", "1", "delivery"),
    ]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"topic": "delivery", "step": "order"}, id="two other columns"),
        pytest.param({}, id="nothing"),
        pytest.param({"updated_at": START + timedelta(minutes=1)}, id="only the time"),
    ],
)
def test_a_save_leaves_columns_it_did_not_change_to_whoever_did(
    store: Store, changes: dict[str, Any]
) -> None:
    save_new(store, new_call())
    with CallWork(store) as work_a:
        call_a = work_a.load(SID)
        assert call_a is not None

        # Between A's load and A's save, B (another webhook of the call) changes the order.
        with CallWork(store) as work_b:
            call_b = work_b.load(SID)
            assert call_b is not None
            call_b.order_id = "7654321"
            call_b.seller_id = "acme"
            work_b.save(call_b, "order", "7654321", "order found")

        for name, value in changes.items():
            setattr(call_a, name, value)
        work_a.save(call_a, "menu", "2", "whatever")

    assert stored(store) == dataclasses.asdict(
        new_call(order_id="7654321", seller_id="acme", **changes)
    )
    assert [event[2] for event in events(store)] == ["welcome", "order", "menu"]


def test_a_second_save_of_the_same_work_writes_only_what_changed_since_the_first(
    store: Store,
) -> None:
    save_new(store, new_call())
    with CallWork(store) as work_a:
        call_a = work_a.load(SID)
        assert call_a is not None
        call_a.topic = "product"
        work_a.save(call_a, "menu", "1", "product")

        with CallWork(store) as work_b:  # meanwhile another webhook of the call
            call_b = work_b.load(SID)
            assert call_b is not None
            call_b.topic = "warehouse"
            work_b.save(call_b, "menu", "2", "warehouse")

        call_a.step = "question"  # A's topic is as A saved it: not A's change any more
        work_a.save(call_a, "question", None, "asked")

    row = stored(store)
    assert row is not None
    assert (row["topic"], row["step"]) == ("warehouse", "question")


def test_a_save_after_a_merge_takes_the_merged_state_as_its_own(store: Store) -> None:
    save_new(store, new_call())
    with CallWork(store) as work_a:
        call_a = work_a.load(SID)
        assert call_a is not None

        def b_sets_the_order(order_id: str) -> None:  # another webhook of the call
            with CallWork(store) as work_b:
                call_b = work_b.load(SID)
                assert call_b is not None
                call_b.order_id = order_id
                work_b.save(call_b, "order", order_id, "order found")

        b_sets_the_order("1111111")
        call_a.topic = "product"
        work_a.save(call_a, "menu", "1", "product")  # merged: B's order, A's topic
        assert (call_a.order_id, call_a.topic) == ("1111111", "product")

        b_sets_the_order("2222222")
        call_a.step = "question"  # A's order is the merged one: not A's change
        work_a.save(call_a, "question", None, "asked")

    row = stored(store)
    assert row is not None
    assert (row["order_id"], row["topic"], row["step"]) == ("2222222", "product", "question")
    assert [event[2] for event in events(store)] == [
        "welcome",
        "order",
        "menu",
        "order",
        "question",
    ]


def test_a_first_webhook_overtaken_by_a_row_of_no_call_writes_its_call_whole(
    store: Store,
) -> None:
    call = new_call(step="menu", updated_at=START + timedelta(seconds=1))
    with CallWork(store) as work:
        assert work.load(SID) is None
        # Before its save, a row of the CallSid with no call state takes the key it will want
        # (a status callback's event of a call the hotline had not started).
        with store.session() as session:
            session.add(
                CallEventRow(call_sid=SID, seq=1, at=START, step="status", decision="unknown call")
            )
            session.commit()
        work.save(call, "welcome", None, "greeted > menu")

    expected = new_call(step="menu", updated_at=START + timedelta(seconds=1))
    assert call == expected  # nothing of the stateless row taken into the call
    assert stored(store) == dataclasses.asdict(expected)
    assert [event[2] for event in events(store)] == ["status", "welcome"]


def test_a_retried_first_webhook_leaves_the_call_but_records_its_event(store: Store) -> None:
    first = new_call(language="pl", step="menu")
    retry = new_call(language="en", step="welcome", updated_at=START + timedelta(seconds=2))

    # Both load before either saves: each believes the call is new.
    with CallWork(store) as work_a, CallWork(store) as work_b:
        assert work_a.load(SID) is None
        assert work_b.load(SID) is None
        work_a.save(first, "welcome", None, "polish > menu")
        work_b.save(retry, "welcome", None, "english > welcome")

    # The call as the first run made it; its time is that of its latest event, the retry's.
    assert stored(store) == dataclasses.asdict(
        dataclasses.replace(first, updated_at=START + timedelta(seconds=2))
    )
    assert events(store) == [
        (SID, START, "welcome", None, "polish > menu"),
        (SID, START + timedelta(seconds=2), "welcome", None, "english > welcome"),
    ]


def test_work_closed_without_save_leaves_nothing_and_no_lock(
    store: Store, write_locked: Any
) -> None:
    with CallWork(store) as work:
        assert work.load(SID) is None
        assert not write_locked()  # loading takes no lock

    assert stored(store) is None
    assert events(store) == []
    assert not write_locked()
    save_new(store, new_call())
    assert stored(store) == dataclasses.asdict(new_call())


def test_a_value_the_store_refuses_fails_the_save_before_it_takes_the_lock(
    store: Store, write_locked: Any
) -> None:
    # The values are made ready for the driver before the write lock is taken: a naive time
    # is refused with no transaction begun.
    broken = new_call(updated_at=datetime(2026, 6, 10, 10, 30))
    work = CallWork(store)
    try:
        assert work.load(SID) is None
        with pytest.raises(ValueError, match="naive"):
            work.save(broken, "welcome", None, "menu")
        assert not write_locked()
    finally:
        work.close()

    assert not write_locked()
    assert stored(store) is None
    assert events(store) == []
    save_new(store, new_call())
    assert events(store) == [(SID, START, "welcome", None, "menu")]


def test_a_refused_step_leaves_the_call_as_it_was(store: Store, write_locked: Any) -> None:
    save_new(store, new_call())

    with CallWork(store) as work:
        call = work.load(SID)
        assert call is not None
        call.topic = "delivery"
        # The row (its decision is required) is refused inside the write transaction.
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            work.save(call, "menu", "1", None)  # type: ignore[arg-type]
        assert write_locked()

    assert not write_locked()
    assert stored(store) == dataclasses.asdict(new_call())
    assert len(events(store)) == 1


def _open_thread(work: CallWork, call: CallState) -> ThreadRow:
    return open_thread(
        work.session(),
        call_sid=call.sid,
        party=Party.WAREHOUSE,
        seller_id=None,
        order_id=call.order_id,
        topic="delivery",
        buyer_phone=call.from_number,
        question="Where is my parcel?",
        now=call.updated_at,
    )


@pytest.mark.parametrize("existing", [False, True], ids=["new call", "loaded call"])
def test_a_session_commits_with_the_save(store: Store, write_locked: Any, existing: bool) -> None:
    if existing:
        save_new(store, new_call())

    with CallWork(store) as work:
        call = work.load(SID) or new_call()
        thread = _open_thread(work, call)
        call.thread_id = thread.id
        call.outcome = "thread_opened"
        assert write_locked()  # the session's transaction writes: it holds the lock until save
        work.save(call, "thread", "Where is my parcel?", "thread opened")
        assert not write_locked()

    assert thread.id is not None
    assert stored(store) == dataclasses.asdict(
        new_call(thread_id=thread.id, outcome="thread_opened")
    )
    assert events(store)[-1] == (SID, START, "thread", "Where is my parcel?", "thread opened")
    assert len(events(store)) == (2 if existing else 1)
    with store.session() as session:
        saved = session.get(ThreadRow, thread.id)
        assert saved is not None
        assert (saved.call_sid, saved.party, saved.status) == (SID, "warehouse", "open")
        assert [m.body for m in saved.messages] == ["Where is my parcel?"]
    assert count(store, OutboxRow) == (2 if call.from_number else 1)  # and the buyer's SMS


@pytest.mark.parametrize("existing", [False, True], ids=["new call", "loaded call"])
def test_a_session_without_save_is_rolled_back_by_close(
    store: Store, write_locked: Any, existing: bool
) -> None:
    if existing:
        save_new(store, new_call())

    with CallWork(store) as work:
        call = work.load(SID) or new_call()
        thread = _open_thread(work, call)
        assert thread.id is not None
        assert write_locked()

    assert not write_locked()
    assert count(store, ThreadRow) == 0
    assert count(store, OutboxRow) == 0
    assert stored(store) == (dataclasses.asdict(new_call()) if existing else None)
    assert len(events(store)) == (1 if existing else 0)


def test_a_session_and_a_failing_save_are_rolled_back_together(
    store: Store, write_locked: Any
) -> None:
    with CallWork(store) as work:
        assert work.load(SID) is None
        thread = _open_thread(work, new_call())
        broken = new_call(thread_id=thread.id, updated_at=datetime(2026, 6, 10, 10, 30))
        with pytest.raises(ValueError, match="naive"):
            work.save(broken, "thread", None, "thread opened")

    assert not write_locked()
    assert count(store, ThreadRow) == 0
    assert stored(store) is None
    assert events(store) == []


def test_statements_are_prepared_once_per_store(store: Store, db_path: Path) -> None:
    other = Store(f"sqlite:///{db_path}")
    try:
        assert statements(store) is statements(store)
        assert statements(other) is not statements(store)
    finally:
        other.engine.dispose()


def test_a_step_is_one_read_and_one_insert_and_no_update(store: Store) -> None:
    save_new(store, new_call())
    ran: list[str] = []
    assert store.kept is not None
    store.kept.take().set_trace_callback(ran.append)  # the connection this thread keeps

    with CallWork(store) as work:
        call = work.load(SID)
        assert call is not None
        call.topic, call.step = "delivery", "queue"
        work.save(call, "menu", "2", "delivery > queue")
    store.kept.take().set_trace_callback(None)

    assert [sql.split()[0] for sql in ran] == ["SELECT", "BEGIN", "INSERT", "COMMIT"]
    assert stored(store) == dataclasses.asdict(new_call(topic="delivery", step="queue"))


@pytest.mark.parametrize(
    ("dialect", "begin", "placeholder"),
    [
        pytest.param(None, "BEGIN IMMEDIATE", "?", id="sqlite"),
        pytest.param(postgresql_dialect(), None, "%(sid)s", id="postgresql"),
    ],
)
def test_statements_for_each_dialect(
    store: Store, dialect: Any, begin: str | None, placeholder: str
) -> None:
    sql = CallStatements(dialect or store.engine.dialect)

    assert sql.begin == begin
    assert sql.append.sql.endswith("ON CONFLICT (call_sid, seq) DO NOTHING")  # no RETURNING
    assert placeholder.replace("sid", "call_sid") in sql.append.sql
    assert placeholder in sql.latest.sql


def test_record_failure_adds_an_event(store: Store) -> None:
    save_new(store, new_call())
    at = START + timedelta(seconds=9)

    record_failure(store, SID, at, "menu", "ValueError")

    assert events(store)[-1] == (SID, at, "menu", None, "failed (ValueError) > apology")
    # The note carries the call's state on: the call is as it was, as of the note.
    assert stored(store) == dataclasses.asdict(new_call(updated_at=at))


def test_record_failure_of_an_unknown_call_leaves_no_orphan_event(store: Store) -> None:
    save_new(store, new_call())  # another call, known

    record_failure(store, "CAunknown", START, "menu", "ValueError")

    assert events(store, "CAunknown") == []
    with store.session() as session:
        assert set(session.scalars(select(CallEventRow.call_sid))) == {SID}


def test_record_failure_is_best_effort(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    save_new(store, new_call())
    before = events(store)
    with caplog.at_level(logging.WARNING, logger="hotline.store.callstore"):
        record_failure(store, SID, datetime(2026, 6, 10), "menu", "boom")  # naive: refused

    assert events(store) == before
    assert [r.getMessage() for r in caplog.records] == [
        f"could not record the failed step menu of call {SID}"
    ]
