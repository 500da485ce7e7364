"""The stand-in for Twilio's REST API: a small WSGI app over a ``Switchboard``.

It serves ``/2010-04-01/Accounts/{AccountSid}/`` Calls, Queues (and Members), Conferences (and
Participants) and Messages, in JSON only, as ``api.twilio.com`` does:

- every request needs HTTP Basic auth with the account SID and auth token the stand-in was given
  (or one of its API keys and secret); anything else is 401 / 20003 ``Authenticate``;
- the AccountSid in the path must be that account's: Twilio's error 20003 lists "credentials used
  to access another account" among its causes, so another SID is 401 / 20003 too;
- an unknown path or SID is 404 / 20404, a method a path does not take 405 / 20004, a malformed
  request 400 with the resource's own code, and a ``RestError`` from the switchboard is answered
  with its status, code and message.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from hotline.sim.rest.calls import calls
from hotline.sim.rest.conferences import conferences
from hotline.sim.rest.messages import messages
from hotline.sim.rest.params import EXTENSION, switchboard
from hotline.sim.rest.queues import queues
from hotline.sim.rest.switchboard import RestError, Switchboard
from hotline.sim.rest.wire import API_VERSION, JSON, error_body
from hotline.twilio_rest.http import not_served

logger = logging.getLogger(__name__)

_PREFIX = f"/{API_VERSION}/Accounts/<account_sid>"


def create_rest_app(
    board: Switchboard, auth_token: str, *, api_keys: Mapping[str, str] | None = None
) -> Flask:
    """The REST stand-in over ``board``, taking ``board.account_sid`` + ``auth_token`` (or an
    API key SID + its secret from ``api_keys``) as credentials."""
    app = Flask(__name__)
    app.extensions[EXTENSION] = board
    credentials = {board.account_sid: auth_token, **(api_keys or {})}
    for blueprint in (calls, queues, conferences, messages):
        app.register_blueprint(blueprint, url_prefix=_PREFIX)

    @app.before_request
    def authenticate() -> Response | None:
        auth = request.authorization
        expected = credentials.get(auth.username or "") if auth is not None else None
        given = (auth.password or "") if auth is not None else ""
        if expected is None or not hmac.compare_digest(expected.encode(), given.encode()):
            response = answer(RestError(401, 20003, "Authenticate"))
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        return None

    @app.url_value_preprocessor
    def check_account(endpoint: str | None, values: dict[str, object] | None) -> None:
        if values is None or "account_sid" not in values:
            return
        if values.pop("account_sid") != switchboard().account_sid:
            raise RestError(401, 20003, "Authenticate")

    app.register_error_handler(RestError, answer)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


def answer(error: RestError) -> Response:
    """A ``RestError`` as Twilio renders it."""
    return json_response(error_body(error.status, error.code, error.message), error.status)


def json_response(body: JSON, status: int = 200) -> Response:
    """``body`` as an ``application/json`` answer."""
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _http_error(error: HTTPException) -> Response:
    if isinstance(error, NotFound):
        return json_response(not_served(request.host, request.path), 404)
    if isinstance(error, MethodNotAllowed):
        allowed = ", ".join(sorted(error.valid_methods or ()))
        message = f"Method {request.method} not allowed on {request.path} (allowed: {allowed})"
        return json_response(error_body(405, 20004, message), 405)
    status = error.code or 400
    return json_response(error_body(status, status, error.description or error.name), status)


def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):  # Flask hands these to the narrowest handler first
        return _http_error(error)
    logger.exception("REST stand-in: %s %s failed", request.method, request.path)
    message = f"The stand-in failed on {request.method} {request.path}: {error!r}"
    return json_response(error_body(500, 20500, message), 500)
