"""What a webhook answers: TwiML verbs recorded as plain data, rendered by twilio's VoiceResponse.

A turn records its verbs on a ``Reply`` (``say``, ``gather``, ``dial`` ... with the same arguments
``VoiceResponse`` takes); ``render`` replays them on a ``VoiceResponse`` and serialises it. Most
answers are one of a few documents (a menu, in one language, at one attempt), so the rendered
text is kept per distinct list of verbs: building and serialising twilio's element tree costs
more than everything else a turn does. The key is the whole reply (URLs with their CallSid, the
text spoken), so a render is only ever reused for an identical document; the few hundred kept
in each worker's memory may include buyers' questions read to sellers in the whisper.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

# (verb, its text or None, its attributes, the verbs nested in it): hashable, so renders cache.
# Each attribute carries its value's type: True == 1 and 5 == 5.0, but twilio writes them apart.
Attribute = tuple[str, type, Any]
Verb = tuple[str, str | None, tuple[Attribute, ...], tuple["Verb", ...]]
RENDERED_CACHE_SIZE = 512


class Reply:
    """A list of TwiML verbs: a whole response, or what a ``Gather`` or ``Dial`` holds."""

    def __init__(self) -> None:
        # Each verb's attributes are kept as ``verbs`` gives them, made once when it is added.
        self._verbs: list[tuple[str, str | None, tuple[Attribute, ...], Reply | None]] = []

    def __bool__(self) -> bool:
        return bool(self._verbs)

    def say(self, text: str, **attrs: Any) -> None:
        """``<Say>`` ``text``."""
        self._add("say", text, attrs)

    def play(self, url: str, **attrs: Any) -> None:
        """``<Play>`` the audio at ``url``."""
        self._add("play", url, attrs)

    def redirect(self, url: str, **attrs: Any) -> None:
        """``<Redirect>`` to ``url``."""
        self._add("redirect", url, attrs)

    def enqueue(self, name: str, **attrs: Any) -> None:
        """``<Enqueue>`` the caller into queue ``name``."""
        self._add("enqueue", name, attrs)

    def hangup(self) -> None:
        """``<Hangup>``."""
        self._add("hangup", None, {})

    def number(self, phone: str, **attrs: Any) -> None:
        """``<Number>`` inside a ``Dial``."""
        self._add("number", phone, attrs)

    def conference(self, name: str, **attrs: Any) -> None:
        """``<Conference>`` room ``name`` inside a ``Dial``."""
        self._add("conference", name, attrs)

    def gather(self, **attrs: Any) -> Reply:
        """``<Gather>``; returns the verbs it holds (its prompts), to fill."""
        return self._nest("gather", attrs)

    def dial(self, **attrs: Any) -> Reply:
        """``<Dial>``; returns the verbs it holds (its numbers), to fill."""
        return self._nest("dial", attrs)

    def verbs(self) -> tuple[Verb, ...]:
        """The recorded verbs as plain, hashable data."""
        return tuple(
            (name, text, attributes, inner.verbs() if inner is not None else ())
            for name, text, attributes, inner in self._verbs
        )

    def render(self) -> str:
        """The TwiML document, as twilio's ``VoiceResponse`` writes it."""
        return _render(self.verbs())

    def _nest(self, name: str, attrs: dict[str, Any]) -> Reply:
        inner = Reply()
        self._add(name, None, attrs, inner)
        return inner

    def _add(
        self, name: str, text: str | None, attrs: dict[str, Any], inner: Reply | None = None
    ) -> None:
        # Unset attributes are left out (as VoiceResponse does), so equal replies share a render.
        attributes = tuple(
            (key, type(value), value) for key, value in attrs.items() if value is not None
        )
        self._verbs.append((name, text, attributes, inner))


@lru_cache(maxsize=RENDERED_CACHE_SIZE)
def _render(verbs: tuple[Verb, ...]) -> str:
    response = VoiceResponse()
    _replay(response, verbs)
    return str(response)


def _replay(parent: Any, verbs: tuple[Verb, ...]) -> None:
    for name, text, attributes, inner in verbs:
        add = getattr(parent, name)
        attrs = {key: value for key, _type, value in attributes}
        element = add(**attrs) if text is None else add(text, **attrs)
        _replay(element, inner)
