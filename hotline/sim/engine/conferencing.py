"""``<Dial><Conference>``: a call's stay in a named room, from joining to leaving.

A conference is made by the first call that dials its name and *starts* (audio is mixed) once
at least two participants are in and one of them came with ``startConferenceOnEnter`` (true by
default); until then each participant hears its ``waitUrl`` (Twilio's hold music by default,
nothing for ``waitUrl=""``). It ends when its last participant leaves or one who came with
``endConferenceOnExit`` leaves: everyone still in goes on with the TwiML after their ``<Dial>``
(its ``action``, with ``DialCallStatus=completed``). A participant on hold hears its hold music
(``holdUrl``) instead of the others, and an announcement (``announceUrl``) before going back.
The ``statusCallback`` a participant names (with its ``statusCallbackEvent``: start, end, join,
leave, mute, hold) is the room's if it has none yet. The room itself is in ``conference.py``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable
from urllib.parse import urljoin

from hotline.sim.engine import twiml
from hotline.sim.engine.call import CallState, Leg
from hotline.sim.engine.conference import (
    Conference,
    Participant,
    apply_change,
    end,
    notify,
    tell_everyone,
)
from hotline.sim.engine.interrupts import PartyLeft
from hotline.sim.engine.playback import Segment, play_segments
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.model import UnsupportedTwiML, WebhookFailed, Who

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
        apply_change(participant, pending)
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
        tell_everyone(conference, but=call)
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


def _beep(call: CallState, why: str) -> None:
    call.emit(Who.TWILIO, "play", "[beep]", detail={"why": f"a participant {why}"})


@runtime_checkable
class RoomKeeper(Protocol):
    """A network that keeps conferences (``network.Network``, by ``live_conferences.py``)."""

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
