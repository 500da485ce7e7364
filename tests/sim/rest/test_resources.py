"""The records in Twilio's JSON shapes: exactly the properties Twilio's API description lists.

The property sets below are those of Twilio's OpenAPI description of the 2010-04-01 API
(twilio/twilio-oai, ``spec/json/twilio_api_v2010.json``, components ``api.v2010.account.call``,
``.queue``, ``.queue.member``, ``.conference``, ``.conference.participant``, ``.message``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest

from hotline.sim.rest.resources import (
    call_json,
    conference_json,
    formatted,
    member_json,
    message_json,
    participant_json,
    queue_json,
    segments,
)
from hotline.sim.rest.switchboard import (
    CallRecord,
    ConferenceRecord,
    MemberRecord,
    MessageRecord,
    ParticipantRecord,
    QueueRecord,
)
from hotline.sim.rest.wire import JSON

AC = "AC" + "a" * 32
AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 30, 10, 1, 30, tzinfo=UTC)

CALL_KEYS = set(
    "sid date_created date_updated parent_call_sid account_sid to to_formatted from "
    "from_formatted phone_number_sid status start_time end_time duration price price_unit "
    "direction answered_by api_version forwarded_from group_sid caller_name queue_time trunk_sid "
    "uri subresource_uris".split()
)
QUEUE_KEYS = set(
    "date_updated current_size friendly_name uri account_sid average_wait_time sid date_created "
    "max_size".split()
)
MEMBER_KEYS = set("call_sid date_enqueued position uri wait_time queue_sid".split())
CONFERENCE_KEYS = set(
    "account_sid date_created date_updated api_version friendly_name region sid status uri "
    "subresource_uris reason_conference_ended call_sid_ending_conference".split()
)
PARTICIPANT_KEYS = set(
    "account_sid call_sid label call_sid_to_coach coaching conference_sid date_created "
    "date_updated end_conference_on_exit muted hold start_conference_on_enter status queue_time "
    "uri".split()
)
MESSAGE_KEYS = set(
    "body num_segments direction from to date_updated price error_message uri account_sid "
    "num_media status messaging_service_sid sid date_sent date_created error_code price_unit "
    "api_version subresource_uris".split()
)


def when(text: str) -> datetime:
    """Parse an RFC 2822 time, as twilio's deserializer does."""
    return parsedate_to_datetime(text)


def test_a_finished_call() -> None:
    call = CallRecord(
        "CA" + "1" * 32, "+14158675308", "client:alice", "completed", "outbound-api", AT, LATER,
        parent_call_sid="CA" + "2" * 32, start_time=AT, end_time=LATER, duration=90,
        queue_time=1000, answered_by="human",
    )  # fmt: skip
    body = call_json(call, AC)
    assert set(body) == CALL_KEYS
    uri = f"/2010-04-01/Accounts/{AC}/Calls/{call.sid}"
    assert body["uri"] == uri + ".json"
    assert body["subresource_uris"]["recordings"] == uri + "/Recordings.json"
    assert body["subresource_uris"]["events"] == uri + "/Events.json"
    assert (body["from"], body["from_formatted"]) == ("+14158675308", "(415) 867-5308")
    assert (body["to"], body["to_formatted"]) == ("client:alice", "client:alice")
    assert (body["duration"], body["queue_time"]) == ("90", "1000")  # Twilio sends these as text
    assert when(body["end_time"]) == LATER and when(body["date_created"]) == AT
    assert (body["price"], body["price_unit"], body["api_version"]) == (None, None, "2010-04-01")
    assert (body["account_sid"], body["parent_call_sid"]) == (AC, "CA" + "2" * 32)


def test_a_call_in_progress_has_no_end_or_duration() -> None:
    body = call_json(
        CallRecord("CA1", "+48601100200", "+442071000000", "queued", "inbound", AT, AT), AC
    )
    assert (body["end_time"], body["duration"], body["start_time"]) == (None, None, None)
    assert body["from_formatted"] == "+48601100200"  # outside North America: E.164


