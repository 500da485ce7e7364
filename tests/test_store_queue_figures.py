"""The queue figures' records read from the store: entries of the span with their call's end and
the transfer that let them go, transfers of the span (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from hotline.rules.queue_figures import QueuedCall, TransferMade
from hotline.store import queue_entries as q
from hotline.store.database import Store
from hotline.store.models import CallEventRow, TransferRow
from hotline.store.queue_figures import queued_calls, transfers_made

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
END = T0 + timedelta(hours=1)


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _step(store: Store, sid: str, seq: int, at: datetime, step: str, decision: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(CallEventRow).values(call_sid=sid, seq=seq, at=at, step=step, decision=decision)
        )


def _transfer(store: Store, sid: str, kind: str, at: datetime, outcome: str | None) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(TransferRow).values(
                call_sid=sid,
                agent_id="anna",
                kind=kind,
                target="acme",
                summary="s",
                at=at,
                outcome=outcome,
            )
        )


def _fill(store: Store) -> None:
    with store.engine.begin() as conn:
        for sid, at in [("CA-talked", 0), ("CA-hung-up", 60), ("CA-waits", 120), ("CA-cold", 180)]:
            q.enter(conn, sid, "warehouse", q.CallerContext(), _at(at))
        q.enter(conn, "CA-other-queue", "returns", q.CallerContext(), _at(10))
        q.enter(conn, "CA-before", "warehouse", q.CallerContext(), T0 - timedelta(seconds=1))
        q.enter(conn, "CA-at-the-end", "warehouse", q.CallerContext(), END)
        for sid, taken in [("CA-talked", 20), ("CA-cold", 200)]:
            claim = q.claim(conn, sid, "anna", _at(taken - 5))
            assert claim is not None and q.connect(conn, claim, _at(taken))
        assert q.leave(conn, "CA-hung-up", "hangup", _at(90)) == q.LEFT
    # Twilio's status callbacks: a ringing one is not the call's end; the completed one is.
    _step(store, "CA-talked", 1, _at(0), "voice", "asked")
    _step(store, "CA-talked", 2, _at(25), "status", "status ringing")
    _step(store, "CA-talked", 3, _at(320), "status", "status completed")
    _step(store, "CA-talked", 4, _at(330), "status", "status completed")  # a retry
    _step(store, "CA-cold", 1, _at(900), "status", "status completed")
    # The caller's Dial action as their conference with the agent ends (and a retry of it).
    _step(store, "CA-talked", 5, _at(310), "agent/after", "goodbye")
    _step(store, "CA-talked", 6, _at(311), "agent/after", "goodbye")
    # Conferences taking the caller in: before the queue transfer (not again), after it.
    _step(store, "CA-waits", 1, _at(130), "agent/join", "agent conference hl-1")
    _step(store, "CA-waits", 2, _at(170), "agent/join", "agent conference hl-2")
    _step(store, "CA-waits", 3, _at(175), "agent/join", "agent conference hl-2")
    _transfer(store, "CA-talked", "warm", _at(100), "accepted")  # the agent stays on a warm one
    _transfer(store, "CA-cold", "cold", _at(260), None)
    _transfer(store, "CA-waits", "queue", _at(150), "requeued")  # taken again at 170
    _transfer(store, "CA-hung-up", "queue", _at(80), "requeued")  # then hung up at 90
    _transfer(store, "CA-before", "thread", T0 - timedelta(seconds=1), "opened")


def test_the_span_s_calls_with_their_ends(any_store: Store) -> None:
    _fill(any_store)
    with any_store.engine.connect() as conn:
        calls = queued_calls(conn, "warehouse", T0, END)
    assert calls == [
        QueuedCall("CA-talked", T0, "taken", _at(20), None, _at(320), None, _at(310)),
        QueuedCall("CA-hung-up", _at(60), "left", None, "hangup", let_go_at=_at(80)),
        QueuedCall("CA-waits", _at(120), "waiting", let_go_at=_at(150)),
        QueuedCall("CA-cold", _at(180), "taken", _at(200), None, _at(900), let_go_at=_at(260)),
    ]
    assert [c.handled_until() for c in calls] == [_at(310), None, None, _at(260)]


def test_the_span_s_transfers(any_store: Store) -> None:
    _fill(any_store)
    with any_store.engine.connect() as conn:
        made = transfers_made(conn, T0, END)
        assert made == [
            TransferMade(_at(80), "queue", "requeued", left_queue="hangup"),
            TransferMade(_at(100), "warm", "accepted"),
            TransferMade(_at(150), "queue", "requeued", taken_again_at=_at(170)),
            TransferMade(_at(260), "cold", None),
        ]
        assert [t.result() for t in made] == ["abandoned", "accepted", "taken", None]
        assert transfers_made(conn, END, END + timedelta(hours=1)) == []


def test_an_empty_store_has_no_records(any_store: Store) -> None:
    with any_store.engine.connect() as conn:
        assert queued_calls(conn, "warehouse", T0, END) == []
        assert transfers_made(conn, T0, END) == []
