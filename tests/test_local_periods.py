"""Local days and hours, DST-exact, and the span asked for by ``from``/``to``: tables of cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.rules.local_periods import (
    SpanError,
    day_start,
    local_days,
    local_hours,
    parse_span,
    parse_window,
)

WARSAW = ZoneInfo("Europe/Warsaw")
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30: its hours start at half past a UTC hour
SANTIAGO = ZoneInfo("America/Santiago")  # its clocks jump at midnight: no 00:00 that day


def _local(text: str, tz: ZoneInfo = WARSAW) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


@pytest.mark.parametrize(
    ("day", "hours", "labels"),
    [
        ("2026-11-26", 24, None),  # an ordinary day
        # Spring forward (29 March 2026, 02:00 -> 03:00): no 02:00 hour, 23 hours.
        ("2026-03-29", 23, ["01:00+01:00", "03:00+02:00"]),
        # Fall back (25 October 2026, 03:00 -> 02:00): 02:00 twice, told apart by the offset.
        ("2026-10-25", 25, ["02:00+02:00", "02:00+01:00", "03:00+01:00"]),
    ],
)
def test_a_local_day_has_its_wall_clock_hours(
    day: str, hours: int, labels: list[str] | None
) -> None:
    start = day_start(date.fromisoformat(day), WARSAW)
    end = day_start(date.fromisoformat(day) + timedelta(days=1), WARSAW)
    found = local_hours(start, end, WARSAW)
    assert len(found) == hours
    assert all(h.seconds == 3600 for h in found)
    assert [h.start.minute for h in found] == [0] * hours
    assert found[0].start == start and found[-1].end == end
    assert all(a.end == b.start for a, b in zip(found, found[1:], strict=False))
    shown = [f"{h.start:%H:%M}{h.start.isoformat()[-6:]}" for h in found]
    if labels:
        first = shown.index(labels[0])
        assert shown[first : first + len(labels)] == labels
    [whole_day] = local_days(found)
    assert (whole_day.start, whole_day.end, whole_day.seconds) == (start, end, hours * 3600)


def test_days_across_midnight_and_a_dst_change_have_23_24_and_25_hours() -> None:
    start = _local("2026-10-24T00:00")
    end = _local("2026-10-27T00:00")
    days = local_days(local_hours(start, end, WARSAW))
    assert [(d.start.date().isoformat(), d.seconds / 3600) for d in days] == [
        ("2026-10-24", 24),
        ("2026-10-25", 25),
        ("2026-10-26", 24),
    ]
    spring = local_days(local_hours(_local("2026-03-28"), _local("2026-03-30"), WARSAW))
    assert [d.seconds / 3600 for d in spring] == [24, 23]


def test_a_span_inside_hours_cuts_the_first_and_last() -> None:
    hours = local_hours(_local("2026-11-26T10:20"), _local("2026-11-26T12:05"), WARSAW)
    assert [(f"{h.start:%H:%M}", f"{h.end:%H:%M}") for h in hours] == [
        ("10:20", "11:00"),
        ("11:00", "12:00"),
        ("12:00", "12:05"),
    ]


def test_hours_of_a_half_hour_offset_start_at_half_past_utc() -> None:
    start = _local("2026-11-26T00:00", KOLKATA)
    hours = local_hours(start, start + timedelta(days=1), KOLKATA)
    assert len(hours) == 24
    assert all(h.start.minute == 0 for h in hours)
    assert {h.start.astimezone(UTC).minute for h in hours} == {30}


def test_a_day_whose_midnight_is_skipped_starts_when_the_clocks_jump() -> None:
    # Chile, 6 September 2026: 00:00 -04:00 becomes 01:00 -03:00.
    start = day_start(date(2026, 9, 6), SANTIAGO)
    assert start.isoformat() == "2026-09-06T01:00:00-03:00"
    day = local_days(local_hours(start, day_start(date(2026, 9, 7), SANTIAGO), SANTIAGO))
    assert [d.seconds / 3600 for d in day] == [23]


def test_an_empty_span_has_no_hours() -> None:
    moment = _local("2026-11-26T10:00")
    assert local_hours(moment, moment, WARSAW) == []
    assert local_days([]) == []


TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ((None, None), ("2026-11-26T00:00:00+01:00", "2026-11-27T00:00:00+01:00")),
        (("2026-10-25", None), ("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00")),
        (("2026-10-25", "2026-10-27"), ("2026-10-25T00:00:00+02:00", "2026-10-27T00:00:00+01:00")),
        (
            ("2026-11-26T10:00", "2026-11-26T11:30"),
            ("2026-11-26T10:00:00+01:00", "2026-11-26T11:30:00+01:00"),
        ),
        (("2026-11-26T09:00Z", None), ("2026-11-26T10:00:00+01:00", "2026-11-27T00:00:00+01:00")),
        # "+01:00" unencoded in a query string arrives as " 01:00".
        (
            ("2026-11-26T10:00 01:00", "2026-11-26T12:00+00:00"),
            ("2026-11-26T10:00:00+01:00", "2026-11-26T13:00:00+01:00"),
        ),
        (("", ""), ("2026-11-26T00:00:00+01:00", "2026-11-27T00:00:00+01:00")),
    ],
)
def test_the_span_asked_for(
    given: tuple[str | None, str | None], expected: tuple[str, str]
) -> None:
    start, end = parse_span(*given, WARSAW, TODAY)
    assert (start.isoformat(), end.isoformat()) == expected


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (("yesterday", None), "from: 'yesterday' is not a date"),
        (("2026-11-26", "2026-13-01"), "to: '2026-13-01' is not a date"),
        (("2026-11-26", "2026-11-26"), "must be after from"),
        (("2026-11-27", "2026-11-26"), "must be after from"),
        (("2025-01-01", "2026-11-26"), "longer than 366 days"),
        # The ends of datetime's years: refused, not an OverflowError.
        ((None, "0001-01-01"), "to: '0001-01-01' is out of range"),
        (("0001-01-01", "9999-12-31"), "from: '0001-01-01' is out of range"),
        (("9999-12-31T23:00", None), "from: '9999-12-31T23:00' is out of range"),
        (("2026-01-01", "9999-12-31"), "to: '9999-12-31' is out of range"),
        (("0001-01-01T00:00+23:00", None), "from: '0001-01-01T00:00\\+23:00' is out of range"),
        (("1969-12-31T23:59Z", None), "out of range"),
        (("9999-01-01T00:00Z", None), "out of range"),
        # 02:30 the night the clocks go forward is never shown in Warsaw.
        (("2026-03-29T02:30", None), "from: '2026-03-29T02:30' is not a time in Europe/Warsaw"),
        (("2026-03-29", "2026-03-29T02:00"), "to: '2026-03-29T02:00' is not a time"),
    ],
)
def test_a_bad_span_says_what_is_wrong(given: tuple[str | None, str | None], says: str) -> None:
    with pytest.raises(SpanError, match=says):
        parse_span(*given, WARSAW, TODAY)


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ((None, "0001-01-01"), "to: '0001-01-01' is out of range"),
        (("0001-01-01", "9999-12-31"), "'9999-12-31' is out of range"),
        (("9999-12-31T23:00", None), "from: '9999-12-31T23:00' is out of range"),
        (("2026-03-29T02:59", None), "from: '2026-03-29T02:59' is not a time in Europe/Warsaw"),
        # No ``to`` is now: the message names the instants compared, never "to None".
        (
            ("2020-01-01", None),
            "from 2020-01-01T00:00:00\\+01:00 to 2026-11-26T13:00:00\\+01:00 is longer than 366",
        ),
    ],
)
def test_a_bad_window_says_what_is_wrong(given: tuple[str | None, str | None], says: str) -> None:
    with pytest.raises(SpanError, match=says):
        parse_window(*given, WARSAW, NOW, 30)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # The limits themselves are accepted.
        (("1970-01-01T00:00Z", "1970-01-02T00:00Z"), "1970-01-01T01:00:00+01:00"),
        (("9998-12-31T00:00Z", "9998-12-31T23:59Z"), "9998-12-31T01:00:00+01:00"),
        # 02:30 the night the clocks go back is shown twice: the first (summer) one.
        (("2026-10-25T02:30", "2026-10-25T04:00"), "2026-10-25T02:30:00+02:00"),
        # The gap ends where it ends: 03:00 is shown (02:00 is not, see above).
        (("2026-03-29T03:00", "2026-03-29T04:00"), "2026-03-29T03:00:00+02:00"),
    ],
)
def test_the_window_asked_for(given: tuple[str, str], expected: str) -> None:
    start, _ = parse_window(*given, WARSAW, NOW, 30)
    assert start.isoformat() == expected
