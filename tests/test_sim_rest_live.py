"""Apps that call Twilio's REST API mid-call reach the simulator's stand-in, and it acts on the
live calls at that virtual second: in process (``InProcessHttpClient``) and over a port."""

from __future__ import annotations

import threading
from datetime import datetime
from wsgiref.simple_server import WSGIRequestHandler, make_server

from flask import Flask, request
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import Dial, VoiceResponse

from hotline.sim.engine.http_transport import HTTPTransport
from hotline.sim.engine.simulator import DEFAULT_ACCOUNT_SID, CallResult, Simulator
from hotline.sim.engine.transport import WSGITransport
from hotline.sim.model import CalleeBehaviour, CallEnd, DialOutcome
from hotline.sim.rest.server import RestServer
from hotline.twilio_rest.http import (
    InProcessHttpClient,
    LocalHttpClient,
    register_in_process,
    unregister_in_process,
)
from tests.test_sim_engine import ScriptCaller

TOKEN = "rest-live-token"
AT = datetime(2001, 3, 5, 10, 0, 0)
BUYER = "+48601100200"
SELLER = "+48600300400"
HOTLINE = "+48221000000"


def callback_app(client: Client) -> Flask:
    """A queue app that texts the caller and calls the seller to take them, through REST."""
    app = Flask("rest_live_app")
    validator = RequestValidator(TOKEN)
    texted: set[str] = set()

    @app.before_request
    def _signed() -> None:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(request.url, request.form.to_dict(), signature):
            raise PermissionError("bad signature")

    @app.post("/voice")
    def voice() -> str:
        response = VoiceResponse()
        response.enqueue("support", wait_url="/wait", action="/left")
        return str(response)

    @app.post("/wait")
    def wait() -> str:
        caller = request.form["CallSid"]
        if caller not in texted:
            texted.add(caller)
            client.messages.create(to=request.form["From"], from_=HOTLINE, body="You are first.")
            client.calls.create(to=SELLER, from_=HOTLINE, url=request.url_root + "seller")
        response = VoiceResponse()
        response.say("Please hold.")
        return str(response)

    @app.post("/seller")
    def seller() -> str:
        response = VoiceResponse()
        response.say("A buyer is waiting.")
        dial = Dial()
        dial.queue("support")
        response.append(dial)
        return str(response)

    @app.post("/left")
    def left() -> str:
        return str(VoiceResponse())

    @app.post("/moved")
    def moved() -> str:
        response = VoiceResponse()
        response.say("You have been moved.")
        return str(response)

    return app


CALLEES = {SELLER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=6.0, talk=40.0)]}


def _check_session(sim: Simulator, buyer_sid: str, result_buyer: object, seller: object) -> None:
    messages = sim.switchboard.messages()
    assert [(m.to, m.body, m.created) for m in messages] == [(BUYER, "You are first.", AT)]
    calls = {record.to: record for record in sim.switchboard.calls()}
    assert calls[SELLER].direction == "outbound-api"
    assert calls[SELLER].status == "completed"
    assert calls[BUYER].sid == buyer_sid


def _check_calls(sim: Simulator, buyer_sid: str, buyer: CallResult, seller: CallResult) -> None:
    # The seller's phone rang at once (the REST request came in the first waitUrl webhook),
    # answered 6 s later, heard the announcement (1.6 s), and took the buyer from the queue.
    assert buyer.queues[0].result == "bridged"
    assert buyer.queues[0].seconds == 7.6
    assert seller.heard() == ["A buyer is waiting."]
    assert seller.bridged == ("queue:support",)
    assert buyer.ended is CallEnd.COMPLETED  # the seller hung up after 40 s of talk
    messages = sim.switchboard.messages()
    assert [(m.to, m.body, m.created) for m in messages] == [(BUYER, "You are first.", AT)]
    calls = {record.sid: record for record in sim.switchboard.calls()}
    assert set(calls) == {buyer_sid, seller.call_sid}
    assert calls[seller.call_sid].direction == "outbound-api"
    assert calls[seller.call_sid].to == SELLER
    assert calls[seller.call_sid].status == "completed"
    assert calls[seller.call_sid].duration == 40
    assert calls[buyer_sid].direction == "inbound"


def test_an_in_process_app_reaches_the_stand_in_and_changes_the_calls() -> None:
    client = Client(DEFAULT_ACCOUNT_SID, TOKEN, http_client=InProcessHttpClient("rest-live"))
    sim = Simulator(WSGITransport(callback_app(client)), TOKEN)
    register_in_process("rest-live", sim.rest_app)
    try:
        session = sim.session(AT, callees=CALLEES)
        buyer_sid = session.place_call(ScriptCaller(hang_up_at=200.0), BUYER, HOTLINE)
        (buyer,) = session.run()
        (seller,) = session.outbound_results()
    finally:
        unregister_in_process("rest-live")
    _check_calls(sim, buyer_sid, buyer, seller)


def test_an_app_in_another_thread_reaches_the_stand_in_over_a_port() -> None:
    sims: list[Simulator] = []
    # The stand-in's port must be known before the app starts, and the simulator needs the app's:
    # the server hands each request to the simulator made below.
    with RestServer(lambda environ, start: sims[0].rest_app(environ, start)) as rest:
        http = LocalHttpClient(rest.url)
        client = Client(DEFAULT_ACCOUNT_SID, TOKEN, http_client=http)
        server = make_server("127.0.0.1", 0, callback_app(client), handler_class=_Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_port}"
            sim = Simulator(HTTPTransport(url), TOKEN, base_url=url)
            sims.append(sim)
            session = sim.session(AT, callees=CALLEES)
            buyer_sid = session.place_call(ScriptCaller(hang_up_at=200.0), BUYER, HOTLINE)
            (buyer,) = session.run()
            (seller,) = session.outbound_results()
            sim.transport.close()
            # Once the session is over, the app's requests are answered at once (from the
            # server's thread, which no call holds up any more).
            assert {c.sid for c in client.calls.list()} == {buyer_sid, seller.call_sid}
        finally:
            server.shutdown()
            server.server_close()
            if http.session is not None:
                http.session.close()
    _check_calls(sim, buyer_sid, buyer, seller)


def test_another_system_moves_a_queued_caller_through_the_rest_api() -> None:
    client = Client(DEFAULT_ACCOUNT_SID, TOKEN, http_client=InProcessHttpClient("rest-move"))
    sim = Simulator(WSGITransport(callback_app(client)), TOKEN)
    register_in_process("rest-move", sim.rest_app)
    try:
        session = sim.session(AT)  # nobody scripted for the seller: their phone rings out
        buyer_sid = session.place_call(ScriptCaller(), BUYER, HOTLINE)
        moved = "http://localhost/moved"
        session.at(25.0, lambda: client.calls(buyer_sid).update(url=moved))
        (buyer,) = session.run()
    finally:
        unregister_in_process("rest-move")
    assert buyer.queues[0].result == "redirected"
    assert buyer.queues[0].seconds == 25.0
    assert buyer.heard()[-1] == "You have been moved."
    assert buyer.finished == datetime(2001, 3, 5, 10, 0, 26, 600000)  # 4 words after 25 s


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        pass
