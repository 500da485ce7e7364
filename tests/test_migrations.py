"""Migrations up and down on SQLite and PostgreSQL: 0003 (the call's state moves into its
events), 0004 (the agents' tables), 0005 (the conference of a claim),
0006 (the seller's call of a warm transfer), 0007 (the agents' console session generations),
0008 (the Message Center: old threads brought in), 0009 (the outbox's delivery, the scheduler's
lease), 0010 (the days' rolled-up figures), 0011 (threads' overdue mark, first response and latest
forward), 0012 (callback requests).

PostgreSQL runs when ``$HOTLINE_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts one).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

from hotline import create_app
from hotline.store import agent_sessions
from hotline.store.callstate import CallState
from hotline.store.callstore import CallWork
from hotline.store.database import MIGRATIONS, Store, get_store, upgrade_schema
from hotline.store.models import Base
from tests.conftest import API_TOKEN, AUTH_TOKEN, SECRET_KEY, shipped_config

ADMIN_URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
T0 = datetime(2026, 11, 26, 9, 0)  # naive UTC, as the tables keep times
CALLS = [
    # sid, from, language, started, updated, step, topic, seller_accepted, outcome
    ("CA1", "+48601100200", "en", T0, datetime(2026, 11, 26, 9, 2), "ask_question", "product", 1),
    ("CA2", None, "pl", T0, T0, "main_menu", None, 0),
    ("CA3", "+48601100201", "en", T0, T0, "main_menu", None, 0),  # a call row with no event
]
EVENTS = [
    # id, call_sid, at, step, decision
    (1, "CA1", T0, "incoming", "main_menu"),
    (2, "CA2", T0, "incoming", "main_menu"),
    (3, "CA1", datetime(2026, 11, 26, 9, 1), "main_menu", "find_order > confirm_order"),
    (4, "CAghost", datetime(2026, 11, 26, 9, 1), "main_menu", "failed (KeyError) > apology"),
    (5, "CA1", datetime(2026, 11, 26, 9, 2), "confirm_order", "ask_question"),
]


def _sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'hotline.db'}"


def _postgres_url() -> Iterator[str]:
    if not ADMIN_URL:
        pytest.skip("set HOTLINE_TEST_POSTGRES_URL to a PostgreSQL server (.ci/run does)")
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL of each kind, empty."""
    yield from _sqlite_url(tmp_path) if request.param == "sqlite" else _postgres_url()


def _fill_at_0002(engine: Engine) -> None:
    with engine.begin() as conn:
        for sid, phone, language, started, updated, step, topic, accepted in CALLS:
            conn.execute(
                text(
                    "INSERT INTO calls (sid, from_number, to_number, language, started_at, "
                    "updated_at, step, topic, seller_accepted) VALUES (:sid, :phone, "
                    "'+442071000000', :language, :started, :updated, :step, :topic, :accepted)"
                ),
                dict(
                    sid=sid,
                    phone=phone,
                    language=language,
                    started=started,
                    updated=updated,
                    step=step,
                    topic=topic,
                    accepted=bool(accepted),
                ),
            )
        for id_, sid, at, step, decision in EVENTS:
            conn.execute(
                text(
                    "INSERT INTO call_events (id, call_sid, at, step, input, decision) "
                    "VALUES (:id, :sid, :at, :step, NULL, :decision)"
                ),
                dict(id=id_, sid=sid, at=at, step=step, decision=decision),
            )


