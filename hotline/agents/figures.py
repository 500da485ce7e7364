"""The queue figures for the API, the ``hotline metrics queue`` command and the console: read
from the store (a pruned day from its roll-up), computed by the rules, and shaped as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from hotline.config.settings import Settings
from hotline.rules.local_periods import Period
from hotline.rules.queue_figures import PeriodFigures, QueueFigures, QueueReport, queue_report
from hotline.rules.queue_rollup import rollup_from_json, with_rollups
from hotline.store import daily_figures
from hotline.store import queue_figures as records
from hotline.store.database import Store


def read_report(store: Store, settings: Settings, start: datetime, end: datetime) -> QueueReport:
    """The figures of ``settings.queue`` over ``[start, end)``, per day and hour of
    ``settings.timezone``, the service level at ``settings.service_level_seconds``; the days
    whose rows were pruned (``hotline prune``) as their roll-up kept them."""
    tz = settings.timezone
    # Read-only, outside any write lock (as the agents' API reads the queue).
    with store.engine.execution_options(hotline_read_only=True).connect() as conn:
        report = read_live_report(conn, settings, start, end)
        first, last = report.start.date(), report.end.date()
        kept = daily_figures.pruned(conn, daily_figures.QUEUE, settings.queue, first, last)
    return with_rollups(report, {day: rollup_from_json(data, tz) for day, data in kept.items()})


def read_live_report(
    conn: Connection, settings: Settings, start: datetime, end: datetime
) -> QueueReport:
    """The figures over ``[start, end)`` from the rows alone (what a roll-up keeps)."""
    calls = records.queued_calls(conn, settings.queue, start, end)
    transfers = records.transfers_made(conn, start, end)
    return queue_report(
        calls, transfers, start, end, settings.timezone, settings.service_level_seconds
    )


def report_as_dict(report: QueueReport, queue: str) -> dict[str, Any]:
    """The report as ``GET /api/metrics/queue`` answers it (the README shows the shape)."""
    return {
        "queue": queue,
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "timezone": str(report.start.tzinfo),
        "service_level_seconds": report.service_level_seconds,
        "total": figures_as_dict(report.total),
        "days": [_period_as_dict(p) for p in report.days],
        "hours": [_period_as_dict(p) for p in report.hours],
    }


def figures_as_dict(figures: QueueFigures) -> dict[str, Any]:
    """One period's figures: counts, rates as fractions (0.8 = 80 %), times in seconds."""
    return {
        "offered": figures.offered,
        "answered": figures.answered,
        "abandoned": figures.abandoned,
        "left_otherwise": figures.left_otherwise,
        "waiting": figures.waiting,
        "answered_in_service_level": figures.answered_in_service_level,
        "service_level": _rounded(figures.service_level, 4),
        "abandonment_rate": _rounded(figures.abandonment_rate, 4),
        "average_speed_of_answer_seconds": _rounded(figures.average_speed_of_answer, 1),
        "handled": figures.handled,
        "average_handle_time_seconds": _rounded(figures.average_handle_time, 1),
        "transfers": {
            t.kind: {
                "made": t.made,
                "with_outcome": t.decided,
                "succeeded": t.succeeded,
                "success_rate": _rounded(t.success_rate, 4),
                "outcomes": t.outcomes,
            }
            for t in figures.transfers
        },
    }


def _period_as_dict(item: PeriodFigures) -> dict[str, Any]:
    return {**_period(item.period), **figures_as_dict(item.figures)}


def _period(period: Period) -> dict[str, Any]:
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "hours": round(period.seconds / 3600, 2),
    }


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
