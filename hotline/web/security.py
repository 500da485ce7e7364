"""Request checks: Twilio's signature on every webhook, a bearer token on the JSON API (the
operator's ``$HOTLINE_API_TOKEN``, or for the agents' part an agent's own token, or the agent's
console session with its CSRF token on every POST)."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import TypeVar
from urllib.parse import quote, urlsplit

from flask import Flask, Request, Response, abort, current_app, g, jsonify, request
from twilio.request_validator import RequestValidator, get_signature_algorithm
from werkzeug.middleware.proxy_fix import ProxyFix

from hotline.agents import login
from hotline.agents.roster import Roster, token_digest
from hotline.config.settings import Settings
from hotline.errors import ConfigError
from hotline.store.database import get_store
from hotline.web.signature import twilio_signature

AUTH_TOKEN_ENV = "TWILIO_AUTH_TOKEN"
SHARED_KEY_ENV = "TWILIO_WEBHOOK_SHARED_KEY"
# Present when a Twilio Webhook Rule has the request signed with a SharedKey, naming its algorithm.
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
_URL_SAFE = "/:@!$&'()*+,;=-._~"
API_TOKEN_ENV = "HOTLINE_API_TOKEN"
# What `make run` sets when nothing is (Makefile): anyone who read the repository knows them, so
# a server Twilio reaches from outside (a public base URL that is not this machine) refuses them.
DEMO_SECRETS = {
    AUTH_TOKEN_ENV: "local-demo-auth-token",
    API_TOKEN_ENV: "local-demo-api-token",
    login.SECRET_KEY_ENV: "local-demo-session-secret",
}
# The token of the shipped config.toml's demo seller (acme): `make run` prints it.
DEMO_SELLER_TOKEN = "demo-seller-token"
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXTENSION = "hotline.security"

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., object])


class _SignedParams(dict[str, str]):
    """A form as ``RequestValidator`` reads it: ``getall`` spares it two exceptions per field."""

    def getall(self, name: str) -> list[str]:
        """The field's value, as the one-item list ``RequestValidator.get_values`` expects."""
        return [self[name]]


class Guard:
    """What the checks need: the validator (or ``None`` when checks are off) and the URL rules."""

    def __init__(
        self,
        settings: Settings,
        auth_token: str | None,
        api_token: str | None,
        shared_key: str | None = None,
    ) -> None:
        checks = settings.check_signatures
        self.validator = RequestValidator(auth_token) if checks else None
        self.shared_key_validator = RequestValidator(shared_key) if checks and shared_key else None
        self.public_base_url = settings.public_base_url
        self.api_token = api_token
        self.roster = Roster.from_settings(settings)

    def public_url(self, req: Request) -> str:
        """The URL Twilio requested, as Twilio signed it (public base URL or the proxied URL)."""
        # Built from the parts rather than ``req.url``, which converts to an IRI (slow, and not
        # needed: Twilio signs the URL as it sent it, percent-encoding included).
        base = self.public_base_url or f"{req.scheme}://{req.host}"
        path = quote(req.script_root + req.path, safe=_URL_SAFE)
        query = req.query_string.decode("latin-1")
        return base + path + (f"?{query}" if query else "")

    def signature_ok(self, req: Request) -> bool:
        """Whether ``req`` carries a valid ``X-Twilio-Signature`` (true when checks are off)."""
        if self.validator is None:
            return True
        signature = req.headers.get("X-Twilio-Signature", "")
        if not signature:
            return False
        validator, algorithm = self.validator, None
        signed_with = req.headers.get(SIGNATURE_SETTINGS_HEADER)
        if signed_with:  # a Webhook Rule: signed with a SharedKey, not the auth token
            if self.shared_key_validator is None:
                log.warning(
                    "%s %s is signed with a Twilio SharedKey (%s): set $%s to its secret",
                    req.method,
                    req.path,
                    SIGNATURE_SETTINGS_HEADER,
                    SHARED_KEY_ENV,
                )
                return False
            validator, algorithm = self.shared_key_validator, get_signature_algorithm(signed_with)
        params = _SignedParams(req.form.items() if req.method == "POST" else ())
        url = self.public_url(req)
        # Twilio signs the URL it requested, which is ours as built: one signature to compute.
        # ``validate`` (the URL with and without its default port, a JSON body's hash) costs
        # three times as much, so it only gets the requests this first check refuses.
        try:
            computed = twilio_signature(validator.token, url, params, algorithm)
        except ValueError:  # an algorithm this twilio package does not know
            log.warning(
                "%s %s: unsupported signature algorithm in %r", req.method, req.path, signed_with
            )
            return False
        if hmac.compare_digest(computed.encode(), signature.encode()):
            return True
        return bool(validator.validate(url, params, signature, algorithm))


