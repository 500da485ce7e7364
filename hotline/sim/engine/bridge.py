"""Two calls talking to each other: an agent's ``<Dial><Queue>`` and the caller it dequeued.

Whoever leaves first (hangs up, is redirected, reaches a time limit) ends the talk for the
other, who goes on with the TwiML after its ``<Dial>`` or ``<Enqueue>``. ``Dequeued`` is what
the caller waiting in ``<Enqueue>`` hears when an agent takes them onto the bridge.
"""

from __future__ import annotations

from hotline.sim.engine.call import CallState
from hotline.sim.engine.interrupts import PartyLeft
from hotline.sim.engine.world import World


class TwoWayBridge:
    """The talk between two calls; the first to leave ends it for both."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.parties: list[CallState] = []
        self.over = False
        self.started = world.elapsed

    def join(self, call: CallState) -> None:
        """Count ``call`` as one of the two sides (before it talks, so its leaving counts)."""
        if call not in self.parties:
            self.parties.append(call)

    def talk(self, call: CallState, limit: float) -> None:
        """Stay on the bridge until the other side leaves, the call ends or ``limit`` s pass."""
        self.join(call)
        if self.over:
            return
        try:
            call.spend(limit)
        except PartyLeft:
            return
        finally:
            self.leave(call)

    def leave(self, call: CallState) -> None:
        """``call`` is gone: the other side hears it at once."""
        if self.over:
            return
        self.over = True
        for other in self.parties:
            if other is not call and other.actor is not None:
                self.world.interrupt(other.actor, PartyLeft())


class Dequeued(Exception):
    """Another call's ``<Dial><Queue>`` took this caller out of its queue to talk to them.

    ``url``: the ``<Queue url>`` TwiML to play to this caller first (``method``); ``dialer``: the
    call that dequeued them; ``bridge``: where the two talk.
    """

    def __init__(
        self, dialer: CallState, bridge: TwoWayBridge, url: str | None, method: str
    ) -> None:
        super().__init__(f"dequeued by {dialer.sid}")
        self.dialer = dialer
        self.bridge = bridge
        self.url = url
        self.method = method
