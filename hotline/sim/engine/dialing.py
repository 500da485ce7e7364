"""``<Dial>``: ring ``<Number>`` targets (with their ``url`` whispers) or a queue's next caller.

Each dialled number rings as its ``CalleeBehaviour`` says (``callees.py``); the first to answer
and accept its whisper is bridged to the caller, and the Dial's action gets the outcome. A
caller who hangs up during the Dial still has it posted, as Twilio requests the action "after
the dialed call ends": ``canceled`` while it rings, ``completed`` once a callee picked up.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from hotline.sim.engine import twiml
from hotline.sim.engine.bridge import Dequeued, TwoWayBridge
from hotline.sim.engine.call import API_VERSION, CallState, Leg, Network, Step, Stop
from hotline.sim.engine.callees import Ring, answer_order, unbridged
from hotline.sim.engine.conference import dial_conference, room_for
from hotline.sim.engine.gathering import CalleeHungUp
from hotline.sim.engine.interrupts import CallOver, PartyLeft
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.model import (
    CallEnd,
    CallerInput,
    InputKind,
    UnsupportedTwiML,
    WebhookFailed,
    Who,
)

_WHISPER_VERBS = frozenset({"Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Reject"})
_QUEUE_URL_VERBS = frozenset({"Say", "Play", "Pause", "Redirect"})
_SILENT = CallerInput(InputKind.SILENCE)


@dataclass
class _Attempt:
    """How far a Dial got: what Twilio posts if the caller hangs up in the middle of it."""

    child_sid: str = ""  # the leg of the callee who picked up ("" while nobody has)
    answered: float | None = None  # when they picked up
    bridged: bool = False
    extra: dict[str, str] | None = None  # QueueSid for <Dial><Queue>

    def picked_up(self, child_sid: str, at: float) -> None:
        """A callee answered (their whisper, if any, plays next)."""
        self.child_sid, self.answered = child_sid, at

    def refused(self) -> None:
        """The callee who answered refused in the whisper: the others still ring."""
        self.child_sid, self.answered = "", None

    def outcome(self, call: CallState) -> dict[str, str]:
        """The action's parameters when the caller hung up now.

        Twilio's documentation does not say; the simulator posts ``canceled`` while the dialled
        legs ring (the caller's hang-up cancels them before anyone answers, as Twilio's
        ``canceled`` call status describes) and ``completed`` once one picked up.
        """
        if self.answered is None:
            status, sid, seconds = "canceled", call.new_sid("CA"), 0.0
        else:
            status, sid, seconds = "completed", self.child_sid, call.clock.elapsed - self.answered
        return {
            "DialCallStatus": status,
            "DialCallSid": sid,
            "DialCallDuration": str(round(seconds)),
            **(self.extra or {}),
            "DialBridged": "true" if self.bridged else "false",
        }


def dial(call: CallState, verb: Verb, doc: Document, leg: Leg) -> Step:
    """Play a ``<Dial>``: ring its targets, bridge whoever accepts, post the outcome to action."""
    timeout = twiml.number(verb, "timeout", 30.0)
    time_limit = twiml.number(verb, "timeLimit", 14400.0)
    queues = [child for child in verb.children if child.name == "Queue"]
    rooms = [child for child in verb.children if child.name == "Conference"]
    action = verb.attrs.get("action")
    attempt = _Attempt()
    try:
        if rooms:
            if len(verb.children) > 1 or verb.text:
                raise UnsupportedTwiML(
                    f"<Dial> mixing <Conference> with other targets (from {doc.url})"
                )
            attempt.picked_up(call.sid, call.clock.elapsed)
            attempt.bridged = True
            outcome = _dial_room(call, rooms[0], doc, time_limit)
        elif queues:
            if len(verb.children) > 1 or verb.text:
                raise UnsupportedTwiML(f"<Dial> mixing <Queue> with other targets (from {doc.url})")
            outcome = _dial_queue(call, queues[0], doc, timeout, time_limit, attempt)
        else:
            targets: list[tuple[str, Verb | None]] = [(_target(c), c) for c in verb.children]
            if verb.text:
                targets.insert(0, (verb.text, None))
            if not targets or not all(number for number, _ in targets):
                raise WebhookFailed(f"<Dial> names no number to call (from {doc.url})")
            caller_id = verb.attrs.get("callerId") or call.from_
            outcome = _dial_numbers(call, targets, doc, timeout, time_limit, caller_id, attempt)
    except CallOver as over:
        if over.end is CallEnd.CALLER_HANGUP:
            outcome = attempt.outcome(call)
            if attempt.answered is None:
                call.emit(Who.TWILIO, "no-bridge", outcome["DialCallStatus"])
            if action:
                # The call is over: Twilio still requests the action, and ignores its answer.
                leg.status = "completed"
                target = urljoin(doc.url, action)
                call.requests.post_after_hangup(
                    twiml.method(verb), target, leg.request_params(outcome)
                )
        raise
    if action:
        return call.fetch(urljoin(doc.url, action), twiml.method(verb), leg, outcome)
    return None


def _dial_numbers(
    call: CallState,
    targets: list[tuple[str, Verb | None]],
    doc: Document,
    timeout: float,
    time_limit: float,
    caller_id: str,
    attempt: _Attempt,
) -> dict[str, str]:
    start = call.clock.elapsed
    call.emit(
        Who.TWILIO,
        "dial",
        ", ".join(number for number, _ in targets),
        url=doc.url,
        detail={"timeout": f"{timeout:g}"},
    )
    rings = [call.book.ring(number, timeout) for number, _ in targets]
    nouns = {id(ring): noun for ring, (_, noun) in zip(rings, targets, strict=True)}
    for ring in rings:
        _announce(call, ring, nouns[id(ring)])
    refused_sid, refused_seconds = "", 0.0
    for ring in answer_order(rings):
        call.spend(max(0.0, start + ring.behaviour.ring_seconds - call.clock.elapsed))
        child_sid = call.new_sid("CA")
        answered = call.clock.elapsed
        attempt.picked_up(child_sid, answered)
        call.emit(Who.CALLEE, "answer", ring.number)
        noun = nouns[id(ring)]
        whisper = noun.attrs.get("url") if noun is not None else None
        if whisper and noun is not None:
            accepted = _whisper(call, noun, doc, ring, child_sid, caller_id)
        else:
            accepted = True
        if accepted:
            attempt.bridged = True
            call.bridge(ring.number, ring.behaviour.talk, time_limit)
            return {
                "DialCallStatus": "completed",
                "DialCallSid": child_sid,
                "DialCallDuration": str(round(call.clock.elapsed - answered)),
                "DialBridged": "true",
            }
        refused_sid, refused_seconds = child_sid, call.clock.elapsed - answered
        attempt.refused()
    status, lasted = unbridged(rings, refused=bool(refused_sid))
    call.spend(max(0.0, start + lasted - call.clock.elapsed))
    call.emit(Who.TWILIO, "no-bridge", status)
    return {
        "DialCallStatus": status,
        "DialCallSid": refused_sid or call.new_sid("CA"),
        "DialCallDuration": str(round(refused_seconds)),
        "DialBridged": "false",
    }


def _target(noun: Verb) -> str:
    """Who a ``<Dial>`` noun rings: a number, ``client:<identity>`` or a SIP URI."""
    if noun.name != "Client":
        return noun.text
    identities = [child.text for child in noun.children if child.name == "Identity"]
    identity = identities[0] if identities else noun.text
    return f"client:{identity}" if identity else ""


def _client_parameters(noun: Verb | None) -> dict[str, str]:
    """The custom parameters a ``<Client>`` sends to the device it rings."""
    if noun is None:
        return {}
    return {
        child.attrs.get("name", ""): child.attrs.get("value", "")
        for child in noun.children
        if child.name == "Parameter"
    }


def _announce(call: CallState, ring: Ring, noun: Verb | None = None) -> None:
    behaviour = ring.behaviour
    detail = {"outcome": behaviour.outcome.value, "after": f"{behaviour.ring_seconds:g}"}
    detail.update({f"Parameter {k}": v for k, v in _client_parameters(noun).items()})
    call.emit(Who.TWILIO, "ring", ring.number, detail=detail)
    if ring.default:
        call.emit(
            Who.TWILIO,
            "default",
            f"no behaviour scripted for {ring.number}: no-answer for {ring.timeout:g} s",
        )


def _whisper(
    call: CallState, noun: Verb, doc: Document, ring: Ring, child_sid: str, caller_id: str
) -> bool:
    """Run the ``<Number url>`` TwiML on the callee's leg; True when it lets the call in."""
    params = {
        "CallSid": child_sid,
        "ParentCallSid": call.sid,
        "AccountSid": call.sim.account_sid,
        "From": caller_id,
        "To": ring.number,
        "Caller": caller_id,
        "Called": ring.number,
        "Direction": "outbound-dial",
        "ApiVersion": API_VERSION,
    }
    context = f"a <Number url> whisper for {ring.number}"
    leg = _callee_leg(params, ring.behaviour.whisper_input(), _WHISPER_VERBS, context, ring.number)
    try:
        stop = _run_url(call, noun, doc, leg)
    except CalleeHungUp:
        stop = Stop.HANGUP
    else:
        if stop is not None or not ring.behaviour.hangs_up_in_whisper:
            return stop is None
    if ring.behaviour.hangs_up_in_whisper:
        call.emit(Who.CALLEE, "hangup", f"{ring.number} hung up during the whisper")
    return False


