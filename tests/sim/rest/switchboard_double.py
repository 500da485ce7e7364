"""A TEST DOUBLE of the engine's side of the REST contract: an in-memory ``Switchboard``.

The real switchboard is the engine's world of live calls (``hotline/sim/engine/world.py``); this
double only keeps records and notes every request the REST layer hands it, so the tests of the
REST stand-in can prove what reaches the switchboard and how its answers and refusals are
rendered. It plays no call: a created call stays ``queued``, a redirect changes nothing audible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

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

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
START = datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC)


def _missing(what: str, sid: str) -> RestError:
    return RestError(404, 20404, f"The requested resource {what} {sid} was not found")


class SwitchboardDouble:
    """Records in lists, newest first where the contract says so; ``requests`` logs each call."""

    def __init__(self, account_sid: str = ACCOUNT_SID) -> None:
        self.account_sid = account_sid
        self.clock = START
        self.requests: list[tuple[str, Any]] = []
        self._counter = 0
        self._calls: list[CallRecord] = []
        self._queues: list[QueueRecord] = []
        self._members: dict[str, list[MemberRecord]] = {}
        self._conferences: list[ConferenceRecord] = []
        self._participants: dict[str, list[ParticipantRecord]] = {}
        self._messages: list[MessageRecord] = []

    # the clock and SIDs
    def now(self) -> datetime:
        return self.clock

    def new_sid(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:032x}"

    # setting the scene (what the engine's calls would have made)
    def add_call(self, status: str = "in-progress", **fields: Any) -> CallRecord:
        """A live call, as if a caller had rung in."""
        values: dict[str, Any] = {
            "sid": self.new_sid("CA"),
            "from_": "+48601100200",
            "to": "+442071000000",
            "status": status,
            "direction": "inbound",
            "created": self.clock,
            "updated": self.clock,
            "start_time": self.clock,
        }
        values.update(fields)
        call = CallRecord(**values)
        self._calls.insert(0, call)
        return call

    def enqueue(self, queue_name: str, call: CallRecord) -> MemberRecord:
        """Put ``call`` in the queue called ``queue_name`` (made if needed)."""
        queue = next((q for q in self._queues if q.friendly_name == queue_name), None)
        if queue is None:
            queue = self.create_queue(queue_name, 100)
            self.requests.pop()
        members = self._members[queue.sid]
        member = MemberRecord(call.sid, queue.sid, self.clock, len(members) + 1, 0)
        members.append(member)
        self._replace_queue(replace(queue, current_size=len(members)))
        return member

    def open_conference(self, name: str) -> ConferenceRecord:
        """An in-progress conference called ``name``."""
        conference = ConferenceRecord(
            self.new_sid("CF"), name, "in-progress", self.clock, self.clock
        )
        self._conferences.insert(0, conference)
        self._participants[conference.sid] = []
        return conference

    def join(self, conference: ConferenceRecord, call: CallRecord, **fields: Any) -> None:
        """``call`` joins ``conference`` (connected)."""
        values: dict[str, Any] = {
            "call_sid": call.sid,
            "conference_sid": conference.sid,
            "label": None,
            "status": "connected",
            "hold": False,
            "muted": False,
            "coaching": False,
            "end_conference_on_exit": False,
            "start_conference_on_enter": True,
            "created": self.clock,
            "updated": self.clock,
        }
        values.update(fields)
        self._participants[conference.sid].append(ParticipantRecord(**values))

    # Calls
    def calls(self) -> Sequence[CallRecord]:
        return list(self._calls)

    def create_call(self, request: OutboundCall) -> CallRecord:
        self.requests.append(("create_call", request))
        call = CallRecord(
            self.new_sid("CA"),
            request.from_,
            request.to,
            "queued",
            "outbound-api",
            self.clock,
            self.clock,
        )
        self._calls.insert(0, call)
        return call

    def update_call(self, sid: str, update: CallUpdate) -> CallRecord:
        self.requests.append(("update_call", (sid, update)))
        call = self._call(sid)
        if call.status not in ("queued", "ringing", "in-progress"):
            raise RestError(400, 21220, "Call is not in-progress. Cannot redirect.")
        if update.status is not None:
            ended = replace(call, status=update.status, end_time=self.clock, updated=self.clock)
            self._calls[self._calls.index(call)] = ended
            return ended
        return call

    def _call(self, sid: str) -> CallRecord:
        for call in self._calls:
            if call.sid == sid:
                return call
        raise _missing("call", sid)

    # Queues and members
    def queues(self) -> Sequence[QueueRecord]:
        return list(self._queues)

    def create_queue(self, friendly_name: str, max_size: int) -> QueueRecord:
        self.requests.append(("create_queue", (friendly_name, max_size)))
        if any(queue.friendly_name == friendly_name for queue in self._queues):
            raise RestError(400, 22003, f"A queue named {friendly_name} already exists")
        queue = QueueRecord(
            self.new_sid("QU"), friendly_name, 0, max_size, 0, self.clock, self.clock
        )
        self._queues.append(queue)
        self._members[queue.sid] = []
        return queue

    def _replace_queue(self, queue: QueueRecord) -> None:
        self._queues = [queue if q.sid == queue.sid else q for q in self._queues]

    def members(self, queue_sid: str) -> Sequence[MemberRecord]:
        if queue_sid not in self._members:
            raise _missing("queue", queue_sid)
        return list(self._members[queue_sid])

    def dequeue(self, queue_sid: str, call_sid: str, url: str, method: str) -> MemberRecord:
        self.requests.append(("dequeue", (queue_sid, call_sid, url, method)))
        members = self._members[queue_sid]
        member = (
            members[0]
            if call_sid == "Front"
            else next(m for m in members if m.call_sid == call_sid)
        )
        members.remove(member)
        return member

    # Conferences and participants
    def conferences(self) -> Sequence[ConferenceRecord]:
        return list(self._conferences)

    def _conference(self, sid_or_name: str) -> ConferenceRecord:
        for conference in self._conferences:
            if sid_or_name in (conference.sid, conference.friendly_name):
                return conference
        raise _missing("conference", sid_or_name)

    def end_conference(self, sid: str) -> ConferenceRecord:
        self.requests.append(("end_conference", sid))
        conference = self._conference(sid)
        ended = replace(
            conference, status="completed", reason_conference_ended="conference-ended-via-api"
        )
        self._conferences[self._conferences.index(conference)] = ended
        return ended

    def announce_conference(self, sid: str, url: str, method: str) -> ConferenceRecord:
        self.requests.append(("announce_conference", (sid, url, method)))
        return self._conference(sid)

    def participants(self, conference_sid: str) -> Sequence[ParticipantRecord]:
        return list(self._participants[self._conference(conference_sid).sid])

    def add_participant(self, conference: str, request: NewParticipant) -> ParticipantRecord:
        self.requests.append(("add_participant", (conference, request)))
        try:
            found = self._conference(conference)
        except RestError:
            if conference.startswith("CF"):
                raise
            found = self.open_conference(conference)  # Twilio: a friendly name makes one
        call = self.create_call(OutboundCall(to=request.to, from_=request.from_))
        self.requests.pop()
        participant = ParticipantRecord(
            call.sid,
            found.sid,
            request.label,
            "queued",
            request.hold,
            request.muted,
            False,
            request.end_conference_on_exit,
            request.start_conference_on_enter,
            self.clock,
            self.clock,
        )
        self._participants[found.sid].append(participant)
        return participant

    def update_participant(
        self, conference_sid: str, call_sid: str, update: ParticipantUpdate
    ) -> ParticipantRecord:
        self.requests.append(("update_participant", (conference_sid, call_sid, update)))
        group = self._participants[conference_sid]
        old = next(p for p in group if p.call_sid == call_sid)
        changes = {
            name: value
            for name in ("hold", "muted", "end_conference_on_exit", "coaching", "call_sid_to_coach")
            if (value := getattr(update, name)) is not None
        }
        new = replace(old, **changes, updated=self.clock)
        group[group.index(old)] = new
        return new

    def remove_participant(self, conference_sid: str, call_sid: str) -> None:
        self.requests.append(("remove_participant", (conference_sid, call_sid)))
        group = self._participants[conference_sid]
        group[:] = [p for p in group if p.call_sid != call_sid]

    # Messages
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
        message = MessageRecord(
            self.new_sid("MM" if media_url else "SM"),
            to,
            from_,
            body,
            "queued",
            self.clock,
            messaging_service_sid,
            media_url,
            status_callback,
        )
        self.requests.append(("send_message", message))
        self._messages.insert(0, message)
        return message

    def messages(self) -> Sequence[MessageRecord]:
        return list(self._messages)

    def tick(self, seconds: float) -> None:
        """Move the double's clock on."""
        self.clock += timedelta(seconds=seconds)
