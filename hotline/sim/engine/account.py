"""What every part of a session's network shares: the world, the account, SIDs, outbound calls.

``Account`` is the base of ``network.Network`` and of the parts it is made of (``live_queues.py``,
``live_conferences.py``): the virtual world the calls run in, the account SID, deterministic
SIDs for what the network makes, placing an outbound call (``dial_out``, which the session
sets), and Twilio's 404 for a SID it does not know.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from hotline.sim.engine.call import CallState
from hotline.sim.engine.world import World
from hotline.sim.rest.switchboard import OutboundCall, RestError


class Account:
    """The account a session's calls, queues, conferences and messages belong to."""

    def __init__(self, world: World, account_sid: str, seed: str) -> None:
        self.world = world
        self.account_sid = account_sid
        self.seed = seed
        self._sids = 0
        #: Places an outbound call (``session.py`` sets it: it knows how to run a call).
        self.dial_out: Callable[[OutboundCall], CallState] | None = None

    def now(self) -> datetime:
        """The current virtual instant."""
        return self.world.now

    def new_sid(self, prefix: str) -> str:
        """A fresh SID for something the network makes (queues, messages, conferences)."""
        self._sids += 1
        digest = hashlib.sha1(f"{self.seed}/network/{self._sids}".encode()).hexdigest()
        return prefix + digest[:32]

    def place_call(self, request: OutboundCall) -> CallState:
        """Place an outbound call with ``dial_out``; a 500 when this simulation cannot."""
        if self.dial_out is None:
            raise RestError(500, 20500, "this simulation cannot place outbound calls")
        return self.dial_out(request)
