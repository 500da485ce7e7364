"""The console's panel of today's queue figures: the texts it shows, made from the JSON
``GET /api/metrics/queue`` answers for the operator's local day (the same report, never a second
computation) — the day's figures, the transfers by kind with their success rate, and the hours
with calls. The server renders the panel; console.js fetches it again on every poll."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.agents.figures import read_report, report_as_dict
from hotline.config.settings import Settings
from hotline.rules.local_periods import parse_span
from hotline.store.database import Store

NONE_YET = "—"  # a rate or an average with nothing to measure yet
# The figures of a period, in the order the panel shows them (the per-hour table's columns too).
FIGURES = (
    "offered",
    "answered",
    "abandoned",
    "abandonment_rate",
    "service_level",
    "average_speed_of_answer",
    "average_handle_time",
    "transfers",
)


@dataclass(frozen=True)
class TransferRow:
    """One kind of transfer today: made, with an outcome, succeeded, the success rate."""

    kind: str
    made: str
    with_outcome: str
    succeeded: str
    success_rate: str


@dataclass(frozen=True)
class HourRow:
    """One local hour with calls or transfers: its span and its figures' texts."""

    start: str  # ISO 8601 with the offset (the two 02:00 hours of the night the clocks go back)
    label: str  # ``10:00–11:00``
    texts: dict[str, str]


@dataclass(frozen=True)
class Panel:
    """What the panel shows: the day's texts, the transfers by kind, the hours with calls."""

    total: dict[str, str]
    transfers: tuple[TransferRow, ...]
    hours: tuple[HourRow, ...]


def duration_text(seconds: float) -> str:
    """A wait as an agent reads it: ``0 min 05 s``, ``12 min 40 s``, from an hour ``1 h 39 min``."""
    # Whole seconds, cut down (as a clock shows them), the same in console.js.
    whole = max(0, math.floor(seconds))
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def panel_texts(figures: dict[str, Any]) -> dict[str, str]:
    """A period's texts (``FIGURES``) from its figures as the API shapes them
    (``figures_as_dict``)."""
    kinds = figures["transfers"]
    made = sum(kind["made"] for kind in kinds.values())
    by_kind = ", ".join(f"{name} {kind['made']}" for name, kind in kinds.items() if kind["made"])
    return {
        "offered": str(figures["offered"]),
        "answered": str(figures["answered"]),
        "abandoned": str(figures["abandoned"]),
        "abandonment_rate": _share(figures["abandonment_rate"]),
        "service_level": _share(figures["service_level"]),
        "average_speed_of_answer": _duration(figures["average_speed_of_answer_seconds"]),
        "average_handle_time": _duration(figures["average_handle_time_seconds"]),
        "transfers": f"{made} ({by_kind})" if by_kind else str(made),
    }


def panel_of(report: dict[str, Any]) -> Panel:
    """The panel from a report as ``GET /api/metrics/queue`` answers it (``report_as_dict``)."""
    total = report["total"]
    transfers = tuple(
        TransferRow(
            kind=name,
            made=str(kind["made"]),
            with_outcome=str(kind["with_outcome"]),
            succeeded=str(kind["succeeded"]),
            success_rate=_share(kind["success_rate"]),
        )
        for name, kind in total["transfers"].items()
    )
    # The night the clocks go back has two 02:00 hours: their offsets tell them apart.
    starts = Counter(f"{datetime.fromisoformat(hour['start']):%H:%M}" for hour in report["hours"])
    hours = tuple(
        HourRow(start=hour["start"], label=_hour_label(hour, starts), texts=panel_texts(hour))
        for hour in report["hours"]
        if hour["offered"] or any(kind["made"] for kind in hour["transfers"].values())
    )
    return Panel(panel_texts(total), transfers, hours)


def todays_panel(store: Store, settings: Settings, now: datetime) -> Panel:
    """The panel for the operator's local day of ``now``, up to its end."""
    today = now.astimezone(settings.timezone).date()
    start, end = parse_span(None, None, settings.timezone, today)
    return panel_of(report_as_dict(read_report(store, settings, start, end), settings.queue))


def _hour_label(hour: dict[str, Any], starts: Counter[str]) -> str:
    start, end = datetime.fromisoformat(hour["start"]), datetime.fromisoformat(hour["end"])
    label = f"{start:%H:%M}–{end:%H:%M}"
    return f"{label} (UTC{hour['start'][-6:]})" if starts[f"{start:%H:%M}"] > 1 else label


def _share(share: float | None) -> str:
    # Halves up (Python's round() would take 12.5 down to 12).
    return NONE_YET if share is None else f"{math.floor(share * 100 + 0.5)} %"


def _duration(seconds: float | None) -> str:
    return NONE_YET if seconds is None else duration_text(seconds)
