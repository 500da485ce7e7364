"""``hotline scheduler``: stand by, lead when elected, run the jobs while leading, stop cleanly.

Every third of ``[scheduler] lease_seconds`` the process takes part in the election
(``leader``): elected, it starts APScheduler with the registry's jobs; no longer elected (its
database connection lost, its lease taken over after it froze), it stops them and stands by
again. SIGTERM and SIGINT stop it: the jobs finish the row they are on, and the lead is given
back so another scheduler takes over at its next look rather than after the lease.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from hotline.config.settings import Settings
from hotline.jobs.context import JobContext
from hotline.jobs.leader import election_for
from hotline.jobs.scheduler import build_scheduler
from hotline.store.database import Store

logger = logging.getLogger(__name__)


def run_scheduler(settings: Settings, stop: threading.Event | None = None) -> None:
    """Run until ``stop`` is set (or SIGTERM/SIGINT when run in the main thread)."""
    stop = stop or threading.Event()
    store = Store(settings.store_url)
    try:
        store.require_current_schema()
        _on_signals(stop)
        _follow_or_lead(JobContext(settings, store), stop)
    finally:
        store.engine.dispose()


def _on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("scheduler stopping (%s)", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


def _follow_or_lead(context: JobContext, stop: threading.Event) -> None:
    lease = context.settings.jobs.scheduler.lease_seconds
    election = election_for(context.store, lease)
    every = lease / 3
    scheduler: BackgroundScheduler | None = None
    was_leading: bool | None = None
    logger.info("scheduler %s started on %s", election.holder, context.store.name)
    try:
        while not stop.is_set():
            leading = election.try_lead(datetime.now(UTC))
            if leading and scheduler is None:
                logger.info("scheduler %s leads: running the jobs", election.holder)
                scheduler = build_scheduler(context)
                scheduler.start()
            elif not leading and scheduler is not None:
                logger.warning("scheduler %s lost the lead", election.holder)
                scheduler.shutdown(wait=True)
                scheduler = None
            if not leading and was_leading is not False:
                logger.info("scheduler %s stands by: another one leads", election.holder)
            was_leading = leading
            stop.wait(every)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        election.resign()
        logger.info("scheduler %s stopped", election.holder)
