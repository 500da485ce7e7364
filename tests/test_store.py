"""The store: migrations, SQLite settings, the directory sync, UTC datetimes, ``hotline db``."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError

from hotline.cli import cli
from hotline.config.settings import CONFIG_ENV, Settings, load_settings
from hotline.config.values import DATABASE_URL_ENV
from hotline.errors import StoreError
from hotline.store.database import Store, sync_directory, upgrade_schema
from hotline.store.models import Base, CallEventRow, OrderRow, SellerRow, UTCDateTime
from tests.conftest import ROOT, shipped_config

TABLES = {
    "alembic_version",
    "call_events",
    "sellers",
    "orders",
    "order_sellers",
    "threads",
    "thread_messages",
    "outbox",
    "agent_states",
    "agent_sessions",
    "agent_events",
    "queue_entries",
    "transfers",
    "scheduler_lease",
    "daily_figures",
    "callbacks",
}


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The shipped settings."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    return load_settings(shipped_config())


def _counts(store: Store) -> tuple[int, int]:
    with store.session() as session:
        sellers = session.scalar(select(func.count()).select_from(SellerRow))
        orders = session.scalar(select(func.count()).select_from(OrderRow))
    return sellers or 0, orders or 0


def test_migrations_create_every_table(store: Store) -> None:
    inspector = inspect(store.engine)
    assert set(inspector.get_table_names()) == TABLES
    assert set(Base.metadata.tables) == TABLES - {"alembic_version"}


@pytest.mark.parametrize("table", sorted(TABLES - {"alembic_version"}))
def test_migrated_columns_match_the_models(store: Store, table: str) -> None:
    migrated = {c["name"] for c in inspect(store.engine).get_columns(table)}
    assert migrated == {c.name for c in Base.metadata.tables[table].columns}


def test_schema_is_current_after_upgrade(store: Store) -> None:
    assert store.schema_is_current() is True
    assert store.has_table("threads")


def test_schema_is_not_current_on_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    empty = Store(f"sqlite:///{path}")
    try:
        assert empty.schema_is_current() is False
        assert not empty.has_table("threads")
    finally:
        empty.engine.dispose()


def test_a_store_on_a_missing_file_refuses_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "hotline.db"
    with pytest.raises(StoreError) as refused:
        Store(f"sqlite:///{path}")
    assert str(path) in str(refused.value)
    assert "`hotline db upgrade`" in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_upgrade_creates_the_database_file_and_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "hotline.db"
    upgrade_schema(f"sqlite:///{path}")
    created = Store(f"sqlite:///{path}")
    try:
        assert created.schema_is_current() is True
    finally:
        created.engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_sync_directory_loads_the_shipped_directory(store: Store, settings: Settings) -> None:
    sync_directory(store, settings)
    with store.session() as session:
        bookworm = session.get_one(SellerRow, "bookworm")
        assert (bookworm.name, bookworm.phone) == ("Bookworm Books", "+48600500600")
        assert (bookworm.opens, bookworm.closes, bookworm.days) == ("09:00", "17:00", "0,1,2,3,4")
        acme = session.get_one(SellerRow, "acme")
        assert (acme.opens, acme.closes, acme.days) == (None, None, None)
        order = session.get_one(OrderRow, "2345678")
        assert (order.seller_id, order.buyer_phone, order.placed) == (
            "bookworm",
            "+48601300400",
            None,
        )
        assert order.seller.name == "Bookworm Books"


def test_sync_directory_is_idempotent(store: Store, settings: Settings) -> None:
    assert _counts(store) == (0, 0)
    sync_directory(store, settings)
    assert _counts(store) == (3, 6)
    sync_directory(store, settings)
    assert _counts(store) == (3, 6)


def test_sync_directory_with_nothing_to_change_takes_no_write_lock(
    store: Store, settings: Settings
) -> None:
    # Every worker syncs as it starts: those after the first must not queue for the lock.
    sync_directory(store, settings)
    path = store.engine.url.database
    assert path is not None
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")  # another process is writing
        sync_directory(store, settings)  # would wait for the lock, then fail
        writer.execute("ROLLBACK")
    assert _counts(store) == (3, 6)


def test_sync_directory_updates_a_changed_seller(store: Store, settings: Settings) -> None:
    sync_directory(store, settings)
    renamed = tuple(
        dataclasses.replace(s, name="Acme Electronics Ltd") if s.id == "acme" else s
        for s in settings.sellers
    )
    sync_directory(store, dataclasses.replace(settings, sellers=renamed))
    with store.session() as session:
        assert session.get_one(SellerRow, "acme").name == "Acme Electronics Ltd"
        assert session.get_one(SellerRow, "bookworm").name == "Bookworm Books"
    assert _counts(store) == (3, 6)


def test_utc_datetime_round_trips_aware_datetimes(store: Store) -> None:
    warsaw = datetime(2026, 3, 29, 8, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
    with store.session() as session:
        event = CallEventRow(call_sid="CA1", seq=1, at=warsaw, step="main_menu", decision="menu")
        session.add(event)
    with store.session() as session:
        stored = session.scalars(select(CallEventRow)).one()
        assert stored.at == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
        assert stored.at.tzinfo is UTC
    with store.engine.connect() as conn:  # stored as the UTC wall clock
        raw = conn.exec_driver_sql("SELECT at FROM call_events").scalar()
        assert str(raw).startswith("2026-03-29 06:00:00")


def test_utc_datetime_rejects_naive_datetimes(store: Store) -> None:
    with pytest.raises(StatementError) as caught, store.session() as session:
        session.add(
            CallEventRow(
                call_sid="CA1", seq=1, at=datetime(2026, 6, 10, 12), step="x", decision="y"
            )
        )
        session.flush()
    assert isinstance(caught.value.orig, ValueError)
    assert "naive datetime" in str(caught.value.orig)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(CallEventRow)) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (datetime(2026, 6, 10, 12, tzinfo=UTC), datetime(2026, 6, 10, 12)),
        (datetime(2026, 6, 10, 12, tzinfo=ZoneInfo("Europe/Warsaw")), datetime(2026, 6, 10, 10)),
    ],
)
def test_utc_datetime_bind_param(value: datetime | None, expected: datetime | None) -> None:
    assert UTCDateTime().process_bind_param(value, sqlite.dialect()) == expected


def _general_sqlite_bind(value: object) -> object:
    """SQLAlchemy's own way: the UTC type's conversion, then SQLite's DATETIME formatting."""
    dialect = sqlite.dialect()
    converted = UTCDateTime().process_bind_param(value, dialect)  # type: ignore[arg-type]
    process = sqlite.DATETIME().bind_processor(dialect)
    return process(converted)


