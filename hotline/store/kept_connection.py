"""Each thread's own SQLite connection for the webhooks' statements, kept from one webhook to the
next instead of taken from the pool and given back every time.

Through SQLAlchemy's pool, taking a connection and giving it back costs a webhook more than its
own SQL does (the queue's lock, the checkout and reset events, the proxy around the connection:
``make bench`` measured some 25 µs of a webhook's 300 in the app). A SQLite connection is a file
handle, and a gunicorn worker serves one webhook at a time: nothing is shared by pooling it. So
each thread keeps one connection, made through the engine (every connect hook ran: the pragmas,
read-write only, the file watch) and then detached from its pool. Each webhook still gets what the
pool gave it: the database file is checked before the connection is used (``FileWatch.check``,
as at the pool's checkout), and a transaction left open is rolled back afterwards (the pool's
reset). A kept connection closes when its thread ends or when the engine is disposed; a process
forked from this one never uses this one's connections (it makes its own).

PostgreSQL keeps the pool: its pre-ping at checkout replaces a connection the server dropped.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from hotline.store.sqlite_file import FileWatch

log = logging.getLogger(__name__)
# This process's id, renewed in a forked child: read on every webhook, where ``os.getpid()``
# would cost a system call each time.
_pid = os.getpid()


def _renew_pid() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_renew_pid)


class KeptConnections:
    """One detached SQLite connection per thread of this process, for ``engine``'s database."""

    def __init__(self, engine: Engine, file: FileWatch) -> None:
        self._engine = engine
        self._file = file
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: weakref.WeakSet[_Kept] = weakref.WeakSet()
        event.listen(engine, "engine_disposed", self._close_all)

    def take(self) -> sqlite3.Connection:
        """This thread's connection, the database file checked first (``StoreError`` when it is
        gone or replaced)."""
        kept: _Kept | None = getattr(self._local, "kept", None)
        # A forked child finds the forking thread's connection here: the parent's, never used.
        if kept is not None and kept.connection is not None and kept.pid == _pid:
            self._file.check()  # what the pool's checkout would have done
            return kept.connection
        proxied = self._engine.raw_connection()  # the checkout checks the file
        connection: sqlite3.Connection = proxied.dbapi_connection  # type: ignore[assignment]
        proxied.detach()
        kept = self._local.kept = _Kept(connection)
        with self._lock:
            self._all.add(kept)
        return connection

    @staticmethod
    def give_back(connection: sqlite3.Connection) -> None:
        """End whatever the webhook left open on ``connection`` (what the pool's reset does)."""
        if connection.in_transaction:
            connection.rollback()

    def _close_all(self, _engine: Any) -> None:
        # Disposing the engine (shutting down, or a test done with its database) closes every
        # thread's connection; a thread that works on afterwards makes a new one.
        with self._lock:
            kept = list(self._all)
        for one in kept:
            one.close()


class _Kept:
    """A thread's connection; closed when the thread ends (its ``threading.local`` goes)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection: sqlite3.Connection | None = connection
        self.pid = _pid

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None or _pid != self.pid:
            return  # a forked child's copy: the connection is the parent's to close
        try:
            connection.close()
        except sqlite3.Error as exc:  # closed from another thread while in use there
            log.debug("closing a kept SQLite connection: %s", exc)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 — at interpreter exit the modules it needs may be gone
            pass
