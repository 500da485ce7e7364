"""The Messages resource: create (an SMS the app sends, recorded for the script), list, fetch.

Codes for a malformed request are the Messages resource's own (216xx): 21604 no ``To``, 21603
neither ``From`` nor ``MessagingServiceSid``, 21602 neither ``Body`` nor ``MediaUrl``, 21617 a body
over 1600 characters, 21211 / 21212 a ``To`` / ``From`` that is no number, short code,
alphanumeric sender ID or channel address.
"""

from __future__ import annotations

from flask import Blueprint, request

from hotline.sim.rest.params import (
    Params,
    bad,
    date_filters_hold,
    is_absolute_url,
    is_message_recipient,
    is_message_sender,
    switchboard,
)
from hotline.sim.rest.resources import message_json
from hotline.sim.rest.switchboard import MessageRecord, not_found
from hotline.sim.rest.wire import JSON, Paging, list_page

messages = Blueprint("messages", __name__)

_MAX_BODY = 1600
_MAX_MEDIA = 10


@messages.post("/Messages.json")
def create_message() -> tuple[JSON, int]:
    """POST Messages.json: To, From or MessagingServiceSid, Body and/or MediaUrl."""
    params = Params.of_request()
    to = params.required("To", 21604, "A 'To' phone number is required.")
    from_ = params.text("From")
    service = params.text("MessagingServiceSid")
    if from_ is None and service is None:
        raise bad(21603, "A 'From' phone number or a MessagingServiceSid is required.")
    if not is_message_recipient(to):
        raise bad(21211, f"The 'To' number {to} is not a valid phone number.")
    if from_ is not None and not is_message_sender(from_):
        raise bad(
            21212,
            f"The 'From' number {from_} is not a valid phone number, shortcode, "
            "or alphanumeric sender ID.",
        )
    body = params.text("Body") or ""
    media = params.listed("MediaUrl")
    if not body and not media:
        raise bad(21602, "Message body is required.")
    if len(body) > _MAX_BODY:
        raise bad(21617, f"The concatenated message body exceeds the {_MAX_BODY} character limit.")
    if len(media) > _MAX_MEDIA:
        raise bad(20001, f"At most {_MAX_MEDIA} MediaUrl may be sent, got {len(media)}")
    for url in media:
        if not is_absolute_url(url):
            raise bad(11100, f"MediaUrl is not a valid URL: {url}")
    board = switchboard()
    message = board.send_message(
        to,
        from_ or "",
        body,
        messaging_service_sid=service,
        media_url=tuple(media),
        status_callback=params.url("StatusCallback", 11100),
    )
    return message_json(message, board.account_sid), 201


@messages.get("/Messages.json")
def list_messages() -> JSON:
    """GET Messages.json: filtered by To, From and DateSent (``<`` and ``>`` too)."""
    params = Params.of_request()
    board = switchboard()
    filters = params.filters("To", "From", "DateSent", "DateSent<", "DateSent>")
    wanted = dict(filters)
    chosen = [
        message
        for message in board.messages()
        if wanted.get("To", message.to) == message.to
        and wanted.get("From", message.from_) == message.from_
        # Twilio documents DateSent< as "on and before" that day
        and date_filters_hold(wanted, "DateSent", message.created, before_inclusive=True)
    ]
    return list_page(
        request.path,
        filters,
        chosen,
        key=lambda message: message.sid,
        render=lambda message: message_json(message, board.account_sid),
        list_key="messages",
        paging=Paging.from_query(request.args),
    )


@messages.get("/Messages/<sid>.json")
def fetch_message(sid: str) -> JSON:
    """GET Messages/{Sid}.json."""
    board = switchboard()
    return message_json(_find_message(sid), board.account_sid)


def _find_message(sid: str) -> MessageRecord:
    for message in switchboard().messages():
        if message.sid == sid:
            return message
    raise not_found(request.path)