def _downgrade(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    command.downgrade(config, revision)


def _rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql``, times as text to the second (SQLite keeps them as text anyway)."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime) or (isinstance(value, str) and value.startswith("2026-")):
            return str(value)[:19]
        return value

    with engine.connect() as conn:
        return [tuple(plain(value) for value in row) for row in conn.execute(text(sql))]


def test_0003_moves_each_calls_state_into_its_events_and_back(url: str) -> None:
    upgrade_schema(url, "0002")
    engine = create_engine(url)
    try:
        _fill_at_0002(engine)
        before_calls = _rows(engine, "SELECT * FROM calls ORDER BY sid")
        before_events = _rows(engine, "SELECT * FROM call_events ORDER BY id")

        upgrade_schema(url)
        assert _rows(engine, "SELECT id, call_sid, seq FROM call_events ORDER BY id") == [
            (1, "CA1", 1),
            (2, "CA2", 1),
            (3, "CA1", 2),
            (4, "CAghost", 1),
            (5, "CA1", 3),
            (6, "CA3", 1),  # the call row that had no event, kept as one
        ]
        ghost = _rows(engine, "SELECT language, started_at FROM call_events WHERE id = 4")
        assert ghost == [(None, None)]  # no call: no state
        store = Store(url)
        try:
            with CallWork(store) as work:
                one, two, three = work.load("CA1"), work.load("CA2"), work.load("CA3")
                assert work.load("CAghost") is None
            assert one == CallState(
                sid="CA1",
                language="en",
                started_at=T0.replace(tzinfo=UTC),
                updated_at=datetime(2026, 11, 26, 9, 2, tzinfo=UTC),
                step="ask_question",
                from_number="+48601100200",
                to_number="+442071000000",
                topic="product",
                seller_accepted=True,
            )
            assert two is not None and (two.language, two.from_number) == ("pl", None)
            assert three is not None and three.updated_at == T0.replace(tzinfo=UTC)
            # A new step appends after the migrated rows, and new ids follow the old ones.
            with CallWork(store) as work:
                call = work.load("CA2")
                assert call is not None
                call.topic = "delivery"
                call.updated_at = datetime(2026, 11, 26, 9, 10, tzinfo=UTC)
                work.save(call, "main_menu", "digits=2", "delivery")
        finally:
            store.engine.dispose()
        assert _rows(engine, "SELECT id, seq, topic FROM call_events WHERE call_sid = 'CA2'") == [
            (2, 1, None),
            (7, 2, "delivery"),
        ]

        _downgrade(url, "0002")
        after_calls = _rows(engine, "SELECT * FROM calls ORDER BY sid")
        after_events = _rows(engine, "SELECT * FROM call_events ORDER BY id")
        # The same rows, with CA3's kept event and CA2's new step (its row changed with it).
        for row, old in zip(after_calls, before_calls, strict=True):
            if row[0] == "CA2":
                assert (row[7], row[5]) == ("delivery", "2026-11-26 09:10:00")
                assert row[:5] + row[6:7] + row[8:] == old[:5] + old[6:7] + old[8:]
            else:
                assert row == old
        assert after_events[:5] == before_events
        assert [(e[0], e[1], e[3]) for e in after_events[5:]] == [
            (6, "CA3", "migrated"),
            (7, "CA2", "main_menu"),
        ]
    finally:
        engine.dispose()


AGENT_TABLES = {"agent_states", "agent_events", "queue_entries", "transfers"}


def test_0004_adds_the_agents_tables_as_the_models_have_them_and_drops_them_again(
    url: str,
) -> None:
    upgrade_schema(url, "0003")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO call_events (call_sid, seq, at, step, decision, language, "
                    "started_at, call_step) VALUES ('CA1', 1, :at, 'incoming', 'main_menu', "
                    "'en', :at, 'main_menu')"
                ),
                {"at": T0},
            )
        assert not AGENT_TABLES & set(inspect(engine).get_table_names())

        upgrade_schema(url)
        assert AGENT_TABLES <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            # Columns, types, indexes and constraints as the models declare them.
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO queue_entries (call_sid, queue, status, first_entered_at, "
                    "entered_at, claims, transferred) VALUES ('CA1', 'warehouse', 'waiting', "
                    ":at, :at, 0, false)"
                ),
                {"at": T0},
            )
            conn.execute(
                text(
                    "INSERT INTO agent_states (agent_id, state, since, version) "
                    "VALUES ('anna', 'available', :at, 1)"
                ),
                {"at": T0},
            )

        _downgrade(url, "0003")
        inspect_after = inspect(engine)
        assert not AGENT_TABLES & set(inspect_after.get_table_names())
        assert _rows(engine, "SELECT call_sid, seq, step FROM call_events") == [
            ("CA1", 1, "incoming")
        ]
        upgrade_schema(url)  # and up again, on a database that had them
        assert _rows(engine, "SELECT count(*) FROM queue_entries") == [(0,)]
    finally:
        engine.dispose()


def test_0005_adds_the_claims_conference_and_drops_it_again(url: str) -> None:
    upgrade_schema(url, "0004")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO queue_entries (call_sid, queue, status, first_entered_at, "
                    "entered_at, claims, transferred) VALUES ('CA1', 'warehouse', 'waiting', "
                    ":at, :at, 0, false)"
                ),
                {"at": T0},
            )
        upgrade_schema(url)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            assert _rows(engine, "SELECT call_sid, conference FROM queue_entries") == [
                ("CA1", None)
            ]
        _downgrade(url, "0004")
        columns = {c["name"] for c in inspect(engine).get_columns("queue_entries")}
        assert "conference" not in columns
        assert _rows(engine, "SELECT call_sid FROM queue_entries") == [("CA1",)]
    finally:
        engine.dispose()


