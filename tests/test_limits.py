"""Request size: oversized bodies get 413 before they are read, on every route, in gunicorn too."""

from __future__ import annotations

import http.client
import io
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from hotline import create_app
from tests.conftest import API_TOKEN, AUTH_TOKEN, CallActions
from tests.live_server import LiveServer, serve_hotline

LIMIT = 64 * 1024  # the default of security.max_request_bytes
FORM_TYPE = "application/x-www-form-urlencoded"


class Body(io.RawIOBase):
    """A form body of ``size`` bytes made up as it is read, counting what the app reads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True  # the test client seeks to the end to learn the length: no reading

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        n = max(0, min(len(buffer), self.size - self.position))
        data = (b"SpeechResult=" if self.position == 0 else b"") + b"a" * n
        buffer[:n] = data[:n]
        self.position += n
        self.read_bytes += n
        return n


ROUTES = [
    ("POST", "/voice", {"X-Twilio-Signature": "c2lnbmVk"}),
    ("POST", "/voice", {}),
    ("POST", "/voice/step/main_menu?attempt=1", {"X-Twilio-Signature": "c2lnbmVk"}),
    ("POST", "/voice/fallback", {"X-Twilio-Signature": "c2lnbmVk"}),
    ("POST", "/voice/status", {"X-Twilio-Signature": "c2lnbmVk"}),
    ("GET", "/api/threads", {"Authorization": f"Bearer {API_TOKEN}"}),
    ("POST", "/api/threads", {"Authorization": f"Bearer {API_TOKEN}"}),
    ("PUT", "/api/calls/CA1", {}),
    ("POST", "/nowhere", {}),
    # A buyer's reply posts to their link: its secret is not logged.
    ("POST", "/t/7/D-_mqpHK1nskI5-a7rMipoo5sDZ3PXqA", {}),
]


def is_api(path: str) -> bool:
    return path.startswith("/api/")


@pytest.mark.parametrize(("method", "path", "headers"), ROUTES)
def test_a_declared_oversized_body_is_refused_unread(
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    body = Body(150 * 1024 * 1024)
    with caplog.at_level(logging.WARNING, logger="hotline.web.limits"):
        response = client.open(
            path,
            method=method,
            input_stream=body,
            content_length=body.size,
            content_type=FORM_TYPE,
            headers=headers,
        )
    assert response.status_code == 413
    assert body.read_bytes == 0  # refused on its Content-Length alone
    expected = f"request body too large: at most {LIMIT} bytes"
    if is_api(path):
        assert response.get_json() == {"error": expected}
    else:
        assert response.mimetype == "text/plain"
        assert response.get_data(as_text=True) == expected + "\n"
    [line] = [r.getMessage() for r in caplog.records]
    shown = "/t/7/…" if path.startswith("/t/") else path.split("?")[0]
    assert line == (
        f"refused {method} {shown}: a body of {body.size} bytes, "
        f"over the {LIMIT} bytes allowed (security.max_request_bytes)"
    )


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/voice", {"X-Twilio-Signature": "c2lnbmVk"}),
        ("/voice/fallback", {"X-Twilio-Signature": "c2lnbmVk"}),
    ],
)
def test_a_chunked_oversized_body_is_read_only_up_to_the_limit(
    client: FlaskClient, path: str, headers: dict[str, str]
) -> None:
    body = Body(150 * 1024 * 1024)
    response = client.post(
        path,
        input_stream=body,
        content_type=FORM_TYPE,
        headers={**headers, "Transfer-Encoding": "chunked"},  # no length to refuse it by
        # What a server sets when it passes a chunked body on as it arrives.
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert body.read_bytes == LIMIT + 1  # one byte past the limit tells it is over


def signed_post(client: FlaskClient, path: str, form: dict[str, str]) -> int:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"http://localhost{path}", form)
    response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    return response.status_code


@pytest.mark.parametrize(("extra", "status"), [(0, 200), (1, 413)])
def test_a_signed_webhook_up_to_the_limit_is_served(
    config: dict[str, Any], extra: int, status: int
) -> None:
    config["security"]["max_request_bytes"] = 8192
    client = create_app(config).test_client()
    form = CallActions(client).params(SpeechResult="")
    padding = 8192 - len(urlencode(form)) + extra
    form["SpeechResult"] = "a" * padding
    assert len(urlencode(form)) == 8192 + extra
    assert signed_post(client, "/voice", form) == status


@pytest.mark.parametrize(("extra", "status"), [(0, 200), (1, 413)])
def test_a_chunked_signed_webhook_up_to_the_limit_is_served(
    config: dict[str, Any], extra: int, status: int
) -> None:
    config["security"]["max_request_bytes"] = 8192
    client = create_app(config).test_client()
    form = CallActions(client).params(SpeechResult="")
    form["SpeechResult"] = "a" * (8192 - len(urlencode(form)) + extra)
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost/voice", form)
    response = client.post(
        "/voice",
        input_stream=io.BytesIO(urlencode(form).encode()),
        content_type=FORM_TYPE,
        headers={"X-Twilio-Signature": signature, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == status
    if status == 200:  # the form read for the size check is the one the webhook parsed
        assert b"<Gather" in response.data


def test_long_speech_is_far_below_the_default_limit(call: CallActions) -> None:
    menu = call.start()
    words = "I would like to know whether this product works with my phone " * 60  # ~4 KB
    assert call.say(menu, words).status == 200


def test_no_body_is_ever_read_past_the_limit(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == LIMIT + 1  # Werkzeug's own stop, for any view


# -- in real gunicorn: the worker's memory stays flat ----------------------------------------------

BIG = 150 * 1024 * 1024
CHUNK = b"a" * (1024 * 1024)
GUARD = 120.0  # seconds before a hung socket fails the test (a guard, never a measurement)


def only_worker(server: LiveServer) -> int:
    """The pid of the server's one worker."""
    pids = server.workers()
    assert len(pids) == 1, f"expected one worker, got {pids}"
    return pids[0]


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak) of ``pid``, in kB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


