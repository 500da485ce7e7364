"""What a leg's listener hears: ``<Say>``, ``<Play>`` and ``<Pause>`` as timed segments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from hotline.sim.engine import twiml
from hotline.sim.engine.call import CallState, Leg
from hotline.sim.engine.clock import Timing
from hotline.sim.engine.interrupts import CallOver
from hotline.sim.engine.twiml import Verb
from hotline.sim.model import CallEnd, WebhookFailed


class Segment(NamedTuple):
    """One stretch of sound: what it is, how long one play lasts and how often it repeats."""

    kind: str  # "say", "play" or "pause"
    text: str
    seconds: float
    loop: int  # 0 = until something stops it
    detail: dict[str, str]


def segment(verb: Verb, timing: Timing) -> Segment:
    """Return the segment a ``<Say>``, ``<Play>`` or ``<Pause>`` plays."""
    loop = int(twiml.number(verb, "loop", 1))
    if verb.name == "Say":
        detail = {k: verb.attrs[k] for k in ("voice", "language") if k in verb.attrs}
        return Segment("say", verb.text, timing.say(verb.text), loop, detail)
    if verb.name == "Play":
        digits = verb.attrs.get("digits")
        if digits:
            return Segment("play", f"digits:{digits}", len(digits) * timing.dtmf_tone, 1, {})
        if not verb.text:
            raise WebhookFailed(f"<Play> without a URL or digits (from {verb.source})")
        return Segment("play", verb.text, timing.play, loop, {})
    length = twiml.number(verb, "length", 1.0)
    return Segment("pause", f"{length:g}", length, 1, {})


def play_segments(
    call: CallState,
    segments: Sequence[Segment],
    leg: Leg,
    until: float | None = None,
    *,
    remember: bool = True,
) -> float:
    """Play ``segments`` to the leg's listener, cutting off at ``until`` seconds if given.

    Return the seconds played. A caller may hang up during any Say or Play; a part that the call
    stops in (a hang-up, an agent answering, the time limit) is marked ``interrupted``.
    """
    played = 0.0
    for part in segments:
        count = 0
        while part.loop == 0 or count < part.loop:
            if until is not None and played + part.seconds > until:
                cut = until - played
                if cut > 0 and part.kind != "pause":
                    detail = {**part.detail, "interrupted": f"{cut:g}"}
                    call.emit(leg.speaker, part.kind, part.text, detail=detail)
                call.spend(cut)
                return until
            detail = part.detail
            heard = call.cut_after(part.seconds)
            if heard == 0:
                call.spend(part.seconds)  # the call stops now: nothing of the part is heard
            if heard is not None:
                detail = {**detail, "interrupted": f"{heard:g}"}
            if leg.party:
                detail = {**detail, "party": leg.party}
            call.emit(leg.speaker, part.kind, part.text, detail=detail)
            if part.kind == "say" and remember:
                leg.heard.append(part.text)
            if (
                leg.is_caller
                and part.kind != "pause"
                and call.caller.hangs_up_during(part.text, call.clock.elapsed)
            ):
                call.spend(part.seconds / 2)
                raise CallOver(CallEnd.CALLER_HANGUP, f"the caller hung up during {part.text!r}")
            call.spend(part.seconds)
            played += part.seconds
            count += 1
    return played
