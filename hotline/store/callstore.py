"""The webhooks' way to the store: read a call's state, then append the step with the new state.

A call is its rows in ``call_events``: each webhook appends one, holding what the step did and
the call's whole state after it, so the latest row is the call (see ``CallEventRow``). Every
webhook does the same small amount of work on one pooled connection: one keyed read of the latest
row (outside the write lock), the caller's turn computed in memory, then one short write
transaction with one INSERT of the next row. Those statements are prepared once and run on the
driver (see ``prepared``). The rare steps that write more (opening a thread) take an ORM session
instead, and the step's row joins that session's transaction.

The next row's key ``(call_sid, seq)`` is the one after the row the webhook read. When another
webhook of the call appended in between (a status callback during a turn, a retry of the same
webhook), that key is taken: the INSERT does nothing, and the save reads the latest row inside
its write transaction and writes that row's state with only this webhook's own changes on top,
so each column keeps whoever changed it last (and a retried first webhook leaves the call as its
first run made it).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from hotline.errors import StoreError
from hotline.store.callbacks import CANCEL_ORDER, CANCEL_PENDING, cancel_row
from hotline.store.callstate import CallState
from hotline.store.database import Store
from hotline.store.kept_connection import KeptConnections
from hotline.store.models import CallEventRow
from hotline.store.prepared import Prepared, values_reader
from hotline.store.write_lock import begin_immediate

log = logging.getLogger(__name__)
_EVENTS: Table = CallEventRow.__table__  # type: ignore[assignment]

# Each ``CallState`` field and the column that holds it (three are named for the row's sake).
_FIELDS = tuple(f.name for f in fields(CallState))
_RENAMED = {"sid": "call_sid", "updated_at": "at", "step": "call_step"}
_COLUMN_OF = {name: _RENAMED.get(name, name) for name in _FIELDS}
# A call's state as a tuple in ``_FIELDS`` order (``CallState(*state)`` makes it again): the
# webhooks read and write it by position, without a mapping of names each time.
_state_of: Callable[[CallState], tuple[Any, ...]] = attrgetter(*_FIELDS)
_STARTED_AT = _FIELDS.index("started_at")
# The fields a row says of the call (the key and time aside): what a merge takes from the store.
_STATE_AT = tuple(i for i, name in enumerate(_FIELDS) if name not in ("sid", "updated_at"))
# The append's parameters by position: the event's, then the call's state in ``_FIELDS`` order.
_APPEND_ORDER = ("seq", "step", "input", "decision", *(_COLUMN_OF[name] for name in _FIELDS))
# A call's state is never reread in a turn more often than this many times (see ``save``).
_MAX_MERGES = 10


class CallStatements:
    """The webhooks' statements on ``call_events``, prepared for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        c = _EVENTS.c
        # The latest row's seq, then the call's state without its sid (``_FIELDS[1:]``).
        read = [c.seq, *(c[_COLUMN_OF[name]] for name in _FIELDS[1:])]
        # The row of the call's highest seq (a LIMIT would compile to parameters of its own).
        last = select(func.max(c.seq)).where(c.call_sid == bindparam("sid")).scalar_subquery()
        self.latest = Prepared.compile(
            select(*read).where(c.call_sid == bindparam("sid"), c.seq == last), dialect
        )
        self.bind_latest = self.latest.binder(("sid",))
        self.read_row: Callable[[Sequence[Any]], list[Any]] = values_reader(read, dialect)
        # ``inline``: nothing to hand back (PostgreSQL would otherwise return the new id).
        append = _upsert_module(dialect).insert(_EVENTS).inline()
        self.append = Prepared.compile(
            append.values({name: bindparam(name) for name in _APPEND_ORDER}).on_conflict_do_nothing(
                index_elements=["call_sid", "seq"]
            ),
            dialect,
        )
        self.bind_append = self.append.binder(_APPEND_ORDER)
        self.cancel_callbacks = Prepared.compile(CANCEL_PENDING, dialect)
        self.bind_cancel = self.cancel_callbacks.binder(CANCEL_ORDER)
        # SQLite takes the write lock up front (see ``store``); PostgreSQL begins implicitly.
        self.begin = "BEGIN IMMEDIATE" if dialect.name == "sqlite" else None
        # SQLite reads in autocommit (the driver begins only before a write); PostgreSQL's
        # driver begins a transaction for a read too.
        self.read_opens_transaction = dialect.name != "sqlite"


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
        self._raw: Any = None  # the DBAPI connection of the plain path (kept or pooled)
        self._pooled: Any = None  # the pool's proxy of it, when it came from the pool
        self._conn: Connection | None = None  # the SQLAlchemy connection of a session
        self._session: Session | None = None
        # The call's state as this work last read or wrote it (in ``_FIELDS`` order), and that
        # row's ``seq`` (0: none).
        self._loaded: tuple[Any, ...] | None = None
        self._seq = 0
        self._cancel: tuple[str, Any] | None = None  # run by ``save``, in its transaction

    def cancel_callbacks_on_save(self, number: str, now: datetime) -> None:
        """Have ``save`` cancel the pending callbacks of ``number`` too (a new call from it)."""
        self._cancel = (
            self._sql.cancel_callbacks.sql,
            self._sql.bind_cancel(cancel_row(number, now)),
        )

    def __enter__(self) -> CallWork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, sid: str) -> CallState | None:
        """The call's state as stored (read without taking the write lock)."""
        driver = self._driver()
        row = self._latest(driver, sid)
        if self._conn is None and self._sql.read_opens_transaction:
            # End the read: PostgreSQL began a transaction for it, which would otherwise hold its
            # snapshot and locks through the turn.
            driver.rollback()
        if row is None:
            return None
        self._seq = row[0]
        state = (sid, *row[1:])
        if state[_STARTED_AT] is None:  # only events of a CallSid the hotline never started
            return None
        self._loaded = state
        return CallState(*state)

    def session(self) -> Session:
        """An ORM session whose transaction this webhook's save joins (begun now if need be)."""
        if self._session is None:
            self._release_raw()
            self._conn = self._store.engine.connect()
            self._conn.begin()
            self._session = Session(bind=self._conn, expire_on_commit=False)
        return self._session

    def save(self, call: CallState, step: str, given: str | None, decision: str) -> None:
        """Append the step's row with the call's state, and commit.

        If another webhook of the call appended a row since this one read it, the new row
        holds that row's state with only the columns ``call`` changed since (its ``load`` or
        last ``save``) on top, and ``call`` is brought up to that stored state.
        """
        state = _state_of(call)
        event = (step, given, decision)
        # Everything Python does for the statement (the values as the driver takes them)
        # happens before the write lock is taken: the other worker waits for the lock only
        # while SQLite works, and a worker preempted while it holds the lock (the machine is
        # busy) keeps the other waiting for less.
        seq = self._seq + 1
        parameters = self._sql.bind_append((seq, *event, *state))
        if self._session is not None:
            self._session.flush()
        driver = self._driver()
        cursor = driver.cursor()
        try:
            if self._conn is None and self._sql.begin is not None:
                begin_immediate(driver)  # through the file lock (``write_lock``)
            cursor.execute(self._sql.append.sql, parameters)
            if cursor.rowcount != 1:  # the row after ours is taken: someone else wrote
                seq, state = self._merge(driver, cursor, call, event)
            if self._cancel is not None:
                cursor.execute(*self._cancel)
                self._cancel = None
        finally:
            cursor.close()
        if self._conn is not None:
            self._conn.commit()
        else:
            driver.commit()
        self._seq = seq
        # A later save of this work writes whole: ``call`` is what is stored now.
        self._loaded = state

    def close(self) -> None:
        """Give the connection back; anything not saved is rolled back."""
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._release_raw()

    def _merge(
        self, driver: Any, cursor: Any, call: CallState, event: tuple[str, str | None, str]
    ) -> tuple[int, tuple[Any, ...]]:
        """Append after the latest row instead: its state, with this work's changes on top.

        Returns the row's ``seq`` and the state it holds (``call`` is brought up to it)."""
        loaded = self._loaded
        current = _state_of(call)
        mine = {i: current[i] for i in _STATE_AT if loaded is None or loaded[i] != current[i]}
        for _ in range(_MAX_MERGES):  # PostgreSQL: another writer may take the next key too
            latest = self._latest(driver, call.sid)
            if latest is None:  # the call's rows were deleted meanwhile: write ours whole
                seq = 1
            else:
                seq = latest[0] + 1
                stored = (call.sid, *latest[1:])
                if stored[_STARTED_AT] is not None:
                    # A first webhook (nothing loaded) that finds the call started was retried:
                    # the call stays as its first run made it.
                    for i in _STATE_AT:
                        value = mine.get(i, stored[i]) if loaded is not None else stored[i]
                        setattr(call, _FIELDS[i], value)
            state = _state_of(call)
            cursor.execute(self._sql.append.sql, self._sql.bind_append((seq, *event, *state)))
            if cursor.rowcount == 1:
                return seq, state
        raise StoreError(f"call {call.sid}: could not append its step after {_MAX_MERGES} tries")

    def _latest(self, driver: Any, sid: str) -> list[Any] | None:
        """The call's latest row: its seq, then its state without the sid (``_FIELDS[1:]``), as
        Python values (None: the call has none)."""
        cursor = driver.cursor()
        try:
            cursor.execute(self._sql.latest.sql, self._sql.bind_latest((sid,)))
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else self._sql.read_row(row)

    def _driver(self) -> Any:
        """The DBAPI connection this webhook works on (the session's, once there is one)."""
        if self._conn is not None:
            return self._conn.connection.dbapi_connection
        if self._raw is None:
            kept = self._store.kept
            if kept is not None:  # SQLite: this thread's own connection (see ``kept_connection``)
                self._raw = kept.take()
            else:
                self._pooled = self._store.engine.raw_connection()
                self._raw = self._pooled.dbapi_connection
        return self._raw

    def _release_raw(self) -> None:
        if self._pooled is not None:
            self._pooled.close()  # back to the pool, which rolls back whatever was left open
            self._pooled = None
        elif self._raw is not None:
            KeptConnections.give_back(self._raw)
        self._raw = None


