"""The Queues resource (list, create, fetch) and its Members (list, fetch, update = dequeue).

A member is named by its CallSid or by ``Front`` (the caller waiting longest). Updating a
member with ``Url`` (required) and ``Method`` takes it out of the queue and plays that URL's
TwiML to it: the switchboard does that on the live call.
"""

from __future__ import annotations

from flask import Blueprint, request

from hotline.sim.rest.params import Params, bad, switchboard
from hotline.sim.rest.resources import member_json, queue_json
from hotline.sim.rest.switchboard import MemberRecord, QueueRecord, not_found
from hotline.sim.rest.wire import JSON, Paging, list_page

queues = Blueprint("queues", __name__)

_MAX_NAME = 64
_DEFAULT_MAX_SIZE = 1000
_LARGEST_MAX_SIZE = 5000


@queues.get("/Queues.json")
def list_queues() -> JSON:
    """GET Queues.json."""
    board = switchboard()
    return list_page(
        request.path,
        [],
        board.queues(),
        key=lambda queue: queue.sid,
        render=lambda queue: queue_json(queue, board.account_sid),
        list_key="queues",
        paging=Paging.from_query(request.args),
    )


@queues.post("/Queues.json")
def create_queue() -> tuple[JSON, int]:
    """POST Queues.json: FriendlyName (required, up to 64 characters) and MaxSize."""
    params = Params.of_request()
    name = params.required(
        "FriendlyName", 20001, "Missing required parameter FriendlyName in the post body"
    )
    if len(name) > _MAX_NAME:
        raise bad(20001, f"FriendlyName is {len(name)} characters long: at most {_MAX_NAME}")
    max_size = params.integer("MaxSize", 1, _LARGEST_MAX_SIZE) or _DEFAULT_MAX_SIZE
    board = switchboard()
    return queue_json(board.create_queue(name, max_size), board.account_sid), 201


@queues.get("/Queues/<sid>.json")
def fetch_queue(sid: str) -> JSON:
    """GET Queues/{Sid}.json."""
    board = switchboard()
    return queue_json(_find_queue(sid), board.account_sid)


@queues.get("/Queues/<queue_sid>/Members.json")
def list_members(queue_sid: str) -> JSON:
    """GET Queues/{QueueSid}/Members.json: front first."""
    board = switchboard()
    _find_queue(queue_sid)
    return list_page(
        request.path,
        [],
        board.members(queue_sid),
        key=lambda member: member.call_sid,
        render=lambda member: member_json(member, board.account_sid),
        list_key="queue_members",
        paging=Paging.from_query(request.args),
    )


@queues.get("/Queues/<queue_sid>/Members/<call_sid>.json")
def fetch_member(queue_sid: str, call_sid: str) -> JSON:
    """GET Queues/{QueueSid}/Members/{CallSid|Front}.json."""
    board = switchboard()
    _find_queue(queue_sid)
    return member_json(_find_member(queue_sid, call_sid), board.account_sid)


@queues.post("/Queues/<queue_sid>/Members/<call_sid>.json")
def dequeue_member(queue_sid: str, call_sid: str) -> JSON:
    """POST Queues/{QueueSid}/Members/{CallSid|Front}.json with Url (required) and Method."""
    params = Params.of_request()
    url = params.url("Url", 11100)
    if url is None:
        raise bad(20001, "Missing required parameter Url in the post body")
    method = params.method("Method", "POST")
    board = switchboard()
    _find_queue(queue_sid)
    _find_member(queue_sid, call_sid)
    return member_json(board.dequeue(queue_sid, call_sid, url, method), board.account_sid)


def _find_queue(sid: str) -> QueueRecord:
    for queue in switchboard().queues():
        if queue.sid == sid:
            return queue
    raise not_found(request.path)


def _find_member(queue_sid: str, call_sid: str) -> MemberRecord:
    members = switchboard().members(queue_sid)
    if call_sid == "Front" and members:
        return members[0]
    for member in members:
        if member.call_sid == call_sid:
            return member
    raise not_found(request.path)
