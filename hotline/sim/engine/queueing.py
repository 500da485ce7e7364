"""``<Enqueue>``: hold the caller in a queue, playing ``waitUrl``, until they leave or are answered.

The queue behaves as its ``QueueBehaviour`` says: an agent picking up after ``agent_after`` seconds
interrupts whatever the caller is hearing; ``<Leave>`` in the wait TwiML ends the stay; a queue
that ``refuse``s callers ends the ``<Enqueue>`` at once (``queue-full``, ``system-error``). The
wait is a flow of documents, as Twilio documents it: a ``<Redirect>`` or a ``<Gather>``'s action
in wait TwiML leads to more wait TwiML, and the waitUrl is requested again once none is left.
``<Enqueue workflowSid>`` (TaskRouter) waits in the queue named after the workflow.
"""

from __future__ import annotations

import json
from urllib.parse import urljoin

from hotline.sim.engine import twiml
from hotline.sim.engine.bridge import Dequeued
from hotline.sim.engine.call import CallState, Leg, QueueVisit, Step, Stop
from hotline.sim.engine.callees import queue_behaviour
from hotline.sim.engine.interrupts import AgentAnswered, CallOver, PartyLeft, Redirected
from hotline.sim.engine.playback import Segment, play_segments
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.model import CallEnd, QueueBehaviour, WebhookFailed, Who

_WAIT_VERBS = frozenset({"Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Leave"})
_QUEUE_URL_VERBS = frozenset({"Say", "Play", "Pause", "Redirect"})
#: What the caller hears while waiting with no waitUrl (Twilio's classical playlist) and with
#: ``waitUrl=""`` (nothing), one ``Timing.play`` at a time.
HOLD_MUSIC = "[hold music]"
SILENCE = "[silence]"


