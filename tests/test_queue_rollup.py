"""A day's queue figures as a roll-up (pure): kept as sums that read back unchanged and add up
as the calls' own figures do, and a report whose pruned days come from their roll-ups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.rules.local_periods import day_start
from hotline.rules.queue_figures import QueuedCall, QueueReport, TransferMade, queue_report
from hotline.rules.queue_rollup import (
    combine,
    figures_as_json,
    figures_from_json,
    rollup_as_json,
    rollup_from_json,
    with_rollups,
)

WARSAW = ZoneInfo("Europe/Warsaw")
DAY = date(2026, 10, 25)  # 25 hours: 02:00 twice
START, END = day_start(DAY, WARSAW), day_start(DAY + timedelta(days=1), WARSAW)


def _at(hours: float) -> datetime:
    return START.astimezone(UTC) + timedelta(hours=hours)


CALLS = [
    QueuedCall("CA1", _at(2.5), "taken", answered_at=_at(2.51), ended_at=_at(2.6)),  # 02:30 +02
    QueuedCall("CA2", _at(3.5), "left", result="hangup"),  # 02:30 +01:00
    QueuedCall("CA3", _at(10.2), "taken", answered_at=_at(10.21)),  # no end known yet
    QueuedCall("CA4", _at(20), "left", result="error"),
    QueuedCall("CA5", _at(23.9), "waiting"),
]
TRANSFERS = [
    TransferMade(_at(2.55), "warm", "busy"),
    TransferMade(_at(10.3), "thread", "thread_opened"),
    TransferMade(_at(10.4), "transcribe", "odd"),  # a kind the figures do not know of
]


def _report(start: datetime = START, end: datetime = END) -> QueueReport:
    return queue_report(CALLS, TRANSFERS, start, end, WARSAW, 30)


def test_figures_read_back_unchanged() -> None:
    report = _report()
    for item in (report.total, *(h.figures for h in report.hours)):
        assert figures_from_json(figures_as_json(item)) == item
    rolled = rollup_from_json(rollup_as_json(report), WARSAW)
    assert rolled.day == report.days[0]
    assert rolled.hours == report.hours
    assert len(rolled.hours) == 25


def test_the_hours_add_up_to_the_day() -> None:
    report = _report()
    assert combine(h.figures for h in report.hours) == report.total
    assert combine([]) == queue_report([], [], START, END, WARSAW, 30).total


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (START, END),  # the whole day
        (_at(3), END),  # from the second 02:00 (+01:00)
        (START, _at(10.5)),  # to half past an hour: that hour is cut
        (_at(-5), _at(30)),  # the day before and after (not rolled up) around it
    ],
)
def test_a_pruned_day_reads_as_its_rows_did(start: datetime, end: datetime) -> None:
    """Figures from the roll-up equal the figures from the rows, for any span over the day,
    except that an hour the span cuts counts what is left of its rows (here, all of them)."""
    rollups = {DAY: rollup_from_json(rollup_as_json(_report()), WARSAW)}
    live = _report(start, end)
    read = with_rollups(live, rollups)
    assert read.total == live.total
    assert read.days == live.days
    assert read.hours == live.hours


def test_a_pruned_day_without_rows_reads_its_roll_up() -> None:
    rollups = {DAY: rollup_from_json(rollup_as_json(_report()), WARSAW)}
    empty = queue_report([], [], START, END, WARSAW, 30)
    read = with_rollups(empty, rollups)
    assert read.total == _report().total and read.hours == _report().hours
    # From the second 02:00 on, the hours wholly in the span: CA1 at the first 02:30 is out.
    late = with_rollups(queue_report([], [], _at(3), END, WARSAW, 30), rollups)
    assert (late.total.offered, late.total.abandoned) == (4, 1)
    assert with_rollups(empty, {}) is empty
