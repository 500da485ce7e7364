"""Run call scripts against an app: find them, then play them one after another or in parallel.

Playing one call and judging it is ``outcomes.py``; reaching the app is ``connection.py``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from hotline.sim.engine.clock import AppTime, wall_clock
from hotline.sim.model import ScriptError
from hotline.sim.run.connection import Connection, Target
from hotline.sim.run.outcomes import CallOutcome, RunSummary, play_call, run_call
from hotline.sim.run.workers import CallWorkers
from hotline.sim.scripts.model import CallScript
from hotline.sim.scripts.reader import load_script

# What the benchmark and the tests import from the runner, wherever it is defined.
__all__ = [
    "CallOutcome",
    "CallWorkers",
    "Connection",
    "RunSummary",
    "Target",
    "find_scripts",
    "load_scripts",
    "play_call",
    "run_call",
    "run_calls",
    "wall_clock",
]


def find_scripts(paths: Sequence[Path]) -> list[Path]:
    """The script files named, and the ``*.toml`` scripts under the folders named (sorted).

    Inside folders, TOML files with no ``[call]``/``[[calls]]`` (an app's config.toml next to the
    scripts) are not scripts and are left out; a file named explicitly is always a script.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*.toml")) if _looks_like_script(p))
        elif path.is_file():
            found.append(path)
        else:
            raise ScriptError(f"{path.absolute()}: no such file or folder")
    return list(dict.fromkeys(found))


def load_scripts(paths: Sequence[Path]) -> list[CallScript]:
    """Every call of every script under ``paths``; the first malformed one raises ScriptError."""
    calls: list[CallScript] = []
    for path in find_scripts(paths):
        calls.extend(load_script(path))
    return calls


def run_calls(
    scripts: Sequence[CallScript],
    target: Target,
    jobs: int = 1,
    on_done: Callable[[CallOutcome], None] | None = None,
    *,
    trails: bool = False,
    workers: CallWorkers | None = None,
) -> RunSummary:
    """Run ``scripts`` (in ``jobs`` processes when more than one); outcomes keep script order.

    ``trails``: each outcome carries hotline's record of its call (``CallOutcome.trail``).
    ``workers``: processes already started for this run (see ``CallWorkers``), else ``jobs``
    processes are started here.
    """
    outcomes: list[CallOutcome | None] = [None] * len(scripts)
    for index, outcome in _outcomes(scripts, target, jobs, trails, workers):
        outcomes[index] = outcome
        if on_done is not None:
            on_done(outcome)
    return RunSummary([outcome for outcome in outcomes if outcome is not None])


def _outcomes(
    scripts: Sequence[CallScript],
    target: Target,
    jobs: int,
    trails: bool,
    workers: CallWorkers | None,
) -> Iterator[tuple[int, CallOutcome]]:
    if workers is not None:
        yield from workers.play(scripts)
        return
    if jobs <= 1 or len(scripts) <= 1:
        # One freeze of the app's clock for the whole run (each call moves it to its own time):
        # starting freezegun scans every module, ~10 ms, more than a short call takes.
        app_time = AppTime()
        try:
            for index, script in enumerate(scripts):
                yield index, run_call(script, target, trail=trails, app_time=app_time)
        finally:
            app_time.stop()
        return
    with CallWorkers(target, jobs, trails=trails, scripts=scripts) as workers:
        yield from workers.play(scripts)


def _looks_like_script(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return True  # broken TOML in the scripts folder: load it, so its error is shown
    return "call" in data or "calls" in data
