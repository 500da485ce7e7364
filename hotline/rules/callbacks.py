"""Callbacks: when the hotline calls a buyer back, and what an unanswered call leads to.

Pure functions of the hours and an explicit ``now``. A callback is due at the next opening
(``hours.next_opening``: the next opening time, skipping closed days and dates, DST-exact since
the opening is a wall-clock time in the operator's timezone). A call Twilio ends without the buyer
answering (``busy``, ``no-answer``, ``failed``, ``canceled``: the CallStatus of the status
callback's ``completed`` event) is tried once more after a delay, then given up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.rules.hours import Schedule, next_opening

TRIES = 2  # the first call, and one more
#: Twilio's final CallStatus of an outbound call nobody answered.
UNANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})


def due_at(schedule: Schedule, now: datetime) -> datetime | None:
    """When a callback asked for at ``now`` is placed: the next opening (``None``: never opens)."""
    return next_opening(schedule, now)


@dataclass(frozen=True)
class AfterUnanswered:
    """What follows an unanswered try: another at ``retry_at``, or (``None``) the thread."""

    retry_at: datetime | None


def after_unanswered(attempts: int, now: datetime, retry: timedelta) -> AfterUnanswered:
    """After ``attempts`` calls nobody answered: try again after ``retry``, or give up."""
    return AfterUnanswered(now + retry if attempts < TRIES else None)


def answered(call_status: str) -> bool:
    """Whether a final CallStatus means the buyer picked up (``completed``: the call was live)."""
    return call_status not in UNANSWERED
