"""The switchboard's records in Twilio's JSON shapes (Calls, Queues, Members, Conferences...).

Keys, their order of importance and their types follow Twilio's OpenAPI description of each
resource: snake_case, RFC 2822 times, counts that Twilio sends as text (``duration``,
``num_segments``) as text, ``price`` and ``price_unit`` null (nothing is billed offline).
"""

from __future__ import annotations

from hotline.sim.rest.switchboard import (
    CallRecord,
    ConferenceRecord,
    MemberRecord,
    MessageRecord,
    ParticipantRecord,
    QueueRecord,
)
from hotline.sim.rest.wire import API_VERSION, JSON, account_path, rfc2822

_CALL_SUBRESOURCES = (
    ("notifications", "Notifications"),
    ("recordings", "Recordings"),
    ("payments", "Payments"),
    ("events", "Events"),
    ("siprec", "Siprec"),
    ("streams", "Streams"),
    ("transcriptions", "Transcriptions"),
    ("user_defined_message_subscriptions", "UserDefinedMessageSubscriptions"),
    ("user_defined_messages", "UserDefinedMessages"),
)


def formatted(address: str) -> str:
    """A number as Twilio formats it for display: North American ones as ``(415) 867-5308``."""
    digits = address[2:]
    if address.startswith("+1") and len(digits) == 10 and digits.isdigit():
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return address  # Twilio: other numbers stay in E.164; clients and SIP addresses as they are


def call_json(call: CallRecord, account_sid: str) -> JSON:
    """A Call resource."""
    uri = f"{account_path(account_sid)}/Calls/{call.sid}"
    return {
        "account_sid": account_sid,
        "answered_by": call.answered_by,
        "api_version": API_VERSION,
        "caller_name": None,
        "date_created": rfc2822(call.created),
        "date_updated": rfc2822(call.updated),
        "direction": call.direction,
        "duration": None if call.duration is None else str(call.duration),
        "end_time": rfc2822(call.end_time),
        "forwarded_from": None,
        "from": call.from_,
        "from_formatted": formatted(call.from_),
        "group_sid": None,
        "parent_call_sid": call.parent_call_sid,
        "phone_number_sid": None,
        "price": None,
        "price_unit": None,
        "queue_time": str(call.queue_time),
        "sid": call.sid,
        "start_time": rfc2822(call.start_time),
        "status": call.status,
        "subresource_uris": {name: f"{uri}/{part}.json" for name, part in _CALL_SUBRESOURCES},
        "to": call.to,
        "to_formatted": formatted(call.to),
        "trunk_sid": None,
        "uri": f"{uri}.json",
    }


def queue_json(queue: QueueRecord, account_sid: str) -> JSON:
    """A Queue resource."""
    return {
        "account_sid": account_sid,
        "average_wait_time": queue.average_wait_time,
        "current_size": queue.current_size,
        "date_created": rfc2822(queue.created),
        "date_updated": rfc2822(queue.updated),
        "friendly_name": queue.friendly_name,
        "max_size": queue.max_size,
        "sid": queue.sid,
        "uri": f"{account_path(account_sid)}/Queues/{queue.sid}.json",
    }


def member_json(member: MemberRecord, account_sid: str) -> JSON:
    """A Queue Member resource."""
    queue_path = f"{account_path(account_sid)}/Queues/{member.queue_sid}"
    return {
        "call_sid": member.call_sid,
        "date_enqueued": rfc2822(member.enqueued),
        "position": member.position,
        "queue_sid": member.queue_sid,
        "uri": f"{queue_path}/Members/{member.call_sid}.json",
        "wait_time": member.wait_time,
    }


def conference_json(conference: ConferenceRecord, account_sid: str) -> JSON:
    """A Conference resource."""
    uri = f"{account_path(account_sid)}/Conferences/{conference.sid}"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "call_sid_ending_conference": conference.call_sid_ending_conference,
        "date_created": rfc2822(conference.created),
        "date_updated": rfc2822(conference.updated),
        "friendly_name": conference.friendly_name,
        "reason_conference_ended": conference.reason_conference_ended,
        "region": conference.region,
        "sid": conference.sid,
        "status": conference.status,
        "subresource_uris": {
            "participants": f"{uri}/Participants.json",
            "recordings": f"{uri}/Recordings.json",
        },
        "uri": f"{uri}.json",
    }


def participant_json(participant: ParticipantRecord, account_sid: str) -> JSON:
    """A conference Participant resource."""
    conference_path = f"{account_path(account_sid)}/Conferences/{participant.conference_sid}"
    return {
        "account_sid": account_sid,
        "call_sid": participant.call_sid,
        "call_sid_to_coach": participant.call_sid_to_coach,
        "coaching": participant.coaching,
        "conference_sid": participant.conference_sid,
        "date_created": rfc2822(participant.created),
        "date_updated": rfc2822(participant.updated),
        "end_conference_on_exit": participant.end_conference_on_exit,
        "hold": participant.hold,
        "label": participant.label,
        "muted": participant.muted,
        "queue_time": None,
        "start_conference_on_enter": participant.start_conference_on_enter,
        "status": participant.status,
        "uri": f"{conference_path}/Participants/{participant.call_sid}.json",
    }


def message_json(message: MessageRecord, account_sid: str) -> JSON:
    """A Message resource (always ``outbound-api``: the app sent it through the API)."""
    uri = f"{account_path(account_sid)}/Messages/{message.sid}"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": rfc2822(message.created),
        "date_sent": rfc2822(message.created),
        "date_updated": rfc2822(message.created),
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": message.from_ or None,
        "messaging_service_sid": message.messaging_service_sid,
        "num_media": str(len(message.media_url)),
        "num_segments": str(segments(message.body)),
        "price": None,
        "price_unit": None,
        "sid": message.sid,
        "status": message.status,
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": message.to,
        "uri": f"{uri}.json",
    }


# GSM-7's basic character set (a character each) and its extension table (two each); any other
# character makes the whole message UCS-2.
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def segments(body: str) -> int:
    """How many SMS segments ``body`` takes: 160 GSM-7 characters (153 a part when split), or
    70 UCS-2 characters (67 a part); a message with media only counts one."""
    if all(ch in _GSM7 or ch in _GSM7_EXTENDED for ch in body):
        units, single, part = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in body), 160, 153
    else:
        # UCS-2 counts UTF-16 code units: a character outside the BMP (an emoji) takes two
        units, single, part = len(body.encode("utf-16-le")) // 2, 70, 67
    if units <= single:
        return 1
    return -(-units // part)
