"""The scheduler's jobs, defined in code, and ``run_due``: every job's due work at one instant.

Each job does work that lives in the database (rows claimed and finished in transactions), so a
run is idempotent and may come late, twice, or after a crash: it does whatever is due at ``now``.
The scheduler process runs each job on its trigger; a simulator can instead call
``run_due(context, now)`` as its virtual clock passes, sleeping in between until
``next_due(context, now)``, the earliest of the jobs' own. Housekeeping: ``wrap_up`` ends agents'
wrap-ups at their time, ``rollup`` keeps each day's figures once it is over; ``reminders``
reminds the assignee of an unanswered thread and marks it overdue at its 24 h mark;
``callbacks`` calls back the buyers who asked, when the hotline opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hotline.config.settings import Settings
from hotline.jobs import callbacks
from hotline.jobs.context import JobContext
from hotline.jobs.delivery import deliver_outbox, outbox_next_due
from hotline.jobs.reminders import reminders_due, send_reminders
from hotline.jobs.rollup import next_rollup, roll_up
from hotline.jobs.wrap_up import end_wrap_ups_due, next_wrap_up


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
    # The earliest instant at or after ``now`` when the job has work (``None``: none pending).
    next_due: Callable[[JobContext, datetime], datetime | None]


def _every_outbox_interval(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(
        seconds=settings.jobs.scheduler.outbox_every_seconds, timezone=settings.timezone
    )


def _every_callbacks_interval(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(
        seconds=settings.jobs.callbacks.every_seconds, timezone=settings.timezone
    )


def _daily_at_rollup_time(settings: Settings) -> CronTrigger:
    clock = settings.jobs.scheduler.rollup_at
    return CronTrigger(
        hour=clock.hour, minute=clock.minute, second=clock.second, timezone=settings.timezone
    )


def _every_wrap_up_interval(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(
        seconds=settings.jobs.scheduler.wrap_up_every_seconds, timezone=settings.timezone
    )


def _every_reminders_interval(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(
        seconds=settings.jobs.scheduler.reminders_every_seconds, timezone=settings.timezone
    )


# The reminders first: a reminder due at ``now`` is delivered by the same ``run_due``.
JOBS: tuple[Job, ...] = (
    Job("reminders", send_reminders, _every_reminders_interval, reminders_due),
    Job("outbox", deliver_outbox, _every_outbox_interval, outbox_next_due),
    Job("wrap_up", end_wrap_ups_due, _every_wrap_up_interval, next_wrap_up),
    Job("rollup", roll_up, _daily_at_rollup_time, next_rollup),
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


def next_due(context: JobContext, now: datetime) -> datetime | None:
    """The earliest instant at or after ``now`` when some job has work (``None``: none has)."""
    found = [due for job in JOBS if (due := job.next_due(context, now)) is not None]
    return min(found, default=None)
