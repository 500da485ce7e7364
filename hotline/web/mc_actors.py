"""Who calls the Message Center's API: the operator (``$HOTLINE_API_TOKEN``), a seller (their
own token, ``[[sellers]] token_sha256``) or a warehouse agent (their token, ``[[agents]]``).

The same mechanism as the agents': the configuration holds only each token's SHA-256, and a token
is checked by hashing it and comparing the digests in constant time. A token names its holder.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Response, g, jsonify, request

from hotline.agents.roster import token_digest
from hotline.config.settings import Settings
from hotline.messages.conversation import SELLER, WAREHOUSE
from hotline.messages.visibility import OPERATOR, Viewer
from hotline.web.security import API_TOKEN_ENV, get_guard
from hotline.web.webhook import settings

F = TypeVar("F", bound=Callable[..., object])


def seller_holding(conf: Settings, token: str) -> str | None:
    """The id of the seller whose token ``token`` is (``None``: no seller's)."""
    if not token:
        return None
    offered = token_digest(token).encode()
    found = None
    for seller in conf.sellers:  # every digest compared: the time says nothing
        if seller.token_sha256 is not None and hmac.compare_digest(
            offered, seller.token_sha256.encode()
        ):
            found = seller.id
    return found


def viewer_of(token: str) -> Viewer | None:
    """The viewer a bearer token names: the operator, a warehouse agent or a seller."""
    guard = get_guard()
    if not token:
        return None
    if guard.api_token is not None and hmac.compare_digest(
        token.encode(), guard.api_token.encode()
    ):
        return Viewer(OPERATOR)
    if (agent := guard.roster.holder_of(token)) is not None:
        return Viewer(WAREHOUSE, agent.id)
    if (seller := seller_holding(settings(), token)) is not None:
        return Viewer(SELLER, seller)
    return None


def require_viewer(view: F) -> F:
    """Decorator for the Message Center's API: 401 (JSON) unless the bearer token is the
    operator's, a seller's or a warehouse agent's; the view finds who in ``current_viewer()``."""

    @wraps(view)
    def wrapped(*args: object, **kwargs: object) -> object:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        viewer = viewer_of(token.strip()) if scheme.lower() == "bearer" else None
        if viewer is None:
            off = "" if get_guard().api_token else f"; the operator's ${API_TOKEN_ENV} is not set"
            response: Response = jsonify(
                error="missing or wrong bearer token (the operator's, a seller's or a warehouse "
                f"agent's){off}"
            )
            response.status_code = 401
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        g.hotline_viewer = viewer
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def current_viewer() -> Viewer:
    """Who calls this request (set by ``require_viewer``)."""
    viewer: Viewer = g.hotline_viewer
    return viewer
