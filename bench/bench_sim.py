"""Simulator overhead: replaying call scripts in-process against a raw loop of the same requests.

``make bench-sim`` replays the scripts of ``tests/calls`` in this process as ``hotline replay``
does (one process, no ``-j``: engine, virtual clock, script checks and all) and, in the same run,
posts the very requests those replays made (recorded once through a recording ``Transport``:
method, URL, params, headers) in a bare loop through Flask's test client to the same app built
the same way, with the store reset between calls as the replay resets it. Rounds alternate
(replay, raw, replay, raw, ...) and the best of each is compared, to keep the noise of a shared
machine out of the ratio. The raw loop runs on the real clock: the app may decide some things
differently there (opening hours), which the report counts as "answers that differ".

Goal: ``ratio`` (replay webhooks/s over raw webhooks/s) of at least 0.7. ``--profile`` prints
where a replay round spends its time (cProfile).

Then it compares ``-j 1`` with ``-j 2`` (``--jobs``) in rounds of their own (``--parallel-rounds``),
over every script of the folder (sessions included, as ``hotline replay tests/calls -j 2`` plays
them), then over the lone calls alone: each round replays the scripts as ``hotline replay`` does
without and with ``-j`` (workers started for the run, each building its app), back to back, and
measures before and after how many CPUs two busy processes get on this machine (what its other
users leave: when a neighbour keeps a core busy, two processes get little more than one, and no
``-j`` can beat that). It prints calls/s of both, the median of per-round ratios, and the same
over the rounds in which the machine was free (at least 1.8 of 2 CPUs before and after). Goal,
over every script: ``-j 2`` at least 1.6 times ``-j 1``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import logging
import os
import pstats
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hotline.sim.engine.clock import AppTime
from hotline.sim.engine.transport import Transport, WebhookResponse
from hotline.sim.hotline_aware.target import HotlineTarget, build_hotline_app
from hotline.sim.run.runner import (
    Connection,
    Target,
    load_scripts,
    play_call,
    run_calls,
    wall_clock,
)
from hotline.sim.scripts.model import CallScript

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "tests" / "calls"
GOAL = 0.7
PARALLEL_GOAL = 1.6
CAPACITY_SECONDS = 0.3  # how long cpu_capacity keeps its processes busy
FREE = 0.9  # a round counts as "machine free" when N busy processes got 0.9 N CPUs or more


@dataclass(frozen=True)
class Recorded:
    """One request the engine sent during a replay, and the answer it got."""

    method: str
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    status: int
    body: bytes
    at: datetime  # the app's time when it was sent (virtual: the replay froze it)

    @property
    def is_webhook(self) -> bool:
        """A request Twilio would send (not a script's ``[[expect.api]]`` check)."""
        return "/api/" not in self.url


class RecordingTransport:
    """A ``Transport`` that passes every request on and keeps a copy of it and its answer."""

    def __init__(self, inner: Transport, log: list[Recorded]) -> None:
        self.inner = inner
        self.log = log
        self.shares_clock = inner.shares_clock

    def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes | None = None,
    ) -> WebhookResponse:
        """Send the request through the wrapped transport and record it.

        A request with a ``body`` (a script's JSON request to the app's API) is not a webhook:
        the raw loop leaves it out, as it does every ``/api/`` request.
        """
        response = self.inner.request(method, url, params, headers, body=body)
        self.log.append(
            Recorded(
                method,
                url,
                dict(params),
                dict(headers),
                response.status,
                response.body,
                datetime.now(UTC),
            )
        )
        return response

    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        """GET JSON through the wrapped transport (recorded like any request)."""
        response = self.request("GET", url, {}, headers or {})
        return json.loads(response.body)

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


@dataclass(frozen=True)
class RecordedCall:
    """The requests of one scripted call, and the config its app was built from."""

    config: Path
    requests: tuple[Recorded, ...]