def test_0006_adds_the_transfers_target_call_and_drops_it_again(url: str) -> None:
    upgrade_schema(url, "0005")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO transfers (call_sid, agent_id, kind, target, summary, at, "
                    "outcome) VALUES ('CA1', 'demo', 'warm', 'acme', 'a word', :at, 'pending')"
                ),
                {"at": T0},
            )
        upgrade_schema(url)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert _rows(engine, "SELECT call_sid, target_call FROM transfers") == [("CA1", None)]
        _downgrade(url, "0005")
        columns = {c["name"] for c in inspect(engine).get_columns("transfers")}
        assert "target_call" not in columns
        assert _rows(engine, "SELECT call_sid, outcome FROM transfers") == [("CA1", "pending")]
    finally:
        engine.dispose()


def test_0007_adds_the_agents_session_generations_and_drops_them_again(url: str) -> None:
    upgrade_schema(url, "0006")
    engine = create_engine(url)
    try:
        upgrade_schema(url)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        with engine.begin() as conn:
            assert agent_sessions.end_sessions(conn, "demo") == 1
        assert _rows(engine, "SELECT agent_id, generation FROM agent_sessions") == [("demo", 1)]
        _downgrade(url, "0006")
        assert "agent_sessions" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_0008_brings_old_threads_into_the_message_center_and_back(url: str) -> None:
    upgrade_schema(url, "0007")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO sellers (id, name, phone) VALUES ('acme', 'Acme', '+48600300400')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO orders (id, seller_id, buyer_phone) "
                    "VALUES ('1234567', 'acme', '+48601100200')"
                )
            )
            for sid, party, seller, topic in [  # ids 1 and 2 (a fresh database)
                ("CA1", "seller", "acme", "product"),
                ("CA2", "warehouse", None, "agent"),
            ]:
                conn.execute(
                    text(
                        "INSERT INTO threads (call_sid, party, seller_id, order_id, topic, "
                        "buyer_phone, status, created_at) VALUES (:sid, :party, :seller, "
                        "'1234567', :topic, '+48601100200', 'open', :at)"
                    ),
                    dict(sid=sid, party=party, seller=seller, topic=topic, at=T0),
                )
            for thread, author, kind, body in [  # ids 1, 2, 3
                (1, "buyer", "message", "Is it waterproof?"),
                (2, "buyer", "message", "Where is it?"),
                (2, "agent", "note", "the agent's summary"),
            ]:
                conn.execute(
                    text(
                        "INSERT INTO thread_messages (thread_id, author, kind, body, "
                        "created_at) VALUES (:thread, :author, :kind, :body, :at)"
                    ),
                    dict(thread=thread, author=author, kind=kind, body=body, at=T0),
                )
            for kind, recipient, thread in [
                ("thread_opened", "acme", 1),
                ("thread_forwarded_2", "warehouse", 1),
                ("thread_opened", "warehouse", 2),
            ]:
                conn.execute(
                    text(
                        "INSERT INTO outbox (kind, recipient, thread_id, payload, created_at) "
                        "VALUES (:kind, :recipient, :thread, '{}', :at)"
                    ),
                    dict(kind=kind, recipient=recipient, thread=thread, at=T0),
                )

        upgrade_schema(url)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert _rows(
            engine,
            "SELECT id, kind, reason, topic, party, due_at, buyer_key_hash, combined "
            "FROM threads ORDER BY id",
        ) == [
            (1, "message", None, "product_details", "seller", "2026-11-27 09:00:00", None, False),
            (
                2,
                "message",
                None,
                "order_preparation",
                "warehouse",
                "2026-11-27 09:00:00",
                None,
                False,
            ),
        ]
        assert _rows(engine, "SELECT id, author, author_id FROM thread_messages ORDER BY id") == [
            (1, "buyer", None),
            (2, "buyer", None),
            (3, "warehouse", None),
        ]
        assert _rows(engine, "SELECT kind, message_id FROM outbox ORDER BY id") == [
            ("thread_opened", None),
            ("thread_forwarded", None),
            ("thread_opened", None),
        ]
        assert _rows(engine, "SELECT order_id, seller_id FROM order_sellers") == [
            ("1234567", "acme")
        ]
        # The old threads work as Message Center threads: the API reads them, the rules apply.
        store = Store(url)
        try:
            from hotline.messages.conversation import Author, write
            from hotline.messages.threads import thread_as_dict
            from hotline.store.models import ThreadRow

            with store.session() as session:
                thread = session.get_one(ThreadRow, 1)
                write(session, thread, Author("seller", "acme"), "Yes.", T0.replace(tzinfo=UTC))
                shown = thread_as_dict(thread)
                assert (shown["assigned"], shown["kind"], shown["unanswered"]) == (
                    "seller",
                    "message",
                    False,
                )
        finally:
            store.engine.dispose()

        _downgrade(url, "0007")
        columns = {c["name"] for c in inspect(engine).get_columns("threads")}
        assert not {"kind", "reason", "due_at", "buyer_key_hash", "combined"} & columns
        assert "order_sellers" not in inspect(engine).get_table_names()
        assert _rows(engine, "SELECT id, topic FROM threads ORDER BY id") == [
            (1, "product"),
            (2, "order_status"),  # "agent" and "order_status" both became order_preparation
        ]
        kinds = _rows(engine, "SELECT kind FROM outbox ORDER BY id")
        assert kinds[0] == ("thread_opened",) and kinds[2] == ("thread_opened",)
        assert kinds[1][0].startswith("thread_forwarded_")
        assert kinds[3][0].startswith("thread_answered_")
        upgrade_schema(url)  # and up again
    finally:
        engine.dispose()


