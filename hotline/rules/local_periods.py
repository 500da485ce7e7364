"""The operator's local days and hours over a span of time, exact across DST, and the span a
person asks for (``from``/``to`` as dates or times): pure, plain values in and out.

An hour here is a wall-clock hour of the timezone: on the day clocks go back, 02:00-03:00 comes
twice (two hours, told apart by their UTC offset) and that day has 25 hours; on the day they go
forward it has 23. A period is ``[start, end)``; a span that begins or ends inside an hour has
that hour cut to the span.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

# Every offset (and so every local hour's start and every change of offset) of today's
# timezones falls on a whole quarter hour of UTC, so looking at these instants finds them all.
_GRID = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LONGEST_SPAN = timedelta(days=366)
# The instants a ``from``/``to`` may name, ``[EARLIEST, LATEST)``: well inside datetime's years
# 1-9999, so that a day's end, a window's days before ``to`` and a timezone's offset never step
# out of them (Python raises OverflowError there); no hotline figure lies outside.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


class SpanError(ValueError):
    """A ``from``/``to`` that is not a date or time, or not a usable span; says which and why."""


@dataclass(frozen=True)
class Period:
    """A stretch of time ``[start, end)``, kept in UTC, shown in ``tz``."""

    # In UTC: Python compares and subtracts two datetimes of one tzinfo by their wall clocks,
    # which is wrong across a DST change (the two 02:00 hours of the night clocks go back).
    start_utc: datetime
    end_utc: datetime
    tz: tzinfo

    @property
    def start(self) -> datetime:
        """The start in local time."""
        return self.start_utc.astimezone(self.tz)

    @property
    def end(self) -> datetime:
        """The end in local time."""
        return self.end_utc.astimezone(self.tz)

    @property
    def seconds(self) -> float:
        """How long it lasts (a DST day: 23 or 25 hours)."""
        return (self.end_utc - self.start_utc).total_seconds()

    def holds(self, instant: datetime) -> bool:
        """Whether ``instant`` falls in the period."""
        return self.start_utc <= instant < self.end_utc


def local_hours(start: datetime, end: datetime, tz: tzinfo) -> list[Period]:
    """The local wall-clock hours of ``tz`` that ``[start, end)`` covers, in order."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return []
    periods: list[Period] = []
    begun = start
    key = _hour_key(start, tz)
    # The first quarter hour of UTC after ``start``, then every one up to ``end``.
    point = _EPOCH + ((start - _EPOCH) // _GRID + 1) * _GRID
    while point < end:
        point_key = _hour_key(point, tz)
        if point_key != key:
            periods.append(Period(begun, point, tz))
            begun, key = point, point_key
        point += _GRID
    periods.append(Period(begun, end, tz))
    return periods


def local_days(hours: list[Period]) -> list[Period]:
    """The local days that ``hours`` (from ``local_hours``) make up, each joined into one."""
    days: list[Period] = []
    for hour in hours:
        if days and days[-1].start.date() == hour.start.date():
            days[-1] = Period(days[-1].start_utc, hour.end_utc, hour.tz)
        else:
            days.append(hour)
    return days


def day_start(day: date, tz: tzinfo) -> datetime:
    """The first instant of ``day`` in ``tz`` (where midnight is skipped, the end of the gap)."""
    # ``fold=0`` in a gap takes the offset from before it: the instant the clocks jumped.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC).astimezone(tz)


def local_time_on(day: date, clock: time, tz: tzinfo) -> datetime:
    """The instant the clocks of ``tz`` show ``clock`` on ``day``: a time they skip is read on
    the clock from before the jump (02:30 the night they go forward is 03:30 after it); a time
    they show twice, its first occurrence."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC).astimezone(tz)


def parse_span(
    from_text: str | None, to_text: str | None, tz: tzinfo, today: date
) -> tuple[datetime, datetime]:
    """The span ``[from, to)`` asked for; raises ``SpanError`` saying what is wrong.

    Each is a date (``2026-10-25``: its local midnight) or a time (``2026-10-25T14:00``: local
    wall-clock; with an offset or ``Z``: that instant). No ``from``: today; no ``to``: the end
    of ``from``'s local day. At most ``LONGEST_SPAN``.
    """
    start = (
        day_start(today, tz) if not from_text else _instant("from", from_text, tz).astimezone(tz)
    )
    if to_text:
        end = _instant("to", to_text, tz).astimezone(tz)
    else:
        end = day_start(start.date() + timedelta(days=1), tz)
    if end.astimezone(UTC) <= start.astimezone(UTC):
        raise SpanError(f"to ({end.isoformat()}) must be after from ({start.isoformat()})")
    _refuse_longer_than_allowed(start, end, tz)
    return start, end


def parse_window(
    from_text: str | None, to_text: str | None, tz: tzinfo, now: datetime, days: int
) -> tuple[datetime, datetime]:
    """The window ``[from, to)`` asked for, read as ``parse_span`` reads them; no ``to``: now;
    no ``from``: ``days`` times 24 hours before ``to``. Raises ``SpanError``."""
    end = _instant("to", to_text, tz) if to_text else now
    start = _instant("from", from_text, tz) if from_text else end - timedelta(days=days)
    if end.astimezone(UTC) <= start.astimezone(UTC):
        raise SpanError(f"to ({end.isoformat()}) must be after from ({start.isoformat()})")
    _refuse_longer_than_allowed(start, end, tz)
    return start.astimezone(tz), end.astimezone(tz)


def _refuse_longer_than_allowed(start: datetime, end: datetime, tz: tzinfo) -> None:
    """Raise ``SpanError`` when ``[start, end)`` is longer than ``LONGEST_SPAN``."""
    if end.astimezone(UTC) - start.astimezone(UTC) > LONGEST_SPAN:
        # The instants compared, not the texts: either may be a default (today, now).
        raise SpanError(
            f"from {start.astimezone(tz).isoformat()} to {end.astimezone(tz).isoformat()} "
            f"is longer than {LONGEST_SPAN.days} days"
        )


def _instant(name: str, text: str, tz: tzinfo) -> datetime:
    """``text`` as an aware instant: a date's local midnight, a local or offset time; a
    local time the clocks skip is refused (which instant was meant is a guess), one they
    show twice is the first; anything outside ``[EARLIEST, LATEST)`` is refused."""
    cleaned = text.strip()
    if "T" in cleaned:
        # An unencoded "+02:00" in a query string arrives as " 02:00".
        cleaned = cleaned.replace(" ", "+")
    try:
        if len(cleaned) == 10:
            day: date | None = date.fromisoformat(cleaned)
            moment = datetime.min
        else:
            day, moment = None, datetime.fromisoformat(cleaned)
    except ValueError:
        raise SpanError(
            f"{name}: {text!r} is not a date (2026-10-25) or a time (2026-10-25T14:00, "
            "2026-10-25T14:00+01:00)"
        ) from None
    try:
        if day is not None:
            moment = day_start(day, tz)
        elif moment.tzinfo is None:
            local = moment.replace(tzinfo=tz)
            if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != moment:
                raise SpanError(
                    f"{name}: {text!r} is not a time in {tz}: its clocks jump over it "
                    "(give a time after the jump, or one with an offset)"
                )
            moment = local
        instant = moment.astimezone(UTC)
    except OverflowError:
        instant = None
    if instant is None or not EARLIEST <= instant < LATEST:
        raise SpanError(
            f"{name}: {text!r} is out of range (from {EARLIEST.date()} to "
            f"{(LATEST - timedelta(days=1)).date()}, UTC)"
        )
    return moment


def _hour_key(instant: datetime, tz: tzinfo) -> tuple[date, int, timedelta | None]:
    """What tells one local hour from another: its date, hour and UTC offset."""
    local = instant.astimezone(tz)
    return local.date(), local.hour, local.utcoffset()
