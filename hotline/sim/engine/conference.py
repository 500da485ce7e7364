"""``<Dial><Conference>``: named rooms where several calls talk, held, muted, announced to.

A conference is made by the first call that dials its name and *starts* (audio is mixed) once
at least two participants are in and one of them came with ``startConferenceOnEnter`` (true by
default); until then each participant hears its ``waitUrl`` (Twilio's hold music by default,
nothing for ``waitUrl=""``). It ends when its last participant leaves or one who came with
``endConferenceOnExit`` leaves: everyone still in goes on with the TwiML after their ``<Dial>``
(its ``action``, with ``DialCallStatus=completed``). A participant on hold hears its hold music
(``holdUrl``) instead of the others. ``statusCallback`` gets Twilio's conference events
(``conference-start``, ``conference-end``, ``participant-join``, ``participant-leave``,
``participant-mute``/``-unmute``, ``participant-hold``/``-unhold``) for the events the first
participant that named a callback asked for (``statusCallbackEvent``: start, end, join, leave,
mute, hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Protocol, runtime_checkable
from urllib.parse import urljoin

from twilio.twiml.voice_response import Dial, VoiceResponse

from hotline.sim.engine import twiml
from hotline.sim.engine.call import CallState, Leg
from hotline.sim.engine.interrupts import CallOver, PartyLeft
from hotline.sim.engine.playback import Segment, play_segments
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.model import CallEnd, UnsupportedTwiML, WebhookFailed, Who
from hotline.sim.rest.switchboard import (
    ConferenceRecord,
    NewParticipant,
    ParticipantRecord,
    ParticipantUpdate,
    RestError,
)

#: The verbs Twilio plays from a conference's waitUrl, holdUrl or announceUrl.
_WAIT_VERBS = frozenset({"Say", "Play", "Pause", "Redirect"})
#: statusCallbackEvent names -> the StatusCallbackEvent values they ask for.
_EVENT_GROUPS = {
    "start": ("conference-start",),
    "end": ("conference-end",),
    "join": ("participant-join",),
    "leave": ("participant-leave",),
    "mute": ("participant-mute", "participant-unmute"),
    "hold": ("participant-hold", "participant-unhold"),
}
_BEEPS = {"true": (True, True), "false": (False, False), "onEnter": (True, False),
          "onExit": (False, True)}  # fmt: skip
_LONG = 14400.0


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


def dial_conference(
    call: CallState,
    conference: Conference,
    noun: Verb,
    doc: Document,
    time_limit: float,
) -> dict[str, str]:
    """Play a call's stay in ``conference`` from joining to leaving; return the Dial outcome."""
    participant = _join(call, conference, noun, doc)
    joined = call.clock.elapsed
    ended_by_limit = False
    try:
        ended_by_limit = _attend(call, conference, participant, doc, joined + time_limit)
    finally:
        _leave(call, conference, participant, "time limit" if ended_by_limit else "left")
    return {
        "DialCallStatus": "completed",
        "DialCallSid": call.sid,
        "DialCallDuration": str(round(call.clock.elapsed - joined)),
        "ConferenceSid": conference.sid,
    }


def _join(call: CallState, conference: Conference, noun: Verb, doc: Document) -> Participant:
    beep = noun.attrs.get("beep", "true")
    if beep not in _BEEPS:
        raise twiml.invalid(noun, "beep", "true, false, onEnter or onExit")
    wait_url = noun.attrs.get("waitUrl")
    participant = Participant(
        call=call,
        label=noun.attrs.get("participantLabel"),
        muted=twiml.flag(noun, "muted", False),
        start_on_enter=twiml.flag(noun, "startConferenceOnEnter", True),
        end_on_exit=twiml.flag(noun, "endConferenceOnExit", False),
        beep_enter=_BEEPS[beep][0],
        beep_exit=_BEEPS[beep][1],
        wait_url=urljoin(doc.url, wait_url) if wait_url else wait_url,
        wait_method=twiml.method(noun, "waitMethod"),
        joined=call.clock.now,
        coaching=bool(noun.attrs.get("coach")),
        call_sid_to_coach=noun.attrs.get("coach") or None,
    )
    callback = noun.attrs.get("statusCallback")
    if callback and conference.callback is None:
        conference.callback = urljoin(doc.url, callback)
        names = noun.attrs.get("statusCallbackEvent", "").replace(",", " ").split()
        unknown = [name for name in names if name not in _EVENT_GROUPS and name != "speaker"]
        if unknown:
            raise twiml.invalid(noun, "statusCallbackEvent", "start, end, join, leave, mute, hold")
        conference.callback_events = frozenset(
            event for name in names for event in _EVENT_GROUPS.get(name, ())
        )
    pending = conference.pending.pop(call.sid, None)
    if pending is not None:
        _apply(participant, pending)
    for other in conference.participants:
        if participant.beep_enter:
            _beep(other.call, "joined")
    conference.participants.append(participant)
    call.emit(
        Who.TWILIO,
        "conference",
        f"joined {conference.name}",
        url=doc.url,
        detail={"ConferenceSid": conference.sid, "participants": str(len(conference.participants))},
    )
    notify(conference, "participant-join", participant)
    if (
        not conference.started
        and len(conference.participants) >= 2
        and any(p.start_on_enter for p in conference.participants)
    ):
        conference.started = True
        notify(conference, "conference-start", None)
        _tell_everyone(conference, but=call)
    return participant


