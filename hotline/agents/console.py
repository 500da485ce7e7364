"""The agents' console at ``/agent``: sign in with the agent's id and token, the agent's state
with its buttons, today's queue figures (``figures_panel``: rendered here, fetched again by the
script's polling), the callers in line (kept fresh by ``static/console.js``
polling the JSON API), take and transfer. Server-rendered; every POST carries the session's CSRF
token (``login``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

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
from werkzeug.wrappers import Response as BaseResponse

from hotline.agents import login, presence
from hotline.agents import queue as agents_queue
from hotline.agents.figures_panel import duration_text, todays_panel
from hotline.agents.roster import Roster
from hotline.agents.states import AgentState, Cause, Verdict
from hotline.config.agents import Agent
from hotline.config.settings import Settings
from hotline.ivr.flow import Flow
from hotline.store.database import get_store

EXTENSION = "hotline.console"
TRANSFER_KINDS = ("warm", "cold", "queue", "thread")
log = logging.getLogger(__name__)
bp = Blueprint(
    "console",
    __name__,
    url_prefix="/agent",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@dataclass(frozen=True)
class _Console:
    """What the console's views need from the settings."""

    roster: Roster
    queue: str
    wrap_up_seconds: int
    settings: Settings  # the queue figures' timezone and service level
    flow: Flow  # the callers' topics in words


def init_app(app: Flask, settings: Settings, flow: Flow) -> None:
    """Sign sessions with ``$HOTLINE_SECRET_KEY`` and serve the console at ``/agent``."""
    login.init_app(app, settings)
    app.extensions[EXTENSION] = _Console(
        Roster.from_settings(settings), settings.queue, settings.wrap_up_seconds, settings, flow
    )
    app.add_template_filter(duration_text, "duration")
    app.register_blueprint(bp)


def _console() -> _Console:
    found: _Console = current_app.extensions[EXTENSION]
    return found


@bp.before_request
def _sessions_needed() -> tuple[str, int] | None:
    """Without a session secret no page works: say how to turn the console on."""
    return login.pages_off("agents/disabled.html", "console.static")


@bp.get("/")
def console() -> BaseResponse | str:
    """The console of the signed-in agent (else the login page)."""
    agent = _agent()
    if agent is None:
        return redirect(url_for("console.login_form"))
    conf = _console()
    now = datetime.now(UTC)
    store = get_store(current_app)
    with store.engine.execution_options(hotline_read_only=True).connect() as conn:
        status = presence.status_of(conn, agent.id, now, conf.wrap_up_seconds)
        shown = agents_queue.as_agents_see_them(conn, conf.settings, conf.flow, now)
        callers = [c.as_dict() for c in shown]
    return render_template(
        "agents/console.html",
        agent=agent,
        status=status,
        callers=callers,
        panel=todays_panel(store, conf.settings, now),
        service_level_seconds=conf.settings.service_level_seconds,
        queue=conf.queue,
        kinds=TRANSFER_KINDS,
        agent_ids=sorted(conf.roster.agents),
        csrf_token=login.csrf_token(),
        csrf_header=login.CSRF_HEADER,
    )


@bp.get("/figures")
def figures() -> tuple[str, int] | str:
    """Today's figures panel alone, as the console's script swaps it in on every poll."""
    if _agent() is None:
        # Not the sign-in page: the script sends the browser there on a 401.
        return "signed out", 401
    conf = _console()
    return render_template(
        "agents/figures_panel.html",
        panel=todays_panel(get_store(current_app), conf.settings, datetime.now(UTC)),
        service_level_seconds=conf.settings.service_level_seconds,
        queue=conf.queue,
    )


@bp.get("/login")
def login_form() -> BaseResponse | str:
    """The sign-in form (an agent already signed in goes to the console)."""
    if _agent() is not None:
        return redirect(url_for("console.console"))
    return render_template("agents/login.html", csrf_token=login.csrf_token(), error=None)


@bp.post("/login")
def sign_in() -> BaseResponse | tuple[str, int]:
    """Agent id and token: the console's session, or the form again with what went wrong."""
    _require_csrf()
    agent_id = request.form.get("agent", "").strip()
    agent = _console().roster.check(agent_id, request.form.get("token", "").strip())
    if agent is None:
        log.info("console sign-in refused for agent id %r", agent_id[:64])  # never the token
        error = "Wrong agent id or token."
        page = render_template(
            "agents/login.html", csrf_token=login.csrf_token(), error=error, agent_id=agent_id
        )
        return page, 401
    login.sign_in(agent, get_store(current_app))
    log.info("agent %s signed in to the console", agent.id)
    return redirect(url_for("console.console"))


@bp.post("/logout")
def sign_out() -> BaseResponse:
    """End the session; back to the sign-in form."""
    _require_csrf()
    login.sign_out(get_store(current_app))
    return redirect(url_for("console.login_form"))


@bp.post("/state")
def set_state() -> BaseResponse | tuple[str, int]:
    """The state buttons without JavaScript (the console's script calls the JSON API instead)."""
    agent = _agent()
    if agent is None:
        return redirect(url_for("console.login_form"))
    _require_csrf()
    wanted = request.form.get("state", "")
    if wanted not in (AgentState.AVAILABLE, AgentState.OFFLINE):
        abort(400)
    conf = _console()
    outcome = presence.change_state(
        get_store(current_app),
        agent.id,
        AgentState(wanted),
        Cause.AGENT,
        by=agent.id,
        why="set by the agent",
        now=datetime.now(UTC),
        wrap_up_seconds=conf.wrap_up_seconds,
    )
    if outcome.decision.verdict is Verdict.REFUSED:
        return render_template("agents/refused.html", reason=outcome.decision.reason), 409
    return redirect(url_for("console.console"))


def _agent() -> Agent | None:
    return login.signed_in_agent(_console().roster.agents, get_store(current_app))


def _require_csrf() -> None:
    """403 unless the form (or header) carries the session's CSRF token."""
    login.require_csrf("console")