def test_0008_old_threads_are_read_through_the_api(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threads written at 0007, the database upgraded, the app's ``GET /api/threads`` on it:
    every old topic one the Message Center knows, and a warehouse thread about an order given
    that order's seller (who follows it and whose sales quality counts it)."""
    upgrade_schema(url, "0007")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO sellers (id, name, phone) VALUES ('acme', 'Acme', '+48600300400')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO orders (id, seller_id, buyer_phone) "
                    "VALUES ('1234567', 'acme', '+48601100200')"
                )
            )
            for sid, party, seller, order, topic in [  # ids 1..4 (a fresh database)
                ("CA1", "seller", "acme", "1234567", "product"),
                ("CA2", "warehouse", None, "1234567", "warehouse"),  # the warehouse menu's
                ("CA3", "warehouse", None, "1234567", "agent"),
                ("CA4", "warehouse", None, None, "order_status"),  # no order: no seller
            ]:
                conn.execute(
                    text(
                        "INSERT INTO threads (call_sid, party, seller_id, order_id, topic, "
                        "buyer_phone, status, created_at) VALUES (:sid, :party, :seller, "
                        ":order, :topic, '+48601100200', 'open', :at)"
                    ),
                    dict(sid=sid, party=party, seller=seller, order=order, topic=topic, at=T0),
                )
                conn.execute(
                    text(
                        "INSERT INTO thread_messages (thread_id, author, kind, body, "
                        "created_at) VALUES (:thread, 'buyer', 'message', 'Where is it?', :at)"
                    ),
                    dict(thread=int(sid[2:]), at=T0),
                )
        upgrade_schema(url)
        assert _rows(engine, "SELECT id, topic, seller_id FROM threads ORDER BY id") == [
            (1, "product_details", "acme"),
            (2, "order_preparation", "acme"),
            (3, "order_preparation", "acme"),
            (4, "order_preparation", None),
        ]
        # Not the ``config`` fixture: its database file is this test's SQLite one, at head.
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
        monkeypatch.setenv("HOTLINE_API_TOKEN", API_TOKEN)
        monkeypatch.setenv("HOTLINE_SECRET_KEY", SECRET_KEY)
        monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
        config = shipped_config()
        config["store"]["url"] = url
        app = create_app(config)
        try:
            client = app.test_client()
            listed = client.get("/api/threads", headers={"Authorization": f"Bearer {API_TOKEN}"})
            assert listed.status_code == 200, listed.get_data(as_text=True)
            threads = {t["id"]: t for t in listed.get_json()["threads"]}
            assert sorted(threads) == [1, 2, 3, 4]
            assert {i: (t["assigned"], t["topic"]) for i, t in threads.items()} == {
                1: ("seller", "product_details"),
                2: ("warehouse", "order_preparation"),
                3: ("warehouse", "order_preparation"),
                4: ("warehouse", "order_preparation"),
            }
            for thread in threads:
                shown = client.get(
                    f"/api/threads/{thread}", headers={"Authorization": f"Bearer {API_TOKEN}"}
                )
                assert shown.status_code == 200, shown.get_data(as_text=True)
            # The seller follows the warehouse threads about their order.
            acme = client.get("/api/threads", headers={"Authorization": "Bearer demo-seller-token"})
            assert sorted(t["id"] for t in acme.get_json()["threads"]) == [1, 2, 3]
        finally:
            get_store(app).engine.dispose()
    finally:
        engine.dispose()


