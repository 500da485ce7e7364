"""Phone numbers: E.164 normalisation, masking for logs, groups for speaking."""

from __future__ import annotations

import re

import pytest

from hotline.rules.phones import (
    mask,
    mask_every_digit,
    mask_in_text,
    normalise,
    normalise_or_none,
    spoken_groups,
)


@pytest.mark.parametrize(
    ("number", "region", "expected"),
    [
        ("+48601100200", None, "+48601100200"),
        ("+48 601 100 200", None, "+48601100200"),
        ("+48-601-100-200", "GB", "+48601100200"),  # a leading + wins over the region
        ("601 100 200", "PL", "+48601100200"),
        ("22 100 00 00", "PL", "+48221000000"),
        ("020 7100 0000", "GB", "+442071000000"),
        ("(212) 555-1234", "US", "+12125551234"),
    ],
)
def test_normalise(number: str, region: str | None, expected: str) -> None:
    assert normalise(number, region) == expected


@pytest.mark.parametrize(
    ("number", "region"),
    [
        ("hello", "PL"),
        ("", "PL"),
        ("anonymous", None),
        ("601100200", None),  # national without a region
        ("+48 12", None),  # too short
        ("+48 601 100 200 300 400 500", None),  # too long
    ],
)
def test_normalise_refuses_garbage(number: str, region: str | None) -> None:
    with pytest.raises(ValueError, match="phone number"):
        normalise(number, region)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("anonymous", None),
        ("Restricted", None),
        ("", None),
        ("+48 12", None),
        ("+48601100200", "+48601100200"),
        ("601100200", "+48601100200"),
    ],
)
def test_normalise_or_none(number: str, expected: str | None) -> None:
    assert normalise_or_none(number, "PL") == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+48601100200", "+48******200"),
        ("+442071000000", "+44*******000"),
        ("+12125551234", "+1*******234"),  # a one-digit country code shows one digit
        ("+420601123456", "+420******456"),
        ("601100200", "******200"),
        ("+4860110", "+48**110"),
        ("+123456", "+1**456"),
        ("12345", "***"),
        ("+48", "***"),
        ("", "-"),
        (None, "-"),
    ],
)
def test_mask(number: str | None, expected: str) -> None:
    assert mask(number) == expected


@pytest.mark.parametrize(
    ("number", "country_code"),
    [
        ("+48601100200", "48"),
        ("+12125551234", "1"),
        ("+420601123456", "420"),
        ("+442071000000", "44"),
        ("+4860110", "48"),
        ("601100200", ""),
        ("6011002001234", ""),
    ],
)
def test_mask_shows_at_most_country_code_and_last_three(number: str, country_code: str) -> None:
    masked = mask(number)
    assert len(masked) == len(number)
    digits = number.lstrip("+")
    shown = re.sub(r"\D", "", masked)
    assert shown == country_code + digits[-3:]
    assert masked.startswith(("+" if number.startswith("+") else "") + country_code)
    assert masked.endswith(digits[-3:])


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+48600300400", ["48", "600", "300", "400"]),
        ("+442071000000", ["44", "207", "100", "00", "00"]),
        ("+12125551234", ["1", "212", "555", "12", "34"]),
        ("+390612345678", ["39", "061", "234", "56", "78"]),  # Italy keeps its leading 0
        ("+4860110", ["48", "601", "10"]),
    ],
)
def test_spoken_groups(number: str, expected: list[str]) -> None:
    groups = spoken_groups(number)
    assert groups == expected
    assert "".join(groups) == number.lstrip("+")
    assert all(len(g) in (2, 3) for g in groups[1:])


def test_spoken_groups_of_garbage_spells_it_out() -> None:
    assert spoken_groups("abc") == ["a b c"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "HTTP 400 error: The number +48601100901 is unverified.",
            "HTTP 400 error: The number +48******901 is unverified.",
        ),
        (
            "The 'To' number 4915112345678 is not valid",
            "The 'To' number **********678 is not valid",
        ),
        # CallSids, account SIDs, error codes and URLs of them stay as they are.
        (
            "call CA00000000000000000000000000000001 error 21219 /Accounts/AC123456789/Calls.json",
            "call CA00000000000000000000000000000001 error 21219 /Accounts/AC123456789/Calls.json",
        ),
        ("no number here", "no number here"),
        # In a URL's query the plus is "%2B" (a request Twilio made, a REST error's URL).
        (
            "GET /2010-04-01/Messages.json?To=%2B48601100200&From=%2b442071000000",
            "GET /2010-04-01/Messages.json?To=%2B********200&From=%2b*********000",
        ),
        ("x%2B1234 and %2BAC48601100200", "x%2B1234 and %2BAC48601100200"),
    ],
)
def test_mask_in_text(text: str, expected: str) -> None:
    assert mask_in_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("601300400#", "******400#"),
        ("601 300 400", "*** *** 400"),
        ("+48 (601) 300-400", "+** (***) ***-400"),
        ("1", "1"),  # a key, no number
        ("1234", "1234"),
        ("12345", "**345"),
        ("", ""),
    ],
)
def test_mask_every_digit(text: str, expected: str) -> None:
    assert mask_every_digit(text) == expected
