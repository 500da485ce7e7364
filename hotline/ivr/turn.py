"""A webhook's turn on one call: what it works with, and how it speaks (prompts, Say, Gather, URLs).

``TurnBase`` holds one call's state for one webhook and renders what the hotline says in the call's
language; ``Turn`` in ``steps.py`` adds what each kind of flow step does. The views
(``web/voice.py``) use this half directly for the seller's whisper and the queue's wait prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlencode

from hotline.config.settings import Seller, Settings
from hotline.ivr.caller_input import Caller, choose_option, speech_hints
from hotline.ivr.flow import Flow, Language, Option, Step
from hotline.ivr.reply import Reply
from hotline.ivr.wording import call_values, placeholders, reopens
from hotline.store.callstate import CallState
from hotline.store.callstore import CallWork
from hotline.store.directory import Directory


@dataclass
class TurnBase:
    """What one webhook works on for one call; ``trail`` records the steps entered, for the log."""

    flow: Flow
    settings: Settings
    directory: Directory
    store: CallWork
    call: CallState
    now: datetime
    base: str = ""  # where this app's webhooks live: the public base URL or the path prefix
    response: Reply = field(default_factory=Reply)
    trail: list[str] = field(default_factory=list)

    def language(self) -> Language:
        """The call's language settings (falls back to the flow's first language)."""
        languages = self.flow.languages
        return languages.get(self.call.language) or next(iter(languages.values()))

    def say(self, text: str) -> None:
        """Speak ``text`` in the call's language."""
        language = self.language()
        self.response.say(text, voice=language.voice, language=language.say_language)

    def prompt(self, name: str, **values: str) -> str:
        """Prompt ``name`` in the call's language, filled with what the call knows."""
        wanted = placeholders(self.flow.template(self.call.language, name))
        if not wanted <= values.keys():  # most prompts need none of the call's values
            if "reopens" in wanted:
                values.setdefault(
                    "reopens", reopens(self.flow, self.call.language, self.settings.hours, self.now)
                )
            values = {**self.context(), **values}
        return self.flow.prompt(self.call.language, name, **values)

    def context(self) -> dict[str, str]:
        """Placeholder values known for this call."""
        language = self.flow.languages.get(self.call.language)
        return call_values(self.settings.hours, self.call, language, self._seller())

    def hints(self, step: Step) -> str:
        """The step's phrases in the call's language, as speech recognition hints."""
        return speech_hints(step, self.call.language)

    def choose(self, step: Step, caller: Caller, whole_reply: bool = False) -> Option | None:
        """The option the caller picked by key, or by words heard with enough confidence."""
        return choose_option(
            step, caller, self.call.language, self.settings.min_speech_confidence, whole_reply
        )

    def url(self, path: str, **query: str) -> str:
        """A webhook URL of this app, under its public base URL or path prefix."""
        return self.base + path + ("?" + _query(tuple(query.items())) if query else "")

    def _gather(
        self,
        step: Step,
        attempt: int,
        lines: list[str],
        *,
        input_: str,
        timeout: int,
        num_digits: int | None = None,
        finish_on_key: str | None = None,
        hints: str = "",
    ) -> None:
        """Say ``lines`` inside a Gather posting to the step; silence posts there too."""
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

    def _seller(self) -> Seller | None:
        return self.directory.seller(self.call.seller_id)


@lru_cache(maxsize=1024)
def _query(items: tuple[tuple[str, str], ...]) -> str:
    # The same few queries recur (a step's attempt number): encode each once.
    return urlencode(items)
