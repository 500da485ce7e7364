"""Request size: a body over ``security.max_request_bytes`` gets 413 before any of it is read."""

from __future__ import annotations

import logging
from functools import partial

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from hotline.messages.threads import without_link_secrets

log = logging.getLogger(__name__)


LIMIT = "hotline.max_request_bytes"


def init_app(app: Flask, max_request_bytes: int) -> None:
    """Refuse bodies over ``max_request_bytes`` on every route of ``app`` with a short 413."""
    app.config[LIMIT] = max_request_bytes
    # Werkzeug never reads a body past MAX_CONTENT_LENGTH, whatever the view. One byte more than
    # allowed: reading a chunked body up to it tells "over the limit" from "exactly at it".
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes + 1
    app.before_request(partial(refuse_oversized_body, max_request_bytes))
    app.register_error_handler(RequestEntityTooLarge, _too_large)


def refuse_oversized_body(limit: int) -> None:
    """``before_request`` hook: 413 for a body over ``limit`` bytes, judged before it is parsed."""
    # Registered on the app, so it runs before any blueprint's hook (the signature check reads
    # the form) and for unknown URLs too. A webhook declares its length: one header look-up.
    length = request.content_length
    if length is not None:
        if length > limit:
            raise RequestEntityTooLarge()
    elif request.headers.get("Transfer-Encoding"):
        # Chunked: no length to judge by. Read it now (Werkzeug stops at MAX_CONTENT_LENGTH) and
        # keep it for the form parser.
        if len(request.get_data(cache=True)) > limit:
            raise RequestEntityTooLarge()


def _too_large(_exc: RequestEntityTooLarge) -> tuple[Response, int]:
    limit = current_app.config[LIMIT]
    declared = request.content_length
    size = f"a body of {declared} bytes" if declared is not None else "a chunked body"
    log.warning(
        "refused %s %s: %s, over the %d bytes allowed (security.max_request_bytes)",
        request.method,
        without_link_secrets(request.path),  # a buyer's reply posts to their link
        size,
        limit,
    )
    message = f"request body too large: at most {limit} bytes"
    if request.path == "/api" or request.path.startswith("/api/"):
        return jsonify(error=message), 413
    return Response(message + "\n", mimetype="text/plain"), 413
