"""The account's conferences in a session, and the Conferences and Participants resources.

A room is found by name (a ``<Dial><Conference>``, ``conferencing.py``; a new one once the last of
that name ended) or by SID. A REST request ends a room, announces to it, adds a participant (an
outbound call that dials in), or holds, mutes, announces to or removes one, at the instant it is
made. A room's own state and what changes it are in ``conference.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from hotline.sim.engine.account import Account
from hotline.sim.engine.conference import Conference, end, participant_twiml, remove
from hotline.sim.engine.conference import update as conference_update
from hotline.sim.engine.world import World
from hotline.sim.rest.switchboard import (
    ConferenceRecord,
    NewParticipant,
    OutboundCall,
    ParticipantRecord,
    ParticipantUpdate,
    RestError,
    not_found,
)


class LiveConferences(Account):
    """The account's conferences: calls dial into them by name, the REST API changes them."""

    def __init__(self, world: World, account_sid: str, seed: str) -> None:
        super().__init__(world, account_sid, seed)
        self._conferences: dict[str, Conference] = {}

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
        call = self.place_call(outbound)
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
