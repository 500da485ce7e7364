"""``<Enqueue>``: hold the caller in a queue, playing ``waitUrl``, until they leave or are answered.

The queue behaves as its ``QueueBehaviour`` says: an agent picking up after ``agent_after`` seconds
interrupts whatever the caller is hearing; ``<Leave>`` in the wait TwiML ends the stay; a queue
that ``refuse``s callers ends the ``<Enqueue>`` at once (``queue-full``, ``system-error``).
"""

from __future__ import annotations

from urllib.parse import urljoin

from hotline.sim.engine import twiml
from hotline.sim.engine.call import (
    AgentAnswered,
    CallOver,
    CallState,
    Dequeued,
    Leg,
    PartyLeft,
    QueueVisit,
    Redirected,
    Step,
    Stop,
)
from hotline.sim.engine.callees import queue_behaviour
from hotline.sim.engine.playback import Segment, play_segments
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.model import CallEnd, QueueBehaviour, WebhookFailed, Who

_WAIT_VERBS = frozenset({"Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Leave"})
_QUEUE_URL_VERBS = frozenset({"Say", "Play", "Pause", "Redirect"})


def enqueue(call: CallState, verb: Verb, doc: Document, leg: Leg) -> Step:
    """Play an ``<Enqueue>``: wait in the queue, then post the ``QueueResult`` to the action."""
    name = verb.text
    if not name:
        raise WebhookFailed(f"<Enqueue> without a queue name (from {doc.url})")
    behaviour, default = queue_behaviour(call.queues, name)
    queue_sid = call.queue_sid(name)
    start = call.clock.elapsed
    call.emit(Who.TWILIO, "enqueue", name, url=doc.url, detail={"QueueSid": queue_sid})
    if default:
        call.emit(Who.TWILIO, "default", f"no behaviour scripted for queue {name}: nobody answers")
    action = verb.attrs.get("action")
    if behaviour.refuse:
        # Twilio refuses the caller at once (a full queue, a failure): no waitUrl, no wait.
        _leave_queue(call, name, queue_sid, behaviour.refuse, start)
        outcome = _queue_outcome(call, behaviour.refuse, queue_sid, start)
        if not action:
            return None
        return call.fetch(urljoin(doc.url, action), twiml.method(verb), leg, outcome)
    jump: Document | None = None
    if behaviour.agent_after is not None:
        call.interrupt_at = start + behaviour.agent_after
    if call.network is not None:
        call.network.joined_queue(call, name, queue_sid)
    taken: Dequeued | None = None
    try:
        try:
            jump, result = _wait_in_queue(call, verb, doc, behaviour, queue_sid, start)
        except AgentAnswered:
            result = "bridged"
        except Dequeued as dequeued:
            taken, result = dequeued, "bridged"
        finally:
            call.interrupt_at = None
            if call.network is not None:
                call.network.left_queue(call, name)
    except Redirected as redirect:
        # Taken out of the queue from outside (a REST update of the call or of its membership):
        # the action hears why, its answer is ignored, and the call plays what it was given.
        _leave_queue(call, name, queue_sid, redirect.queue_result, start)
        if action:
            outcome = _queue_outcome(call, redirect.queue_result, queue_sid, start)
            call.post(
                twiml.method(verb), urljoin(doc.url, action), call.main.request_params(outcome)
            )
        raise
    except CallOver as over:
        _leave_queue(call, name, queue_sid, "hangup", start)
        if action:
            call.main.status = "completed"
            outcome = _queue_outcome(call, "hangup", queue_sid, start)
            call.post(
                twiml.method(verb), urljoin(doc.url, action), call.main.request_params(outcome)
            )
        if over.limit:
            limit = f"the call limit ({call.sim.max_duration:g} s)"
            reason = f"the caller waited in queue {name!r} until {limit}"
            raise CallOver(over.end, reason, limit=True) from None
        raise
    waited = call.clock.elapsed
    if taken is not None:
        try:
            _talk_to_dialer(call, taken, name, queue_sid, start)
        except CallOver:
            # The caller hung up on the agent: the action still hears "bridged", once both
            # sides are gone, and its answer is ignored.
            _leave_queue(call, name, queue_sid, result, start, waited)
            if action:
                call.main.status = "completed"
                outcome = _queue_outcome(call, result, queue_sid, start, waited)
                call.post(
                    twiml.method(verb), urljoin(doc.url, action), call.main.request_params(outcome)
                )
            raise
        _leave_queue(call, name, queue_sid, result, start, waited)
    else:
        _leave_queue(call, name, queue_sid, result, start)
    if result == "bridged" and taken is None:
        call.bridge(f"queue:{name}", behaviour.talk, float("inf"))
    outcome = _queue_outcome(call, result, queue_sid, start, waited)
    if action:
        after_action = call.fetch(urljoin(doc.url, action), twiml.method(verb), leg, outcome)
        return jump or after_action
    return jump


