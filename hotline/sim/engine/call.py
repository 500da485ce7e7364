"""One call in progress: ``CallState`` (clock, legs, transcript, SIDs, requests) and its ``Leg``s.

``CallState`` is what every verb handler (``verbs``, ``gathering``, ``dialing``, ``queueing``...)
receives: it plays a document on a leg by dispatching each verb to the handler table it was given,
so this module imports none of them. ``Network`` is what a call asks of the calls it shares a world
with (its methods take a ``CallState``, so it stays beside it); what breaks into a call's TwiML
from outside is in ``interrupts.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from hotline.sim.engine.callees import CalleeBook
from hotline.sim.engine.interrupts import AgentAnswered, CallOver
from hotline.sim.engine.transport import WebhookResponse
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.engine.twiml_contract import SUPPORTED
from hotline.sim.engine.webhooks import CallSettings, Webhooks
from hotline.sim.engine.world import Actor, CallClock, World
from hotline.sim.model import (
    CalleeBehaviour,
    CallEnd,
    Caller,
    CallerInput,
    Event,
    Prompt,
    QueueBehaviour,
    Transcript,
    UnsupportedTwiML,
    Who,
)

API_VERSION = "2010-04-01"

_CALLER_VERBS = frozenset(SUPPORTED["Response"].children) - {"Leave"}


@dataclass(frozen=True)
class QueueVisit:
    """One stay in a queue: its name and SID, the ``QueueResult`` and the seconds spent waiting."""

    name: str
    sid: str
    result: str
    seconds: float


def queue_sid_of(account_sid: str, name: str) -> str:
    """The SID of the account's queue called ``name``: derived, so every call agrees on it."""
    digest = hashlib.sha1(f"{account_sid}/queue/{name}".encode()).hexdigest()
    return "QU" + digest[:32]


class Stop(Enum):
    """How a run of TwiML stopped, when it did not just run out or jump to a new document."""

    HANGUP = "hangup"
    REJECT = "reject"
    LEAVE = "leave"


#: What playing a verb leads to: a new document, a stop, or None to go on with the next verb.
Step = Document | Stop | None


@dataclass
class Leg:
    """One side of the call the engine plays TwiML on: the caller's, a callee's, a queued one's."""

    params: dict[str, str]  # standard params of every request on this leg
    status: str  # CallStatus sent with the next request
    speaker: Who  # whose ears the TwiML is for (APP = the caller's, CALLEE = the other party's)
    actor: Who  # who answers prompts on this leg
    respond: Callable[[Prompt], CallerInput]
    allowed: frozenset[str]
    context: str  # for error messages: "the call", "a whisper", "waitUrl"
    is_caller: bool = False
    heard: list[str] = field(default_factory=list)
    party: str = ""  # on a callee's leg: the number (or queue) whose ears the TwiML is for

    def request_params(self, extra: Mapping[str, str]) -> dict[str, str]:
        """Return the params of a request on this leg, with ``extra`` added."""
        return {**self.params, "CallStatus": self.status, **extra}


class Network(Protocol):
    """The calls, queues and conferences a call shares a world with (``network.py``)."""

    world: World

    def joined_queue(self, call: CallState, name: str, sid: str) -> None:
        """The call is waiting in queue ``name`` from now on."""

    def left_queue(self, call: CallState, name: str) -> None:
        """The call is no longer in queue ``name``."""

    def place_in(self, call: CallState, name: str) -> tuple[int, int]:
        """The call's position in queue ``name`` (1: the front) and the queue's size."""

    def take_member(self, dialer: CallState, name: str) -> CallState | None:
        """The front member of queue ``name`` for ``dialer`` to talk to, if anyone waits."""

    def await_member(self, dialer: CallState, name: str) -> None:
        """``dialer`` waits for a member to join queue ``name`` (``PartyLeft`` says one did)."""

    def stop_awaiting(self, dialer: CallState, name: str) -> None:
        """``dialer`` no longer waits for queue ``name``."""


#: Plays one verb of a document on a leg.
Handler = Callable[["CallState", Verb, Document, Leg], Step]


