"""The Calls resource: list, fetch, create (an outbound call) and update (redirect or hang up).

Codes for a malformed request are the Calls resource's own (Twilio's error dictionary, 212xx):
21201 no ``To``, 21213 no ``From``, 21211 / 21212 a ``To`` / ``From`` that is no number, client or
SIP address, 21205 a missing or bad ``Url``, 21209 a bad ``Method``, 21218 an ``ApplicationSid``
(the stand-in has no applications), 21626 an unknown ``StatusCallbackEvent``. A call that is no
longer in progress (21220) or is unknown (20404) is the switchboard's to refuse.
"""

from __future__ import annotations

from flask import Blueprint, request

from hotline.sim.rest.params import (
    CALL_EVENTS,
    Params,
    bad,
    date_filters_hold,
    is_voice_endpoint,
    switchboard,
)
from hotline.sim.rest.resources import call_json
from hotline.sim.rest.switchboard import CallRecord, CallUpdate, OutboundCall, not_found
from hotline.sim.rest.wire import JSON, Paging, list_page

calls = Blueprint("calls", __name__)

_MAX_TWIML = 4000  # characters, as Twilio documents for the Twiml parameter
_MAX_TIMEOUT = 600


@calls.get("/Calls.json")
def list_calls() -> JSON:
    """GET Calls.json: filtered by To, From, Status, ParentCallSid and the start and end dates."""
    params = Params.of_request()
    board = switchboard()
    filters = params.filters(
        "To", "From", "Status", "ParentCallSid", *_DATE_FILTERS_START, *_DATE_FILTERS_END
    )
    wanted = dict(filters)
    chosen = [call for call in board.calls() if _matches(call, wanted)]
    return list_page(
        request.path,
        filters,
        chosen,
        key=lambda call: call.sid,
        render=lambda call: call_json(call, board.account_sid),
        list_key="calls",
        paging=Paging.from_query(request.args),
    )


@calls.get("/Calls/<sid>.json")
def fetch_call(sid: str) -> JSON:
    """GET Calls/{Sid}.json."""
    board = switchboard()
    return call_json(find_call(sid), board.account_sid)


@calls.post("/Calls.json")
def create_call() -> tuple[JSON, int]:
    """POST Calls.json: place an outbound call; Twilio answers 201 with the call ``queued``."""
    params = Params.of_request()
    to = params.required("To", 21201, "No 'To' number is specified")
    from_ = params.required("From", 21213, "No 'From' number is specified")
    if not is_voice_endpoint(to):
        raise bad(21211, f"The 'To' number {to} is not a valid phone number.")
    if not is_voice_endpoint(from_):
        raise bad(21212, f"The 'From' number {from_} is not a valid phone number or client.")
    if params.text("ApplicationSid") is not None:
        raise bad(21218, "Invalid ApplicationSid: the stand-in has no TwiML applications")
    url = params.url("Url", 21205)
    twiml = params.text("Twiml")
    if url is None and twiml is None:
        raise bad(21205, "Url parameter is required: give a Url or Twiml")
    if url is not None:
        twiml = None  # Twilio: when both are given, Twiml is ignored
    _check_twiml(twiml)
    callback = params.url("StatusCallback", 21205)
    request_ = OutboundCall(
        to=to,
        from_=from_,
        url=url,
        method=params.method("Method", "POST"),
        twiml=twiml,
        status_callback=callback,
        status_callback_method=params.method("StatusCallbackMethod", "POST"),
        status_callback_event=params.events("StatusCallbackEvent", CALL_EVENTS) or ("completed",),
        timeout=float(params.integer("Timeout", 1, _MAX_TIMEOUT) or 60),
        time_limit=float(params.integer("TimeLimit", 1) or 14400),
        caller_id=params.text("CallerId"),
    )
    board = switchboard()
    return call_json(board.create_call(request_), board.account_sid), 201


@calls.post("/Calls/<sid>.json")
def update_call(sid: str) -> JSON:
    """POST Calls/{Sid}.json: new TwiML (Url or Twiml) or a new Status (completed, canceled)."""
    params = Params.of_request()
    status = params.text("Status")
    if status is not None and status not in ("completed", "canceled"):
        raise bad(20001, f"Status must be completed or canceled, got {status!r}")
    url = params.url("Url", 21205)
    twiml = None if url is not None else params.text("Twiml")  # as on create, Url wins
    _check_twiml(twiml)
    callback = params.url("StatusCallback", 21205)
    board = switchboard()
    if status is None and url is None and twiml is None and callback is None:
        return call_json(find_call(sid), board.account_sid)  # nothing to change
    update = CallUpdate(
        url=url,
        method=params.method("Method", "POST"),
        twiml=twiml,
        status=status,
        status_callback=callback,
        status_callback_method=params.method("StatusCallbackMethod", "POST"),
    )
    return call_json(board.update_call(sid, update), board.account_sid)


def find_call(sid: str) -> CallRecord:
    """The call with ``sid``, or Twilio's 404."""
    for call in switchboard().calls():
        if call.sid == sid:
            return call
    raise not_found(request.path)


def _check_twiml(twiml: str | None) -> None:
    if twiml is not None and len(twiml) > _MAX_TWIML:
        raise bad(20001, f"Twiml is {len(twiml)} characters long: at most {_MAX_TWIML}")


_DATE_FILTERS_START = ("StartTime", "StartTime<", "StartTime>")
_DATE_FILTERS_END = ("EndTime", "EndTime<", "EndTime>")


def _matches(call: CallRecord, wanted: dict[str, str]) -> bool:
    simple = (
        ("To", call.to),
        ("From", call.from_),
        ("Status", call.status),
        ("ParentCallSid", call.parent_call_sid),
    )
    if any(name in wanted and wanted[name] != value for name, value in simple):
        return False
    return date_filters_hold(wanted, "StartTime", call.start_time) and date_filters_hold(
        wanted, "EndTime", call.end_time
    )
