"""Phone numbers: normalise to E.164, mask for logs, group digits for speaking."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers


@lru_cache(maxsize=4096)
def normalise(number: str, region: str | None = None) -> str:
    """``number`` in E.164 (``+48601100200``); raises ValueError when it is not a valid number."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{number!r} is not a phone number ({exc})") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{number!r} is not a possible phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def normalise_or_none(number: str, region: str | None = None) -> str | None:
    """Like ``normalise`` but ``None`` for anything that is not a number (anonymous callers)."""
    try:
        return normalise(number, region)
    except ValueError:
        return None


def mask(number: str | None) -> str:
    """A number safe for logs: country code and last three digits only (``+48******200``)."""
    if not number:
        return "-"
    digits = number.lstrip("+")
    if len(digits) <= 5:
        return "***"
    head = len(_country_code(number)) if number.startswith("+") else 0
    return (
        ("+" if number.startswith("+") else "")
        + digits[:head]
        + "*" * (len(digits) - head - 3)
        + digits[-3:]
    )


# A phone number in free text (Twilio's error messages name them): 7 to 15 digits, not part of
# a longer word (a CallSid's digits follow letters, an error code is shorter); in a URL's query
# its plus is "%2B", which a word's letters would otherwise hide.
_NUMBER_IN_TEXT = re.compile(r"(?:(?<=%2B)|(?<=%2b)|(?<![\w+])\+?)\d{7,15}(?!\w)")


def mask_every_digit(text: str, keep: int = 3) -> str:
    """``text`` with every digit but its last ``keep`` starred, however they are grouped ("601 300
    400" -> "*** *** 400"): for what a caller typed or said when asked for a number. Text with
    fewer than five digits holds no number (a key pressed to confirm) and stays as it is."""
    count = sum(ch.isdigit() for ch in text)
    if count < 5:
        return text
    shown, seen = [], 0
    for ch in text:
        if ch.isdigit():
            seen += 1
            ch = ch if seen > count - keep else "*"
        shown.append(ch)
    return "".join(shown)


def mask_in_text(text: object) -> str:
    """``text`` (an exception, a message) with every phone number in it masked, for logs."""
    return _NUMBER_IN_TEXT.sub(lambda found: mask(found.group()), str(text))


def _country_code(number: str) -> str:
    """The country calling code of an E.164-style number ("" when it has none we know)."""
    try:
        return str(phonenumbers.parse(number, None).country_code)
    except phonenumbers.NumberParseException:
        return ""


def spoken_groups(number: str) -> list[str]:
    """The number's digits in groups of two or three for reading aloud (country code first)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return [" ".join(number)]
    # The significant number keeps leading zeros that belong to it (Italy: +39 06 ...).
    national = str(phonenumbers.national_significant_number(parsed))
    groups = [str(parsed.country_code)]
    while national:
        size = 3 if len(national) not in (2, 4) else 2
        groups.append(national[:size])
        national = national[size:]
    return groups
