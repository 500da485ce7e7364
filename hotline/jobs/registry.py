"""The scheduler's jobs, defined in code, and ``run_due``: every job's due work at one instant.

Each job does work that lives in the database (rows claimed and finished in transactions), so a
run is idempotent and may come late, twice, or after a crash: it does whatever is due at ``now``.
The scheduler process runs each job on its trigger; a simulator can instead call
``run_due(context, now)`` as its virtual clock passes, sleeping until the earliest ``next_due``
(reminders and housekeeping are to join ``JOBS`` the same way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from hotline.config.settings import Settings
from hotline.jobs import callbacks
from hotline.jobs.context import JobContext
from hotline.jobs.delivery import deliver_outbox


@dataclass(frozen=True)
class Job:
    """A job: its name, what it does at ``now``, and when the scheduler runs it."""

    name: str
    run: Callable[[JobContext, datetime], Any]
    trigger: Callable[[Settings], Any]  # an APScheduler trigger, in the operator's timezone
    # The earliest instant at or after ``now`` when the job has work (``None``: nothing pending),
    # for a simulator sleeping until the next work; ``None`` here: not told (the outbox's comes).
    next_due: Callable[[JobContext, datetime], datetime | None] | None = None


def _every_outbox_interval(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(
        seconds=settings.jobs.scheduler.outbox_every_seconds, timezone=settings.timezone
    )


def _every_callbacks_interval(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(
        seconds=settings.jobs.callbacks.every_seconds, timezone=settings.timezone
    )


JOBS: tuple[Job, ...] = (
    Job("outbox", deliver_outbox, _every_outbox_interval),
    Job("callbacks", callbacks.call_back, _every_callbacks_interval, callbacks.next_due),
)


def job_named(name: str) -> Job:
    """The job called ``name`` (``KeyError`` when there is none)."""
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(name)


def run_due(context: JobContext, now: datetime) -> dict[str, Any]:
    """Run every job's work due at ``now`` once, in order; returns each job's report by name."""
    return {job.name: job.run(context, now) for job in JOBS}
