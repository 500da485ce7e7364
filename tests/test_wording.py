"""What prompts say about a call: placeholder values, the next opening in words, digits spoken."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time
from typing import Any

import pytest

from hotline.config.settings import load_settings
from hotline.ivr.flow_file import load_flow
from hotline.ivr.wording import call_values, placeholders, reopens, spell_digits, spoken_phone
from hotline.rules import phones
from hotline.store.callstate import CallState
from tests.conftest import ROOT

SETTINGS = load_settings(ROOT / "config.toml")
FLOW = load_flow(SETTINGS.flows_dir, SETTINGS.flow)
HOURS = SETTINGS.hours  # 08:00-21:00 every day, closed 2026-12-25, 2026-12-26 and 2027-01-01
WARSAW = SETTINGS.timezone
SELLERS = {seller.id: seller for seller in SETTINGS.sellers}
STARTED = datetime(2026, 6, 10, 12, tzinfo=UTC)
BARE = {"opens": "08:00", "closes": "21:00", "question": "", "order": ""}


def local(text: str) -> datetime:
    """A Warsaw wall-clock time, e.g. ``local("2026-03-29 08:00:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=WARSAW)


def utc(text: str) -> datetime:
    """A UTC instant, e.g. ``utc("2026-03-29 06:00:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def a_call(**known: Any) -> CallState:
    """A call in progress that knows ``known`` (topic, order_id, question, ...)."""
    return CallState(
        sid="CA00000000000000000000000000000001",
        language="en",
        started_at=STARTED,
        updated_at=STARTED,
        step="main_menu",
        **known,
    )


@pytest.mark.parametrize(
    ("known", "language", "seller", "expected"),
    [
        ({}, None, None, BARE),
        ({}, "en", None, BARE),
        (
            {"question": "Where is my parcel?"},
            "en",
            None,
            {**BARE, "question": "Where is my parcel"},
        ),
        (
            {"question": "Is it waterproof?!. "},
            "en",
            None,
            {**BARE, "question": "Is it waterproof"},
        ),
        (
            {"question": "Does version 2.0 fit"},
            "en",
            None,
            {**BARE, "question": "Does version 2.0 fit"},
        ),
        ({"question": "?! ..."}, "en", None, BARE),
        ({"question": ""}, "en", None, BARE),
        ({"order_id": "1234567"}, "en", None, {**BARE, "order": "1 2 3 4 5 6 7"}),
        ({"order_id": "7"}, "en", None, {**BARE, "order": "7"}),
        ({"topic": "product"}, "en", None, {**BARE, "topic": "a product question"}),
        ({"topic": "product"}, "pl", None, {**BARE, "topic": "pytanie o produkt"}),
        ({"topic": "delivery_problem"}, "en", None, {**BARE, "topic": "a delivery problem"}),
        ({"topic": "agent"}, "pl", None, {**BARE, "topic": "pytanie do konsultanta"}),
        ({"topic": "mystery"}, "en", None, {**BARE, "topic": "mystery"}),  # no prompt: its name
        ({"topic": "product"}, None, None, BARE),  # no language: no topic
        ({"topic": ""}, "en", None, BARE),
        (
            {},
            "en",
            "acme",
            {**BARE, "seller": "Acme Electronics", "seller_phone": "4 8, 6 0 0, 3 0 0, 4 0 0"},
        ),
        (
            {},
            None,
            "bookworm",
            {**BARE, "seller": "Bookworm Books", "seller_phone": "4 8, 6 0 0, 5 0 0, 6 0 0"},
        ),
        (
            {"topic": "cancellation", "order_id": "4567890", "question": "Can I return it?"},
            "en",
            "greenleaf",
            {
                "opens": "08:00",
                "closes": "21:00",
                "question": "Can I return it",
                "order": "4 5 6 7 8 9 0",
                "topic": "a cancellation or return",
                "seller": "Greenleaf Garden",
                "seller_phone": "4 8, 6 0 0, 7 0 0, 8 0 0",
            },
        ),
    ],
)
def test_call_values(
    known: dict[str, str], language: str | None, seller: str | None, expected: dict[str, str]
) -> None:
    lang = None if language is None else FLOW.languages[language]
    who = None if seller is None else SELLERS[seller]
    assert call_values(HOURS, a_call(**known), lang, who) == expected


def test_call_values_read_the_hours_given() -> None:
    hours = dataclasses.replace(HOURS, opens=time(9, 30), closes=time(17, 5))
    values = call_values(hours, a_call(), None, None)
    assert (values["opens"], values["closes"]) == ("09:30", "17:05")


# (now, the prompt for how far away the next opening is, its local date)
REOPENS = [
    # an ordinary Wednesday: before opening it is today, from the opening moment on tomorrow
    (local("2026-06-10 00:00:00"), "reopens_today", "2026-06-10"),
    (local("2026-06-10 07:59:59"), "reopens_today", "2026-06-10"),
    (local("2026-06-10 08:00:00"), "reopens_today", "2026-06-10"),  # now itself is the opening
    (local("2026-06-10 08:00:01"), "reopens_tomorrow", "2026-06-11"),
    (local("2026-06-10 12:00:00"), "reopens_tomorrow", "2026-06-11"),
    (local("2026-06-10 20:59:59"), "reopens_tomorrow", "2026-06-11"),
    (local("2026-06-10 21:00:00"), "reopens_tomorrow", "2026-06-11"),
    (local("2026-06-10 23:59:59"), "reopens_tomorrow", "2026-06-11"),
    # "today" is the Warsaw date: 22:30 UTC on the 10th is 00:30 on the 11th
    (utc("2026-06-10 22:30:00"), "reopens_today", "2026-06-11"),
    # closed 2026-12-25 and 2026-12-26
    (local("2026-12-24 07:00:00"), "reopens_today", "2026-12-24"),
    (local("2026-12-24 21:00:00"), "reopens_later", "2026-12-27"),
    (local("2026-12-25 00:00:00"), "reopens_later", "2026-12-27"),
    (local("2026-12-25 12:00:00"), "reopens_later", "2026-12-27"),
    (local("2026-12-26 07:59:59"), "reopens_tomorrow", "2026-12-27"),
    (local("2026-12-26 22:00:00"), "reopens_tomorrow", "2026-12-27"),
    (utc("2026-12-25 23:30:00"), "reopens_tomorrow", "2026-12-27"),  # 00:30 on the 26th
    # closed 2027-01-01
    (local("2026-12-31 21:00:00"), "reopens_later", "2027-01-02"),
    (local("2027-01-01 10:00:00"), "reopens_tomorrow", "2027-01-02"),
    # spring forward, 2026-03-29: 02:00 CET -> 03:00 CEST, 08:00 is 06:00 UTC
    (local("2026-03-28 21:00:00"), "reopens_tomorrow", "2026-03-29"),
    (utc("2026-03-29 00:30:00"), "reopens_today", "2026-03-29"),  # 01:30 CET
    (utc("2026-03-29 01:30:00"), "reopens_today", "2026-03-29"),  # 03:30 CEST
    (utc("2026-03-29 05:59:59"), "reopens_today", "2026-03-29"),  # 07:59:59 CEST
    (utc("2026-03-29 06:00:00"), "reopens_today", "2026-03-29"),  # 08:00 CEST
    (utc("2026-03-29 06:00:01"), "reopens_tomorrow", "2026-03-30"),
    # fall back, 2026-10-25: 03:00 CEST -> 02:00 CET, 08:00 is 07:00 UTC
    (local("2026-10-24 21:00:00"), "reopens_tomorrow", "2026-10-25"),
    (utc("2026-10-25 00:30:00"), "reopens_today", "2026-10-25"),  # 02:30 CEST
    (utc("2026-10-25 01:30:00"), "reopens_today", "2026-10-25"),  # 02:30 CET, the second time
    (utc("2026-10-25 06:59:59"), "reopens_today", "2026-10-25"),  # 07:59:59 CET
    (utc("2026-10-25 07:00:00"), "reopens_today", "2026-10-25"),  # 08:00 CET
    (utc("2026-10-25 07:00:01"), "reopens_tomorrow", "2026-10-26"),
]


@pytest.mark.parametrize(("now", "prompt", "day"), REOPENS)
def test_reopens(now: datetime, prompt: str, day: str) -> None:
    said = reopens(FLOW, "en", HOURS, now)
    assert said == FLOW.prompt("en", prompt, time="08:00", date=day)
    assert "08:00" in said
    assert (day in said) is (prompt == "reopens_later")


@pytest.mark.parametrize(
    ("language", "now", "expected"),
    [
        ("en", local("2026-06-10 07:00:00"), "today at 08:00"),
        ("en", local("2026-06-10 21:00:00"), "tomorrow at 08:00"),
        ("en", local("2026-12-24 21:00:00"), "on 2026-12-27 at 08:00"),
        ("pl", local("2026-06-10 07:00:00"), "dziś o 08:00"),
        ("pl", local("2026-06-10 21:00:00"), "jutro o 08:00"),
        ("pl", local("2026-12-24 21:00:00"), "2026-12-27 o 08:00"),
    ],
)
def test_reopens_in_words(language: str, now: datetime, expected: str) -> None:
    assert reopens(FLOW, language, HOURS, now) == expected


def test_reopens_at_the_schedules_opening_time() -> None:
    hours = dataclasses.replace(HOURS, opens=time(9, 30))
    assert reopens(FLOW, "en", hours, local("2026-06-10 21:00:00")) == "tomorrow at 09:30"


def test_reopens_says_nothing_when_the_hours_never_open() -> None:
    never = dataclasses.replace(HOURS, days=frozenset())
    assert reopens(FLOW, "en", never, local("2026-06-10 21:00:00")) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ""),
        ("7", "7"),
        ("1234567", "1 2 3 4 5 6 7"),
        ("0012", "0 0 1 2"),
        ("12#", "1 2 #"),
    ],
)
def test_spell_digits(value: str, expected: str) -> None:
    assert spell_digits(value) == expected


SPOKEN = [
    ("+48600300400", "4 8, 6 0 0, 3 0 0, 4 0 0"),
    ("+48601100200", "4 8, 6 0 1, 1 0 0, 2 0 0"),
    ("+442071000000", "4 4, 2 0 7, 1 0 0, 0 0, 0 0"),
    ("+390612345678", "3 9, 0 6 1, 2 3 4, 5 6, 7 8"),  # Italy keeps its leading zero
    ("+12025550123", "1, 2 0 2, 5 5 5, 0 1, 2 3"),
]


@pytest.mark.parametrize(("number", "expected"), SPOKEN)
def test_spoken_phone(number: str, expected: str) -> None:
    assert spoken_phone(number) == expected


@pytest.mark.parametrize(
    "number", [n for n, _ in SPOKEN] + [seller.phone for seller in SETTINGS.sellers]
)
def test_spoken_phone_is_every_digit_in_groups(number: str) -> None:
    spoken = spoken_phone(number)
    groups = spoken.split(", ")
    assert [group.replace(" ", "") for group in groups] == phones.spoken_groups(number)
    for group in groups:
        digits = group.replace(" ", "")
        assert digits.isdigit() and group == " ".join(digits)
    assert "".join(ch for ch in spoken if ch.isdigit()) == number.lstrip("+")


@pytest.mark.parametrize(
    ("template", "names"),
    [
        ("For a question about a product, press 1.", set()),
        ("Order {order} from {seller}.", {"order", "seller"}),
        ("{order}{order} again", {"order"}),
        ("Braces {{kept}} and {reopens}", {"reopens"}),
        ("{order.digits} and {seller[0]}", {"order", "seller"}),
        ("unclosed {order", {"{"}),  # malformed: the prompt gets every value and fails as before
    ],
)
def test_placeholders_a_prompt_fills(template: str, names: set[str]) -> None:
    assert placeholders(template) == names
