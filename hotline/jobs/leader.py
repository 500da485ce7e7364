"""Electing the one scheduler that runs jobs, through the database all schedulers share.

Each ``hotline scheduler`` calls ``try_lead(now)`` every third of ``[scheduler] lease_seconds``:
it returns whether this process leads now (taking the lead when it is free, keeping it when
held). Whoever does not lead stands by; when the leader dies, another leads within
``lease_seconds``.

- **PostgreSQL**: a session-level advisory lock (``pg_try_advisory_lock``) held on a connection
  of its own. The server lets go of it when that connection ends: at once when the process dies
  (the kernel closes its socket), and when the machine or the network dies, once the server's
  TCP keepalives (set on that connection from ``lease_seconds``) find the peer gone. The leader
  also notes itself in ``scheduler_lease`` (for people and tests: the lock decides).
- **SQLite**: a lease row (holder, expires_at) in ``scheduler_lease``: taken when missing or
  expired, renewed by its holder. It lasts two thirds of ``lease_seconds`` and the others look
  every third, so a dead leader's lease is taken over within ``lease_seconds``.

The election keeps the timed work in one process; it is not what makes it correct: every job
claims its rows in transactions, so even two leaders for a moment (a leader frozen past its
lease) never send a notification twice.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from hotline.store.database import Store
from hotline.store.models import SchedulerLeaseRow

logger = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
# The advisory lock's key: b"hotlnsch" as a signed 64-bit number, unlikely to meet another app's.
ADVISORY_KEY = int.from_bytes(b"hotlnsch", "big", signed=True)


class Election(Protocol):
    """One process's part in the election."""

    holder: str

    def try_lead(self, now: datetime) -> bool:
        """Take or keep the lead; whether this process leads now."""
        ...

    def resign(self) -> None:
        """Let go of the lead (stopping), so another takes over without waiting."""
        ...


def holder_name() -> str:
    """This process's name in the election: host, pid, and a random part (pids are reused)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def election_for(store: Store, lease_seconds: int, holder: str | None = None) -> Election:
    """The election that fits ``store``'s database."""
    name = holder or holder_name()
    if store.engine.dialect.name == "postgresql":
        return AdvisoryLockElection(store, lease_seconds, name)
    return LeaseElection(store, lease_seconds, name)


def current_holder(store: Store) -> tuple[str, datetime] | None:
    """Who is noted as leading, and until when (``None``: nobody yet)."""
    with Session(store.engine.execution_options(hotline_read_only=True)) as session:
        row = session.get(SchedulerLeaseRow, LEASE_NAME)
        return None if row is None else (row.holder, row.expires_at)


def _note(store: Store, holder: str, expires_at: datetime, *, take: bool, now: datetime) -> bool:
    """Write ``holder`` into the lease row unless another holds an unexpired lease (or ``take``)."""
    try:
        with store.session() as session:
            row = session.get(SchedulerLeaseRow, LEASE_NAME)
            if row is None:
                row = SchedulerLeaseRow(name=LEASE_NAME, holder=holder, expires_at=expires_at)
                session.add(row)
                return True
            if row.holder != holder and row.expires_at > now and not take:
                return False
            row.holder, row.expires_at = holder, expires_at
            return True
    except IntegrityError:  # another process inserted the first row at the same moment
        return False


class LeaseElection:
    """SQLite: the lease row decides (its transactions are serialised by the write lock)."""

    def __init__(self, store: Store, lease_seconds: int, holder: str) -> None:
        self.store = store
        self.holder = holder
        self.lasts = timedelta(seconds=lease_seconds) * 2 / 3

    def try_lead(self, now: datetime) -> bool:
        """Take the lease if it is free or expired, renew it if ours."""
        try:
            return _note(self.store, self.holder, now + self.lasts, take=False, now=now)
        except SQLAlchemyError as exc:
            logger.warning("cannot reach the database for the scheduler's lease: %s", exc)
            return False

    def resign(self) -> None:
        """Expire our lease at once (if it is still ours)."""
        try:
            with self.store.session() as session:
                row = session.get(SchedulerLeaseRow, LEASE_NAME)
                if row is not None and row.holder == self.holder:
                    session.delete(row)
        except SQLAlchemyError as exc:
            logger.warning("cannot give the scheduler's lease back: %s", exc)


class AdvisoryLockElection:
    """PostgreSQL: a session-level advisory lock on a connection of its own decides."""

    def __init__(self, store: Store, lease_seconds: int, holder: str) -> None:
        self.store = store
        self.holder = holder
        self.lease_seconds = lease_seconds
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self._leading = False

    def _connection(self) -> Connection:
        if self._conn is None:
            if self._engine is None:
                # Its own engine without a pool: the lock lives exactly as long as this connection.
                self._engine = create_engine(
                    self.store.engine.url, poolclass=NullPool, hide_parameters=True
                )
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            # The server probes an idle peer after a third of the lease, then every ninth, three
            # times: a leader whose machine vanished loses the lock within about the lease.
            idle = max(1, self.lease_seconds // 3)
            interval = max(1, self.lease_seconds // 9)
            conn.execute(text(f"SET tcp_keepalives_idle = {idle}"))
            conn.execute(text(f"SET tcp_keepalives_interval = {interval}"))
            conn.execute(text("SET tcp_keepalives_count = 3"))
            self._conn = conn
        return self._conn

    def try_lead(self, now: datetime) -> bool:
        """Take the lock if free; while held, check that its connection is still there."""
        try:
            conn = self._connection()
            if self._leading:
                conn.execute(text("SELECT 1"))
            else:
                got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
                self._leading = bool(got.scalar())
        except SQLAlchemyError as exc:
            logger.warning("the scheduler's lock connection failed: %s", exc)
            self._drop()
            return False
        if self._leading:
            lasts = now + timedelta(seconds=self.lease_seconds)
            try:
                _note(self.store, self.holder, lasts, take=True, now=now)
            except SQLAlchemyError as exc:  # only the note: the lock still decides
                logger.warning("cannot note the scheduler's leader: %s", exc)
        return self._leading

    def _drop(self) -> None:
        self._leading = False
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except SQLAlchemyError:
                pass

    def resign(self) -> None:
        """Release the lock (closing its connection releases it too), and the note."""
        if self._leading and self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                with self.store.session() as session:
                    row = session.get(SchedulerLeaseRow, LEASE_NAME)
                    if row is not None and row.holder == self.holder:
                        session.delete(row)
            except SQLAlchemyError as exc:
                logger.warning("cannot release the scheduler's lock cleanly: %s", exc)
        self._drop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
