"""A call written step by step in a Python test (``PhoneCall``), and its session's other parties.

The engine drives a call with callbacks, so each check replays the whole session from its start
with the steps written so far (the app is reset per replay, and the engine is deterministic, so
every replay gives the same calls). A failed check raises ``ExpectationFailed`` at the test line
that wrote it. ``call.party(...)`` adds another call to the same session (``PartyCall``): an
agent who dials the caller's queue, a second caller in the same conference; its steps and checks
are written the same way. The ``dial`` fixture (``pytest_plugin.py``) makes the calls.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from hotline.sim.engine.call_details import param_problem
from hotline.sim.model import CalleeBehaviour, ExpectationFailed, QueueBehaviour
from hotline.sim.scripts.model import (
    ENDINGS,
    OUTBOUND_STATUSES,
    RECORD_ENDS,
    CalleeHeard,
    CallScript,
    Expect,
    Hangup,
    Hear,
    Location,
    MessageCheck,
    OutboundCheck,
    Party,
    Press,
    Record,
    Say,
    Silence,
    Step,
)

if TYPE_CHECKING:
    from hotline.sim.engine.simulator import CallResult
    from hotline.sim.rest.switchboard import MessageRecord
    from hotline.sim.run.connection import Connection, Target
    from hotline.sim.run.outcomes import CallOutcome

Ring = str | CalleeBehaviour
Dialled = Mapping[str, Ring | Sequence[Ring]]
_OUTCOME_PLACES = ("ended", "bridged", "queue", "conference", "warnings")


class _Steps:
    """What a caller hears and does on one call of the session, and the checks of how it went."""

    def __init__(self) -> None:
        self._steps: list[Step] = []
        self._hangup_at: Hangup | None = None  # a timed hang-up: always the last step

    # --- what the caller hears and does ---------------------------------------------------------

    def hears(self, text: str) -> Self:
        """Check the app said ``text`` (case-insensitive) since the caller's last action."""
        __tracebackhide__ = True
        return self._check_heard(re.escape(" ".join(text.split())), repr(text), negated=False)

    def hears_re(self, pattern: str) -> Self:
        """Check the app said something matching ``pattern`` since the caller's last action."""
        __tracebackhide__ = True
        return self._check_heard(pattern, f"/{pattern}/", negated=False)

    def does_not_hear(self, text: str) -> Self:
        """Check the app did not say ``text`` since the caller's last action."""
        __tracebackhide__ = True
        return self._check_heard(re.escape(" ".join(text.split())), repr(text), negated=True)

    def press(self, keys: str, *, after: float | None = None, barge_in: bool = False) -> Self:
        """Press ``keys`` at the next prompt (``barge_in``: ``after`` s into it, cutting it)."""
        return self._add(Press(_test_line(), str(keys), after, barge_in))

    def says(
        self,
        words: str,
        *,
        confidence: float | None = None,
        after: float | None = None,
        barge_in: bool = False,
    ) -> Self:
        """Say ``words`` at the next prompt (the app gets them as ``SpeechResult``)."""
        return self._add(Say(_test_line(), words, confidence, after, barge_in))

    def silent(self) -> Self:
        """Say nothing at the next prompt, so it times out."""
        return self._add(Silence(_test_line()))

    def records(
        self,
        seconds: float,
        transcription: str = "",
        *,
        after: float | None = None,
        end: str = "silence",
    ) -> Self:
        """Speak a message of ``seconds`` into the next ``<Record>``, then ``end`` it.

        ``end``: ``"silence"`` (the Record's timeout), ``"hangup"`` or a key such as ``"#"``.
        """
        if end not in RECORD_ENDS and (len(end) != 1 or end not in "0123456789*#"):
            raise ValueError(f'records(end={end!r}): expected "silence", "hangup" or one key')
        return self._add(Record(_test_line(), seconds, transcription, after, end))

    def hangs_up(self, *, after: float | None = None) -> Self:
        """Hang up now (or ``after`` seconds into the call); the session is played to its end.

        A hang-up ``after`` a moment stays the call's last step: the steps written after it come
        before it, so a session can be written call by call, each call ending on time.
        """
        __tracebackhide__ = True
        if after is None:
            self._add(Hangup(_test_line(), after))
        else:
            self._hangup_at = Hangup(_test_line(), after)
            self._changed()
        self._replay(None)
        return self

    # --- outcome checks -------------------------------------------------------------------------

    def ended(self, how: str) -> Self:
        """Check how the call ended: completed, caller-hangup, rejected or failed."""
        __tracebackhide__ = True
        if how not in ENDINGS:
            raise ValueError(f"ended({how!r}): expected one of {', '.join(ENDINGS)}")
        return self._check_outcome(ended=how)

    def bridged_to(self, number: str) -> Self:
        """Check the caller was connected to ``number`` (``"queue:NAME"``: a queue's caller)."""
        __tracebackhide__ = True
        return self._check_outcome(bridged=number)

    def not_bridged(self) -> Self:
        """Check the caller was connected to nobody."""
        __tracebackhide__ = True
        return self._check_outcome(bridged="")

    def not_queued(self) -> Self:
        """Check the caller was put in no queue."""
        __tracebackhide__ = True
        return self._check_outcome(queue="")

    def entered_queue(self, name: str) -> Self:
        """Check the caller was put in queue ``name``."""
        __tracebackhide__ = True
        return self._check_outcome(queue=name)

    def joined_conference(self, name: str) -> Self:
        """Check the call joined conference ``name``."""
        __tracebackhide__ = True
        return self._check_outcome(conference=name)

    def warns(self, text: str) -> Self:
        """Check a TwiML warning of the call (an attribute not played) contains ``text``."""
        __tracebackhide__ = True
        return self._check_outcome(warnings=(text,))

    def has_no_warnings(self) -> Self:
        """Check the app's TwiML gave no warning: every attribute it used is played."""
        __tracebackhide__ = True
        return self._check_outcome(warnings=())

    def callee_hears(self, number: str, text: str) -> Self:
        """Check the app said ``text`` (case-insensitive) to dialled ``number`` (in a whisper)."""
        __tracebackhide__ = True
        return self._check_outcome(callee_heard=(CalleeHeard(_test_line(), number, (text,)),))

    @property
    def result(self) -> CallResult | None:
        """The engine's result of this call in the last replay (transcript, bridged, queues...)."""
        raise NotImplementedError

    # --- replaying ------------------------------------------------------------------------------

    def _add(self, step: Step) -> Self:
        self._steps.append(step)
        self._changed()
        return self

    def _written(self) -> tuple[Step, ...]:
        """The steps written so far, a timed hang-up last."""
        last = (self._hangup_at,) if self._hangup_at is not None else ()
        return (*self._steps, *last)

    def _check_heard(self, pattern: str, shown: str, *, negated: bool) -> Self:
        __tracebackhide__ = True
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {pattern!r} ({exc})") from None
        self._add(Hear(_test_line(3), compiled, shown, negated))
        self._replay(None)
        return self

    def _check_outcome(self, **checks: Any) -> Self:
        __tracebackhide__ = True
        where = _test_line(3)
        places = {key: where for key in _OUTCOME_PLACES}
        self._replay(Expect(where, places=places, **checks))
        return self

    def _changed(self) -> None:
        """A step was added: the last replay no longer stands."""
        raise NotImplementedError

    def _replay(self, expect: Expect | None) -> None:
        """Replay the session (unless the last replay stands and there is nothing to check)."""
        raise NotImplementedError


