"""The branch tests of a flow: the hotline's hours, the seller's availability, the question."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from hotline.config.settings import load_settings
from hotline.errors import FlowError
from hotline.ivr.branches import branch_holds
from hotline.ivr.flow import BRANCH_TESTS
from tests.conftest import ROOT

SETTINGS = load_settings(ROOT / "config.toml")
HOURS = SETTINGS.hours  # 08:00-21:00 every day, closed 2026-12-25, 2026-12-26 and 2027-01-01
WARSAW = SETTINGS.timezone
SELLERS = {seller.id: seller for seller in SETTINGS.sellers}
# acme keeps the hotline's hours; bookworm's are Mon-Fri 09:00-17:00


def local(text: str) -> datetime:
    """A Warsaw wall-clock time, e.g. ``local("2026-03-29 08:00:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=WARSAW)


def utc(text: str) -> datetime:
    """A UTC instant, e.g. ``utc("2026-03-29 06:00:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local("2026-06-10 07:59:59"), False),
        (local("2026-06-10 08:00:00"), True),
        (local("2026-06-10 20:59:59"), True),
        (local("2026-06-10 21:00:00"), False),
        (local("2026-01-14 07:59:59"), False),
        (local("2026-01-14 08:00:00"), True),
        (local("2026-01-14 20:59:59"), True),
        (local("2026-01-14 21:00:00"), False),
        # the same moments given in UTC, on both days the clocks change
        (utc("2026-03-29 05:59:59"), False),  # 07:59:59 CEST
        (utc("2026-03-29 06:00:00"), True),  # 08:00 CEST
        (utc("2026-03-29 18:59:59"), True),  # 20:59:59 CEST
        (utc("2026-03-29 19:00:00"), False),  # 21:00 CEST
        (utc("2026-10-25 06:59:59"), False),  # 07:59:59 CET
        (utc("2026-10-25 07:00:00"), True),  # 08:00 CET
        (utc("2026-10-25 19:59:59"), True),  # 20:59:59 CET
        (utc("2026-10-25 20:00:00"), False),  # 21:00 CET
        # closed dates in the shipped config
        (local("2026-12-24 12:00:00"), True),
        (local("2026-12-25 12:00:00"), False),
        (local("2027-01-01 12:00:00"), False),
    ],
)
def test_hotline_open(now: datetime, expected: bool) -> None:
    holds = branch_holds("hotline_open", hours=HOURS, seller=None, question=None, now=now)
    assert holds is expected


@pytest.mark.parametrize(
    ("seller", "now", "expected"),
    [
        # bookworm on a Wednesday: the hotline is open 08:00-21:00, bookworm only 09:00-17:00
        ("bookworm", local("2026-06-10 08:30:00"), False),
        ("bookworm", local("2026-06-10 08:59:59"), False),
        ("bookworm", local("2026-06-10 09:00:00"), True),
        ("bookworm", local("2026-06-10 12:00:00"), True),
        ("bookworm", local("2026-06-10 16:59:59"), True),
        ("bookworm", local("2026-06-10 17:00:00"), False),
        ("bookworm", local("2026-06-10 20:00:00"), False),
        ("bookworm", local("2026-06-12 16:59:59"), True),  # Friday
        ("bookworm", local("2026-06-13 12:00:00"), False),  # Saturday
        ("bookworm", local("2026-06-14 12:00:00"), False),  # Sunday
        ("bookworm", local("2026-06-15 09:00:00"), True),  # Monday
        ("bookworm", utc("2026-03-30 06:59:59"), False),  # Monday after spring forward: 08:59:59
        ("bookworm", utc("2026-03-30 07:00:00"), True),  # 09:00 CEST
        ("bookworm", local("2026-12-25 12:00:00"), False),  # a Friday, but the hotline is closed
        # acme keeps the hotline's hours, weekends included
        ("acme", local("2026-06-10 07:59:59"), False),
        ("acme", local("2026-06-10 08:00:00"), True),
        ("acme", local("2026-06-10 20:59:59"), True),
        ("acme", local("2026-06-10 21:00:00"), False),
        ("acme", local("2026-06-13 12:00:00"), True),  # Saturday
        ("acme", local("2026-12-25 12:00:00"), False),
        # no seller known for the call
        (None, local("2026-06-10 12:00:00"), False),
        (None, local("2026-06-13 12:00:00"), False),
    ],
)
def test_seller_available(seller: str | None, now: datetime, expected: bool) -> None:
    who = None if seller is None else SELLERS[seller]
    holds = branch_holds("seller_available", hours=HOURS, seller=who, question=None, now=now)
    assert holds is expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (None, False),
        ("", False),
        ("text", True),
        ("Where is my parcel?", True),
    ],
)
@pytest.mark.parametrize("now", [local("2026-06-10 12:00:00"), local("2026-12-25 03:00:00")])
def test_has_question(question: str | None, now: datetime, expected: bool) -> None:
    holds = branch_holds("has_question", hours=HOURS, seller=None, question=question, now=now)
    assert holds is expected


@pytest.mark.parametrize("test", BRANCH_TESTS)
def test_every_branch_test_of_the_flow_format_is_known(test: str) -> None:
    holds = branch_holds(
        test, hours=HOURS, seller=SELLERS["acme"], question="text", now=local("2026-06-10 12:00")
    )
    assert holds is True


@pytest.mark.parametrize("test", ["hotline_closed", "HOTLINE_OPEN", "seller open", ""])
def test_unknown_branch_test_raises(test: str) -> None:
    with pytest.raises(FlowError, match=re.escape(f"unknown branch test {test!r}")):
        branch_holds(test, hours=HOURS, seller=None, question=None, now=local("2026-06-10 12:00"))
