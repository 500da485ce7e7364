"""Playing calls in several processes for ``-j N``: this one and N - 1 workers.

Every process takes its calls from one shared order of them, costliest first (``play_cost``:
sessions, scheduled nights and long scripts before short lone calls): workers take them one at a
time from its front, this process from its back. Two counters in shared memory, under one lock,
say which calls are still to be taken (``CallOrder``), so taking the next call costs microseconds
and needs nobody else: no worker waits for this process to hand it work (this process plays calls
of its own and could only hand work out between them), whoever is faster does more, and the last
calls played are the cheapest, so no long call is left running on its own at the end. Each worker
sends each outcome back over a queue as soon as it is played.

A worker pays its start-up once, not once per call. On Linux, while nothing but the main thread
runs here (so no lock can be caught held), it is forked from this process after this one has
imported the app's code and made the migrated database every app copies, so it starts with
both; otherwise a fork server that has imported the simulator starts it (or it is spawned,
where neither exists). It builds its own app on first use (never the one this process holds:
that database is ours). The app's clock is frozen once per worker for its whole life, as a
single-process run does: a forked worker inherits this process's freeze, started just before the
fork (starting one scans every module, as long as a call takes); any other starts its own. It
removes what it made when it ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import multiprocessing
import queue
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

from hotline.sim.engine.clock import AppTime, wall_clock
from hotline.sim.model import WorkerFailed
from hotline.sim.run.connection import Target, close_apps, forget_inherited_apps
from hotline.sim.run.outcomes import CallOutcome, run_call
from hotline.sim.scripts.model import CallScript

#: What a fork server imports once, before it starts workers (the simulator and hotline's app).
_PRELOAD = ["hotline.sim.run.workers", "hotline.sim.hotline_aware.target"]
#: How long this process waits for a worker's next message before it checks the worker still runs.
_PATIENCE = 0.5
#: How long leaving the block waits for the workers to end before stopping them.
_GRACE = 30.0

_OUTCOME_FIELDS = tuple(f for f in dataclasses.fields(CallOutcome) if f.name != "script")


class CallOrder:
    """Which calls of a run's order are still to be taken: ``[front, back)``, in shared memory."""

    def __init__(self, context: BaseContext) -> None:
        self._lock = context.Lock()
        self._bounds = context.RawArray("q", 2)  # front, back: guarded by the lock

    def reset(self, size: int) -> None:
        """A new run of ``size`` calls: every position is to be taken."""
        with self._lock:
            self._bounds[0], self._bounds[1] = 0, size

    def close(self) -> None:
        """Leave nothing to take (a run given up: workers stop after their current call)."""
        with self._lock:
            self._bounds[0] = self._bounds[1]

    def take_front(self) -> int | None:
        """The first position not taken yet (None: every call is taken)."""
        with self._lock:
            front, back = self._bounds
            if front >= back:
                return None
            self._bounds[0] = front + 1
            return int(front)

    def take_back(self) -> int | None:
        """The last position not taken yet (None: every call is taken)."""
        with self._lock:
            front, back = self._bounds
            if front >= back:
                return None
            self._bounds[1] = back - 1
            return int(back - 1)


@dataclass(frozen=True)
class _Run:
    """What a worker is told for each run: the order, and the scripts unless it holds them."""

    number: int
    order: Sequence[int]
    scripts: Sequence[CallScript] | None  # None: the scripts the worker was forked with


