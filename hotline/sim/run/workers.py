"""Playing calls in several processes for ``-j N``: this one and N - 1 workers.

This process plays calls too, one at a time from the end of the list, while the workers take
chunks from its front: nobody waits for the others to start, and whoever is faster does more.
A worker pays its start-up once, not once per call. On Linux, while nothing but the main thread
runs here (so no lock can be caught held), it is forked from this process after this one has
imported the app's code and made the migrated database every app copies, so it starts with
both; otherwise a fork server that has imported the simulator starts it (or it is spawned,
where neither exists). It builds its own app on first use (never the one this process holds:
that database is ours), freezes the app's clock once for its whole life, as a single-process run
does, and removes what it made when it ends. Outcomes come back with their index, for order.
"""

from __future__ import annotations

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
from multiprocessing.context import BaseContext
from types import TracebackType

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


@dataclass
class _Worker:
    """What a worker process keeps between chunks."""

    target: Target
    trails: bool
    app_time: AppTime


_worker: _Worker | None = None


def _start_worker(target: Target, trails: bool) -> None:
    """Set up a worker process: its own apps, one freeze of the clock for all its calls."""
    global _worker
    forget_inherited_apps()
    # A worker process ends without running atexit hooks, but with multiprocessing's finalizers.
    multiprocessing.util.Finalize(None, close_apps, exitpriority=10)
    _worker = _Worker(target, trails, AppTime())


def _play_chunk(chunk: Chunk) -> list[tuple[int, CallOutcome]]:
    """Play a chunk of calls in this worker; the freeze stays on between chunks."""
    assert _worker is not None, "a worker plays calls only after _start_worker"
    worker = _worker
    return [
        (index, run_call(script, worker.target, trail=worker.trails, app_time=worker.app_time))
        for index, script in chunk
    ]


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
    (a progress display) should enter first; then they can be forked.
    """

    def __init__(self, target: Target, jobs: int, *, trails: bool = False) -> None:
        self.target = target
        self.jobs = jobs
        self.trails = trails
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> CallWorkers:
        context = start_method()
        forking = context.get_start_method() == "fork"
        if forking:
            self.target.prepare_workers()
        self._pool = ProcessPoolExecutor(
            max_workers=max(1, self.jobs - 1),
            mp_context=context,
            initializer=_start_worker,
            initargs=(self.target, self.trails),
        )
        if forking:
            # Fork every worker now, while no thread runs here (the pool's own manager thread
            # starts with the first task, after it has started them all). Objects alive now are
            # kept out of the workers' garbage collections, which would otherwise touch, and so
            # copy, every page they share with this process.
            gc.freeze()
            try:
                self._pool.submit(os.getpid).result()
            finally:
                gc.unfreeze()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def play(self, scripts: Sequence[CallScript]) -> Iterator[tuple[int, CallOutcome]]:
        """Play ``scripts``; yield ``(index, outcome)`` as calls finish (in no set order)."""
        pool = self._pool
        if pool is None:
            raise RuntimeError("CallWorkers.play() outside its `with` block")
        workers = max(1, self.jobs - 1)
        left = deque(enumerate(scripts))
        busy: set[Future[list[tuple[int, CallOutcome]]]] = set()
        app_time = AppTime()  # this process's own calls share one freeze, as without -j
        try:
            while left or busy:
                while left and len(busy) < workers * _IN_HAND:
                    size = max(1, len(left) // (self.jobs * _SHARE))
                    chunk = [left.popleft() for _ in range(size)]
                    busy.add(pool.submit(_play_chunk, chunk))
                for future in [future for future in busy if future.done()]:
                    busy.discard(future)
                    yield from future.result()
                if left:
                    index, script = left.pop()
                    yield index, run_call(script, self.target, trail=self.trails, app_time=app_time)
                elif busy:
                    wait(busy, return_when=FIRST_COMPLETED)
        finally:
            app_time.stop()
