"""The webhooks' way to the store: read a call's state, then write it back with the step's event.

Every webhook does the same small amount of work, so it goes through SQLAlchemy Core rather than
the ORM: one keyed read (outside the write lock), the caller's turn computed in memory, then one
short write transaction with the call's changed columns and the ``call_events`` row. The rare
steps that write more (opening a thread) join that same transaction through an ORM session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from hotline.store import CallEventRow, CallRow, Store

log = logging.getLogger(__name__)
_CALLS: Table = CallRow.__table__  # type: ignore[assignment]
_EVENTS: Table = CallEventRow.__table__  # type: ignore[assignment]
_SELECT_CALL = select(_CALLS).where(_CALLS.c.sid == bindparam("sid"))


@dataclass
class CallState:
    """What the hotline knows about a call: the ``calls`` row as plain, mutable data."""

    sid: str
    language: str
    started_at: datetime
    updated_at: datetime
    step: str
    from_number: str | None = None
    to_number: str | None = None
    topic: str | None = None
    order_id: str | None = None
    seller_id: str | None = None
    question: str | None = None
    seller_accepted: bool = False
    dial_status: str | None = None
    queue_result: str | None = None
    thread_id: int | None = None
    outcome: str | None = None


_COLUMNS = tuple(f.name for f in fields(CallState))


class CallWork:
    """One webhook's store work on one call: ``load`` it, maybe ``session()``, then ``save``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._conn: Connection | None = None
        self._session: Session | None = None
        self._loaded: dict[str, Any] | None = None

    def __enter__(self) -> CallWork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, sid: str) -> CallState | None:
        """The call's state as stored (read without taking the write lock)."""
        conn = self._store.engine.connect().execution_options(hotline_read_only=True)
        try:
            row = conn.execute(_SELECT_CALL, {"sid": sid}).first()
        finally:
            conn.close()
        if row is None:
            return None
        self._loaded = dict(row._mapping)
        return CallState(**{name: self._loaded[name] for name in _COLUMNS})

    def session(self) -> Session:
        """An ORM session inside this webhook's write transaction (begun now if need be)."""
        if self._session is None:
            self._session = Session(bind=self._writer(), expire_on_commit=False)
        return self._session

    def save(self, call: CallState, step: str, given: str | None, decision: str) -> None:
        """Write the call's changes and the step's event in one transaction, and commit."""
        conn = self._writer()
        if self._session is not None:
            self._session.flush()
        values = {name: getattr(call, name) for name in _COLUMNS}
        if self._loaded is None:
            conn.execute(_insert_new(conn.dialect.name), values)
        else:
            changed = {k: v for k, v in values.items() if self._loaded.get(k) != v}
            if changed:
                conn.execute(update(_CALLS).where(_CALLS.c.sid == call.sid).values(changed))
        _insert_event(conn, call.sid, call.updated_at, step, given, decision)
        conn.commit()

    def close(self) -> None:
        """Give the connection back; anything not saved is rolled back."""
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _writer(self) -> Connection:
        if self._conn is None:
            self._conn = self._store.engine.connect()
            self._conn.begin()
        return self._conn


def record_failure(store: Store, sid: str, at: datetime, step: str, error: str) -> None:
    """Note in the call's history that a webhook failed (best effort: the store may be why)."""
    try:
        with store.engine.begin() as conn:
            _insert_event(conn, sid, at, step, None, f"failed ({error}) > apology")
    except Exception:  # noqa: BLE001 — the failure itself is already logged by the caller
        log.warning("could not record the failed step %s of call %s", step, sid)


def _insert_event(
    conn: Connection, sid: str, at: datetime, step: str, given: str | None, decision: str
) -> None:
    conn.execute(
        insert(_EVENTS),
        {"call_sid": sid, "at": at, "step": step, "input": given, "decision": decision},
    )


@cache
def _insert_new(dialect: str) -> Any:
    """INSERT of a new call that leaves an existing row alone (Twilio retried the first webhook)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(_CALLS).on_conflict_do_nothing(index_elements=["sid"])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(_CALLS).on_conflict_do_nothing(index_elements=["sid"])
