"""Call flows: the immutable objects a flow file becomes, and what each kind of step needs.

A flow is a set of named steps. Each step has a *kind* implemented in ``hotline/ivr/steps.py``
(a menu, an order lookup, a question, a branch on the hours, a dial to the seller, ...); the flow
file supplies its prompts (per language), its options (keys and speech phrases) and where each
outcome leads. Two flows that differ only by words and wiring therefore differ only in their TOML,
which ``hotline/ivr/flow_file.py`` reads and checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from hotline.rules.routing import Party, Topic

# The kind of step that offers a callback (and asks for the number to call, when need be).
CALLBACK_OFFER = "callback_offer"
# What each kind of step needs from the flow file: the prompts it speaks and the steps it leads to.
KIND_PROMPTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "menu": ("prompt",),
        "order_lookup": (),
        "order_entry": ("prompt", "unknown"),
        "question": ("prompt",),
        "branch": (),
        "dial_seller": ("connecting", "whisper"),
        "thread": ("ask", "done"),
        "enqueue": ("prompt", "wait"),
        "hangup": ("prompt",),
        "callback_offer": ("prompt", "enter", "done", "greeting"),
    }
)
KIND_LINKS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "menu": ("on_exhausted",),
        "order_lookup": ("matched", "unmatched"),
        "order_entry": ("next", "on_exhausted"),
        "question": ("next",),
        "branch": ("yes", "no"),
        "dial_seller": ("on_failure", "on_success"),
        "thread": ("next",),
        "enqueue": ("next",),
        "hangup": (),
        "callback_offer": ("next", "on_exhausted", "answered"),
    }
)
OPTIONAL_PROMPTS = ("short_prompt", "invalid", "intro", "whisper_no_question", "retry")
BRANCH_TESTS = ("hotline_open", "seller_available", "has_question")
GLOBAL_PROMPTS = ("apology", "goodbye")
# {reopens} is spoken with one of these, by how far away the next opening is.
REOPENS_PROMPTS = ("reopens_today", "reopens_tomorrow", "reopens_later")
PLACEHOLDERS = frozenset(
    {
        "order",
        "seller",
        "seller_phone",
        "opens",
        "closes",
        "position",
        "reference",
        "question",
        "topic",
        "digits",
        "reopens",
        "time",
        "date",
        "summary",
    }
)
# Spoken on the agents' calls (hotline/agents): needed by a flow that puts callers in a queue.
AGENT_PROMPTS = (
    "agent_whisper",
    "agent_whisper_order",
    "agent_whisper_question",
    "agent_whisper_summary",
    "agent_caller_gone",
    "agent_call_over",
    "transfer_hold",
    "transfer_back",
    "transfer_with_seller",
    "seller_screen",
    "seller_screen_summary",
    "seller_screen_gone",
    "whisper_summary",
)


@dataclass(frozen=True)
class Option:
    """A menu choice: a key, the phrases that mean it, where it leads and the topic it sets."""

    key: str
    next: str
    phrases: Mapping[str, tuple[str, ...]]  # normalised, as speech is matched against them
    topic: Topic | None = None
    hints: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # as written: for Twilio


@dataclass(frozen=True)
class Step:
    """One step of a flow; ``prompts`` maps a role ("prompt", "invalid", ...) to a prompt name."""

    name: str
    kind: str
    prompts: Mapping[str, str]
    links: Mapping[str, str]
    options: tuple[Option, ...] = ()
    tries: int | None = None
    test: str | None = None
    repeat_key: str | None = None
    topic: Topic | None = None
    party: Party | None = None  # a thread step's: whose thread (else the call's topic decides)

    @property
    def asks_for_a_number(self) -> bool:
        """Whether the caller's answer here may be a phone number (kept masked in the log)."""
        return self.kind == CALLBACK_OFFER

    @cached_property
    def speech_hints(self) -> Mapping[str, str]:
        """The options' phrases as written, by language, joined as speech recognition hints
        (worked out once: every Gather of the step sends them)."""
        languages = dict.fromkeys(language for o in self.options for language in o.hints)
        return MappingProxyType(
            {
                language: ", ".join(p for o in self.options for p in o.hints.get(language, ()))
                for language in languages
            }
        )

    def option_for_key(self, key: str) -> Option | None:
        """The option chosen by ``key``, if any."""
        for option in self.options:
            if option.key == key:
                return option
        return None


@dataclass(frozen=True)
class Language:
    """How prompts in one language are spoken and recognised."""

    code: str
    say_language: str
    voice: str | None
    prompts: Mapping[str, str]
    topics: Mapping[str, str]


@dataclass(frozen=True)
class Flow:
    """A validated flow: its steps, where it starts, and the prompts of each language."""

    name: str
    path: Path
    start: str
    steps: Mapping[str, Step]
    languages: Mapping[str, Language] = field(default_factory=dict)

    def step(self, name: str) -> Step:
        """The step called ``name`` (KeyError for an unknown one)."""
        return self.steps[name]

    def prompt(self, language: str, name: str, **values: str) -> str:
        """Prompt ``name`` in ``language`` with its placeholders filled in."""
        return self.template(language, name).format_map(_Defaulting(values))

    def template(self, language: str, name: str) -> str:
        """Prompt ``name`` in ``language`` as written, placeholders and all."""
        lang = self.languages.get(language) or next(iter(self.languages.values()))
        return lang.prompts[name]

    def edges(self) -> list[tuple[str, str, str]]:
        """Every (from step, label, to step) of the graph: options and outcome links.

        A step's outcome links to one same step are one edge (``matched/unmatched``): the call
        goes the same way either way, and nothing after tells them apart.
        """
        out = [(s.name, f"key {o.key}", o.next) for s in self.steps.values() for o in s.options]
        for s in self.steps.values():
            out += [(s.name, link_label(s, to), to) for to in dict.fromkeys(s.links.values())]
        return out

    def reachable(self) -> set[str]:
        """Steps reachable from the start."""
        seen, todo = set(), [self.start]
        successors: dict[str, list[str]] = {}
        for src, _label, dst in self.edges():
            successors.setdefault(src, []).append(dst)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(successors.get(name, []))
        return seen


def link_label(step: Step, to: str) -> str:
    """The label of ``step``'s outcome links that lead to ``to`` (``matched/unmatched``)."""
    return "/".join(link for link, target in step.links.items() if target == to)


class _Defaulting(dict[str, str]):
    """Leaves an unfilled placeholder empty rather than failing mid-call."""

    def __missing__(self, key: str) -> str:
        return ""
