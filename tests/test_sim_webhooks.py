"""A call's requests: signed and counted, cookies kept, failures recorded once and never retried."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from hotline.sim.engine.clock import Timing
from hotline.sim.engine.http_transport import HTTPTransport
from hotline.sim.engine.signing import Signer
from hotline.sim.engine.transport import Transport, WSGITransport
from hotline.sim.engine.webhooks import Webhooks
from hotline.sim.model import ConnectionFailed, ErrorStatus, NotTwiML, RunawayCall, Who
from tests.sim_apps import AUTH_TOKEN, hits_of, raw_wsgi_app, say, twiml_app
from tests.test_sim_engine import raw


class Settings:
    """The simulator settings a call's requests read."""

    def __init__(self, transport: Transport, fallback_url: str | None = None) -> None:
        self.transport = transport
        self.signer = Signer(AUTH_TOKEN)
        self.account_sid = "AC" + "0" * 32
        self.timing = Timing()
        self.max_duration = 3600.0
        self.max_webhooks = 3
        self.fallback_url = fallback_url
        self.fallback_method = "POST"
        self.strict = False


def _webhooks(transport: Transport, fallback_url: str | None = None) -> tuple[Webhooks, list[Any]]:
    events: list[Any] = []

    def emit(who: Who, kind: str, text: str = "", url: str = "", detail: Any = None) -> None:
        events.append((who, kind, text, url))

    return Webhooks(Settings(transport, fallback_url), emit), events


def test_requests_are_signed_counted_recorded_and_limited() -> None:
    app = twiml_app({"/voice": say("Hello")})
    requests, events = _webhooks(WSGITransport(app))

    document = requests.fetch("POST", "http://localhost/voice", {"CallSid": "CA1"})
    requests.post("GET", "http://localhost/voice", {"Digits": "1"})

    assert [verb.name for verb in document.verbs] == ["Say"]
    assert requests.sent == 2
    assert [(h.method, h.params) for h in hits_of(app)] == [
        ("POST", {"CallSid": "CA1"}),
        ("GET", {"Digits": "1"}),
    ]
    assert [e[1:3] for e in events] == [("webhook", "POST 200"), ("webhook", "GET 200")]
    requests.post("POST", "http://localhost/voice", {})
    with pytest.raises(RunawayCall, match="more than 3 webhooks"):
        requests.post("POST", "http://localhost/voice", {})


def test_the_signature_is_twilios() -> None:
    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ["HTTP_X_TWILIO_SIGNATURE"])
        return raw_wsgi_app(environ, start_response)

    requests, _ = _webhooks(WSGITransport(app))
    requests.post("POST", "http://localhost/voice", {"From": "+48601100200"})

    validator = RequestValidator(AUTH_TOKEN)
    assert validator.validate("http://localhost/voice", {"From": "+48601100200"}, seen[0])


def test_cookies_are_kept_and_dropped_as_the_app_says() -> None:
    requests, _ = _webhooks(WSGITransport(raw_wsgi_app))
    requests._keep_cookie("session=abc; Path=/")
    requests._keep_cookie("other=1")
    requests._keep_cookie("other=; Max-Age=0")
    requests._keep_cookie("broken=\x00\x01;;")

    assert requests.cookies == {"session": "abc"}


@pytest.mark.parametrize(
    ("route", "error"), [(raw("down", 500), ErrorStatus), (raw("not xml"), NotTwiML)]
)
def test_a_failed_fetch_without_a_fallback_raises_its_error(route: Any, error: type) -> None:
    app = twiml_app({"/voice": route, "/fallback": say("Sorry")})
    requests, _ = _webhooks(WSGITransport(app), fallback_url="http://localhost/fallback")

    with pytest.raises(error):
        requests.fetch("POST", "http://localhost/voice", {})  # not the caller's leg: no fallback
    document = requests.fetch("POST", "http://localhost/voice", {}, fallback=True)

    assert [h.path for h in hits_of(app)] == ["/voice", "/voice", "/fallback"]
    assert document.url == "http://localhost/fallback"


def test_no_answer_is_recorded_once_and_a_callback_that_gets_none_does_not_fail() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    down = f"http://127.0.0.1:{port}"
    transport = HTTPTransport(down)
    requests, events = _webhooks(transport)
    try:
        with pytest.raises(ConnectionFailed):
            requests.post("POST", f"{down}/voice", {})
        requests.notify(f"{down}/status", {}, "completed status")
    finally:
        transport.close()

    assert [e[1:3] for e in events] == [
        ("webhook", "POST connection refused"),
        ("status-callback", "POST connection refused"),
        ("error", "completed status callback got no answer: connection refused"),
    ]
