"""The scheduler's jobs, defined in code, and ``run_due``: every job's due work at one instant.

Each job does work that lives in the database (rows claimed and finished in transactions), so a
run is idempotent and may come late, twice, or after a crash: it does whatever is due at ``now``.
The scheduler process runs each job on its trigger; a simulator can instead call
``run_due(context, now)`` as its virtual clock passes (reminders, callbacks and housekeeping are
to join ``JOBS`` the same way), sleeping in between until ``next_due(context, now)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from hotline.config.settings import Settings
from hotline.jobs.context import JobContext
from hotline.jobs.delivery import deliver_outbox, outbox_next_due


@dataclass(frozen=True)
class Job:
    """A job: its name, what it does at ``now``, when the scheduler runs it, and when it next
    has work.

    ``next_due(context, now)``: the earliest instant at or after ``now`` when ``run`` would find
    work (``now`` itself when some is due already), ``None`` when nothing is pending. The
    scheduler process does not need it (it runs each job on its trigger); the simulator sleeps
    its virtual clock until the earliest of them.
    """

    name: str
    run: Callable[[JobContext, datetime], Any]
    trigger: Callable[[Settings], Any]  # an APScheduler trigger, in the operator's timezone
    next_due: Callable[[JobContext, datetime], datetime | None]


def _every_outbox_interval(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(
        seconds=settings.jobs.scheduler.outbox_every_seconds, timezone=settings.timezone
    )


JOBS: tuple[Job, ...] = (Job("outbox", deliver_outbox, _every_outbox_interval, outbox_next_due),)


def job_named(name: str) -> Job:
    """The job called ``name`` (``KeyError`` when there is none)."""
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(name)


def run_due(context: JobContext, now: datetime) -> dict[str, Any]:
    """Run every job's work due at ``now`` once, in order; returns each job's report by name."""
    return {job.name: job.run(context, now) for job in JOBS}


def next_due(context: JobContext, now: datetime) -> datetime | None:
    """The earliest instant at or after ``now`` when some job has work (``None``: none has)."""
    found = [due for job in JOBS if (due := job.next_due(context, now)) is not None]
    return min(found, default=None)
