"""What a scripted call is: its steps, the checks after it, and where each is written.

These objects come from a TOML script (``script.py``) or from a Python test (the ``dial``
fixture); the scripted caller (``caller.py``) plays them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from hotline.sim.engine.scheduled import ScheduledUntil
from hotline.sim.model import CalleeBehaviour, CallEnd, QueueBehaviour

# How a call can end, as ``[expect] ended`` names it.
ENDINGS = tuple(end.value for end in CallEnd)

#: What a call may need of the app that only an app built for the replay gives (``needs``):
#: a running server (``--url``) cannot, so such calls are skipped there, saying why.
NEEDS = {
    "virtual-time": "the app to see the call's virtual time (a running server keeps its own clock)",
    "empty-database": "an empty database (a running server keeps what earlier calls stored)",
    "scheduled-work": "the app's scheduled jobs run on the virtual clock (hotline built by the"
    " replay; a running server has its own scheduler)",
}


@dataclass(frozen=True)
class Location:
    """A place in a script (or a Python test): file and 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Hear:
    """Expect the app to have said something since the previous action (or, negated, not)."""

    where: Location
    pattern: re.Pattern[str]
    shown: str
    negated: bool = False

    def describe(self) -> str:
        """The step as a tester wrote it."""
        verb = "not hear" if self.negated else "hear"
        return f"{verb} {self.shown}"


@dataclass(frozen=True)
class Press:
    """Press keys at the next prompt (``barge_in``: while it still plays, ``after`` s into it)."""

    where: Location
    digits: str
    after: float | None = None
    barge_in: bool = False

    def describe(self) -> str:
        """The step as a tester wrote it."""
        return f"press {self.digits!r}" + (" (barging in)" if self.barge_in else "")


@dataclass(frozen=True)
class Say:
    """Say a phrase at the next prompt (the app receives it as ``SpeechResult``).

    ``barge_in``: while the prompt still plays, ``after`` seconds into it.
    """

    where: Location
    words: str
    confidence: float | None = None
    after: float | None = None
    barge_in: bool = False

    def describe(self) -> str:
        """The step as a tester wrote it."""
        return f"say {self.words!r}" + (" (barging in)" if self.barge_in else "")


@dataclass(frozen=True)
class Silence:
    """Stay silent at the next prompt, so it times out."""

    where: Location

    def describe(self) -> str:
        """The step as a tester wrote it."""
        return "stay silent"


#: How a scripted recording ends besides a key: the caller falls silent, or hangs up.
RECORD_ENDS = ("silence", "hangup")


@dataclass(frozen=True)
class Record:
    """Speak a message of ``seconds`` into a ``<Record>``; ``transcription`` is what it said.

    ``end``: what the caller does when done speaking: ``"silence"`` (the Record's ``timeout``
    ends it), ``"hangup"``, or a key to press (``"#"``).
    """

    where: Location
    seconds: float
    transcription: str = ""
    after: float | None = None
    end: str = "silence"

    def describe(self) -> str:
        """The step as a tester wrote it."""
        ending = "" if self.end == "silence" else f", then {self.end}"
        if self.end not in RECORD_ENDS:
            ending = f", then press {self.end!r}"
        return f"record {self.seconds:g}s{ending}"


@dataclass(frozen=True)
class Hangup:
    """Hang up: as soon as the previous steps are done, or ``at`` seconds into the call."""

    where: Location
    at: float | None = None

    def describe(self) -> str:
        """The step as a tester wrote it."""
        return "hang up" if self.at is None else f"hang up {self.at:g}s into the call"


Step = Hear | Press | Say | Silence | Record | Hangup
Action = Press | Say | Silence | Record | Hangup


@dataclass(frozen=True)
class ApiCheck:
    """A GET on the app's JSON API after the call, and what its body must (not) contain."""

    where: Location
    path: str
    contains: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()
    status: int = 200


@dataclass(frozen=True)
class CalleeHeard:
    """What a dialled number (or a queue's caller) must have heard the app say to them."""

    where: Location
    number: str
    texts: tuple[str, ...]  # each a case-insensitive substring, whitespace collapsed


@dataclass(frozen=True)
class MessageCheck:
    """Messages the app sent through the REST API: each field given must match.

    ``body``: texts the message contains (case-insensitive, spaces collapsed). ``count``: exactly
    this many messages match (``0``: none does); ``None``: at least one.
    """

    where: Location
    to: str | None = None
    from_: str | None = None
    body: tuple[str, ...] = ()
    count: int | None = None


@dataclass(frozen=True)
class OutboundCheck:
    """Calls the app placed through the REST API: each field given must match.

    ``status``: the call's final status (completed, busy, no-answer, failed, canceled); ``heard``:
    texts the app said on it, to the person called. ``count`` as in ``MessageCheck``.
    """

    where: Location
    to: str | None = None
    from_: str | None = None
    status: str | None = None
    heard: tuple[str, ...] = ()
    count: int | None = None


#: The final statuses a call the app placed can end with (``OutboundCheck.status``).
OUTBOUND_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")


