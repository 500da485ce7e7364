"""A call's status callbacks: the events posted to ``StatusCallback``, the status each carries.

Twilio posts ``initiated``, ``ringing``, ``answered`` and ``completed`` (the last with
``CallDuration``, counted from the answer) when the number's callback asks for them.
"""

from __future__ import annotations

from collections.abc import Set
from email.utils import format_datetime
from typing import Protocol

from hotline.sim.engine.call import CallState
from hotline.sim.model import CallEnd

STATUS_CALLBACK_EVENTS = ("initiated", "ringing", "answered", "completed")
# A phone number's "call status changes" URL: Twilio posts the call's end only (the REST API's
# default when no StatusCallbackEvent is given), with its final CallStatus and CallDuration.
NUMBER_STATUS_CALLBACK_EVENTS = ("completed",)

_STATUS_OF_EVENT = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}


class StatusSettings(Protocol):
    """What a status callback reads from the ``Simulator`` that placed the call."""

    @property
    def status_callback(self) -> str | None:
        """The status callback's absolute URL, if the number has one."""

    @property
    def status_callback_events(self) -> Set[str]:
        """The events the callback asked for (some of ``STATUS_CALLBACK_EVENTS``)."""


def send_status_callback(
    sim: StatusSettings,
    call: CallState,
    event: str,
    end: CallEnd | None = None,
    status: str | None = None,
) -> None:
    """Post the call's ``event`` to the status callback URL, if it asked for that event.

    ``status``: the final CallStatus when the call never got to play TwiML (busy, no-answer...).
    """
    url = sim.status_callback
    if url is None or event not in sim.status_callback_events:
        return
    extra = {
        "CallbackSource": "call-progress-events",
        "SequenceNumber": str(call.sequence),
        "Timestamp": format_datetime(call.clock.now),
    }
    call.sequence += 1
    if end is None:
        status = _STATUS_OF_EVENT[event]
    elif status is None:
        status = final_status(end, call.reject_reason)
        answered = call.answered_at if call.answered_at is not None else call.clock.elapsed
        extra["CallDuration"] = str(round(call.clock.elapsed - answered))
    call.notify(url, {**call.main.params, "CallStatus": status, **extra}, f"{event} status")


def final_status(end: CallEnd, reject_reason: str) -> str:
    """The CallStatus a call ends with (``<Reject reason="busy">`` ends busy)."""
    if end is CallEnd.REJECTED:
        return "busy" if reject_reason == "busy" else "no-answer"
    if end is CallEnd.FAILED:
        return "failed"
    return "completed"
