"""Opening hours: is the hotline (or a seller) open at a given moment, and when does it open next.

Pure functions of a ``Schedule`` and an explicit, timezone-aware ``now``. Hours are wall-clock times
in the schedule's IANA timezone, so the days clocks change (last Sundays of March and October in
Europe) need no special casing: 08:00 local is 08:00 local, whatever the UTC offset that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY_DAY = frozenset(range(7))


@dataclass(frozen=True)
class Schedule:
    """Opening hours: open from ``opens`` (inclusive) to ``closes`` (exclusive) on ``days``.

    ``days`` holds weekday numbers (0 = Monday); ``closed_dates`` are local dates with no opening.
    """

    opens: time
    closes: time
    tz: ZoneInfo
    days: frozenset[int] = EVERY_DAY
    closed_dates: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError(f"opening time {self.opens} must be before closing time {self.closes}")


def local_time(schedule: Schedule, now: datetime) -> datetime:
    """``now`` in the schedule's timezone (``now`` must be timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(schedule.tz)


def _is_open_day(schedule: Schedule, day: date) -> bool:
    return day.weekday() in schedule.days and day not in schedule.closed_dates


def is_open(schedule: Schedule, now: datetime) -> bool:
    """Whether ``now`` falls within the schedule's opening hours."""
    local = local_time(schedule, now)
    return _is_open_day(schedule, local.date()) and schedule.opens <= local.time() < schedule.closes


def next_opening(schedule: Schedule, now: datetime) -> datetime | None:
    """The next moment the schedule opens after ``now`` (``now`` itself if it is that moment).

    Returns ``None`` when no opening day exists within a year (e.g. no days configured).
    """
    local = local_time(schedule, now)
    for offset in range(366):
        day = local.date() + timedelta(days=offset)
        if not _is_open_day(schedule, day):
            continue
        opening = datetime.combine(day, schedule.opens, tzinfo=schedule.tz)
        if opening >= local:
            return opening
    return None


def parse_days(names: list[str]) -> frozenset[int]:
    """Weekday numbers from names like ``["mon", "tue"]`` or ``["Monday"]`` (else ValueError)."""
    days = set()
    for name in names:
        key = name.strip().lower()
        # Only a short or full English name: a typo like "monkey" must not pass for Monday.
        if key in _FULL_DAY_NAMES:
            key = key[:3]
        if key not in DAY_NAMES:
            raise ValueError(f"unknown day {name!r} (expected one of {', '.join(DAY_NAMES)})")
        days.add(DAY_NAMES.index(key))
    return frozenset(days)
