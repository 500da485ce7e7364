"""Call forwarding with screening: two phones ring, whoever presses 1 in the whisper is bridged.

Twilio's ``<Dial>`` page: the action is requested "after the dialed call ends", with the
``DialCallStatus`` of the attempt; a ``<Number url>`` whisper lets the called party decline.
Scripts: ``forwarding/*.toml``.
"""

from __future__ import annotations

from flask import Flask, Response, request
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from tests.sim.apps.voice_app import twiml, voice_app

OWNER = "+48600300400"
BACKUP = "+48600300500"


def create_app() -> Flask:
    """The forwarding line: /voice dials both phones, /screen whispers, /dialled ends."""
    app = voice_app("forwarding")

    @app.post("/voice")
    def voice() -> Response:
        response = VoiceResponse()
        response.say("Connecting you to the shop.")
        dial = Dial(action="/dialled", timeout=20)
        dial.number(OWNER, url="/screen")
        dial.number(BACKUP, url="/screen")
        response.append(dial)
        return twiml(response)

    @app.post("/screen")
    def screen() -> Response:
        response = VoiceResponse()
        gather = Gather(num_digits=1, action="/screen/taken", timeout=5)
        gather.say("A customer is calling the shop. Press 1 to take the call.")
        response.append(gather)
        response.hangup()
        return twiml(response)

    @app.post("/screen/taken")
    def taken() -> Response:
        response = VoiceResponse()
        if request.form.get("Digits") != "1":
            response.hangup()
        return twiml(response)

    @app.post("/dialled")
    def dialled() -> Response:
        response = VoiceResponse()
        if request.form.get("DialBridged") == "true":
            response.say("The shop has hung up. Goodbye.")
        else:
            response.say("Nobody at the shop could take your call. Goodbye.")
        response.hangup()
        return twiml(response)

    return app
