"""SQLite writers queue on the file lock beside the database: nothing lost, never left held."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline.store.callstate import CallState
from hotline.store.callstore import CallWork
from hotline.store.database import Store
from hotline.store.models import CallEventRow
from hotline.store.write_lock import (
    AUTOCHECKPOINT_PAGES,
    CHECKPOINT_EVERY,
    WriteLockedConnection,
    begin_immediate,
    lock_path,
)

ROOT = Path(__file__).resolve().parent.parent

# A writer in another process: ``count`` transactions on a connection that never waits in SQLite
# (busy timeout 0), so any two writers meeting at BEGIN IMMEDIATE without the file lock fail.
WRITER = """
import sys
from hotline.store.write_lock import WriteLockedConnection
path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
conn = WriteLockedConnection(path, timeout=0, isolation_level=None)
print("ready", flush=True)
sys.stdin.readline()
for i in range(count):
    conn.begin_immediate()
    conn.execute("INSERT INTO log (writer, n) VALUES (?, ?)", (name, i))
    conn.commit()
conn.close()
"""

# A writer that takes the lock, says so, and waits to be killed inside its transaction.
HOLDER = """
import sys, time
from hotline.store.write_lock import WriteLockedConnection
conn = WriteLockedConnection(sys.argv[1], timeout=0, isolation_level=None)
conn.begin_immediate()
conn.execute("INSERT INTO log (writer, n) VALUES ('killed', 0)")
print("holding", flush=True)
time.sleep(600)
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A WAL database with one table of rows written by named writers."""
    path = tmp_path / "lock.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, writer TEXT, n INTEGER)")
    return path


def connect(path: Path) -> WriteLockedConnection:
    """A connection that fails at once, instead of sleeping, when SQLite's lock is taken."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None, factory=WriteLockedConnection)
    assert isinstance(conn, WriteLockedConnection)
    return conn


