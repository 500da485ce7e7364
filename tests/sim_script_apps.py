"""Small Twilio voice apps the simulator's script layer is tested against (not hotline itself)."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable

from flask import Flask, Response, abort, jsonify, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

AUTH_TOKEN = "test-auth-token"
API_TOKEN = "test-api-token"
SELLER = "+48600300400"


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="application/xml")


def create_shop() -> Flask:
    """A shop line: 1 = product question (dial the seller), 2 = order (queue), else retry."""
    app = Flask("sim_shop")
    threads: list[dict[str, str]] = []  # each app gets its own store, as each call should
    validator = RequestValidator(AUTH_TOKEN)

    @app.before_request
    def _check_signature() -> None:
        if request.path.startswith("/api/"):
            if request.headers.get("Authorization") != f"Bearer {API_TOKEN}":
                abort(401)
            return
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(request.url, request.form.to_dict(), signature):
            abort(403)

    @app.post("/voice")
    def voice() -> Response:
        response = VoiceResponse()
        gather = Gather(input="dtmf speech", num_digits=1, action="/menu", timeout=5)
        gather.say("Welcome to the test shop. For a product question, press 1.")
        gather.say("For your order, press 2.")
        response.append(gather)
        response.say("We did not get your choice. Goodbye.")
        response.hangup()
        return _twiml(response)

    @app.post("/menu")
    def menu() -> Response:
        digits = request.form.get("Digits", "")
        speech = request.form.get("SpeechResult", "").lower()
        response = VoiceResponse()
        if digits == "1" or "product" in speech:
            response.say("Connecting you to the seller.")
            dial = Dial(action="/dialled", timeout=20)
            dial.number(SELLER, url="/whisper")
            response.append(dial)
        elif digits == "9":
            abort(500)  # a bug in the app: the simulator must report the failed webhook
        elif digits == "2" or "order" in speech:
            response.say("Please hold for the warehouse.")
            response.enqueue("warehouse")
        else:
            response.say("Sorry, that is not an option.")
            response.redirect("/voice")
        return _twiml(response)

    @app.post("/status")
    def status() -> Response:
        return Response(status=204)  # the number's status callback: nothing to answer

    @app.post("/whisper")
    def whisper() -> Response:
        response = VoiceResponse()
        gather = Gather(input="dtmf speech", num_digits=1, action="/whisper-taken", timeout=5)
        gather.say("A buyer has a product question. Press 1 or say yes to take the call.")
        response.append(gather)
        response.hangup()
        return _twiml(response)

    @app.post("/whisper-taken")
    def whisper_taken() -> Response:
        response = VoiceResponse()
        said = request.form.get("SpeechResult", "").lower()
        if request.form.get("Digits") != "1" and "yes" not in said:
            response.hangup()
        return _twiml(response)

    @app.post("/dialled")
    def dialled() -> Response:
        response = VoiceResponse()
        if request.form.get("DialCallStatus") == "completed":
            response.say("Thank you for calling. Goodbye.")
            response.hangup()
            return _twiml(response)
        gather = Gather(input="speech", action="/question", timeout=5)
        gather.say("The seller is not available. Tell us your question after the tone.")
        response.append(gather)
        response.say("We did not hear a question. Goodbye.")
        return _twiml(response)

    @app.post("/question")
    def question() -> Response:
        threads.append(
            {"seller": SELLER, "buyer": request.form["From"], "text": request.form["SpeechResult"]}
        )
        response = VoiceResponse()
        response.say("We sent your question to the seller. Goodbye.")
        response.hangup()
        return _twiml(response)

    @app.post("/fallback")
    def fallback() -> Response:
        # The number's Voice Fallback URL: Twilio posts here when another webhook fails.
        response = VoiceResponse()
        response.say(f"Sorry, something went wrong (error {request.form['ErrorCode']}).")
        response.hangup()
        return _twiml(response)

    @app.get("/api/threads")
    def api_threads() -> Response:
        return jsonify(threads)

    return app


def create_closed_shop() -> Flask:
    """A line that greets, says it is closed and hangs up: scripts expecting a menu must fail."""
    app = Flask("sim_closed_shop")

    @app.post("/voice")
    def voice() -> Response:
        response = VoiceResponse()
        response.say("The test shop is closed. Goodbye.")
        response.hangup()
        return _twiml(response)

    return app


def _line_failing_in_workers(name: str, fail: Callable[[], None]) -> Flask:
    """A line that answers this process's calls (slowly) and runs ``fail`` in a replay worker's.

    The main process's calls each take a second, so a worker surely takes a call before they
    are done.
    """
    app = Flask(name)

    @app.post("/voice")
    def voice() -> Response:
        if multiprocessing.parent_process() is not None:
            fail()
        time.sleep(1.0)
        response = VoiceResponse()
        response.say("Goodbye.")
        response.hangup()
        return _twiml(response)

    return app


def _end_the_process() -> None:
    os._exit(3)  # as a crash would: nothing runs after it


def _raise_system_exit() -> None:
    raise SystemExit("the worker's call broke")  # what no call's own error handling catches


def create_line_crashing_in_workers() -> Flask:
    """A line whose calls end a replay worker's process at once."""
    return _line_failing_in_workers("sim_crashing_in_workers", _end_the_process)


def create_line_raising_in_workers() -> Flask:
    """A line whose calls raise ``SystemExit`` through a replay worker's call."""
    return _line_failing_in_workers("sim_raising_in_workers", _raise_system_exit)