class CallState:
    """One call in progress: its clock, legs, transcript and what it came to."""

    def __init__(
        self,
        sim: CallSettings,
        caller: Caller,
        clock: CallClock,
        from_: str,
        to: str,
        callees: Mapping[str, Sequence[CalleeBehaviour]],
        queues: Mapping[str, QueueBehaviour],
        seed: str | None,
        handlers: Mapping[str, Handler],
        *,
        network: Network | None = None,
        book: CalleeBook | None = None,
        direction: str = "inbound",
        params: Mapping[str, str] | None = None,
    ) -> None:
        self.sim = sim
        self.caller = caller
        #: Told every event after the caller (a session's triggers: ``Session.when``).
        self.listeners: list[Callable[[Event], None]] = []
        self.clock = clock
        self.from_ = from_
        self.book = book if book is not None else CalleeBook(callees)
        self.queues = queues
        self.handlers = handlers
        self.seed = seed or f"{from_}|{to}|{clock.start.isoformat()}"
        self.sid_count = 0
        self.sid = self.new_sid("CA")
        self.transcript: Transcript = []
        # Over HTTP the app may call the REST stand-in (served on a port, in another thread)
        # while it answers: the world lets it in for as long as the request is out.
        self.requests = Webhooks(
            sim, self.emit, None if sim.transport.shares_clock else clock.world.outside
        )
        self.sequence = 0
        self.bridged: list[str] = []
        self.visits: list[QueueVisit] = []
        self.answered_at: float | None = None
        self.interrupt_at: float | None = None
        self.reject_reason = ""
        self.network = network
        self.actor: Actor | None = None  # set when the call runs in a world with others
        self.direction = direction
        self.ended_at: float | None = None  # seconds into the call when it ended
        self.final_status = ""  # the status it ended with: completed, busy, no-answer, ...
        base = {
            "CallSid": self.sid,
            "AccountSid": sim.account_sid,
            "From": from_,
            "To": to,
            "Caller": from_,
            "Called": to,
            "Direction": direction,
            "ApiVersion": API_VERSION,
            **(params or {}),
        }
        self.main = Leg(
            base,
            "ringing",
            Who.APP,
            Who.CALLER,
            caller.respond,
            _CALLER_VERBS,
            "the call",
            is_caller=True,
        )

    # -- playing a document -----------------------------------------------------------------

    def play(self, doc: Document, leg: Leg) -> Step:
        """Play ``doc``'s verbs in order until one jumps elsewhere or stops the leg."""
        for verb in doc.verbs:
            if verb.name not in leg.allowed:
                raise UnsupportedTwiML(
                    f"<{verb.name}> is not supported in {leg.context} (from {doc.url})"
                )
            step = self.handlers[verb.name](self, verb, doc, leg)
            if step is not None:
                return step
        return None

    def run_leg(self, doc: Document, leg: Leg) -> Stop | None:
        """Play ``doc`` and every document it leads to; return how the leg stopped."""
        while True:
            step = self.play(doc, leg)
            if not isinstance(step, Document):
                return step
            doc = step

    # -- time and bookkeeping -----------------------------------------------------------------

    def spend(self, seconds: float) -> None:
        """Let ``seconds`` pass, unless the caller hangs up, an agent answers or time runs out."""
        target = self.clock.elapsed + seconds
        hangup = self.caller.hangs_up_at()
        if (
            hangup is not None
            and target >= hangup
            and hangup <= self.sim.max_duration
            and (self.interrupt_at is None or hangup <= self.interrupt_at)
        ):
            self.clock.advance(max(0.0, hangup - self.clock.elapsed))
            raise CallOver(
                CallEnd.CALLER_HANGUP, f"the caller hung up {self.clock.elapsed:g} s into the call"
            )
        if self.interrupt_at is not None and target >= self.interrupt_at:
            self.clock.advance(max(0.0, self.interrupt_at - self.clock.elapsed))
            raise AgentAnswered
        if target > self.sim.max_duration:
            self.clock.advance(max(0.0, self.sim.max_duration - self.clock.elapsed))
            raise CallOver(
                CallEnd.CALLER_HANGUP,
                f"the call reached max_duration ({self.sim.max_duration:g} s)",
                limit=True,
            )
        self.clock.advance(seconds)

    def cut_after(self, seconds: float) -> float | None:
        """How much of the next ``seconds`` is heard before ``spend`` stops (None: all of it)."""
        stops = [self.sim.max_duration, self.interrupt_at, self.caller.hangs_up_at()]
        heard = min(s for s in stops if s is not None) - self.clock.elapsed
        return max(0.0, heard) if heard < seconds else None

    def bridge(self, party: str, talk: float, time_limit: float) -> None:
        """Connect the caller to ``party`` for ``talk`` seconds (at most ``time_limit``)."""
        self.emit(Who.TWILIO, "bridge", party)
        self.bridged.append(party)
        seconds = min(talk, time_limit)
        self.spend(seconds)
        self.emit(Who.CALLEE, "hangup", f"{party} hung up after {seconds:g} s")

    def emit(
        self,
        who: Who,
        kind: str,
        text: str = "",
        url: str = "",
        detail: dict[str, str] | None = None,
    ) -> None:
        """Write one event to the transcript and let the caller hear it."""
        event = Event(self.clock.now, who, kind, text, url, detail if detail is not None else {})
        self.transcript.append(event)
        self.caller.hear(event)
        for listener in self.listeners:
            listener(event)

    def new_sid(self, prefix: str) -> str:
        """Return the next SID of this call: 34 characters like Twilio's, derived from the seed."""
        self.sid_count += 1
        digest = hashlib.sha1(f"{self.seed}/{self.sid_count}".encode()).hexdigest()
        return prefix + digest[:32]

    def queue_sid(self, name: str) -> str:
        """Return the SID of the queue called ``name`` (the same for every call of the account)."""
        return queue_sid_of(self.sim.account_sid, name)

    # -- requests (webhooks.py) ---------------------------------------------------------------

    @property
    def webhooks(self) -> int:
        """How many requests the call has sent to the app (status callbacks included)."""
        return self.requests.sent

    def fetch(
        self, url: str, method: str, leg: Leg, extra: Mapping[str, str] | None = None
    ) -> Document:
        """Request TwiML on ``leg``; on the caller's, a failure goes to the Voice Fallback URL."""
        params = leg.request_params(extra or {})
        return self.requests.fetch(method, url, params, fallback=leg.is_caller)

    def post(
        self, method: str, url: str, params: dict[str, str], kind: str = "webhook"
    ) -> WebhookResponse:
        """Sign and send one request on the call (see ``Webhooks.post``)."""
        return self.requests.post(method, url, params, kind)

    def notify(self, url: str, params: dict[str, str], what: str) -> None:
        """Post a fire-and-forget callback (see ``Webhooks.notify``)."""
        self.requests.notify(url, params, what)
