"""The webhooks' way to the store: read a call's state, then write it back with the step's event.

Every webhook does the same small amount of work on one pooled connection: one keyed read
(outside the write lock), the caller's turn computed in memory, then one short write transaction
with the call's changed columns and the ``call_events`` row. Those statements are prepared once
and run on the driver (see ``prepared``). The rare steps that write more (opening a thread) take
an ORM session instead, and the call's row and event join that session's transaction.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from hotline.store.callstate import CallState
from hotline.store.database import Store
from hotline.store.models import CallEventRow, CallRow
from hotline.store.prepared import Prepared, row_reader
from hotline.store.write_lock import begin_immediate

log = logging.getLogger(__name__)
_CALLS: Table = CallRow.__table__  # type: ignore[assignment]
_EVENTS: Table = CallEventRow.__table__  # type: ignore[assignment]


_COLUMNS = tuple(f.name for f in fields(CallState))
_EVENT_COLUMNS = ("call_sid", "at", "step", "input", "decision")  # what ``_event`` gives


class CallStatements:
    """The webhooks' statements on ``calls`` and ``call_events``, prepared for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        columns = [_CALLS.c[name] for name in _COLUMNS]
        self.select = Prepared.compile(
            select(*columns).where(_CALLS.c.sid == bindparam("sid")), dialect
        )
        self.read_row: Callable[[Sequence[Any]], dict[str, Any]] = row_reader(columns, dialect)
        new_call = _upsert_module(dialect).insert(_CALLS)
        self.insert = Prepared.compile(
            new_call.values({name: bindparam(name) for name in _COLUMNS}).on_conflict_do_nothing(
                index_elements=["sid"]
            ),
            dialect,
        )
        self.insert_event = Prepared.compile(
            insert(_EVENTS).values({name: bindparam(name) for name in _EVENT_COLUMNS}), dialect
        )
        # SQLite takes the write lock up front (see ``store``); PostgreSQL begins implicitly.
        self.begin = "BEGIN IMMEDIATE" if dialect.name == "sqlite" else None
        self._updates: dict[tuple[str, ...], Prepared] = {}

    def update(self, columns: tuple[str, ...]) -> Prepared:
        """The UPDATE of exactly ``columns`` of one call (a few sets recur, each prepared once)."""
        prepared = self._updates.get(columns)
        if prepared is None:
            statement = (
                update(_CALLS)
                .where(_CALLS.c.sid == bindparam("call_sid"))
                .values({name: bindparam(name) for name in columns})
            )
            prepared = self._updates[columns] = Prepared.compile(statement, self.dialect)
        return prepared


_PREPARED: weakref.WeakKeyDictionary[Store, CallStatements] = weakref.WeakKeyDictionary()


def statements(store: Store) -> CallStatements:
    """The store's prepared call statements (prepared on first use, gone with the store)."""
    prepared = _PREPARED.get(store)
    if prepared is None:
        prepared = _PREPARED[store] = CallStatements(store.engine.dialect)
    return prepared


class CallWork:
    """One webhook's store work on one call: ``load`` it, maybe ``session()``, then ``save``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._sql = statements(store)
        self._raw: Any = None  # the pooled DBAPI connection of the plain path
        self._conn: Connection | None = None  # the SQLAlchemy connection of a session
        self._session: Session | None = None
        self._loaded: dict[str, Any] | None = None

    def __enter__(self) -> CallWork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, sid: str) -> CallState | None:
        """The call's state as stored (read without taking the write lock)."""
        driver = self._driver()
        cursor = driver.cursor()
        try:
            self._sql.select.execute(cursor, {"sid": sid})
            row = cursor.fetchone()
        finally:
            cursor.close()
        if self._conn is None:
            # End the read: PostgreSQL began a transaction for it, which would otherwise hold its
            # snapshot and locks through the turn (SQLite reads here in autocommit: a no-op).
            driver.rollback()
        if row is None:
            return None
        self._loaded = self._sql.read_row(row)
        return CallState(**self._loaded)

    def session(self) -> Session:
        """An ORM session whose transaction this webhook's save joins (begun now if need be)."""
        if self._session is None:
            self._release_raw()
            self._conn = self._store.engine.connect()
            self._conn.begin()
            self._session = Session(bind=self._conn, expire_on_commit=False)
        return self._session

    def save(self, call: CallState, step: str, given: str | None, decision: str) -> None:
        """Write the call's changes and the step's event in one transaction, and commit."""
        values = {name: getattr(call, name) for name in _COLUMNS}
        # Everything Python does for the statements (which columns changed, the values as the
        # driver takes them) happens before the write lock is taken: the other worker waits for
        # the lock only while SQLite works, and a worker preempted while it holds the lock (the
        # machine is busy) keeps the other waiting for less.
        statements: list[tuple[str, Any]] = []
        if self._loaded is None:
            statements.append(self._sql.insert.bound(values))
        else:
            changed = {k: v for k, v in values.items() if self._loaded.get(k) != v}
            if changed:
                update = self._sql.update(tuple(changed))
                statements.append(update.bound({**changed, "call_sid": call.sid}))
        event = _event(call.sid, call.updated_at, step, given, decision)
        statements.append(self._sql.insert_event.bound(event))
        if self._session is not None:
            self._session.flush()
        driver = self._driver()
        cursor = driver.cursor()
        try:
            if self._conn is None and self._sql.begin is not None:
                begin_immediate(driver)  # through the file lock (``write_lock``)
            for sql, parameters in statements:
                cursor.execute(sql, parameters)
        finally:
            cursor.close()
        if self._conn is not None:
            self._conn.commit()
        else:
            driver.commit()
        self._loaded = values  # a later save writes only what changes after this one

    def close(self) -> None:
        """Give the connection back; anything not saved is rolled back."""
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._release_raw()

    def _driver(self) -> Any:
        """The DBAPI connection this webhook works on (the session's, once there is one)."""
        if self._conn is not None:
            return self._conn.connection.dbapi_connection
        if self._raw is None:
            self._raw = self._store.engine.raw_connection()
        return self._raw.dbapi_connection

    def _release_raw(self) -> None:
        if self._raw is not None:
            self._raw.close()  # back to the pool, which rolls back whatever was left open
            self._raw = None


def record_failure(store: Store, sid: str, at: datetime, step: str, error: str) -> None:
    """Note in the call's history that a webhook failed (best effort: the store may be why).

    Only a call the store knows gets the note: a failed first webhook (its row never written)
    or a stray CallSid leaves no event without its call.
    """
    try:
        with store.engine.begin() as conn:
            if conn.execute(select(_CALLS.c.sid).where(_CALLS.c.sid == sid)).first() is None:
                return
            conn.execute(
                insert(_EVENTS), _event(sid, at, step, None, f"failed ({error}) > apology")
            )
    except Exception:  # noqa: BLE001 — the failure itself is already logged by the caller
        log.warning("could not record the failed step %s of call %s", step, sid)


def _event(sid: str, at: datetime, step: str, given: str | None, decision: str) -> dict[str, Any]:
    """A ``call_events`` row: when, which step, what the caller gave, what was decided."""
    return {"call_sid": sid, "at": at, "step": step, "input": given, "decision": decision}


def _upsert_module(dialect: Dialect) -> Any:
    """The dialect's ``insert`` with ON CONFLICT: a retried first webhook leaves the row be.

    The store supports SQLite and PostgreSQL (``config`` refuses other URLs)."""
    if dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql
    from sqlalchemy.dialects import sqlite

    return sqlite
