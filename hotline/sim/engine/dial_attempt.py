"""What every kind of ``<Dial>`` target shares: how far the attempt got, the dialled party's leg.

``Attempt`` is what the Dial's action gets if the caller hangs up in the middle of it. A ring is
shown in the transcript (``announce_ring``, with a ``<Client>``'s custom parameters); a dialled
party that answers has its own leg (``callee_leg``), on which a noun's ``url`` TwiML plays
(``run_url``): a ``<Number url>`` whisper, a ``<Queue url>`` announcement.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from hotline.sim.engine import twiml
from hotline.sim.engine.call import CallState, Leg, Stop
from hotline.sim.engine.callees import Ring
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.model import CallerInput, Who


@dataclass
class Attempt:
    """How far a Dial got: what Twilio posts if the caller hangs up in the middle of it."""

    child_sid: str = ""  # the leg of the callee who picked up ("" while nobody has)
    answered: float | None = None  # when they picked up
    bridged: bool = False
    extra: dict[str, str] | None = None  # QueueSid for <Dial><Queue>

    def picked_up(self, child_sid: str, at: float) -> None:
        """A callee answered (their whisper, if any, plays next)."""
        self.child_sid, self.answered = child_sid, at

    def refused(self) -> None:
        """The callee who answered refused in the whisper: the others still ring."""
        self.child_sid, self.answered = "", None

    def outcome(self, call: CallState) -> dict[str, str]:
        """The action's parameters when the caller hung up now.

        Twilio's documentation does not say; the simulator posts ``canceled`` while the dialled
        legs ring (the caller's hang-up cancels them before anyone answers, as Twilio's
        ``canceled`` call status describes) and ``completed`` once one picked up.
        """
        if self.answered is None:
            status, sid, seconds = "canceled", call.new_sid("CA"), 0.0
        else:
            status, sid, seconds = "completed", self.child_sid, call.clock.elapsed - self.answered
        return {
            "DialCallStatus": status,
            "DialCallSid": sid,
            "DialCallDuration": str(round(seconds)),
            **(self.extra or {}),
            "DialBridged": "true" if self.bridged else "false",
        }


def _client_parameters(noun: Verb | None) -> dict[str, str]:
    """The custom parameters a ``<Client>`` sends to the device it rings."""
    if noun is None:
        return {}
    return {
        child.attrs.get("name", ""): child.attrs.get("value", "")
        for child in noun.children
        if child.name == "Parameter"
    }


def announce_ring(call: CallState, ring: Ring, noun: Verb | None = None) -> None:
    """Show ``ring`` in the transcript: how it will end, and a default when none was scripted."""
    behaviour = ring.behaviour
    detail = {"outcome": behaviour.outcome.value, "after": f"{behaviour.ring_seconds:g}"}
    detail.update({f"Parameter {k}": v for k, v in _client_parameters(noun).items()})
    call.emit(Who.TWILIO, "ring", ring.number, detail=detail)
    if ring.default:
        call.emit(
            Who.TWILIO,
            "default",
            f"no behaviour scripted for {ring.number}: no-answer for {ring.timeout:g} s",
        )


def callee_leg(
    params: dict[str, str], answer: CallerInput, allowed: frozenset[str], context: str, party: str
) -> Leg:
    """Return the leg of the dialled ``party``, who answers every prompt with ``answer``."""
    return Leg(
        params,
        "in-progress",
        Who.CALLEE,
        Who.CALLEE,
        lambda _prompt: answer,
        allowed,
        context,
        party=party,
    )


def run_url(call: CallState, noun: Verb, doc: Document, leg: Leg) -> Stop | None:
    """Fetch the noun's ``url`` TwiML and play it out on ``leg``; return how the leg stopped."""
    first = call.fetch(urljoin(doc.url, noun.attrs["url"]), twiml.method(noun), leg)
    return call.run_leg(first, leg)
