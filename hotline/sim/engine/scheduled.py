"""Scheduled work on the virtual clock: an app's timed jobs run as the session's time passes them.

A real deployment runs an app's timed work in a process of its own (hotline's ``hotline
scheduler``), on the wall clock. A session instead has a *scheduler* actor on its world: it asks
the app's ``ScheduledWork`` when work is next due, sleeps until then, and runs it at that virtual
instant. Anything that happens meanwhile (a webhook the app answers, a REST request the app makes,
a call ending) may have written new work, so it wakes the actor (``poke``, through the world's
``interrupt``) to ask again; it never polls second by second. A reply arriving at the instant of
the webhook that queued it is earlier than a real scheduler would manage (it looks every few
seconds); the scripts check what is sent and when it is due, not that delay.

How long it keeps going is the session's ``ScheduledUntil``: by default only while calls are in
progress (the instant the last one ends included); given a horizon, the clock runs on after the
calls to the work due until then (the night after a call, the next morning's callback), and the
calls the work places are played like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from hotline.sim.engine.world import Actor, World

_NEVER = float("inf")
# Runs at one instant before the simulator gives up: work still due after a run at the same
# instant (work one job leaves for another) gets another run, but not endlessly.
_RUNS_AT_ONE_INSTANT = 20


class ScheduledWork(Protocol):
    """An app's timed work, as the simulator drives it (``hotline_aware`` has hotline's)."""

    def next_due(self, now: datetime) -> datetime | None:
        """The earliest instant at or after ``now`` with work to do (``None``: nothing waits)."""

    def run_due(self, now: datetime) -> list[str]:
        """Do all the work due at ``now``; one line per job that did something."""


class ScheduledWorkStuck(RuntimeError):
    """The app's work is still due after many runs at the same instant: it never gets done."""


@dataclass(frozen=True)
class ScheduledUntil:
    """How long scheduled work runs: while calls are in progress, and then ``after`` them or
    until ``until`` (whichever is given; neither: only while calls are in progress)."""

    after: timedelta | None = None
    until: datetime | None = None

    def end(self, calls_ended: datetime) -> datetime:
        """The last instant work runs at, the calls having ended at ``calls_ended``."""
        if self.after is not None:
            return calls_ended + self.after
        if self.until is not None:
            return max(self.until, calls_ended)
        return calls_ended

    def describe(self) -> str:
        """The horizon in words, as a script gives it."""
        if self.after is not None:
            return f"{self.after} after the calls"
        if self.until is not None:
            return f"until {self.until.isoformat()}"
        return "while calls are in progress"


@dataclass(frozen=True)
class ScheduledRun:
    """One run that did something: when, and a line per job (``outbox: 1 sent (sms to ...)``)."""

    at: datetime
    lines: tuple[str, ...]


class Wake(Exception):
    """Something happened on the calls: the scheduler asks the work again when it is next due."""


class VirtualScheduler:
    """The session's scheduler actor; ``runs`` records what it did."""

    def __init__(
        self,
        world: World,
        work: ScheduledWork,
        calls_busy: Callable[[], bool],
        horizon: ScheduledUntil,
    ) -> None:
        self.world = world
        self.work = work
        self.calls_busy = calls_busy  # calls in progress, or still to start
        self.horizon = horizon
        self.runs: list[ScheduledRun] = []
        self.actor: Actor | None = None

    def start(self) -> None:
        """Add the actor to the world (it first looks at once)."""
        self.actor = self.world.spawn("scheduler", self._body)

    def poke(self) -> None:
        """Something happened: the actor asks again at this instant (once, however many pokes)."""
        actor = self.actor
        if actor is None or not actor.alive:
            return
        if any(isinstance(error, Wake) for error in actor.pending):
            return
        self.world.interrupt(actor, Wake())

    def _body(self) -> None:
        calls_ended: datetime | None = None
        floor: datetime | None = None  # the instant slept to: float seconds may land a hair early
        last_run: datetime | None = None
        runs_here = 0
        while True:
            now = self.world.now if floor is None else max(self.world.now, floor)
            floor = None
            if self.calls_busy():
                calls_ended = None
            elif calls_ended is None:
                calls_ended = now
            end = None if calls_ended is None else self.horizon.end(calls_ended)
            due = self.work.next_due(now)
            if due is not None and due <= now and (end is None or now <= end):
                runs_here = runs_here + 1 if last_run == now else 1
                if runs_here > _RUNS_AT_ONE_INSTANT:
                    raise ScheduledWorkStuck(
                        f"scheduled work still due at {now.isoformat()} after"
                        f" {_RUNS_AT_ONE_INSTANT} runs at that instant"
                    )
                last_run = now
                lines = self.work.run_due(now)
                if lines:
                    self.runs.append(ScheduledRun(now, tuple(lines)))
                continue
            # Nothing due within the horizon: wait for something to happen (while calls are
            # in progress), or for the end (once no call is left, the world ends the actor).
            wake = _NEVER if due is None or (end is not None and due > end) else self._at(due)
            try:
                self.world.sleep_until(wake)
            except Wake:
                continue
            if due is not None and wake != _NEVER:
                floor = due

    def _at(self, instant: datetime) -> float:
        return (instant - self.world.clock.start).total_seconds()
