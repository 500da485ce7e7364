"""Transports reach any WSGI app in-process, or a real server over a socket, the same way."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.serving import make_server

from hotline.sim.engine.http_transport import HTTPTransport
from hotline.sim.engine.simulator import Simulator
from hotline.sim.engine.transport import WebhookResponse, WSGITransport, form_encode
from hotline.sim.model import CallEnd, CallerInput, InputKind, WebhookFailed
from tests.sim_apps import AUTH_TOKEN, hits_of, raw_wsgi_app, say, twiml_app
from tests.test_sim_engine import AT, BUYER, HOTLINE, ScriptCaller, twiml


@pytest.fixture
def voice_app() -> Flask:
    """A two-step voice app: a Gather whose answer is read back."""

    def voice(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        if "Digits" in params:
            response.say(f"You pressed {params['Digits']}")
        else:
            response.gather(num_digits=1, action="/voice").say("Press a key")
        return response

    return twiml_app({"/voice": voice, "/bye": say("Bye")})


@pytest.fixture
def server(voice_app: Flask) -> Iterator[str]:
    """``voice_app`` served over HTTP on 127.0.0.1 (a free port) in a thread."""
    httpd = make_server("127.0.0.1", 0, voice_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_wsgi_transport_builds_the_environ_for_any_wsgi_app() -> None:
    transport = WSGITransport(raw_wsgi_app)
    answer = transport.request("POST", "http://localhost/x/y%20z?a=1", {"B": "2 3"}, {})
    assert answer.status == 200
    assert b"POST /x/y z a=1 B=2+3" in answer.body
    assert answer.header("content-type") == "text/xml"


def test_wsgi_transport_sends_get_params_in_the_query_string() -> None:
    answer = WSGITransport(raw_wsgi_app).request(
        "GET", "http://localhost/menu?step=2", {"Digits": "5"}, {}
    )
    assert b"GET /menu step=2 Digits=5 </Say>" in answer.body


def test_webhook_response_headers_are_case_insensitive() -> None:
    answer = WebhookResponse(
        200, b"", (("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("X-One", "1"))
    )
    assert answer.header("x-one") == "1"
    assert answer.header("missing") is None
    assert answer.header_values("SET-COOKIE") == ["a=1", "b=2"]


def test_get_json_refuses_an_error_answer(voice_app: Flask) -> None:
    transport = WSGITransport(voice_app)
    assert transport.get_json("http://localhost/api/now")["hits"] == 0
    with pytest.raises(WebhookFailed, match="answered 403"):
        transport.get_json("http://localhost/voice")


def test_a_call_over_http_is_signed_and_played(server: str, voice_app: Flask) -> None:
    transport = HTTPTransport(server)
    try:
        sim = Simulator(transport, AUTH_TOKEN, base_url=server)
        caller = ScriptCaller([CallerInput(InputKind.DIGITS, digits="4")])
        result = sim.place_call(caller, AT, BUYER, HOTLINE)
        assert result.ended is CallEnd.COMPLETED
        assert result.heard() == ["Press a key", "You pressed 4"]
        assert sim.get_json("/api/now")["hits"] == 2
    finally:
        transport.close()
    # Over HTTP the app keeps the real clock: it cannot see virtual time.
    assert all(h.now > AT + timedelta(days=365) for h in hits_of(voice_app))


def test_http_transport_signs_for_the_public_url(server: str, voice_app: Flask) -> None:
    transport = HTTPTransport(server)
    try:
        sim = Simulator(transport, AUTH_TOKEN, base_url="http://hotline.example.com")
        result = sim.place_call(ScriptCaller([CallerInput(InputKind.SILENCE)]), AT, BUYER, HOTLINE)
        bad = Simulator(transport, "wrong-token", base_url="http://hotline.example.com")
        refused = bad.place_call(ScriptCaller(), AT, BUYER, HOTLINE)
    finally:
        transport.close()
    assert result.ended is CallEnd.COMPLETED
    assert result.events("webhook")[0].url == "http://hotline.example.com/voice"
    assert refused.ended is CallEnd.FAILED and "answered 403" in str(refused.error)


def test_http_transport_needs_an_http_url() -> None:
    with pytest.raises(ValueError, match="http"):
        HTTPTransport("ftp://example.com")


def test_in_process_the_app_sees_the_virtual_clock() -> None:
    app = twiml_app(
        {"/voice": twiml(lambda r: (r.pause(length=90), r.redirect("/bye"))), "/bye": say("Bye")}
    )
    Simulator(WSGITransport(app), AUTH_TOKEN).place_call(ScriptCaller(), AT, BUYER, HOTLINE)
    assert [h.now for h in hits_of(app)] == [AT, AT + timedelta(seconds=90)]
    assert datetime.now() > AT + timedelta(days=365)


def test_a_batch_shares_one_freeze_and_each_call_sees_its_own_time() -> None:
    app = twiml_app(
        {"/voice": twiml(lambda r: (r.pause(length=2), r.redirect("/bye"))), "/bye": say("Bye")}
    )
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    later = AT + timedelta(hours=5)
    with sim.batch():
        sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE)
        assert sim.app_time.active  # still frozen between calls
        sim.place_call(ScriptCaller(), later, BUYER, HOTLINE)
    assert not sim.app_time.active
    assert [h.now for h in hits_of(app)] == [
        AT,
        AT + timedelta(seconds=2),
        later,
        later + timedelta(seconds=2),
    ]
    assert datetime.now() > AT + timedelta(days=365)


@given(st.dictionaries(st.text(), st.text()))
def test_form_encode_is_urlencode(params: dict[str, str]) -> None:
    """The cached encoder writes exactly the text urllib's urlencode writes (twice: cache hits)."""
    assert form_encode(params) == urlencode(params)
    assert form_encode(params) == urlencode(params)
