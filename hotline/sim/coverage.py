"""Flow coverage of a replay: which steps and branches of hotline's flows the calls reached.

The engine drives any Twilio app and knows nothing of flows; coverage is about hotline's own, so
this module reads ``flows/*.toml`` (``hotline.flows``) and the app's own record of each call.

Where the facts come from: after each call the runner reads ``GET /api/calls/<CallSid>``, whose
``events`` are the app's log of every webhook: the step it answered (``step``), what the caller
gave (``input``) and the steps the turn entered, in order (``decision``, e.g.
``main_menu<digits=1> > find_order > confirm_order``). That trail is exact where webhook URLs are
not: branches, order look-ups and the goodbye are entered inside a turn and never have a URL of
their own. A step is *reached* when the app entered it; a *branch* (an edge of ``Flow.edges()``:
a menu key, or an outcome link such as ``yes``, ``matched``, ``on_failure``, ``on_exhausted``) is
*taken* when the app went along it. The app stores at most 200 characters of a trail (a long
spoken answer can fill them); such webhooks are counted as ``cut`` and shown as a warning.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urljoin

from rich.console import Console
from rich.table import Table
from rich.text import Text

from hotline.config import load_settings
from hotline.flows import Flow, Option, Step, load_flow, normalise_speech

if TYPE_CHECKING:
    from hotline.sim.runner import CallOutcome, Connection

DECISION_LIMIT = 200  # the app's call_events.decision column keeps this many characters
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
class AppEvent:
    """One row of the app's log of a call: the webhook's step, the caller's input, the trail."""

    step: str
    input: str | None
    decision: str


