"""``<Dial><Queue>``: take the caller at the front of a queue and talk to them.

Outside a session, or for a queue name with ``[dialled]`` behaviours, the script stands in for
the other side: a caller "answers" as the behaviour says, hears the ``<Queue url>`` TwiML, then
talks for its ``talk`` seconds. Otherwise the caller is a live member of the session's queue
(``network.py``): the Dial takes the one at the front, or waits up to its ``timeout`` for one to
join, and the two talk on a ``TwoWayBridge`` until one of them leaves.
"""

from __future__ import annotations

from urllib.parse import urljoin

from hotline.sim.engine import twiml
from hotline.sim.engine.bridge import Dequeued, TwoWayBridge
from hotline.sim.engine.call import API_VERSION, CallState, Network
from hotline.sim.engine.dial_attempt import Attempt, announce_ring, callee_leg, run_url
from hotline.sim.engine.interrupts import PartyLeft
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.model import CallerInput, InputKind, Who

_QUEUE_URL_VERBS = frozenset({"Say", "Play", "Pause", "Redirect"})
_SILENT = CallerInput(InputKind.SILENCE)


def dial_queue(
    call: CallState,
    noun: Verb,
    doc: Document,
    timeout: float,
    time_limit: float,
    attempt: Attempt,
) -> dict[str, str]:
    """Play a ``<Dial><Queue>``: take a caller from the queue and talk; return the Dial outcome."""
    name = noun.text
    queue_sid = call.queue_sid(name)
    attempt.extra = {"QueueSid": queue_sid}
    call.emit(Who.TWILIO, "dial", f"queue {name}", url=doc.url, detail={"QueueSid": queue_sid})
    if call.network is not None and not call.book.has(name):
        return _dequeue_live(call, call.network, noun, doc, timeout, time_limit, attempt)
    ring = call.book.ring(name, timeout)
    announce_ring(call, ring)
    if not ring.answers:
        call.spend(timeout)
        return _nobody(call, queue_sid, {})
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
        leg = callee_leg(params, _SILENT, _QUEUE_URL_VERBS, context, name)
        run_url(call, noun, doc, leg)
    attempt.bridged = True
    call.bridge(f"queue:{name}", ring.behaviour.talk, time_limit)
    return {
        "DialCallStatus": "completed",
        "DialCallSid": dequeued_sid,
        "DialCallDuration": str(round(call.clock.elapsed - answered)),
        "QueueSid": queue_sid,
        "DialBridged": "true",
    }


def _dequeue_live(
    call: CallState,
    network: Network,
    noun: Verb,
    doc: Document,
    timeout: float,
    time_limit: float,
    attempt: Attempt,
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
        return _nobody(call, queue_sid, {"queue": name})
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


def _nobody(call: CallState, queue_sid: str, detail: dict[str, str]) -> dict[str, str]:
    """The Dial's outcome when no caller was taken before its timeout."""
    call.emit(Who.TWILIO, "no-bridge", "no-answer", detail=detail)
    return {
        "DialCallStatus": "no-answer",
        "DialCallSid": call.new_sid("CA"),
        "DialCallDuration": "0",
        "QueueSid": queue_sid,
        "DialBridged": "false",
    }
