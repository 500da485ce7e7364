"""The Message Center's JSON API: threads and Discussions, their messages, forwarding.

``Authorization: Bearer <token>``: the operator's (sees every thread, writes as any party), a
seller's (only the threads of their orders: any other id is 404, never 403), a warehouse
agent's (every thread; responds in those assigned to the warehouse). Every error is JSON with a
message; bad input is a 400, a party that may not respond a 403, and a refused request writes
nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from hotline.errors import Invalid, NotAllowed
from hotline.messages import conversation, forwarding
from hotline.messages.threads import (
    buyer_link,
    issue_buyer_key,
    open_conversation,
    thread_as_dict,
)
from hotline.messages.visibility import OPERATOR, Viewer, thread_query
from hotline.store.database import db_session, get_store
from hotline.store.models import ThreadRow
from hotline.web.mc_actors import current_viewer, require_viewer
from hotline.web.webhook import directory, settings, utc_now

bp = Blueprint("threads_api", __name__, url_prefix="/api")
ID_MAX = 2**31 - 1  # the store's integer ids: a larger one is no thread (and no database error)
PARTIES = ("seller", "warehouse")
OPEN_FIELDS = {"order", "topic", "reason", "text", "seller", "product"}
MESSAGE_FIELDS = {"author", "text"}
FORWARD_FIELDS = {"to", "note"}
_TRUE = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class _BadRequest(Exception):
    """A request this API refuses before doing anything; the message says why."""


def _error(message: str, status: int) -> tuple[Response, int]:
    return jsonify(error=message), status


@bp.errorhandler(_BadRequest)
@bp.errorhandler(Invalid)
def _invalid(exc: Exception) -> tuple[Response, int]:
    return _error(str(exc), 400)


@bp.errorhandler(NotAllowed)
def _not_allowed(exc: NotAllowed) -> tuple[Response, int]:
    return _error(str(exc), 403)


@bp.get("/threads")
@require_viewer
def list_threads() -> Response:
    """The threads the caller sees, newest first; filters ``seller``, ``party``/``assigned``
    (seller|warehouse) and ``unanswered`` (true|false)."""
    args = {name: _query_arg(name) for name in ("seller", "party", "assigned", "unanswered")}
    assigned = args["assigned"] or args["party"]
    if assigned is not None and assigned not in PARTIES:
        raise _BadRequest(f"assigned must be seller or warehouse, got {assigned!r}")
    unanswered = None
    if args["unanswered"] is not None:
        if args["unanswered"].lower() not in _TRUE:
            raise _BadRequest(f"unanswered must be true or false, got {args['unanswered']!r}")
        unanswered = _TRUE[args["unanswered"].lower()]
    viewer = current_viewer()
    query = thread_query(viewer, seller=args["seller"], assigned=assigned, unanswered=unanswered)
    threads = db_session().scalars(query).all()
    return jsonify(threads=[thread_as_dict(t) for t in threads])


@bp.get("/threads/<int:thread_id>")
@require_viewer
def get_thread(thread_id: int) -> Response | tuple[Response, int]:
    """One thread with its messages (404 when the caller does not see it)."""
    thread = _visible_thread(db_session(), current_viewer(), thread_id)
    if thread is None:
        return _no_thread(thread_id)
    return jsonify(thread_as_dict(thread))


@bp.post("/threads")
@require_viewer
def open_thread() -> tuple[Response, int]:
    """Open a buyer's thread: ``{"order", "topic" | "reason", "text"}`` (plus ``seller`` on a
    combined order, ``product`` for a Discussion); 201 with the thread and the buyer's link."""
    viewer = current_viewer()
    body = _body(OPEN_FIELDS)
    if viewer.role != OPERATOR:
        raise NotAllowed("only the operator's token opens a thread for a buyer")
    order_id = _field(body, "order", required=True)
    assert order_id is not None
    order = directory().order(order_id)
    if order is None:
        raise _BadRequest(f"unknown order {order_id!r}")
    conf = settings()
    with get_store(current_app).session() as session:
        opened = open_conversation(
            session,
            conf.routing,
            order,
            text=body.get("text"),  # type: ignore[arg-type]  # checked there: a 400 if not text
            now=utc_now(),
            topic=_field(body, "topic"),
            reason=_field(body, "reason"),
            seller=_field(body, "seller"),
            product=_field(body, "product"),
        )
        shown = thread_as_dict(opened.thread)
        shown["buyer_link"] = opened.buyer_link
    return jsonify(shown), 201


