"""A conference room of the account: its participants, how it stands, what changes it from outside.

``Conference`` and ``Participant`` hold a room's state; ``record`` and ``participant_record`` show
them as the Conferences and Participants resources do. A REST request changes a room at once
(``update``: hold, mute, announce; ``remove``; ``end``), and each participant's call hears it
(``RoomChanged``). ``notify`` posts Twilio's conference events (``conference-start``,
``conference-end``, ``participant-join``, ``participant-leave``, ``participant-mute``/``-unmute``,
``participant-hold``/``-unhold``) to the ``statusCallback`` of the first participant that named
one, for the events it asked for. ``participant_twiml`` is the TwiML a REST-added participant's
call plays. A call's own stay in a room (join, wait, talk, leave) is in ``conferencing.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

from twilio.twiml.voice_response import Dial, VoiceResponse

from hotline.sim.engine.call import CallState
from hotline.sim.engine.interrupts import CallOver, PartyLeft
from hotline.sim.model import CallEnd
from hotline.sim.rest.switchboard import (
    ConferenceRecord,
    NewParticipant,
    ParticipantRecord,
    ParticipantUpdate,
    RestError,
)


class RoomChanged(PartyLeft):
    """Something changed in the participant's conference: it started or ended, or the
    participant was held, unheld, announced to or removed."""


@dataclass
class Participant:
    """One call in a conference, with its settings."""

    call: CallState
    label: str | None
    muted: bool
    start_on_enter: bool
    end_on_exit: bool
    beep_enter: bool
    beep_exit: bool
    wait_url: str | None  # None: Twilio's hold music; "": silence
    wait_method: str
    joined: datetime
    hold: bool = False
    hold_url: str | None = None
    hold_method: str = "GET"
    coaching: bool = False
    call_sid_to_coach: str | None = None
    announcements: list[tuple[str, str]] = field(default_factory=list)
    removed: bool = False


@dataclass
class Conference:
    """A conference room of the account: its participants and how it stands."""

    sid: str
    name: str
    created: datetime
    participants: list[Participant] = field(default_factory=list)
    started: bool = False
    ended: bool = False
    ended_reason: str | None = None
    ended_by: str | None = None
    callback: str | None = None  # the statusCallback URL, from the first participant naming one
    callback_events: frozenset[str] = frozenset()
    sequence: int = 0
    #: Settings a REST Participants create asked for, applied when that call joins.
    pending: dict[str, ParticipantUpdate] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """Twilio's status: init (nobody talks yet), in-progress, completed."""
        if self.ended:
            return "completed"
        return "in-progress" if self.started else "init"

    def find(self, call_sid: str) -> Participant:
        """The participant on ``call_sid`` (404 when it is not in the conference)."""
        for participant in self.participants:
            if participant.call.sid == call_sid or participant.label == call_sid:
                return participant
        raise RestError(404, 20404, f"The requested resource Participant {call_sid} was not found")

    def record(self, updated: datetime) -> ConferenceRecord:
        """The conference as the Conferences resource shows it."""
        return ConferenceRecord(
            sid=self.sid,
            friendly_name=self.name,
            status=self.status,
            created=self.created,
            updated=updated,
            reason_conference_ended=self.ended_reason,
            call_sid_ending_conference=self.ended_by,
        )

    def participant_record(self, participant: Participant, updated: datetime) -> ParticipantRecord:
        """A participant as the Participants resource shows it."""
        return ParticipantRecord(
            call_sid=participant.call.sid,
            conference_sid=self.sid,
            label=participant.label,
            status="connected",
            hold=participant.hold,
            muted=participant.muted,
            coaching=participant.coaching,
            end_conference_on_exit=participant.end_on_exit,
            start_conference_on_enter=participant.start_on_enter,
            created=participant.joined,
            updated=updated,
            call_sid_to_coach=participant.call_sid_to_coach,
        )


def end(conference: Conference, reason: str, by: CallState | None) -> None:
    """End ``conference``: everyone still in leaves and goes on after their ``<Dial>``."""
    if conference.ended:
        return
    conference.ended = True
    conference.ended_reason = reason
    conference.ended_by = by.sid if by is not None else None
    notify(conference, "conference-end", None, via=by)
    tell_everyone(conference)


def tell_everyone(conference: Conference, but: CallState | None = None) -> None:
    """Every participant's call (but ``but``'s) hears at once that the room changed."""
    for participant in conference.participants:
        call = participant.call
        if call is not but and call.actor is not None and call.network is not None:
            call.network.world.interrupt(call.actor, RoomChanged())