def enqueue(call: CallState, verb: Verb, doc: Document, leg: Leg) -> Step:
    """Play an ``<Enqueue>``: wait in the queue, then post the ``QueueResult`` to the action."""
    name, detail = _queue_name(verb, doc)
    behaviour, default = queue_behaviour(call.queues, name)
    queue_sid = call.queue_sid(name)
    start = call.clock.elapsed
    call.emit(Who.TWILIO, "enqueue", name, url=doc.url, detail={"QueueSid": queue_sid, **detail})
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
    if behaviour.agent_after is not None:
        call.interrupt_at = start + behaviour.agent_after
    if call.network is not None:
        call.network.joined_queue(call, name, queue_sid)
    taken: Dequeued | None = None
    try:
        try:
            result = _wait_in_queue(call, name, verb, doc, behaviour, queue_sid, start)
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
            call.requests.post_after_hangup(
                twiml.method(verb), urljoin(doc.url, action), call.main.request_params(outcome)
            )
        raise
    except CallOver as over:
        _leave_queue(call, name, queue_sid, "hangup", start)
        if action:
            call.main.status = "completed"
            outcome = _queue_outcome(call, "hangup", queue_sid, start)
            call.requests.post_after_hangup(
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
                call.requests.post_after_hangup(
                    twiml.method(verb), urljoin(doc.url, action), call.main.request_params(outcome)
                )
            raise
        except Redirected:
            # Moved through the REST API while bridged: Twilio's "redirected-from-bridged"
            # ("the queued and then successfully bridged session was transferred out"); the
            # action is requested as the bridge ends, and the call plays what it was given.
            moved = "redirected-from-bridged"
            _leave_queue(call, name, queue_sid, moved, start, waited)
            if action:
                outcome = _queue_outcome(call, moved, queue_sid, start, waited)
                call.requests.post_after_hangup(
                    twiml.method(verb), urljoin(doc.url, action), call.main.request_params(outcome)
                )
            raise
        _leave_queue(call, name, queue_sid, result, start, waited)
    else:
        _leave_queue(call, name, queue_sid, result, start)
    if result == "bridged" and taken is None:
        try:
            call.bridge(f"queue:{name}", behaviour.talk, float("inf"))
        except (CallOver, Redirected) as ended:
            # Twilio requests the action once the bridged parties disconnect, whoever left first
            # (moved by REST: redirected-from-bridged); the call is past it, its answer ignored.
            taken_out = isinstance(ended, Redirected)
            if action:
                if not taken_out:
                    call.main.status = "completed"
                done = "redirected-from-bridged" if taken_out else result
                outcome = _queue_outcome(call, done, queue_sid, start, waited)
                call.requests.post_after_hangup(
                    twiml.method(verb), urljoin(doc.url, action), call.main.request_params(outcome)
                )
            raise
    outcome = _queue_outcome(call, result, queue_sid, start, waited)
    if action:
        return call.fetch(urljoin(doc.url, action), twiml.method(verb), leg, outcome)
    return None


def leave(call: CallState, verb: Verb, doc: Document, leg: Leg) -> Step:
    """Play a ``<Leave>`` in wait TwiML: the caller leaves the queue."""
    return Stop.LEAVE


def _wait_in_queue(
    call: CallState,
    name: str,
    verb: Verb,
    doc: Document,
    behaviour: QueueBehaviour,
    queue_sid: str,
    start: float,
) -> str:
    """Play the wait music until the caller leaves the queue: return the QueueResult.

    Only ``<Leave>`` ends the wait (an agent answering, a hang-up or ``<Hangup>`` raise): a
    ``<Redirect>`` or a ``<Gather>`` action leads to more wait TwiML, and once a flow runs out
    the waitUrl is requested again, as Twilio documents. ``waitUrl=""``: the caller waits in
    silence. An answer in an audio type is played as the wait music.
    """
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
    wait_url = verb.attrs.get("waitUrl")
    if wait_url is None or not wait_url.strip():
        heard = HOLD_MUSIC if wait_url is None else SILENCE
        music = Segment("play", heard, call.sim.timing.play, 1, {})
        while True:
            play_segments(call, [music], wait_leg)
    while True:
        # In a session the queue is shared: the callers really in it count, in front and in all.
        place, size = (1, 1) if call.network is None else call.network.place_in(call, name)
        extra = {
            "QueuePosition": str(behaviour.ahead + place),
            "QueueSid": queue_sid,
            "QueueTime": str(int(call.clock.elapsed - start)),
            "AvgQueueTime": str(round(behaviour.avg_wait)),
            "CurrentQueueSize": str(behaviour.ahead + size),
            "MaxQueueSize": "100",
        }
        method = twiml.method(verb, "waitUrlMethod")
        params = wait_leg.request_params(extra)
        wait_doc = call.requests.fetch(
            method, urljoin(doc.url, wait_url), params, fallback=True, audio=True
        )
        step = call.play(wait_doc, wait_leg)
        while isinstance(step, Document):  # a Redirect or a Gather action: still wait TwiML
            wait_doc = step
            step = call.play(wait_doc, wait_leg)
        if step is Stop.LEAVE:
            return "leave"
        if step is Stop.HANGUP:
            raise CallOver(CallEnd.COMPLETED, f"<Hangup> in waitUrl TwiML {wait_doc.url}")


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


def _queue_name(verb: Verb, doc: Document) -> tuple[str, dict[str, str]]:
    """The queue an ``<Enqueue>`` waits in, and what the transcript notes about it.

    With ``workflowSid`` TaskRouter holds the call in a voice queue named after the workflow,
    so that is the queue (its own assignment logic is not simulated). A ``<Task>``'s body must
    be a JSON object (its ``priority`` and ``timeout`` only matter to TaskRouter).
    """
    workflow = verb.attrs.get("workflowSid", "").strip()
    detail: dict[str, str] = {}
    for task in verb.children:
        for attribute in ("priority", "timeout"):
            twiml.number(task, attribute, 0.0)  # a value that is not a number is invalid
        try:
            attributes = json.loads(task.text or "{}")
        except ValueError:
            attributes = None
        if not isinstance(attributes, dict):
            raise WebhookFailed(f"<Task> is not a JSON object: {task.text!r} (from {doc.url})")
        detail["task"] = task.text
    if workflow:
        return workflow, {"workflowSid": workflow, **detail}
    if not verb.text:
        raise WebhookFailed(f"<Enqueue> without a queue name or workflowSid (from {doc.url})")
    return verb.text, detail
