"""The console's panel of today's queue figures: waits in minutes and seconds, from an hour on
in hours and minutes; the texts made from the API's JSON; the hours with calls, the transfers."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.agents.figures_panel import FIGURES, NONE_YET, duration_text, panel_of, panel_texts


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
        "abandonment_rate": None,
        "service_level": None,
        "average_speed_of_answer_seconds": None,
        "average_handle_time_seconds": None,
        "transfers": {},
    }
    return {**total, **changes}


def _kind(made: int) -> dict[str, Any]:
    rate = 1.0 if made else None
    return {"made": made, "with_outcome": made, "succeeded": made, "success_rate": rate}


@pytest.mark.parametrize(
    ("total", "texts"),
    [
        (
            _total(),
            {
                "offered": "0",
                "abandonment_rate": NONE_YET,
                "service_level": NONE_YET,
                "average_speed_of_answer": NONE_YET,
                "average_handle_time": NONE_YET,
                "transfers": "0",
            },
        ),
        (
            _total(
                offered=6,
                answered=4,
                abandoned=1,
                abandonment_rate=0.1667,
                service_level=0.6667,
                average_speed_of_answer_seconds=5942.0,
                average_handle_time_seconds=130.4,
                transfers={"cold": _kind(0), "queue": _kind(1), "warm": _kind(2)},
            ),
            {
                "offered": "6",
                "answered": "4",
                "abandoned": "1",
                "abandonment_rate": "17 %",
                "service_level": "67 %",
                "average_speed_of_answer": "1 h 39 min",
                "average_handle_time": "2 min 10 s",
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
    assert tuple(shown) == FIGURES
    assert {name: shown[name] for name in texts} == texts


def _hour(start: str, end: str, **changes: Any) -> dict[str, Any]:
    return {"start": start, "end": end, "hours": 1.0, **_total(**changes)}


def test_the_panel_keeps_the_hours_with_calls_or_transfers() -> None:
    quiet = _hour("2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00")
    called = _hour("2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", offered=2)
    transferred = _hour(
        "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00", transfers={"warm": _kind(1)}
    )
    total = _total(offered=2, transfers={"warm": _kind(1), "cold": _kind(0)})
    after = _hour("2026-10-25T03:00:00+01:00", "2026-10-25T04:00:00+01:00", offered=1)
    panel = panel_of({"total": total, "hours": [quiet, called, transferred, after]})
    # The night the clocks go back: the two 02:00 hours, told apart by their start's offset.
    assert [(h.label, h.start) for h in panel.hours] == [
        ("02:00–02:00 (UTC+02:00)", "2026-10-25T02:00:00+02:00"),
        ("02:00–03:00 (UTC+01:00)", "2026-10-25T02:00:00+01:00"),
        ("03:00–04:00", "2026-10-25T03:00:00+01:00"),
    ]
    assert [h.texts["offered"] for h in panel.hours] == ["2", "0", "1"]
    assert [(t.kind, t.made, t.success_rate) for t in panel.transfers] == [
        ("warm", "1", "100 %"),
        ("cold", "0", NONE_YET),
    ]
