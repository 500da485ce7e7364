"""One config value's check (``hotline.config.values``): what each accepts, what it names."""

from __future__ import annotations

from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hotline.config import values
from hotline.config.reader import Section
from hotline.errors import ConfigError

SOURCE = "config.toml"


def section(**data: Any) -> Section:
    """The ``[hotline]`` table of ``config.toml`` holding ``data``."""
    return Section(data, "hotline", SOURCE)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://hotline:secret@db/hotline",
            "postgresql+psycopg://hotline:***@db/hotline",
        ),
        ("postgresql://hotline:p%40ss@db:5432/hotline", "postgresql://hotline:***@db:5432/hotline"),
        ("postgresql://hotline@db/hotline", "postgresql://hotline@db/hotline"),  # no password
        ("sqlite:///instance/hotline.db", "sqlite:///instance/hotline.db"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert values.without_password(url) == shown


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://hotline.example.com/", "https://hotline.example.com"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("https://example.com/hotline", "https://example.com/hotline"),
        ("", None),
    ],
)
def test_a_public_base_url_loses_its_trailing_slash(given: str, expected: str | None) -> None:
    assert values.public_base_url(section(public_base_url=given), "public_base_url") == expected


@pytest.mark.parametrize(
    "given",
    [
        "hotline.example.com",
        "ftp://hotline.example.com",
        "https://",
        "https://h.example.com:0",
        "https://h.example.com:99999",
        "https://h.example.com/?a=1",
        "https://h.example.com/#top",
    ],
)
def test_a_public_base_url_must_be_an_http_address_without_query(given: str) -> None:
    with pytest.raises(ConfigError) as refused:
        values.public_base_url(section(public_base_url=given), "public_base_url")
    assert str(refused.value) == (
        f"{SOURCE}: hotline.public_base_url: expected an http(s) URL like "
        f"https://hotline.example.com, got {given!r}"
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [("601 100 200", "+48601100200"), ("+44 20 7946 0958", "+442079460958")],
)
def test_a_phone_is_read_in_the_default_region(given: str, expected: str) -> None:
    assert values.phone(section(phone=given), "phone", "PL") == expected


@pytest.mark.parametrize("given", ["", "x" * (values.LANGUAGE_MAX + 1)])
def test_a_language_code_fits_the_store(given: str) -> None:
    with pytest.raises(ConfigError, match=r"hotline\.language: expected a language code"):
        values.language(section(language=given), "language")


def test_hours_must_close_after_they_open() -> None:
    hours = Section({"opens": "09:00", "closes": "08:30"}, "hours", SOURCE)
    with pytest.raises(ConfigError) as refused:
        values.schedule(hours, ZoneInfo("Europe/Warsaw"))
    assert str(refused.value) == (
        f"{SOURCE}: hours.closes: expected a time after opens (09:00), got '08:30'"
    )


def test_a_sellers_hours_default_to_the_hotlines() -> None:
    tz = ZoneInfo("Europe/Warsaw")
    hotline = values.schedule(Section({"opens": "08:00", "days": ["mon"]}, "hours", SOURCE), tz)
    seller = values.schedule(Section({"closes": "12:00"}, "sellers[0].hours", SOURCE), tz, hotline)
    assert (seller.opens, seller.closes, seller.days) == (time(8), time(12), hotline.days)
