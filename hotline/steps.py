"""The kinds of flow step: how each one speaks (TwiML) and what it does with the caller's answer.

A ``Turn`` is one webhook's worth of work on one call: it enters steps (a branch or an order lookup
passes straight on to the next step in the same turn) until a step needs the caller, and renders
that into its ``Reply``. Decisions come from the pure modules (``hours``, ``routing``,
``handoff``); the call's state lives in its store row, so the next webhook can be served by any
process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlencode

from hotline import handoff, phones
from hotline.callstore import CallState, CallWork
from hotline.config import Order, Seller, Settings
from hotline.directory import Directory
from hotline.errors import FlowError
from hotline.flows import Flow, Language, Option, Step
from hotline.hours import is_open, next_opening
from hotline.reply import Reply
from hotline.routing import Party, Topic, party_for
from hotline.speech import normalise_speech, said_at
from hotline.threads import open_thread, reference

MAX_PASS_THROUGH = 20  # steps entered in one turn; more means the flow loops on itself
MENU_TIMEOUT = 6
ORDER_TIMEOUT = 10
QUESTION_TIMEOUT = 5
THREAD_ASK_TRIES = 2
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
            confidence = float(form.get("Confidence", "") or 0.0)
        except ValueError:
            confidence = 0.0
        return cls(
            digits="".join(ch for ch in form.get("Digits", "") if ch in "0123456789*#")[:32],
            speech=_printable_words(form.get("SpeechResult", ""))[:500],
            confidence=confidence,
        )

    def describe(self) -> str:
        """For the call's event log."""
        parts = []
        if self.digits:
            parts.append(f"digits={self.digits}")
        if self.speech:
            parts.append(f"speech={self.speech!r} ({self.confidence:.2f})")
        return " ".join(parts) or "silence"