def test_0009_adds_the_outbox_delivery_and_the_lease_and_drops_them_again(url: str) -> None:
    upgrade_schema(url, "0008")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for kind, sent in (("thread_opened", None), ("thread_forwarded", T0)):
                conn.execute(
                    text(
                        "INSERT INTO outbox (kind, recipient, payload, created_at, sent_at) "
                        "VALUES (:kind, 'acme', '{}', :at, :sent)"
                    ),
                    {"kind": kind, "at": T0, "sent": sent},
                )
        upgrade_schema(url)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        # a row sent before is sent; the other is pending: the scheduler will deliver it
        assert _rows(engine, "SELECT kind, status, tries FROM outbox ORDER BY id") == [
            ("thread_opened", "pending", 0),
            ("thread_forwarded", "sent", 0),
        ]
        assert inspect(engine).has_table("scheduler_lease")
        _downgrade(url, "0008")
        columns = {c["name"] for c in inspect(engine).get_columns("outbox")}
        assert not columns & {"status", "tries", "next_attempt_at", "last_error", "sent_ref"}
        assert not inspect(engine).has_table("scheduler_lease")
        assert _rows(engine, "SELECT kind FROM outbox ORDER BY id") == [
            ("thread_opened",),
            ("thread_forwarded",),
        ]
    finally:
        engine.dispose()


def test_0010_adds_the_daily_figures_and_drops_them_again(url: str) -> None:
    upgrade_schema(url, "0009")
    engine = create_engine(url)
    try:
        upgrade_schema(url)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO daily_figures (day, kind, subject, figures, computed_at) "
                    "VALUES ('2026-11-25', 'queue', 'warehouse', '{}', :at)"
                ),
                {"at": T0},
            )
        _downgrade(url, "0009")
        assert not inspect(engine).has_table("daily_figures")
        upgrade_schema(url)  # and up again
    finally:
        engine.dispose()


def test_0011_adds_the_overdue_mark_and_the_answer_time_and_drops_them_again(url: str) -> None:
    upgrade_schema(url, "0010")
    engine = create_engine(url)
    late = datetime(2026, 11, 27, 10, 0)  # the first response, a day and an hour late
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO sellers (id, name, phone) VALUES ('acme', 'Acme', '+48600')")
            )
            for sid in ("CA1", "CA2"):
                conn.execute(
                    text(
                        "INSERT INTO threads (call_sid, party, seller_id, status, created_at, "
                        "kind, combined) VALUES (:sid, 'seller', 'acme', 'open', :at, "
                        "'message', false)"
                    ),
                    {"sid": sid, "at": T0},
                )
            ids = [r[0] for r in conn.execute(text("SELECT id FROM threads ORDER BY id"))]
            messages = [  # thread 1: asked, a note, answered late, answered again; 2: asked
                (ids[0], "buyer", "message", T0),
                (ids[0], "warehouse", "note", T0),
                (ids[0], "seller", "message", late),
                (ids[0], "seller", "message", datetime(2026, 11, 28, 9, 0)),
                (ids[1], "buyer", "message", T0),
            ]
            for thread, author, kind, at in messages:
                conn.execute(
                    text(
                        "INSERT INTO thread_messages (thread_id, author, kind, body, created_at) "
                        "VALUES (:thread, :author, :kind, 'text', :at)"
                    ),
                    {"thread": thread, "author": author, "kind": kind, "at": at},
                )
        upgrade_schema(url)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        # the first response's time from the messages; no thread marked: the job does that
        assert _rows(
            engine, "SELECT answered_at, overdue_at, forwarded_at FROM threads ORDER BY id"
        ) == [
            ("2026-11-27 10:00:00", None, None),
            (None, None, None),
        ]
        _downgrade(url, "0010")
        columns = {c["name"] for c in inspect(engine).get_columns("threads")}
        assert not columns & {"overdue_at", "answered_at", "forwarded_at"}
        assert _rows(engine, "SELECT count(*) FROM thread_messages") == [(5,)]
    finally:
        engine.dispose()


def test_0012_adds_the_callbacks_and_drops_them_again(url: str) -> None:
    upgrade_schema(url, "0011")
    engine = create_engine(url)
    try:
        assert not inspect(engine).has_table("callbacks")
        upgrade_schema(url, "0012")
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        indexes = {i["name"] for i in inspect(engine).get_indexes("callbacks")}
        assert {"ix_callbacks_status_due_at", "ix_callbacks_phone_status"} <= indexes
        _downgrade(url, "0011")
        assert not inspect(engine).has_table("callbacks")
        upgrade_schema(url)  # and up again
    finally:
        engine.dispose()