@dataclass(frozen=True)
class Expect:
    """Outcome checks after the call; ``None`` = not checked, ``""`` = must not have happened."""

    where: Location
    ended: str | None = None
    bridged: str | None = None
    queue: str | None = None
    api: tuple[ApiCheck, ...] = ()
    callee_heard: tuple[CalleeHeard, ...] = ()
    # TwiML warnings: None = not checked, () = none allowed, texts = each in some warning
    warnings: tuple[str, ...] | None = None
    places: Mapping[str, Location] = field(default_factory=dict)  # where each check is written
    conference: str | None = None
    messages: tuple[MessageCheck, ...] = ()  # the session's: only in the main call's [expect]
    outbound: tuple[OutboundCheck, ...] = ()  # the session's, likewise
    # The scheduled work done in the session: each text is in some line of it (the main call's).
    scheduled: tuple[str, ...] = ()

    @property
    def needs_network(self) -> bool:
        """Whether the checks read what the app did through the REST API (a session's network)."""
        return bool(self.messages or self.outbound or self.scheduled)


@dataclass(frozen=True)
class Party:
    """Another call placed in the same session as the script's call: an agent, a second caller.

    ``after``: seconds after the main call starts; ``to`` and ``voice_url`` ``None``: the main
    call's; ``params``: extra request parameters sent on every request of the call.
    """

    name: str
    where: Location
    from_: str
    steps: tuple[Step, ...]
    expect: Expect
    after: float = 0.0
    to: str | None = None
    voice_url: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RestRequest:
    """A request the script makes to Twilio's REST API at a second of the call, as another
    system would (an agents' console, a CRM): through the simulator's stand-in.

    ``path`` is relative to ``/2010-04-01/Accounts/{AccountSid}/`` and may hold ``{CallSid}``
    (the main call), ``{CallSid:NAME}`` (a party's), ``{QueueSid:NAME}`` and
    ``{ConferenceSid:NAME}`` (by friendly name); ``data`` values may hold them too. ``status``:
    the answer expected (``None``: any 2xx).
    """

    where: Location
    at: float
    method: str
    path: str
    data: Mapping[str, str] = field(default_factory=dict)
    status: int | None = None

    def describe(self) -> str:
        """The request as a tester wrote it."""
        return f"{self.method} {self.path} at {self.at:g}s"


@dataclass(frozen=True)
class AppRequest:
    """A request the script makes to the app's own JSON API during the call: an agent's click in
    a console, another system acting on the calls.

    Sent at ``at`` seconds after the main call starts, or ``after`` seconds after the call named
    ``party`` ("" the main call) first has an event of kind ``on`` ("enqueue", "bridge"...).
    ``path`` and the JSON's texts may hold ``{CallSid}`` and ``{CallSid:PARTY}``. ``token``: the
    Bearer token (``None``: the run's API token). ``status``: the answer expected (``None``: 2xx).
    """

    where: Location
    method: str
    path: str
    json: Mapping[str, object] | None = None
    at: float | None = None
    on: str | None = None
    party: str = ""
    after: float = 0.0
    token: str | None = None
    status: int | None = None

    def describe(self) -> str:
        """The request as a tester wrote it."""
        when = f"at {self.at:g}s" if self.at is not None else f"on {self.on}"
        return f"{self.method} {self.path} {when}"


@dataclass(frozen=True)
class CallScript:
    """One scripted call: when, from and to whom, how dialled numbers behave, steps and checks."""

    name: str
    where: Location
    at: datetime
    from_: str
    to: str
    config: Path | None
    dialled: Mapping[str, tuple[CalleeBehaviour, ...]]
    queues: Mapping[str, QueueBehaviour]
    steps: tuple[Step, ...]
    expect: Expect
    voice_url: str | None = None  # the number's Voice URL (a path); None: the replay's
    voice_method: str | None = None  # GET or POST for the Voice URL; None: the replay's
    strict: bool | None = None  # refuse unplayed TwiML attributes; None: the replay's
    fallback_url: str | None = None  # the number's Voice Fallback URL; "" none; None: not said
    # The number's status callback ("call status changes"); "" none; None: not said.
    status_callback: str | None = None
    needs: frozenset[str] = frozenset()  # keys of NEEDS
    parties: tuple[Party, ...] = ()  # other calls placed in the same session
    rest: tuple[RestRequest, ...] = ()  # REST requests the script makes during the session
    requests: tuple[AppRequest, ...] = ()  # requests to the app's own API during the session
    # Extra params of every request of the call: what Twilio adds (FromCity...:
    # engine.call_details) and a client's custom parameters.
    params: Mapping[str, str] = field(default_factory=dict)
    # How long the app's scheduled work runs on the session's clock (``scheduler_until``).
    scheduler_until: ScheduledUntil | None = None

    @property
    def runs_scheduler(self) -> bool:
        """Whether the session runs the app's scheduled work (a horizon, or checks of it)."""
        return self.scheduler_until is not None or bool(self.expect.scheduled)

    @property
    def id(self) -> str:
        """A unique, readable id: ``file::name``."""
        return f"{self.where.file}::{self.name}"

    @property
    def needs_session(self) -> bool:
        """Whether the call is played as a session of several calls (not a lone call)."""
        return bool(
            self.parties
            or self.params
            or self.rest
            or self.requests
            or self.expect.needs_network
            or self.runs_scheduler
        )

    def party_call(self, party: Party) -> CallScript:
        """``party`` as a call script of its own, starting ``party.after`` s into this call."""
        return replace(
            self,
            name=f"{self.name} / {party.name}",
            where=party.where,
            at=self.at + timedelta(seconds=party.after),
            from_=party.from_,
            to=party.to or self.to,
            steps=party.steps,
            expect=party.expect,
            voice_url=party.voice_url or self.voice_url,
            parties=(),
            params=party.params,
            scheduler_until=None,
        )


def normalise_heard(text: str) -> str:
    """Collapse whitespace, so a prompt split over several ``<Say>`` verbs still matches."""
    return " ".join(text.split())
