"""Small Twilio voice apps the simulator engine is tested against (not hotline itself).

``twiml_app`` serves whatever TwiML each test gives per path, checks ``X-Twilio-Signature`` like
a real app (403 when it is wrong) and logs every request with the ``datetime.now()`` it saw, so
tests can assert on exactly what the engine sent and when.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, Response, abort, jsonify, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

AUTH_TOKEN = "engine-test-token"

#: What a route answers: TwiML, or a raw (body, status) pair for broken answers.
Answer = VoiceResponse | tuple[str, int]
Route = Callable[[dict[str, str]], Answer]


@dataclass(frozen=True)
class Hit:
    """One request the app received: method, path, params (form or query) and the app's now."""

    method: str
    path: str
    params: dict[str, str]
    now: datetime
    cookie: str


def twiml_app(routes: Mapping[str, Route], token: str = AUTH_TOKEN) -> Flask:
    """A voice app answering ``routes`` (path -> TwiML builder), checking every signature."""
    app = Flask("sim_engine_app")
    validator = RequestValidator(token)
    hits: list[Hit] = []
    app.extensions["hits"] = hits

    @app.before_request
    def _check_signature() -> None:
        if request.path.startswith("/api/"):
            return
        signed = request.form.to_dict() if request.method == "POST" else {}
        # The URL as sent: request.url would decode %2F and %3A in the query (a URL in a param).
        query = request.query_string.decode("ascii")
        url = f"{request.base_url}?{query}" if query else request.base_url
        if not validator.validate(url, signed, request.headers.get("X-Twilio-Signature", "")):
            abort(403)

    def _serve(path: str) -> Response:
        params = (request.form if request.method == "POST" else request.args).to_dict()
        hits.append(
            Hit(
                request.method,
                "/" + path,
                params,
                datetime.now(),
                request.headers.get("Cookie", ""),
            )
        )
        route = routes.get("/" + path)
        if route is None:
            abort(404)
        answer = route(params)
        if isinstance(answer, tuple):
            body, status = answer
            return Response(body, status=status, mimetype="text/plain")
        response = Response(str(answer), mimetype="application/xml")
        if path == "set-cookie":
            response.set_cookie("session", "abc123")
        return response

    app.add_url_rule("/<path:path>", "serve", _serve, methods=["GET", "POST"])

    @app.get("/api/now")
    def _now() -> Any:
        return jsonify(now=datetime.now().isoformat(), hits=len(hits))

    return app


def hits_of(app: Flask) -> list[Hit]:
    """Every request ``app`` received, in order."""
    hits: list[Hit] = app.extensions["hits"]
    return hits


def say(*texts: str) -> Route:
    """A route answering one <Say> per text."""

    def route(_params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        for text in texts:
            response.say(text)
        return response

    return route


def raw_wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A bare WSGI app (no framework): echoes the request line and body inside a <Say>."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length).decode()
    text = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {environ['QUERY_STRING']} {body}"
    response = VoiceResponse()
    response.say(text.replace("&", " "))
    start_response("200 OK", [("Content-Type", "text/xml")])
    return [str(response).encode()]
