"""``<Dial>``: ring ``<Number>``, ``<Client>`` and ``<Sip>`` targets (with their ``url`` whispers).

Each dialled target rings as its ``CalleeBehaviour`` says (``callees.py``); the first to answer
and accept its whisper is bridged to the caller, and the Dial's action gets the outcome. A
caller who hangs up during the Dial still has it posted, as Twilio requests the action "after
the dialed call ends": ``canceled`` while it rings, ``completed`` once a callee picked up; so
does a call moved to new TwiML through the REST API (the action's answer is ignored).
``dial`` also hands ``<Dial><Queue>`` to ``dial_queue.py`` and ``<Dial><Conference>`` to
``conferencing.py``; what all of them share is in ``dial_attempt.py``.
"""

from __future__ import annotations

from urllib.parse import urljoin

from hotline.sim.engine import twiml
from hotline.sim.engine.call import API_VERSION, CallState, Leg, Step, Stop
from hotline.sim.engine.callees import Ring, answer_order, unbridged
from hotline.sim.engine.conferencing import dial_conference, room_for
from hotline.sim.engine.dial_attempt import Attempt, announce_ring, callee_leg, run_url
from hotline.sim.engine.dial_queue import dial_queue
from hotline.sim.engine.gathering import CalleeHungUp
from hotline.sim.engine.interrupts import CallOver, Redirected
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.model import CallEnd, UnsupportedTwiML, WebhookFailed, Who

_WHISPER_VERBS = frozenset({"Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Reject"})


def dial(call: CallState, verb: Verb, doc: Document, leg: Leg) -> Step:
    """Play a ``<Dial>``: ring its targets, bridge whoever accepts, post the outcome to action."""
    timeout = twiml.number(verb, "timeout", 30.0)
    time_limit = twiml.number(verb, "timeLimit", 14400.0)
    queues = [child for child in verb.children if child.name == "Queue"]
    rooms = [child for child in verb.children if child.name == "Conference"]
    action = verb.attrs.get("action")
    attempt = Attempt()
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
            outcome = dial_queue(call, queues[0], doc, timeout, time_limit, attempt)
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
    except Redirected:
        # Given new TwiML through the REST API: Twilio still requests the action (the dialled
        # leg ends with the move) and ignores its answer, as its changelog of 2021-05-24 says.
        outcome = attempt.outcome(call)
        if attempt.answered is None:
            call.emit(Who.TWILIO, "no-bridge", outcome["DialCallStatus"])
        if action:
            target = urljoin(doc.url, action)
            call.requests.post_after_hangup(twiml.method(verb), target, leg.request_params(outcome))
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
    attempt: Attempt,
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
        announce_ring(call, ring, nouns[id(ring)])
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
    leg = callee_leg(params, ring.behaviour.whisper_input(), _WHISPER_VERBS, context, ring.number)
    try:
        stop = run_url(call, noun, doc, leg)
    except CalleeHungUp:
        stop = Stop.HANGUP
    else:
        if stop is not None or not ring.behaviour.hangs_up_in_whisper:
            return stop is None
    if ring.behaviour.hangs_up_in_whisper:
        call.emit(Who.CALLEE, "hangup", f"{ring.number} hung up during the whisper")
    return False


def _dial_room(call: CallState, noun: Verb, doc: Document, time_limit: float) -> dict[str, str]:
    room = room_for(call, noun, doc)
    detail = {"ConferenceSid": room.sid}
    call.emit(Who.TWILIO, "dial", f"conference {room.name}", url=doc.url, detail=detail)
    return dial_conference(call, room, noun, doc, time_limit)
