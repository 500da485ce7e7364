"""The database: engine, sessions, migrations and the schema check (SQLite file by default,
PostgreSQL by URL).

The store is the truth about a call: every webhook reads the call's latest ``call_events`` row and
commits one more, holding the call's new state, before it answers, so a call survives the process
being killed between two webhooks.
A store opens only a database that exists (only ``upgrade_schema`` creates a SQLite file, see
``sqlite_file``), and the app starts only on one at the newest schema.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, g
from sqlalchemy import (
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import (
    Session,
    sessionmaker,
)

from hotline.config.settings import Seller, Settings
from hotline.errors import StoreError
from hotline.store import sqlite_file
from hotline.store.kept_connection import KeptConnections
from hotline.store.models import OrderRow, OrderSellerRow, SellerRow
from hotline.store.write_lock import WriteLockedConnection, begin_immediate

EXTENSION = "hotline.store"
MIGRATIONS = Path(__file__).parent / "migrations"


class Store:
    """The app's database: one engine, a session factory, and the schema check.

    On a SQLite file it raises ``StoreError`` when the file is missing, and refuses every
    connection (``StoreError`` again) once the file at the path is no longer the one it opened.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        path = sqlite_file.file_path(url)
        # Watched from before the first connection: a file swapped in meanwhile is refused too.
        file = sqlite_file.FileWatch(path) if path is not None else None
        self.engine = make_engine(url)
        self.file = sqlite_file.watch(self.engine, file) if file is not None else None
        # The webhooks' connection per thread, kept between webhooks (SQLite files only).
        self.kept = KeptConnections(self.engine, file) if file is not None else None
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def schema_revision(self) -> str | None:
        """The migration the database is at (``None`` when it was never migrated)."""
        from alembic.runtime.migration import MigrationContext

        # Read in autocommit: a health check every few seconds must not queue for the write lock.
        with self.engine.execution_options(hotline_read_only=True).connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def schema_is_current(self) -> bool:
        """Whether the database is at the newest migration (``StoreError`` if it cannot say)."""
        return self._usable_revision() == head_revision()

    def require_current_schema(self) -> None:
        """Raise ``StoreError`` (naming the database and the fix) unless at the newest schema."""
        current = self._usable_revision()
        if current != head_revision():
            raise StoreError(
                f"the database {self.name} is not at the newest schema (it is at "
                f"{current or 'no schema'}, the code needs {head_revision()}): "
                f"run {sqlite_file.UPGRADE_HINT} before serving"
            )

    def _usable_revision(self) -> str | None:
        try:
            return self.schema_revision()
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001 — any driver error means "not usable"
            raise StoreError(f"cannot open the database {self.name}: {exc}") from exc

    @property
    def name(self) -> str:
        """The database for messages: the SQLite file, else the URL without its password."""
        if self.file is not None:
            return str(self.file.path)
        return self.engine.url.render_as_string(hide_password=True)

    def has_table(self, name: str) -> bool:
        """Whether table ``name`` exists."""
        return inspect(self.engine).has_table(name)


@cache
def head_revision() -> str | None:
    """The newest migration (what the code expects the database to be at)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and foreign keys.

    A SQLite file is opened read-write only: connecting to a missing file fails.
    """
    if url.startswith("sqlite"):
        # Well under Twilio's 15 s webhook timeout, so a caller stuck behind a lock still hears
        # our apology rather than Twilio's error message. Parameters stay out of error messages:
        # they carry buyers' phone numbers, and errors are logged.
        # Writers queue on a file lock beside the database rather than in SQLite's busy sleep
        # (see ``write_lock``).
        connect_args = {"timeout": 5, "factory": WriteLockedConnection}
        engine = create_engine(url, connect_args=connect_args, hide_parameters=True)
        path = sqlite_file.file_path(url)
        if path is not None:
            sqlite_file.open_read_write(engine, path)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, say when transactions begin (savepoints need it).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers and the one writer work at once; NORMAL sync is still durable across a
    # process crash (only an OS crash can lose the last commits).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A transaction that writes takes the write lock up front, so two workers never deadlock
    # upgrading a read lock; the file lock of ``write_lock`` then queues them (the webhooks' own
    # statements in ``callstore`` begin the same way). A read marked read-only (the API's, the
    # directory check at start-up) runs in autocommit mode: no transaction, no lock.
    if not conn.get_execution_options().get("hotline_read_only"):
        begin_immediate(conn.connection.dbapi_connection)


