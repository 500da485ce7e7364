"""Each thread's kept SQLite connection for the webhooks: reused from one webhook to the next, its
own per thread and per process, checked against the database file before each use, left with no
open transaction, and closed with its thread or the engine."""

from __future__ import annotations

import gc
import sqlite3
import threading
from pathlib import Path

import pytest

from hotline.errors import StoreError
from hotline.store.callstore import CallWork
from hotline.store.database import Store
from hotline.store.kept_connection import KeptConnections


def _kept(store: Store) -> KeptConnections:
    assert store.kept is not None, "a SQLite file store keeps connections"
    return store.kept


def _in_thread(store: Store) -> sqlite3.Connection:
    found: list[sqlite3.Connection] = []
    worker = threading.Thread(target=lambda: found.append(_kept(store).take()))
    worker.start()
    worker.join()
    return found[0]


def test_a_thread_keeps_one_connection_for_all_its_webhooks(store: Store) -> None:
    first = _kept(store).take()
    with CallWork(store) as work:
        assert work.load("CA-none") is None
    assert _kept(store).take() is first


def test_each_thread_has_its_own_and_it_closes_when_the_thread_ends(store: Store) -> None:
    other = _in_thread(store)
    assert other is not _kept(store).take()
    gc.collect()  # the ended thread's locals are gone: its connection is closed
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        other.execute("SELECT 1")


def test_disposing_the_engine_closes_them_and_work_goes_on(store: Store) -> None:
    before = _kept(store).take()
    store.engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        before.execute("SELECT 1")
    after = _kept(store).take()
    assert after is not before
    assert after.execute("SELECT 1").fetchone() == (1,)


def test_a_transaction_left_open_is_rolled_back_when_given_back(store: Store) -> None:
    connection = _kept(store).take()
    connection.execute("BEGIN IMMEDIATE")
    KeptConnections.give_back(connection)
    assert not connection.in_transaction
    # The write lock is free: another connection can write at once.
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM call_events")


def test_the_file_is_checked_before_each_use(store: Store, db_path: Path) -> None:
    _kept(store).take()
    db_path.rename(db_path.with_suffix(".moved"))
    with pytest.raises(StoreError, match="was deleted"):
        _kept(store).take()


def test_a_forked_child_never_uses_its_parents_connection(store: Store) -> None:
    kept = _kept(store)
    parent = kept.take()
    # As a forked child finds it: the forking thread's connection, made in another process.
    kept._local.kept.pid = -1  # noqa: SLF001 — stands in for os.fork in a test process
    child = kept.take()
    assert child is not parent
    assert parent.execute("SELECT 1").fetchone() == (1,)  # left open: the parent's to close


def test_postgresql_stores_keep_no_connection(postgres_store: Store) -> None:
    assert postgres_store.kept is None