def record(scripts: Sequence[CallScript], target: Target, app_time: AppTime) -> list[RecordedCall]:
    """Replay each call once through a recording transport (not timed)."""
    calls: list[RecordedCall] = []
    for script in scripts:
        connection = target.connect(script)
        log: list[Recorded] = []
        recording = Connection(
            RecordingTransport(connection.transport, log),
            connection.auth_token,
            connection.api_token,
            connection.base_url,
        )
        outcome = play_call(script, recording, target.voice_path, app_time=app_time)
        if not outcome.passed:
            print(f"warning: {script.name} did not pass: {outcome.failure}", file=sys.stderr)
        calls.append(RecordedCall(target.config_for(script).resolve(), tuple(log)))
    return calls


def _started(_: int) -> None:
    """Nothing: a pool's processes answer it once they run."""


def _busy_share(window: tuple[float, float]) -> float:
    """Keep this process busy from ``start`` to ``end`` (``wall_clock``); the CPU share it got.

    The share is CPU seconds over wall seconds, so a process that had to wait for a CPU (the
    machine's other users) counts for less than one.
    """
    start, end = window
    while wall_clock() < start:
        pass
    cpu, wall = time.process_time(), wall_clock()
    total = 0
    while wall_clock() < end:
        for number in range(1000):
            total += number * number
    return (time.process_time() - cpu) / (wall_clock() - wall)


def cpu_capacity(jobs: int, seconds: float = CAPACITY_SECONDS) -> float:
    """How many CPUs ``jobs`` busy processes get here now (at most ``jobs``).

    ``jobs`` processes stay busy over the same ``seconds`` of wall time and each says how much
    CPU time it got: on a machine whose other users keep a core busy, two processes get little
    more than one, and no -j can do better than that. (Timing a fixed ~30 ms of work instead,
    alone and then together, read anything from 1.2 to 2.1 "CPUs" on a free 2-core machine: too
    short to see the scheduler share a core, and noisy at both ends.) The pool is gone when this
    returns: its thread would keep the replay's workers from being forked.
    """
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_started, range(jobs)))  # every process runs (forked ones start at once)
        start = wall_clock() + 0.02
        shares = list(pool.map(_busy_share, [(start, start + seconds)] * jobs))
    return sum(shares)


def replay_round(scripts: Sequence[CallScript], target: Target, jobs: int = 1) -> tuple[float, int]:
    """Replay every call as ``hotline replay -j JOBS`` does; seconds taken and webhooks posted."""
    gc.collect()
    started = wall_clock()
    summary = run_calls(scripts, target, jobs=jobs)
    seconds = wall_clock() - started
    if summary.failed:
        print(f"warning: {summary.failed} calls failed with -j {jobs}", file=sys.stderr)
    webhooks = sum(o.result.webhooks for o in summary.outcomes if o.result is not None)
    return seconds, webhooks


def raw_round(
    calls: Sequence[RecordedCall], apps: Mapping[Path, HotlineTarget], app_time: AppTime | None
) -> tuple[float, int, int]:
    """Post the recorded webhooks through Flask's test client; seconds, webhooks, differing.

    With ``app_time`` (active), the app sees each request's recorded virtual time.
    """
    clients = {config: app.app.test_client(use_cookies=False) for config, app in apps.items()}
    # The app's log lines of the scripts that try faults (a fallback, a CallSid never started)
    # are the replay's to check; here nothing reads them, and Python would print each to stderr.
    quiet = logging.NullHandler()
    logging.getLogger().addHandler(quiet)
    try:
        return _post_all(calls, apps, clients, app_time)
    finally:
        logging.getLogger().removeHandler(quiet)


