"""The Message Center's pages: a seller's (``/messages``, signed in with the seller's token), the
warehouse's (the same pages, signed in with a warehouse agent's token) and the buyer's reply page
behind the thread's link (``/t/<id>/<secret>``, no sign-in).

Server-rendered forms that work without JavaScript; every POST carries the session's CSRF token
(``hotline.agents.login``, the console's sessions: an agent signed in here is signed in to the
console too). Reading and writing go through ``hotline.messages`` as the JSON API does: the same
visibility (a thread a viewer may not see is a 404), the one-party rule (a refusal is shown with
its reason, 403, nothing written) and the 2,000-character limit (400).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from hotline.agents import login
from hotline.errors import Invalid, NotAllowed
from hotline.messages import conversation, forwarding
from hotline.messages.conversation import BUYER, NOTE, SELLER, TEXT_MAX, WAREHOUSE
from hotline.messages.inbox import inbox, standing_of
from hotline.messages.quality import seller_quality, warehouse_quality
from hotline.messages.threads import buyer_key_ok, reference, without_link_secrets
from hotline.messages.visibility import Viewer
from hotline.rules.sales_quality import window_ending
from hotline.store.database import db_session, get_store
from hotline.store.models import ThreadRow
from hotline.web.mc_actors import seller_holding
from hotline.web.security import get_guard
from hotline.web.webhook import settings, utc_now

_Action = Callable[[Session, ThreadRow], None]  # a write in one thread, in its transaction
ID_MAX = 2**31 - 1  # the store's integer ids: a larger one is no thread (and no database error)
log = logging.getLogger(__name__)
bp = Blueprint(
    "message_pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/messages/static",
)


def init_app(app: Flask) -> None:
    """Serve the Message Center's pages (sessions as the console's: ``login.init_app``)."""
    app.add_template_filter(reference, "reference")
    app.register_blueprint(bp)


@bp.before_request
def _sessions_needed() -> tuple[str, int] | None:
    """Without a session secret no page works (no CSRF token): say how to turn them on."""
    return login.pages_off("messages/disabled.html", "message_pages.static")


@dataclass(frozen=True)
class _Party:
    """Who is signed in: the viewer, and their name for the page."""

    viewer: Viewer
    name: str

    @property
    def role(self) -> str:
        """seller or warehouse."""
        return self.viewer.role


@bp.get("/messages")
def message_center() -> BaseResponse | str:
    """The signed-in party's list, with the seller's sales-quality figures (else the sign-in)."""
    party = _signed_in()
    if party is None:
        return redirect(url_for("message_pages.login_form"))
    conf = settings()
    now = utc_now()
    hours = conf.routing.response_hours
    session = db_session()
    shown = inbox(session, party.viewer, now, hours)
    window = window_ending(now, conf.routing.sales_quality_window_days)
    if party.role == SELLER:
        assert party.viewer.id is not None
        figures = seller_quality(session, party.viewer.id, window, now, hours)
    else:
        figures = warehouse_quality(session, window, now, hours)
    return render_template(
        "messages/list.html",
        party=party,
        inbox=shown,
        figures=figures,
        window_days=conf.routing.sales_quality_window_days,
        csrf_token=login.csrf_token(),
    )


@bp.get("/messages/login")
def login_form() -> BaseResponse | str:
    """The sign-in form (someone signed in already goes to their list)."""
    if _signed_in() is not None:
        return redirect(url_for("message_pages.message_center"))
    return render_template("messages/login.html", csrf_token=login.csrf_token(), error=None)


@bp.post("/messages/login")
def sign_in() -> BaseResponse | tuple[str, int]:
    """A seller's or a warehouse agent's token: their session, or the form again with why not."""
    _require_csrf()
    token = request.form.get("token", "").strip()
    agent = get_guard().roster.holder_of(token)
    seller_id = seller_holding(settings(), token) if agent is None else None
    if agent is not None:
        login.sign_in(agent, get_store(current_app))
        log.info("agent %s signed in to the Message Center", agent.id)
    elif seller_id is not None:
        digest = _seller_digests()[seller_id]
        assert digest is not None
        login.sign_in_seller(seller_id, digest, get_store(current_app))
        log.info("seller %s signed in to the Message Center", seller_id)
    else:
        log.info("Message Center sign-in refused")  # never the token
        error = "That token is no seller's or warehouse agent's."
        return render_template(
            "messages/login.html", csrf_token=login.csrf_token(), error=error
        ), 401
    return redirect(url_for("message_pages.message_center"))


@bp.post("/messages/logout")
def sign_out() -> BaseResponse:
    """End the session; back to the sign-in form."""
    _require_csrf()
    login.sign_out(get_store(current_app))
    return redirect(url_for("message_pages.login_form"))


@bp.get("/messages/<int:thread_id>")
def thread_page(thread_id: int) -> BaseResponse | str | tuple[str, int]:
    """One thread with its messages and notes; reply and forward when the party may respond."""
    party = _signed_in()
    if party is None:
        return redirect(url_for("message_pages.login_form"))
    return _render_thread(party, thread_id)


@bp.post("/messages/<int:thread_id>/reply")
def reply(thread_id: int) -> BaseResponse | str | tuple[str, int]:
    """The party's response; the thread again, or with the error (400 text, 403 refusal)."""
    party = _signed_in()
    if party is None:
        return redirect(url_for("message_pages.login_form"))
    _require_csrf()
    text = request.form.get("text", "")

    def act(session: Session, thread: ThreadRow) -> None:
        conversation.write(session, thread, party.viewer.author(None, thread), text, utc_now())

    return _act(party, thread_id, act, "reply", text)


