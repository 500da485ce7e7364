"""The benchmark's yardstick: a bare Flask app that reads the posted form and answers fixed TwiML.

It does what any Flask webhook must (route, parse the form, build a response) and nothing else,
so hotline's throughput divided by this one's is what hotline's own work costs.
"""

from __future__ import annotations

from flask import Flask, Response, request

# About the size and shape of hotline's greeting: a Gather with a spoken prompt, then a Redirect.
TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Gather action="/voice/step/main_menu?attempt=1" hints="product, parcel, agent" '
    'input="dtmf speech" language="en-GB" method="POST" numDigits="1" speechTimeout="auto" '
    'timeout="6"><Say language="en-GB" voice="Polly.Amy">Thank you for calling. For a question '
    "about a product, press 1. For your order, delivery or a return, press 2. For an agent, "
    "press 0.</Say></Gather>"
    '<Redirect method="POST">/voice/step/main_menu?attempt=1</Redirect></Response>'
)


def create_app() -> Flask:
    """A Flask app answering every webhook path hotline's benchmark posts to."""
    app = Flask(__name__)

    @app.post("/voice")
    @app.post("/voice/step/<name>")
    def webhook(name: str = "") -> Response:
        if not request.form.get("CallSid"):
            return Response("no CallSid", status=400)
        return Response(TWIML, status=200, mimetype="text/xml")

    return app