def _post_all(
    calls: Sequence[RecordedCall],
    apps: Mapping[Path, HotlineTarget],
    clients: Mapping[Path, Any],
    app_time: AppTime | None,
) -> tuple[float, int, int]:
    gc.collect()
    posted = differing = 0
    started = wall_clock()
    for call in calls:
        app, client = apps[call.config], clients[call.config]
        app.reset()  # as the replay's runner does before every call
        for request in call.requests:
            if not request.is_webhook:
                continue
            if app_time is not None:
                app_time.move_to(request.at)
            response = client.open(
                request.url,
                method=request.method,
                data=request.params if request.method == "POST" else None,
                headers=request.headers,
            )
            posted += 1
            if response.status_code != request.status or response.data != request.body:
                differing += 1
    return wall_clock() - started, posted, differing


def _scripts(folder: Path) -> tuple[list[CallScript], str]:
    found = load_scripts([folder]) if any(folder.rglob("*.toml")) else []
    if not found:
        raise SystemExit(f"bench-sim: no call scripts in {folder}")
    return found, str(folder.relative_to(ROOT))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print calls/s, webhooks/s, raw webhooks/s and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each (default 5)")
    parser.add_argument("--scripts", type=Path, default=SCRIPTS, help="folder of call scripts")
    parser.add_argument("--profile", action="store_true", help="profile one replay round")
    parser.add_argument("--jobs", type=int, default=2, help="the -j compared with -j 1 (default 2)")
    parser.add_argument(
        "--parallel-rounds",
        type=int,
        default=8,
        help="rounds of -j 1 against -j N (default 8; 0: none)",
    )
    parser.add_argument(
        "--frozen-raw",
        action="store_true",
        help="freeze the raw loop's clock at each request's virtual time (same answers as the"
        " replay; the clock's cost then counts on both sides)",
    )
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # scripts without `config` use ./config.toml, as `make` runs them
    scripts, source = _scripts(args.scripts.resolve())
    every_script = scripts  # what `hotline replay` plays, and so what -j is measured on
    # A script played as a session (parties, REST and API requests: the agents' scripts) has
    # calls the raw loop cannot replay as recorded (its API requests change what the webhooks
    # find): the comparison is of lone calls, the engine's path for every other script.
    sessions = [script for script in scripts if script.needs_session]
    scripts = [script for script in scripts if not script.needs_session]
    if sessions:
        print(f"{len(sessions)} session scripts left out (the raw loop cannot replay them)")
    target = Target()
    recording_time = AppTime()  # freeze as the replay does, so each request's time is virtual
    try:
        calls = record(scripts, target, recording_time)
    finally:
        recording_time.stop()
    apps = {config: build_hotline_app(config) for config in {call.config for call in calls}}
    webhooks_per_round = sum(1 for call in calls for r in call.requests if r.is_webhook)
    print(f"{len(scripts)} calls from {source}, {webhooks_per_round} webhooks a round")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        replay_round(scripts, target)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return 0

    replays: list[float] = []
    raws: list[float] = []
    differing = 0
    for round_ in range(args.rounds + 1):  # round 0 warms both paths up and is not counted
        seconds, webhooks = replay_round(scripts, target)
        if webhooks != webhooks_per_round:
            print(f"warning: a replay round posted {webhooks} webhooks, not {webhooks_per_round}")
        raw_time = AppTime() if args.frozen_raw else None
        if raw_time is not None:
            raw_time.start(calls[0].requests[0].at)
        try:
            raw_seconds, _posted, differing = raw_round(calls, apps, raw_time)
        finally:
            if raw_time is not None:
                raw_time.stop()
        if round_:
            replays.append(seconds)
            raws.append(raw_seconds)

    best_replay, best_raw = min(replays), min(raws)
    print(
        f"replay: {len(scripts) / best_replay:8.1f} calls/s  "
        f"{webhooks_per_round / best_replay:8.1f} webhooks/s  "
        f"(best of {args.rounds}; median {webhooks_per_round / statistics.median(replays):.1f})"
    )
    print(
        f"raw:    {'':8}          {webhooks_per_round / best_raw:8.1f} webhooks/s  "
        f"(best of {args.rounds}; median {webhooks_per_round / statistics.median(raws):.1f})"
    )
    if differing:
        print(
            f"        {differing} of {webhooks_per_round} raw answers differ from the replay's"
            " (the raw loop runs on the real clock; try --frozen-raw)"
        )
    ratio = best_raw / best_replay
    median_ratio = statistics.median(raws) / statistics.median(replays)
    verdict = "meets" if ratio >= GOAL else "misses"
    print(f"ratio:  {ratio:.2f} of the raw loop (median {median_ratio:.2f}; {verdict} {GOAL})")
    if args.parallel_rounds > 0:  # 0: the -j comparisons are left out
        print(
            f"-j {args.jobs} against -j 1 over every call of {source}, as"
            f" `hotline replay {source} -j {args.jobs}` plays them ({len(every_script)} calls):"
        )
        print_parallel(
            parallel_rounds(every_script, target, args.jobs, args.parallel_rounds), args.jobs
        )
        if len(scripts) < len(every_script):
            print(f"the same over the {len(scripts)} lone calls only (shorter rounds):")
            print_parallel(
                parallel_rounds(scripts, target, args.jobs, args.parallel_rounds), args.jobs
            )
    return 0


