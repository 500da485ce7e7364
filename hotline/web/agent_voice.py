"""The webhooks of the agents' calls (``/voice/agent/...``): the agent's call, the caller's moves
out of the queue and on (conference, cold, back to the queue, thread), the seller's screening.

Every one is signed by Twilio (checked as for ``/voice``) and answers TwiML, never a 5xx: an
error is logged and the person on that call hears an apology (the caller is then sent on the
safe path, an agent or the seller hangs up). The work is ``hotline.agents``'; the caller's own
steps go through ``webhook.run`` so they are in the call's record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Flask, Response, current_app, request

from hotline.agents import consult, taking, warm
from hotline.agents.calls import Links
from hotline.agents.transfers import Desk, open_transfer_thread
from hotline.ivr.flow import Step
from hotline.ivr.reply import Reply
from hotline.ivr.steps import Turn
from hotline.ivr.wording import spell_digits
from hotline.messages.threads import reference
from hotline.rules.handoff import seller_available
from hotline.store import queue_entries, transfers
from hotline.store.database import get_store
from hotline.store.queue_entries import Claim
from hotline.twilio_rest.client import client_of
from hotline.web.security import require_twilio_signature
from hotline.web.webhook import apology, directory, flow, run, settings, twiml, utc_now

log = logging.getLogger(__name__)
bp = Blueprint("agent_voice", __name__, url_prefix="/voice/agent")
bp.before_request(require_twilio_signature)


def desk() -> Desk:
    """What the agents' work needs, for this request."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return Desk(
        store=get_store(app),
        client=lambda: client_of(app),
        settings=settings(),
        flow=flow(),
        directory=directory(),
        links=links(),
        now=utc_now(),
    )


def links() -> Links:
    """Absolute URLs of this app: the public base URL, else the URL this request came to."""
    return Links(settings().public_base_url or request.host_url.rstrip("/") + request.script_root)


def _safe(view: Callable[[], Reply]) -> Callable[[], Response]:
    """Answer ``view``'s TwiML; on any error, log it and answer an apology and a hang-up."""

    @wraps(view)
    def wrapped() -> Response:
        try:
            return twiml(view())
        except Exception:
            log.exception("webhook %s failed for call %s", request.path, _sid())
            reply = apology(None, utc_now(), "goodbye")
            return twiml(reply)

    return wrapped


def _sid() -> str:
    return request.form.get("CallSid", "-")[:64]


def _number(name: str) -> int:
    """A whole number from the URL (ValueError: the safe path)."""
    return int(request.args.get(name, ""))


def _claim() -> Claim:
    """The claim the agent's call was placed for, as its URLs name it."""
    with get_store(current_app).engine.connect() as conn:
        entry = queue_entries.entry_by_id(conn, _number("entry"))
    if entry is None:
        raise LookupError(f"no queue entry {request.args.get('entry')}")
    return Claim(entry.id, entry.call_sid, request.args.get("agent", ""), _number("claim"))


# -- the agent's call -----------------------------------------------------------------------


@bp.post("/answer")
@_safe
def answer() -> Reply:
    """The agent picked up: the caller's context, then the conference they share."""
    d = desk()
    return taking.answered(
        d.store, d.client, d.settings, d.flow, d.directory, d.links, _claim(), d.now
    )


@bp.post("/status")
@_safe
def status() -> Reply:
    """Status callback of the agent's call: not answered frees the caller; ended, wrap-up."""
    d = desk()
    call_status = request.form.get("CallStatus", "")[:32]
    claim = _claim()
    what = taking.agent_status(d.store, d.settings, claim, call_status, d.now)
    log.info("agent call %s %s: %s", _sid(), call_status, what)
    consult.agent_gone(d, claim.call_sid)  # hung up in a warm transfer's consult: unhold
    return Reply()


@bp.post("/left")
@_safe
def left() -> Reply:
    """The agent's conference ended: wrap-up (a warm transfer in progress is over)."""
    d = desk()
    entry_id = _number("entry")
    with d.store.engine.connect() as conn:
        entry = queue_entries.entry_by_id(conn, entry_id)
    if entry is not None:
        warm.caller_left(d, entry.call_sid)
        consult.agent_gone(d, entry.call_sid)
    return taking.agent_left(
        d.store, d.settings, d.flow, entry_id, request.args.get("agent", ""), d.now
    )


# -- the caller's call ----------------------------------------------------------------------


@bp.post("/join")
def join() -> Response:
    """The caller, moved out of the queue: into the agent's conference."""

    def work(turn: Turn) -> None:
        entry = queue_entries.entry_by_id(turn.store.session().connection(), _number("entry"))
        turn.response = taking.join(turn.settings, turn.flow, entry, links())
        turn.trail.append(f"agent conference {entry.conference if entry else '?'}")

    return run("agent/join", work, safe_path="goodbye")