def lock_is_free(path: Path) -> bool:
    """Whether nobody holds the file lock of the database at ``path`` (asked without waiting)."""
    fd = os.open(f"{path}.lock", os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def rows(path: Path) -> list[tuple[str, int]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return list(conn.execute("SELECT writer, n FROM log ORDER BY writer, n"))


@pytest.mark.parametrize(
    ("database", "uri", "expected"),
    [
        ("/srv/hotline.db", False, "/srv/hotline.db.lock"),
        ("relative.db", False, os.path.abspath("relative.db") + ".lock"),
        (":memory:", False, None),
        ("", False, None),
        ("file:/srv/hotline.db?mode=rw", True, "/srv/hotline.db.lock"),
        ("file:///srv/my%20db.db?mode=rw", True, "/srv/my db.db.lock"),
        ("/srv/hotline.db?mode=rw", True, "/srv/hotline.db.lock"),
        ("file::memory:?cache=shared", True, None),
        ("file:shared?mode=memory&cache=shared", True, None),
    ],
)
def test_the_lock_file_is_beside_the_database(
    database: str, uri: bool, expected: str | None
) -> None:
    assert lock_path(database, uri) == expected


def test_a_write_transaction_holds_the_lock_until_commit(db: Path) -> None:
    conn = connect(db)
    assert lock_is_free(db)
    conn.begin_immediate()
    assert conn.holds_write_lock and not lock_is_free(db)
    conn.execute("INSERT INTO log (writer, n) VALUES ('a', 1)")
    conn.commit()
    assert not conn.holds_write_lock and lock_is_free(db)
    conn.close()
    assert rows(db) == [("a", 1)]


def test_reads_take_no_lock_and_create_no_lock_file(db: Path) -> None:
    conn = connect(db)
    assert conn.execute("SELECT count(*) FROM log").fetchone() == (0,)
    conn.rollback()  # what the pool does with every connection it gets back
    conn.close()
    assert not Path(f"{db}.lock").exists()


def test_writers_in_threads_wait_for_the_lock_not_for_sqlite(db: Path) -> None:
    # With busy timeout 0, two threads that met at BEGIN IMMEDIATE without the file lock
    # would fail with "database is locked".
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def write(name: str) -> None:
        conn = connect(db)
        start.wait()
        try:
            for i in range(CHECKPOINT_EVERY):  # checkpoints happen while the others write
                conn.begin_immediate()
                conn.execute("INSERT INTO log (writer, n) VALUES (?, ?)", (name, i))
                conn.commit()
        except BaseException as exc:  # noqa: BLE001 — reported below
            failures.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=write, args=(f"t{k}",)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert rows(db) == sorted((f"t{k}", i) for k in range(4) for i in range(CHECKPOINT_EVERY))


def test_writers_in_processes_lose_nothing(db: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), name, "300"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in ("p1", "p2", "p3")
    ]
    for writer in writers:  # all connected: now let them write at once
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        _out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    assert rows(db) == sorted((name, i) for name in ("p1", "p2", "p3") for i in range(300))
    assert lock_is_free(db)


def test_an_error_inside_the_transaction_releases_the_lock_at_rollback(db: Path) -> None:
    conn = connect(db)
    conn.begin_immediate()
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        conn.execute("INSERT INTO missing VALUES (1)")
    assert not lock_is_free(db)  # still inside the transaction
    conn.rollback()
    assert lock_is_free(db)
    other = connect(db)
    other.begin_immediate()  # SQLite's lock is free too
    other.rollback()
    other.close()
    conn.close()


def test_a_begin_that_fails_releases_the_lock(db: Path) -> None:
    # Someone who does not take the file lock (the sqlite3 shell) holds SQLite's write lock.
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as shell:
        shell.execute("BEGIN IMMEDIATE")
        conn = connect(db)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            conn.begin_immediate()
        assert not conn.holds_write_lock and lock_is_free(db)
        shell.execute("ROLLBACK")
    conn.begin_immediate()
    conn.commit()
    conn.close()


def test_close_inside_a_transaction_releases_the_lock(db: Path) -> None:
    conn = connect(db)
    conn.begin_immediate()
    conn.execute("INSERT INTO log (writer, n) VALUES ('closed', 1)")
    conn.close()
    assert lock_is_free(db)
    assert rows(db) == []


def test_a_writer_killed_inside_its_transaction_leaves_no_lock(db: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        assert not lock_is_free(db)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    assert lock_is_free(db)
    conn = connect(db)
    conn.begin_immediate()
    conn.execute("INSERT INTO log (writer, n) VALUES ('next', 1)")
    conn.commit()
    conn.close()
    assert rows(db) == [("next", 1)]  # the killed transaction left nothing


def test_a_thread_never_waits_for_the_lock_it_holds(db: Path) -> None:
    first, second = connect(db), connect(db)
    first.begin_immediate()
    # Waiting for the file lock would hang forever; SQLite's busy timeout (0 here) answers.
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        second.begin_immediate()
    first.rollback()
    second.begin_immediate()
    assert second.holds_write_lock
    second.rollback()
    first.close()
    second.close()


def test_a_plain_sqlite_connection_begins_without_a_lock(db: Path) -> None:
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as plain:
        begin_immediate(plain)
        assert plain.in_transaction
        plain.execute("ROLLBACK")
    assert not Path(f"{db}.lock").exists()


def test_webhook_saves_from_threads_lose_nothing(store: Store) -> None:
    saves = 60
    at = datetime(2026, 6, 10, 10, 30, tzinfo=UTC)
    failures: list[BaseException] = []

    def webhooks(k: int) -> None:
        try:
            for i in range(saves):
                with CallWork(store) as work:
                    call = CallState(
                        sid=f"CA{k:02d}{i:030d}",
                        language="en",
                        started_at=at,
                        updated_at=at,
                        step="main_menu",
                    )
                    assert work.load(call.sid) is None
                    work.save(call, "incoming", None, "main_menu")
        except BaseException as exc:  # noqa: BLE001 — reported below
            failures.append(exc)

    threads = [threading.Thread(target=webhooks, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(CallEventRow)) == 4 * saves
    assert store.engine.url.database is not None
    assert lock_is_free(Path(store.engine.url.database))


def test_the_store_writes_through_the_lock(store: Store) -> None:
    raw = store.engine.raw_connection()
    try:
        assert isinstance(raw.dbapi_connection, WriteLockedConnection)
    finally:
        raw.close()
    with store.session() as session:  # an ORM write transaction takes it too
        connection = session.connection().connection.dbapi_connection
        assert isinstance(connection, WriteLockedConnection)
        assert connection.holds_write_lock
    assert not connection.holds_write_lock


def test_checkpoints_run_after_the_lock_is_released(db: Path, tmp_path: Path) -> None:
    seen: list[bool] = []

    class Watched(WriteLockedConnection):
        def _checkpoint(self) -> None:
            seen.append(lock_is_free(db))
            super()._checkpoint()

    conn = sqlite3.connect(db, timeout=0, isolation_level=None, factory=Watched)
    # SQLite's own checkpoint inside COMMIT is only a backstop on these connections.
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (AUTOCHECKPOINT_PAGES,)
    for i in range(2 * CHECKPOINT_EVERY):
        conn.begin_immediate()
        conn.execute("INSERT INTO log (writer, n) VALUES ('w', ?)", (i,))
        conn.commit()
    conn.execute("SELECT 1").fetchone()
    conn.commit()  # a commit that wrote nothing counts for nothing
    assert seen == [True, True]
    # The rows reached the database file itself, not only the WAL: a copy without it has them.
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())
    conn.close()
    assert len(rows(copy)) >= CHECKPOINT_EVERY
