"""The console's panel of today's queue figures: waits in minutes and seconds, from an hour on
in hours and minutes; the texts made from the API's JSON."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.agents.figures_panel import NONE_YET, duration_text, panel_texts


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 min 00 s"),
        (5, "0 min 05 s"),
        (12.4, "0 min 12 s"),
        (12.9, "0 min 12 s"),  # cut down, as a clock shows it
        (90, "1 min 30 s"),
        (3599, "59 min 59 s"),
        (3600, "1 h 0 min"),
        (5942, "1 h 39 min"),
        (3 * 3600 + 59 * 60 + 59, "3 h 59 min"),
        (-1, "0 min 00 s"),  # a clock a little behind another worker's
    ],
)
def test_a_duration_reads_in_minutes_then_in_hours(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def _total(**changes: Any) -> dict[str, Any]:
    total: dict[str, Any] = {
        "offered": 0,
        "answered": 0,
        "abandoned": 0,
        "service_level": None,
        "average_speed_of_answer_seconds": None,
        "transfers": {},
    }
    return {**total, **changes}


def _kind(made: int) -> dict[str, Any]:
    return {"made": made, "with_outcome": made, "succeeded": made, "success_rate": 1.0}


@pytest.mark.parametrize(
    ("total", "texts"),
    [
        (
            _total(),
            {
                "offered": "0",
                "service_level": NONE_YET,
                "average_speed_of_answer": NONE_YET,
                "transfers": "0",
            },
        ),
        (
            _total(
                offered=6,
                answered=4,
                abandoned=1,
                service_level=0.6667,
                average_speed_of_answer_seconds=5942.0,
                transfers={"cold": _kind(0), "queue": _kind(1), "warm": _kind(2)},
            ),
            {
                "offered": "6",
                "answered": "4",
                "abandoned": "1",
                "service_level": "67 %",
                "average_speed_of_answer": "1 h 39 min",
                "transfers": "3 (queue 1, warm 2)",
            },
        ),
        (
            _total(offered=8, service_level=0.125, average_speed_of_answer_seconds=12.5),
            {"service_level": "13 %", "average_speed_of_answer": "0 min 12 s"},
        ),
    ],
    ids=["nothing yet", "a busy day", "halves up"],
)
def test_the_panel_texts(total: dict[str, Any], texts: dict[str, str]) -> None:
    shown = panel_texts(total)
    assert set(shown) == {
        "offered",
        "answered",
        "abandoned",
        "service_level",
        "average_speed_of_answer",
        "transfers",
    }
    assert {name: shown[name] for name in texts} == texts