def _attend(
    call: CallState, conference: Conference, participant: Participant, doc: Document, until: float
) -> bool:
    """Stay in the conference until it ends or the participant goes; True at the time limit."""
    while not conference.ended and not participant.removed:
        try:
            if participant.announcements:
                url, method = participant.announcements.pop(0)
                _play_url(call, url, method, "an announceUrl", {})
            elif participant.hold:
                _play_music(call, participant.hold_url, participant.hold_method, "a holdUrl")
            elif not conference.started:
                _play_music(call, participant.wait_url, participant.wait_method, "a waitUrl")
            else:
                left = until - call.clock.elapsed
                if left <= 0:
                    return True
                call.spend(left)
                return True
        except PartyLeft:
            continue  # look again: started, ended, held, announced to...
    return False


def _play_music(call: CallState, url: str | None, method: str, what: str) -> None:
    if url is None:
        hold = Segment("play", "[hold music]", call.sim.timing.play, 1, {})
        play_segments(call, [hold], _music_leg(call, what))
    elif url == "":
        call.spend(_LONG)  # silence until something changes
    else:
        _play_url(call, url, method, what, {})


def _play_url(call: CallState, url: str, method: str, what: str, extra: dict[str, str]) -> None:
    leg = _music_leg(call, what)
    doc = call.fetch(url, method, leg, extra)
    if not doc.verbs:
        call.spend(call.sim.timing.play)  # an empty answer would otherwise loop at once
    call.run_leg(doc, leg)


def _music_leg(call: CallState, what: str) -> Leg:
    return Leg(
        call.main.params,
        "in-progress",
        Who.APP,
        call.main.actor,
        call.caller.respond,
        _WAIT_VERBS,
        f"{what} of a conference",
        is_caller=call.main.is_caller,
        heard=call.main.heard,
    )


def _leave(call: CallState, conference: Conference, participant: Participant, how: str) -> None:
    if participant not in conference.participants:
        return
    conference.participants.remove(participant)
    call.emit(
        Who.TWILIO,
        "conference",
        f"left {conference.name}",
        detail={"ConferenceSid": conference.sid, "how": how},
    )
    notify(conference, "participant-leave", participant)
    for other in conference.participants:
        if participant.beep_exit:
            _beep(other.call, "left")
    if conference.ended:
        return
    if participant.end_on_exit or not conference.participants:
        reason = (
            "Participant with endConferenceOnExit left the conference"
            if participant.end_on_exit
            else "Last participant left the conference"
        )
        end(conference, reason, call)


def end(conference: Conference, reason: str, by: CallState | None) -> None:
    """End ``conference``: everyone still in leaves and goes on after their ``<Dial>``."""
    if conference.ended:
        return
    conference.ended = True
    conference.ended_reason = reason
    conference.ended_by = by.sid if by is not None else None
    notify(conference, "conference-end", None, via=by)
    _tell_everyone(conference)


def _tell_everyone(conference: Conference, but: CallState | None = None) -> None:
    for participant in conference.participants:
        call = participant.call
        if call is not but and call.actor is not None and call.network is not None:
            call.network.world.interrupt(call.actor, RoomChanged())


def _beep(call: CallState, why: str) -> None:
    call.emit(Who.TWILIO, "play", "[beep]", detail={"why": f"a participant {why}"})


def update(conference: Conference, participant: Participant, change: ParticipantUpdate) -> None:
    """Apply a REST update to ``participant``; its call hears the change at once."""
    before = (participant.hold, participant.muted)
    _apply(participant, change)
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


def _apply(participant: Participant, change: ParticipantUpdate) -> None:
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


@runtime_checkable
class RoomKeeper(Protocol):
    """A network that keeps conferences (``network.Network``)."""

    def conference_named(self, name: str) -> Conference:
        """The conference called ``name`` now (a new one if none is going on)."""
        ...


def room_for(call: CallState, noun: Verb, doc: Document) -> Conference:
    """The conference a ``<Conference>`` noun names, in the call's network."""
    if not noun.text:
        raise WebhookFailed(f"<Conference> without a name (from {doc.url})")
    network: object = call.network
    if not isinstance(network, RoomKeeper):
        raise UnsupportedTwiML(f"<Conference> needs calls placed in a session (from {doc.url})")
    return network.conference_named(noun.text)


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
