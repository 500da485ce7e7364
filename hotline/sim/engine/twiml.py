"""Parse the app's TwiML into ``Verb`` trees, refusing whatever the engine cannot play.

What it plays is the contract in ``twiml_contract.py`` (``SUPPORTED``): an unknown verb, noun or
SSML tag raises ``UnsupportedTwiML`` naming it, so a call never silently skips part of the app's
answer; an attribute the engine does not play is a warning, as Twilio's 12200 is, or refused with
``strict`` (``twiml_warnings.py``). Also here: reading an element's number, flag and method
attributes as Twilio would accept them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from hotline.sim.engine.twiml_contract import SSML_TAGS, SUPPORTED
from hotline.sim.engine.twiml_warnings import (
    TwiMLWarning,
    check_attributes,
    refused_element,
)
from hotline.sim.model import NotTwiML, UnsupportedTwiML, WebhookFailed


@dataclass(frozen=True, slots=True)
class Verb:
    """One TwiML element: name, attributes, text (flattened for Say), children, and its URL."""

    name: str
    attrs: Mapping[str, str]
    text: str
    children: tuple[Verb, ...] = ()
    source: str = ""  # the URL whose answer held it, for error messages


@dataclass(frozen=True, slots=True)
class Document:
    """One TwiML answer and the URL it came from (relative URLs inside it resolve against it)."""

    url: str
    verbs: tuple[Verb, ...]
    warnings: tuple[TwiMLWarning, ...] = ()  # attributes not played, in document order


def parse(body: bytes, url: str, *, strict: bool = False) -> Document:
    """Parse a TwiML answer: ``NotTwiML`` if it is none, ``UnsupportedTwiML`` if unknown.

    An attribute the engine does not play is one of the document's ``warnings``; ``strict``
    refuses it instead.
    """
    return _parse(body, url, strict)


# Replays get the same answers from the same URLs call after call (a Document and its Verbs are
# immutable, so one parse serves them all); a failed parse is not cached and fails again.
@lru_cache(maxsize=512)
def _parse(body: bytes, url: str, strict: bool) -> Document:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        excerpt = body[:300].decode("utf-8", errors="replace")
        raise NotTwiML(f"{url} did not answer XML ({exc}): {excerpt!r}") from exc
    if root.tag != "Response":
        raise NotTwiML(f"{url} answered <{root.tag}>, not a TwiML <Response>")
    warnings: list[TwiMLWarning] = []
    verbs = _children(root, "Response", url, strict, warnings)
    return Document(url, verbs, tuple(warnings))


def _children(
    element: ET.Element, name: str, url: str, strict: bool, warnings: list[TwiMLWarning]
) -> tuple[Verb, ...]:
    allowed = SUPPORTED[name].children
    verbs = []
    for child in element:
        if child.tag not in allowed:
            where = "the Response" if name == "Response" else f"<{name}>"
            raise refused_element(child.tag, where, url)
        verbs.append(_verb(child, url, strict, warnings))
    return tuple(verbs)


def _verb(element: ET.Element, url: str, strict: bool, warnings: list[TwiMLWarning]) -> Verb:
    name = element.tag
    support = SUPPORTED[name]
    warnings.extend(
        check_attributes(
            name, element.attrib, support.attributes, support.unplayed, url, strict=strict
        )
    )
    if name == "Say":
        return Verb(name, element.attrib, _spoken(element, url), source=url)
    text = (element.text or "").strip()
    return Verb(name, element.attrib, text, _children(element, name, url, strict, warnings), url)


def _spoken(element: ET.Element, url: str) -> str:
    """Return the words a <Say> speaks: its text and its SSML children's, in order."""
    words: list[str] = [element.text or ""]
    for child in element:
        if child.tag not in SSML_TAGS:
            raise UnsupportedTwiML(f"SSML <{child.tag}> inside <Say> is not supported (from {url})")
        if child.tag == "sub":
            words.append(child.get("alias") or child.text or "")
        elif child.tag != "break":
            words.append(_spoken(child, url))
        words.append(child.tail or "")
    return " ".join(" ".join(words).split())


def number(verb: Verb, attribute: str, default: float) -> float:
    """Return a numeric attribute; a value that is not a number is invalid TwiML."""
    raw = verb.attrs.get(attribute)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise WebhookFailed(f"{_show(verb, attribute)} is not a number{_from(verb)}") from None
    if value < 0:
        raise WebhookFailed(f"{_show(verb, attribute)} is negative{_from(verb)}")
    return value


def flag(verb: Verb, attribute: str, default: bool) -> bool:
    """Return a true/false attribute; anything else is invalid TwiML."""
    raw = verb.attrs.get(attribute)
    if raw is None:
        return default
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise WebhookFailed(f"{_show(verb, attribute)} is not true or false{_from(verb)}")


def method(verb: Verb, attribute: str = "method") -> str:
    """Return an HTTP method attribute (default POST); Twilio allows only GET and POST."""
    raw = verb.attrs.get(attribute, "POST").upper() or "POST"
    if raw not in ("GET", "POST"):
        raise WebhookFailed(f"{_show(verb, attribute)} is not GET or POST{_from(verb)}")
    return raw


def invalid(verb: Verb, attribute: str, expected: str) -> WebhookFailed:
    """Return the error for an attribute value Twilio would refuse (``expected`` says what fits)."""
    return WebhookFailed(f"{_show(verb, attribute)} is not {expected}{_from(verb)}")


def _show(verb: Verb, attribute: str) -> str:
    return f"<{verb.name} {attribute}={verb.attrs.get(attribute)!r}>"


def _from(verb: Verb) -> str:
    return f" (from {verb.source})" if verb.source else ""
