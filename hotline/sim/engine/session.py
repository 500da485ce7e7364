"""Several calls on one virtual clock: a caller and the agent who dials their queue, an outbound
call the app places through the REST API, requests another system makes at a given second.

``Simulator.session(at)`` opens one; ``place_call`` adds a call starting ``after`` seconds into
it, ``at`` runs an action at a second of it, ``run`` plays everything to its end and returns a
``CallResult`` per call placed. A single call (``Simulator.place_call``) is a session of one,
played on the caller's own thread. A session may run on another thread than the one that
opened it (a background thread, while a browser clicks in the foreground); paced (``pace``:
real seconds per virtual second, see ``world.py``), its clock follows the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from hotline.sim.engine.call import CallState
from hotline.sim.engine.call_details import with_twins
from hotline.sim.engine.callees import CalleeBook
from hotline.sim.engine.clock import AppTime
from hotline.sim.engine.lifecycle import CallResult, run_call
from hotline.sim.engine.network import Network
from hotline.sim.engine.outbound import dial_out
from hotline.sim.engine.rest_link import SessionSwitchboard
from hotline.sim.engine.scheduled import ScheduledUntil, ScheduledWork, VirtualScheduler
from hotline.sim.engine.status_callbacks import StatusSettings
from hotline.sim.engine.verbs import HANDLERS
from hotline.sim.engine.webhooks import CallSettings
from hotline.sim.engine.world import CallClock, World
from hotline.sim.model import CalleeBehaviour, Caller, Event, QueueBehaviour


class SessionSettings(CallSettings, StatusSettings, Protocol):
    """What a session reads from the ``Simulator`` that opened it."""

    base_url: str
    voice_url: str
    app_time: AppTime
    switchboard: SessionSwitchboard
    voice_method: str

    def url(self, path: str) -> str:
        """``path`` made absolute against the app's public base URL."""


@dataclass
class _Planned:
    after: float
    name: str
    body: Callable[[], object]
    order: int = 0