def upgrade_schema(url: str, revision: str = "head") -> None:
    """Apply the migrations to ``url`` (``hotline db upgrade``); the one place a SQLite file
    (and its folder) is created."""
    from alembic import command
    from alembic.config import Config

    path = sqlite_file.file_path(url)
    if path is not None:
        sqlite_file.create(path)

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    command.upgrade(cfg, revision)


def sync_directory(store: Store, settings: Settings) -> None:
    """Load the config's sellers and orders into the store (insert or update, never delete).

    Every worker process runs this as it starts, so it first reads what is stored and takes the
    write lock only when something differs: once the directory is in, the others only read.
    Workers that start together on a fresh database may both find it stale; the one whose insert
    collides reads again and writes what is still missing.
    """
    sellers = [_seller_row(seller) for seller in settings.sellers]
    orders = [
        OrderRow(id=o.id, seller_id=o.seller, buyer_phone=o.buyer_phone, placed=o.placed)
        for o in settings.orders
    ]
    links = {(o.id, seller) for o in settings.orders for seller in o.sellers}
    for attempt in (1, 2):
        with Session(store.engine.execution_options(hotline_read_only=True)) as session:
            stale = _differing(session, SellerRow, sellers) + _differing(session, OrderRow, orders)
            stored = set(session.execute(select(OrderSellerRow.order_id, OrderSellerRow.seller_id)))
        configured = {o.id for o in settings.orders}
        # An order's sellers are the config's: links of configured orders it no longer lists go.
        gone = {(o, s) for o, s in stored - links if o in configured}
        if not stale and links <= stored and not gone:
            return
        try:
            with store.session() as session:
                for row in stale:  # sellers come first: orders refer to them
                    session.merge(row)
                    if isinstance(row, SellerRow):
                        session.flush()
                session.flush()
                for order_id, seller_id in gone:
                    session.delete(session.get_one(OrderSellerRow, (order_id, seller_id)))
                for order_id, seller_id in links - stored:
                    session.add(OrderSellerRow(order_id=order_id, seller_id=seller_id))
            return
        except IntegrityError:
            if attempt == 2:
                raise


def _seller_row(seller: Seller) -> SellerRow:
    hours = seller.hours
    return SellerRow(
        id=seller.id,
        name=seller.name,
        phone=seller.phone,
        opens=hours.opens.strftime("%H:%M") if hours else None,
        closes=hours.closes.strftime("%H:%M") if hours else None,
        days=",".join(str(d) for d in sorted(hours.days)) if hours else None,
    )


def _differing(
    session: Session, model: type[SellerRow] | type[OrderRow], rows: Sequence[SellerRow | OrderRow]
) -> list[SellerRow | OrderRow]:
    """The ``rows`` that are missing from the store or differ from what it holds."""
    columns = [column.key for column in model.__table__.columns]

    def values(row: SellerRow | OrderRow) -> tuple[Any, ...]:
        return tuple(getattr(row, name) for name in columns)

    stored = {row.id: tuple(row) for row in session.execute(select(model.__table__))}
    return [row for row in rows if stored.get(row.id) != values(row)]


def init_app(app: Flask, settings: Settings) -> Store:
    """Attach the store to ``app`` and close the request's session after each request.

    Raises ``StoreError`` naming ``hotline db upgrade`` when the database is missing or not at the
    newest schema: a server (or a restarted worker) never serves on one.
    """
    store = Store(settings.store_url)
    try:
        store.require_current_schema()
    except StoreError:
        store.engine.dispose()
        raise
    app.extensions[EXTENSION] = store

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("hotline_session", None)
        if session is not None:
            session.close()

    return store


def get_store(app: Flask) -> Store:
    """The store attached to ``app``."""
    store: Store = app.extensions[EXTENSION]
    return store


def db_session() -> Session:
    """The current request's read-only session (opened on first use, closed at teardown).

    It reads in autocommit mode, so an API request never holds the write lock webhooks need.
    """
    from flask import current_app

    session: Session | None = g.get("hotline_session")
    if session is None:
        engine = get_store(current_app).engine.execution_options(hotline_read_only=True)
        session = Session(bind=engine)
        g.hotline_session = session
    return session
