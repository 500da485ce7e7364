"""APScheduler (3.x) built from the registry: one background scheduler, the leader's only.

Job defaults: ``coalesce`` (runs missed while the process was busy or asleep become one run),
``max_instances=1`` (a job never overlaps itself), and ``misfire_grace_time=None``: APScheduler
3 then runs a late job however late it is, where its default of one second would drop the run
with only a warning. Being late costs nothing here: each run does what is due at its own ``now``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from hotline.jobs.context import JobContext
from hotline.jobs.registry import JOBS, Job

logger = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def build_scheduler(context: JobContext) -> BackgroundScheduler:
    """A scheduler (not started) running each registered job on its trigger, first at once."""
    scheduler = BackgroundScheduler(
        timezone=context.settings.timezone,
        job_defaults=JOB_DEFAULTS,
        executors={"default": ThreadPoolExecutor(max_workers=max(2, len(JOBS)))},
    )
    for job in JOBS:
        scheduler.add_job(
            run_job,
            trigger=job.trigger(context.settings),
            args=(job, context),
            id=job.name,
            name=job.name,
            next_run_time=datetime.now(context.settings.timezone),
        )
    return scheduler


def run_job(job: Job, context: JobContext) -> None:
    """Run ``job`` at the wall clock's now; an error is logged and the next run tries again."""
    try:
        job.run(context, datetime.now(UTC))
    except Exception:  # noqa: BLE001 — a job's failure must not stop the scheduler
        logger.exception("job %s failed; its due work stays for the next run", job.name)