def _dial_queue(
    call: CallState,
    noun: Verb,
    doc: Document,
    timeout: float,
    time_limit: float,
    attempt: _Attempt,
) -> dict[str, str]:
    name = noun.text
    queue_sid = call.queue_sid(name)
    attempt.extra = {"QueueSid": queue_sid}
    call.emit(Who.TWILIO, "dial", f"queue {name}", url=doc.url, detail={"QueueSid": queue_sid})
    if call.network is not None and not call.book.has(name):
        return _dequeue_live(call, call.network, noun, doc, timeout, time_limit, attempt)
    ring = call.book.ring(name, timeout)
    _announce(call, ring)
    if not ring.answers:
        call.spend(timeout)
        call.emit(Who.TWILIO, "no-bridge", "no-answer")
        return {
            "DialCallStatus": "no-answer",
            "DialCallSid": call.new_sid("CA"),
            "DialCallDuration": "0",
            "QueueSid": queue_sid,
            "DialBridged": "false",
        }
    call.spend(ring.behaviour.ring_seconds)
    dequeued_sid = call.new_sid("CA")
    answered = call.clock.elapsed
    attempt.picked_up(dequeued_sid, answered)
    if noun.attrs.get("url"):
        params = {
            "CallSid": dequeued_sid,
            "AccountSid": call.sim.account_sid,
            "QueueSid": queue_sid,
            "QueueTime": f"{ring.behaviour.ring_seconds:.0f}",
            "DequeingCallSid": call.sid,
            "Direction": "inbound",
            "ApiVersion": API_VERSION,
        }
        context = f"the <Queue url> announcement for {name}"
        leg = _callee_leg(params, _SILENT, _QUEUE_URL_VERBS, context, name)
        _run_url(call, noun, doc, leg)
    attempt.bridged = True
    call.bridge(f"queue:{name}", ring.behaviour.talk, time_limit)
    return {
        "DialCallStatus": "completed",
        "DialCallSid": dequeued_sid,
        "DialCallDuration": str(round(call.clock.elapsed - answered)),
        "QueueSid": queue_sid,
        "DialBridged": "true",
    }


