"""Playing calls in several processes for ``-j N``: this one and N - 1 workers.

The calls are handed out costliest first (``play_cost``: sessions, scheduled nights and long
scripts before short lone calls): the workers take chunks from the front of that order while
this process plays calls one at a time from its end, the cheapest. Nobody waits for the others
to start, whoever is faster does more, and the last calls played are short ones, so no long
call is left running on its own at the end.
A worker pays its start-up once, not once per call. On Linux, while nothing but the main thread
runs here (so no lock can be caught held), it is forked from this process after this one has
imported the app's code and made the migrated database every app copies, so it starts with
both; otherwise a fork server that has imported the simulator starts it (or it is spawned,
where neither exists). It builds its own app on first use (never the one this process holds:
that database is ours). The app's clock is frozen once per worker for its whole life, as a
single-process run does: a forked worker inherits this process's freeze, started just before the
fork (starting one scans every module, as long as a call takes); any other starts its own. It
removes what it made when it ends. Outcomes come back with their index, for order.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import multiprocessing.util
import os
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.context import BaseContext
from types import TracebackType
from typing import Any

from hotline.sim.engine.clock import AppTime
from hotline.sim.run.connection import Target, close_apps, forget_inherited_apps
from hotline.sim.run.outcomes import CallOutcome, run_call
from hotline.sim.scripts.model import CallScript

#: A chunk is this share of the calls left per process: big at first (cheap to hand out), small
#: at the end (nobody is left holding many calls while the others are done).
_SHARE = 4
#: Chunks a worker has in hand at once: the one it plays and the next, so it never waits.
_IN_HAND = 2

#: What a fork server imports once, before it starts workers (the simulator and hotline's app).
_PRELOAD = ["hotline.sim.run.workers", "hotline.sim.hotline_aware.target"]

Chunk = Sequence[tuple[int, CallScript]]
#: What a worker sends back for a call: its index, and its outcome (or, when this process holds
#: the script, the outcome's other fields: the script need not be pickled back).
Played = list[tuple[int, CallOutcome | dict[str, Any]]]


@dataclass
class _Worker:
    """What a worker process keeps between chunks."""

    target: Target
    trails: bool
    app_time: AppTime
    scripts: Sequence[CallScript]  # the run's scripts, when forked knowing them


_worker: _Worker | None = None


def _start_worker(
    target: Target, trails: bool, app_time: AppTime | None, scripts: Sequence[CallScript]
) -> None:
    """Set up a worker process: its own apps, one freeze of the clock for all its calls.

    ``app_time``: a freeze a forked worker inherited (started before the fork), else ``None``:
    the worker starts its own with its first call. ``scripts``: the run's scripts, inherited by
    a worker forked knowing them (it is then sent indices), else empty.
    """
    global _worker
    forget_inherited_apps()
    # A worker process ends without running atexit hooks, but with multiprocessing's finalizers.
    multiprocessing.util.Finalize(None, close_apps, exitpriority=10)
    _worker = _Worker(target, trails, app_time if app_time is not None else AppTime(), scripts)


def _play_chunk(chunk: Chunk) -> Played:
    """Play a chunk of calls in this worker; the freeze stays on between chunks."""
    assert _worker is not None, "a worker plays calls only after _start_worker"
    worker = _worker
    return [
        (index, run_call(script, worker.target, trail=worker.trails, app_time=worker.app_time))
        for index, script in chunk
    ]


def _play_known(indices: Sequence[int]) -> Played:
    """Play the calls at ``indices`` of the scripts this worker was forked with.

    Neither way is a script pickled: the worker has them, and the process that handed them out
    puts its own back into each outcome (``_outcome``).
    """
    assert _worker is not None, "a worker plays calls only after _start_worker"
    worker = _worker
    played: Played = []
    for index in indices:
        outcome = run_call(
            worker.scripts[index], worker.target, trail=worker.trails, app_time=worker.app_time
        )
        fields = {field.name: getattr(outcome, field.name) for field in _OUTCOME_FIELDS}
        played.append((index, fields))
    return played


_OUTCOME_FIELDS = tuple(f for f in dataclasses.fields(CallOutcome) if f.name != "script")


def _outcome(played: CallOutcome | dict[str, Any], script: CallScript) -> CallOutcome:
    """A worker's outcome as played, or rebuilt around this process's own ``script``."""
    if isinstance(played, CallOutcome):
        return played
    return CallOutcome(script=script, **played)


def play_cost(script: CallScript) -> float:
    """A rough cost of playing ``script``, to hand out the costliest calls first.

    Measured on hotline's own scripts: a session (parties, the scheduler, REST or API requests)
    costs several lone calls of as many steps, and a night of scheduled work more per hour.
    """
    steps = 1 + len(script.steps) + sum(1 + len(party.steps) for party in script.parties)
    if not script.needs_session:
        return float(steps)
    cost = 5.0 * (steps + len(script.rest) + len(script.requests))
    until = script.scheduler_until
    if until is not None and until.after is not None:
        cost += until.after.total_seconds() / 3600
    elif until is not None and until.until is not None:
        cost += max(0.0, (until.until - script.at).total_seconds() / 3600)
    return cost


def handing_order(scripts: Sequence[CallScript]) -> list[int]:
    """The indices of ``scripts``, costliest first (script order among equal costs)."""
    return sorted(range(len(scripts)), key=lambda index: -play_cost(scripts[index]))


def start_method() -> BaseContext:
    """How to start workers: fork while this process runs no other thread, else a fork server.

    Forking is kept to Linux: on macOS system libraries may not survive a fork.
    """
    methods = multiprocessing.get_all_start_methods()
    single = threading.active_count() == 1
    if "fork" in methods and single and sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


class CallWorkers:
    """``jobs`` processes playing calls against ``target``: this one and ``jobs - 1`` workers.

    A context manager: the workers start on entering, so a caller that starts threads of its own
    (a progress display) should enter first; then they can be forked. ``scripts``: the calls
    ``play()`` will be given, when known before: forked workers then get them with the fork
    and are handed indices only.
    """

    def __init__(
        self,
        target: Target,
        jobs: int,
        *,
        trails: bool = False,
        scripts: Sequence[CallScript] = (),
    ) -> None:
        self.target = target
        self.jobs = jobs
        self.trails = trails
        self.scripts = scripts
        self._forked = False
        self._pool: ProcessPoolExecutor | None = None
        # This process's own calls share one freeze, as without -j; forked workers inherit it.
        self._app_time = AppTime()

    def __enter__(self) -> CallWorkers:
        context = start_method()
        forking = self._forked = context.get_start_method() == "fork"
        if forking:
            self.target.prepare_workers()
            if self.target.url is None:  # only an app in this process sees the virtual time
                # Each call moves the frozen clock to its own time before the app reads it.
                self._app_time.start(datetime.now(UTC))
        self._pool = ProcessPoolExecutor(
            max_workers=max(1, self.jobs - 1),
            mp_context=context,
            initializer=_start_worker,
            # Forked workers get these as they are (not pickled): the freeze with its state.
            initargs=(
                (self.target, self.trails, self._app_time, self.scripts)
                if forking
                else (self.target, self.trails, None, ())
            ),
        )
        if forking:
            # Fork every worker now, while no thread runs here: submitting the first task forks
            # them all before it starts the pool's own manager thread (no need to wait for the
            # task itself). Objects alive now are kept out of the workers' garbage collections,
            # which would otherwise touch, and so copy, every page they share with this process.
            gc.freeze()
            try:
                self._pool.submit(os.getpid)
            finally:
                gc.unfreeze()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
        finally:
            self._app_time.stop()

    def play(self, scripts: Sequence[CallScript]) -> Iterator[tuple[int, CallOutcome]]:
        """Play ``scripts``; yield ``(index, outcome)`` as calls finish (in no set order)."""
        pool = self._pool
        if pool is None:
            raise RuntimeError("CallWorkers.play() outside its `with` block")
        workers = max(1, self.jobs - 1)
        left = deque((index, scripts[index]) for index in handing_order(scripts))
        busy: set[Future[Played]] = set()
        app_time = self._app_time
        known = self._forked and scripts is self.scripts  # the workers hold these very scripts
        while left or busy:
            while left and len(busy) < workers * _IN_HAND:
                size = max(1, len(left) // (self.jobs * _SHARE))
                chunk = [left.popleft() for _ in range(size)]
                if known:
                    busy.add(pool.submit(_play_known, [index for index, _ in chunk]))
                else:
                    busy.add(pool.submit(_play_chunk, chunk))
            for future in [future for future in busy if future.done()]:
                busy.discard(future)
                for index, played in future.result():
                    yield index, _outcome(played, scripts[index])
            if left:
                index, script = left.pop()
                yield index, run_call(script, self.target, trail=self.trails, app_time=app_time)
            elif busy:
                wait(busy, return_when=FIRST_COMPLETED)
