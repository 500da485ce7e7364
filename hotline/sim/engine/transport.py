"""How the simulator reaches the app: one small ``Transport`` interface, in-process or by socket.

``WSGITransport`` calls any WSGI application directly (the app shares the process, so it can see
the simulator's virtual clock); ``HTTPTransport`` speaks HTTP/1.1 to a running server (the app runs
on its own clock). Both take absolute URLs: the URL the app believes Twilio requested, which is
also the URL the request is signed with.
"""

from __future__ import annotations

import http.client
import io
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes, urlencode, urlsplit

from hotline.sim.model import WebhookFailed

#: What a WSGI application looks like (PEP 3333), kept loose so any framework's app fits.
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_EXCERPT = 300


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    """What the app answered: status code, body bytes and headers (names as sent)."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        """Return the first header called ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        """Return every header called ``name`` (case-insensitive), e.g. all ``Set-Cookie`` lines."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def excerpt(self) -> str:
        """Return the start of the body as text, for error messages."""
        return self.body[:_EXCERPT].decode("utf-8", errors="replace")


class Transport(Protocol):
    """Sends one request to the app and returns its answer."""

    #: True when the app runs in this process and can be shown the virtual clock (freezegun).
    shares_clock: bool

    def request(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> WebhookResponse:
        """Send ``params`` form-encoded (POST body, or query string for GET) to ``url``."""
        ...

    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        """GET ``url`` and return its JSON body; a non-2xx answer raises ``WebhookFailed``."""
        ...

    def close(self) -> None:
        """Release whatever the transport holds (sockets)."""
        ...


def _encode(method: str, url: str, params: Mapping[str, str]) -> tuple[str, bytes]:
    """Return the URL to request and the body: Twilio puts GET params in the query string."""
    if method == "GET":
        if params:
            url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"
        return url, b""
    return url, urlencode(params).encode("ascii")


def _json_of(response: WebhookResponse, url: str) -> Any:
    if not 200 <= response.status < 300:
        raise WebhookFailed(f"GET {url} answered {response.status}: {response.excerpt()!r}")
    try:
        return json.loads(response.body)
    except ValueError as exc:
        raise WebhookFailed(f"GET {url} did not answer JSON: {response.excerpt()!r}") from exc


class WSGITransport:
    """Calls a WSGI application in-process, building the PEP 3333 environ itself (any framework)."""

    shares_clock = True

    def __init__(self, app: WSGIApp, remote_addr: str = "127.0.0.1") -> None:
        self._app = app
        self._remote_addr = remote_addr

    def request(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> WebhookResponse:
        """Run the app on one request and collect its whole answer."""
        target, body = _encode(method, url, params)
        environ = self._environ(method, target, body, headers)
        captured: list[Any] = []

        def start_response(
            status: str,
            response_headers: list[tuple[str, str]],
            exc_info: tuple[type[BaseException], BaseException, TracebackType] | None = None,
        ) -> Callable[[bytes], object]:
            if exc_info is not None and captured:
                raise exc_info[1].with_traceback(exc_info[2])
            captured[:] = [status, response_headers]
            return lambda _data: None  # the legacy write() callable; nothing uses it here

        result = self._app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status_line, response_headers = captured
        return WebhookResponse(int(status_line.split(" ", 1)[0]), content, tuple(response_headers))

    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        """GET ``url`` from the app and decode its JSON answer."""
        return _json_of(self.request("GET", url, {}, headers or {}), url)

    def close(self) -> None:
        """Nothing to release in-process."""

    def _environ(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        parts = urlsplit(url)
        scheme = parts.scheme or "http"
        port = parts.port or (443 if scheme == "https" else 80)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            # PEP 3333: PATH_INFO is the unquoted path as latin-1 "bytes in a str".
            "PATH_INFO": unquote_to_bytes(parts.path or "/").decode("latin-1"),
            "QUERY_STRING": parts.query,
            "SERVER_NAME": parts.hostname or "localhost",
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": self._remote_addr,
            "HTTP_HOST": parts.netloc,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if body:
            environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            environ["CONTENT_LENGTH"] = str(len(body))
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                environ[f"HTTP_{key}"] = value
        return environ


class HTTPTransport:
    """Talks HTTP/1.1 to a running server at ``server`` (e.g. ``http://127.0.0.1:5000``).

    The request goes to ``server`` whatever host the URL names, with the URL's host in the
    ``Host`` header: the app sees (and checks the signature against) the public URL, as it would
    behind a proxy.
    """

    shares_clock = False

    def __init__(self, server: str, timeout: float = 30.0) -> None:
        parts = urlsplit(server)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"HTTPTransport needs an http(s)://host[:port] URL, got {server!r}")
        factory = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self._connection = factory(parts.hostname, parts.port, timeout=timeout)

    def request(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> WebhookResponse:
        """Send one request over the kept-alive connection (reconnecting once if it was closed)."""
        target, body = _encode(method, url, params)
        parts = urlsplit(target)
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        sent = {"Host": parts.netloc, **headers}
        if body:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            return self._send(method, path, body, sent)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed a kept-alive connection between two requests: retry once.
            self._connection.close()
            return self._send(method, path, body, sent)

    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        """GET ``url`` from the server and decode its JSON answer."""
        return _json_of(self.request("GET", url, {}, headers or {}), url)

    def close(self) -> None:
        """Close the connection to the server."""
        self._connection.close()

    def _send(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> WebhookResponse:
        self._connection.request(method, path, body=body or None, headers=dict(headers))
        response = self._connection.getresponse()
        content = response.read()
        return WebhookResponse(response.status, content, tuple(response.getheaders()))
