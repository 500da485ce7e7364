"""A shop's voicemail: a menu callers can barge into, and a ``<Record>`` that transcribes.

Twilio's ``<Record>`` page: the action gets ``Digits`` = the key that ended the recording, or
``hangup`` when the caller hung up; ``maxLength`` defaults to 120 s when transcribing.
Scripts: ``voicemail/*.toml``.
"""

from __future__ import annotations

from flask import Flask, Response, request
from twilio.twiml.voice_response import Gather, VoiceResponse

from tests.sim.apps.voice_app import twiml, voice_app


def create_app() -> Flask:
    """The voicemail line: /voice (the menu), /menu, /recorded, /transcribed."""
    app = voice_app("voicemail")

    @app.post("/voice")
    def voice() -> Response:
        response = VoiceResponse()
        gather = Gather(num_digits=1, action="/menu", timeout=5)
        gather.say("You reached the voicemail of the test shop.")
        gather.say("To leave a message, press 1.")
        gather.say("To hear our address, press 2.")
        response.append(gather)
        response.redirect("/voice")
        return twiml(response)

    @app.post("/menu")
    def menu() -> Response:
        response = VoiceResponse()
        if request.form.get("Digits") == "1":
            response.say("Leave your message after the tone. Press star when you are done.")
            response.record(
                action="/recorded",
                finish_on_key="*",
                transcribe=True,
                transcribe_callback="/transcribed",
            )
            response.say("We did not get a message. Goodbye.")
        else:
            response.say("We are at 1 Main Street. Goodbye.")
        return twiml(response)

    @app.post("/recorded")
    def recorded() -> Response:
        seconds = request.form.get("RecordingDuration", "0")
        response = VoiceResponse()
        response.say(f"Thanks, we got your message of {seconds} seconds. Goodbye.")
        response.hangup()
        return twiml(response)

    @app.post("/transcribed")
    def transcribed() -> Response:
        return Response("", status=204)

    return app
