"""Reading a REST request's parameters as Twilio does, refusing malformed ones with its codes.

Twilio takes form-encoded bodies (and query strings for lists) with CamelCase keys; a list is the
key repeated (``StatusCallbackEvent=ringing&StatusCallbackEvent=answered``), and for the event
lists Twilio also documents values separated by spaces. Booleans are ``true`` / ``false``.
Validation here is only of the request itself (a parameter missing or malformed); whether the
request makes sense for the live calls is the switchboard's to say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import cast
from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.datastructures import MultiDict

from hotline.sim.rest.switchboard import RestError, Switchboard

#: Where the app factory keeps the switchboard in ``app.extensions``.
EXTENSION = "hotline_rest_switchboard"

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_CLIENT = re.compile(r"client:[^\s]+")
_SIP = re.compile(r"sip:[^\s@]+@[^\s]+")
_SHORT_CODE = re.compile(r"[0-9]{3,8}")
_ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
_CHANNEL_ADDRESS = re.compile(r"[a-z]+:[^\s]+")  # whatsapp:+1..., messenger:123...

CALL_EVENTS = ("initiated", "ringing", "answered", "completed")
CONFERENCE_EVENTS = (
    "start",
    "end",
    "join",
    "leave",
    "mute",
    "hold",
    "modify",
    "speaker",
    "announcement",
)


def switchboard() -> Switchboard:
    """The switchboard the stand-in serving this request was given."""
    return cast(Switchboard, current_app.extensions[EXTENSION])


def bad(code: int, message: str) -> RestError:
    """A 400 with Twilio's ``code``."""
    return RestError(400, code, message)


class Params:
    """One request's parameters (the form body of a POST, the query string of a GET)."""

    def __init__(self, values: MultiDict[str, str]) -> None:
        self._values = values

    @classmethod
    def of_request(cls) -> Params:
        """The current request's parameters: query string and form body together."""
        merged: MultiDict[str, str] = MultiDict(request.args)
        for key, value in request.form.items(multi=True):
            merged.add(key, value)
        return cls(merged)

    def text(self, name: str) -> str | None:
        """The parameter's value, or ``None`` when it is absent or empty."""
        value = self._values.get(name)
        return value if value else None

    def raw(self, name: str) -> str | None:
        """The parameter's value as sent (an empty one is ``""``), ``None`` when absent."""
        return self._values.get(name)

    def required(self, name: str, code: int, message: str) -> str:
        """The parameter's value; absent or empty is a 400 with ``code``."""
        value = self.text(name)
        if value is None:
            raise bad(code, message)
        return value

    def url(self, name: str, code: int) -> str | None:
        """An absolute http(s) URL (Twilio calls it from outside, so a path alone will not do)."""
        value = self.text(name)
        if value is not None and not is_absolute_url(value):
            raise bad(code, f"{name} is not a valid URL: {value}")
        return value

    def method(self, name: str, default: str, code: int = 21209) -> str:
        """``GET`` or ``POST`` (case-insensitive); anything else is a 400 with ``code``."""
        value = self.text(name)
        if value is None:
            return default
        if value.upper() not in ("GET", "POST"):
            raise bad(code, f"{name} must be GET or POST, got {value!r}")
        return value.upper()

    def boolean(self, name: str) -> bool | None:
        """``true`` / ``false`` (case-insensitive), ``None`` when absent."""
        value = self.text(name)
        if value is None:
            return None
        if value.lower() not in ("true", "false"):
            raise bad(20001, f"{name} must be true or false, got {value!r}")
        return value.lower() == "true"

    def integer(self, name: str, low: int, high: int | None = None) -> int | None:
        """A whole number in ``low``..``high`` (Twilio's documented range), ``None`` when absent."""
        value = self.text(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            raise bad(20001, f"{name} must be a whole number, got {value!r}") from None
        if number < low or (high is not None and number > high):
            limits = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise bad(20001, f"{name} must be {limits}, got {number}")
        return number

    def listed(self, name: str) -> list[str]:
        """Every value of a repeated parameter, in order."""
        return [value for value in self._values.getlist(name) if value]

    def events(self, name: str, allowed: Iterable[str]) -> tuple[str, ...]:
        """A list of status callback events (repeated or space-separated); unknown: 21626."""
        known = tuple(allowed)
        events = [event for value in self.listed(name) for event in value.split()]
        for event in events:
            if event not in known:
                raise bad(21626, f"Invalid {name} {event!r}: expected one of {', '.join(known)}")
        return tuple(dict.fromkeys(events))

    def filters(self, *names: str) -> list[tuple[str, str]]:
        """The list filters given, as (name, value) pairs in the order named."""
        return [(name, value) for name in names if (value := self.text(name)) is not None]


def is_absolute_url(value: str) -> bool:
    """True for an http(s) URL with a host."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def is_voice_endpoint(value: str) -> bool:
    """A number in E.164, ``client:identity`` or ``sip:user@host``: what a call can reach."""
    return any(pattern.fullmatch(value) for pattern in (_E164, _CLIENT, _SIP))


def is_message_recipient(value: str) -> bool:
    """A number in E.164 or a channel address (``whatsapp:+1...``)."""
    return bool(_E164.fullmatch(value) or _CHANNEL_ADDRESS.fullmatch(value))


def is_message_sender(value: str) -> bool:
    """A number in E.164, a short code, an alphanumeric sender ID or a channel address."""
    patterns = (_E164, _SHORT_CODE, _ALPHANUMERIC_SENDER, _CHANNEL_ADDRESS)
    return any(pattern.fullmatch(value) for pattern in patterns)


def date_filters_hold(
    wanted: Mapping[str, str], name: str, moment: datetime | None, *, before_inclusive: bool = False
) -> bool:
    """Twilio's date filters on a list: ``Name=YYYY-MM-DD`` (that UTC day), ``Name<`` before it
    (on or before it for Messages' ``DateSent<``), ``Name>`` on or after it. A record without
    that time passes no filter on it."""
    tests = [(end, wanted[name + end]) for end in ("", "<", ">") if name + end in wanted]
    if not tests:
        return True
    if moment is None:
        return False
    day = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()
    for suffix, text in tests:
        try:
            limit = date.fromisoformat(text[:10])
        except ValueError:
            message = f"{name}{suffix} must be a date like 2026-11-30, got {text!r}"
            raise bad(20001, message) from None
        if suffix == "" and day != limit:
            return False
        if suffix == "<" and (day > limit if before_inclusive else day >= limit):
            return False
        if suffix == ">" and day < limit:
            return False
    return True
