"""The daily roll-up (the job ``rollup``): each local day's queue and sales-quality figures,
kept once the day is over so that they outlive the rows they are made of (``hotline prune``).

A day is rolled up at ``[scheduler] rollup_at`` (00:10 by default) of the day after, in the
operator's timezone, exact across DST: the minutes after midnight let the last callbacks of
the day's calls come in. Days missed while no scheduler ran are caught up, oldest first, from
the day after the latest roll-up (none yet: from the day of the first thing recorded). Each day
is written in one transaction, once: a second run, or two at once, finds the rows there.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from hotline.agents.figures import read_live_report
from hotline.config.settings import Settings
from hotline.jobs.context import JobContext
from hotline.messages.quality import quality_report
from hotline.rules.local_periods import day_start, local_time_on
from hotline.rules.queue_rollup import rollup_as_json
from hotline.rules.sales_quality import Window
from hotline.store import daily_figures
from hotline.store.daily_figures import QUEUE, SALES_QUALITY, WAREHOUSE, seller_subject

logger = logging.getLogger(__name__)


@dataclass
class RollupReport:
    """What one run did: the days rolled up (ISO dates), the rows written."""

    days: list[str] = field(default_factory=list)
    rows: int = 0


def roll_up(context: JobContext, now: datetime) -> RollupReport:
    """Roll up every day whose roll-up time has passed at ``now`` and has none yet."""
    report = RollupReport()
    settings, store = context.settings, context.store
    with store.engine.connect() as conn:
        first = first_pending_day(conn, settings.timezone)
    if first is None:
        return report
    last = last_due_day(settings, now)
    day = first
    while day <= last:
        written = roll_up_day(context, day, now)
        if written:
            report.days.append(day.isoformat())
            report.rows += written
            logger.info("rolled up %s: %s rows of figures", day.isoformat(), written)
        day += timedelta(days=1)
    return report


def next_rollup(context: JobContext, now: datetime) -> datetime | None:
    """When the roll-up next has a day to do (``now`` when one is due already; ``None``:
    nothing was ever recorded)."""
    settings = context.settings
    with context.store.engine.connect() as conn:
        first = first_pending_day(conn, settings.timezone)
    if first is None:
        return None
    return max(now, rollup_time(settings, first))


def rollup_time(settings: Settings, day: date) -> datetime:
    """When ``day`` is rolled up: ``rollup_at`` on the day after, local time."""
    clock = settings.jobs.scheduler.rollup_at
    return local_time_on(day + timedelta(days=1), clock, settings.timezone).astimezone(UTC)


def last_due_day(settings: Settings, now: datetime) -> date:
    """The latest day whose roll-up time is at or before ``now``."""
    today = now.astimezone(settings.timezone).date()
    yesterday = today - timedelta(days=1)
    if rollup_time(settings, yesterday) <= now:
        return yesterday
    return yesterday - timedelta(days=1)


def first_pending_day(conn: Connection, tz: tzinfo) -> date | None:
    """The first day without a roll-up: the day after the latest one, or (none yet) the day of
    the first thing recorded; ``None`` when nothing ever was."""
    latest = daily_figures.latest_day(conn, QUEUE)
    if latest is not None:
        return latest + timedelta(days=1)
    earliest = daily_figures.earliest_record(conn)
    return None if earliest is None else earliest.astimezone(tz).date()


def roll_up_day(context: JobContext, day: date, now: datetime) -> int:
    """Compute and store ``day``'s figures in one transaction; the rows written (0: they were
    there already)."""
    settings = context.settings
    tz = settings.timezone
    start, end = day_start(day, tz), day_start(day + timedelta(days=1), tz)
    with context.store.engine.begin() as conn:
        queue = rollup_as_json(read_live_report(conn, settings, start, end))
        figures = {(QUEUE, settings.queue): queue}
        with Session(bind=conn) as session:
            quality = quality_report(
                session,
                [s.id for s in settings.sellers],
                Window(start, end),
                now,
                settings.routing.response_hours,
                warehouse=True,
            )
        for seller, seller_figures in quality.sellers.items():
            figures[(SALES_QUALITY, seller_subject(seller))] = asdict(seller_figures)
        if quality.warehouse is not None:
            figures[(SALES_QUALITY, WAREHOUSE)] = asdict(quality.warehouse)
        written = 0
        for (kind, subject), shown in figures.items():
            written += daily_figures.insert_once(conn, day, kind, subject, shown, now)
        return written
