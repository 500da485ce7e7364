"""The scheduler's jobs, defined in code, and ``run_due``: every job's due work at one instant.

Each job does work that lives in the database (rows claimed and finished in transactions), so a
run is idempotent and may come late, twice, or after a crash: it does whatever is due at ``now``.
The scheduler process runs each job on its trigger; a simulator can instead call
``run_due(context, now)`` as its virtual clock passes (callbacks and housekeeping are to join
``JOBS`` the same way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from hotline.config.settings import Settings
from hotline.jobs.context import JobContext
from hotline.jobs.delivery import deliver_outbox
from hotline.jobs.reminders import reminders_due, send_reminders


@dataclass(frozen=True)
class Job:
    """A job: its name, what it does at ``now``, and when the scheduler runs it."""

    name: str
    run: Callable[[JobContext, datetime], Any]
    trigger: Callable[[Settings], Any]  # an APScheduler trigger, in the operator's timezone
    # The earliest instant at or after now when the job has work (None: nothing pending).
    next_due: Callable[[JobContext, datetime], datetime | None] | None = None


def _every_outbox_interval(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(
        seconds=settings.jobs.scheduler.outbox_every_seconds, timezone=settings.timezone
    )


def _every_reminders_interval(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(
        seconds=settings.jobs.scheduler.reminders_every_seconds, timezone=settings.timezone
    )


# The reminders first: a reminder due at ``now`` is delivered by the same ``run_due``.
JOBS: tuple[Job, ...] = (
    Job("reminders", send_reminders, _every_reminders_interval, reminders_due),
    Job("outbox", deliver_outbox, _every_outbox_interval),
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
