"""Show a replay's flow coverage: a table per flow in the terminal, or plain data for ``--json``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from hotline.sim.hotline_aware.flow_trace import Edge
from hotline.sim.hotline_aware.trails import DECISION_LIMIT

if TYPE_CHECKING:
    from hotline.sim.hotline_aware.coverage import Coverage, FlowCoverage


def coverage_json(coverage: Coverage) -> dict[str, Any]:
    """The coverage as plain data, for ``--json``."""
    return {
        "summary": coverage.totals(),
        "flows": [_flow_json(entry) for entry in coverage.flows.values()],
        "unread": [{"call": name, "reason": why} for name, why in coverage.unread],
    }


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
