"""Small Twilio voice apps of the tests' own, written the way people write them (Flask + twilio).

Each shows one behaviour Twilio documents that the simulator must follow: HTTP redirects, a
number whose Voice URL is requested with GET, the geographic parameters of a call, TwiML with
attributes the simulator does not know, and an app that raises. Every app checks
``X-Twilio-Signature`` as a real one would (403 when it is wrong), over the URL as requested
(query string included) and, for a POST, the form.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask, Response, abort, redirect, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

AUTH_TOKEN = "twilio-apps-auth-token"
OFFICE = "+48225550100"
HOME = "+48225550200"


def _checked(name: str) -> Flask:
    """A Flask app that refuses any request not signed with ``AUTH_TOKEN``."""
    app = Flask(name)
    validator = RequestValidator(AUTH_TOKEN)
    app.extensions["requests"] = []

    @app.before_request
    def _check_signature() -> None:
        signed = request.form.to_dict() if request.method == "POST" else {}
        query = request.query_string.decode("ascii")
        url = f"{request.base_url}?{query}" if query else request.base_url
        if not validator.validate(url, signed, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        app.extensions["requests"].append((request.method, request.full_path.rstrip("?")))

    return app


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="application/xml")


def requests_of(app: Flask) -> list[tuple[str, str]]:
    """The (method, path with query) of every signed request ``app`` served, in order."""
    seen: list[tuple[str, str]] = app.extensions["requests"]
    return seen


def create_redirecting_app() -> Flask:
    """A call-forwarding app that moved its routes and answers with HTTP redirects."""
    app = _checked("redirecting_app")

    @app.post("/voice")
    def voice() -> Response:
        return redirect("/ivr/menu")  # Flask's redirect is a 302, a relative Location

    @app.route("/ivr/menu", methods=["GET", "POST"])
    def menu() -> Response:
        response = VoiceResponse()
        gather = Gather(num_digits=1, action="choice")  # relative: /ivr/choice
        gather.say(f"Menu, requested with {request.method}. Press 1 for sales.")
        response.append(gather)
        return _twiml(response)

    @app.post("/ivr/choice")
    def choice() -> Response:
        return redirect("/v2/choice", code=307)  # the POST and its Digits, to the new address

    @app.post("/v2/choice")
    def new_choice() -> Response:
        response = VoiceResponse()
        response.say(f"You pressed {request.form['Digits']}, requested with {request.method}.")
        return _twiml(response)

    @app.post("/see-other")
    def see_other() -> Response:
        return redirect("/ivr/menu", code=303)

    @app.post("/moved")
    def moved() -> Response:
        return redirect(f"{request.host_url}ivr/menu?from=moved", code=301)  # absolute

    @app.route("/loop", methods=["GET", "POST"])
    def loop() -> Response:
        return redirect("/loop")

    @app.post("/permanent")
    def permanent() -> Response:
        return redirect("/ivr/menu", code=308)

    @app.post("/nowhere")
    def nowhere() -> Response:
        return Response("", status=302)  # a redirect without a Location

    @app.post("/fallback")
    def fallback() -> Response:
        response = VoiceResponse()
        response.say(f"Fallback after error {request.form['ErrorCode']}.")
        return _twiml(response)

    return app


def create_survey_app() -> Flask:
    """A voice survey whose number requests its Voice URL with GET: it serves GET routes only."""
    app = _checked("survey_app")

    @app.get("/survey")
    def survey() -> Response:
        response = VoiceResponse()
        gather = Gather(num_digits=1, action="/survey/answer", method="GET")
        gather.say(f"Survey for {request.args['From']}. Rate us from 1 to 5.")
        response.append(gather)
        return _twiml(response)

    @app.get("/survey/answer")
    def answer() -> Response:
        response = VoiceResponse()
        response.say(f"You gave us {request.args['Digits']}. Thank you.")
        return _twiml(response)

    return app


def create_greeting_app() -> Flask:
    """A line greeting callers by where Twilio says they call from (FromCity, CallerCountry...)."""
    app = _checked("greeting_app")

    @app.post("/voice")
    def voice() -> Response:
        form = request.form
        response = VoiceResponse()
        gather = Gather(num_digits=1, action="/menu")
        gather.say(
            f"Hello caller from {form.get('FromCity', 'nowhere')}, {form.get('FromCountry')}."
        )
        response.append(gather)
        return _twiml(response)

    @app.post("/menu")
    def menu() -> Response:
        form = request.form
        response = VoiceResponse()
        response.say(
            f"Still {form.get('FromCity')}; caller country {form.get('CallerCountry')};"
            f" called in {form.get('CalledCity')}; forwarded from {form.get('ForwardedFrom')}."
        )
        return _twiml(response)

    return app


def create_forwarding_app() -> Flask:
    """Call forwarding with the attributes such apps use: recording, hangupOnStar, callbacks."""
    app = _checked("forwarding_app")

    @app.post("/voice")
    def voice() -> Response:
        response = VoiceResponse()
        gather = Gather(
            input="dtmf speech", num_digits=1, action="/route", partial_result_callback="/partial"
        )
        gather.say("Press 1 for the office.", rate="fast")  # rate= is not TwiML: a 12200
        response.append(gather)
        return _twiml(response)

    @app.post("/route")
    def route() -> Response:
        response = VoiceResponse()
        dial = Dial(
            action="/after",
            timeout=10,
            record="record-from-answer",
            recording_status_callback="/recordings",
            hangup_on_star=True,
        )
        dial.number(
            OFFICE,
            status_callback="/leg",
            status_callback_event="initiated ringing answered completed",
        )
        response.append(dial)
        return _twiml(response)

    @app.post("/both")
    def both() -> Response:
        response = VoiceResponse()
        dial = Dial(action="/after", sequential=True)  # documented; not played offline
        dial.number(OFFICE)
        dial.number(HOME)
        response.append(dial)
        return _twiml(response)

    @app.post("/after")
    def after() -> Response:
        response = VoiceResponse()
        response.say(f"The call ended {request.form['DialCallStatus']}.")
        return _twiml(response)

    @app.post("/text-me")
    def text_me() -> Response:
        response = VoiceResponse()
        response.say("We will text you the address.")
        response.sms("Our address is 1 Main Street.")  # a Twilio verb the simulator does not play
        return _twiml(response)

    return app


def create_crashing_app(*, testing: bool = False) -> Flask:
    """An order line whose menu route raises, as apps under test do; ``testing``: TESTING on."""
    app = _checked("crashing_app")
    app.config["TESTING"] = testing  # Flask then lets the exception out of the app

    @app.post("/voice")
    def voice() -> Response:
        response = VoiceResponse()
        gather = Gather(num_digits=1, action="/menu")
        gather.say("Press 1 for your order.")
        response.append(gather)
        return _twiml(response)

    @app.post("/menu")
    def menu() -> Response:
        raise RuntimeError("the order database is gone")

    @app.post("/streamed")
    def streamed() -> Response:
        def body() -> Iterator[str]:
            yield "<Response><Say>Your order"
            raise RuntimeError("the order database went away mid-answer")

        return Response(body(), mimetype="application/xml")

    @app.post("/fallback")
    def fallback() -> Response:
        response = VoiceResponse()
        response.say(f"Sorry, error {request.form['ErrorCode']}.")
        return _twiml(response)

    @app.post("/logs")
    def logs() -> Response:
        request.environ["wsgi.errors"].write("a note the app logs on a good request\n")
        response = VoiceResponse()
        response.say("All good.")
        return _twiml(response)

    return app


def create_crashing_test_app() -> Flask:
    """The crashing app with TESTING on: its exceptions escape the app, as in a test suite."""
    return create_crashing_app(testing=True)


def create_nothing() -> Flask:
    """A factory that cannot build its app."""
    raise KeyError("DATABASE_URL")
