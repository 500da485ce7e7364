"""pytest plugin: the ``dial`` fixture, to write call tests in Python with the simulator's engine.

A test writes the call step by step (``call.hears(...)``, ``call.press(...)``...). The engine
drives a call with callbacks, so each check replays the call from its start with the steps
written so far (the app is reset per call, and the engine is deterministic, so every replay
gives the same call). A failed check raises at the test line that wrote it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from hotline.sim.model import CalleeBehaviour, ExpectationFailed, QueueBehaviour
from hotline.sim.scripts.model import (
    ENDINGS,
    RECORD_ENDS,
    CalleeHeard,
    CallScript,
    Expect,
    Hangup,
    Hear,
    Location,
    Press,
    Record,
    Say,
    Silence,
    Step,
)

if TYPE_CHECKING:
    from hotline.sim.engine.simulator import CallResult
    from hotline.sim.run.connection import Connection, Target
    from hotline.sim.run.outcomes import CallOutcome
Ring = str | CalleeBehaviour
Dialled = Mapping[str, Ring | Sequence[Ring]]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ini keys that say which app ``dial`` calls."""
    parser.addini("hotline_sim_app", "module:factory of the WSGI app `dial` calls", default="")
    parser.addini(
        "hotline_sim_config", "hotline config file `dial` builds the app from", default=""
    )


@pytest.fixture
def hotline_sim_target(pytestconfig: pytest.Config) -> Target:
    """Which app ``dial`` calls: ini ``hotline_sim_app``, else hotline from ``hotline_sim_config``.

    Override this fixture in a conftest.py to call another app (``Target(app=..., url=...)``).
    """
    from hotline.sim.run.connection import Target

    app = str(pytestconfig.getini("hotline_sim_app")) or None
    config = str(pytestconfig.getini("hotline_sim_config"))
    return Target(app=app, config=pytestconfig.rootpath / config if config else None)


@pytest.fixture
def dial(hotline_sim_target: Target) -> Iterator[Callable[..., PhoneCall]]:
    """Place a simulated call: ``call = dial(at="2026-03-30T10:00:00+02:00", from_="+48...")``."""
    calls: list[PhoneCall] = []

    def place(
        at: datetime | str,
        from_: str = "+48601100200",
        to: str = "+48221000000",
        *,
        dialled: Dialled | None = None,
        queues: Mapping[str, QueueBehaviour] | None = None,
        fallback_url: str | None = None,
        voice_method: str | None = None,
        params: Mapping[str, str] | None = None,
        strict: bool | None = None,
    ) -> PhoneCall:
        call = PhoneCall(
            hotline_sim_target,
            _when(at),
            from_,
            to,
            dialled or {},
            queues or {},
            fallback_url,
            voice_method=voice_method,
            params=params,
            strict=strict,
        )
        calls.append(call)
        return call

    yield place
    for call in calls:
        call.close()


