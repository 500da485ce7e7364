"""The account's queues in a session: who waits in each, and the Queues and Members resources.

A caller in ``<Enqueue>`` (``queueing.py``) joins and leaves a ``LiveQueue`` here; an agent's
``<Dial><Queue>`` (``dial_queue.py``) takes its front member, or waits for one to join. The REST
side lists and creates queues, lists a queue's members and dequeues one (a Members update), at
the instant the request is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hotline.sim.engine.account import Account
from hotline.sim.engine.call import CallState, queue_sid_of
from hotline.sim.engine.interrupts import PartyLeft, Redirected
from hotline.sim.engine.world import World
from hotline.sim.rest.switchboard import MemberRecord, QueueRecord, RestError, not_found

#: Twilio's default for a queue's maximum size.
DEFAULT_MAX_QUEUE = 1000


@dataclass
class Member:
    """A call waiting in a queue, and since when (seconds into the session)."""

    call: CallState
    since: float


@dataclass
class LiveQueue:
    """A queue of the account: who waits in it, front first, and who waits for a caller."""

    sid: str
    name: str
    created: datetime
    max_size: int = DEFAULT_MAX_QUEUE
    members: list[Member] = field(default_factory=list)
    dialers: list[CallState] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # seconds each caller who left waited

    def average_wait(self) -> int:
        """Twilio's ``average_wait_time``: the mean wait of the callers who left, in seconds."""
        return round(sum(self.waits) / len(self.waits)) if self.waits else 0


class LiveQueues(Account):
    """The account's queues: calls wait in them, agents take from them, the REST API sees them."""

    def __init__(self, world: World, account_sid: str, seed: str) -> None:
        super().__init__(world, account_sid, seed)
        self._queues: dict[str, LiveQueue] = {}

    def queue_sid(self, name: str) -> str:
        """The SID of the queue called ``name`` (the same for every call of the account)."""
        return queue_sid_of(self.account_sid, name)

    def _queue(self, name: str) -> LiveQueue:
        queue = self._queues.get(name)
        if queue is None:
            queue = self._queues[name] = LiveQueue(self.queue_sid(name), name, self.now())
        return queue

    # -- queues, as calls use them (call.Network) ------------------------------------------

    def joined_queue(self, call: CallState, name: str, sid: str) -> None:
        """``call`` waits in ``name`` from now on; an agent waiting for a caller hears of it."""
        queue = self._queue(name)
        queue.members.append(Member(call, self.world.elapsed))
        for dialer in queue.dialers:
            if dialer.actor is not None:
                self.world.interrupt(dialer.actor, PartyLeft())

    def left_queue(self, call: CallState, name: str) -> None:
        """``call`` is no longer in ``name``."""
        queue = self._queue(name)
        for member in queue.members:
            if member.call is call:
                queue.members.remove(member)
                queue.waits.append(self.world.elapsed - member.since)
                return

    def place_in(self, call: CallState, name: str) -> tuple[int, int]:
        """``call``'s position in ``name`` (1: the front) and how many wait in it."""
        members = self._queue(name).members
        for position, member in enumerate(members, 1):
            if member.call is call:
                return position, len(members)
        return 1, max(1, len(members))

    def take_member(self, dialer: CallState, name: str) -> CallState | None:
        """The caller at the front of ``name``, taken out for ``dialer`` (None: nobody waits)."""
        queue = self._queue(name)
        for member in queue.members:
            actor = member.call.actor
            if actor is not None and actor.pending:
                # Something already happened to this caller at this instant (hung up, moved
                # through the REST API): they are leaving the queue, not waiting in it.
                continue
            queue.members.remove(member)
            queue.waits.append(self.world.elapsed - member.since)
            return member.call
        return None

    def await_member(self, dialer: CallState, name: str) -> None:
        """``dialer`` waits for a caller to join ``name`` (told with ``PartyLeft``)."""
        self._queue(name).dialers.append(dialer)

    def stop_awaiting(self, dialer: CallState, name: str) -> None:
        """``dialer`` no longer waits for ``name``."""
        dialers = self._queue(name).dialers
        if dialer in dialers:
            dialers.remove(dialer)

    # -- Queues and Members ---------------------------------------------------------------

    def _queue_by_sid(self, sid: str) -> LiveQueue:
        for queue in self._queues.values():
            if queue.sid == sid:
                return queue
        raise not_found(f"/2010-04-01/Accounts/{self.account_sid}/Queues/{sid}.json")

    def _queue_record(self, queue: LiveQueue) -> QueueRecord:
        return QueueRecord(
            sid=queue.sid,
            friendly_name=queue.name,
            current_size=len(queue.members),
            max_size=queue.max_size,
            average_wait_time=queue.average_wait(),
            created=queue.created,
            updated=self.now(),
        )

    def queues(self) -> Sequence[QueueRecord]:
        """Every queue of the account, in the order they were made."""
        return [self._queue_record(queue) for queue in self._queues.values()]

    def create_queue(self, friendly_name: str, max_size: int) -> QueueRecord:
        """Make a queue; a name already in use is refused."""
        if friendly_name in self._queues:
            raise RestError(400, 22003, f"A queue with the name {friendly_name} already exists")
        queue = self._queue(friendly_name)
        queue.max_size = max_size
        return self._queue_record(queue)

    def _member_record(self, queue: LiveQueue, position: int, member: Member) -> MemberRecord:
        return MemberRecord(
            call_sid=member.call.sid,
            queue_sid=queue.sid,
            enqueued=self.world.clock.start + timedelta(seconds=member.since),
            position=position,
            wait_time=round(self.world.elapsed - member.since),
        )

    def members(self, queue_sid: str) -> Sequence[MemberRecord]:
        """The calls waiting in a queue, front first."""
        queue = self._queue_by_sid(queue_sid)
        return [self._member_record(queue, i, m) for i, m in enumerate(queue.members, 1)]

    def dequeue(self, queue_sid: str, call_sid: str, url: str, method: str) -> MemberRecord:
        """Take a member (its CallSid, or "Front") out of the queue to play ``url``."""
        queue = self._queue_by_sid(queue_sid)
        for position, member in enumerate(queue.members, 1):
            if call_sid in (member.call.sid, "Front" if position == 1 else None):
                record = self._member_record(queue, position, member)
                if member.call.actor is not None:
                    why = "dequeued through the REST API (Members update)"
                    self.world.interrupt(member.call.actor, Redirected(url, method, why=why))
                return record
        raise not_found(
            f"/2010-04-01/Accounts/{self.account_sid}/Queues/{queue_sid}/Members/{call_sid}.json"
        )
