"""The simulator's shared vocabulary: what the engine tells a caller, and what a caller answers.

The engine (``engine.py``) plays TwiML; a *caller* (a script, a pytest helper, or a person at the
terminal) reacts to what it hears; *callees* (``callees.py``) decide what happens when a number is
dialled. Everything that happened is kept as ``Event`` rows in a ``Transcript``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class SimError(Exception):
    """Base of the simulator's errors.

    ``SimError``
      ├── ``UnsupportedTwiML``  the app answered a verb or attribute the engine does not play
      ├── ``WebhookFailed``     a request to the app failed, or its TwiML cannot be played
      │     ├── ``ErrorStatus``       the app answered a non-2xx status (ErrorCode 11200)
      │     ├── ``ConnectionFailed``  no answer: refused, closed, reset or timed out (11205)
      │     ├── ``RedirectFailed``    a 3xx Twilio does not follow (11216), or too many (11215)
      │     └── ``NotTwiML``          the answer is not a TwiML document (12100)
      ├── ``RunawayCall``       the call went past the engine's webhook limit without ending
      ├── ``ScriptError``       a call script is malformed (message names the file and line)
      │     └── ``AppUnusable``       the app under test cannot be imported or built
      ├── ``ExpectationFailed`` the call did not go as the script expected
      ├── ``CoverageUnavailable`` the flows a replay's coverage needs cannot be loaded
      └── ``WorkerFailed``      a replay worker process (``-j``) crashed or raised
    """


class UnsupportedTwiML(SimError):
    """The app answered a verb, noun or attribute the engine does not support (message names it)."""


class WebhookFailed(SimError):
    """A request to the app failed, or the TwiML it answered cannot be played as written.

    ``error_code`` is the ErrorCode Twilio reports when fetching TwiML fails this way (and sends
    to the number's Voice Fallback URL); "" for failures found while playing a document.
    """

    error_code = ""


class ErrorStatus(WebhookFailed):
    """The app answered with a status other than 2xx (Twilio's 11200, HTTP retrieval failure)."""

    error_code = "11200"


class ConnectionFailed(WebhookFailed):
    """No HTTP answer came: the connection was refused, closed or reset, or the answer timed out.

    Twilio's 11205 (HTTP connection failure). ``what`` says which, in a few words;
    ``app_errors``: in-process, the traceback of an app that raised mid-answer.
    """

    error_code = "11205"

    def __init__(self, message: str, what: str, app_errors: str = "") -> None:
        super().__init__(message)
        self.what = what
        self.app_errors = app_errors  # in-process: the traceback of an app that broke off

    def __reduce__(self) -> tuple[type[ConnectionFailed], tuple[str, str, str]]:
        # Outcomes travel between processes (-j): pickle every argument, not just the message.
        return type(self), (str(self), self.what, self.app_errors)


class RedirectFailed(WebhookFailed):
    """A redirect Twilio does not follow (``error_code`` says which, as Twilio reports it).

    11216 (HTTP invalid redirect): a 3xx other than 301, 302, 303 and 307, or one without a
    ``Location``; 11215 (HTTP too many redirects): more than ``webhooks.MAX_REDIRECTS`` in a row.
    """

    def __init__(self, message: str, error_code: str) -> None:
        super().__init__(message)
        self.error_code = error_code

    def __reduce__(self) -> tuple[type[RedirectFailed], tuple[str, str]]:
        # Outcomes travel between processes (-j): pickle both arguments, not just the message.
        return type(self), (str(self), self.error_code)


class NotTwiML(WebhookFailed):
    """The answer is not a TwiML document (Twilio's 12100, document parse failure)."""

    error_code = "12100"


class RunawayCall(SimError):
    """The app kept the call looping (Redirect or waitUrl) past the engine's ``max_webhooks``."""


class ScriptError(SimError):
    """A call script is malformed; the message names the file and line."""


class AppUnusable(ScriptError):
    """``--app``'s module raised on import, or its factory raised: no call can reach it.

    The message names the app and what it raised, with the app's own part of the traceback.
    """


class ExpectationFailed(SimError):
    """The call did not go as the script expected ("expected to hear X, heard Y")."""


class CoverageUnavailable(SimError):
    """``--coverage`` cannot load the config or flow a call runs on (the message says why)."""


class WorkerFailed(SimError):
    """A replay worker process ended before its calls were played, or raised out of one.

    The message names the worker, and its exit code or the traceback of what it raised.
    """


class Who(StrEnum):
    """Whose voice or action an event is."""

    APP = "app"  # the app's TwiML speaking to the caller (Say/Play/Pause)
    CALLER = "caller"  # the caller pressing keys, speaking, staying silent, hanging up
    CALLEE = "callee"  # a dialled party (whisper prompts, its answers)
    TWILIO = "twilio"  # the engine itself: webhooks posted, dial results, queue events
    SCHEDULER = "scheduler"  # the app's scheduled work, run on the virtual clock (reports only)


@dataclass(frozen=True)
class Event:
    """One line of a transcript: when, who, what, and the webhook URL involved (if any)."""

    at: datetime
    who: Who
    kind: str  # one of EVENT_KINDS
    text: str = ""
    url: str = ""
    detail: dict[str, str] = field(default_factory=dict)


#: Every ``Event.kind`` the engine writes, and what ``text`` holds for it.
EVENT_KINDS: dict[str, str] = {
    "say": "the words spoken (SSML children flattened); by twilio: its application error message",
    "play": "the audio URL (a waitUrl answering audio: that URL), or 'digits:<tones>' for"
    " <Play digits>, or '[hold music]' (no waitUrl) or '[silence]' (waitUrl='') in a queue",
    "pause": "the pause length in seconds",
    "press": "the keys pressed (finishOnKey included when pressed)",
    "speak": "the words the caller (or callee) said",
    "silence": "how long the engine waited for input, in seconds",
    "record": "the transcription of what was recorded ('' when not transcribed)",
    "hangup": "who hung up and why",
    "reject": "the <Reject> reason",
    "webhook": "'<METHOD> <status>' of a request posted to the app ('<METHOD> <what failed>' when"
    " no answer came); detail = the params sent",
    "status-callback": "the statusCallback event name; detail = the params sent",
    "redirect": "the URL redirected to (by <Redirect>, or a REST update: detail says why)",
    "conference": "'joined NAME' or 'left NAME'; detail = ConferenceSid and how it was left",
    "http-redirect": "the URL a 301/302/303/307 answer sent the request to; detail = status and"
    " the method of the next request",
    "fallback": "why a TwiML request failed; detail = ErrorCode, ErrorUrl and the fallback URL",
    "dial": "the numbers (or queue) dialled",
    "ring": "the number ringing; detail says the scripted outcome",
    "answer": "the number that picked up",
    "bridge": "the number (or queue) the caller is talking to",
    "no-bridge": "the DialCallStatus when a Dial ends without a bridge",
    "default": "a behaviour the engine chose because the script gave none",
    "enqueue": "the queue name",
    "dequeue": "the QueueResult when the caller leaves the queue",
    "leave": "the queue left with <Leave>",
    "warning": "TwiML Twilio would log warning 12200 for, or an attribute the simulator does not"
    " play; the call goes on; detail = element, attribute and ErrorCode",
    "app-error": "in-process, the last line of what the app wrote to wsgi.errors on a request it"
    " answered 5xx (what it raised); detail = traceback (all of it)",
    "error": "why the call failed",
    "rest": "a REST request a script made ('POST Calls/CA....json → 200'); detail = its form",
    "request": "a request a script made to the app's own API ('POST /api/... → 200')",
    "end": "how the call ended (a CallEnd value)",
}

#: A whole call, as the engine saw it: ``Event`` rows in time order.
Transcript = list[Event]


@dataclass(frozen=True)
class Prompt:
    """What a caller is asked for: a ``<Gather>`` (or ``<Record>``) waiting for input.

    ``heard`` is everything spoken since the previous prompt (so a caller can check expectations).
    """

    verb: str  # "Gather" or "Record"
    input: frozenset[str]  # {"dtmf"}, {"speech"}, {"dtmf", "speech"}; Record: {"record"}
    heard: tuple[str, ...]
    num_digits: int | None = None
    finish_on_key: str = "#"
    timeout: float = 5.0
    language: str = "en-US"
    hints: str = ""
    max_length: float | None = None  # Record only: the longest recording the app accepts


class InputKind(StrEnum):
    """What a caller does at a prompt."""

    DIGITS = "digits"
    SPEECH = "speech"
    SILENCE = "silence"
    HANGUP = "hangup"
    RECORDING = "recording"


@dataclass(frozen=True)
class CallerInput:
    """A caller's answer to a ``Prompt``.

    ``digits`` for DIGITS (finishOnKey is added by the caller only when they press it);
    ``speech`` and ``confidence`` for SPEECH; ``duration`` seconds for RECORDING (``speech`` is then
    the transcription, ``digits`` the key that ended it, "" when it ended on silence); ``after`` is
    how many seconds the caller waits, once the prompt has finished playing, before acting. With
    ``barge_in`` the caller does not wait for the prompt: ``after`` counts from the moment the
    Gather starts, and input before the prompt ends cuts it short (``bargeIn="false"`` stops that).
    ``hangs_up`` (RECORDING): the caller hangs up when done speaking instead of falling silent
    (Twilio then posts the recording with ``Digits=hangup``).
    """

    kind: InputKind
    digits: str = ""
    speech: str = ""
    confidence: float = 0.92
    duration: float = 0.0
    after: float = 1.0
    barge_in: bool = False
    hangs_up: bool = False


class Caller(Protocol):
    """The person who placed the call, as the engine sees them."""

    def hear(self, event: Event) -> None:
        """Told every event as it happens (prompts spoken, webhooks, dial results)."""

    def respond(self, prompt: Prompt) -> CallerInput:
        """Answer a Gather or Record (asked before the Gather's nested prompts are heard)."""

    def hangs_up_during(self, text: str, elapsed: float) -> bool:
        """Whether the caller hangs up while hearing ``text`` (``elapsed`` seconds into the call).

        Asked for every Say and Play the caller hears (hold music is ``"[hold music]"``); a caller
        who hangs up is taken to do so halfway through it.
        """

    def hangs_up_at(self) -> float | None:
        """The second into the call at which the caller hangs up, whatever is happening then.

        Asked whenever time passes on the call (a prompt playing, ringing, waiting in a queue or
        at a prompt); ``None``: no such moment planned now. A moment already past ends the call
        at once.
        """


class DialOutcome(StrEnum):
    """What a dialled number does when it rings."""

    ANSWER = "answer"  # picks up; runs the <Number url> whisper if any, responding as scripted
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"


@dataclass(frozen=True)
class CalleeBehaviour:
    """One ring of a dialled number: the outcome, after how many seconds, what they do in a whisper.

    At each whisper Gather they press ``press`` or say ``say`` (recognised with ``confidence``),
    never both; with neither they say nothing. Input the Gather does not listen for is ignored, as
    Twilio does, so it times out. ``talk`` is how many seconds they talk once bridged. An ANSWER
    whose ``ring_seconds`` reaches the Dial ``timeout`` is a no-answer. For ``<Dial><Queue>``, the
    behaviours are looked up by queue name: ANSWER means a caller is waiting (or joins after
    ``ring_seconds``), anything else leaves the Dial unanswered. ``hangs_up_in_whisper``: they
    pick up, hear the whisper and hang up at its first prompt (or as it ends, if it asks
    nothing), so they are never bridged.
    """

    outcome: DialOutcome
    ring_seconds: float = 5.0
    press: str = ""
    talk: float = 30.0
    say: str = ""
    confidence: float = 0.92
    hangs_up_in_whisper: bool = False

    def __post_init__(self) -> None:
        if self.press and self.say:
            raise ValueError("a dialled party presses keys or says words in a whisper, not both")
        if self.hangs_up_in_whisper and (self.press or self.say):
            raise ValueError("a dialled party who hangs up in the whisper neither presses nor says")

    def whisper_input(self) -> CallerInput:
        """What they answer at every prompt of a whisper."""
        if self.hangs_up_in_whisper:
            return CallerInput(InputKind.HANGUP)
        if self.press:
            return CallerInput(InputKind.DIGITS, digits=self.press)
        if self.say:
            return CallerInput(InputKind.SPEECH, speech=self.say, confidence=self.confidence)
        return CallerInput(InputKind.SILENCE)


@dataclass(frozen=True)
class QueueBehaviour:
    """What happens to a caller put in a queue with ``<Enqueue>``.

    ``agent_after`` seconds after the caller joins, an agent dequeues them and they talk for
    ``talk`` seconds (``None``: nobody ever answers; the caller waits until they hang up, hear
    ``<Leave>`` or reach the call's ``max_duration``). ``ahead`` callers are in front when they
    join (``QueuePosition`` is ``ahead + 1``); ``avg_wait`` is reported as ``AvgQueueTime``.
    ``refuse`` (one of ``QUEUE_REFUSALS``) makes the ``<Enqueue>`` fail at once with that
    ``QueueResult``: the caller never waits.
    """

    agent_after: float | None = None
    talk: float = 60.0
    ahead: int = 0
    avg_wait: float = 0.0
    refuse: str = ""

    def __post_init__(self) -> None:
        if self.refuse and self.refuse not in QUEUE_REFUSALS:
            raise ValueError(f"refuse: expected one of {', '.join(QUEUE_REFUSALS)}")
        if self.refuse and self.agent_after is not None:
            raise ValueError(f"a queue that refuses callers ({self.refuse}) has no agent_after")


#: The ``QueueResult`` values with which Twilio refuses a caller at ``<Enqueue>``.
QUEUE_REFUSALS = ("queue-full", "system-error")


class CallEnd(StrEnum):
    """How a simulated call ended."""

    COMPLETED = "completed"  # the app hung up, or its TwiML ran out
    CALLER_HANGUP = "caller-hangup"  # the caller hung up (or the call reached max_duration)
    REJECTED = "rejected"  # the app answered <Reject>: the call was never answered
    FAILED = "failed"  # a webhook failed (``CallResult.error`` says why)