class PhoneCall:
    """A call written step by step in a test; every check replays the call written so far."""

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
        where = _test_line(3)
        if voice_method is not None and voice_method.upper() not in ("GET", "POST"):
            raise ValueError(f"dial(voice_method={voice_method!r}): expected GET or POST")
        from hotline.sim.engine.call_details import call_details

        call_details(params or {})  # a name Twilio does not send fails here, at the dial
        self._target = target
        self._connection: Connection | None = None
        self._steps: list[Step] = []
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

    # --- what the caller hears and does ---------------------------------------------------------

    def hears(self, text: str) -> PhoneCall:
        """Check the app said ``text`` (case-insensitive) since the caller's last action."""
        __tracebackhide__ = True
        return self._check_heard(re.escape(" ".join(text.split())), repr(text), negated=False)

    def hears_re(self, pattern: str) -> PhoneCall:
        """Check the app said something matching ``pattern`` since the caller's last action."""
        __tracebackhide__ = True
        return self._check_heard(pattern, f"/{pattern}/", negated=False)

    def does_not_hear(self, text: str) -> PhoneCall:
        """Check the app did not say ``text`` since the caller's last action."""
        __tracebackhide__ = True
        return self._check_heard(re.escape(" ".join(text.split())), repr(text), negated=True)

    def press(self, keys: str, *, after: float | None = None, barge_in: bool = False) -> PhoneCall:
        """Press ``keys`` at the next prompt (``barge_in``: ``after`` s into it, cutting it)."""
        return self._add(Press(_test_line(), str(keys), after, barge_in))

    def says(
        self,
        words: str,
        *,
        confidence: float | None = None,
        after: float | None = None,
        barge_in: bool = False,
    ) -> PhoneCall:
        """Say ``words`` at the next prompt (the app gets them as ``SpeechResult``)."""
        return self._add(Say(_test_line(), words, confidence, after, barge_in))

    def silent(self) -> PhoneCall:
        """Say nothing at the next prompt, so it times out."""
        return self._add(Silence(_test_line()))

    def records(
        self,
        seconds: float,
        transcription: str = "",
        *,
        after: float | None = None,
        end: str = "silence",
    ) -> PhoneCall:
        """Speak a message of ``seconds`` into the next ``<Record>``, then ``end`` it.

        ``end``: ``"silence"`` (the Record's timeout), ``"hangup"`` or a key such as ``"#"``.
        """
        if end not in RECORD_ENDS and (len(end) != 1 or end not in "0123456789*#"):
            raise ValueError(f'records(end={end!r}): expected "silence", "hangup" or one key')
        return self._add(Record(_test_line(), seconds, transcription, after, end))

    def hangs_up(self, *, after: float | None = None) -> PhoneCall:
        """Hang up now (or ``after`` seconds into the call); the call is played to its end."""
        __tracebackhide__ = True
        self._add(Hangup(_test_line(), after))
        self._play()
        return self

    # --- outcome checks -------------------------------------------------------------------------

    def ended(self, how: str) -> PhoneCall:
        """Check how the call ended: completed, caller-hangup, rejected or failed."""
        __tracebackhide__ = True
        if how not in ENDINGS:
            raise ValueError(f"ended({how!r}): expected one of {', '.join(ENDINGS)}")
        return self._check_outcome(ended=how)

    def bridged_to(self, number: str) -> PhoneCall:
        """Check the caller was connected to ``number``."""
        __tracebackhide__ = True
        return self._check_outcome(bridged=number)

    def not_bridged(self) -> PhoneCall:
        """Check the caller was connected to nobody."""
        __tracebackhide__ = True
        return self._check_outcome(bridged="")

    def not_queued(self) -> PhoneCall:
        """Check the caller was put in no queue."""
        __tracebackhide__ = True
        return self._check_outcome(queue="")

    def entered_queue(self, name: str) -> PhoneCall:
        """Check the caller was put in queue ``name``."""
        __tracebackhide__ = True
        return self._check_outcome(queue=name)

    def warns(self, text: str) -> PhoneCall:
        """Check a TwiML warning of the call (an attribute not played) contains ``text``."""
        __tracebackhide__ = True
        return self._check_outcome(warnings=(text,))

    def has_no_warnings(self) -> PhoneCall:
        """Check the app's TwiML gave no warning: every attribute it used is played."""
        __tracebackhide__ = True
        return self._check_outcome(warnings=())

    def callee_hears(self, number: str, text: str) -> PhoneCall:
        """Check the app said ``text`` (case-insensitive) to dialled ``number`` (in a whisper)."""
        __tracebackhide__ = True
        return self._check_outcome(callee_heard=(CalleeHeard(_test_line(), number, (text,)),))

    def get_json(self, path: str) -> Any:
        """GET the app's JSON API after the call (Bearer token from the target)."""
        __tracebackhide__ = True
        self._play()
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
    def transcript(self) -> str:
        """The last replay's transcript, as ``hotline replay`` prints it."""
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

    def _add(self, step: Step) -> PhoneCall:
        self._steps.append(step)
        self._outcome = None
        return self

    def _check_heard(self, pattern: str, shown: str, *, negated: bool) -> PhoneCall:
        __tracebackhide__ = True
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {pattern!r} ({exc})") from None
        self._add(Hear(_test_line(3), compiled, shown, negated))
        self._play()
        return self

    def _check_outcome(
        self,
        *,
        ended: str | None = None,
        bridged: str | None = None,
        queue: str | None = None,
        callee_heard: tuple[CalleeHeard, ...] = (),
        warnings: tuple[str, ...] | None = None,
    ) -> PhoneCall:
        __tracebackhide__ = True
        where = _test_line(3)
        places = {key: where for key in ("ended", "bridged", "queue", "warnings")}
        expect = Expect(
            where,
            ended,
            bridged,
            queue,
            callee_heard=callee_heard,
            warnings=warnings,
            places=places,
        )
        self._play(expect)
        return self

    def _play(self, expect: Expect | None = None) -> None:
        __tracebackhide__ = True
        from hotline.sim.run.outcomes import play_call

        if self._outcome is not None and expect is None:
            return
        self.close()
        self._connection = self._target.connect(None)  # a fresh (or reset) app for each replay
        script = replace(self._script, steps=tuple(self._steps))
        if expect is not None:
            script = replace(script, expect=expect)
        self._outcome = play_call(script, self._connection, self._target.voice_path)
        if self._outcome.failure is not None:
            raise ExpectationFailed(f"{self._outcome.failure}\n\n{self.transcript}")


def _when(at: datetime | str) -> datetime:
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    if when.tzinfo is None:
        raise ValueError(f"dial(at=...): give a time with an offset, got {at!r}")
    return when


def _rings(rings: Ring | Sequence[Ring]) -> tuple[CalleeBehaviour, ...]:
    from hotline.sim.scripts.reader import parse_ring

    items = [rings] if isinstance(rings, str | CalleeBehaviour) else list(rings)
    return tuple(parse_ring(ring) if isinstance(ring, str) else ring for ring in items)


def _test_line(depth: int = 2) -> Location:
    """Where in the test the step was written: the caller of the public method."""
    frame = sys._getframe(depth)
    return Location(frame.f_code.co_filename, frame.f_lineno)
