"""What a request the app has no view for gets (Werkzeug's 404, 405, 400), by where it went.

Twilio must always get TwiML (``/voice``: an apology and goodbye, never a page), and the JSON
API (``/api``) answers JSON with a message, as its own errors do; anything else keeps Flask's
own answer. One handler for the whole app: Flask calls only one for ``HTTPException``.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from hotline.web.webhook import apology, twiml, utc_now

log = logging.getLogger(__name__)
API = "/api"


def init_app(app: Flask) -> None:
    """Answer unknown ``/voice`` URLs with TwiML and any ``/api`` error with JSON."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | HTTPException:
        path = request.path
        if path.startswith("/voice") and exc.code in (404, 405, 400):
            log.warning("webhook %s answered %s: %s", path, exc.code, exc.description)
            return twiml(apology(None, utc_now(), "goodbye"))
        if path == API or path.startswith(API + "/"):
            return api_error(exc)
        return exc


def api_error(exc: HTTPException) -> Response:
    """``exc`` as the JSON API's errors are: ``{"error": message}`` with its status."""
    code = exc.code or 500
    if code == 404:
        message = f"no API endpoint {request.path} (see README, 'The JSON API')"
    elif isinstance(exc, MethodNotAllowed):
        methods = exc.valid_methods or ()
        allowed = ", ".join(sorted(m for m in methods if m not in ("HEAD", "OPTIONS")))
        message = f"{request.method} is not allowed on {request.path} (allowed: {allowed or '-'})"
    else:
        message = exc.description or exc.name
    answer = jsonify(error=message)
    answer.status_code = code
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if header in exc.get_response().headers:
            answer.headers[header] = exc.get_response().headers[header]
    return answer