def _worker_main(
    number: int,
    target: Target,
    trails: bool,
    app_time: AppTime | None,
    scripts: Sequence[CallScript],
    order: CallOrder,
    commands: Connection,
    results: Any,
) -> None:
    """A worker process: play the calls it takes for each run it is told of, until told to stop.

    ``app_time``: a freeze a forked worker inherited (started before the fork), else ``None``:
    the worker starts its own with its first call. ``scripts``: the run's scripts, inherited by a
    worker forked knowing them, else empty (each run then sends its own).
    """
    # Ctrl-C reaches every process of the replay; only the one that started this one acts on it:
    # it gives the run up and tells this one to stop after its current call. Interrupted itself,
    # a worker could be caught holding the call order's lock, and every process would then wait
    # for it forever.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    forget_inherited_apps()
    clock = app_time if app_time is not None else AppTime()
    parent = multiprocessing.parent_process()
    # The process that started this one may end without a word (killed): this one then ends too.
    # Its pipe alone would not say so, as other workers may hold copies of its end.
    watched: list[Connection | int] = [commands]
    if parent is not None:
        watched.append(parent.sentinel)
    try:
        while commands in wait(watched):
            run = commands.recv()
            if run is None:
                break
            played = run.scripts if run.scripts is not None else scripts
            try:
                while (position := order.take_front()) is not None:
                    index = run.order[position]
                    outcome = run_call(played[index], target, trail=trails, app_time=clock)
                    fields = {field.name: getattr(outcome, field.name) for field in _OUTCOME_FIELDS}
                    results.put(("call", run.number, index, fields))
            except BaseException:
                order.close()  # the run fails: nobody starts another call of it
                results.put(("error", run.number, number, traceback.format_exc()))
                raise
            results.put(("done", run.number, number, None))
        else:  # that process has ended: nobody will read what is left in the queue
            results.cancel_join_thread()
    finally:
        close_apps(exiting=True)  # the process ends next


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
    and are told only the order of each run.
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
        self._processes: list[BaseProcess] = []
        self._commands: list[Connection] = []
        self._order: CallOrder | None = None
        self._results: Any = None
        self._runs = 0  # runs played so far: each message names its run
        self._working = 0  # workers of the current run that have not said they are done
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
        self._order = CallOrder(context)
        self._results = context.Queue()
        # Objects alive now are kept out of forked workers' garbage collections, which would
        # otherwise touch, and so copy, every page they share with this process.
        gc.freeze()
        try:
            for number in range(1, max(1, self.jobs - 1) + 1):
                receive, send = context.Pipe(duplex=False)
                process = context.Process(  # type: ignore[attr-defined]
                    target=_worker_main,
                    name=f"hotline-replay-{number}",
                    args=(
                        number,
                        self.target,
                        self.trails,
                        # Forked workers get these as they are (not pickled): the freeze with
                        # its state, the run's scripts.
                        self._app_time if forking else None,
                        self.scripts if forking else (),
                        self._order,
                        receive,
                        self._results,
                    ),
                    daemon=True,
                )
                process.start()
                receive.close()  # the worker's end
                self._processes.append(process)
                self._commands.append(send)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
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
            if self._order is not None:
                self._order.close()  # a run given up half way: workers take no further call
            for commands in self._commands:
                with contextlib.suppress(OSError):  # OSError: the worker has already ended
                    commands.send(None)
                    commands.close()
        finally:
            # Before waiting: timeouts are measured on the clock the freeze stops.
            self._app_time.stop()
        try:
            self._wait_for_workers()
        finally:
            self._processes, self._commands = [], []

    def play(self, scripts: Sequence[CallScript]) -> Iterator[tuple[int, CallOutcome]]:
        """Play ``scripts``; yield ``(index, outcome)`` as calls finish (in no set order)."""
        order = self._order
        if order is None or not self._processes:
            raise RuntimeError("CallWorkers.play() outside its `with` block")
        if self._working:  # the last run was given up half way: let the workers finish it
            order.close()
            while self._working:
                for _ in self._arrived(block=True):
                    pass  # its outcomes: nobody waits for them any more
        self._runs += 1
        handed = handing_order(scripts)
        order.reset(len(handed))
        known = self._forked and scripts is self.scripts  # the workers hold these very scripts
        command = _Run(self._runs, handed, None if known else list(scripts))
        for commands in self._commands:
            commands.send(command)
        self._working = len(self._processes)
        while (position := order.take_back()) is not None:
            for index, fields in self._arrived(block=False):
                yield index, CallOutcome(script=scripts[index], **fields)
            index = handed[position]
            outcome = run_call(
                scripts[index], self.target, trail=self.trails, app_time=self._app_time
            )
            yield index, outcome
        while self._working:
            for index, fields in self._arrived(block=True):
                yield index, CallOutcome(script=scripts[index], **fields)

    def _arrived(self, *, block: bool) -> Iterator[tuple[int, dict[str, Any]]]:
        """What the workers have sent of this run's outcomes: each call's index and fields
        (``block``: waiting for a message, then taking that one only).

        A worker that failed, or ended before it said it was done, raises ``WorkerFailed``.
        """
        while True:
            try:
                kind, run, where, what = self._results.get(block=block, timeout=_PATIENCE)
            except queue.Empty:
                if not block:
                    return
                self._check_workers_run()
                continue
            if run != self._runs:  # from a run given up earlier
                continue
            if kind == "error":
                raise WorkerFailed(f"replay worker {where} failed:\n{what}")
            if kind == "done":
                self._working -= 1
            else:
                yield where, what
            if block:
                return

    def _check_workers_run(self) -> None:
        for number, process in enumerate(self._processes, start=1):
            if not process.is_alive():
                raise WorkerFailed(
                    f"replay worker {number} ended (exit code {process.exitcode}) before it"
                    " had played the calls it took"
                )

    def _wait_for_workers(self) -> None:
        """Wait for the workers to end (reading what they still send); stop any that do not."""
        deadline = wall_clock() + _GRACE
        for process in self._processes:
            while process.is_alive() and wall_clock() < deadline:
                self._discard_messages()  # a worker ends only once its queue is read
                process.join(0.05)
            if process.is_alive():
                process.terminate()
                process.join()
        self._discard_messages()

    def _discard_messages(self) -> None:
        with contextlib.suppress(queue.Empty, OSError, ValueError):
            while True:
                self._results.get_nowait()
