"""TwiML the simulator meets but does not play: Twilio's warning 12200, and the verbs it refuses.

Twilio documents warning 12200 ("Schema validation warning") for TwiML that does not match its
schema, misspelled or unknown attributes among the causes, and goes on with the call. The engine
does the same with an attribute it does not know (not in ``twiml_contract.SUPPORTED``) or knows but
does not play (an element's ``unplayed`` attributes): a ``TwiMLWarning`` the call's transcript shows
(event kind ``warning``), and the verb plays without it. ``strict`` parsing refuses both instead
(``UnsupportedTwiML``), for testers who want every attribute accounted for.

Elements are not skipped: a Twilio verb or noun the simulator does not play (``NOT_PLAYED``) is
refused by name, and so is an element Twilio does not know, because leaving out a whole verb
changes the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hotline.sim.model import UnsupportedTwiML

#: The ErrorCode Twilio logs for TwiML that does not match its schema, and goes on.
SCHEMA_WARNING = "12200"

#: Twilio verbs and nouns the simulator does not play, and what they do on Twilio.
NOT_PLAYED: dict[str, str] = {
    "Sms": "sends a text message during the call (deprecated by Twilio)",
    "Message": "replies to a text message: messaging TwiML, not voice",
    "Connect": "connects the call to a Media Stream, a Conversation, a Virtual Agent or a room",
    "Pay": "takes a card or bank payment with the caller's keypad",
    "Prompt": "customises what <Pay> says",
    "Start": "starts a Media Stream, Siprec or real-time transcription beside the call",
    "Stop": "stops what <Start> started",
    "Refer": "transfers a SIP call out of Twilio (SIP REFER)",
    "Echo": "plays the caller's own voice back to them",
    "Sim": "dials a Programmable Wireless SIM",
    "Application": "dials another TwiML App",
    "WhatsApp": "dials a WhatsApp user",
}


@dataclass(frozen=True, slots=True)
class TwiMLWarning:
    """An attribute Twilio would log warning 12200 for, or one the simulator does not play."""

    element: str
    attribute: str
    url: str
    unplayed: str = ""  # a documented attribute's effect on Twilio; "" for an unknown one

    def message(self) -> str:
        """The warning in words, as the transcript shows it."""
        if self.unplayed:
            return (
                f"attribute {self.attribute}= of <{self.element}> is not played offline"
                f" (on Twilio it {self.unplayed}): the verb goes on without it"
            )
        return (
            f"attribute {self.attribute}= of <{self.element}> is not TwiML Twilio documents:"
            f" Twilio logs warning {SCHEMA_WARNING} and ignores it, so does the simulator"
        )

    def refusal(self) -> str:
        """Why strict parsing refuses the attribute."""
        if self.unplayed:
            why = f"the simulator does not play it (on Twilio it {self.unplayed})"
        else:
            why = f"not TwiML Twilio documents (Twilio logs warning {SCHEMA_WARNING}, ignores it)"
        return (
            f"attribute {self.attribute}= of <{self.element}> is refused in strict mode:"
            f" {why} (from {self.url})"
        )

    def detail(self) -> dict[str, str]:
        """The event's detail: element, attribute and ErrorCode."""
        return {"element": self.element, "attribute": self.attribute, "ErrorCode": SCHEMA_WARNING}


def check_attributes(
    element: str,
    attributes: Mapping[str, str],
    played: Mapping[str, str],
    unplayed: Mapping[str, str],
    url: str,
    *,
    strict: bool,
) -> tuple[TwiMLWarning, ...]:
    """Warn about each attribute not in ``played`` (strict: refuse the first one instead)."""
    warnings = []
    for attribute in attributes:
        if attribute in played:
            continue
        warning = TwiMLWarning(element, attribute, url, unplayed.get(attribute, ""))
        if strict:
            raise UnsupportedTwiML(warning.refusal())
        warnings.append(warning)
    return tuple(warnings)


def refused_element(tag: str, where: str, url: str) -> UnsupportedTwiML:
    """The error for an element the engine cannot play inside ``where`` (named, and why)."""
    if tag in NOT_PLAYED:
        return UnsupportedTwiML(
            f"<{tag}> inside {where} is a Twilio verb the simulator does not play: it"
            f" {NOT_PLAYED[tag]} (from {url}; docs/simulator.md, 'TwiML the simulator does not"
            " play')"
        )
    return UnsupportedTwiML(f"<{tag}> inside {where} is not supported (from {url})")
