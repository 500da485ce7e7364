"""SQLite's writers queue on a file lock beside the database instead of in SQLite's busy sleep.

When two processes meet at ``BEGIN IMMEDIATE``, the one that loses falls into SQLite's busy
handler, which sleeps (a millisecond at first, then longer) before it asks again: under load that
sleep, not the write, sets the pace (``make bench`` measured a commit alone at 0.78 of the bare
app that way, 0.90 with this lock). A blocking ``flock`` on ``<database>.lock``, taken just before
``BEGIN IMMEDIATE`` and dropped just after ``COMMIT`` or ``ROLLBACK``, wakes the next writer the
moment the lock is free.

The file lock only decides who asks SQLite first; SQLite's own lock still guards the data, so a
writer that does not take it (the ``sqlite3`` shell, a backup) is kept out by SQLite as before and
waits with its busy timeout. Each connection opens its own descriptor of the lock file: a
``flock`` belongs to an open file description, so two connections of one process (two threads)
exclude each other just as two processes do. The kernel drops the lock with the descriptor, so a
process killed inside a transaction never leaves it held. A thread that already holds the lock
through one connection does not wait for it on a second one (it would wait for itself forever);
that second connection meets SQLite's busy timeout, as every writer did before.

Checkpoints (copying the WAL back into the database file, with an fsync) move out of the lock
too: SQLite runs its automatic checkpoint inside ``COMMIT``, where every other writer would wait
for its fsync. These connections checkpoint (``PASSIVE``: never waiting for anyone) right after
they let go of the lock, once every ``CHECKPOINT_EVERY`` writes of the process, while the next
writer already appends to the WAL; SQLite's own checkpoint stays as a backstop at a WAL of
``AUTOCHECKPOINT_PAGES``. Durability does not change: a commit is in the WAL before the lock is
released, whenever the checkpoint copies it. A writer's connection also closes under the lock:
SQLite then tries for an exclusive lock (the last connection out checkpoints and removes the
WAL), which a writer beginning at that moment would find busy.

PostgreSQL does not use any of this: its engine never gets a ``WriteLockedConnection``.
"""

from __future__ import annotations

import fcntl
import itertools
import logging
import os
import sqlite3
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)
_held = threading.local()  # whether this thread holds the lock (through any connection)
# Write transactions of one process between its WAL checkpoints. A webhook adds about five pages
# to the WAL; each checkpoint costs two fsyncs besides the copying, so rarer ones cost less per
# write: measured here, every 200 writes (about SQLite's default of 1000 pages) 40 µs a write,
# every 500 writes 23 µs, each taking some 12 ms.
CHECKPOINT_EVERY = 500
AUTOCHECKPOINT_PAGES = 10000  # SQLite's own checkpoint (under the lock): only if ours fall behind
_writes = itertools.count(1)  # this process's write transactions


def lock_path(database: str, uri: bool = False) -> str | None:
    """The lock file of a SQLite database as ``sqlite3.connect`` names it (None: in memory)."""
    path = database
    if uri:
        parts = urlsplit(database)
        if parts.scheme == "file":
            path, query = unquote(parts.path), parts.query
        else:
            path, _, query = database.partition("?")
        if "mode=memory" in query:
            return None
    if not path or path == ":memory:":
        return None
    return os.path.abspath(path) + ".lock"


class WriteLockedConnection(sqlite3.Connection):
    """A ``sqlite3`` connection whose write transactions hold the database's file lock.

    ``begin_immediate`` takes the lock, then begins; ``commit``, ``rollback`` and ``close``
    drop it whatever happens, so an error inside the transaction releases it too (SQLAlchemy's
    pool rolls back every connection it gets back).
    """

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        name = os.fsdecode(database)
        self._lock_path = lock_path(name, bool(kwargs.get("uri", False)))
        self._lock_fd: int | None = None
        self._holding = False
        if self._lock_path is not None:
            self.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")

    def begin_immediate(self) -> None:
        """``BEGIN IMMEDIATE``, first waiting for the file lock (released again if BEGIN fails)."""
        self._acquire()
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    def commit(self) -> None:
        """Commit, then let the next writer in (and now and then checkpoint the WAL)."""
        wrote = self._holding
        try:
            super().commit()
        finally:
            self._release()
        if wrote and next(_writes) % CHECKPOINT_EVERY == 0:
            self._checkpoint()

    def rollback(self) -> None:
        """Roll back, then let the next writer in."""
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        """Close the connection (a writer's, under the lock) and its lock file descriptor."""
        try:
            if self._lock_fd is not None:  # a writer: close under the lock (see above)
                self._acquire()
            super().close()
        finally:
            self._release()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    @property
    def holds_write_lock(self) -> bool:
        """Whether this connection holds the file lock now."""
        return self._holding

    def _checkpoint(self) -> None:
        try:
            self.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            log.debug("WAL checkpoint of %s skipped: %s", self._lock_path, exc)

    def _acquire(self) -> None:
        if self._holding or self._lock_path is None or getattr(_held, "lock", False):
            return
        if self._lock_fd is None:
            try:
                # Read-only is enough for flock, and works on a lock file another user created.
                self._lock_fd = os.open(
                    self._lock_path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644
                )
            except OSError as exc:
                log.warning(
                    "cannot open the write lock %s (%s): writers queue in SQLite's busy "
                    "handler instead",
                    self._lock_path,
                    exc.strerror,
                )
                self._lock_path = None
                return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self._holding = True
        _held.lock = True

    def _release(self) -> None:
        if not self._holding:
            return
        self._holding = False
        _held.lock = False
        assert self._lock_fd is not None
        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)


def begin_immediate(dbapi_connection: Any) -> None:
    """Begin a SQLite write transaction, through the file lock when the connection has one."""
    if isinstance(dbapi_connection, WriteLockedConnection):
        dbapi_connection.begin_immediate()
    else:
        dbapi_connection.execute("BEGIN IMMEDIATE")