@bp.post("/after")
def after() -> Response:
    """The caller's conference ended (the agent hung up): goodbye."""

    def work(turn: Turn) -> None:
        turn.call.outcome = turn.call.outcome or "agent_took_call"
        turn.say(turn.prompt("goodbye"))
        turn.response.hangup()

    return run("agent/after", work, safe_path="hangup")


@bp.post("/cold")
def cold() -> Response:
    """A cold transfer: the caller goes into the IVR's seller handoff (its fallbacks apply)."""

    def work(turn: Turn) -> None:
        found = transfers.get(turn.store.session().connection(), _number("transfer"))
        if found is None or found.target is None:
            raise LookupError("no such cold transfer")
        turn.call.seller_id = found.target
        seller = turn.directory.seller(found.target)
        hours = seller.hours if seller is not None else None
        if not seller_available(turn.settings.hours, hours, turn.now):
            transfers.settle(turn.store.session().connection(), found.id, "outside_hours", turn.now)
        turn.enter(_handoff_step(turn).name)

    return run("agent/cold", work, safe_path="goodbye")


@bp.post("/requeue")
def requeue() -> Response:
    """Back to the queue: the IVR's queue step (the entry keeps the caller's place)."""

    def work(turn: Turn) -> None:
        step = next(s for s in turn.flow.steps.values() if s.kind == "enqueue")
        turn.enter(step.name)

    return run("agent/requeue", work)


@bp.post("/thread")
def thread() -> Response:
    """Into a thread: the caller hears its reference, then goodbye."""

    def work(turn: Turn) -> None:
        session = turn.store.session()
        found = transfers.get(session.connection(), _number("transfer"))
        entry = queue_entries.entry(session.connection(), found.call_sid) if found else None
        if found is None or entry is None:
            raise LookupError("no such thread transfer")
        # Opened here too: Twilio may ask for this before the transfer's request has opened it.
        thread_id = open_transfer_thread(
            session, turn.directory, turn.settings.routing, entry, found, turn.now
        )
        warehouse = found.target == "warehouse"
        if not warehouse:
            turn.call.seller_id = found.target  # the prompt names the seller
        turn.call.thread_id = thread_id
        turn.call.outcome = "thread_opened"
        ref = spell_digits(reference(thread_id))
        turn.say(
            turn.prompt("thread_done_warehouse" if warehouse else "thread_done", reference=ref)
        )
        turn.say(turn.prompt("goodbye"))
        turn.response.hangup()

    return run("agent/thread", work, safe_path="goodbye")


@bp.post("/hold")
@_safe
def hold() -> Reply:
    """The held caller's hold TwiML during a warm transfer."""
    return warm.hold(desk(), _number("transfer"))


@bp.post("/unheld")
@_safe
def unheld() -> Reply:
    """The announcement a caller hears as they are taken off hold (``to``: agent or seller)."""
    return warm.unheld(desk(), _number("transfer"), request.args.get("to", ""))


# -- the seller's screening (warm transfer) --------------------------------------------------


@bp.post("/screen")
@_safe
def screen() -> Reply:
    """The seller picked up: the subject and the agent's summary, press 1 to take the call."""
    return warm.screen(desk(), _number("transfer"))


@bp.post("/screen/answer")
@_safe
def screen_answer() -> Reply:
    """The seller's key: 1 joins the caller; anything else (or none) gives them back."""
    return warm.screen_answer(desk(), _number("transfer"), request.form.get("Digits", ""))


@bp.post("/screen/status")
@_safe
def screen_status() -> Reply:
    """Status callback of the seller's call: busy, no answer, failed give the caller back."""
    call_status = request.form.get("CallStatus", "")[:32]
    log.info("seller call %s %s: %s", _sid(), call_status, "")
    warm.screen_status(desk(), _number("transfer"), call_status)
    return Reply()


@bp.post("/screen/done")
@_safe
def screen_done() -> Reply:
    """The seller left the conference: a caller still held is back with the agent."""
    if "transfer" in request.args:  # (older calls' URLs name none)
        consult.seller_gone(desk(), _number("transfer"))
    reply = Reply()
    reply.hangup()
    return reply


def _handoff_step(turn: Turn) -> Step:
    """Where the IVR hands a caller to their seller: the seller-hours branch, else the dial."""
    steps = turn.flow.steps.values()
    for step in steps:
        if step.kind == "branch" and step.test == "seller_available":
            return step
    return next(s for s in steps if s.kind == "dial_seller")


def init_app(app: Flask) -> None:
    """Register the agents' webhooks."""
    app.register_blueprint(bp)
