"""Seller handoff decisions: may we ring the seller, did the seller take the call.

Pure functions of plain values: the dial result Twilio posts (``DialCallStatus``), whether the
seller pressed the take-the-call key in the whisper, and the schedules at an explicit ``now``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from hotline.rules.hours import Schedule, is_open


class DialStatus(StrEnum):
    """The ``DialCallStatus`` values Twilio posts to a ``<Dial action>``."""

    COMPLETED = "completed"
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"


def parse_dial_status(value: str | None) -> DialStatus:
    """The posted status; anything missing or unknown counts as ``failed`` (never a crash)."""
    try:
        return DialStatus((value or "").strip().lower())
    except ValueError:
        return DialStatus.FAILED


def seller_took_call(status: DialStatus, accepted_in_whisper: bool) -> bool:
    """Whether the seller really took the call: bridged *and* they pressed the accept key.

    A voicemail or a person who did not press 1 never counts, whatever Twilio reports.
    """
    return status in (DialStatus.COMPLETED, DialStatus.ANSWERED) and accepted_in_whisper


def seller_available(hotline: Schedule, seller: Schedule | None, now: datetime) -> bool:
    """Whether we may ring the seller now: the hotline is open and so is the seller.

    A seller without hours of their own keeps the hotline's.
    """
    if not is_open(hotline, now):
        return False
    return seller is None or is_open(seller, now)
