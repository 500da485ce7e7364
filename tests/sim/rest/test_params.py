"""Reading request parameters: what counts as a number, URL, boolean, event list or date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from werkzeug.datastructures import MultiDict

from hotline.sim.rest.params import (
    CALL_EVENTS,
    Params,
    date_filters_hold,
    is_absolute_url,
    is_message_recipient,
    is_message_sender,
    is_voice_endpoint,
)
from hotline.sim.rest.switchboard import RestError


def params(*pairs: tuple[str, str]) -> Params:
    return Params(MultiDict(list(pairs)))


def refused(action: object, code: int) -> None:
    assert callable(action)
    with pytest.raises(RestError) as caught:
        action()
    assert (caught.value.status, caught.value.code) == (400, code)


@pytest.mark.parametrize(
    ("value", "voice", "recipient", "sender"),
    [
        ("+48600300400", True, True, True),
        ("+14158675308", True, True, True),
        ("48600300400", False, False, False),  # no +, and too long for a short code
        ("+0123", False, False, False),  # no country code starts with 0
        ("+1234567890123456", False, False, False),  # longer than E.164 allows
        ("client:alice", True, True, True),
        ("sip:alice@example.com", True, True, True),
        ("whatsapp:+48600300400", False, True, True),
        ("12345", False, False, True),  # a short code sends
        ("Hotline", False, False, True),  # an alphanumeric sender ID sends
        ("Hotline 24 7", False, False, False),  # longer than 11 characters
        ("(415) 867-5308", False, False, False),
        ("", False, False, False),
    ],
)
def test_addresses(value: str, voice: bool, recipient: bool, sender: bool) -> None:
    assert is_voice_endpoint(value) is voice
    assert is_message_recipient(value) is recipient
    assert is_message_sender(value) is sender


@pytest.mark.parametrize(
    ("url", "absolute"),
    [
        ("https://app.example.com/voice", True),
        ("http://127.0.0.1:5000/voice?x=1", True),
        ("/voice", False),
        ("ftp://app.example.com/voice", False),
        ("https:///voice", False),
        ("app.example.com/voice", False),
    ],
)
def test_urls_must_be_absolute_http(url: str, absolute: bool) -> None:
    assert is_absolute_url(url) is absolute
    if not absolute:
        refused(lambda: params(("Url", url)).url("Url", 21205), 21205)


def test_methods_booleans_and_numbers() -> None:
    given = params(("Method", "get"), ("Muted", "TRUE"), ("Hold", "false"), ("Timeout", "30"))
    assert given.method("Method", "POST") == "GET"
    assert given.method("Absent", "POST") == "POST"
    assert (given.boolean("Muted"), given.boolean("Hold"), given.boolean("Absent")) == (
        True,
        False,
        None,
    )
    assert given.integer("Timeout", 5, 600) == 30
    refused(lambda: params(("Method", "PUT")).method("Method", "POST"), 21209)
    refused(lambda: params(("Muted", "yes")).boolean("Muted"), 20001)
    refused(lambda: params(("Timeout", "4")).integer("Timeout", 5, 600), 20001)
    refused(lambda: params(("Timeout", "601")).integer("Timeout", 5, 600), 20001)
    refused(lambda: params(("Timeout", "ten")).integer("Timeout", 5, 600), 20001)


def test_empty_is_absent_except_when_read_raw() -> None:
    given = params(("WaitUrl", ""))
    assert (given.text("WaitUrl"), given.raw("WaitUrl"), given.raw("Other")) == (None, "", None)
    refused(lambda: given.required("WaitUrl", 20001, "missing"), 20001)


def test_event_lists_are_repeated_keys_or_spaces() -> None:
    given = params(
        ("StatusCallbackEvent", "initiated ringing"),
        ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "ringing"),
    )
    assert given.events("StatusCallbackEvent", CALL_EVENTS) == ("initiated", "ringing", "answered")
    assert params().events("StatusCallbackEvent", CALL_EVENTS) == ()
    refused(
        lambda: params(("StatusCallbackEvent", "busy")).events("StatusCallbackEvent", CALL_EVENTS),
        21626,
    )


def test_filters_keep_the_order_named_and_skip_the_absent() -> None:
    given = params(("From", "+1"), ("To", "+2"), ("PageSize", "2"))
    assert given.filters("To", "From", "Status") == [("To", "+2"), ("From", "+1")]


NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("wanted", "holds"),
    [
        ({}, True),
        ({"StartTime": "2026-11-30"}, True),
        ({"StartTime": "2026-11-29"}, False),
        ({"StartTime": "2026-11-30T00:00:00Z"}, True),  # twilio's serializer sends a datetime so
        ({"StartTime<": "2026-11-30"}, False),  # before that day
        ({"StartTime<": "2026-12-01"}, True),
        ({"StartTime>": "2026-11-30"}, True),  # on or after it
        ({"StartTime>": "2026-12-01"}, False),
    ],
)
def test_date_filters(wanted: dict[str, str], holds: bool) -> None:
    assert date_filters_hold(wanted, "StartTime", NOON) is holds


def test_date_filters_on_a_missing_time_and_the_inclusive_before() -> None:
    assert date_filters_hold({"EndTime": "2026-11-30"}, "EndTime", None) is False
    assert date_filters_hold({"EndTime<": "2026-11-30"}, "EndTime", NOON) is False
    assert date_filters_hold({"DateSent<": "2026-11-30"}, "DateSent", NOON, before_inclusive=True)
    refused(lambda: date_filters_hold({"StartTime": "yesterday"}, "StartTime", NOON), 20001)