@pytest.fixture
def server(db_path: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """``hotline serve`` with one worker on this test's migrated database."""
    with serve_hotline(tmp_path, database=db_path) as live:
        yield live


def signed_webhook(server: LiveServer) -> tuple[int, str]:
    """An ordinary signed ``POST /voice``: its status and body."""
    form = _call_form()
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{server.url}/voice", form)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=GUARD)
    try:
        connection.request(
            "POST",
            "/voice",
            body=urlencode(form),
            headers={"Content-Type": FORM_TYPE, "X-Twilio-Signature": signature},
        )
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _call_form() -> dict[str, str]:
    return {
        "CallSid": "CA00000000000000000000000000000777",
        "AccountSid": "AC00000000000000000000000000000000",
        "From": "+48601100200",
        "To": "+442071000000",
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


def stream(server: LiveServer, head: bytes, body: Iterator[bytes]) -> bytes:
    """Send ``head`` then ``body`` (until the server stops taking it); return what it answered."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=GUARD)
    sent = [0]

    def send() -> None:
        try:
            sock.sendall(head)
            for piece in body:
                sock.sendall(piece)
                sent[0] += len(piece)
        except OSError:  # the server answered and closed: the rest is never read
            pass

    sender = threading.Thread(target=send)
    sender.start()
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except ConnectionResetError:  # closed with the body unread: what was answered stays read
        pass
    finally:
        sender.join(GUARD)
        sock.close()
    assert sent[0] < BIG, "the whole body went through: nothing stopped reading it"
    return answer


def declared(size: int) -> Iterator[bytes]:
    yield b"a="
    left = size - 2
    while left > 0:
        piece = CHUNK[: min(left, len(CHUNK))]
        left -= len(piece)
        yield piece


def chunked(size: int) -> Iterator[bytes]:
    for piece in declared(size):
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


def head(port: int, length_header: str) -> bytes:
    return (
        f"POST /voice HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {FORM_TYPE}\r\n"
        f"X-Twilio-Signature: c2lnbmVk\r\n{length_header}\r\n\r\n"
    ).encode()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory from /proc")
def test_gunicorn_refuses_a_huge_webhook_body_without_reading_it(server: LiveServer) -> None:
    assert signed_webhook(server)[0] == 200  # warm: the app and the store have done their work
    worker = only_worker(server)
    before = memory_kb(worker)

    answers = [
        stream(server, head(server.port, f"Content-Length: {BIG}"), declared(BIG)),
        stream(server, head(server.port, "Transfer-Encoding: chunked"), chunked(BIG)),
    ]

    after = memory_kb(worker)
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert answer.endswith(f"request body too large: at most {LIMIT} bytes\n".encode())
    grown_mb = (after["VmHWM"] - before["VmHWM"]) / 1024
    assert grown_mb < 16, f"the worker's peak memory grew {grown_mb:.0f} MB for a 150 MB body"
    assert (after["VmRSS"] - before["VmRSS"]) / 1024 < 16
    status, twiml = signed_webhook(server)
    assert status == 200 and "<Gather" in twiml  # and a real webhook is served as ever
    assert only_worker(server) == worker  # by the same worker: none died
