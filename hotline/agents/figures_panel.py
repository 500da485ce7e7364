"""The console's panel of today's queue figures: the texts it shows, made from the JSON
``GET /api/metrics/queue`` answers, so the first view and console.js's refreshes (which format
the same JSON the same way) never differ."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from hotline.agents.figures import figures_as_dict, read_report
from hotline.config.settings import Settings
from hotline.rules.local_periods import parse_span
from hotline.store.database import Store

NONE_YET = "—"  # a rate or an average with nothing to measure yet


def duration_text(seconds: float) -> str:
    """A wait as an agent reads it: ``0 min 05 s``, ``12 min 40 s``, from an hour ``1 h 39 min``."""
    # Whole seconds, cut down (as a clock shows them), the same in console.js.
    whole = max(0, math.floor(seconds))
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def panel_texts(total: dict[str, Any]) -> dict[str, str]:
    """The panel's texts from a period's figures as the API shapes them (``figures_as_dict``)."""
    level = total["service_level"]
    speed = total["average_speed_of_answer_seconds"]
    kinds = total["transfers"]
    made = sum(kind["made"] for kind in kinds.values())
    by_kind = ", ".join(f"{name} {kind['made']}" for name, kind in kinds.items() if kind["made"])
    return {
        "offered": str(total["offered"]),
        "answered": str(total["answered"]),
        "abandoned": str(total["abandoned"]),
        "service_level": NONE_YET if level is None else f"{_percent(level)} %",
        "average_speed_of_answer": NONE_YET if speed is None else duration_text(speed),
        "transfers": f"{made} ({by_kind})" if by_kind else str(made),
    }


def todays_panel(store: Store, settings: Settings, now: datetime) -> dict[str, str]:
    """The panel's texts for the operator's local day of ``now``, up to its end."""
    today = now.astimezone(settings.timezone).date()
    start, end = parse_span(None, None, settings.timezone, today)
    return panel_texts(figures_as_dict(read_report(store, settings, start, end).total))


def _percent(share: float) -> int:
    # Halves up, as console.js's Math.round (Python's round() would take 12.5 down to 12).
    return math.floor(share * 100 + 0.5)