def init_app(app: Flask, settings: Settings) -> Guard:
    """Attach the checks to ``app``; refuses to start with checks on and no auth token."""
    auth_token = os.environ.get(AUTH_TOKEN_ENV) or None
    if settings.check_signatures and not auth_token:
        raise ConfigError(
            f"{settings.source}: security.check_signatures is on but ${AUTH_TOKEN_ENV} is not set: "
            "set it to your Twilio account's auth token (or, for local use only, set "
            "check_signatures = false under [security])"
        )
    if not settings.check_signatures:
        log.warning(
            "SIGNATURE CHECKS ARE OFF (%s: security.check_signatures = false): anyone who can "
            "reach this server can drive calls. Use this only on your own machine.",
            settings.source,
        )
    refuse_demo_secrets(settings, os.environ)
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n
        )
    guard = Guard(
        settings,
        auth_token,
        os.environ.get(API_TOKEN_ENV) or None,
        os.environ.get(SHARED_KEY_ENV) or None,
    )
    app.extensions[EXTENSION] = guard
    return guard


def refuse_demo_secrets(settings: Settings, environ: Mapping[str, str]) -> None:
    """ConfigError when a server reachable from outside still has a demo secret: one of `make
    run`'s tokens, or an agent holding the shipped config's demo token."""
    base = urlsplit(settings.public_base_url or "")
    if not base.hostname or base.hostname in _LOOPBACK_HOSTS or base.hostname.startswith("127."):
        return  # one's own machine: `make run`'s demo
    found = [f"${name}" for name, demo in DEMO_SECRETS.items() if environ.get(name) == demo]
    found += [f"agent {a.id}'s token" for a in Roster.from_settings(settings).with_demo_token()]
    found += [f"seller {s}'s token" for s in sellers_with_demo_token(settings)]
    if found:
        raise ConfigError(
            f"{settings.source}: hotline.public_base_url is {settings.public_base_url}, but "
            f"{', '.join(found)} still {'is' if len(found) == 1 else 'are'} the demo's, known to "
            "anyone who read hotline's repository: set your own secrets (an agent's token_sha256: "
            'printf %s "$TOKEN" | sha256sum) before this server is reachable by others'
        )


def sellers_with_demo_token(settings: Settings) -> list[str]:
    """The ids of the sellers whose token is still the shipped demo seller's."""
    demo = token_digest(DEMO_SELLER_TOKEN)
    return [s.id for s in settings.sellers if s.token_sha256 == demo]


def get_guard() -> Guard:
    """The current app's guard."""
    guard: Guard = current_app.extensions[EXTENSION]
    return guard


def require_twilio_signature() -> None:
    """``before_request`` hook for the webhooks: 403 unless Twilio signed the request."""
    guard = get_guard()
    # The request itself, not the proxy: the check reads a dozen of its attributes.
    if not guard.signature_ok(request._get_current_object()):  # type: ignore[attr-defined]
        log.warning(
            "rejected %s %s: %s; the URL checked was %s",
            request.method,
            request.path,
            refusal_reason(guard, request),
            guard.public_url(request),
        )
        abort(403)


