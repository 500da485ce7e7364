"""An agent's console session: signed in with their id and token, a signed cookie after that, and
the session's CSRF token that every POST made with the cookie must carry.

The cookie is Flask's session, signed with ``$HOTLINE_SECRET_KEY``: every gunicorn worker (and
every machine behind a load balancer) must sign with the same key, so it is a setting, never
generated per process. Without it the console is off (its pages say how to turn it on) and the
API takes bearer tokens only. The session names the agent and a fingerprint of their token: a
token changed in the config signs out every session opened with the old one. It also carries the
agent's session generation (``store.agent_sessions``) it was signed in under: a sign-out bumps
it, so a copy of the cookie kept from before is signed out too (a cookie alone cannot be revoked).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping

from flask import Flask, Request, session

from hotline.config.agents import Agent
from hotline.config.settings import Settings
from hotline.errors import ConfigError
from hotline.store import agent_sessions
from hotline.store.database import Store

SECRET_KEY_ENV = "HOTLINE_SECRET_KEY"
SECRET_KEY_SHORTEST = 16
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
COOKIE_NAME = "hotline_session"
_AGENT = "agent"
_TOKEN = "token"
_CSRF = "csrf"
_GENERATION = "generation"


def init_app(app: Flask, settings: Settings) -> None:
    """Sign the app's sessions with ``$HOTLINE_SECRET_KEY`` (unset: no sessions, no console)."""
    key = os.environ.get(SECRET_KEY_ENV) or None
    if key is not None and len(key) < SECRET_KEY_SHORTEST:
        raise ConfigError(
            f"${SECRET_KEY_ENV} is {len(key)} characters long: use at least "
            f"{SECRET_KEY_SHORTEST} random ones (e.g. python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'), the same for every worker"
        )
    app.secret_key = key
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Behind https (a public base URL says so), the cookie never travels in clear.
        SESSION_COOKIE_SECURE=(settings.public_base_url or "").startswith("https://"),
    )


def sessions_on(app: Flask) -> bool:
    """Whether the app signs sessions (``$HOTLINE_SECRET_KEY`` is set)."""
    return bool(app.secret_key)


def sign_in(agent: Agent, store: Store) -> None:
    """Start ``agent``'s session: a new CSRF token, the agent, their token's fingerprint and
    their current session generation."""
    with store.engine.connect() as conn:
        generation = agent_sessions.generation(conn, agent.id)
    session.clear()
    session[_AGENT] = agent.id
    session[_TOKEN] = _fingerprint(agent)
    session[_GENERATION] = generation
    session[_CSRF] = secrets.token_urlsafe(32)


def sign_out(agents: Mapping[str, Agent], store: Store) -> None:
    """End the session: the cookie is emptied, and every copy of it (and every other session
    of the agent signed in before now) is signed out with it."""
    agent = signed_in_agent(agents, store)
    if agent is not None:
        with store.engine.begin() as conn:
            agent_sessions.end_sessions(conn, agent.id)
    session.clear()


def signed_in_agent(agents: Mapping[str, Agent], store: Store) -> Agent | None:
    """The agent this session belongs to, if still configured with the same token and not
    signed out since (its generation is the agent's current one)."""
    agent = _named_agent(agents)
    if agent is None:
        return None
    with store.engine.connect() as conn:
        current = agent_sessions.generation(conn, agent.id)
    generation = session.get(_GENERATION)
    if type(generation) is not int or generation != current:
        return None
    return agent


def _named_agent(agents: Mapping[str, Agent]) -> Agent | None:
    """The agent the session names, if still configured with the same token."""
    agent_id = session.get(_AGENT)
    agent = agents.get(agent_id) if isinstance(agent_id, str) else None
    if agent is None:
        return None
    fingerprint = session.get(_TOKEN)
    if not isinstance(fingerprint, str) or not hmac.compare_digest(
        fingerprint.encode(), _fingerprint(agent).encode()
    ):
        return None
    return agent


def csrf_token() -> str:
    """The session's CSRF token (made for a visitor who has none yet, e.g. on the login page)."""
    token = session.get(_CSRF)
    if not isinstance(token, str):
        token = session[_CSRF] = secrets.token_urlsafe(32)
    return token


def csrf_ok(req: Request) -> bool:
    """Whether ``req`` carries the session's CSRF token (header or form field)."""
    expected = session.get(_CSRF)
    offered = req.headers.get(CSRF_HEADER) or req.form.get(CSRF_FIELD) or ""
    if not isinstance(expected, str) or not offered:
        return False
    return hmac.compare_digest(offered.encode(), expected.encode())


def _fingerprint(agent: Agent) -> str:
    """A digest of the agent's token digest: names the token without revealing its digest."""
    return hashlib.sha256(f"hotline-session:{agent.token_sha256}".encode()).hexdigest()[:32]