@dataclass(frozen=True)
class CallTrail:
    """What the app recorded of one call (plain data, so worker processes can send it back).

    ``config`` is the hotline config the call ran on (it names the flow); ``problem`` says why
    the record could not be read, when it could not.
    """

    config: Path
    language: str = ""
    events: tuple[AppEvent, ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class CallPath:
    """Where one call went in its flow: the steps entered and the branches taken."""

    steps: frozenset[str]
    edges: frozenset[Edge]
    cut: int = 0  # webhooks whose trail the app cut short


def fetch_trail(connection: Connection, call_sid: str, config: Path) -> CallTrail:
    """Read the app's record of call ``call_sid`` through its API (``/api/calls/<sid>``)."""
    if connection.api_token is None:
        return CallTrail(config, problem="reading the app's call log needs HOTLINE_API_TOKEN")
    url = urljoin(connection.base_url, f"/api/calls/{call_sid}")
    headers = {"Authorization": f"Bearer {connection.api_token}"}
    response = connection.transport.request("GET", url, {}, headers)
    if response.status == 404:
        return CallTrail(config)  # the app never recorded the call: it reached no step
    try:
        if response.status != 200:
            raise ValueError(f"answered {response.status}")
        body = _json_object(response.body)
        events = tuple(
            AppEvent(str(e["step"]), None if e["input"] is None else str(e["input"]), e["decision"])
            for e in body["events"]
        )
        return CallTrail(config, str(body.get("language") or ""), events)
    except (ValueError, KeyError, TypeError) as exc:
        return CallTrail(config, problem=f"GET /api/calls/{call_sid}: {exc}")


def _json_object(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


@dataclass(frozen=True)
class _Rules:
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


def trace(flow: Flow, events: Sequence[AppEvent], language: str, rules: _Rules) -> CallPath:
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
    rules: _Rules,
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
            return Edge(src, label, dst)
    return None


def _chosen(step: Step, trigger: _Trigger, language: str, rules: _Rules) -> Option | None:
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


@dataclass
class FlowCoverage:
    """How often the calls reached each step of one flow and took each of its branches."""

    flow: Flow
    calls: int = 0
    step_calls: Counter[str] = field(default_factory=Counter)
    edge_calls: Counter[Edge] = field(default_factory=Counter)
    cut: int = 0

    def add(self, path: CallPath) -> None:
        """Count one call's path."""
        self.calls += 1
        self.step_calls.update(path.steps)
        self.edge_calls.update(path.edges)
        self.cut += path.cut

    @property
    def edges(self) -> list[Edge]:
        """Every branch of the flow, in file order."""
        return [Edge(*edge) for edge in self.flow.edges()]

    def reached(self) -> int:
        """How many steps at least one call entered."""
        return sum(1 for name in self.flow.steps if self.step_calls[name])

    def taken(self) -> int:
        """How many branches at least one call took."""
        return sum(1 for edge in self.edges if self.edge_calls[edge])


@dataclass
class Coverage:
    """The coverage of a replay: per flow file, plus the calls whose record could not be read."""

    flows: dict[Path, FlowCoverage] = field(default_factory=dict)
    unread: list[tuple[str, str]] = field(default_factory=list)  # (call, why)

    def add(self, name: str, trail: CallTrail | None) -> None:
        """Count one call from what the app recorded of it."""
        if trail is None:
            self.unread.append((name, "the call was not placed"))
            return
        if trail.problem:
            self.unread.append((name, trail.problem))
            return
        flow, rules = _flow_of(trail.config.resolve())
        entry = self.include(trail.config)
        entry.add(trace(flow, trail.events, trail.language, rules))

    def include(self, config: Path) -> FlowCoverage:
        """The coverage of the flow ``config`` names (listed even if no call reaches it).

        Raises ``HotlineError`` (``ConfigError``, ``FlowError``) when it cannot be loaded.
        """
        flow, _rules = _flow_of(config.resolve())
        return self.flows.setdefault(flow.path, FlowCoverage(flow))

    def totals(self) -> dict[str, int]:
        """Steps reached and branches taken, out of how many, over every flow."""
        entries = self.flows.values()
        return {
            "steps_reached": sum(entry.reached() for entry in entries),
            "steps": sum(len(entry.flow.steps) for entry in entries),
            "branches_taken": sum(entry.taken() for entry in entries),
            "branches": sum(len(entry.edges) for entry in entries),
        }

    def line(self) -> str:
        """``coverage: X/Y steps, A/B branches`` over every flow."""
        t = self.totals()
        return (
            f"coverage: {t['steps_reached']}/{t['steps']} steps,"
            f" {t['branches_taken']}/{t['branches']} branches"
        )

    def as_json(self) -> dict[str, Any]:
        """The coverage as plain data, for ``--json``."""
        return {
            "summary": self.totals(),
            "flows": [_flow_json(entry) for entry in self.flows.values()],
            "unread": [{"call": name, "reason": why} for name, why in self.unread],
        }


def collect(outcomes: Iterable[CallOutcome]) -> Coverage:
    """Add up the coverage of replayed calls (from any number of worker processes)."""
    coverage = Coverage()
    for outcome in outcomes:
        coverage.add(outcome.script.name, outcome.trail)
    return coverage


@lru_cache(maxsize=8)
def _flow_of(config: Path) -> tuple[Flow, _Rules]:
    settings = load_settings(config)
    rules = _Rules(settings.max_tries, settings.min_speech_confidence)
    return load_flow(settings.flows_dir, settings.flow), rules


def _flow_json(entry: FlowCoverage) -> dict[str, Any]:
    return {
        "flow": entry.flow.name,
        "path": str(entry.flow.path),
        "calls": entry.calls,
        "steps": {"reached": entry.reached(), "total": len(entry.flow.steps)},
        "branches": {"taken": entry.taken(), "total": len(entry.edges)},
        "cut_webhooks": entry.cut,
        "step_list": [
            {"name": name, "kind": step.kind, "calls": entry.step_calls[name]}
            for name, step in entry.flow.steps.items()
        ],
        "branch_list": [
            {"from": e.src, "label": e.label, "to": e.dst, "calls": entry.edge_calls[e]}
            for e in entry.edges
        ],
    }


def print_coverage(console: Console, coverage: Coverage) -> None:
    """Print a table per flow (each step, how many calls reached it, branches never taken)."""
    for entry in coverage.flows.values():
        table = Table(
            title=f"flow {entry.flow.name} ({entry.flow.path}): {entry.calls} calls",
            title_justify="left",
        )
        table.add_column("step")
        table.add_column("kind", style="dim")
        table.add_column("calls", justify="right")
        table.add_column("branches never taken")
        missed: dict[str, list[Edge]] = {}
        for edge in entry.edges:
            if not entry.edge_calls[edge]:
                missed.setdefault(edge.src, []).append(edge)
        for name, step in entry.flow.steps.items():
            calls = entry.step_calls[name]
            reached = Text(str(calls), "green") if calls else Text("never", "bold red")
            never = ", ".join(f"{e.label} → {e.dst}" for e in missed.get(name, []))
            table.add_row(
                Text(name, "" if calls else "red"), step.kind, reached, Text(never, "red")
            )
        console.print(table)
        if entry.cut:
            console.print(
                f"[yellow]note:[/yellow] the app cut the trail of {entry.cut} webhooks at"
                f" {DECISION_LIMIT} characters (long speech): steps entered after a cut are not"
                " counted",
                highlight=False,
            )
    for name, why in coverage.unread:
        console.print(f"[yellow]not counted:[/yellow] {name}: {why}", highlight=False)
    complete = all(
        entry.reached() == len(entry.flow.steps) and entry.taken() == len(entry.edges)
        for entry in coverage.flows.values()
    )
    console.print(Text(coverage.line(), style="bold green" if complete else "bold yellow"))
