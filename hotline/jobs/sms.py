"""Sending an SMS through Twilio's Messages API with hotline's Client (``hotline.twilio_rest``),
and finding one already sent, for a row whose sender was killed before it could record it.

Twilio documents the Messages list's filters ``To``, ``From`` and ``DateSent`` (a UTC date, with
``DateSent>`` for on or after it): a message sent for a row is among those to its number from
its sender since the row's day, with its very text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from requests import RequestException
from twilio.base.exceptions import TwilioException

from hotline.errors import ConfigError
from hotline.jobs.notices import Sms

# How many of the number's messages since the row's day are looked through (newest first).
_LOOKUP_LIMIT = 200


class SmsError(Exception):
    """Twilio (or its stand-in) refused the message or could not be reached."""


def send_sms(client: Any, sms: Sms) -> str:
    """Send ``sms``; returns its SID (``SmsError`` when it was not accepted)."""
    try:
        message = client.messages.create(to=sms.to, from_=sms.from_, body=sms.body)
    except (TwilioException, RequestException, ConfigError) as exc:
        raise SmsError(_said(exc)) from exc
    return str(message.sid)


def find_sent(client: Any, sms: Sms, since: datetime) -> str | None:
    """The SID of a message like ``sms`` sent on or after ``since``'s UTC day, if there is one."""
    try:
        sent = client.messages.list(
            to=sms.to, from_=sms.from_, date_sent_after=since, limit=_LOOKUP_LIMIT
        )
    except (TwilioException, RequestException, ConfigError) as exc:
        raise SmsError(f"cannot look up the messages already sent: {_said(exc)}") from exc
    for message in sent:
        if message.body == sms.body:
            return str(message.sid)
    return None


def _said(exc: Exception) -> str:
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    text = getattr(exc, "msg", None) or str(exc)
    if status is not None:
        return f"Twilio answered {status}" + (f" (error {code})" if code else "") + f": {text}"
    return f"Twilio could not be reached: {text}" if isinstance(exc, RequestException) else text