def _dial_room(call: CallState, noun: Verb, doc: Document, time_limit: float) -> dict[str, str]:
    room = room_for(call, noun, doc)
    detail = {"ConferenceSid": room.sid}
    call.emit(Who.TWILIO, "dial", f"conference {room.name}", url=doc.url, detail=detail)
    return dial_conference(call, room, noun, doc, time_limit)


def _dequeue_live(
    call: CallState,
    network: Network,
    noun: Verb,
    doc: Document,
    timeout: float,
    time_limit: float,
    attempt: _Attempt,
) -> dict[str, str]:
    """Take the caller at the front of the queue (waiting up to ``timeout`` for one) and talk."""
    name = noun.text
    queue_sid = call.queue_sid(name)
    deadline = call.clock.elapsed + timeout
    member = network.take_member(call, name)
    while member is None and call.clock.elapsed < deadline:
        network.await_member(call, name)
        try:
            call.spend(deadline - call.clock.elapsed)
        except PartyLeft:
            pass  # someone joined the queue
        finally:
            network.stop_awaiting(call, name)
        member = network.take_member(call, name)
    if member is None:
        call.emit(Who.TWILIO, "no-bridge", "no-answer", detail={"queue": name})
        return {
            "DialCallStatus": "no-answer",
            "DialCallSid": call.new_sid("CA"),
            "DialCallDuration": "0",
            "QueueSid": queue_sid,
            "DialBridged": "false",
        }
    bridge = TwoWayBridge(network.world)
    bridge.join(call)
    bridge.join(member)
    url = noun.attrs.get("url")
    assert member.actor is not None
    network.world.interrupt(
        member.actor,
        Dequeued(call, bridge, urljoin(doc.url, url) if url else None, twiml.method(noun)),
    )
    answered = call.clock.elapsed
    attempt.picked_up(member.sid, answered)
    attempt.bridged = True
    call.emit(Who.TWILIO, "bridge", f"queue:{name}", detail={"call": member.sid})
    call.bridged.append(f"queue:{name}")
    bridge.talk(call, time_limit)
    return {
        "DialCallStatus": "completed",
        "DialCallSid": member.sid,
        "DialCallDuration": str(round(call.clock.elapsed - answered)),
        "QueueSid": queue_sid,
        "DialBridged": "true",
    }


def _callee_leg(
    params: dict[str, str], answer: CallerInput, allowed: frozenset[str], context: str, party: str
) -> Leg:
    """Return the leg of the dialled ``party``, who answers every prompt with ``answer``."""
    return Leg(
        params,
        "in-progress",
        Who.CALLEE,
        Who.CALLEE,
        lambda _prompt: answer,
        allowed,
        context,
        party=party,
    )


def _run_url(call: CallState, noun: Verb, doc: Document, leg: Leg) -> Stop | None:
    """Fetch the noun's ``url`` TwiML and play it out on ``leg``; return how the leg stopped."""
    first = call.fetch(urljoin(doc.url, noun.attrs["url"]), twiml.method(noun), leg)
    return call.run_leg(first, leg)
