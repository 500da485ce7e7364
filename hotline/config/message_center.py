"""The Message Center's routing data (``[message_center]``): which party answers each message
topic and Discussion reason, which reasons are delivery problems, which message topic a thread
opened from a call gets, and the response and sales-quality windows.

The tables are data: a config file without ``[message_center]`` gets the packaged default file
``hotline/config/message_center.toml`` (the shipped config.toml holds a copy), never a Python dict.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from hotline.config.reader import Section
from hotline.rules.routing import Party, Topic, party_for

DEFAULT_FILE = "message_center.toml"
# The store's threads.topic is 32 characters, threads.reason 64.
TOPIC_MAX = 32
REASON_MAX = 64
_CODE = re.compile(r"[a-z][a-z0-9_]*")
_PARTIES = {party.value: party for party in Party}


@dataclass(frozen=True)
class Reason:
    """A Discussion reason: who answers it, and whether it is a delivery problem."""

    code: str
    party: Party
    delivery: bool = False


@dataclass(frozen=True)
class MessageCenter:
    """The routing tables and windows of the Message Center."""

    topics: Mapping[str, Party]
    reasons: Mapping[str, Reason]
    call_topics: Mapping[str, str]  # the IVR's call topic -> a message topic
    response_hours: int = 24
    sales_quality_window_days: int = 30

    def topic_for_call(self, call_topic: str | None) -> str:
        """The message topic of a thread opened from a call about ``call_topic``."""
        fallback = self.call_topics[Topic.AGENT.value]  # a caller with no topic asked for a person
        return self.call_topics.get(call_topic or Topic.AGENT.value, fallback)


def default_data() -> Mapping[str, Any]:
    """The packaged default ``[message_center]`` table, as read from its file."""
    text = resources.files("hotline.config").joinpath(DEFAULT_FILE).read_text("utf-8")
    table: Mapping[str, Any] = tomllib.loads(text)["message_center"]
    return table


def message_center(root: Section) -> MessageCenter:
    """``[message_center]`` of the configuration, or the packaged default when it has none."""
    if "message_center" not in root.data:
        root.raw("message_center", None)
        fallback = Section({"message_center": default_data()}, "", f"{root.source} (default)")
        return message_center(fallback)
    section = root.table("message_center")
    topics_section = section.table("topics")
    topics = {}
    for code in list(topics_section.data):
        _code(topics_section, code, TOPIC_MAX)
        topics[code] = _party(topics_section, code)
    if not topics:
        raise section.fail("topics", "a table of message topics (code = party)")
    reasons_section = section.table("reasons")
    reasons = {}
    for code in list(reasons_section.data):
        _code(reasons_section, code, REASON_MAX)
        entry = reasons_section.table(code)
        reasons[code] = Reason(
            code=code, party=_party(entry, "party"), delivery=entry.boolean("delivery", False)
        )
        entry.finish()
    if not reasons:
        raise section.fail("reasons", "a table of Discussion reasons (code = {party = ...})")
    calls_section = section.table("call_topics")
    call_topics = {}
    for call_topic in Topic:
        given = calls_section.raw(call_topic.value, None)
        if given not in topics:
            raise calls_section.fail(
                call_topic.value, f"one of the message topics ({', '.join(topics)})", given
            )
        if topics[given] is not party_for(call_topic):
            raise calls_section.fail(
                call_topic.value,
                f"a message topic the {party_for(call_topic).value} answers, as the call topic "
                f"{call_topic.value!r} goes to the {party_for(call_topic).value}",
                given,
            )
        call_topics[call_topic.value] = given
    center = MessageCenter(
        topics=MappingProxyType(topics),
        reasons=MappingProxyType(reasons),
        call_topics=MappingProxyType(call_topics),
        response_hours=section.integer("response_hours", 24, 1, 24 * 30),
        sales_quality_window_days=section.integer("sales_quality_window_days", 30, 1, 366),
    )
    for part in (calls_section, reasons_section, topics_section, section):
        part.finish()
    return center


def _code(section: Section, code: str, longest: int) -> None:
    if not _CODE.fullmatch(code) or len(code) > longest:
        raise section.fail(
            code, f"a snake_case code (a-z, 0-9, '_'; at most {longest} characters) as the key"
        )


def _party(section: Section, name: str) -> Party:
    value = section.raw(name, None)
    if not isinstance(value, str) or value not in _PARTIES:
        raise section.fail(name, '"seller" or "warehouse"', value)
    return _PARTIES[value]