@hypothesis_settings(max_examples=500)
@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, ZoneInfo("UTC"), ZoneInfo("Europe/Warsaw"), ZoneInfo("America/St_Johns")]
        ),
    )
)
def test_the_sqlite_bind_stores_what_sqlalchemy_would(moment: datetime) -> None:
    process = UTCDateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
    assert process is not None
    assert process(moment) == _general_sqlite_bind(moment)
    assert process(moment) == _general_sqlite_bind(moment)  # the kept last value, too
    assert process(moment.replace(microsecond=0)) == _general_sqlite_bind(
        moment.replace(microsecond=0)
    )


def test_the_sqlite_bind_keeps_none_and_refuses_naive_times() -> None:
    process = UTCDateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
    assert process is not None
    assert process(None) is None
    with pytest.raises(ValueError, match="naive"):
        process(datetime(2026, 6, 10, 10, 30))


def test_cli_db_upgrade_on_a_fresh_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hotline.toml"
    # The CLI writes both into os.environ; setting them here has monkeypatch restore them.
    monkeypatch.setenv(CONFIG_ENV, "not-used.toml")
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    path.write_text(
        f"""
[hotline]
flows_dir = "{ROOT / "flows"}"

[store]
url = "sqlite:///data/hotline.db"

[[sellers]]
id = "acme"
name = "Acme Electronics"
phone = "+48600300400"

[[sellers]]
id = "bookworm"
name = "Bookworm Books"
phone = "+48600500600"

[[orders]]
id = "1234567"
seller = "acme"
buyer_phone = "+48601100200"
""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["--config", str(path), "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert " ".join(result.output.split()) == (
        "database at the newest schema; 2 sellers and 1 orders loaded"
    )
    db_file = tmp_path / "data" / "hotline.db"  # the relative URL sits beside the config
    assert db_file.is_file()
    created = Store(f"sqlite:///{db_file}")
    try:
        assert created.schema_is_current()
        assert _counts(created) == (2, 1)
    finally:
        created.engine.dispose()
    again = CliRunner().invoke(cli, ["--config", str(path), "db", "upgrade"])
    assert again.exit_code == 0, again.output
