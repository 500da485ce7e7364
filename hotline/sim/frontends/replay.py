"""``hotline replay`` and ``hotline call``: replay call scripts, or phone the app by hand.

``call`` and its terminal phone live in ``phone.py``; the options both share in
``command_options.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hotline.sim.engine.clock import wall_clock
from hotline.sim.frontends.options import Unusable, target_options
from hotline.sim.frontends.phone import call
from hotline.sim.model import CoverageUnavailable, ScriptError, WorkerFailed
from hotline.sim.report.console import print_outcome, print_summary
from hotline.sim.report.files import write_json, write_junit
from hotline.sim.run import rest_wiring
from hotline.sim.run.connection import Target
from hotline.sim.run.outcomes import CallOutcome
from hotline.sim.run.runner import CallWorkers, load_scripts, run_calls
from hotline.sim.scripts.model import CallScript

if TYPE_CHECKING:
    from hotline.sim.hotline_aware.coverage import Coverage

__all__ = ["call", "replay"]  # hotline.cli registers both from here

DEFAULT_SCRIPTS = Path("tests/calls")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@target_options
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, help="Calls run at once.")
@click.option("-k", "match", metavar="TEXT", help="Only calls whose name or file contains TEXT.")
@click.option("-v", "--verbose", is_flag=True, help="Show every call's transcript.")
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False), help="Write JUnit XML.")
@click.option(
    "--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), help="Write JSON."
)
@click.option(
    "--coverage",
    "show_coverage",
    is_flag=True,
    help="Show which steps and branches of hotline's flow the calls reached (not with --app).",
)
def replay(
    paths: tuple[Path, ...],
    target: Target,
    jobs: int,
    match: str | None,
    verbose: bool,
    junit: Path | None,
    json_path: Path | None,
    show_coverage: bool,
) -> None:
    """Replay call scripts (files, or folders of *.toml; default tests/calls) against the app."""
    try:
        target.check()
        scripts = load_scripts(list(paths) or [DEFAULT_SCRIPTS])
    except ScriptError as exc:
        raise Unusable(str(exc)) from exc
    if match:
        scripts = [s for s in scripts if match.casefold() in s.id.casefold()]
    if not scripts:
        raise Unusable(
            f"no call scripts found in {', '.join(map(str, paths or [DEFAULT_SCRIPTS]))}"
        )
    coverage = _coverage_of(target, scripts) if show_coverage else None
    console = Console(highlight=False)
    if target.rest_port is not None:
        rest = rest_wiring.on_port(target.rest_port)
        console.print(f"Twilio's REST API stood in for at {rest.url} (the app's TWILIO_API_URL)")
    progress = Progress(
        TextColumn("[bold]replaying[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[tally]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        get_time=wall_clock,  # the app's clock is frozen while calls run in this process
    )
    counts = {"passed": 0, "failed": 0, "skipped": 0}

    def done(outcome: CallOutcome) -> None:
        verdict = "passed" if outcome.passed else "skipped" if outcome.skipped else "failed"
        counts[verdict] += 1
        print_outcome(progress.console, outcome, transcript=verbose)
        tally = f"[green]{counts['passed']} passed[/green], [red]{counts['failed']} failed[/red]"
        if counts["skipped"]:
            tally += f", [yellow]{counts['skipped']} skipped[/yellow]"
        progress.update(task, advance=1, tally=tally)

    trails = coverage is not None
    # Worker processes start before the progress display starts its thread, so they can be
    # forked from this process (a fork while another thread runs could copy a held lock).
    workers = (
        CallWorkers(target, jobs, trails=trails, scripts=scripts)
        if jobs > 1 and len(scripts) > 1
        else None
    )
    try:
        with workers or nullcontext(), progress:
            task = progress.add_task("calls", total=len(scripts), tally="")
            summary = run_calls(scripts, target, jobs, done, trails=trails, workers=workers)
    except WorkerFailed as exc:  # the run cannot be completed: say why, not where
        raise click.ClickException(f"the replay stopped: {exc}") from exc
    if coverage is not None:
        for outcome in summary.outcomes:
            if not outcome.skipped:  # a call never placed reached nothing, for a known reason
                coverage.add(outcome.script.name, outcome.trail)
                for leg in outcome.leg_trails:  # a party, a callback the app placed
                    coverage.add(outcome.script.name, leg)
        from hotline.sim.report.coverage import print_coverage

        console.print()
        print_coverage(console, coverage)
    if junit is not None:
        write_junit(junit, summary)
    if json_path is not None:
        from hotline.sim.report.coverage import coverage_json

        write_json(json_path, summary, coverage_json(coverage) if coverage is not None else None)
    print_summary(console, summary)
    if summary.failed:
        raise SystemExit(1)


def _coverage_of(target: Target, scripts: Sequence[CallScript]) -> Coverage:
    """An empty coverage of the flows the calls run on; a flow that cannot load stops here."""
    if target.app:
        raise click.UsageError("--coverage reads hotline's flows: it cannot be used with --app")
    # Imported here: only coverage needs hotline's own flow and config modules.
    from hotline.sim.hotline_aware.coverage import coverage_of

    try:
        return coverage_of(target.config_for(script) for script in scripts)
    except CoverageUnavailable as exc:
        raise Unusable(f"--coverage: {exc}") from exc
