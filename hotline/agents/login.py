"""A page session: an agent (the console, the warehouse's Message Center) or a seller (their
Message Center) signed in with their token, a signed cookie after that, and the session's CSRF
token that every POST made with the cookie must carry.

The cookie is Flask's session, signed with ``$HOTLINE_SECRET_KEY``: every gunicorn worker (and
every machine behind a load balancer) must sign with the same key, so it is a setting, never
generated per process. Without it the pages are off (they say how to turn them on) and the API
takes bearer tokens only. The session names its holder and a fingerprint of their token: a token
changed in the config signs out every session opened with the old one. It also carries the
holder's session generation (``store.agent_sessions``) it was signed in under: a sign-out bumps
it, so a copy of the cookie kept from before is signed out too (a cookie alone cannot be revoked).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Mapping

from flask import Flask, Request, Response, abort, current_app, render_template, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from hotline.config.agents import Agent
from hotline.config.settings import Settings
from hotline.errors import ConfigError
from hotline.store import agent_sessions
from hotline.store.database import Store

log = logging.getLogger(__name__)
SECRET_KEY_ENV = "HOTLINE_SECRET_KEY"
SECRET_KEY_SHORTEST = 16
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
COOKIE_NAME = "hotline_session"
_AGENT = "agent"
_SELLER = "seller"
_TOKEN = "token"
_CSRF = "csrf"
_GENERATION = "generation"


def init_app(app: Flask, settings: Settings) -> None:
    """Sign the app's sessions with ``$HOTLINE_SECRET_KEY`` (unset: no sessions, no pages)."""
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


class PageSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, never opened for requests under ``sessionless`` path
    prefixes: Twilio's webhooks, where nobody signs in. Opening one costs every webhook a cookie
    parse and a new signer, and saving it a look at the cookie settings (``make bench``
    measured some 20 µs a webhook, with the session secret set)."""

    def __init__(self, sessionless: tuple[str, ...] = ()) -> None:
        self.sessionless = sessionless

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The request's session; ``None`` (Flask's null session, never saved) under a
        sessionless prefix."""
        path = request.path
        for prefix in self.sessionless:
            if path == prefix or path.startswith(prefix + "/"):
                return None
        return super().open_session(app, request)


def leave_out_of_sessions(app: Flask, *prefixes: str) -> None:
    """Open no session for requests under ``prefixes`` (each a path such as ``/voice``)."""
    app.session_interface = PageSessions(prefixes)


def sessions_on(app: Flask) -> bool:
    """Whether the app signs sessions (``$HOTLINE_SECRET_KEY`` is set)."""
    return bool(app.secret_key)


def sign_in(agent: Agent, store: Store) -> None:
    """Start ``agent``'s session: a new CSRF token, the agent, their token's fingerprint and
    their current session generation."""
    _start(_AGENT, agent.id, agent.token_sha256, store)


def sign_in_seller(seller_id: str, token_sha256: str, store: Store) -> None:
    """Start a seller's session (their Message Center), as ``sign_in`` does an agent's."""
    _start(_SELLER, seller_id, token_sha256, store)


def sign_out(store: Store) -> None:
    """End the session: the cookie is emptied, and every copy of it (and every other session
    of its holder signed in before now) is signed out with it."""
    for kind in (_AGENT, _SELLER):
        holder = session.get(kind)
        if isinstance(holder, str) and _current(kind, holder, store):
            with store.engine.begin() as conn:
                agent_sessions.end_sessions(conn, _key(kind, holder))
    session.clear()


def signed_in_agent(agents: Mapping[str, Agent], store: Store) -> Agent | None:
    """The agent this session belongs to, if still configured with the same token and not
    signed out since (its generation is the agent's current one)."""
    found = _holder(_AGENT, {a.id: a.token_sha256 for a in agents.values()}, store)
    return agents[found] if found is not None else None


def signed_in_seller(token_digests: Mapping[str, str | None], store: Store) -> str | None:
    """The id of the seller this session belongs to, if still configured with the same token
    and not signed out since (``token_digests``: each seller's ``token_sha256``)."""
    return _holder(_SELLER, token_digests, store)


def _start(kind: str, holder: str, token_sha256: str, store: Store) -> None:
    with store.engine.connect() as conn:
        generation = agent_sessions.generation(conn, _key(kind, holder))
    session.clear()
    session[kind] = holder
    session[_TOKEN] = _fingerprint(token_sha256)
    session[_GENERATION] = generation
    session[_CSRF] = secrets.token_urlsafe(32)


def _holder(kind: str, token_digests: Mapping[str, str | None], store: Store) -> str | None:
    """The ``kind`` (agent, seller) id the session names, if its token is still the same and
    its generation the holder's current one."""
    holder = session.get(kind)
    digest = token_digests.get(holder) if isinstance(holder, str) else None
    if holder is None or digest is None:
        return None
    fingerprint = session.get(_TOKEN)
    if not isinstance(fingerprint, str) or not hmac.compare_digest(
        fingerprint.encode(), _fingerprint(digest).encode()
    ):
        return None
    return holder if _current(kind, holder, store) else None


def _current(kind: str, holder: str, store: Store) -> bool:
    """Whether the session's generation is still its holder's (no sign-out since)."""
    with store.engine.connect() as conn:
        current = agent_sessions.generation(conn, _key(kind, holder))
    generation = session.get(_GENERATION)
    return type(generation) is int and generation == current


def _key(kind: str, holder: str) -> str:
    """The holder's row in the generations: an agent's id as it is, a seller's prefixed (an
    agent and a seller may share an id)."""
    return holder if kind == _AGENT else f"{kind}:{holder}"


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


def pages_off(disabled_template: str, static_endpoint: str) -> tuple[str, int] | None:
    """A blueprint's ``before_request``: without a session secret no page works (no session, no
    CSRF token), so each says how to turn them on (503); its static files are served anyway."""
    if sessions_on(current_app) or request.endpoint == static_endpoint:
        return None
    return render_template(disabled_template, env=SECRET_KEY_ENV), 503


def require_csrf(pages: str, shown_path: str | None = None) -> None:
    """403 unless the request (form or header) carries the session's CSRF token; the refusal is
    logged under ``pages`` with ``shown_path`` (a path holding a secret must not be logged)."""
    if not csrf_ok(request):
        path = shown_path or request.path
        log.warning("%s %s %s refused: missing or wrong CSRF token", pages, request.method, path)
        abort(Response("missing or wrong CSRF token: reload the page and try again", 403))


def _fingerprint(token_sha256: str) -> str:
    """A digest of a token's digest: names the token without revealing its digest."""
    return hashlib.sha256(f"hotline-session:{token_sha256}".encode()).hexdigest()[:32]