def update(conference: Conference, participant: Participant, change: ParticipantUpdate) -> None:
    """Apply a REST update to ``participant``; its call hears the change at once."""
    before = (participant.hold, participant.muted)
    apply_change(participant, change)
    if participant.muted != before[1]:
        notify(
            conference,
            "participant-mute" if participant.muted else "participant-unmute",
            participant,
        )
    if participant.hold != before[0]:
        notify(
            conference,
            "participant-hold" if participant.hold else "participant-unhold",
            participant,
        )
    call = participant.call
    if call.actor is not None and call.network is not None:
        call.network.world.interrupt(call.actor, RoomChanged())


def apply_change(participant: Participant, change: ParticipantUpdate) -> None:
    """Set what ``change`` names on ``participant`` (its call is not told: see ``update``)."""
    if change.hold is not None:
        participant.hold = change.hold
    if change.hold_url is not None:
        participant.hold_url = change.hold_url
        participant.hold_method = change.hold_method
    if change.muted is not None:
        participant.muted = change.muted
    if change.announce_url is not None:
        participant.announcements.append((change.announce_url, change.announce_method))
    if change.end_conference_on_exit is not None:
        participant.end_on_exit = change.end_conference_on_exit
    if change.coaching is not None:
        participant.coaching = change.coaching
    if change.call_sid_to_coach is not None:
        participant.call_sid_to_coach = change.call_sid_to_coach


def remove(participant: Participant) -> None:
    """Take ``participant`` out: Twilio hangs its call up."""
    participant.removed = True
    call = participant.call
    if call.actor is not None and call.network is not None:
        why = "removed from the conference through the REST API"
        call.network.world.interrupt(call.actor, CallOver(CallEnd.COMPLETED, why))


def notify(
    conference: Conference,
    event: str,
    participant: Participant | None,
    via: CallState | None = None,
) -> None:
    """Post ``event`` to the conference's status callback, if it asked for it.

    The request goes out on ``participant``'s call, else ``via``'s, else any participant's.
    """
    if conference.callback is None or event not in conference.callback_events:
        return
    who = participant.call if participant is not None else via
    who = who or _anyone(conference.participants)
    if who is None:
        return
    conference.sequence += 1
    params = {
        "ConferenceSid": conference.sid,
        "FriendlyName": conference.name,
        "AccountSid": who.sim.account_sid,
        "SequenceNumber": str(conference.sequence),
        "Timestamp": format_datetime(who.clock.now),
        "StatusCallbackEvent": event,
    }
    if participant is not None:
        params.update(
            {
                "CallSid": participant.call.sid,
                "Muted": str(participant.muted).lower(),
                "Hold": str(participant.hold).lower(),
                "Coaching": str(participant.coaching).lower(),
                "EndConferenceOnExit": str(participant.end_on_exit).lower(),
                "StartConferenceOnEnter": str(participant.start_on_enter).lower(),
            }
        )
        if participant.label:
            params["ParticipantLabel"] = participant.label
    if event == "conference-end":
        params["ReasonConferenceEnded"] = _reason_code(conference.ended_reason)
        if conference.ended_by:
            params["CallSidEndingConference"] = conference.ended_by
    who.notify(conference.callback, params, event)


def _anyone(participants: Sequence[Participant]) -> CallState | None:
    return participants[0].call if participants else None


def _reason_code(reason: str | None) -> str:
    if reason and "endConferenceOnExit" in reason:
        return "participant-with-end-conference-on-exit-left"
    if reason and "REST" in reason:
        return "conference-ended-via-api"
    return "last-participant-left"


def participant_twiml(name: str, request: NewParticipant) -> str:
    """The TwiML a REST-added participant's call plays: ``<Dial><Conference>`` with its settings."""
    response = VoiceResponse()
    dial = Dial()
    settings: dict[str, str] = {
        "start_conference_on_enter": str(request.start_conference_on_enter).lower(),
        "end_conference_on_exit": str(request.end_conference_on_exit).lower(),
        "muted": str(request.muted).lower(),
        "beep": request.beep,
    }
    if request.label:
        settings["participant_label"] = request.label
    if request.wait_url is not None:
        settings["wait_url"] = request.wait_url
        settings["wait_method"] = request.wait_method
    if request.conference_status_callback:
        settings["status_callback"] = request.conference_status_callback
        settings["status_callback_event"] = " ".join(request.conference_status_callback_event)
        settings["status_callback_method"] = request.conference_status_callback_method
    if request.call_sid_to_coach:
        settings["coach"] = request.call_sid_to_coach
    dial.conference(name, **settings)
    response.append(dial)
    return str(response)
