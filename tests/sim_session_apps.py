"""Small Twilio voice apps whose calls meet each other: a support queue an agent dials, a meeting.

Scripts with several parties (tests/session_calls/) are replayed against them. Each app checks
Twilio's signature like a real one, and keeps its state per app: one app serves one session.
"""

from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import Conference, Dial, Gather, VoiceResponse

from hotline.twilio_rest.http import http_client_from_env

AUTH_TOKEN = "session-auth-token"


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="application/xml")


def _signed_app(name: str) -> Flask:
    app = Flask(name)
    validator = RequestValidator(AUTH_TOKEN)

    @app.before_request
    def _check_signature() -> None:
        if request.path.startswith("/api/"):
            return  # the app's own API (its own token), not a Twilio webhook
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(request.url, request.form.to_dict(), signature):
            abort(403)

    return app


def create_support_line() -> Flask:
    """Callers wait in queue 'support'; an agent's call (custom parameter 'agent') dials it."""
    app = _signed_app("sim_support_line")
    agents: dict[str, str] = {}  # an agent's CallSid -> the name their client sent

    @app.post("/voice")
    def voice() -> Response:
        response = VoiceResponse()
        response.say("Welcome to support.")
        response.enqueue("support", wait_url="/wait", action="/queue-done")
        return _twiml(response)

    @app.post("/wait")
    def wait() -> Response:
        response = VoiceResponse()
        response.say("Please wait for the next agent.")
        return _twiml(response)

    @app.post("/agent")
    def agent() -> Response:
        name = request.form.get("agent", "")
        agents[request.form["CallSid"]] = name
        response = VoiceResponse()
        gather = Gather(num_digits=1, action="/agent-take", timeout=5)
        gather.say(f"Hello {name}. Press 1 to take the next caller.")
        response.append(gather)
        response.say("Nobody taken. Goodbye.")
        return _twiml(response)

    @app.post("/agent-take")
    def agent_take() -> Response:
        response = VoiceResponse()
        if request.form.get("Digits") != "1":
            response.say("Goodbye.")
            return _twiml(response)
        dial = Dial(action="/agent-done", timeout=30)
        dial.queue("support", url="/announce")
        response.append(dial)
        return _twiml(response)

    @app.post("/announce")
    def announce() -> Response:
        # Played to the caller, on the caller's call, naming the agent's call that took them.
        name = agents.get(request.form.get("DequeingCallSid", ""), "an agent")
        response = VoiceResponse()
        response.say(f"Connecting you to {name}.")
        return _twiml(response)

    @app.post("/moved")
    def moved() -> Response:
        # Where another system (a console, through Twilio's REST API) sends a waiting caller.
        response = VoiceResponse()
        response.say("You have been moved to the seller.")
        return _twiml(response)

    @app.post("/agent-done")
    def agent_done() -> Response:
        response = VoiceResponse()
        if request.form.get("DialCallStatus") == "completed":
            response.say("The caller hung up. Goodbye.")
        else:
            response.say("Nobody was waiting. Goodbye.")
        return _twiml(response)

    @app.post("/stream")
    def stream() -> Response:
        # Media streams are beyond the simulator: a party sent here cannot be played.
        response = VoiceResponse()
        connect = response.connect()
        connect.stream(url="wss://example.com/audio")
        return _twiml(response)

    @app.post("/queue-done")
    def queue_done() -> Response:
        response = VoiceResponse()
        response.say("Thank you for waiting.")
        return _twiml(response)

    return app


def create_meeting_line() -> Flask:
    """Every caller joins conference 'standup'; the one sending role=host ends it on leaving."""
    app = _signed_app("sim_meeting_line")

    @app.post("/voice")
    def voice() -> Response:
        host = request.form.get("role") == "host"
        response = VoiceResponse()
        response.say("Welcome, host." if host else "Joining the standup.")
        dial = Dial(action="/left")
        dial.append(
            Conference("standup", wait_url="/conf-wait", end_conference_on_exit=host, beep=False)
        )
        response.append(dial)
        return _twiml(response)

    @app.post("/conf-wait")
    def conf_wait() -> Response:
        response = VoiceResponse()
        response.say("Waiting for the others.")
        return _twiml(response)

    @app.post("/left")
    def left() -> Response:
        response = VoiceResponse()
        response.say("The standup is over. Goodbye.")
        return _twiml(response)

    @app.post("/hold-music")
    def hold_music() -> Response:
        response = VoiceResponse()
        response.say("You are on hold.")
        return _twiml(response)

    @app.post("/notice")
    def notice() -> Response:
        response = VoiceResponse()
        response.say("Two minutes left.")
        return _twiml(response)

    return app


def create_callback_line() -> Flask:
    """A line that texts every caller and calls the seller back through Twilio's REST API.

    Its ``Client`` is built once, from the environment as a deployed app would be
    (``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``, and ``TWILIO_API_URL`` for the stand-in).
    """
    app = _signed_app("sim_callback_line")
    client = Client(
        os.environ["TWILIO_ACCOUNT_SID"], AUTH_TOKEN, http_client=http_client_from_env()
    )

    @app.post("/voice")
    def voice() -> Response:
        caller = request.form["From"]
        client.messages.create(to=caller, from_=request.form["To"], body="We will call you back.")
        client.calls.create(
            to="+48600300400", from_=request.form["To"], url=request.url_root + "seller"
        )
        response = VoiceResponse()
        response.say("We texted you. Goodbye.")
        return _twiml(response)

    @app.post("/seller")
    def seller() -> Response:
        response = VoiceResponse()
        response.say("A buyer asked for a call back.")
        return _twiml(response)

    return app


CONSOLE_TOKEN = "console-token"


def create_console_line() -> Flask:
    """Callers wait in queue 'support'; a console's JSON API moves one out through REST."""
    app = _signed_app("sim_console_line")
    client = Client(
        os.environ["TWILIO_ACCOUNT_SID"], AUTH_TOKEN, http_client=http_client_from_env()
    )

    @app.post("/voice")
    def voice() -> Response:
        response = VoiceResponse()
        response.enqueue("support", wait_url="/wait")
        return _twiml(response)

    @app.post("/wait")
    def wait() -> Response:
        response = VoiceResponse()
        response.say("Please wait.")
        return _twiml(response)

    @app.post("/moved")
    def moved() -> Response:
        response = VoiceResponse()
        response.say("An agent moved you.")
        return _twiml(response)

    @app.post("/api/take")
    def take() -> tuple[dict[str, str], int]:
        if request.headers.get("Authorization") != f"Bearer {CONSOLE_TOKEN}":
            return {"message": "who are you?"}, 401
        call = (request.get_json(silent=True) or {}).get("call", "")
        (queue,) = [q for q in client.queues.list() if q.friendly_name == "support"]
        client.queues(queue.sid).members(call).update(url=request.url_root + "moved")
        return {"moved": call}, 200

    return app
