"""Small Twilio voice apps whose calls meet each other: a support queue an agent dials, a meeting.

Scripts with several parties (tests/session_calls/) are replayed against them. Each app checks
Twilio's signature like a real one, and keeps its state per app: one app serves one session.
"""

from __future__ import annotations

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Conference, Dial, Gather, VoiceResponse

AUTH_TOKEN = "session-auth-token"


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="application/xml")


def _signed_app(name: str) -> Flask:
    app = Flask(name)
    validator = RequestValidator(AUTH_TOKEN)

    @app.before_request
    def _check_signature() -> None:
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

    return app