@dataclass(frozen=True)
class ParallelRound:
    """One round of -j 1 against -j N: calls/s of each, and the CPUs the machine gave."""

    alone: float
    parallel: float
    cpus: float  # the fewer of the two measures, before and after

    @property
    def ratio(self) -> float:
        """How many times -j N's calls/s is -j 1's."""
        return self.parallel / self.alone


def parallel_rounds(
    scripts: Sequence[CallScript], target: Target, jobs: int, rounds: int
) -> list[ParallelRound]:
    """Replay with -j 1 and -j ``jobs`` back to back, ``rounds`` times (after one to warm up)."""
    replay_round(scripts, target, jobs)
    measured = []
    for _ in range(rounds):
        before = cpu_capacity(jobs)
        alone, _ = replay_round(scripts, target)
        parallel, _ = replay_round(scripts, target, jobs)
        cpus = min(before, cpu_capacity(jobs))
        measured.append(ParallelRound(len(scripts) / alone, len(scripts) / parallel, cpus))
    return measured


def print_parallel(rounds: Sequence[ParallelRound], jobs: int) -> None:
    """Print calls/s of -j 1 and -j ``jobs``, their ratio, and it when the machine was free."""
    for name, rates in (
        (" 1", [r.alone for r in rounds]),
        (f"{jobs:2}", [r.parallel for r in rounds]),
    ):
        print(
            f"-j {name}:  {statistics.median(rates):8.1f} calls/s  (median of {len(rates)};"
            f" best {max(rates):.1f})"
        )
    free = [r for r in rounds if r.cpus >= FREE * jobs]
    verdict = "meets" if statistics.median(r.ratio for r in rounds) >= PARALLEL_GOAL else "misses"
    print(
        f"-j {jobs} / -j 1: {_spread([r.ratio for r in rounds])} (per-round ratios; {verdict}"
        f" {PARALLEL_GOAL}); the machine gave {jobs} busy processes"
        f" {_spread([r.cpus for r in rounds])} CPUs"
    )
    if free:
        verdict = "meets" if statistics.median(r.ratio for r in free) >= PARALLEL_GOAL else "misses"
        print(
            f"  in the {len(free)} rounds with the machine free (>= {FREE * jobs:.1f} CPUs):"
            f" {_spread([r.ratio for r in free])} ({verdict} {PARALLEL_GOAL})"
        )
    else:
        print(f"  no round had the machine free (>= {FREE * jobs:.1f} CPUs): other users are busy")


def _spread(values: Sequence[float]) -> str:
    """``median (min-max)`` of ``values``."""
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


if __name__ == "__main__":
    raise SystemExit(main())