@dataclass
class Turn:
    """One webhook's work on one call; ``trail`` records the steps entered, for the event log."""

    flow: Flow
    settings: Settings
    directory: Directory
    store: CallWork
    call: CallState
    now: datetime
    base: str = ""  # where this app's webhooks live: the public base URL or the path prefix
    response: Reply = field(default_factory=Reply)
    trail: list[str] = field(default_factory=list)

    # -- entering steps -------------------------------------------------------------------------

    def enter(self, name: str, attempt: int = 1, notice: str | None = None) -> None:
        """Speak step ``name`` (the ``attempt``-th time, after ``notice`` if given)."""
        if len(self.trail) >= MAX_PASS_THROUGH:
            raise FlowError(
                f"flow {self.flow.name}: more than {MAX_PASS_THROUGH} steps in one turn"
            )
        step = self.flow.step(name)
        self.trail.append(name if attempt == 1 else f"{name}#{attempt}")
        self.call.step = name
        if step.topic is not None:
            self.call.topic = step.topic.value
        enter = getattr(self, f"_enter_{step.kind}")
        enter(step, attempt, notice)

    def _enter_menu(self, step: Step, attempt: int, notice: str | None) -> None:
        lines = []
        if notice:
            lines.append(notice)
        if attempt == 1 and "intro" in step.prompts and notice is None:
            lines.append(self.prompt(step.prompts["intro"]))
        role = "short_prompt" if attempt > 1 and "short_prompt" in step.prompts else "prompt"
        lines.append(self.prompt(step.prompts[role]))
        self._gather(
            step, attempt, lines, input_="dtmf speech", num_digits=1, hints=self.hints(step)
        )

    def _enter_order_lookup(self, step: Step, attempt: int, notice: str | None) -> None:
        orders = self.directory.recent_orders(
            self.call.from_number, self.now, self.settings.recent_order_days
        )
        if len(orders) == 1:
            self._use_order(orders[0])
            self.enter(step.links["matched"])
        else:
            self.enter(step.links["unmatched"])

    def _enter_order_entry(self, step: Step, attempt: int, notice: str | None) -> None:
        lines = [notice] if notice else []
        lines.append(self.prompt(step.prompts["prompt"]))
        self._gather(
            step, attempt, lines, input_="dtmf speech", finish_on_key="#", timeout=ORDER_TIMEOUT
        )

    def _enter_question(self, step: Step, attempt: int, notice: str | None) -> None:
        self._gather(
            step,
            attempt,
            [self.prompt(step.prompts["prompt"])],
            input_="speech",
            timeout=QUESTION_TIMEOUT,
        )

    def _enter_branch(self, step: Step, attempt: int, notice: str | None) -> None:
        self.enter(step.links["yes" if self._test(step.test or "") else "no"])

    def _enter_dial_seller(self, step: Step, attempt: int, notice: str | None) -> None:
        seller = self._seller()
        if seller is None:
            self.enter(step.links["on_failure"])
            return
        self.say(self.prompt(step.prompts["connecting"]))
        dial = self.response.dial(
            action=self.url(f"/voice/step/{step.name}/dialled"),
            method="POST",
            timeout=self.settings.dial_timeout,
            caller_id=self.call.to_number or None,
        )
        dial.number(
            seller.phone,
            url=self.url("/voice/whisper", call=self.call.sid, step=step.name),
            method="POST",
        )

    def _enter_thread(self, step: Step, attempt: int, notice: str | None) -> None:
        if self.call.question:
            self._open_thread(step)
            return
        role = "retry" if attempt > 1 and "retry" in step.prompts else "ask"
        self._gather(
            step,
            attempt,
            [self.prompt(step.prompts[role])],
            input_="speech",
            timeout=QUESTION_TIMEOUT,
        )

    def _enter_enqueue(self, step: Step, attempt: int, notice: str | None) -> None:
        self.say(self.prompt(step.prompts["prompt"]))
        self.response.enqueue(
            self.settings.queue,
            action=self.url("/voice/queue/done", step=step.name),
            method="POST",
            wait_url=self.url("/voice/queue/wait", step=step.name),
            wait_url_method="POST",
        )

    def _enter_hangup(self, step: Step, attempt: int, notice: str | None) -> None:
        self.say(self.prompt(step.prompts["prompt"]))
        self.response.hangup()

    # -- answers to a step ----------------------------------------------------------------------

    def answer(self, name: str, attempt: int, caller: Caller) -> None:
        """Handle what the caller gave at step ``name`` and enter whatever comes next."""
        step = self.flow.step(name)
        self.trail.append(f"{name}<{caller.describe()}>")
        handler = getattr(self, f"_answer_{step.kind}", None)
        if handler is None:
            # A step that takes no input was posted to (stale URL): speak it again.
            self.enter(name)
            return
        handler(step, attempt, caller)

    def choose(self, step: Step, caller: Caller, whole_reply: bool = False) -> Option | None:
        """The option the caller picked by key, or by words heard with enough confidence.

        Words pick the option whose phrase comes first in what was said ("no, that's not right"
        is a no). With ``whole_reply`` (the seller's whisper) the reply must be one of the phrases
        exactly, with more confidence: a greeting or a voicemail must never take a call.
        """
        if caller.digits:
            return step.option_for_key(caller.digits[:1])
        needed = self.settings.min_speech_confidence
        if whole_reply:
            needed = max(needed, WHOLE_REPLY_CONFIDENCE)
        if not caller.speech or caller.confidence < needed:
            return None
        heard = normalise_speech(caller.speech)
        if len(heard) == 1:  # a key said aloud: Twilio transcribes "one" as "1."
            return step.option_for_key(heard)
        return self._option_for_speech(step, heard, whole_reply)

    def _answer_menu(self, step: Step, attempt: int, caller: Caller) -> None:
        if step.repeat_key and caller.digits == step.repeat_key:
            self.enter(step.name, attempt)
            return
        option = self.choose(step, caller)
        if option is None:
            self._retry(step, attempt)
            return
        if option.topic is not None:
            self.call.topic = option.topic.value
        self.enter(option.next)

    def _answer_order_entry(self, step: Step, attempt: int, caller: Caller) -> None:
        digits = "".join(ch for ch in (caller.digits or caller.speech) if ch.isdigit())
        order = self.directory.order(digits) if digits else None
        if order is not None:
            self._use_order(order)
            self.enter(step.links["next"])
            return
        notice = (
            self.prompt(step.prompts["unknown"], digits=spell_digits(digits)) if digits else None
        )
        self._retry(step, attempt, notice=notice)

    def _answer_question(self, step: Step, attempt: int, caller: Caller) -> None:
        if caller.speech:
            self.call.question = caller.speech
        self.enter(step.links["next"])

    def _answer_thread(self, step: Step, attempt: int, caller: Caller) -> None:
        if caller.speech:
            self.call.question = caller.speech
            self._open_thread(step)
        elif attempt < THREAD_ASK_TRIES:
            self.enter(step.name, attempt + 1)
        else:
            self.enter(step.links["next"])

    def dial_result(self, name: str, dial_status: str | None) -> None:
        """The seller's leg ended: go on to success or to the fallback."""
        step = self.flow.step(name)
        status = handoff.parse_dial_status(dial_status)
        self.call.dial_status = status.value
        self.trail.append(f"{name}<DialCallStatus={status.value}>")
        took = handoff.seller_took_call(status, self.call.seller_accepted)
        self.call.outcome = "seller_took_call" if took else None
        self.enter(step.links["on_success" if took else "on_failure"])

    def queue_result(self, name: str | None, result: str) -> None:
        """The caller left the queue: bridged calls end, the rest hear goodbye."""
        self.call.queue_result = result
        self.trail.append(f"queue<QueueResult={result}>")
        if result == "bridged":
            self.call.outcome = "agent_took_call"
        if result in ("bridged", "hangup") or name is None or name not in self.flow.steps:
            self.response.hangup()
            return
        self.enter(self.flow.step(name).links["next"])

    # -- shared pieces --------------------------------------------------------------------------

    def _retry(self, step: Step, attempt: int, notice: str | None = None) -> None:
        """Ask again (after ``notice``, else the step's short sorry), or give up after its tries."""
        tries = step.tries or self.settings.max_tries
        if attempt >= tries:
            self.enter(step.links["on_exhausted"])
            return
        if notice is None and "invalid" in step.prompts:
            notice = self.prompt(step.prompts["invalid"])
        self.enter(step.name, attempt + 1, notice=notice)

    def _gather(
        self,
        step: Step,
        attempt: int,
        lines: list[str],
        *,
        input_: str,
        timeout: int = MENU_TIMEOUT,
        num_digits: int | None = None,
        finish_on_key: str | None = None,
        hints: str = "",
    ) -> None:
        language = self.language()
        action = self.url(f"/voice/step/{step.name}", attempt=str(attempt))
        gather = self.response.gather(
            input=input_,
            action=action,
            method="POST",
            timeout=timeout,
            language=language.say_language,
            num_digits=num_digits,
            finish_on_key=finish_on_key,
            hints=hints or None,
            speech_timeout="auto" if "speech" in input_ else None,
        )
        for line in lines:
            gather.say(line, voice=language.voice, language=language.say_language)
        # No input: Twilio goes on to the next verb, which posts the same action with no Digits.
        self.response.redirect(action, method="POST")

    def _option_for_speech(self, step: Step, heard: str, whole_reply: bool) -> Option | None:
        best: tuple[int, Option] | None = None
        for option in step.options:
            for phrase in option.phrases.get(self.call.language, ()):
                at = (0 if phrase == heard else None) if whole_reply else said_at(phrase, heard)
                if at is not None and (best is None or at < best[0]):
                    best = (at, option)
        return best[1] if best else None

    def _open_thread(self, step: Step) -> None:
        topic = Topic(self.call.topic) if self.call.topic else Topic.AGENT
        party = party_for(topic)
        thread = open_thread(
            self.store.session(),
            call_sid=self.call.sid,
            party=party,
            seller_id=self.call.seller_id if party is Party.SELLER else None,
            order_id=self.call.order_id,
            topic=topic.value,
            buyer_phone=self.call.from_number,
            question=self.call.question or "",
            now=self.now,
        )
        self.call.thread_id = thread.id
        self.call.outcome = "thread_opened"
        self.say(self.prompt(step.prompts["done"], reference=spell_digits(reference(thread.id))))
        self.enter(step.links["next"])

    def _test(self, test: str) -> bool:
        if test == "hotline_open":
            return is_open(self.settings.hours, self.now)
        if test == "seller_available":
            seller = self._seller()
            return seller is not None and handoff.seller_available(
                self.settings.hours, seller.hours, self.now
            )
        if test == "has_question":
            return bool(self.call.question)
        raise FlowError(f"unknown branch test {test!r}")

    def _use_order(self, order: Order) -> None:
        self.call.order_id = order.id
        self.call.seller_id = order.seller

    def _seller(self) -> Seller | None:
        return self.directory.seller(self.call.seller_id)

    def hints(self, step: Step) -> str:
        """The step's phrases in the call's language, as speech recognition hints."""
        return ", ".join(p for o in step.options for p in o.phrases.get(self.call.language, ()))

    def language(self) -> Language:
        """The call's language settings (falls back to the flow's first language)."""
        languages = self.flow.languages
        return languages.get(self.call.language) or next(iter(languages.values()))

    def prompt(self, name: str, **values: str) -> str:
        """Prompt ``name`` in the call's language, filled with what the call knows."""
        if "{reopens}" in self.flow.template(self.call.language, name):
            values.setdefault("reopens", self._reopens())
        return self.flow.prompt(self.call.language, name, **{**self.context(), **values})

    def _reopens(self) -> str:
        """When the hotline opens next, in words: today, tomorrow, or on a date."""
        opening = next_opening(self.settings.hours, self.now)
        if opening is None:
            return ""
        today = self.now.astimezone(self.settings.hours.tz).date()
        days = (opening.date() - today).days
        name = {0: "reopens_today", 1: "reopens_tomorrow"}.get(days, "reopens_later")
        return self.flow.prompt(
            self.call.language, name, time=f"{opening:%H:%M}", date=opening.date().isoformat()
        )

    def context(self) -> dict[str, str]:
        """Placeholder values known for this call."""
        values = {
            "opens": self.settings.hours.opens.strftime("%H:%M"),
            "closes": self.settings.hours.closes.strftime("%H:%M"),
            "question": (self.call.question or "").rstrip(" .?!"),
            "order": spell_digits(self.call.order_id or ""),
        }
        language = self.flow.languages.get(self.call.language)
        if language is not None and self.call.topic:
            values["topic"] = language.topics.get(self.call.topic, self.call.topic)
        seller = self._seller()
        if seller is not None:
            values["seller"] = seller.name
            values["seller_phone"] = spoken_phone(seller.phone)
        return values

    def say(self, text: str) -> None:
        """Speak ``text`` in the call's language."""
        language = self.language()
        self.response.say(text, voice=language.voice, language=language.say_language)

    def url(self, path: str, **query: str) -> str:
        """A webhook URL of this app, under its public base URL or path prefix."""
        return self.base + path + ("?" + urlencode(query) if query else "")


def _printable_words(text: str) -> str:
    """``text`` as single-spaced printable words: it may be spoken back in TwiML (the whisper),
    where control characters would make the XML invalid."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


@lru_cache(maxsize=1024)
def spoken_phone(number: str) -> str:
    """A phone number as text-to-speech should read it: digit by digit, in groups."""
    return ", ".join(spell_digits(group) for group in phones.spoken_groups(number))


def spell_digits(value: str) -> str:
    """Digits separated by spaces so text-to-speech reads them one by one."""
    return " ".join(value)
