"""Outbound calls the app places through the REST API (Calls create), answered by scripted callees.

The number called rings as its ``CalleeBehaviour`` says (the same ``[dialled]`` behaviours a
``<Dial>`` consumes). Picked up, the call plays the request's ``Url`` (or ``Twiml``) on the
callee's line: the callee answers every prompt as its behaviour says and hangs up ``talk``
seconds after answering, unless the TwiML ends the call first. Not picked up, the call ends
``busy``, ``no-answer`` or ``failed`` after its ringing, and ``Status=canceled`` ends it while it
rings. Status callbacks go to the request's ``StatusCallback`` for the events it asked for.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from hotline.sim.engine import twiml
from hotline.sim.engine.call import CallState
from hotline.sim.engine.callees import Ring
from hotline.sim.engine.interrupts import CallOver
from hotline.sim.engine.lifecycle import CallResult, FirstDocument, run_call
from hotline.sim.engine.network import Network
from hotline.sim.engine.status_callbacks import StatusSettings, send_status_callback
from hotline.sim.engine.twiml import Document
from hotline.sim.engine.verbs import HANDLERS
from hotline.sim.engine.webhooks import CallSettings
from hotline.sim.engine.world import CallClock
from hotline.sim.model import CalleeBehaviour, CallEnd, CallerInput, Event, Prompt, Who
from hotline.sim.rest.switchboard import OutboundCall

#: The status-callback events Twilio sends for a REST call, by the name the request uses.
_EVENTS = {"initiated", "ringing", "answered", "completed"}


@dataclass(frozen=True)
class _Callbacks:
    """The status callback a Calls create request asked for (a ``StatusSettings``)."""

    status_callback: str | None
    status_callback_events: Set[str]


class CalleeOnLine:
    """A dialled person as a ``Caller``: answers as scripted, hangs up after talking."""

    def __init__(self, behaviour: CalleeBehaviour) -> None:
        self.behaviour = behaviour
        self.hangup_at: float | None = None

    def hear(self, event: Event) -> None:
        """Everything is in the call's transcript already."""

    def respond(self, prompt: Prompt) -> CallerInput:
        """Answer every prompt the same way (keys, words or silence)."""
        return self.behaviour.whisper_input()

    def hangs_up_during(self, text: str, elapsed: float) -> bool:
        """A callee listens to the end."""
        return False

    def hangs_up_at(self) -> float | None:
        """``talk`` seconds after answering."""
        return self.hangup_at


def dial_out(sim: CallSettings, network: Network, request: OutboundCall) -> CallState:
    """Place ``request``'s call: ring it now, play its TwiML when answered (a new actor)."""
    callback = _Callbacks(
        request.status_callback, frozenset(request.status_callback_event) & _EVENTS
    )
    ring = network.book.ring(request.to, request.timeout)
    callee = CalleeOnLine(ring.behaviour)
    call = CallState(
        sim,
        callee,
        CallClock(network.world),
        request.from_,
        request.to,
        {},
        network.queue_behaviours,
        f"{network.seed}/outbound/{network.new_sid('CA')}",
        HANDLERS,
        network=network,
        book=network.book,
        direction="outbound-api",
    )
    call.main.status = "queued"
    network.register(call)

    def body() -> None:
        network.results[call.sid] = _ring_and_play(sim, callback, call, callee, ring, request)
        network.touched()  # a call ended: scheduled work may be due now, or after the calls

    # The call can be updated (canceled) from the instant it is created, before its turn comes.
    call.actor = network.world.spawn(f"outbound {call.sid}", body)
    return call


def _ring_and_play(
    sim: CallSettings,
    callback: StatusSettings,
    call: CallState,
    callee: CalleeOnLine,
    ring: Ring,
    request: OutboundCall,
) -> CallResult:
    detail = {"outcome": ring.behaviour.outcome.value, "after": f"{ring.behaviour.ring_seconds:g}"}
    call.emit(Who.TWILIO, "dial", request.to, detail={"via": "REST API"})
    call.emit(Who.TWILIO, "ring", request.to, detail=detail)
    if ring.default:
        call.emit(
            Who.TWILIO,
            "default",
            f"no behaviour scripted for {request.to}: no-answer for {ring.timeout:g} s",
        )
    send_status_callback(callback, call, "initiated")
    call.main.status = "ringing"
    send_status_callback(callback, call, "ringing")
    try:
        if not ring.answers:
            status = ring.behaviour.outcome.value
            if ring.behaviour.ring_seconds >= ring.timeout:
                status = "no-answer"
            call.clock.advance(min(ring.behaviour.ring_seconds, ring.timeout))
            return _unanswered(callback, call, status)
        call.clock.advance(ring.behaviour.ring_seconds)
    except CallOver as over:
        return _unanswered(callback, call, "canceled", over.reason)
    call.emit(Who.CALLEE, "answer", request.to)
    call.answered_at = call.clock.elapsed
    call.main.status = "in-progress"
    callee.hangup_at = call.clock.elapsed + ring.behaviour.talk
    send_status_callback(callback, call, "answered")
    return run_call(sim, callback, call, _first_document(request), answered=True)


def _first_document(request: OutboundCall) -> FirstDocument:
    def first(call: CallState) -> Document:
        if request.twiml is not None:
            return twiml.parse(request.twiml.encode(), request.url or "")
        assert request.url is not None
        return call.fetch(request.url, request.method, call.main)

    return first


def _unanswered(
    callback: StatusSettings, call: CallState, status: str, reason: str = ""
) -> CallResult:
    call.emit(Who.TWILIO, "no-bridge", status)
    call.main.status = status
    call.final_status = status
    call.ended_at = call.clock.elapsed
    why = reason or f"{call.main.params['To']} did not pick up ({status})"
    call.emit(Who.TWILIO, "end", CallEnd.COMPLETED.value, detail={"reason": why})
    send_status_callback(callback, call, "completed", CallEnd.COMPLETED, status)
    return CallResult(
        call_sid=call.sid,
        transcript=call.transcript,
        ended=CallEnd.COMPLETED,
        reason=why,
        started=call.clock.start,
        finished=call.clock.now,
        webhooks=call.webhooks,
    )
