"""The simulated phone network of one session: its calls, queues and the messages sent.

Every call placed in a session (by a caller, by the REST API) is registered here, so that one
call can reach another: an agent's ``<Dial><Queue>`` takes the caller waiting at the front of a
queue, and a REST request redirects or hangs up a live call at the instant it is made. The
``Network`` is the engine's side of ``hotline.sim.rest.switchboard.Switchboard``; conferences
are in ``conference.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hotline.sim.engine.call import CallState
from hotline.sim.engine.callees import CalleeBook
from hotline.sim.engine.conference import Conference, end, participant_twiml, remove
from hotline.sim.engine.conference import update as conference_update
from hotline.sim.engine.interrupts import CallOver, PartyLeft, Redirected
from hotline.sim.engine.lifecycle import CallResult
from hotline.sim.engine.world import World
from hotline.sim.model import CallEnd, QueueBehaviour
from hotline.sim.rest.switchboard import (
    CallRecord,
    CallUpdate,
    ConferenceRecord,
    MemberRecord,
    MessageRecord,
    NewParticipant,
    OutboundCall,
    ParticipantRecord,
    ParticipantUpdate,
    QueueRecord,
    RestError,
)

#: Twilio's default for a queue's maximum size.
DEFAULT_MAX_QUEUE = 1000
_ENDING = ("completed", "canceled")


def not_found(what: str) -> RestError:
    """Twilio's answer to a SID or name it does not know: 404, error 20404."""
    return RestError(404, 20404, f"The requested resource {what} was not found")


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


