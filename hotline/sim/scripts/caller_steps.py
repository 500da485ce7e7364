"""A call script's ``[[steps]]``: what the caller hears (or must not), presses, says, records.

Each reader takes the script's ``ValueReader``, so every mistake names its file and line.
"""

from __future__ import annotations

import re
from typing import Any

from hotline.sim.scripts.model import (
    RECORD_ENDS,
    Hangup,
    Hear,
    Press,
    Record,
    Say,
    Silence,
    Step,
    normalise_heard,
)
from hotline.sim.scripts.values import DIGITS, KeyPath, ValueReader

_ACTIONS = ("hear", "hear_re", "not_hear", "press", "say", "silence", "record", "hangup")
_STEP_KEYS = {
    "hear": (),
    "hear_re": (),
    "not_hear": (),
    "press": ("after", "barge_in"),
    "say": ("confidence", "after", "barge_in"),
    "silence": (),
    "record": ("transcription", "after", "end"),
    "hangup": (),
}


def read_step(reader: ValueReader, data: Any, path: KeyPath) -> Step:
    """One ``[[steps]]`` table: the caller's action, with its timing and words."""
    if not isinstance(data, dict):
        raise reader.fail(path, 'a step must be a table like { hear = "..." }')
    every_key = (
        *_ACTIONS,
        "hangup_after",
        "after",
        "confidence",
        "transcription",
        "barge_in",
        "end",
    )
    reader.known(data, path, every_key, "in a step")
    actions = [key for key in data if key in _ACTIONS or key == "hangup_after"]
    if len(actions) != 1:
        found = ", ".join(actions) if actions else "none"
        raise reader.fail(
            path,
            f"a step needs exactly one of {', '.join(_ACTIONS)} (found: {found})",
        )
    action = actions[0]
    allowed = (action, *_STEP_KEYS.get(action, ()))
    reader.known(data, path, allowed, f"in a {action!r} step")
    value = data[action]
    here = path + (action,)
    where = reader.where(here)
    after = reader.seconds(data["after"], path + ("after",), "after") if "after" in data else None
    barge_in = "barge_in" in data
    if barge_in:
        reader.true(data["barge_in"], path + ("barge_in",), "barge_in")
    if action in ("hear", "not_hear"):
        shown = reader.text(value, here, action)
        pattern = re.compile(re.escape(normalise_heard(shown)), re.IGNORECASE)
        return Hear(where, pattern, repr(shown), negated=action == "not_hear")
    if action == "hear_re":
        source = reader.text(value, here, action)
        try:
            pattern = re.compile(source, re.IGNORECASE)
        except re.error as exc:
            raise reader.fail(here, f"hear_re: not a valid regular expression ({exc})") from None
        return Hear(where, pattern, f"/{source}/")
    if action == "press":
        return Press(where, reader.digits(value, here), after, barge_in)
    if action == "say":
        words = reader.text(value, here, action)
        confidence = None
        if "confidence" in data:
            confidence = reader.confidence(data["confidence"], path + ("confidence",))
        return Say(where, words, confidence, after, barge_in)
    if action == "silence":
        reader.true(value, here, action)
        return Silence(where)
    if action == "record":
        transcription = ""
        if "transcription" in data:
            transcription = reader.text(
                data["transcription"], path + ("transcription",), "transcription"
            )
        end = _record_end(reader, data["end"], path + ("end",)) if "end" in data else "silence"
        return Record(where, reader.seconds(value, here, action), transcription, after, end)
    if action == "hangup_after":
        return Hangup(where, reader.seconds(value, here, action))
    reader.true(value, here, action)
    return Hangup(where)


def _record_end(reader: ValueReader, value: Any, path: KeyPath) -> str:
    """How a recording ends: ``"silence"``, ``"hangup"`` or one key (``"#"``, ``1``)."""
    if value in RECORD_ENDS:
        return str(value)
    keys = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(keys, str) or not DIGITS.fullmatch(keys) or len(keys) != 1:
        raise reader.fail(path, f'end: expected "silence", "hangup" or one key, got {value!r}')
    return keys
