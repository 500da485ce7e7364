"""The scheduler process in this process: APScheduler's defaults, the registry, run_due, and
a leader that delivers the outbox on its own (polled in the store, up to a generous deadline).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hotline.config.settings import Settings, load_settings
from hotline.jobs.context import JobContext
from hotline.jobs.process import run_scheduler
from hotline.jobs.registry import JOBS, Job, job_named, run_due
from hotline.jobs.scheduler import build_scheduler, run_job
from hotline.store import outbox
from hotline.store.database import Store, sync_directory
from tests.conftest import shipped_config
from tests.jobs_fixtures import open_call_thread

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _settings(store: Store, tmp_path: Path) -> Settings:
    data = shipped_config()
    data["store"]["url"] = store.url
    data["mail"] = {"folder": str(tmp_path / "mail")}
    data["sms"] = {"from": ""}  # no SMS: the buyer's row is skipped, not sent anywhere
    data["scheduler"] = {"lease_seconds": 6, "outbox_every_seconds": 1}
    data["callbacks"] = {"every_seconds": 7}
    settings = load_settings(data)
    sync_directory(store, settings)
    return settings


def test_jobs_coalesce_never_overlap_and_run_however_late(store: Store, tmp_path: Path) -> None:
    settings = _settings(store, tmp_path)
    scheduler = build_scheduler(JobContext(settings, store))
    scheduler.start(paused=True)  # the defaults apply as the jobs are added to the store
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown()
    assert sorted(jobs) == ["callbacks", "outbox", "reminders", "rollup", "wrap_up"]
    for job in jobs.values():
        assert (job.coalesce, job.max_instances) == (True, 1)
        assert job.misfire_grace_time is None  # a late run is run, not dropped
    assert jobs["reminders"].trigger.interval.total_seconds() == 60
    job = jobs["outbox"]
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval.total_seconds() == 1
    assert isinstance(jobs["wrap_up"].trigger, IntervalTrigger)
    assert jobs["wrap_up"].trigger.interval.total_seconds() == 15
    rollup = jobs["rollup"].trigger
    assert isinstance(rollup, CronTrigger)
    # 00:10 local every day, DST-exact: the night clocks go back, 00:10 CEST is 22:10 UTC.
    fire = rollup.get_next_fire_time(None, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert fire is not None and fire.astimezone(UTC) == datetime(2026, 10, 24, 22, 10, tzinfo=UTC)
    fire = rollup.get_next_fire_time(None, datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    assert fire is not None and fire.astimezone(UTC) == datetime(2026, 10, 25, 23, 10, tzinfo=UTC)
    assert jobs["callbacks"].trigger.interval.total_seconds() == 7
    assert str(scheduler.timezone) == "Europe/Warsaw"


def test_run_due_runs_every_registered_job_at_the_given_instant(
    store: Store, tmp_path: Path
) -> None:
    settings = _settings(store, tmp_path)
    open_call_thread(store, NOW)
    reports = run_due(JobContext(settings, store), NOW)
    jobs = ["reminders", "outbox", "wrap_up", "rollup", "callbacks"]
    assert list(reports) == [job.name for job in JOBS] == jobs
    # Nothing else is due: no agent in wrap-up, and the first day recorded is not over yet.
    assert reports["wrap_up"].ended == [] and reports["rollup"].days == []
    assert (reports["outbox"].sent, reports["outbox"].skipped) == ([1], [2])
    assert job_named("outbox") is JOBS[1]
    with pytest.raises(KeyError):
        job_named("no-such-job")


def test_a_failing_job_is_logged_and_the_scheduler_goes_on(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_context: JobContext, _now: datetime) -> None:
        raise RuntimeError("boom")

    job = Job("broken", broken, lambda s: IntervalTrigger(seconds=1), lambda c, n: None)
    with caplog.at_level(logging.ERROR):
        run_job(job, JobContext(_settings(store, tmp_path), store))
    assert "job broken failed; its due work stays for the next run" in caplog.text


def test_the_leader_delivers_the_outbox_on_its_own(store: Store, tmp_path: Path) -> None:
    settings = _settings(store, tmp_path)
    open_call_thread(store, datetime.now(UTC))
    stop = threading.Event()
    runner = threading.Thread(target=run_scheduler, args=(settings, stop))
    runner.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and outbox.rows(store, "pending"):
            time.sleep(0.1)
        assert [r.status for r in reversed(outbox.rows(store))] == ["sent", "skipped"]
        assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    finally:
        stop.set()
        runner.join()
