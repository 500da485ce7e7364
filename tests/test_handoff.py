"""Seller handoff decisions: dial status, the whisper key, whether the seller may be rung."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from hotline.rules.handoff import (
    DialStatus,
    parse_dial_status,
    seller_available,
    seller_took_call,
)
from hotline.rules.hours import Schedule

WARSAW = ZoneInfo("Europe/Warsaw")
HOTLINE = Schedule(opens=time(8), closes=time(21), tz=WARSAW)
SELLER = Schedule(opens=time(9), closes=time(17), tz=WARSAW, days=frozenset({0, 1, 2, 3, 4}))

TOOK_CALL = [
    (DialStatus.COMPLETED, True, True),
    (DialStatus.COMPLETED, False, False),
    (DialStatus.ANSWERED, True, True),
    (DialStatus.ANSWERED, False, False),
    (DialStatus.BUSY, True, False),
    (DialStatus.BUSY, False, False),
    (DialStatus.NO_ANSWER, True, False),
    (DialStatus.NO_ANSWER, False, False),
    (DialStatus.FAILED, True, False),
    (DialStatus.FAILED, False, False),
    (DialStatus.CANCELED, True, False),
    (DialStatus.CANCELED, False, False),
]


@pytest.mark.parametrize(("status", "accepted", "expected"), TOOK_CALL)
def test_seller_took_call(status: DialStatus, accepted: bool, expected: bool) -> None:
    assert seller_took_call(status, accepted) is expected


def test_took_call_table_covers_every_status_both_ways() -> None:
    assert {(s, a) for s, a, _ in TOOK_CALL} == {(s, a) for s in DialStatus for a in (True, False)}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("completed", DialStatus.COMPLETED),
        ("answered", DialStatus.ANSWERED),
        ("busy", DialStatus.BUSY),
        ("no-answer", DialStatus.NO_ANSWER),
        ("failed", DialStatus.FAILED),
        ("canceled", DialStatus.CANCELED),
        ("COMPLETED", DialStatus.COMPLETED),
        ("  No-Answer \n", DialStatus.NO_ANSWER),
        (" busy", DialStatus.BUSY),
        ("ringing", DialStatus.FAILED),
        ("cancelled", DialStatus.FAILED),  # Twilio spells it "canceled"
        ("no answer", DialStatus.FAILED),
        ("%00garbage", DialStatus.FAILED),
        ("", DialStatus.FAILED),
        (None, DialStatus.FAILED),
    ],
)
def test_parse_dial_status(value: str | None, expected: DialStatus) -> None:
    assert parse_dial_status(value) is expected


def test_parse_dial_status_knows_every_status() -> None:
    assert {parse_dial_status(s.value) for s in DialStatus} == set(DialStatus)


WEDNESDAY_NOON = datetime(2026, 6, 10, 12, tzinfo=WARSAW)
WEDNESDAY_EVENING = datetime(2026, 6, 10, 19, tzinfo=WARSAW)
WEDNESDAY_NIGHT = datetime(2026, 6, 10, 22, tzinfo=WARSAW)
SATURDAY_NOON = datetime(2026, 6, 13, 12, tzinfo=WARSAW)


@pytest.mark.parametrize(
    ("seller", "now", "expected"),
    [
        pytest.param(SELLER, WEDNESDAY_NOON, True, id="both-open"),
        pytest.param(SELLER, WEDNESDAY_EVENING, False, id="seller-hours-over"),
        pytest.param(SELLER, SATURDAY_NOON, False, id="seller-closed-day"),
        pytest.param(SELLER, WEDNESDAY_NIGHT, False, id="hotline-closed"),
        pytest.param(None, WEDNESDAY_EVENING, True, id="no-own-hours-hotline-open"),
        pytest.param(None, SATURDAY_NOON, True, id="no-own-hours-weekend"),
        pytest.param(None, WEDNESDAY_NIGHT, False, id="no-own-hours-hotline-closed"),
        pytest.param(SELLER, datetime(2026, 6, 10, 10, tzinfo=UTC), True, id="utc-now-12-local"),
    ],
)
def test_seller_available(seller: Schedule | None, now: datetime, expected: bool) -> None:
    assert seller_available(HOTLINE, seller, now) is expected


def test_seller_available_needs_the_hotline_open_even_if_the_seller_is() -> None:
    night_owl = Schedule(opens=time(0), closes=time(23, 59), tz=WARSAW)
    assert not seller_available(HOTLINE, night_owl, WEDNESDAY_NIGHT)
    assert seller_available(HOTLINE, night_owl, WEDNESDAY_EVENING)