def leave(call: CallState, verb: Verb, doc: Document, leg: Leg) -> Step:
    """Play a ``<Leave>`` in wait TwiML: the caller leaves the queue."""
    return Stop.LEAVE


def _wait_in_queue(
    call: CallState,
    verb: Verb,
    doc: Document,
    behaviour: QueueBehaviour,
    queue_sid: str,
    start: float,
) -> tuple[Document | None, str]:
    """Play the wait music until the caller leaves: return where they go and the QueueResult."""
    wait_url = verb.attrs.get("waitUrl")
    hold = Segment("play", "[hold music]", call.sim.timing.play, 1, {})
    wait_leg = Leg(
        call.main.params,
        call.main.status,
        Who.APP,
        Who.CALLER,
        call.caller.respond,
        _WAIT_VERBS,
        "waitUrl TwiML",
        is_caller=True,
        heard=call.main.heard,
    )
    while True:
        if wait_url is None:
            play_segments(call, [hold], wait_leg)
            continue
        position = str(behaviour.ahead + 1)
        extra = {
            "QueuePosition": position,
            "QueueSid": queue_sid,
            "QueueTime": str(int(call.clock.elapsed - start)),
            "AvgQueueTime": str(round(behaviour.avg_wait)),
            "CurrentQueueSize": position,
            "MaxQueueSize": "100",
        }
        method = twiml.method(verb, "waitUrlMethod")
        wait_doc = call.fetch(urljoin(doc.url, wait_url), method, wait_leg, extra)
        step = call.play(wait_doc, wait_leg)
        if step is Stop.LEAVE:
            return None, "leave"
        if step is Stop.HANGUP:
            raise CallOver(CallEnd.COMPLETED, f"<Hangup> in waitUrl TwiML {wait_doc.url}")
        if isinstance(step, Document):
            return step, "redirected"


def _talk_to_dialer(
    call: CallState, taken: Dequeued, name: str, queue_sid: str, start: float
) -> None:
    """Hear the ``<Queue url>`` announcement, then talk to the call that dequeued us."""
    try:
        if taken.url:
            extra = {
                "QueueSid": queue_sid,
                "QueueTime": str(int(call.clock.elapsed - start)),
                "DequeingCallSid": taken.dialer.sid,
            }
            leg = Leg(
                call.main.params,
                "in-progress",
                Who.APP,
                Who.CALLER,
                call.caller.respond,
                _QUEUE_URL_VERBS,
                "the <Queue url> announcement",
                is_caller=True,
                heard=call.main.heard,
            )
            call.run_leg(call.fetch(taken.url, taken.method, leg, extra), leg)
        who = taken.dialer.main.params["From"]
        call.emit(Who.TWILIO, "bridge", who, detail={"call": taken.dialer.sid, "queue": name})
        call.bridged.append(who)
        taken.bridge.talk(call, float("inf"))
    except PartyLeft:
        pass  # the agent left while the caller heard the announcement
    finally:
        taken.bridge.leave(call)


def _leave_queue(
    call: CallState,
    name: str,
    queue_sid: str,
    result: str,
    start: float,
    left: float | None = None,
) -> None:
    seconds = (call.clock.elapsed if left is None else left) - start
    call.visits.append(QueueVisit(name, queue_sid, result, seconds))
    call.emit(Who.TWILIO, "dequeue", result, detail={"queue": name, "seconds": f"{seconds:g}"})


def _queue_outcome(
    call: CallState, result: str, queue_sid: str, start: float, left: float | None = None
) -> dict[str, str]:
    waited = (call.clock.elapsed if left is None else left) - start
    return {"QueueResult": result, "QueueSid": queue_sid, "QueueTime": str(int(waited))}
