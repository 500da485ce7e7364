"""HTTP redirects answering a webhook are followed as Twilio documents, in-process and by socket.

Twilio follows 301, 302, 303 and 307 (error 11216 says so), "like a web browser": a 301/302/303
after a POST becomes a GET, a 307 repeats the POST; each hop is signed over its own URL. Any
other 3xx, or one without a Location, is error 11216; an endless chain is 11215.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from hotline.sim.engine.http_transport import HTTPTransport
from hotline.sim.engine.simulator import CallResult, Simulator
from hotline.sim.engine.transport import Transport, WSGITransport
from hotline.sim.engine.webhooks import MAX_REDIRECTS
from hotline.sim.model import CallEnd, RedirectFailed, Who
from tests.sim_twilio_apps import AUTH_TOKEN, create_redirecting_app, requests_of
from tests.test_sim_engine import AT, BUYER, HOTLINE, ScriptCaller, digits


@pytest.fixture(params=["wsgi", "http"])
def reach(request: pytest.FixtureRequest) -> Iterator[tuple[Flask, Transport, str]]:
    """The redirecting app, reached in-process or over a real socket: (app, transport, base)."""
    app = create_redirecting_app()
    if request.param == "wsgi":
        yield app, WSGITransport(app), "http://localhost"
        return
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    transport = HTTPTransport(base, public_url=base)
    try:
        yield app, transport, base
    finally:
        transport.close()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _call(
    reach: tuple[Flask, Transport, str], voice_url: str = "/voice", **options: str
) -> CallResult:
    _app, transport, base = reach
    sim = Simulator(transport, AUTH_TOKEN, voice_url, base, **options)
    return sim.place_call(ScriptCaller([digits("1")]), AT, BUYER, HOTLINE)


def test_a_302_after_a_post_is_a_get_and_a_307_repeats_the_post(
    reach: tuple[Flask, Transport, str],
) -> None:
    result = _call(reach)

    assert result.ended is CallEnd.COMPLETED
    assert result.heard() == [
        "Menu, requested with GET. Press 1 for sales.",
        "You pressed 1, requested with POST.",
    ]
    # Each hop was signed over its own URL (the app refuses anything else with a 403).
    assert requests_of(reach[0]) == [
        ("POST", "/voice"),
        ("GET", "/ivr/menu"),  # the Location as written: no params added to a redirected GET
        ("POST", "/ivr/choice"),  # the Gather's relative action, against the final URL
        ("POST", "/v2/choice"),
    ]
    redirects = result.events("http-redirect")
    assert [(e.text.split("/", 3)[-1], e.detail) for e in redirects] == [
        ("ivr/menu", {"status": "302", "method": "GET"}),
        ("v2/choice", {"status": "307", "method": "POST"}),
    ]
    assert result.webhooks == 4  # every hop is a request of its own


@pytest.mark.parametrize(
    ("voice_url", "requested"),
    [("/see-other", ("GET", "/ivr/menu")), ("/moved", ("GET", "/ivr/menu?from=moved"))],
)
def test_303_and_301_become_a_get_of_the_location(
    reach: tuple[Flask, Transport, str], voice_url: str, requested: tuple[str, str]
) -> None:
    result = _call(reach, voice_url)

    assert result.heard()[0] == "Menu, requested with GET. Press 1 for sales."
    assert requests_of(reach[0])[:2] == [("POST", voice_url), requested]


@pytest.mark.parametrize(
    ("voice_url", "code", "message"),
    [
        ("/permanent", "11216", "answered 308, a redirect Twilio does not follow"),
        ("/nowhere", "11216", "answered 302 without a Location header"),
        ("/loop", "11215", f"redirected more than {MAX_REDIRECTS} times in a row"),
    ],
)
def test_a_redirect_twilio_does_not_follow_fails_the_request(
    reach: tuple[Flask, Transport, str], voice_url: str, code: str, message: str
) -> None:
    result = _call(reach, voice_url)

    assert result.ended is CallEnd.FAILED
    assert isinstance(result.error, RedirectFailed)
    assert result.error.error_code == code
    assert message in str(result.error)
    expected = 1 + MAX_REDIRECTS if voice_url == "/loop" else 1
    assert len(requests_of(reach[0])) == expected


def test_a_failed_redirect_goes_to_the_voice_fallback_url(
    reach: tuple[Flask, Transport, str],
) -> None:
    result = _call(reach, "/permanent", fallback_url="/fallback")

    assert result.ended is CallEnd.COMPLETED
    assert result.heard() == ["Fallback after error 11216."]
    [fallback] = result.events("fallback")
    assert fallback.who is Who.TWILIO and fallback.detail["ErrorCode"] == "11216"
