"""One virtual clock shared by every call of a simulation, and the legs that take turns on it.

On Twilio many calls run at once: a caller waits in a queue while an agent's call dials it, a
REST request redirects a call that is playing music, three legs talk in a conference. Here each
such call is played by an *actor*, a thread that runs only while it holds the baton: the world
hands the baton to whichever actor is due first on the virtual clock (ties in the order they
were scheduled), so a simulation is as deterministic as a single call. An actor gives the baton
up only in ``sleep_until`` (time passes on its call); another actor, or a REST request, may cut
that sleep short with ``interrupt``: the exception is raised in the sleeping actor when its turn
comes, at that same virtual instant.

The first actor is the thread that created the world (a single call never starts a thread), or
the one that ``run_here`` names. A wait always has an end (a call's longest duration at the
latest), so the baton always has somewhere to go; when the first actor finishes, ``drain`` lets
the others run to their ends.

Paced (``pace`` = real seconds per virtual second), the clock follows the wall clock instead of
jumping: before it moves on to the next actor due, the world waits that long in real time with
its lock released, so outside threads (a person's or a browser's requests reaching the REST
stand-in) act meanwhile; what they schedule (``spawn``, ``interrupt``) ends the wait at once.
Unpaced (the default), nothing waits: every replay runs as fast as it can.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hotline.sim.engine.clock import VirtualClock, wall_clock

_NEVER = float("inf")
# Paced, the clock is caught up with the wall clock at least this often (real seconds) while
# nobody is due, so an outside thread's request sees a virtual time hardly behind the wall's.
_PACE_STEP = 0.05


class WorldOver(Exception):
    """Raised in an actor still waiting when the simulation ends: it must stop at once."""


@dataclass(eq=False)
class Actor:
    """One thread of the simulation (a call's leg) and its place on the clock."""

    name: str
    go: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    # Raised in the actor when it next runs, one at a time in the order they came: two things
    # that happen to a call at the same instant (a dequeue, then a hang-up) both reach it.
    pending: list[BaseException] = field(default_factory=list)
    ticket: int = 0  # the heap entry that counts; older ones are stale
    alive: bool = True
    started: bool = False  # its body has begun (the first actor's has, from the start)
    error: BaseException | None = None  # what ended its thread, when it was not a clean end


class World:
    """The simulation's clock and its actors; ``lock`` guards it against outside threads."""

    def __init__(self, start: datetime, pace: float | None = None) -> None:
        self.clock = VirtualClock(start)
        self._heap: list[tuple[float, int, int, Actor]] = []
        self._order = itertools.count()
        self.first = Actor("first", started=True)
        self._current = self.first
        self._actors: list[Actor] = [self.first]
        # Held by the running actor; an outside thread (the REST stand-in served on a socket)
        # takes it to act on the world while the running actor waits for an HTTP answer.
        self._lock = threading.Lock()
        self._lock.acquire()
        self._owner = threading.get_ident()
        self._closed = False
        self._pace = _checked_pace(pace)
        self._pacing = False  # a paced wait is going on: the lock is free for outside threads
        self._woken = threading.Condition(self._lock)

    # -- time -----------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The current virtual instant."""
        return self.clock.now

    @property
    def elapsed(self) -> float:
        """Seconds since the simulation started."""
        return self.clock.elapsed

    @property
    def pace(self) -> float | None:
        """Real seconds per virtual second (``None``: unpaced, time jumps to the next actor)."""
        return self._pace

    @pace.setter
    def pace(self, pace: float | None) -> None:
        # Set from any thread (a test ending a paced part early): a wait going on ends now.
        with self.entered():
            self._pace = _checked_pace(pace)
            if self._pacing:
                self._woken.notify()

    @property
    def current(self) -> Actor:
        """The actor holding the baton."""
        return self._current

    def sleep_until(self, at: float) -> None:
        """Let the clock run to ``at`` (seconds since the start) while others take their turns.

        Returns at ``at``, or raises what another actor delivered with ``interrupt`` meanwhile.
        """
        me = self._current
        self._deliver(me)
        self._schedule(me, max(at, self.clock.elapsed))
        self._pass_baton(me)
        self._deliver(me)

    # -- other actors ---------------------------------------------------------------------

    def spawn(self, name: str, body: Callable[[], object], delay: float = 0.0) -> Actor:
        """Start ``body`` as a new actor ``delay`` s from now (it runs when its turn comes)."""
        actor = Actor(name)
        self._actors.append(actor)
        thread = threading.Thread(target=self._run_actor, args=(actor, body), name=name)
        thread.daemon = True
        thread.start()
        self._schedule(actor, self.clock.elapsed + delay)
        return actor

    def interrupt(self, actor: Actor, error: BaseException) -> None:
        """Raise ``error`` in ``actor`` at its next turn, which comes now if it is waiting.

        Several interrupts are raised one after the other, in the order they came (the next at
        the actor's next wait), except ``WorldOver``, which comes before anything else. An actor
        not started yet starts when it was due, and hears the interrupt at its first wait (a
        ``WorldOver`` stops it now, before it begins).
        """
        if not actor.alive:
            return
        if isinstance(error, WorldOver):
            actor.pending[:] = [error]
        else:
            actor.pending.append(error)
        # While the world waits paced, the current actor waits too: it is woken like the others.
        current = actor is self._current and not self._pacing
        if not current and (actor.started or isinstance(error, WorldOver)):
            self._schedule(actor, self.clock.elapsed)

    def drain(self) -> list[Actor]:
        """Run every other actor to its end (the first actor calls this last); return them all."""
        me = self._current
        while any(a.alive for a in self._actors if a is not me):
            self._schedule(me, _NEVER)
            self._pass_baton(me)
            me.pending.clear()  # this actor's own part is over: nothing is raised in it any more
            if self._anyone_due():
                continue  # woken early (an interrupt for it): the others still have turns due
            # Back at _NEVER: whoever is left waits for something that cannot come any more.
            for actor in self._actors:
                if actor is not me and actor.alive:
                    self.interrupt(actor, WorldOver("the simulation ended"))
        return list(self._actors)

    def abort(self) -> None:
        """Stop every other actor where it waits (the first actor failed): nothing more plays."""
        me = self._current
        for actor in self._actors:
            if actor is not me and actor.alive:
                self.interrupt(actor, WorldOver("the simulation was stopped"))
        self.drain()

    def run_here(self) -> None:
        """The calling thread plays the first actor from now on (it did not make the world)."""
        if not self._closed:
            self._owner = threading.get_ident()

    @contextmanager
    def outside(self) -> Iterator[None]:
        """Let outside threads act on the world while the running actor waits on I/O."""
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()

    def close(self) -> None:
        """Every actor is done: outside threads may act on what is left without waiting."""
        if not self._closed and threading.get_ident() == self._owner:
            self._closed = True
            self._owner = 0
            self._lock.release()

    @contextmanager
    def entered(self) -> Iterator[None]:
        """Act on the world from any thread: the running actor's own, or an outside one."""
        if self._closed or threading.get_ident() == self._owner:
            yield
            return
        with self._lock:
            yield

    # -- the baton ------------------------------------------------------------------------

    def _schedule(self, actor: Actor, at: float) -> None:
        actor.ticket = next(self._order)
        heapq.heappush(self._heap, (at, actor.ticket, actor.ticket, actor))
        if self._pacing:  # an outside thread's doing: the paced wait ends, the next due is new
            self._woken.notify()

    def _anyone_due(self) -> bool:
        """Whether an actor still has a turn due before the end of time."""
        return any(
            at != _NEVER and actor.alive and ticket == actor.ticket
            for at, _, ticket, actor in self._heap
        )

    def _next(self) -> tuple[float, Actor]:
        while self._heap:
            at, _, ticket, actor = heapq.heappop(self._heap)
            if actor.alive and ticket == actor.ticket:
                return at, actor
        raise RuntimeError("no actor is due: the simulation cannot go on")  # a bug, not a call

    def _pass_baton(self, me: Actor) -> None:
        """Hand the baton to the actor due first (maybe ``me``); return when ``me`` has it back."""
        actor = self._wake_next()
        if actor is me:
            return
        self._hand_to(actor)
        me.go.acquire()
        self._lock.acquire()
        self._owner = threading.get_ident()
        self._current = me

    def _wake_next(self) -> Actor:
        if self._pace is not None:
            self._keep_pace()
        at, actor = self._next()
        if at != _NEVER and at > self.clock.elapsed:
            self.clock.advance(at - self.clock.elapsed)
        return actor

    def _due(self) -> float:
        """When the next actor is due (``_NEVER``: nobody is), leaving the heap as it is."""
        while self._heap:
            at, _, ticket, actor = self._heap[0]
            if actor.alive and ticket == actor.ticket:
                return at
            heapq.heappop(self._heap)  # stale: _next would drop it too
        return _NEVER

    def _keep_pace(self) -> None:
        """Let the wall clock catch up with the next actor due, the lock free meanwhile.

        The virtual clock follows the real time that passes, in steps of ``_PACE_STEP``; an
        outside thread scheduling an actor (now) ends the wait, as does unpacing the world.
        Nobody due (``_NEVER``): no wait, ``drain`` decides.
        """
        owner = self._owner
        while self._pace is not None:
            due = self._due()
            if due == _NEVER or due <= self.clock.elapsed:
                return
            pace = self._pace
            started = wall_clock()
            self._pacing, self._owner = True, 0
            try:
                # A Condition's wait is the lock's own timed acquire: real time, never frozen.
                self._woken.wait(min((due - self.clock.elapsed) * pace, _PACE_STEP))
            finally:
                self._pacing, self._owner = False, owner
            passed = (wall_clock() - started) / pace
            self.clock.advance(max(0.0, min(passed, due - self.clock.elapsed)))

    def _hand_to(self, actor: Actor) -> None:
        self._current = actor
        self._owner = 0
        self._lock.release()
        actor.go.release()

    def _deliver(self, me: Actor) -> None:
        if me.pending:
            raise me.pending.pop(0)

    def _run_actor(self, actor: Actor, body: Callable[[], object]) -> None:
        actor.go.acquire()
        self._lock.acquire()
        self._owner = threading.get_ident()
        self._current = actor
        actor.started = True
        try:
            if actor.pending and isinstance(actor.pending[0], WorldOver):
                self._deliver(actor)  # stopped before it began: nothing of it plays
            body()
        except WorldOver:
            pass
        except BaseException as error:  # reported by whoever placed the calls
            actor.error = error
        finally:
            actor.alive = False
            actor.pending.clear()
            self._hand_to(self._wake_next())


def _checked_pace(pace: float | None) -> float | None:
    if pace is not None and not pace > 0:
        raise ValueError(f"pace: real seconds per virtual second, more than 0 (got {pace})")
    return pace


class CallClock:
    """One call's view of the world's clock: the instant it started and the seconds since."""

    def __init__(self, world: World, started: float | None = None) -> None:
        self.world = world
        self._started = world.elapsed if started is None else started

    @property
    def start(self) -> datetime:
        """The instant the call started."""
        return self.world.clock.start + timedelta(seconds=self._started)

    @property
    def now(self) -> datetime:
        """The current virtual instant."""
        return self.world.clock.now

    @property
    def elapsed(self) -> float:
        """Seconds since the call started."""
        return self.world.clock.elapsed - self._started

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass on the call (other calls take their turns meanwhile)."""
        if seconds < 0:
            raise ValueError(f"the clock cannot go back ({seconds} s)")
        self.world.sleep_until(self.world.clock.elapsed + seconds)