@bp.post("/threads/<int:thread_id>/messages")
@require_viewer
def post_message(thread_id: int) -> tuple[Response, int]:
    """Write in a thread as ``author`` (the operator names any; others write as themselves):
    201 with the message, 403 when that party may not respond, 404 for a thread not seen."""
    viewer = current_viewer()
    body = _body(MESSAGE_FIELDS)
    role = _field(body, "author", required=viewer.role == OPERATOR)
    text = body.get("text")
    with get_store(current_app).session() as session:
        thread = _visible_thread(session, viewer, thread_id)
        if thread is None:
            return _no_thread(thread_id)
        author = viewer.author(role, thread)
        message = conversation.write(session, thread, author, text, utc_now())  # type: ignore[arg-type]
        shown = thread_as_dict(thread)
    [written] = [m for m in shown["messages"] if m["id"] == message.id]  # type: ignore[attr-defined]
    return jsonify(message=written, thread=shown), 201


@bp.post("/threads/<int:thread_id>/forward")
@require_viewer
def forward_thread(thread_id: int) -> tuple[Response, int]:
    """Forward a thread to the other party with a note (only its assignee may; the operator
    acts as the assignee): 200 with the thread."""
    viewer = current_viewer()
    body = _body(FORWARD_FIELDS)
    to = _field(body, "to", required=True)
    assert to is not None
    with get_store(current_app).session() as session:
        thread = _visible_thread(session, viewer, thread_id)
        if thread is None:
            return _no_thread(thread_id)
        by = viewer.author(thread.party if viewer.role == OPERATOR else None, thread)
        forwarding.forward(session, thread, by, to, body.get("note"), utc_now())  # type: ignore[arg-type]
        shown = thread_as_dict(thread)
    return jsonify(shown), 200


@bp.post("/threads/<int:thread_id>/buyer-link")
@require_viewer
def new_buyer_link(thread_id: int) -> tuple[Response, int]:
    """A new link for the thread's buyer (the operator's; any earlier link stops working):
    how a buyer of a thread the hotline opened from a call gets one."""
    viewer = current_viewer()
    with get_store(current_app).session() as session:
        thread = _visible_thread(session, viewer, thread_id)
        if thread is None:
            return _no_thread(thread_id)
        if viewer.role != OPERATOR:
            raise NotAllowed("only the operator's token issues a buyer's link")
        secret = issue_buyer_key(session, thread)
    return jsonify(thread=thread_id, buyer_link=buyer_link(thread_id, secret)), 200


def _visible_thread(session: Any, viewer: Viewer, thread_id: int) -> ThreadRow | None:
    if thread_id > ID_MAX:
        return None
    thread: ThreadRow | None = session.get(ThreadRow, thread_id)
    return thread if thread is not None and viewer.sees(thread) else None


def _no_thread(thread_id: int) -> tuple[Response, int]:
    return _error(f"no thread {thread_id}", 404)


def _body(fields: set[str]) -> dict[str, object]:
    """The request's JSON object, with no field this endpoint does not know."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _BadRequest("expected a JSON object as the body (Content-Type: application/json)")
    unknown = sorted(set(body) - fields)
    if unknown:
        raise _BadRequest(f"unknown field {unknown[0]!r}; expected: {', '.join(sorted(fields))}")
    return body


def _field(body: dict[str, object], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _BadRequest(f'"{name}" is required')
        return None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise _BadRequest(f'"{name}" must be a non-empty string of at most 200 characters')
    return value


def _query_arg(name: str) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if "\x00" in value or len(value) > 200:
        raise _BadRequest(f"{name}: not a value this API knows")
    return value
