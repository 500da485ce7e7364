"""Follow one call's event trail through its flow: the steps the app entered, the branches taken.

The trail is exact where webhook URLs are not: branches, order look-ups and the goodbye are
entered inside a turn and never have a URL of their own. Which branch led on from a step is told
from why the turn left it: the caller's answer, a dial result, or just passing through.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from hotline.ivr.flow import Flow, Option, Step, link_label
from hotline.ivr.speech import normalise_speech
from hotline.sim.hotline_aware.trails import DECISION_LIMIT, AppEvent

_SEPARATOR = " > "
_MARKER = re.compile(r"(?P<step>[^<>]+)<(?P<detail>.*)>")
_INPUT = re.compile(
    r"(?:digits=(?P<digits>[0-9*#]*))?\s*(?:speech=(?P<speech>.+) \((?P<confidence>[0-9.]+)\))?"
)


class Edge(NamedTuple):
    """One branch of a flow: from a step, by a label (``key 1``, ``yes``, ...), to a step."""

    src: str
    label: str
    dst: str


@dataclass(frozen=True)
class CallPath:
    """Where one call went in its flow: the steps entered and the branches taken."""

    steps: frozenset[str]
    edges: frozenset[Edge]
    cut: int = 0  # webhooks whose trail the app cut short


@dataclass(frozen=True)
class FlowRules:
    """What the app's choices depend on besides the flow: retries and the speech threshold."""

    max_tries: int
    min_confidence: float


@dataclass(frozen=True)
class _Trigger:
    """Why the turn left the current step: an answer to it, a dial result, or passing through."""

    kind: str  # "answer", "dialled" or "pass"
    digits: str = ""
    speech: str = ""
    confidence: float = 0.0


_PASS = _Trigger("pass")


def trace(flow: Flow, events: Sequence[AppEvent], language: str, rules: FlowRules) -> CallPath:
    """Follow one call's event log through ``flow``: the steps it entered, the branches taken."""
    steps: set[str] = set()
    edges: set[Edge] = set()
    cut = 0
    current: str | None = None
    attempt = 1
    for event in events:
        tokens, trigger, answered = _read_event(event, flow)
        if answered is not None:
            steps.add(answered)  # its Gather was answered: the app had entered it
            if answered != current:
                current, attempt = answered, 1
        if event.step == "whisper/answer" and event.decision == "seller accepted":
            # The seller took the call in the whisper: a branch of the dial step's options.
            if current is not None:
                option = _chosen(flow.steps[current], _trigger(event.input), language, rules)
                if option is not None:
                    edges.add(Edge(current, f"key {option.key}", option.next))
            continue
        if event.step == "callback/answer":
            # The buyer answered the hotline's callback: the call goes on from the offer's
            # ``answered`` link, though the offer was made in the earlier call that asked.
            current = next(
                (s.name for s in flow.steps.values() if s.kind == "callback_offer"), None
            )
            attempt = 1
        was_cut = len(event.decision) >= DECISION_LIMIT
        if was_cut:
            cut += 1
            tokens = tokens[:-1]  # the last one may be a step name cut in half
        for token in tokens:
            # An entered step is its name, or name#N when entered again for the N-th attempt.
            name, _, again = token.partition("#")
            if name not in flow.steps or (again and not again.isdigit()):
                continue
            steps.add(name)
            if current is not None:
                edge = _edge(flow, current, trigger, name, attempt, language, rules)
                if edge is not None:
                    edges.add(edge)
            current, attempt, trigger = name, int(again or 1), _PASS
        if was_cut:
            current = None  # where the turn ended is lost with the end of its trail
    return CallPath(frozenset(steps), frozenset(edges), cut)


def _read_event(event: AppEvent, flow: Flow) -> tuple[list[str], _Trigger, str | None]:
    """The trail's tokens after its marker, why the turn moved on, and the step answered."""
    decision, label = event.decision, event.step
    if label in flow.steps:
        marker = f"{label}<{event.input}>"
        # The marker holds the caller's words verbatim, which may contain " > " themselves.
        rest = decision[len(marker) :] if decision.startswith(marker) else ""
        return _split(rest.removeprefix(_SEPARATOR)), _trigger(event.input), label
    tokens = _split(decision)
    if tokens and (marker_match := _MARKER.fullmatch(tokens[0])):
        step = marker_match["step"]
        trigger = _Trigger("dialled") if label.endswith("/dialled") else _PASS
        return tokens[1:], trigger, step if step in flow.steps else None
    return tokens, _PASS, None


def _split(trail: str) -> list[str]:
    return [token for token in trail.split(_SEPARATOR) if token]


def _trigger(described: str | None) -> _Trigger:
    """Parse the app's description of an input: ``digits=1``, ``speech='...' (0.92)``."""
    match = _INPUT.fullmatch(described or "")
    if match is None:
        return _Trigger("answer")
    speech = ""
    if match["speech"]:
        try:
            speech = str(ast.literal_eval(match["speech"]))
        except (ValueError, SyntaxError):
            speech = match["speech"]
    return _Trigger("answer", match["digits"] or "", speech, float(match["confidence"] or 0.0))


def _edge(
    flow: Flow,
    src: str,
    trigger: _Trigger,
    dst: str,
    attempt: int,
    language: str,
    rules: FlowRules,
) -> Edge | None:
    """The branch from ``src`` that led to ``dst``; ``None`` for a retry or a repeat."""
    step = flow.steps[src]
    exhausted = trigger.kind == "answer" and attempt >= (step.tries or rules.max_tries)
    if trigger.kind == "answer" and step.options:
        option = _chosen(step, trigger, language, rules)
        if option is not None and option.next == dst:
            return Edge(src, f"key {option.key}", dst)
        if option is None and exhausted and step.links.get("on_exhausted") == dst:
            return Edge(src, "on_exhausted", dst)
        return None
    if trigger.kind == "dialled":
        labels: Iterable[str] = ("on_success", "on_failure")
    else:
        labels = [label for label in step.links if label != "on_exhausted" or exhausted]
    for label in labels:
        if step.links.get(label) == dst:
            return Edge(src, link_label(step, dst), dst)
    return None


def _chosen(step: Step, trigger: _Trigger, language: str, rules: FlowRules) -> Option | None:
    """The option the app picked for this input (as ``steps.Turn.choose`` does)."""
    if trigger.digits:
        if step.repeat_key and trigger.digits == step.repeat_key:
            return None
        return step.option_for_key(trigger.digits[:1])
    if trigger.speech and trigger.confidence >= rules.min_confidence:
        heard = f" {normalise_speech(trigger.speech)} "
        for option in step.options:
            phrases = option.phrases.get(language) or ()
            if any(f" {phrase} " in heard for phrase in phrases):
                return option
    return None
