"""A page session: an agent (the console, the warehouse's Message Center) or a seller (their
Message Center) signed in with their token, a signed cookie after that, and the session's CSRF
token that every POST made with the cookie must carry.

The cookie is Flask's session, signed with ``$HOTLINE_SECRET_KEY``: every gunicorn worker (and
every machine behind a load balancer) must sign with the same key, so it is a setting, never
generated per process. Without it the console is off (its pages say how to turn it on) and the
API takes bearer tokens only. The session names the agent and a fingerprint of their token: a
token changed in the config signs out every session opened with the old one.
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

SECRET_KEY_ENV = "HOTLINE_SECRET_KEY"
SECRET_KEY_SHORTEST = 16
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
COOKIE_NAME = "hotline_session"
_AGENT = "agent"
_SELLER = "seller"
_TOKEN = "token"
_CSRF = "csrf"


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


def sign_in(agent: Agent) -> None:
    """Start ``agent``'s session: a new CSRF token, the agent and their token's fingerprint."""
    _start(_AGENT, agent.id, agent.token_sha256)


def sign_in_seller(seller_id: str, token_sha256: str) -> None:
    """Start a seller's session (their Message Center), as ``sign_in`` does an agent's."""
    _start(_SELLER, seller_id, token_sha256)


def sign_out() -> None:
    """End the session (the cookie is emptied)."""
    session.clear()


def signed_in_agent(agents: Mapping[str, Agent]) -> Agent | None:
    """The agent this session belongs to, if still configured with the same token."""
    found = _holder(_AGENT, {a.id: a.token_sha256 for a in agents.values()})
    return agents[found] if found is not None else None


def signed_in_seller(token_digests: Mapping[str, str | None]) -> str | None:
    """The id of the seller this session belongs to, if still configured with the same token
    (``token_digests``: each seller's ``token_sha256``)."""
    return _holder(_SELLER, token_digests)


def _start(kind: str, holder: str, token_sha256: str) -> None:
    session.clear()
    session[kind] = holder
    session[_TOKEN] = _fingerprint(token_sha256)
    session[_CSRF] = secrets.token_urlsafe(32)


def _holder(kind: str, token_digests: Mapping[str, str | None]) -> str | None:
    """The ``kind`` (agent, seller) id the session names, if its token is still the same."""
    holder = session.get(kind)
    digest = token_digests.get(holder) if isinstance(holder, str) else None
    if digest is None:
        return None
    fingerprint = session.get(_TOKEN)
    if not isinstance(fingerprint, str) or not hmac.compare_digest(
        fingerprint.encode(), _fingerprint(digest).encode()
    ):
        return None
    return holder


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


def _fingerprint(token_sha256: str) -> str:
    """A digest of a token's digest: names the token without revealing its digest."""
    return hashlib.sha256(f"hotline-session:{token_sha256}".encode()).hexdigest()[:32]
