"""The Conferences resource (list, fetch, update) and its Participants (list, fetch, create,
update, delete).

A participant is named by its CallSid or by the ``Label`` it was given. A participant is created
in a conference named by its SID or, as Twilio allows, by its friendly name (the conference
starts when someone joins it). Whether the conference or the call exists, and whether the change
makes sense now, is the switchboard's to say.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from hotline.sim.rest.params import (
    CALL_EVENTS,
    CONFERENCE_EVENTS,
    Params,
    bad,
    date_filters_hold,
    is_voice_endpoint,
    switchboard,
)
from hotline.sim.rest.resources import conference_json, participant_json
from hotline.sim.rest.switchboard import (
    ConferenceRecord,
    NewParticipant,
    ParticipantRecord,
    ParticipantUpdate,
    not_found,
)
from hotline.sim.rest.wire import JSON, Paging, list_page

conferences = Blueprint("conferences", __name__)

_BEEPS = ("true", "false", "onEnter", "onExit")
_DATE_FILTERS = ("DateCreated", "DateCreated<", "DateCreated>")
_UPDATE_FILTERS = ("DateUpdated", "DateUpdated<", "DateUpdated>")


@conferences.get("/Conferences.json")
def list_conferences() -> JSON:
    """GET Conferences.json: filtered by FriendlyName, Status, DateCreated and DateUpdated."""
    params = Params.of_request()
    board = switchboard()
    filters = params.filters("FriendlyName", "Status", *_DATE_FILTERS, *_UPDATE_FILTERS)
    wanted = dict(filters)
    chosen = [
        conference
        for conference in board.conferences()
        if wanted.get("FriendlyName", conference.friendly_name) == conference.friendly_name
        and wanted.get("Status", conference.status) == conference.status
        and date_filters_hold(wanted, "DateCreated", conference.created)
        and date_filters_hold(wanted, "DateUpdated", conference.updated)
    ]
    return list_page(
        request.path,
        filters,
        chosen,
        key=lambda conference: conference.sid,
        render=lambda conference: conference_json(conference, board.account_sid),
        list_key="conferences",
        paging=Paging.from_query(request.args),
    )


@conferences.get("/Conferences/<sid>.json")
def fetch_conference(sid: str) -> JSON:
    """GET Conferences/{Sid}.json."""
    return conference_json(_find_conference(sid), switchboard().account_sid)


@conferences.post("/Conferences/<sid>.json")
def update_conference(sid: str) -> JSON:
    """POST Conferences/{Sid}.json: Status=completed ends it; AnnounceUrl plays to everyone."""
    params = Params.of_request()
    status = params.text("Status")
    if status is not None and status != "completed":
        raise bad(20001, f"Status can only be completed, got {status!r}")
    announce_url = params.url("AnnounceUrl", 11100)
    announce_method = params.method("AnnounceMethod", "POST")
    board = switchboard()
    conference = _find_conference(sid)
    if announce_url is not None:
        conference = board.announce_conference(sid, announce_url, announce_method)
    if status is not None:
        conference = board.end_conference(sid)
    return conference_json(conference, board.account_sid)


@conferences.get("/Conferences/<conference_sid>/Participants.json")
def list_participants(conference_sid: str) -> JSON:
    """GET Conferences/{ConferenceSid}/Participants.json: filtered by Muted, Hold, Coaching."""
    params = Params.of_request()
    board = switchboard()
    _find_conference(conference_sid)
    muted, hold = params.boolean("Muted"), params.boolean("Hold")
    coaching = params.boolean("Coaching")
    chosen = [
        participant
        for participant in board.participants(conference_sid)
        if muted in (None, participant.muted)
        and hold in (None, participant.hold)
        and coaching in (None, participant.coaching)
    ]
    return list_page(
        request.path,
        params.filters("Muted", "Hold", "Coaching"),
        chosen,
        key=lambda participant: participant.call_sid,
        render=lambda participant: participant_json(participant, board.account_sid),
        list_key="participants",
        paging=Paging.from_query(request.args),
    )


@conferences.get("/Conferences/<conference_sid>/Participants/<path:call_sid>.json")
def fetch_participant(conference_sid: str, call_sid: str) -> JSON:
    """GET Conferences/{ConferenceSid}/Participants/{CallSid|Label}.json."""
    participant = _find_participant(conference_sid, call_sid)
    return participant_json(participant, switchboard().account_sid)


@conferences.post("/Conferences/<conference_sid>/Participants.json")
def create_participant(conference_sid: str) -> tuple[JSON, int]:
    """POST Conferences/{ConferenceSid}/Participants.json: dial To into the conference."""
    params = Params.of_request()
    to = params.required("To", 21201, "No 'To' number is specified")
    from_ = params.required("From", 21213, "No 'From' number is specified")
    if not is_voice_endpoint(to):
        raise bad(21211, f"The 'To' number {to} is not a valid phone number.")
    if not is_voice_endpoint(from_):
        raise bad(21212, f"The 'From' number {from_} is not a valid phone number or client.")
    beep = params.text("Beep") or "true"
    if beep not in _BEEPS:
        raise bad(20001, f"Beep must be one of {', '.join(_BEEPS)}, got {beep!r}")
    wait_url = params.raw("WaitUrl")
    if wait_url:  # an empty WaitUrl is documented: nothing plays while waiting
        params.url("WaitUrl", 11100)
    callback = params.url("StatusCallback", 11100)
    conference_callback = params.url("ConferenceStatusCallback", 11100)
    coaching, call_sid_to_coach = _coaching(params)
    request_ = NewParticipant(
        to=to,
        from_=from_,
        label=params.text("Label"),
        muted=_flag(params.boolean("Muted"), False),
        # Hold is no create parameter in Twilio's API: a participant is held by an update
        beep=beep,
        start_conference_on_enter=_flag(params.boolean("StartConferenceOnEnter"), True),
        end_conference_on_exit=_flag(params.boolean("EndConferenceOnExit"), False),
        wait_url=wait_url,
        wait_method=params.method("WaitMethod", "POST"),
        timeout=float(params.integer("Timeout", 5, 600) or 60),
        status_callback=callback,
        status_callback_method=params.method("StatusCallbackMethod", "POST"),
        # Twilio's documented defaults: completed; start and end for the conference's events
        status_callback_event=(
            params.events("StatusCallbackEvent", CALL_EVENTS)
            or (("completed",) if callback else ())
        ),
        conference_status_callback=conference_callback,
        conference_status_callback_method=params.method("ConferenceStatusCallbackMethod", "POST"),
        conference_status_callback_event=(
            params.events("ConferenceStatusCallbackEvent", CONFERENCE_EVENTS)
            or (("start", "end") if conference_callback else ())
        ),
        early_media=_flag(params.boolean("EarlyMedia"), True),
        coaching=_flag(coaching, False),
        call_sid_to_coach=call_sid_to_coach,
    )
    board = switchboard()
    return participant_json(board.add_participant(conference_sid, request_), board.account_sid), 201


@conferences.post("/Conferences/<conference_sid>/Participants/<path:call_sid>.json")
def update_participant(conference_sid: str, call_sid: str) -> JSON:
    """POST Conferences/{ConferenceSid}/Participants/{CallSid|Label}.json."""
    params = Params.of_request()
    muted = params.text("Muted")
    coaching, call_sid_to_coach = _coaching(params)
    update = ParticipantUpdate(
        hold=params.boolean("Hold"),
        hold_url=params.url("HoldUrl", 11100),
        hold_method=params.method("HoldMethod", "GET"),
        # Twilio: "Any value other than true or false is interpreted as false"
        muted=None if muted is None else muted.lower() == "true",
        announce_url=params.url("AnnounceUrl", 11100),
        announce_method=params.method("AnnounceMethod", "POST"),
        end_conference_on_exit=params.boolean("EndConferenceOnExit"),
        coaching=coaching,
        call_sid_to_coach=call_sid_to_coach,
    )
    board = switchboard()
    participant = _find_participant(conference_sid, call_sid)
    changed = board.update_participant(conference_sid, participant.call_sid, update)
    return participant_json(changed, board.account_sid)


@conferences.delete("/Conferences/<conference_sid>/Participants/<path:call_sid>.json")
def delete_participant(conference_sid: str, call_sid: str) -> Response:
    """DELETE Conferences/{ConferenceSid}/Participants/{CallSid|Label}.json: 204, no body."""
    participant = _find_participant(conference_sid, call_sid)
    switchboard().remove_participant(conference_sid, participant.call_sid)
    return Response(status=204)


def _flag(value: bool | None, default: bool) -> bool:
    return default if value is None else value


def _coaching(params: Params) -> tuple[bool | None, str | None]:
    """Coaching and CallSidToCoach as Twilio documents them: Coaching is true when only
    CallSidToCoach is given, and Coaching=true needs CallSidToCoach; ``None``: not given."""
    coaching = params.boolean("Coaching")
    call_sid_to_coach = params.text("CallSidToCoach")
    if coaching and call_sid_to_coach is None:
        raise bad(20001, "Coaching=true needs CallSidToCoach: the participant being coached")
    if coaching is None and call_sid_to_coach is not None:
        coaching = True
    return coaching, call_sid_to_coach


def _find_conference(sid: str) -> ConferenceRecord:
    for conference in switchboard().conferences():
        if conference.sid == sid:
            return conference
    raise not_found(request.path)


def _find_participant(conference_sid: str, call_sid_or_label: str) -> ParticipantRecord:
    _find_conference(conference_sid)
    for participant in switchboard().participants(conference_sid):
        if call_sid_or_label in (participant.call_sid, participant.label):
            return participant
    raise not_found(request.path)
