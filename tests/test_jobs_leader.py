"""The scheduler's election: in process (two elections on one store), then two real
``hotline scheduler`` processes on one SQLite file and on PostgreSQL: one leads, the other takes
over when the leader is killed with SIGKILL. Waits poll the store up to a generous deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.jobs.leader import (
    AdvisoryLockElection,
    LeaseElection,
    current_holder,
    election_for,
)
from hotline.store.database import Store
from tests.conftest import ROOT, postgres_database

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
DEADLINE = 120.0  # seconds: a generous bound for a busy machine, never a timing assertion


def test_sqlite_one_lease_holder_renews_the_other_takes_over_when_it_lapses(
    store: Store,
) -> None:
    first = LeaseElection(store, 30, "first")
    second = LeaseElection(store, 30, "second")
    assert first.try_lead(NOW)
    assert not second.try_lead(NOW)
    assert first.try_lead(NOW + timedelta(seconds=10))  # renewed: lasts to +30 s now
    assert not second.try_lead(NOW + timedelta(seconds=29))
    assert second.try_lead(NOW + timedelta(seconds=30))  # the first stopped renewing
    assert not first.try_lead(NOW + timedelta(seconds=31))  # and finds itself replaced
    assert current_holder(store) == ("second", NOW + timedelta(seconds=50))


def test_sqlite_a_resigning_leader_frees_the_lease_at_once(store: Store) -> None:
    first, second = LeaseElection(store, 30, "first"), LeaseElection(store, 30, "second")
    assert first.try_lead(NOW)
    first.resign()
    assert current_holder(store) is None
    assert second.try_lead(NOW + timedelta(seconds=1))


@pytest.fixture
def pg_store() -> Iterator[Store]:
    for url in postgres_database():
        from hotline.store.database import upgrade_schema

        upgrade_schema(url)
        the_store = Store(url)
        try:
            yield the_store
        finally:
            the_store.engine.dispose()


def test_postgresql_the_advisory_lock_decides_and_goes_with_its_connection(
    pg_store: Store,
) -> None:
    first = election_for(pg_store, 30, "first")
    second = election_for(pg_store, 30, "second")
    assert isinstance(first, AdvisoryLockElection)
    try:
        assert first.try_lead(NOW)
        assert not second.try_lead(NOW)
        assert first.try_lead(NOW)  # still held: its connection answers
        assert current_holder(pg_store) == ("first", NOW + timedelta(seconds=30))
        first._drop()  # the connection gone, as when the process dies: the server lets go
        assert second.try_lead(NOW + timedelta(seconds=1))
        assert current_holder(pg_store) == ("second", NOW + timedelta(seconds=31))
        assert not first.try_lead(NOW + timedelta(seconds=2))
    finally:
        first.resign()
        second.resign()
    assert current_holder(pg_store) is None


def _config_file(tmp_path: Path) -> Path:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace("lease_seconds = 30", "lease_seconds = 6")
    text = text.replace('flows_dir = "flows"', f'flows_dir = "{ROOT / "flows"}"')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _start(config: Path, url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HOTLINE_DATABASE_URL": url}
    env.pop("HOTLINE_CONFIG", None)
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "hotline"), "--config", str(config), "scheduler"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=config.parent,
        )


def _wait_for(what: str, check: Callable[[], object]) -> object:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"still not {what} after {DEADLINE} s")


def _pid_of(holder: str) -> int:
    return int(holder.split(":")[1])


def _two_schedulers_one_leads_then_the_other(store: Store, tmp_path: Path) -> None:
    config = _config_file(tmp_path)
    logs = [tmp_path / "one.log", tmp_path / "two.log"]
    procs = [_start(config, store.url, log) for log in logs]
    try:
        holder = _wait_for("led", lambda: current_holder(store))
        assert isinstance(holder, tuple)
        leader = next(p for p in procs if p.pid == _pid_of(holder[0]))
        other = next(p for p in procs if p is not leader)
        leader_log, other_log = logs[procs.index(leader)], logs[procs.index(other)]
        _wait_for("standing by", lambda: " stands by: another one leads" in other_log.read_text())
        assert " leads: running the jobs" in leader_log.read_text()
        assert " leads: " not in other_log.read_text()
        leader.send_signal(signal.SIGKILL)
        leader.wait()
        taken = _wait_for(
            "taken over",
            lambda: (h := current_holder(store)) is not None and _pid_of(h[0]) == other.pid,
        )
        assert taken
        assert " leads: running the jobs" in other_log.read_text()
        other.send_signal(signal.SIGTERM)  # stops cleanly, giving the lead back
        assert other.wait(timeout=DEADLINE) == 0
        assert current_holder(store) is None
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_two_scheduler_processes_on_one_sqlite_file(store: Store, tmp_path: Path) -> None:
    _two_schedulers_one_leads_then_the_other(store, tmp_path)


def test_two_scheduler_processes_on_postgresql(pg_store: Store, tmp_path: Path) -> None:
    _two_schedulers_one_leads_then_the_other(pg_store, tmp_path)
