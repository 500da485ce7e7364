"""The ``callback_offer`` step: outside the hours, the buyer asks to be called back when it opens.

The buyer confirms the number they call from (said masked: "ending in 2 0 0") with 1, or types
another followed by #; a number ``phones.normalise`` refuses is asked for again, then the step
gives up (``on_exhausted``). The request is stored once per call (a retried webhook stores
nothing more) and due at the next opening (``rules.callbacks.due_at``), which the buyer hears.
When the hotline calls back and the buyer answers, ``greet_callback`` speaks the step's
``greeting`` and goes on to ``answered`` (the agents' queue, with the request's topic).
"""

from __future__ import annotations

from hotline.ivr.caller_input import Caller
from hotline.ivr.flow import Step
from hotline.ivr.turn import TurnBase
from hotline.ivr.wording import spell_digits
from hotline.rules import callbacks as rules
from hotline.rules import phones
from hotline.store import callbacks
from hotline.store.callbacks import CallbackRequest

CONFIRM_KEY = "1"
NUMBER_TIMEOUT = 6
SHOWN_DIGITS = 3  # the caller ID is said by its last digits only


class CallbackSteps(TurnBase):
    """What a ``callback_offer`` step does (mixed into ``steps.Turn``)."""

    # ``steps.Turn`` enters steps and retries them; these say so to the type checker.
    def enter(self, name: str, attempt: int = 1, notice: str | None = None) -> None:
        """Speak step ``name`` (``steps.Turn``)."""
        raise NotImplementedError

    def _retry(self, step: Step, attempt: int, notice: str | None = None) -> None:
        raise NotImplementedError

    def _enter_callback_offer(self, step: Step, attempt: int, notice: str | None) -> None:
        if not self.settings.public_base_url:
            # Twilio fetches a callback's webhooks at the public address: without one the call
            # could never be placed, so nothing is promised (the server's banner says so).
            self.enter(step.links["on_exhausted"])
            return
        lines = [notice] if notice else []
        caller_id = self.call.from_number
        if caller_id:
            digits = spell_digits(caller_id[-SHOWN_DIGITS:])
            lines.append(self.prompt(step.prompts["prompt"], digits=digits))
        else:  # no caller ID to confirm: the number has to be typed
            lines.append(self.prompt(step.prompts["enter"]))
        self._gather(
            step,
            attempt,
            lines,
            input_="dtmf speech",
            finish_on_key="#",
            timeout=NUMBER_TIMEOUT,
        )

    def _answer_callback_offer(self, step: Step, attempt: int, caller: Caller) -> None:
        number = self._callback_number(caller)
        if number is None:
            self._retry(step, attempt)
            return
        due = rules.due_at(self.settings.hours, self.now)
        if due is None:  # no opening within a year: nothing to promise
            self.enter(step.links["on_exhausted"])
            return
        call = self.call
        stored = callbacks.request(
            self.store.session(),
            CallbackRequest(
                call_sid=call.sid,
                phone=number,
                caller_id=call.from_number,
                hotline_number=call.to_number,
                language=call.language,
                topic=call.topic,
                order_id=call.order_id,
                seller_id=call.seller_id,
                due_at=due,
            ),
            self.now,
        )
        call.outcome = "callback_requested"
        self.trail.append(f"callback to {phones.mask(number)}" + ("" if stored else " (kept)"))
        self.say(self.prompt(step.prompts["done"]))
        self.enter(step.links["next"])

    def _callback_number(self, caller: Caller) -> str | None:
        """The number to call back: the caller ID confirmed with 1, else the one typed (or said)."""
        digits = caller.digits or "".join(ch for ch in caller.speech if ch.isdigit())
        if digits == CONFIRM_KEY:
            return self.call.from_number
        if not digits:
            return None
        return phones.normalise_or_none(digits, self.settings.default_region)

    def greet_callback(self, step: Step) -> None:
        """The buyer answered the hotline's callback: say who calls and why, then go on."""
        self.trail.append("callback answered")
        self.say(self.prompt(step.prompts["greeting"]))
        self.enter(step.links["answered"])