@bp.post("/messages/<int:thread_id>/forward")
def forward(thread_id: int) -> BaseResponse | str | tuple[str, int]:
    """Forward to the other party with a note (only the assignee may)."""
    party = _signed_in()
    if party is None:
        return redirect(url_for("message_pages.login_form"))
    _require_csrf()
    note = request.form.get("note", "")
    to = WAREHOUSE if party.role == SELLER else SELLER

    def act(session: Session, thread: ThreadRow) -> None:
        by = party.viewer.author(None, thread)
        forwarding.forward(session, thread, by, to, note, utc_now())

    return _act(party, thread_id, act, "forward", note)


@bp.after_request
def _no_referrer_from_a_link(response: BaseResponse) -> BaseResponse:
    """A buyer's page asks browsers to send no Referer: it would carry the link's secret to
    wherever the page leads (its stylesheet's request, a link the buyer follows)."""
    if request.path.startswith("/t/"):
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/t/<int:thread_id>/<secret>")
def buyer_page(thread_id: int, secret: str) -> str | tuple[str, int]:
    """The buyer's page of their thread: its messages (never the notes) and a reply form."""
    thread = _buyers_thread(db_session(), thread_id, secret)
    return _render_buyer(thread, secret)


@bp.post("/t/<int:thread_id>/<secret>")
def buyer_reply(thread_id: int, secret: str) -> BaseResponse | str | tuple[str, int]:
    """The buyer's message in their thread; the page again, or with the error."""
    _require_csrf()
    text = request.form.get("text", "")
    try:
        with get_store(current_app).session() as session:
            thread = _buyers_thread(session, thread_id, secret)
            conversation.write(session, thread, conversation.Author(BUYER), text, utc_now())
    except Invalid as exc:
        thread = _buyers_thread(db_session(), thread_id, secret)
        return _render_buyer(thread, secret, error=str(exc), text=text, status=400)
    return redirect(url_for("message_pages.buyer_page", thread_id=thread_id, secret=secret))


def _signed_in() -> _Party | None:
    """The seller or warehouse agent this session belongs to."""
    agent = login.signed_in_agent(get_guard().roster.agents, get_store(current_app))
    if agent is not None:
        return _Party(Viewer(WAREHOUSE, agent.id), f"{agent.name} (warehouse)")
    seller_id = login.signed_in_seller(_seller_digests(), get_store(current_app))
    if seller_id is None:
        return None
    found = next(s for s in settings().sellers if s.id == seller_id)
    return _Party(Viewer(SELLER, seller_id), found.name)


def _seller_digests() -> dict[str, str | None]:
    return {s.id: s.token_sha256 for s in settings().sellers}


def _visible(session: Session, viewer: Viewer, thread_id: int) -> ThreadRow:
    """The thread if ``viewer`` sees it; else 404 (never 403: no hint that it exists)."""
    thread = session.get(ThreadRow, thread_id) if thread_id <= ID_MAX else None
    if thread is None or not viewer.sees(thread):
        abort(404)
    return thread


def _buyers_thread(session: Session, thread_id: int, secret: str) -> ThreadRow:
    """The thread whose link this is; 404 for any other id or secret."""
    thread = session.get(ThreadRow, thread_id) if thread_id <= ID_MAX else None
    if thread is None or not buyer_key_ok(thread, secret):
        abort(404)
    return thread


def _act(
    party: _Party,
    thread_id: int,
    act: _Action,
    form: str,
    text: str,
) -> BaseResponse | str | tuple[str, int]:
    """Run ``act`` on the thread in one transaction; refused or invalid: nothing is written and
    the page shows why, with what was typed kept in the form."""
    try:
        with get_store(current_app).session() as session:
            act(session, _visible(session, party.viewer, thread_id))
    except NotAllowed as exc:
        return _render_thread(party, thread_id, error=str(exc), form=form, text=text, status=403)
    except Invalid as exc:
        return _render_thread(party, thread_id, error=str(exc), form=form, text=text, status=400)
    return redirect(url_for("message_pages.thread_page", thread_id=thread_id))


def _render_thread(
    party: _Party,
    thread_id: int,
    *,
    error: str | None = None,
    form: str | None = None,
    text: str = "",
    status: int = 200,
) -> str | tuple[str, int]:
    conf = settings()
    thread = _visible(db_session(), party.viewer, thread_id)
    may_respond = conversation.refusal(thread, party.viewer.author(None, thread)) is None
    page = render_template(
        "messages/thread.html",
        party=party,
        thread=thread,
        entry=standing_of(thread, utc_now(), conf.routing.response_hours),
        may_respond=may_respond,
        forward_to=WAREHOUSE if party.role == SELLER else SELLER,
        can_forward=may_respond and (party.role == SELLER or thread.seller_id is not None),
        error=error,
        error_form=form,
        text=text,
        text_max=TEXT_MAX,
        note_kind=NOTE,
        csrf_token=login.csrf_token(),
    )
    return page if status == 200 else (page, status)


def _render_buyer(
    thread: ThreadRow,
    secret: str,
    *,
    error: str | None = None,
    text: str = "",
    status: int = 200,
) -> str | tuple[str, int]:
    page = render_template(
        "messages/buyer.html",
        thread=thread,
        secret=secret,
        messages=[m for m in thread.messages if m.kind != NOTE],
        error=error,
        text=text,
        text_max=TEXT_MAX,
        csrf_token=login.csrf_token(),
    )
    return page if status == 200 else (page, status)


def _require_csrf() -> None:
    """403 unless the form carries the session's CSRF token."""
    # A buyer's link holds their secret: never logged.
    login.require_csrf("Message Center", without_link_secrets(request.path))
