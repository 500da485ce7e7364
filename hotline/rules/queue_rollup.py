"""A day's queue figures kept as a roll-up, and a report whose pruned days are read from it: pure.

A roll-up holds the day's figures and each local hour's as their sums (counts, seconds summed,
transfers' outcomes counted), never as rates or averages, so figures of several days or hours
add up exactly as the figures of their calls would (``combine``), and the rates and averages
follow from the sums as they do for live figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from hotline.rules.local_periods import Period
from hotline.rules.queue_figures import (
    TRANSFER_KINDS,
    PeriodFigures,
    QueueFigures,
    QueueReport,
    TransferFigures,
)

_COUNTS = (
    "offered",
    "answered",
    "abandoned",
    "left_otherwise",
    "waiting",
    "answered_in_service_level",
    "handled",
)
_SUMS = ("speed_of_answer_seconds", "handle_seconds")


@dataclass(frozen=True)
class DayRollup:
    """One local day's queue figures as rolled up: the day's and each of its hours'."""

    day: PeriodFigures
    hours: tuple[PeriodFigures, ...]


def rollup_as_json(report: QueueReport) -> dict[str, Any]:
    """The roll-up of a report of one whole local day (its figures and its hours') as JSON."""
    (day,) = report.days
    return {
        "service_level_seconds": report.service_level_seconds,
        "day": _period_json(day),
        "hours": [_period_json(hour) for hour in report.hours],
    }


def rollup_from_json(data: Mapping[str, Any], tz: tzinfo) -> DayRollup:
    """A stored roll-up read back (times shown in ``tz``)."""
    return DayRollup(
        day=_period_from_json(data["day"], tz),
        hours=tuple(_period_from_json(hour, tz) for hour in data["hours"]),
    )


def figures_as_json(figures: QueueFigures) -> dict[str, Any]:
    """The figures' sums as JSON (``figures_from_json`` reads them back unchanged)."""
    shown: dict[str, Any] = {name: getattr(figures, name) for name in _COUNTS + _SUMS}
    shown["transfers"] = [
        {
            "kind": t.kind,
            "made": t.made,
            "decided": t.decided,
            "succeeded": t.succeeded,
            "outcomes": dict(t.outcomes),
        }
        for t in figures.transfers
    ]
    return shown


def figures_from_json(data: Mapping[str, Any]) -> QueueFigures:
    """Figures stored by ``figures_as_json``."""
    return _figures(
        {name: int(data[name]) for name in _COUNTS},
        {name: float(data[name]) for name in _SUMS},
        tuple(
            TransferFigures(
                kind=t["kind"],
                made=int(t["made"]),
                decided=int(t["decided"]),
                succeeded=int(t["succeeded"]),
                outcomes={k: int(n) for k, n in t["outcomes"].items()},
            )
            for t in data["transfers"]
        ),
    )


def combine(parts: Iterable[QueueFigures]) -> QueueFigures:
    """The figures of several periods together: every count and sum added up."""
    parts = list(parts)
    counts = {name: sum(getattr(p, name) for p in parts) for name in _COUNTS}
    sums: dict[str, float] = {name: sum((getattr(p, name) for p in parts), 0.0) for name in _SUMS}
    by_kind: dict[str, list[TransferFigures]] = {kind: [] for kind in TRANSFER_KINDS}
    for part in parts:
        for transfer in part.transfers:
            by_kind.setdefault(transfer.kind, []).append(transfer)
    transfers = []
    for kind, figures in by_kind.items():
        outcomes: Counter[str] = Counter()
        for t in figures:
            outcomes.update(t.outcomes)
        transfers.append(
            TransferFigures(
                kind=kind,
                made=sum(t.made for t in figures),
                decided=sum(t.decided for t in figures),
                succeeded=sum(t.succeeded for t in figures),
                outcomes=dict(sorted(outcomes.items())),
            )
        )
    return _figures(counts, sums, tuple(transfers))


def _figures(
    counts: Mapping[str, int], sums: Mapping[str, float], transfers: tuple[TransferFigures, ...]
) -> QueueFigures:
    return QueueFigures(
        offered=counts["offered"],
        answered=counts["answered"],
        abandoned=counts["abandoned"],
        left_otherwise=counts["left_otherwise"],
        waiting=counts["waiting"],
        answered_in_service_level=counts["answered_in_service_level"],
        speed_of_answer_seconds=sums["speed_of_answer_seconds"],
        handled=counts["handled"],
        handle_seconds=sums["handle_seconds"],
        transfers=transfers,
    )


def with_rollups(report: QueueReport, rollups: Mapping[date, DayRollup]) -> QueueReport:
    """``report`` with the days in ``rollups`` (those whose rows were pruned) read from them.

    A whole day takes its rolled-up figures and hours. A day the span only partly covers
    takes the rolled-up hours that lie wholly inside the span; an hour cut by the span's start
    or end counts what is left of its rows. The total is the days' figures added up.
    """
    if not rollups:
        return report
    days: list[PeriodFigures] = []
    hours: list[PeriodFigures] = []
    for live in report.days:
        rolled = rollups.get(live.period.start.date())
        if rolled is None:
            days.append(live)
            hours.extend(h for h in report.hours if _inside(h.period, live.period))
            continue
        if _same(live.period, rolled.day.period):
            days.append(PeriodFigures(live.period, rolled.day.figures))
            hours.extend(rolled.hours)
            continue
        kept = [h for h in rolled.hours if _inside(h.period, live.period)]
        starts = {h.period.start_utc for h in kept}
        # An hour cut by the span's start or end keeps what is left of its rows.
        cut = [
            h
            for h in report.hours
            if _inside(h.period, live.period) and h.period.start_utc not in starts
        ]
        days.append(PeriodFigures(live.period, combine(h.figures for h in kept + cut)))
        hours.extend(kept + cut)
    hours.sort(key=lambda h: h.period.start_utc)
    return QueueReport(
        start=report.start,
        end=report.end,
        service_level_seconds=report.service_level_seconds,
        total=combine(d.figures for d in days),
        days=tuple(days),
        hours=tuple(hours),
    )


def _inside(inner: Period, outer: Period) -> bool:
    return outer.start_utc <= inner.start_utc and inner.end_utc <= outer.end_utc


def _same(a: Period, b: Period) -> bool:
    return a.start_utc == b.start_utc and a.end_utc == b.end_utc


def _period_json(item: PeriodFigures) -> dict[str, Any]:
    return {
        "start": item.period.start_utc.isoformat(),
        "end": item.period.end_utc.isoformat(),
        **figures_as_json(item.figures),
    }


def _period_from_json(data: Mapping[str, Any], tz: tzinfo) -> PeriodFigures:
    period = Period(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"]), tz)
    return PeriodFigures(period, figures_from_json(data))
