"""The simulator engine: place a call against any Twilio voice app and play its TwiML like Twilio.

``Simulator.place_call`` posts the signed voice webhook, interprets the TwiML answered (see
``twiml.SUPPORTED``), asks the ``Caller`` for input at each Gather and Record, rings dialled
numbers as their ``CalleeBehaviour`` says (running ``<Number url>`` whispers on the callee's own
leg), holds queued callers per ``QueueBehaviour``, and returns a ``CallResult`` with the whole
``Transcript``. Time is virtual (``clock.py``); every SID is derived from a seed, so a call
replayed with the same inputs gives the same transcript.

This module holds the ``Simulator`` and a call's run from first ring to end; the rest is split
by concern: ``call.py`` (a call's running state and the webhooks it posts), ``verbs.py`` (which
function plays each verb; Say, Play, Pause, Redirect, Hangup, Reject), ``playback.py`` (what a
listener hears), ``gathering.py`` (Gather, Record), ``dialing.py`` (Dial to numbers, whispers,
Queue), ``queueing.py`` (Enqueue, waitUrl, Leave) and ``status_callbacks.py`` (the events
posted to the number's status callback).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from hotline.sim.engine.call import (
    API_VERSION,
    CallOver,
    CallState,
    QueueVisit,
    Stop,
)
from hotline.sim.engine.call_details import call_details
from hotline.sim.engine.callees import number_key
from hotline.sim.engine.clock import AppTime, Timing, VirtualClock
from hotline.sim.engine.fallback import APPLICATION_ERROR, failed_ending
from hotline.sim.engine.signing import Signer
from hotline.sim.engine.status_callbacks import STATUS_CALLBACK_EVENTS, send_status_callback
from hotline.sim.engine.transport import Transport
from hotline.sim.engine.twiml import Document
from hotline.sim.engine.verbs import HANDLERS
from hotline.sim.model import (
    QUEUE_REFUSALS,
    CalleeBehaviour,
    CallEnd,
    Caller,
    Event,
    QueueBehaviour,
    RunawayCall,
    SimError,
    Transcript,
    WebhookFailed,
    Who,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_ACCOUNT_SID",
    "STATUS_CALLBACK_EVENTS",
    "CallResult",
    "QueueVisit",
    "Simulator",
]

DEFAULT_ACCOUNT_SID = "AC" + hashlib.sha1(b"hotline.sim account").hexdigest()[:32]


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


class Simulator:
    """Plays calls against one Twilio voice app reached through ``transport``.

    ``base_url`` is the public URL the app believes Twilio calls (requests are signed with it);
    ``voice_url`` is the number's Voice URL, relative to it, requested with ``voice_method``
    (the number's setting: GET puts the params in the query string), and ``fallback_url`` its Voice
    Fallback URL (requested with ``fallback_method`` when fetching TwiML for the caller fails;
    see ``fallback.py``). An attribute the engine does not play is a ``warning`` event, as
    Twilio's 12200 is; ``strict`` refuses it (``UnsupportedTwiML``). A ``status_callback`` URL
    receives the call's ``status_callback_events``. A call is cut short (as a caller hang-up)
    once it lasts ``max_duration`` virtual seconds, and fails with ``RunawayCall`` past
    ``max_webhooks``.
    """

    def __init__(
        self,
        transport: Transport,
        auth_token: str,
        voice_url: str = "/voice",
        base_url: str = "http://localhost",
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        timing: Timing | None = None,
        status_callback: str | None = None,
        status_callback_events: Sequence[str] = STATUS_CALLBACK_EVENTS,
        max_duration: float = 3600.0,
        max_webhooks: int = 1000,
        fallback_url: str | None = None,
        fallback_method: str = "POST",
        voice_method: str = "POST",
        strict: bool = False,
    ) -> None:
        unknown = set(status_callback_events) - set(STATUS_CALLBACK_EVENTS)
        if unknown:
            raise ValueError(f"unknown status callback events: {sorted(unknown)}")
        self.transport = transport
        self.signer = Signer(auth_token)
        self.base_url = base_url
        self.voice_url = urljoin(base_url, voice_url)
        self.account_sid = account_sid
        self.timing = timing or Timing()
        self.status_callback = urljoin(base_url, status_callback) if status_callback else None
        self.status_callback_events = frozenset(status_callback_events)
        self.max_duration = max_duration
        self.max_webhooks = max_webhooks
        self.fallback_url = urljoin(base_url, fallback_url) if fallback_url else None
        if fallback_method not in ("GET", "POST"):
            raise ValueError(f"fallback_method: GET or POST, got {fallback_method!r}")
        self.fallback_method = fallback_method
        if voice_method not in ("GET", "POST"):
            raise ValueError(f"voice_method: GET or POST, got {voice_method!r}")
        self.voice_method = voice_method
        self.strict = strict
        self.app_time = AppTime()

    @contextmanager
    def batch(self) -> Iterator[Simulator]:
        """Share one freezegun freeze among the calls placed inside the block (in-process only).

        Starting freezegun costs ~10 ms in a full app: a runner replaying many calls should place
        them inside one ``batch()``. Between calls the app's time stays where the last call ended.
        """
        if not self.transport.shares_clock or self.app_time.active:
            yield self
            return
        self.app_time.start(datetime.now())  # any instant: each call moves it
        try:
            yield self
        finally:
            self.app_time.stop()

    def url(self, path: str) -> str:
        """Return ``path`` made absolute against the app's public base URL."""
        return urljoin(self.base_url, path)

    def get_json(self, path: str, headers: Mapping[str, str] | None = None) -> Any:
        """GET one of the app's JSON endpoints (for checking outcomes after a call)."""
        return self.transport.get_json(self.url(path), headers)

    def place_call(
        self,
        caller: Caller,
        at: datetime,
        from_: str,
        to: str,
        callees: Mapping[str, Sequence[CalleeBehaviour]] | None = None,
        queues: Mapping[str, QueueBehaviour] | None = None,
        *,
        seed: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> CallResult:
        """Place one inbound call from ``from_`` to ``to`` at virtual time ``at`` and play it out.

        SIDs derive from ``seed`` (default: from, to and ``at``): give each call in a batch its own
        seed if the app stores calls by CallSid. ``details``: what Twilio adds to every request
        of the caller's leg (``FromCity``..., see ``call_details.CALL_DETAILS``).
        ``UnsupportedTwiML`` and ``ExpectationFailed`` are raised; a failing webhook ends the
        call as FAILED with ``CallResult.error`` set.
        """
        added = call_details(details or {})
        call = CallState(
            self, caller, VirtualClock(at), from_, to, callees or {}, queues or {}, seed, HANDLERS
        )
        call.main.params.update(added)  # every request of the caller's leg carries them
        return _run(self, call)


# -- the call as a whole ----------------------------------------------------------------------


def _run(sim: Simulator, call: CallState) -> CallResult:
    end, reason, limit = CallEnd.COMPLETED, "", False
    error: SimError | None = None
    shared: AbstractContextManager[None] = (
        call.clock.shared_with_app(sim.app_time) if sim.transport.shares_clock else nullcontext()
    )
    with shared:
        send_status_callback(sim, call, "initiated")
        send_status_callback(sim, call, "ringing")
        try:
            end, reason = _play_call(sim, call)
        except CallOver as over:
            end, reason, limit = over.end, over.reason, over.limit
            if over.end is CallEnd.CALLER_HANGUP:
                call.emit(Who.CALLER, "hangup", over.reason)
        except WebhookFailed as exc:
            end, reason, error = CallEnd.FAILED, failed_ending(exc, sim.fallback_url), exc
            call.emit(Who.TWILIO, "error", str(exc))
            # No TwiML to play: Twilio speaks its own apology and hangs up.
            call.emit(Who.TWILIO, "say", APPLICATION_ERROR)
            call.clock.advance(sim.timing.say(APPLICATION_ERROR))
        except RunawayCall as exc:
            end, reason, error = CallEnd.FAILED, str(exc), exc
            call.emit(Who.TWILIO, "error", str(exc))
        call.main.status = "completed"
        call.emit(Who.TWILIO, "end", end.value, detail={"reason": reason})
        send_status_callback(sim, call, "completed", end)
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


def _play_call(sim: Simulator, call: CallState) -> tuple[CallEnd, str]:
    doc = call.fetch(sim.voice_url, sim.voice_method, call.main)
    if not doc.verbs or doc.verbs[0].name != "Reject":
        call.answered_at = call.clock.elapsed
        call.main.status = "in-progress"
        send_status_callback(sim, call, "answered")
    while True:
        step = call.play(doc, call.main)
        if isinstance(step, Document):
            doc = step
        elif step is Stop.HANGUP:
            return CallEnd.COMPLETED, f"<Hangup> in {doc.url}"
        elif step is Stop.REJECT:
            return CallEnd.REJECTED, f"<Reject> in {doc.url}"
        else:
            return CallEnd.COMPLETED, f"end of TwiML from {doc.url}"