class Session:
    """Calls and timed actions on one clock; ``run`` plays them all."""

    def __init__(
        self,
        sim: SessionSettings,
        at: datetime,
        callees: Mapping[str, Sequence[CalleeBehaviour]] | None = None,
        queues: Mapping[str, QueueBehaviour] | None = None,
        seed: str | None = None,
        pace: float | None = None,
    ) -> None:
        self.sim = sim
        self.world = World(at, pace)
        self.book = CalleeBook(callees or {})
        self.queues = queues or {}
        self.network = Network(
            self.world,
            sim.account_sid,
            self.book,
            self.queues,
            seed or at.isoformat(),
            sim.base_url,
        )
        self.network.dial_out = lambda request: dial_out(sim, self.network, request)
        self._planned: list[_Planned] = []
        self._placed: list[CallState] = []
        self._ran = False
        self._unfinished = 0  # planned calls and actions not over yet (with a scheduler)
        #: The session's scheduler actor, when ``run_scheduled`` gave it work (``runs``: its log).
        self.scheduler: VirtualScheduler | None = None

    def place_call(
        self,
        caller: Caller,
        from_: str,
        to: str,
        *,
        after: float = 0.0,
        seed: str | None = None,
        voice_url: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> str:
        """Plan an inbound call ``after`` seconds into the session; return its CallSid.

        ``voice_url`` (relative to the app's base URL): the Voice URL of the number called, when it
        is not the simulator's; ``params``: extra request parameters sent on every request of the
        call (a client's custom parameters).
        """
        if after < 0:
            raise ValueError(f"a call cannot start before the session ({after} s)")
        call = CallState(
            self.sim,
            caller,
            CallClock(self.world, after),
            from_,
            to,
            {},
            self.queues,
            seed,
            HANDLERS,
            network=self.network,
            book=self.book,
            params=with_twins(params or {}),
        )
        url = self.sim.url(voice_url) if voice_url else self.sim.voice_url
        self._placed.append(call)

        def body() -> None:
            call.actor = self.world.current
            # The call exists (for the REST API) from its first ring, not from when it was planned.
            self.network.register(call)
            self.network.results[call.sid] = run_call(
                self.sim, self.sim, call, lambda c: c.fetch(url, self.sim.voice_method, c.main)
            )

        self._plan(after, f"call {call.sid}", body)
        return call.sid

    def at(self, after: float, action: Callable[[], object], name: str = "action") -> None:
        """Run ``action`` at ``after`` seconds into the session (a REST request, say)."""
        self._plan(after, name, action)

    def when(
        self,
        sid: str,
        kind: str,
        action: Callable[[], object],
        delay: float = 0.0,
        name: str = "action",
    ) -> None:
        """Run ``action`` ``delay`` s after the placed call ``sid`` first has an event of ``kind``
        (``model.EVENT_KINDS``: "enqueue", "bridge", "conference"...); never, if it has none."""
        call = self.placed(sid)
        fired: list[bool] = []

        def listener(event: Event) -> None:
            if event.kind == kind and not fired:
                fired.append(True)
                self.world.spawn(name, action, delay)

        call.listeners.append(listener)

    def run_scheduled(self, work: ScheduledWork, horizon: ScheduledUntil | None = None) -> None:
        """Run the app's scheduled ``work`` on the session's clock (``scheduled.py``): while its
        calls are in progress, and on to ``horizon`` after them."""
        if self._ran:
            raise RuntimeError("the session has run: open a new one")
        self.scheduler = VirtualScheduler(
            self.world, work, self._calls_busy, horizon or ScheduledUntil()
        )
        self.network.watchers.append(self.scheduler.poke)

    def _calls_busy(self) -> bool:
        return self._unfinished > 0 or self.network.calls_in_progress()

    def _counted(self, body: Callable[[], object]) -> Callable[[], object]:
        """``body``, counted among what is still to happen while it has not ended."""

        def counted() -> None:
            try:
                body()
            finally:
                self._unfinished -= 1
                self.network.touched()

        return counted

    def _plan(self, after: float, name: str, body: Callable[[], object]) -> None:
        if self._ran:
            raise RuntimeError("the session has run: open a new one")
        self._planned.append(_Planned(after, name, body, len(self._planned)))

    def run(self) -> list[CallResult]:
        """Play every call and action to its end; return the calls' results in placing order."""
        if self._ran:
            raise RuntimeError("a session runs once")
        self._ran = True
        planned = sorted(self._planned, key=lambda p: (p.after, p.order))
        if not planned:
            return []
        self.world.run_here()
        if self.scheduler is not None:
            self._unfinished = len(planned)
            planned = [replace(plan, body=self._counted(plan.body)) for plan in planned]
        first, rest = planned[0], planned[1:]
        self.sim.switchboard.network = self.network
        shared: AbstractContextManager[None] = (
            self.world.clock.shared_with_app(self.sim.app_time)
            if self.sim.transport.shares_clock
            else nullcontext()
        )
        with shared:
            for plan in rest:
                self.world.spawn(plan.name, plan.body, plan.after)
            if self.scheduler is not None:
                self.scheduler.start()
            try:
                if first.after > 0:
                    self.world.sleep_until(first.after)
                first.body()
            except BaseException:
                self.world.abort()
                raise
            else:
                actors = self.world.drain()
            finally:
                self.world.close()
        for actor in actors:
            if actor.error is not None:
                raise actor.error
        return [self.network.results[call.sid] for call in self._placed]

    @property
    def pace(self) -> float | None:
        """Real seconds per virtual second; ``None``: unpaced (settable from any thread)."""
        return self.world.pace

    @pace.setter
    def pace(self, pace: float | None) -> None:
        self.world.pace = pace

    def placed(self, sid: str) -> CallState:
        """The call placed with ``place_call`` that got ``sid`` (to write to its transcript)."""
        for call in self._placed:
            if call.sid == sid:
                return call
        raise KeyError(sid)

    def outbound_results(self) -> list[CallResult]:
        """The results of the calls the app placed through the REST API, in placing order."""
        placed = {call.sid for call in self._placed}
        results = self.network.results
        return [
            results[record.sid]
            for record in reversed(self.network.calls())
            if record.sid not in placed and record.sid in results
        ]
