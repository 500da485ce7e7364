"""When a callback is placed (the next opening, DST-exact in Europe/Warsaw) and what follows an
unanswered try: tables of cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from hotline.rules import callbacks
from hotline.rules.hours import Schedule

WARSAW = ZoneInfo("Europe/Warsaw")
EVERY_DAY = Schedule(
    opens=time(8),
    closes=time(21),
    tz=WARSAW,
    closed_dates=frozenset({date(2026, 12, 25), date(2026, 12, 26)}),
)
WEEKDAYS = Schedule(opens=time(8), closes=time(21), tz=WARSAW, days=frozenset(range(5)))


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=WARSAW)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("schedule", "asked", "due"),
    [
        # an ordinary evening: the next day at 08:00
        (EVERY_DAY, _local(2026, 11, 26, 21, 5), _local(2026, 11, 27, 8, 0)),
        # after midnight: the same day at 08:00
        (EVERY_DAY, _local(2026, 11, 27, 3, 0), _local(2026, 11, 27, 8, 0)),
        # asked one second before opening
        (EVERY_DAY, _local(2026, 11, 27, 7, 59, 59), _local(2026, 11, 27, 8, 0)),
        # Saturday night, open on weekdays only: Monday
        (WEEKDAYS, _local(2026, 11, 28, 22, 0), _local(2026, 11, 30, 8, 0)),
        # Friday night, weekdays only: Monday too
        (WEEKDAYS, _local(2026, 11, 27, 21, 5), _local(2026, 11, 30, 8, 0)),
        # the night before two closed dates: the first open day after them
        (EVERY_DAY, _local(2026, 12, 24, 21, 5), _local(2026, 12, 27, 8, 0)),
        # on a closed date itself
        (EVERY_DAY, _local(2026, 12, 25, 12, 0), _local(2026, 12, 27, 8, 0)),
    ],
)
def test_a_callback_is_due_at_the_next_opening(
    schedule: Schedule, asked: datetime, due: datetime
) -> None:
    assert callbacks.due_at(schedule, asked) == due


@pytest.mark.parametrize(
    ("asked_utc", "due_utc"),
    [
        # Saturday 2026-03-28 21:05 CET (UTC+1); Sunday the clocks go forward: 08:00 CEST = 06:00Z
        (datetime(2026, 3, 28, 20, 5, tzinfo=UTC), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
        # asked in the lost hour's night itself (01:30 CET), same answer
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
        # Saturday 2026-10-24 21:05 CEST (UTC+2); Sunday the clocks go back: 08:00 CET = 07:00Z
        (datetime(2026, 10, 24, 19, 5, tzinfo=UTC), datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),
        # asked in the repeated hour (02:30 CEST, then again at 02:30 CET)
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),
    ],
)
def test_callbacks_on_the_dst_nights_are_at_08_00_local(
    asked_utc: datetime, due_utc: datetime
) -> None:
    with freeze_time(asked_utc):  # what a webhook at that moment computes
        due = callbacks.due_at(EVERY_DAY, datetime.now(UTC))
    assert due == due_utc
    assert due is not None and due.astimezone(WARSAW).time() == time(8)


def test_no_opening_day_means_no_callback() -> None:
    never = Schedule(opens=time(8), closes=time(21), tz=WARSAW, days=frozenset())
    assert callbacks.due_at(never, _local(2026, 11, 26, 22, 0)) is None


NOW = datetime(2026, 11, 27, 7, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempts", "retry_at"),
    [(1, NOW + timedelta(minutes=10)), (2, None), (3, None)],
)
def test_an_unanswered_try_is_retried_once(attempts: int, retry_at: datetime | None) -> None:
    assert callbacks.after_unanswered(attempts, NOW, timedelta(minutes=10)).retry_at == retry_at


@pytest.mark.parametrize(
    ("status", "answered"),
    [
        ("completed", True),
        ("busy", False),
        ("no-answer", False),
        ("failed", False),
        ("canceled", False),
    ],
)
def test_which_final_call_status_means_the_buyer_answered(status: str, answered: bool) -> None:
    assert callbacks.answered(status) is answered
