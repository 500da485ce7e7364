"""Flow coverage of a replay: which steps and branches of hotline's flows the calls reached.

The engine drives any Twilio app and knows nothing of flows; coverage is about hotline's own, so
this module reads ``flows/*.toml`` (``hotline.ivr.flow_file``) and the app's own record of each
call (``trails.py``), followed through the flow by ``flow_trace.py``;
``hotline.sim.report.coverage`` shows it.

A step is *reached* when the app entered it; a *branch* (an edge of ``Flow.edges()``: a menu key,
or an outcome link such as ``yes``, ``matched``, ``on_failure``, ``on_exhausted``) is *taken* when
the app went along it. The app stores at most 200 characters of a trail (a long spoken answer can
fill them); such webhooks are counted as ``cut`` and shown as a warning.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from hotline.config.settings import load_settings
from hotline.errors import HotlineError
from hotline.ivr.flow import Flow
from hotline.ivr.flow_file import load_flow
from hotline.sim.hotline_aware.flow_trace import CallPath, Edge, FlowRules, trace
from hotline.sim.hotline_aware.trails import DECISION_LIMIT, AppEvent, CallTrail, fetch_trail
from hotline.sim.model import CoverageUnavailable

# What other modules and the tests import from here, wherever it is defined.
__all__ = [
    "DECISION_LIMIT",
    "AppEvent",
    "CallTrail",
    "Coverage",
    "Edge",
    "FlowCoverage",
    "collect",
    "fetch_trail",
]


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
        # One flow file reached through two configs ("flows", "../../flows") is one flow.
        path = flow.path.resolve()
        if path not in self.flows:
            self.flows[path] = FlowCoverage(dataclasses.replace(flow, path=path))
        return self.flows[path]

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


def coverage_of(configs: Iterable[Path]) -> Coverage:
    """An empty coverage listing the flows these configs run on.

    Raises ``CoverageUnavailable`` when a config or its flow cannot be loaded.
    """
    coverage = Coverage()
    for config in dict.fromkeys(configs):
        try:
            coverage.include(config)
        except HotlineError as exc:
            raise CoverageUnavailable(str(exc)) from exc
    return coverage


def collect(calls: Iterable[tuple[str, CallTrail | None]]) -> Coverage:
    """Add up the coverage of replayed calls, given as (name, trail), from any worker process."""
    coverage = Coverage()
    for name, trail in calls:
        coverage.add(name, trail)
    return coverage


@lru_cache(maxsize=8)
def _flow_of(config: Path) -> tuple[Flow, FlowRules]:
    settings = load_settings(config)
    rules = FlowRules(settings.max_tries, settings.min_speech_confidence)
    return load_flow(settings.flows_dir, settings.flow), rules
