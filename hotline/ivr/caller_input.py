"""What the caller gave at a prompt (keys, speech) and which of a step's options it picks."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from hotline.ivr.flow import Option, Step
from hotline.ivr.speech import normalise_speech, said_at
from hotline.rules.phones import mask_every_digit

WHOLE_REPLY_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Caller:
    """What the caller gave at a prompt: keys, and/or speech with its confidence."""

    digits: str = ""
    speech: str = ""
    confidence: float = 0.0

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Caller:
        """Read ``Digits``, ``SpeechResult`` and ``Confidence`` from a webhook form, tolerantly."""
        try:
            confidence = float(_field(form, "Confidence") or 0.0)
        except ValueError:
            confidence = 0.0
        if not math.isfinite(confidence):  # "nan" would pass every threshold
            confidence = 0.0
        return cls(
            digits="".join(ch for ch in _field(form, "Digits") if ch in "0123456789*#")[:32],
            speech=_printable_words(_field(form, "SpeechResult"))[:500].rstrip(),
            confidence=min(max(confidence, 0.0), 1.0),
        )

    def describe(self, number: bool = False) -> str:
        """For the call's event log; ``number``: the caller was asked for a phone number, which
        the log keeps masked however it came (``digits=******400``, ``speech='*** *** 400'``)."""
        digits, speech = self.digits, self.speech
        if number:
            digits, speech = mask_every_digit(digits), mask_every_digit(speech)
        parts = []
        if digits:
            parts.append(f"digits={digits}")
        if speech:
            parts.append(f"speech={speech!r} ({self.confidence:.2f})")
        return " ".join(parts) or "silence"


def choose_option(
    step: Step, caller: Caller, language: str, min_confidence: float, whole_reply: bool = False
) -> Option | None:
    """The option of ``step`` picked by key, or by words in ``language`` heard confidently enough.

    Words pick the option whose phrase comes first in what was said ("no, that's not right"
    is a no). With ``whole_reply`` (the seller's whisper) the reply must be one of the phrases
    exactly, with more confidence: a greeting or a voicemail must never take a call.
    """
    if caller.digits:
        return step.option_for_key(caller.digits[:1])
    needed = min_confidence
    if whole_reply:
        needed = max(needed, WHOLE_REPLY_CONFIDENCE)
    if not caller.speech or caller.confidence < needed:
        return None
    heard = normalise_speech(caller.speech)
    if len(heard) == 1:  # a key said aloud: Twilio transcribes "one" as "1."
        return step.option_for_key(heard)
    return _option_for_speech(step, heard, language, whole_reply)


def speech_hints(step: Step, language: str) -> str:
    """The step's phrases in ``language``, as speech recognition hints."""
    return step.speech_hints.get(language, "")


def _option_for_speech(step: Step, heard: str, language: str, whole_reply: bool) -> Option | None:
    best: tuple[int, Option] | None = None
    for option in step.options:
        for phrase in option.phrases.get(language, ()):
            at = (0 if phrase == heard else None) if whole_reply else said_at(phrase, heard)
            if at is not None and (best is None or at < best[0]):
                best = (at, option)
    return best[1] if best else None


def _printable_words(text: str) -> str:
    """``text`` as single-spaced printable words: it may be spoken back in TwiML (the whisper),
    where control characters would make the XML invalid."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _field(form: Mapping[str, str], name: str) -> str:
    # Asked first: werkzeug's form.get() builds a BadRequest exception for every missing field.
    return form[name] if name in form else ""
