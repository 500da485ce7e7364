"""The TwiML verbs' dispatch table, and the plain verbs: Say, Play, Pause, Redirect, Hangup, Reject.

A ``CallState`` plays a document by looking each verb up in ``HANDLERS``; the verbs that take
input, ring or queue live in ``gathering.py``, ``dialing.py`` and ``queueing.py``.
"""

from __future__ import annotations

from urllib.parse import urljoin

from hotline.sim.engine import twiml
from hotline.sim.engine.call import CallState, Handler, Leg, Step, Stop
from hotline.sim.engine.dialing import dial
from hotline.sim.engine.gathering import gather, record
from hotline.sim.engine.playback import play_segments, segment
from hotline.sim.engine.queueing import enqueue, leave
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.model import WebhookFailed, Who


def _speak(call: CallState, verb: Verb, doc: Document, leg: Leg) -> Step:
    play_segments(call, [segment(verb, call.sim.timing)], leg)
    return None


def _redirect(call: CallState, verb: Verb, doc: Document, leg: Leg) -> Step:
    if not verb.text:
        raise WebhookFailed(f"<Redirect> without a URL (from {doc.url})")
    target = urljoin(doc.url, verb.text)
    call.emit(Who.TWILIO, "redirect", target, url=doc.url)
    return call.fetch(target, twiml.method(verb), leg)


def _hangup(call: CallState, verb: Verb, doc: Document, leg: Leg) -> Step:
    return Stop.HANGUP


def _reject(call: CallState, verb: Verb, doc: Document, leg: Leg) -> Step:
    reason = verb.attrs.get("reason", "rejected")
    if reason not in ("rejected", "busy"):
        raise twiml.invalid(verb, "reason", "rejected or busy")
    call.emit(Who.TWILIO, "reject", reason, url=doc.url)
    call.reject_reason = reason
    return Stop.REJECT


HANDLERS: dict[str, Handler] = {
    "Say": _speak,
    "Play": _speak,
    "Pause": _speak,
    "Gather": gather,
    "Dial": dial,
    "Record": record,
    "Enqueue": enqueue,
    "Leave": leave,
    "Redirect": _redirect,
    "Hangup": _hangup,
    "Reject": _reject,
}
