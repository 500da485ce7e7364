"""A call from its first ring to its end: inbound (placed by a caller) or outbound (REST API).

``run_call`` sends the status callbacks, plays the first document and every one it leads to,
and turns however the call stopped into a ``CallResult``. TwiML given from outside while the call
plays (a REST update: ``Redirected``) replaces what it was playing, as on Twilio.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from hotline.sim.engine import twiml
from hotline.sim.engine.call import CallState, QueueVisit, Stop
from hotline.sim.engine.callees import number_key
from hotline.sim.engine.fallback import APPLICATION_ERROR, failed_ending
from hotline.sim.engine.interrupts import CallOver, Redirected
from hotline.sim.engine.status_callbacks import (
    StatusSettings,
    final_status,
    send_status_callback,
)
from hotline.sim.engine.twiml import Document
from hotline.sim.engine.webhooks import CallSettings
from hotline.sim.model import (
    QUEUE_REFUSALS,
    CallEnd,
    Event,
    RunawayCall,
    SimError,
    Transcript,
    WebhookFailed,
    Who,
)

#: Fetches a call's first document (the Voice URL, or what a REST request gave).
FirstDocument = Callable[[CallState], Document]


@dataclass(frozen=True)
class CallResult:
    """Everything a simulated call came to."""

    call_sid: str
    transcript: Transcript
    ended: CallEnd
    reason: str  # what ended it, in words ("<Hangup> in http://localhost/bye", ...)
    started: datetime
    finished: datetime
    webhooks: int  # requests posted to the app, status callbacks included
    bridged: tuple[str, ...] = ()  # numbers (or "queue:<name>") the caller talked to
    queues: tuple[QueueVisit, ...] = ()
    error: SimError | None = None  # set when ``ended`` is FAILED
    unused_callees: dict[str, int] = field(default_factory=dict)
    reached_limit: bool = False  # cut at ``max_duration``: nobody on the call ended it

    @property
    def duration(self) -> float:
        """Seconds from the first ring to the end of the call."""
        return (self.finished - self.started).total_seconds()

    def heard(self) -> list[str]:
        """Return what the caller heard the app say, in order."""
        return [e.text for e in self.transcript if e.who is Who.APP and e.kind == "say"]

    def heard_by(self, party: str) -> list[str]:
        """Return what the app said to a dialled number (or a queue's caller), in order."""
        key = number_key(party)
        return [
            e.text
            for e in self.transcript
            if e.who is Who.CALLEE
            and e.kind == "say"
            and number_key(e.detail.get("party", "")) == key
        ]

    def entered_queues(self) -> list[str]:
        """Return the queues the caller waited in (not those that refused them), in order."""
        return [visit.name for visit in self.queues if visit.result not in QUEUE_REFUSALS]

    def events(self, kind: str) -> list[Event]:
        """Return the transcript's events of one kind (see ``model.EVENT_KINDS``)."""
        return [event for event in self.transcript if event.kind == kind]

    def raise_for_error(self) -> None:
        """Raise the error that failed the call, if any."""
        if self.error is not None:
            raise self.error


def run_call(
    sim: CallSettings,
    status: StatusSettings,
    call: CallState,
    first: FirstDocument,
    *,
    answered: bool = False,
) -> CallResult:
    """Play ``call`` from its first document to its end and return what it came to.

    ``answered``: the call was picked up before its first document (an outbound call), so no
    ``answered`` event waits for it.
    """
    end, reason, limit = CallEnd.COMPLETED, "", False
    error: SimError | None = None
    if not answered:
        send_status_callback(status, call, "initiated")
        send_status_callback(status, call, "ringing")
    try:
        end, reason = _play_call(status, call, first, answered)
    except CallOver as over:
        end, reason, limit = over.end, over.reason, over.limit
        if over.end is CallEnd.CALLER_HANGUP:
            call.emit(Who.CALLER, "hangup", over.reason)
    except WebhookFailed as exc:
        end, reason, error = CallEnd.FAILED, failed_ending(exc, sim.fallback_url), exc
        call.emit(Who.TWILIO, "error", str(exc))
        # No TwiML to play: Twilio speaks its own apology and hangs up.
        call.emit(Who.TWILIO, "say", APPLICATION_ERROR)
        try:
            call.clock.advance(sim.timing.say(APPLICATION_ERROR))
        except (CallOver, Redirected):
            pass  # nothing can be played any more: the call is ending
    except RunawayCall as exc:
        end, reason, error = CallEnd.FAILED, str(exc), exc
        call.emit(Who.TWILIO, "error", str(exc))
    call.main.status = "completed"
    call.ended_at = call.clock.elapsed
    call.final_status = final_status(end, call.reject_reason)
    call.emit(Who.TWILIO, "end", end.value, detail={"reason": reason})
    send_status_callback(status, call, "completed", end)
    return CallResult(
        call_sid=call.sid,
        transcript=call.transcript,
        ended=end,
        reason=reason,
        started=call.clock.start,
        finished=call.clock.now,
        webhooks=call.webhooks,
        bridged=tuple(call.bridged),
        queues=tuple(call.visits),
        error=error,
        unused_callees=call.book.unused(),
        reached_limit=limit,
    )


def _play_call(
    status: StatusSettings, call: CallState, first: FirstDocument, answered: bool
) -> tuple[CallEnd, str]:
    doc = first(call)
    if answered:
        call.answered_at = 0.0 if call.answered_at is None else call.answered_at
    elif not doc.verbs or doc.verbs[0].name != "Reject":
        call.answered_at = call.clock.elapsed
        call.main.status = "in-progress"
        send_status_callback(status, call, "answered")
    while True:
        try:
            step = call.play(doc, call.main)
        except Redirected as redirect:
            doc = _redirected(call, redirect)
            continue
        if isinstance(step, Document):
            doc = step
        elif step is Stop.HANGUP:
            return CallEnd.COMPLETED, f"<Hangup> in {doc.url}"
        elif step is Stop.REJECT:
            return CallEnd.REJECTED, f"<Reject> in {doc.url}"
        else:
            return CallEnd.COMPLETED, f"end of TwiML from {doc.url}"


def _redirected(call: CallState, redirect: Redirected) -> Document:
    """The TwiML a REST update gave the call, fetched (or parsed) at this instant."""
    while True:
        try:
            if redirect.twiml is not None:
                call.emit(
                    Who.TWILIO, "redirect", "[TwiML given inline]", detail={"why": redirect.why}
                )
                return twiml.parse(redirect.twiml, redirect.base)
            assert redirect.url is not None
            call.emit(Who.TWILIO, "redirect", redirect.url, detail={"why": redirect.why})
            return call.fetch(redirect.url, redirect.method, call.main)
        except Redirected as again:  # updated again while the new TwiML was being fetched
            redirect = again