def test_a_queue_and_its_member() -> None:
    queue = queue_json(QueueRecord("QU1", "support", 2, 100, 30, AT, LATER), AC)
    assert set(queue) == QUEUE_KEYS
    assert (queue["current_size"], queue["max_size"], queue["average_wait_time"]) == (2, 100, 30)
    assert queue["uri"] == f"/2010-04-01/Accounts/{AC}/Queues/QU1.json"
    member = member_json(MemberRecord("CA1", "QU1", AT, 1, 45), AC)
    assert set(member) == MEMBER_KEYS
    assert member["uri"] == f"/2010-04-01/Accounts/{AC}/Queues/QU1/Members/CA1.json"
    assert (member["position"], member["wait_time"], when(member["date_enqueued"])) == (1, 45, AT)


def test_a_conference_and_its_participant() -> None:
    record = ConferenceRecord(
        "CF1", "room", "completed", AT, LATER, reason_conference_ended="last-participant-left",
        call_sid_ending_conference="CA1",
    )  # fmt: skip
    conference = conference_json(record, AC)
    assert set(conference) == CONFERENCE_KEYS
    assert conference["subresource_uris"]["participants"] == (
        f"/2010-04-01/Accounts/{AC}/Conferences/CF1/Participants.json"
    )
    assert (conference["region"], conference["reason_conference_ended"]) == (
        "us1", "last-participant-left",
    )  # fmt: skip
    participant = participant_json(
        ParticipantRecord(
            "CA1", "CF1", "agent", "connected", True, False, True, False, True, AT, AT, "CA2"
        ),
        AC,
    )
    assert set(participant) == PARTICIPANT_KEYS
    assert participant["uri"] == f"/2010-04-01/Accounts/{AC}/Conferences/CF1/Participants/CA1.json"
    assert (participant["hold"], participant["muted"], participant["coaching"]) == (
        True,
        False,
        True,
    )
    assert (participant["label"], participant["call_sid_to_coach"]) == ("agent", "CA2")


def test_a_message() -> None:
    record = MessageRecord(
        "MM1", "+48600300400", "", "Your parcel", "queued", AT, "MG" + "1" * 32,
        ("https://example.com/a.png", "https://example.com/b.png"),
    )  # fmt: skip
    body = message_json(record, AC)
    assert set(body) == MESSAGE_KEYS
    assert (body["direction"], body["status"], body["num_media"], body["num_segments"]) == (
        "outbound-api", "queued", "2", "1",
    )  # fmt: skip
    assert body["from"] is None  # sent through a Messaging Service: no number picked offline
    assert body["subresource_uris"] == {
        "media": f"/2010-04-01/Accounts/{AC}/Messages/MM1/Media.json"
    }


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("+14158675308", "(415) 867-5308"),
        ("+48601100200", "+48601100200"),
        ("+1415867530", "+1415867530"),  # too short for North America: left alone
        ("client:alice", "client:alice"),
        ("sip:alice@example.com", "sip:alice@example.com"),
    ],
)
def test_numbers_are_formatted_as_twilio_shows_them(address: str, shown: str) -> None:
    assert formatted(address) == shown


@pytest.mark.parametrize(
    ("body", "parts"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("[" * 80, 1),  # extension characters take two septets each
        ("[" * 81, 2),
        ("ż" * 70, 1),  # not GSM-7: UCS-2, 70 a message
        ("ż" * 71, 2),
        ("ż" * 134, 2),
        ("ż" * 135, 3),
        ("👍" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("👍" * 36, 2),
    ],
)
def test_segments_follow_gsm7_and_ucs2_limits(body: str, parts: int) -> None:
    assert segments(body) == parts


def test_every_rendered_value_is_json() -> None:
    bodies: list[JSON] = [
        call_json(CallRecord("CA1", "+1", "+2", "queued", "inbound", AT, AT), AC),
        message_json(MessageRecord("SM1", "+1", "+2", "hi", "queued", AT), AC),
    ]
    for body in bodies:
        assert json.loads(json.dumps(body)) == body
