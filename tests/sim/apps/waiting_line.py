"""A support line that queues its callers, with a small phone tree inside the hold music.

Twilio's ``<Enqueue>`` page: the waitUrl's TwiML may ``<Redirect>`` and ``<Gather>``, and the
call "will always return to the waitUrl once there is no TwiML left to execute"; a waitUrl may
answer an MP3 or WAV file; ``waitUrl=""`` plays nothing; ``workflowSid`` hands the call to
TaskRouter. Scripts: ``waiting_line/*.toml`` (each picks its number's Voice URL).
"""

from __future__ import annotations

import json

from flask import Flask, Response, request
from twilio.twiml.voice_response import Enqueue, Gather, VoiceResponse

from tests.sim.apps.voice_app import twiml, voice_app

WORKFLOW = "WW0123456789abcdef0123456789abcdef"


def create_app() -> Flask:
    """The line: /voice (wait TwiML), /voice/quiet (silence), /voice/radio (audio), TaskRouter."""
    app = voice_app("waiting_line")

    @app.post("/voice")
    def voice() -> Response:
        response = VoiceResponse()
        response.say("Thanks for calling support. Please hold.")
        response.enqueue("support", wait_url="/wait", action="/left")
        return twiml(response)

    @app.post("/voice/quiet")
    def quiet() -> Response:
        response = VoiceResponse()
        response.say("Please hold.")
        response.enqueue("support", wait_url="", action="/left")
        return twiml(response)

    @app.post("/voice/radio")
    def radio() -> Response:
        response = VoiceResponse()
        response.say("Please hold.")
        response.enqueue("support", wait_url="/radio.mp3", wait_url_method="GET", action="/left")
        return twiml(response)

    @app.get("/radio.mp3")
    def radio_file() -> Response:
        return Response(b"ID3\x03\x00 not really an mp3", mimetype="audio/mpeg")

    @app.post("/voice/taskrouter")
    def taskrouter() -> Response:
        response = VoiceResponse()
        enqueue = Enqueue(None, workflow_sid=WORKFLOW, wait_url="/wait", action="/left")
        enqueue.task(json.dumps({"selected_product": "router"}), priority=5, timeout=200)
        response.append(enqueue)
        return twiml(response)

    @app.post("/wait")
    def wait() -> Response:
        position = request.form.get("QueuePosition", "?")
        response = VoiceResponse()
        gather = Gather(num_digits=1, action="/wait/menu", timeout=3)
        gather.say(
            f"You are caller number {position}. Press 1 to hear our opening hours,"
            " or 2 to leave a message."
        )
        response.append(gather)
        response.redirect("/wait/music")
        return twiml(response)

    @app.post("/wait/music")
    def music() -> Response:
        response = VoiceResponse()
        response.play("https://cdn.example/hold.mp3")
        return twiml(response)

    @app.post("/wait/menu")
    def menu() -> Response:
        response = VoiceResponse()
        if request.form.get("Digits") == "1":
            response.say("We are open from eight to eight. Please keep holding.")
        elif request.form.get("Digits") == "2":
            response.leave()
        else:
            response.redirect("/wait/music")
        return twiml(response)

    @app.post("/left")
    def left() -> Response:
        response = VoiceResponse()
        if request.form.get("QueueResult") == "leave":
            response.say("Please leave your message after the tone.")
            response.record(action="/message", max_length=60)
        elif request.form.get("QueueResult") != "bridged":
            response.say("Sorry we missed you. Goodbye.")
        response.hangup()
        return twiml(response)

    @app.post("/message")
    def message() -> Response:
        response = VoiceResponse()
        response.say("Thank you, we will call you back. Goodbye.")
        response.hangup()
        return twiml(response)

    return app