def refusal_reason(guard: Guard, req: Request) -> str:
    """Why ``guard`` refused ``req``'s signature, in words for the log (never a secret)."""
    # Worked out only for refused requests, so the check itself stays as lean as it is.
    if not req.headers.get("X-Twilio-Signature"):
        return "no X-Twilio-Signature header (not a request from Twilio?)"
    signed_with = req.headers.get(SIGNATURE_SETTINGS_HEADER)
    if signed_with and guard.shared_key_validator is None:
        return f"signed with a Twilio SharedKey, and ${SHARED_KEY_ENV} is not set"
    secret = f"${SHARED_KEY_ENV}" if signed_with else f"${AUTH_TOKEN_ENV}"
    return (
        f"X-Twilio-Signature does not match: is {secret} right, and is the URL checked the one "
        "Twilio called? (behind a tunnel or proxy: set hotline.public_base_url or trusted_proxies)"
    )


def require_api_token(view: F) -> F:
    """Decorator for JSON API views: 401 unless ``Authorization: Bearer $HOTLINE_API_TOKEN``."""

    @wraps(view)
    def wrapped(*args: object, **kwargs: object) -> object:
        expected = get_guard().api_token
        given = request.headers.get("Authorization", "")
        scheme, _, token = given.partition(" ")
        if expected is None:
            response = jsonify(error=f"the API is disabled: set ${API_TOKEN_ENV} on the server")
            response.status_code = 401
            return response
        # Compared as bytes: compare_digest refuses non-ASCII str (a 500 for "Bearer café").
        offered = token.strip().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(offered, expected.encode()):
            response = jsonify(error="missing or wrong bearer token")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@dataclass(frozen=True)
class Actor:
    """Who calls the API: the operator (``agent_id`` None), who acts for anyone, or an agent."""

    agent_id: str | None

    @property
    def name(self) -> str:
        """Who, for logs and agents' events: the agent's id or ``operator``."""
        return self.agent_id if self.agent_id is not None else "operator"

    def may_act_for(self, agent_id: str) -> bool:
        """Whether this actor may see and change ``agent_id``'s things."""
        return self.agent_id is None or self.agent_id == agent_id


def require_agent_or_operator(view: F) -> F:
    """Decorator for the agents' API: 401 unless the bearer token is the operator's or an
    agent's, or (no Authorization header) the request has an agent's console session; 403 for
    a console POST without the session's CSRF token. The view finds who in ``current_actor()``."""

    @wraps(view)
    def wrapped(*args: object, **kwargs: object) -> object:
        guard = get_guard()
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        offered = token.strip()
        actor = None
        if scheme.lower() == "bearer" and offered:
            if guard.api_token is not None and hmac.compare_digest(
                offered.encode(), guard.api_token.encode()
            ):
                actor = Actor(None)
            elif (agent := guard.roster.holder_of(offered)) is not None:
                actor = Actor(agent.id)
        elif "Authorization" not in request.headers:
            # The console's own calls: the agent's signed session cookie, and on a POST the
            # session's CSRF token (a cookie alone is what a forged cross-site request has).
            agent = login.signed_in_agent(guard.roster.agents, get_store(current_app))
            if agent is not None:
                if request.method not in _SAFE_METHODS and not login.csrf_ok(request):
                    message = f"missing or wrong CSRF token (send the {login.CSRF_HEADER} header)"
                    return _refusal(message, 403)
                actor = Actor(agent.id)
        if actor is None:
            if guard.api_token is None and not guard.roster.agents:
                message = f"the API is disabled: set ${API_TOKEN_ENV} on the server"
                return _refusal(message, 401)
            response = _refusal("missing or wrong bearer token (the operator's or an agent's)", 401)
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        g.hotline_actor = actor
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def current_actor() -> Actor:
    """Who calls this request (set by ``require_agent_or_operator``)."""
    actor: Actor = g.hotline_actor
    return actor


def _refusal(message: str, status: int) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response
