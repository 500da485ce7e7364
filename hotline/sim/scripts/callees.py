"""A call script's ``[dialled]`` numbers and ``[queues]``: rings (short or table) and queue tables.

Each reader takes the script's ``ValueReader``, so every mistake names its file and line.
"""

from __future__ import annotations

from typing import Any

from hotline.sim.model import CalleeBehaviour, DialOutcome, QueueBehaviour
from hotline.sim.scripts.values import DIGITS, KeyPath, ValueReader

_SHORT_RINGS = "answer[:KEYS], answer:say=WORDS, answer:hangup, no-answer[:SECONDS], busy or failed"
_RING_KEYS = ("outcome", "after", "press", "say", "confidence", "talk", "hangup")
_QUEUE_KEYS = ("agent_after", "talk", "ahead", "avg_wait", "full", "error")
#: ``[queues]`` flags and the ``QueueResult`` each makes Twilio answer at once.
_REFUSALS = {"full": "queue-full", "error": "system-error"}


def parse_ring(text: str) -> CalleeBehaviour:
    """Parse a short ring: ``answer[:KEYS]``, ``answer:say=WORDS``, ``no-answer[:SECONDS]``..."""
    outcome_text, _, argument = text.strip().partition(":")
    try:
        outcome = DialOutcome(outcome_text.strip())
    except ValueError:
        raise ValueError(f"{text!r}: expected {_SHORT_RINGS}") from None
    if not argument:
        return CalleeBehaviour(outcome)
    if outcome is DialOutcome.ANSWER:
        if DIGITS.fullmatch(argument):
            return CalleeBehaviour(outcome, press=argument)
        if argument.strip() == "hangup":
            return CalleeBehaviour(outcome, hangs_up_in_whisper=True)
        key, _, words = argument.partition("=")
        if key.strip() == "say" and words.strip():
            return CalleeBehaviour(outcome, say=words.strip())
    if outcome is DialOutcome.NO_ANSWER:
        try:
            seconds = float(argument)
        except ValueError:
            seconds = -1.0
        if seconds >= 0:
            return CalleeBehaviour(outcome, ring_seconds=seconds)
    raise ValueError(f"{text!r}: expected {_SHORT_RINGS}")


def read_dialled(
    reader: ValueReader, data: Any, path: KeyPath
) -> dict[str, tuple[CalleeBehaviour, ...]]:
    """Read ``[dialled]``: each number's ring, or list of rings (``rings = [...]`` too)."""
    if not isinstance(data, dict):
        raise reader.fail(path, '[dialled] must be a table: "+48600300400" = "answer:1"')
    result: dict[str, tuple[CalleeBehaviour, ...]] = {}
    for number, value in data.items():
        here = path + (number,)
        if isinstance(value, dict) and "rings" in value:
            reader.known(value, here, ("rings",), f"in dialled.{number!r}")
            value, here = value["rings"], here + ("rings",)
        rings = value if isinstance(value, list) else [value]
        if not rings:
            raise reader.fail(here, f"dialled {number!r}: give at least one ring")
        result[number] = tuple(
            _ring(reader, ring, here + (i,) if isinstance(value, list) else here)
            for i, ring in enumerate(rings)
        )
    return result


def read_queues(reader: ValueReader, data: Any, path: KeyPath) -> dict[str, QueueBehaviour]:
    """Read ``[queues]``: each queue's agent, callers ahead, or refusal (full, error)."""
    if not isinstance(data, dict):
        raise reader.fail(path, "[queues] must be a table: warehouse = { agent_after = 30 }")
    result: dict[str, QueueBehaviour] = {}
    for name, value in data.items():
        here = path + (name,)
        if not isinstance(value, dict):
            raise reader.fail(here, f"queue {name!r}: expected a table like {{ agent_after = 30 }}")
        reader.known(value, here, _QUEUE_KEYS, "in a queue")
        extra: dict[str, Any] = {}
        for key in ("agent_after", "talk", "avg_wait"):
            if key in value:
                extra[key] = reader.seconds(value[key], here + (key,), key)
        if "ahead" in value:
            ahead = value["ahead"]
            if not isinstance(ahead, int) or isinstance(ahead, bool) or ahead < 0:
                raise reader.fail(here + ("ahead",), f"ahead: expected 0 or more, got {ahead!r}")
            extra["ahead"] = ahead
        refusals = [key for key in _REFUSALS if key in value]
        for key in refusals:
            reader.true(value[key], here + (key,), key)
        if len(refusals) > 1:
            raise reader.fail(here, f"queue {name!r}: give full = true or error = true, not both")
        if refusals and "agent_after" in value:
            raise reader.fail(
                here + ("agent_after",),
                f"queue {name!r}: a queue with {refusals[0]} = true takes nobody: no agent_after",
            )
        if refusals:
            extra["refuse"] = _REFUSALS[refusals[0]]
        result[name] = QueueBehaviour(**extra)
    return result


def _ring(reader: ValueReader, data: Any, path: KeyPath) -> CalleeBehaviour:
    if isinstance(data, str):
        try:
            return parse_ring(data)
        except ValueError as exc:
            raise reader.fail(path, f"ring {exc}") from None
    if not isinstance(data, dict):
        raise reader.fail(path, 'a ring is a string like "answer:1" or a table with an outcome')
    reader.known(data, path, _RING_KEYS, "in a ring")
    if "outcome" not in data:
        raise reader.fail(path, "a ring needs an outcome: answer, busy, no-answer or failed")
    outcome_text = reader.text(data["outcome"], path + ("outcome",), "outcome")
    try:
        outcome = DialOutcome(outcome_text)
    except ValueError:
        raise reader.fail(
            path + ("outcome",),
            f"outcome: expected answer, busy, no-answer or failed, got {outcome_text!r}",
        ) from None
    extra: dict[str, Any] = {}
    if "after" in data:
        extra["ring_seconds"] = reader.seconds(data["after"], path + ("after",), "after")
    if "talk" in data:
        extra["talk"] = reader.seconds(data["talk"], path + ("talk",), "talk")
    if "press" in data:
        extra["press"] = reader.digits(data["press"], path + ("press",))
    if "say" in data:
        if "press" in data:
            raise reader.fail(path + ("say",), "a ring presses keys or says words, not both")
        extra["say"] = reader.text(data["say"], path + ("say",), "say")
    if "confidence" in data:
        if "say" not in data:
            raise reader.fail(path + ("confidence",), 'confidence goes with say = "words"')
        extra["confidence"] = reader.confidence(data["confidence"], path + ("confidence",))
    if "hangup" in data:
        reader.true(data["hangup"], path + ("hangup",), "hangup")
        if "press" in data or "say" in data:
            raise reader.fail(
                path + ("hangup",), "a ring that hangs up in the whisper neither presses nor says"
            )
        if outcome is not DialOutcome.ANSWER:
            raise reader.fail(path + ("hangup",), 'hangup = true goes with outcome = "answer"')
        extra["hangs_up_in_whisper"] = True
    return CalleeBehaviour(outcome, **extra)