class PhoneCall(_Steps):
    """A call written step by step in a test; every check replays the session written so far."""

    def __init__(
        self,
        target: Target,
        at: datetime,
        from_: str,
        to: str,
        dialled: Dialled,
        queues: Mapping[str, QueueBehaviour],
        fallback_url: str | None = None,
        *,
        voice_method: str | None = None,
        params: Mapping[str, str] | None = None,
        strict: bool | None = None,
    ) -> None:
        super().__init__()
        where = _test_line(3)
        if voice_method is not None and voice_method.upper() not in ("GET", "POST"):
            raise ValueError(f"dial(voice_method={voice_method!r}): expected GET or POST")
        _check_params(params)
        self._target = target
        self._connection: Connection | None = None
        self._parties: list[PartyCall] = []
        self._script = CallScript(
            name=f"{Path(where.file).name}:{where.line}",
            where=where,
            at=at,
            from_=from_,
            to=to,
            config=None,
            dialled={number: _rings(rings) for number, rings in dialled.items()},
            queues=dict(queues),
            steps=(),
            expect=Expect(where),
            fallback_url=fallback_url,
            voice_method=voice_method.upper() if voice_method else None,
            params=dict(params or {}),
            strict=strict,
        )
        self._outcome: CallOutcome | None = None

    def party(
        self,
        name: str,
        from_: str,
        *,
        after: float = 0.0,
        to: str | None = None,
        voice_url: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> PartyCall:
        """Another call in this call's session, ``after`` seconds into it (an agent, say).

        ``to`` and ``voice_url`` (a path): the number called and its Voice URL, by default this
        call's; ``params``: extra parameters sent on every request of the call.
        """
        if any(party.name == name for party in self._parties):
            raise ValueError(f"party({name!r}): there is a party of that name already")
        if after < 0:
            raise ValueError(f"party({name!r}): after must be 0 or more, got {after}")
        _check_params(params)
        where = _test_line()
        written = Party(
            name,
            where,
            from_,
            steps=(),
            expect=Expect(where),
            after=after,
            to=to,
            voice_url=voice_url,
            params=dict(params or {}),
        )
        party = PartyCall(self, written)
        self._parties.append(party)
        self._changed()
        return party

    # --- what the app did through the REST API --------------------------------------------------

    def message_sent(
        self,
        *,
        to: str | None = None,
        from_: str | None = None,
        body: str | Sequence[str] = (),
        count: int | None = None,
    ) -> PhoneCall:
        """Check the app sent a message (``count``: exactly that many) with the fields given."""
        __tracebackhide__ = True
        texts = (body,) if isinstance(body, str) else tuple(body)
        check = MessageCheck(_test_line(), to, from_, texts, count)
        return self._check_outcome(messages=(check,))

    def call_placed(
        self,
        *,
        to: str | None = None,
        from_: str | None = None,
        status: str | None = None,
        heard: str | Sequence[str] = (),
        count: int | None = None,
    ) -> PhoneCall:
        """Check the app placed a call through the REST API with the fields given.

        ``status``: its final status; ``heard``: what the app said on it; ``count``: exactly that
        many such calls.
        """
        __tracebackhide__ = True
        if status is not None and status not in OUTBOUND_STATUSES:
            raise ValueError(f"status={status!r}: expected one of {', '.join(OUTBOUND_STATUSES)}")
        texts = (heard,) if isinstance(heard, str) else tuple(heard)
        check = OutboundCheck(_test_line(), to, from_, status, texts, count)
        return self._check_outcome(outbound=(check,))

    def get_json(self, path: str) -> Any:
        """GET the app's JSON API after the call (Bearer token from the target)."""
        __tracebackhide__ = True
        self._replay(None)
        assert self._connection is not None and self.result is not None
        token = self._connection.api_token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = self._connection.simulator("/").url(path.replace("{CallSid}", self.result.call_sid))
        return self._connection.transport.get_json(url, headers)

    @property
    def result(self) -> CallResult | None:
        """The engine's result of the last replay (transcript, bridged numbers, queues...)."""
        return self._outcome.result if self._outcome else None

    @property
    def messages(self) -> list[MessageRecord]:
        """The messages the app sent through the REST API in the last replay, oldest first."""
        return list(self._outcome.messages) if self._outcome else []

    @property
    def transcript(self) -> str:
        """The last replay's transcript (the parties' under it), as ``hotline replay`` prints it."""
        from hotline.sim.report.console import transcript_lines

        return (
            "\n".join(line for line, _ in transcript_lines(self._outcome)) if self._outcome else ""
        )

    def close(self) -> None:
        """Release the app's connection."""
        if self._connection is not None:
            self._connection.transport.close()
            self._connection = None

    # --- replaying ------------------------------------------------------------------------------

    def _changed(self) -> None:
        self._outcome = None

    def _replay(self, expect: Expect | None, checked: PartyCall | None = None) -> None:
        """Replay the session; ``expect`` is this call's checks, or ``checked``'s (a party's)."""
        __tracebackhide__ = True
        from hotline.sim.run.outcomes import play_call

        if self._outcome is not None and expect is None:
            return
        self.close()
        self._connection = self._target.connect(None)  # a fresh (or reset) app for each replay
        parties = tuple(
            p.written(expect if p is checked and expect is not None else None)
            for p in self._parties
        )
        script = replace(self._script, steps=self._written(), parties=parties)
        if expect is not None and checked is None:
            script = replace(script, expect=expect)
        self._outcome = play_call(script, self._connection, self._target.voice_path)
        if self._outcome.failure is not None:
            raise ExpectationFailed(f"{self._outcome.failure}\n\n{self.transcript}")

    def _result_of(self, party: PartyCall) -> CallResult | None:
        if self._outcome is None:
            return None
        label = f"party {party.name!r}"
        return next((leg.result for leg in self._outcome.legs if leg.label == label), None)


class PartyCall(_Steps):
    """Another call of a ``PhoneCall``'s session, written and checked the same way."""

    def __init__(self, owner: PhoneCall, party: Party) -> None:
        super().__init__()
        self._owner = owner
        self._party = party

    @property
    def name(self) -> str:
        """The party's name, as failures name it."""
        return self._party.name

    @property
    def result(self) -> CallResult | None:
        """The engine's result of this party's call in the last replay."""
        return self._owner._result_of(self)

    def written(self, expect: Expect | None) -> Party:
        """The party with the steps written so far and ``expect`` (None: no checks)."""
        return replace(
            self._party, steps=self._written(), expect=expect or Expect(self._party.where)
        )

    def _changed(self) -> None:
        self._owner._changed()

    def _replay(self, expect: Expect | None) -> None:
        __tracebackhide__ = True
        self._owner._replay(expect, self)


def _check_params(params: Mapping[str, str] | None) -> None:
    """A parameter a call cannot be given fails at the test line that gave it."""
    for name, value in (params or {}).items():
        problem = param_problem(name, value)
        if problem is not None:
            raise ValueError(f"params: {problem}")


def _rings(rings: Ring | Sequence[Ring]) -> tuple[CalleeBehaviour, ...]:
    from hotline.sim.scripts.reader import parse_ring

    items = [rings] if isinstance(rings, str | CalleeBehaviour) else list(rings)
    return tuple(parse_ring(ring) if isinstance(ring, str) else ring for ring in items)


def _test_line(depth: int = 2) -> Location:
    """Where in the test the step was written: the caller of the public method."""
    frame = sys._getframe(depth)
    return Location(frame.f_code.co_filename, frame.f_lineno)
