"""The scripted caller: plays a script's steps as the engine's ``Caller`` and checks what it hears.

The engine asks for input before a Gather's nested prompts are played, so ``hear`` steps cannot be
checked when the caller answers. Instead the call is cut into *segments*, each ending with one of
the caller's actions (a key press, speech, silence, a recording) or with the end of the call; the
``hear`` steps written before an action are checked against everything the app said in the
segment that this action closes. The first failed check stops the call: the caller hangs up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from hotline.sim.model import CallEnd, CallerInput, Event, InputKind, Prompt, Who
from hotline.sim.scripts.model import (
    RECORD_ENDS,
    Action,
    CallScript,
    Hangup,
    Hear,
    Location,
    Press,
    Record,
    Say,
    Silence,
    Step,
    normalise_heard,
)

# Events that close a segment: the caller has acted on a prompt.
_ACTION_KINDS = frozenset({"press", "speak", "silence", "record"})
# What the caller hears of the app: its speech and its audio.
_HEARD_KINDS = frozenset({"say", "play"})
_SHOWN_CHARS = 400
_ENDED_BEFORE = {
    CallEnd.COMPLETED: "the app ended the call",
    CallEnd.CALLER_HANGUP: "the call reached its longest duration",
    CallEnd.REJECTED: "the app rejected the call",
    CallEnd.FAILED: "the call failed",
}


@dataclass(frozen=True)
class Failure:
    """Why a call did not go as scripted: where in the script, and what happened instead."""

    where: Location
    message: str
    at: datetime | None = None  # the moment on the call, when the failure happened on it

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ScriptedCaller:
    """A ``Caller`` that plays a script's steps in order and records the first failed check."""

    def __init__(self, script: CallScript) -> None:
        self.script = script
        self.failure: Failure | None = None
        self._steps: list[Step] = list(script.steps)
        self._next = 0  # index of the next step not yet handed to the engine
        self._checks: list[Hear] = []  # hear steps to check when the current segment closes
        self._heard: list[str] = []  # what the app said in the current segment
        self._acting = False  # an answer was given and the engine has not played it yet
        self._now = script.at
        # Everything the caller was told, in order: what the call came to if the engine stops
        # without a result (refused TwiML, a crash), so the report still shows it.
        self.events: list[Event] = []

    @property
    def heard(self) -> str:
        """Everything the app said since the caller's last action, whitespace collapsed."""
        return normalise_heard(" ".join(self._heard))

    def hear(self, event: Event) -> None:
        """Collect what the app says; close the segment when the caller's action is played."""
        self._now = event.at
        self.events.append(event)
        if event.who is Who.APP and event.kind in _HEARD_KINDS and event.text:
            self._heard.append(event.text)
        elif event.who is Who.TWILIO and event.kind == "say" and event.text:
            self._heard.append(event.text)  # Twilio's own words: its application error
        elif event.who is Who.CALLER and event.kind in _ACTION_KINDS:
            self._close_segment(event.at)
            self._acting = False
        elif event.who is Who.CALLER and event.kind == "hangup":
            step = self._peek_action()
            if isinstance(step, Hangup) and step.at is not None:
                # The engine hung up for this step, at its moment (see ``hangs_up_at``).
                self._take_action()
                self._close_segment(event.at)

    def respond(self, prompt: Prompt) -> CallerInput:
        """Answer a prompt with the next action, taking the hear steps before it along."""
        if self.failure is not None:
            return CallerInput(InputKind.HANGUP, after=0.0)
        action = self._take_action()
        if action is None:
            # The script is over while the app still asks: the caller hangs up, as people do.
            return CallerInput(InputKind.HANGUP, after=0.0)
        if isinstance(action, Hangup) and action.at is not None:
            # Still on the line at this prompt: stay silent and keep the step; the engine ends the
            # call at its moment (``hangs_up_at``), or asks again if the prompt times out first.
            self._next -= 1
            return CallerInput(InputKind.SILENCE)
        answer = self._answer(action, prompt)
        if answer.kind is not InputKind.HANGUP:
            self._acting = True
        return answer

    def hangs_up_during(self, text: str, elapsed: float) -> bool:
        """Hang up on a failed check, or at a ``hangup`` step once what comes before it is heard."""
        if self.failure is not None:
            return True
        if self._acting:
            return False
        step = self._peek_action()
        if not isinstance(step, Hangup) or step.at is not None:
            return False
        # Hang up once what the script wanted to hear first has been heard.
        heard = self.heard
        if not all(_matches(hear, heard) for hear in [*self._checks, *self._pending_hears()]):
            return False
        self._take_action()
        self._close_segment(self._now)
        return True

    def hangs_up_at(self) -> float | None:
        """The ``hangup_after`` moment, once the steps before it are done (None: not yet).

        After a failed check, the moment it failed: the caller hangs up there, whatever the call
        is doing (ringing, waiting, bridged to an agent who would otherwise talk on).
        """
        if self.failure is not None:
            failed_at = self.failure.at or self._now
            return (failed_at - self.script.at).total_seconds()
        if self._acting:
            return None
        step = self._peek_action()
        return step.at if isinstance(step, Hangup) else None

    def finish(self, ended: CallEnd, reason: str = "") -> None:
        """Check the last segment and that no step was left unplayed when the call ended."""
        pending = self._pending_hears()
        self._next += len(pending)
        self._checks.extend(pending)
        self._close_segment(self._now)
        if self.failure is None and self._next < len(self._steps):
            step = self._steps[self._next]
            how = _ENDED_BEFORE[ended] + (f" ({reason})" if reason else "")
            self._fail(step.where, f"{how} before this step: {step.describe()}", self._now)

    # --- steps ----------------------------------------------------------------------------------

    def _peek_action(self) -> Action | None:
        for step in self._steps[self._next :]:
            if not isinstance(step, Hear):
                return step
        return None

    def _take_action(self) -> Action | None:
        while self._next < len(self._steps):
            step = self._steps[self._next]
            self._next += 1
            if isinstance(step, Hear):
                self._checks.append(step)
            else:
                return step
        return None

    def _pending_hears(self) -> list[Hear]:
        pending: list[Hear] = []
        for step in self._steps[self._next :]:
            if not isinstance(step, Hear):
                break
            pending.append(step)
        return pending

    def _answer(self, action: Action, prompt: Prompt) -> CallerInput:
        listens = prompt.input
        if isinstance(action, Hangup):
            return CallerInput(InputKind.HANGUP, after=0.0)
        if isinstance(action, Silence):
            return CallerInput(InputKind.SILENCE)
        if isinstance(action, Record):
            if prompt.verb != "Record":
                return self._mismatch(action, prompt, "record only works at a <Record>")
            recording = CallerInput(
                InputKind.RECORDING,
                speech=action.transcription,
                duration=action.seconds,
                digits="" if action.end in RECORD_ENDS else action.end,
                hangs_up=action.end == "hangup",
            )
            return _waiting(recording, action.after)
        if prompt.verb == "Record":
            return self._mismatch(action, prompt, "the app is recording: use record = SECONDS")
        if isinstance(action, Press):
            if "dtmf" not in listens:
                return self._mismatch(action, prompt, "the app's <Gather> listens for speech only")
            keys = CallerInput(InputKind.DIGITS, digits=action.digits, barge_in=action.barge_in)
            return _waiting(keys, action.after)
        if "speech" not in listens:
            return self._mismatch(action, prompt, "the app's <Gather> listens for keys only")
        speech = CallerInput(InputKind.SPEECH, speech=action.words, barge_in=action.barge_in)
        if action.confidence is not None:
            speech = replace(speech, confidence=action.confidence)
        return _waiting(speech, action.after)

    def _mismatch(self, action: Press | Say | Record, prompt: Prompt, why: str) -> CallerInput:
        self._fail(action.where, f"cannot {action.describe()}: {why}", self._now)
        return CallerInput(InputKind.HANGUP, after=0.0)

    # --- checks ---------------------------------------------------------------------------------

    def _close_segment(self, at: datetime) -> None:
        heard = self.heard
        checks, self._checks, self._heard = self._checks, [], []
        if self.failure is not None:
            return
        for step in checks:
            if not _matches(step, heard):
                shown = heard if len(heard) <= _SHOWN_CHARS else heard[:_SHOWN_CHARS] + "…"
                said = f"heard: {shown!r}" if heard else "heard nothing"
                if step.negated:
                    message = f"expected not to hear {step.shown}, but {said}"
                else:
                    message = f"expected to hear {step.shown}, {said}"
                self._fail(step.where, message, at)
                return

    def _fail(self, where: Location, message: str, at: datetime) -> None:
        if self.failure is None:
            self.failure = Failure(where, message, at)


def _matches(step: Hear, heard: str) -> bool:
    found = step.pattern.search(heard) is not None
    return found != step.negated


def _waiting(answer: CallerInput, after: float | None) -> CallerInput:
    return answer if after is None else replace(answer, after=after)
