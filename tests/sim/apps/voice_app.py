"""What every small Twilio app in this folder shares: signed webhooks, a log, TwiML answers.

Each app is a few lines of Flask answering TwiML built with twilio's ``VoiceResponse``, as
someone else's app would be. ``voice_app`` checks ``X-Twilio-Signature`` (403 when wrong) and
logs the parameters that matter of every webhook, which the apps' call scripts read back
through ``GET /api/log`` (``[[expect.api]]``): one line per request, such as
``POST /dialled DialCallStatus=canceled CallStatus=completed``.
"""

from __future__ import annotations

from flask import Flask, Response, abort, jsonify, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

AUTH_TOKEN = "sample-apps-token"
API_TOKEN = "sample-apps-api-token"

#: The parameters a log line shows (the others are the same on every request of a call).
LOGGED = (
    "Digits",
    "CallStatus",
    "DialCallStatus",
    "DialBridged",
    "DialCallDuration",
    "QueueResult",
    "QueueTime",
    "RecordingDuration",
    "TranscriptionText",
)


def voice_app(name: str) -> Flask:
    """A Flask app checking Twilio's signature on every webhook and logging what it got."""
    app = Flask(name)
    log: list[str] = []
    validator = RequestValidator(AUTH_TOKEN)
    # What `hotline replay --app` reads to call the app as Twilio would, and to check its API.
    setattr(app, "auth_token", AUTH_TOKEN)  # noqa: B010 - Flask declares no such attribute
    setattr(app, "api_token", API_TOKEN)  # noqa: B010

    @app.before_request
    def _check_and_log() -> None:
        if request.path.startswith("/api/"):
            if request.headers.get("Authorization") != f"Bearer {API_TOKEN}":
                abort(401)
            return
        params = request.form.to_dict() if request.method == "POST" else {}
        if not validator.validate(
            request.url, params, request.headers.get("X-Twilio-Signature", "")
        ):
            abort(403)
        shown = " ".join(f"{key}={params[key]}" for key in LOGGED if key in params)
        log.append(f"{request.method} {request.path} {shown}".strip())

    @app.get("/api/log")
    def api_log() -> Response:
        return jsonify(log)

    return app


def twiml(response: VoiceResponse) -> Response:
    """Answer ``response`` as TwiML."""
    return Response(str(response), mimetype="application/xml")