def record_failure(store: Store, sid: str, at: datetime, step: str, error: str) -> None:
    """Note in the call's history that a webhook failed (best effort: the store may be why).

    Only a call the store knows gets the note (its state unchanged): a failed first webhook
    (its row never written) or a stray CallSid leaves no event without its call.
    """
    c = _EVENTS.c
    try:
        with store.engine.begin() as conn:
            latest = conn.execute(
                select(_EVENTS).where(c.call_sid == sid).order_by(c.seq.desc()).limit(1)
            ).first()
            if latest is None or latest.started_at is None:
                return
            row = latest._asdict()
            del row["id"]  # the new row's own
            row.update(
                seq=latest.seq + 1,
                at=at,
                step=step,
                input=None,
                decision=f"failed ({error}) > apology",
            )
            conn.execute(insert(_EVENTS), row)
    except Exception:  # noqa: BLE001 — the failure itself is already logged by the caller
        log.warning("could not record the failed step %s of call %s", step, sid)


def _upsert_module(dialect: Dialect) -> Any:
    """The dialect's ``insert`` with ON CONFLICT: a taken key makes the INSERT do nothing.

    The store supports SQLite and PostgreSQL (``config`` refuses other URLs)."""
    if dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql
    from sqlalchemy.dialects import sqlite

    return sqlite
