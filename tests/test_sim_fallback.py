"""Twilio's Voice Fallback URL: a failed TwiML request is followed once by the fallback.

In-process against small WSGI apps (a 500, a crash, an answer that is not TwiML, a failing action
URL), and over real sockets against servers that refuse, close without answering, stay silent
past the timeout, or close a kept-alive connection between two requests.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from hotline.sim.engine.fallback import APPLICATION_ERROR
from hotline.sim.engine.http_transport import HTTPTransport
from hotline.sim.engine.simulator import Simulator
from hotline.sim.engine.transport import WSGITransport
from hotline.sim.model import CallEnd, ConnectionFailed, Who
from tests.sim_apps import AUTH_TOKEN, Hit, hits_of, say, twiml_app
from tests.test_sim_engine import AT, BUYER, HOTLINE, ScriptCaller, digits, place, raw, twiml

SORRY = "Sorry, we have a problem. Hold for an agent."


def fallback_route() -> Callable[[dict[str, str]], Any]:
    return say(SORRY)


def paths(hits: list[Hit]) -> list[str]:
    return [h.path for h in hits]


def crash(_params: dict[str, str]) -> Any:
    raise RuntimeError("the database is gone")


# -- in-process ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("primary", "code"),
    [
        (raw("Internal Server Error", 500), "11200"),
        (raw("Service Unavailable", 503), "11200"),
        (raw("Not Found", 404), "11200"),
        (crash, "11200"),  # Flask answers 500 for a route that raises
        (raw("<html>oops</html>"), "12100"),
        (raw("not xml at all"), "12100"),
    ],
)
def test_a_failed_voice_url_is_followed_by_the_fallback_once(primary: Any, code: str) -> None:
    result, hits = place(
        {"/voice": primary, "/fallback": fallback_route()}, fallback_url="/fallback"
    )
    assert paths(hits) == ["/voice", "/fallback"]  # the primary exactly once
    fallback = hits[1]
    assert fallback.params["ErrorCode"] == code
    assert fallback.params["ErrorUrl"] == "http://localhost/voice"
    assert fallback.params["CallSid"] == hits[0].params["CallSid"]
    assert fallback.params["From"] == BUYER
    assert result.ended is CallEnd.COMPLETED
    assert result.heard() == [SORRY]
    [event] = result.events("fallback")
    assert event.detail["ErrorCode"] == code and event.url == "http://localhost/voice"


def test_a_failed_action_url_goes_to_the_fallback_with_the_callers_input() -> None:
    def menu(response: Any) -> None:
        response.gather(num_digits=1, action="/menu").say("Press 1")

    def rescue(params: dict[str, str]) -> Any:
        return say(f"Fallback got {params.get('Digits')}")(params)

    result, hits = place(
        {"/voice": twiml(menu), "/menu": raw("boom", 502), "/fallback": rescue},
        digits("1"),
        fallback_url="/fallback",
    )
    assert paths(hits) == ["/voice", "/menu", "/fallback"]
    assert hits[2].params["Digits"] == "1"
    assert hits[2].params["ErrorUrl"] == "http://localhost/menu"
    assert result.heard() == ["Press 1", "Fallback got 1"]
    assert result.ended is CallEnd.COMPLETED


def test_the_fallback_twiml_carries_the_call_on() -> None:
    def recover(response: Any) -> None:
        response.say("Let us try again.")
        response.redirect("/again")

    result, hits = place(
        {"/voice": raw("down", 500), "/fallback": twiml(recover), "/again": say("Back on track")},
        fallback_url="/fallback",
    )
    assert paths(hits) == ["/voice", "/fallback", "/again"]
    assert result.heard() == ["Let us try again.", "Back on track"]


def test_the_fallback_method_get_puts_the_error_in_the_query_string() -> None:
    result, hits = place(
        {"/voice": raw("down", 500), "/fallback": fallback_route()},
        fallback_url="/fallback",
        fallback_method="GET",
    )
    assert [(h.method, h.path) for h in hits] == [("POST", "/voice"), ("GET", "/fallback")]
    assert hits[1].params["ErrorCode"] == "11200"
    assert result.heard() == [SORRY]


def test_without_a_fallback_the_caller_hears_twilios_application_error() -> None:
    result, hits = place({"/voice": raw("Internal Server Error", 500)})
    assert paths(hits) == ["/voice"]
    assert result.ended is CallEnd.FAILED
    assert "answered 500" in result.reason and "ErrorCode 11200" in result.reason
    assert "no Voice Fallback URL" in result.reason
    assert "application error has occurred" in result.reason
    spoken = [e for e in result.transcript if e.kind == "say"]
    assert [(e.who, e.text) for e in spoken] == [(Who.TWILIO, APPLICATION_ERROR)]
    assert result.heard() == []  # the app said nothing: Twilio did


def test_when_the_fallback_fails_too_the_call_ends_with_the_application_error() -> None:
    result, hits = place(
        {"/voice": raw("down", 500), "/fallback": raw("also down", 503)},
        fallback_url="/fallback",
    )
    assert paths(hits) == ["/voice", "/fallback"]  # each once: no loop, no retry
    assert result.ended is CallEnd.FAILED
    assert "answered 500" in result.reason and "answered 503" in result.reason
    assert "the Voice Fallback URL failed too" in result.reason
    assert result.transcript[-2].text == APPLICATION_ERROR


def test_a_whispers_failure_is_not_the_numbers_to_fall_back_on() -> None:
    from hotline.sim.model import CalleeBehaviour, DialOutcome

    def dial(response: Any) -> None:
        response.dial().number("+48600300400", url="/whisper")

    result, hits = place(
        {"/voice": twiml(dial), "/whisper": raw("down", 500), "/fallback": fallback_route()},
        callees={"+48600300400": [CalleeBehaviour(DialOutcome.ANSWER)]},
        fallback_url="/fallback",
    )
    assert "/fallback" not in paths(hits)
    assert result.ended is CallEnd.FAILED


def test_an_app_that_raises_outside_any_framework_answers_500() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/voice":
            raise RuntimeError("no framework to catch this")
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [b"<Response><Say>Fallback</Say></Response>"]

    transport = WSGITransport(app)
    answer = transport.request("POST", "http://localhost/voice", {}, {"X-Trace": "1"})
    assert answer.status == 500 and b"RuntimeError: no framework to catch this" in answer.body
    sim = Simulator(transport, AUTH_TOKEN, fallback_url="/fallback")
    result = sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE)
    assert result.heard() == ["Fallback"]
    assert result.events("fallback")[0].detail["ErrorCode"] == "11200"


# -- over real sockets --------------------------------------------------------------------------


@pytest.fixture
def fallback_server() -> Iterator[tuple[str, Flask]]:
    """A fallback app served over HTTP on its own port: (its /fallback URL, the app)."""
    app = twiml_app({"/fallback": fallback_route()})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/fallback", app
    httpd.shutdown()
    httpd.server_close()
    thread.join()


class RawServer:
    """A socket server that reads each request and then does what ``answer`` says.

    ``answer(connection)`` returns True to keep reading requests on the connection. Every
    request's first line is kept in ``requests``; ``closed`` is set each time it closes one.
    """

    def __init__(self, answer: Callable[[socket.socket], bool]) -> None:
        self._answer = answer
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.requests: list[str] = []
        self.connections = 0
        self.closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed: the test is over
            self.connections += 1
            with connection:
                while self._read_request(connection) and self._answer(connection):
                    pass
            self.closed.set()

    def _read_request(self, connection: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            body += connection.recv(65536)
        self.requests.append(head.split(b"\r\n")[0].decode())
        return True

    def close(self) -> None:
        # shutdown() wakes the accept() the thread waits in (close() alone would not).
        self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join()


def _hang_up(_connection: socket.socket) -> bool:
    return False  # read the request, close without a word


def test_a_server_that_closes_without_answering_gets_the_request_once(
    fallback_server: tuple[str, Flask],
) -> None:
    fallback_url, fallback_app = fallback_server
    server = RawServer(_hang_up)
    transport = HTTPTransport(server.url, public_url=server.url)
    try:
        sim = Simulator(transport, AUTH_TOKEN, base_url=server.url, fallback_url=fallback_url)
        result = sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE)
    finally:
        transport.close()
        server.close()
    assert server.requests == ["POST /voice HTTP/1.1"]  # never re-sent
    [fallback] = hits_of(fallback_app)
    assert fallback.params["ErrorCode"] == "11205"
    assert fallback.params["ErrorUrl"] == f"{server.url}/voice"
    assert result.heard() == [SORRY]
    first = result.events("webhook")[0]
    assert first.text == "POST the server closed the connection without answering"


def test_a_refused_connection_goes_to_the_fallback(fallback_server: tuple[str, Flask]) -> None:
    fallback_url, fallback_app = fallback_server
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    down = f"http://127.0.0.1:{port}"  # nothing listens there any more
    transport = HTTPTransport(down, public_url=down)
    try:
        sim = Simulator(transport, AUTH_TOKEN, base_url=down, fallback_url=fallback_url)
        result = sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE)
    finally:
        transport.close()
    assert [h.params["ErrorCode"] for h in hits_of(fallback_app)] == ["11205"]
    assert result.events("webhook")[0].text == "POST connection refused"
    assert result.heard() == [SORRY]


def test_a_server_silent_past_the_timeout_goes_to_the_fallback(
    fallback_server: tuple[str, Flask],
) -> None:
    fallback_url, fallback_app = fallback_server
    release = threading.Event()

    def slow(_params: dict[str, str]) -> Any:
        release.wait(10)  # answers only once the test is over
        return say("Too late")(_params)

    slow_app = twiml_app({"/voice": slow})
    httpd = make_server("127.0.0.1", 0, slow_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_port}"
    transport = HTTPTransport(url, timeout=0.3, public_url=url)
    try:
        sim = Simulator(transport, AUTH_TOKEN, base_url=url, fallback_url=fallback_url)
        result = sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE)
    finally:
        release.set()
        transport.close()
        httpd.shutdown()
        httpd.server_close()
        thread.join()
    assert paths(hits_of(slow_app)) == ["/voice"]  # once, though it never answered in time
    assert [h.params["ErrorCode"] for h in hits_of(fallback_app)] == ["11205"]
    assert result.events("webhook")[0].text == "POST no answer within 0.3 s"
    assert result.heard() == [SORRY]


def test_a_kept_alive_connection_the_server_closed_is_never_written_to() -> None:
    answered = threading.Event()

    def answer_then_close(connection: socket.socket) -> bool:
        body = b"<Response/>"
        head = f"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n"
        connection.sendall(head.encode() + body)  # keep-alive by HTTP/1.1 default...
        answered.set()
        return False  # ...but the server closes the connection right after

    server = RawServer(answer_then_close)
    transport = HTTPTransport(server.url)
    try:
        first = transport.request("POST", f"{server.url}/a", {"n": "1"}, {})
        assert server.closed.wait(5)  # the server has closed the kept-alive connection
        second = transport.request("POST", f"{server.url}/b", {"n": "2"}, {})
    finally:
        transport.close()
        server.close()
    assert (first.status, second.status) == (200, 200)
    assert server.requests == ["POST /a HTTP/1.1", "POST /b HTTP/1.1"]  # each exactly once
    assert server.connections == 2


def test_a_failed_exchange_is_reported_not_retried() -> None:
    server = RawServer(_hang_up)
    transport = HTTPTransport(server.url)
    try:
        with pytest.raises(ConnectionFailed, match="closed the connection without answering"):
            transport.request("POST", f"{server.url}/voice", {"a": "1"}, {})
    finally:
        transport.close()
        server.close()
    assert server.requests == ["POST /voice HTTP/1.1"]