class Network:
    """Every call, queue and message of one session (the engine's ``Switchboard``)."""

    def __init__(
        self,
        world: World,
        account_sid: str,
        book: CalleeBook,
        queue_behaviours: Mapping[str, QueueBehaviour],
        seed: str,
        base_url: str,
    ) -> None:
        self.world = world
        self.account_sid = account_sid
        self.book = book
        self.queue_behaviours = queue_behaviours
        self.seed = seed
        self.base_url = base_url
        self._calls: dict[str, CallState] = {}
        self.results: dict[str, CallResult] = {}
        self._queues: dict[str, LiveQueue] = {}
        self.sent_messages: list[MessageRecord] = []
        self._conferences: dict[str, Conference] = {}
        self._sids = 0
        #: Places an outbound call (``session.py`` sets it: it knows how to run a call).
        self.dial_out: Callable[[OutboundCall], CallState] | None = None

    # -- the registry ---------------------------------------------------------------------

    def register(self, call: CallState) -> None:
        """Count ``call`` as one of the network's calls, reachable by its SID."""
        self._calls[call.sid] = call

    def now(self) -> datetime:
        """The current virtual instant."""
        return self.world.now

    def new_sid(self, prefix: str) -> str:
        """A fresh SID for something the network makes (queues, messages, conferences)."""
        self._sids += 1
        digest = hashlib.sha1(f"{self.seed}/network/{self._sids}".encode()).hexdigest()
        return prefix + digest[:32]

    def queue_sid(self, name: str) -> str:
        """The SID of the queue called ``name`` (the same for every call of the account)."""
        digest = hashlib.sha1(f"{self.account_sid}/queue/{name}".encode()).hexdigest()
        return "QU" + digest[:32]

    def _queue(self, name: str) -> LiveQueue:
        queue = self._queues.get(name)
        if queue is None:
            queue = self._queues[name] = LiveQueue(self.queue_sid(name), name, self.now())
        return queue

    def _call(self, sid: str) -> CallState:
        call = self._calls.get(sid)
        if call is None:
            raise not_found(f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json")
        return call

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

    def take_member(self, dialer: CallState, name: str) -> CallState | None:
        """The caller at the front of ``name``, taken out for ``dialer`` (None: nobody waits)."""
        queue = self._queue(name)
        if not queue.members:
            return None
        member = queue.members.pop(0)
        queue.waits.append(self.world.elapsed - member.since)
        return member.call

    def await_member(self, dialer: CallState, name: str) -> None:
        """``dialer`` waits for a caller to join ``name`` (told with ``PartyLeft``)."""
        self._queue(name).dialers.append(dialer)

    def stop_awaiting(self, dialer: CallState, name: str) -> None:
        """``dialer`` no longer waits for ``name``."""
        dialers = self._queue(name).dialers
        if dialer in dialers:
            dialers.remove(dialer)

    # -- Calls ----------------------------------------------------------------------------

    def record_of(self, call: CallState) -> CallRecord:
        """The call as the Calls resource shows it now."""
        start = call.clock.start
        answered = (
            start + timedelta(seconds=call.answered_at) if call.answered_at is not None else None
        )
        ended = start + timedelta(seconds=call.ended_at) if call.ended_at is not None else None
        duration = None
        if call.ended_at is not None:
            since = call.answered_at if call.answered_at is not None else call.ended_at
            duration = round(call.ended_at - since)
        return CallRecord(
            sid=call.sid,
            from_=call.main.params["From"],
            to=call.main.params["To"],
            status=call.final_status or call.main.status,
            direction=call.direction,
            created=start,
            updated=self.now(),
            parent_call_sid=call.main.params.get("ParentCallSid"),
            start_time=answered,
            end_time=ended,
            duration=duration,
        )

    def calls(self) -> Sequence[CallRecord]:
        """Every call so far, newest first."""
        return [self.record_of(call) for call in reversed(self._calls.values())]

    def create_call(self, request: OutboundCall) -> CallRecord:
        """Place an outbound call; its callee's scripted behaviour says what happens."""
        if self.dial_out is None:
            raise RestError(500, 20500, "this simulation cannot place outbound calls")
        return self.record_of(self.dial_out(request))

    def update_call(self, sid: str, update: CallUpdate) -> CallRecord:
        """Redirect a live call to new TwiML, or end it, at this instant."""
        call = self._call(sid)
        status = call.final_status or call.main.status
        if call.final_status or call.actor is None:
            raise RestError(400, 21220, "Call is not in-progress. Cannot redirect.")
        if update.status in _ENDING:
            if update.status == "completed" or status in ("queued", "ringing"):
                why = f"ended through the REST API (Status={update.status})"
                self.world.interrupt(call.actor, CallOver(CallEnd.COMPLETED, why))
            return self.record_of(call)
        if update.url is None and update.twiml is None:
            return self.record_of(call)
        twiml = update.twiml.encode() if update.twiml is not None else None
        redirect = Redirected(update.url, update.method, twiml, base=self.base_url)
        self.world.interrupt(call.actor, redirect)
        return self.record_of(call)

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

    # -- Messages -------------------------------------------------------------------------

    def send_message(
        self,
        to: str,
        from_: str,
        body: str,
        *,
        messaging_service_sid: str | None = None,
        media_url: tuple[str, ...] = (),
        status_callback: str | None = None,
    ) -> MessageRecord:
        """Keep the message for the script to check: the simulation delivers it nowhere."""
        message = MessageRecord(
            sid=self.new_sid("SM"),
            to=to,
            from_=from_,
            body=body,
            status="queued",
            created=self.now(),
            messaging_service_sid=messaging_service_sid,
            media_url=media_url,
            status_callback=status_callback,
        )
        self.sent_messages.append(message)
        return message

    def messages(self) -> Sequence[MessageRecord]:
        """Every message sent so far, newest first."""
        return list(reversed(self.sent_messages))

    # -- Conferences and Participants -----------------------------------------------------

    def conference_named(self, name: str) -> Conference:
        """The conference called ``name`` now (a new one if none is going on)."""
        for room in reversed(self._conferences.values()):
            if room.name == name and not room.ended:
                return room
        room = Conference(self.new_sid("CF"), name, self.now())
        self._conferences[room.sid] = room
        return room

    def _conference(self, sid: str) -> Conference:
        room = self._conferences.get(sid)
        if room is None:
            for candidate in reversed(self._conferences.values()):
                if candidate.name == sid and not candidate.ended:
                    return candidate
            raise not_found(f"/2010-04-01/Accounts/{self.account_sid}/Conferences/{sid}.json")
        return room

    def conferences(self) -> Sequence[ConferenceRecord]:
        """Every conference so far, newest first."""
        return [room.record(self.now()) for room in reversed(self._conferences.values())]

    def end_conference(self, sid: str) -> ConferenceRecord:
        """End a conference now: everyone in it goes on after their ``<Dial>``."""
        room = self._conference(sid)
        end(room, "Conference ended via the REST API", None)
        return room.record(self.now())

    def announce_conference(self, sid: str, url: str, method: str) -> ConferenceRecord:
        """Every participant hears ``url``'s TwiML, then the conference again."""
        room = self._conference(sid)
        announce = ParticipantUpdate(announce_url=url, announce_method=method)
        for participant in room.participants:
            conference_update(room, participant, announce)
        return room.record(self.now())

    def participants(self, conference_sid: str) -> Sequence[ParticipantRecord]:
        """The participants of a conference, in the order they joined."""
        room = self._conference(conference_sid)
        return [room.participant_record(p, self.now()) for p in room.participants]

    def add_participant(self, conference: str, request: NewParticipant) -> ParticipantRecord:
        """Call ``request.to`` and put them in the conference (by SID or name) when they answer."""
        try:
            room = self._conference(conference)
        except RestError:
            if conference.startswith("CF"):
                raise
            room = self.conference_named(conference)
        outbound = OutboundCall(
            to=request.to,
            from_=request.from_,
            twiml=participant_twiml(room.name, request),
            status_callback=request.status_callback,
            status_callback_event=request.status_callback_event,
            timeout=request.timeout,
        )
        if self.dial_out is None:
            raise RestError(500, 20500, "this simulation cannot place outbound calls")
        call = self.dial_out(outbound)
        if request.hold:
            room.pending[call.sid] = ParticipantUpdate(hold=True)
        now = self.now()
        return ParticipantRecord(
            call_sid=call.sid,
            conference_sid=room.sid,
            label=request.label,
            status="queued",
            hold=request.hold,
            muted=request.muted,
            coaching=False,
            end_conference_on_exit=request.end_conference_on_exit,
            start_conference_on_enter=request.start_conference_on_enter,
            created=now,
            updated=now,
        )

    def update_participant(
        self, conference_sid: str, call_sid: str, update: ParticipantUpdate
    ) -> ParticipantRecord:
        """Hold, unhold, mute, announce to or change a participant, now."""
        room = self._conference(conference_sid)
        participant = room.find(call_sid)
        conference_update(room, participant, update)
        return room.participant_record(participant, self.now())

    def remove_participant(self, conference_sid: str, call_sid: str) -> None:
        """Take a participant out of the conference: its call is hung up."""
        room = self._conference(conference_sid)
        remove(room.find(call_sid))
