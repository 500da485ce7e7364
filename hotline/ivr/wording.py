"""What prompts say about a call: its placeholder values, the next opening, digits spoken."""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from string import Formatter

from hotline.config.settings import Seller
from hotline.ivr.flow import Flow, Language
from hotline.rules import phones
from hotline.rules.hours import Schedule, next_opening
from hotline.store.callstate import CallState


def call_values(
    hours: Schedule, call: CallState, language: Language | None, seller: Seller | None
) -> dict[str, str]:
    """Placeholder values known for ``call``: the hours, its question, order, topic and seller."""
    values = {
        "opens": _clock(hours.opens),
        "closes": _clock(hours.closes),
        "question": (call.question or "").rstrip(" .?!"),
        "order": spell_digits(call.order_id or ""),
    }
    if language is not None and call.topic:
        values["topic"] = language.topics.get(call.topic, call.topic)
    if seller is not None:
        values["seller"] = seller.name
        values["seller_phone"] = spoken_phone(seller.phone)
    return values


def reopens(flow: Flow, language: str, hours: Schedule, now: datetime) -> str:
    """When the hotline opens next, in words: today, tomorrow, or on a date."""
    opening = next_opening(hours, now)
    if opening is None:
        return ""
    today = now.astimezone(hours.tz).date()
    days = (opening.date() - today).days
    name = {0: "reopens_today", 1: "reopens_tomorrow"}.get(days, "reopens_later")
    return flow.prompt(language, name, time=f"{opening:%H:%M}", date=opening.date().isoformat())


@lru_cache(maxsize=1024)
def placeholders(template: str) -> frozenset[str]:
    """The names a prompt's placeholders look up (``{order}`` and ``{order.x}``: ``order``)."""
    try:
        fields = [name for _text, name, _spec, _conv in Formatter().parse(template) if name]
    except ValueError:  # a malformed template: filling it fails the same way, with all values
        return frozenset({"{"})
    return frozenset(name.partition(".")[0].partition("[")[0] for name in fields)


@lru_cache(maxsize=64)
def _clock(at: time) -> str:
    return at.strftime("%H:%M")


@lru_cache(maxsize=1024)
def spoken_phone(number: str) -> str:
    """A phone number as text-to-speech should read it: digit by digit, in groups."""
    return ", ".join(spell_digits(group) for group in phones.spoken_groups(number))


def spell_digits(value: str) -> str:
    """Digits separated by spaces so text-to-speech reads them one by one."""
    return " ".join(value)
