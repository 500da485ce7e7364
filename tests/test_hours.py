"""Opening hours: boundaries, DST days, closed dates, restricted days, the next opening."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from hotline.rules.hours import Schedule, is_open, next_opening, parse_days

WARSAW = ZoneInfo("Europe/Warsaw")
HOTLINE = Schedule(opens=time(8), closes=time(21), tz=WARSAW)
WEEKDAYS_9_TO_5 = Schedule(
    opens=time(9), closes=time(17), tz=WARSAW, days=frozenset({0, 1, 2, 3, 4})
)
CHRISTMAS = Schedule(
    opens=time(8),
    closes=time(21),
    tz=WARSAW,
    closed_dates=frozenset({date(2026, 12, 25), date(2026, 12, 26)}),
)


def local(text: str) -> datetime:
    """A Warsaw wall-clock time, e.g. ``local("2026-03-29 08:00:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=WARSAW)


def utc(text: str) -> datetime:
    """A UTC instant, e.g. ``utc("2026-03-29 06:00:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (Warsaw wall clock, the same instant in UTC written out by hand, open?)
# 2026-03-29: clocks jump 02:00 CET -> 03:00 CEST, so 08:00 local is 06:00 UTC (not 07:00).
# 2026-10-25: clocks fall back 03:00 CEST -> 02:00 CET, so 08:00 local is 07:00 UTC (not 06:00).
BOUNDARIES = [
    # an ordinary summer day (CEST, +02:00)
    ("2026-06-10 07:59:59", "2026-06-10 05:59:59", False),
    ("2026-06-10 08:00:00", "2026-06-10 06:00:00", True),
    ("2026-06-10 20:59:59", "2026-06-10 18:59:59", True),
    ("2026-06-10 21:00:00", "2026-06-10 19:00:00", False),
    # an ordinary winter day (CET, +01:00)
    ("2026-01-14 07:59:59", "2026-01-14 06:59:59", False),
    ("2026-01-14 08:00:00", "2026-01-14 07:00:00", True),
    ("2026-01-14 20:59:59", "2026-01-14 19:59:59", True),
    ("2026-01-14 21:00:00", "2026-01-14 20:00:00", False),
    # spring forward
    ("2026-03-29 07:59:59", "2026-03-29 05:59:59", False),
    ("2026-03-29 08:00:00", "2026-03-29 06:00:00", True),
    ("2026-03-29 20:59:59", "2026-03-29 18:59:59", True),
    ("2026-03-29 21:00:00", "2026-03-29 19:00:00", False),
    # fall back
    ("2026-10-25 07:59:59", "2026-10-25 06:59:59", False),
    ("2026-10-25 08:00:00", "2026-10-25 07:00:00", True),
    ("2026-10-25 20:59:59", "2026-10-25 19:59:59", True),
    ("2026-10-25 21:00:00", "2026-10-25 20:00:00", False),
]


@pytest.mark.parametrize(("wall", "instant", "expected"), BOUNDARIES)
def test_is_open_at_boundaries_given_local_time(wall: str, instant: str, expected: bool) -> None:
    now = local(wall)
    assert now == utc(instant)  # the table's UTC column is the same moment
    assert is_open(HOTLINE, now) is expected


@pytest.mark.parametrize(("wall", "instant", "expected"), BOUNDARIES)
def test_is_open_at_boundaries_given_utc_instant(wall: str, instant: str, expected: bool) -> None:
    assert is_open(HOTLINE, utc(instant)) is expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # the hour that would be 08:00 with last winter's offset is still closed
        ("2026-03-29 06:59:59", True),  # 08:59:59 CEST
        ("2026-03-29 05:00:00", False),  # 07:00 CEST, would be 06:00 CET
        # after falling back, 07:00 UTC is 08:00 CET, while 06:30 UTC is 07:30 CET
        ("2026-10-25 06:30:00", False),
        ("2026-10-25 19:30:00", True),  # 20:30 CET
    ],
)
def test_dst_offsets_are_not_fixed(instant: str, expected: bool) -> None:
    assert is_open(HOTLINE, utc(instant)) is expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local("2026-12-24 12:00:00"), True),
        (local("2026-12-25 12:00:00"), False),
        (local("2026-12-26 08:00:00"), False),
        (local("2026-12-27 08:00:00"), True),
        # the closed date is a local date: 11:30 UTC on the 25th is still the 25th in Warsaw
        (utc("2026-12-25 11:30:00"), False),
    ],
)
def test_closed_dates(now: datetime, expected: bool) -> None:
    assert is_open(CHRISTMAS, now) is expected


def test_closed_date_is_the_local_date_not_the_utc_date() -> None:
    around_the_clock = Schedule(
        opens=time(0),
        closes=time(23, 59, 59),
        tz=WARSAW,
        closed_dates=frozenset({date(2026, 12, 25)}),
    )
    assert is_open(around_the_clock, utc("2026-12-24 22:30:00"))  # 23:30 on the 24th
    assert not is_open(around_the_clock, utc("2026-12-24 23:30:00"))  # 00:30 on the 25th


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        ("2026-06-13 12:00:00", False),  # Saturday
        ("2026-06-14 12:00:00", False),  # Sunday
        ("2026-06-12 16:59:59", True),  # Friday
        ("2026-06-12 17:00:00", False),
        ("2026-06-15 08:59:59", False),  # Monday
        ("2026-06-15 09:00:00", True),
    ],
)
def test_restricted_days(wall: str, expected: bool) -> None:
    assert is_open(WEEKDAYS_9_TO_5, local(wall)) is expected


# (schedule, now, the expected opening as Warsaw wall clock, the same instant in UTC)
NEXT_OPENINGS = [
    pytest.param(
        HOTLINE,
        local("2026-06-10 07:00:00"),
        "2026-06-10 08:00:00",
        "2026-06-10 06:00:00",
        id="before-opening-same-day",
    ),
    pytest.param(
        HOTLINE,
        local("2026-06-10 08:00:00"),
        "2026-06-10 08:00:00",
        "2026-06-10 06:00:00",
        id="at-opening-is-now",
    ),
    pytest.param(
        HOTLINE,
        local("2026-06-10 10:00:00"),
        "2026-06-11 08:00:00",
        "2026-06-11 06:00:00",
        id="while-open-next-day",
    ),
    pytest.param(
        HOTLINE,
        local("2026-06-10 21:00:00"),
        "2026-06-11 08:00:00",
        "2026-06-11 06:00:00",
        id="after-closing-next-day",
    ),
    pytest.param(
        HOTLINE,
        utc("2026-06-10 22:30:00"),  # 00:30 on the 11th in Warsaw
        "2026-06-11 08:00:00",
        "2026-06-11 06:00:00",
        id="utc-now-after-local-midnight",
    ),
    pytest.param(
        CHRISTMAS,
        local("2026-12-24 22:00:00"),
        "2026-12-27 08:00:00",
        "2026-12-27 07:00:00",
        id="across-closed-dates",
    ),
    pytest.param(
        HOTLINE,
        local("2026-03-28 22:00:00"),
        "2026-03-29 08:00:00",
        "2026-03-29 06:00:00",
        id="across-spring-forward",
    ),
    pytest.param(
        HOTLINE,
        local("2026-10-24 21:30:00"),
        "2026-10-25 08:00:00",
        "2026-10-25 07:00:00",
        id="across-fall-back",
    ),
    pytest.param(
        WEEKDAYS_9_TO_5,
        local("2026-06-12 17:00:00"),
        "2026-06-15 09:00:00",
        "2026-06-15 07:00:00",
        id="friday-evening-to-monday",
    ),
]


@pytest.mark.parametrize(("schedule", "now", "wall", "instant"), NEXT_OPENINGS)
def test_next_opening(schedule: Schedule, now: datetime, wall: str, instant: str) -> None:
    opening = next_opening(schedule, now)
    assert opening is not None
    assert opening == utc(instant)
    assert opening.astimezone(WARSAW).replace(tzinfo=None) == datetime.fromisoformat(wall)


def test_next_opening_without_opening_days_is_none() -> None:
    never = Schedule(opens=time(8), closes=time(21), tz=WARSAW, days=frozenset())
    assert next_opening(never, local("2026-06-10 12:00:00")) is None
    assert not is_open(never, local("2026-06-10 12:00:00"))


@pytest.mark.parametrize("decide", [is_open, next_opening])
def test_naive_now_is_refused(decide: object) -> None:
    assert callable(decide)
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(HOTLINE, datetime(2026, 6, 10, 12, 0))


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["mon", "tue", "wed", "thu", "fri", "sat", "sun"], {0, 1, 2, 3, 4, 5, 6}),
        (["mon", "fri"], {0, 4}),
        (["Sunday"], {6}),
        ([" SAT "], {5}),
        (["wednesday", "wed"], {2}),
        ([], set()),
    ],
)
def test_parse_days(names: list[str], expected: set[int]) -> None:
    assert parse_days(names) == frozenset(expected)


@pytest.mark.parametrize("bad", ["monkey", "sundae", "funday", "", "mo", "tues"])
def test_parse_days_refuses_unknown_names(bad: str) -> None:
    with pytest.raises(ValueError, match=rf"unknown day {bad!r} \(expected one of mon, tue,"):
        parse_days(["mon", bad])


@pytest.mark.parametrize(
    ("opens", "closes"),
    [(time(8), time(8)), (time(21), time(8)), (time(23, 59), time(0))],
)
def test_schedule_must_open_before_it_closes(opens: time, closes: time) -> None:
    with pytest.raises(ValueError, match="must be before closing time"):
        Schedule(opens=opens, closes=closes, tz=WARSAW)
