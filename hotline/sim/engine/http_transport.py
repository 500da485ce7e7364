"""``HTTPTransport``: the simulator reaches a running server over HTTP/1.1, as Twilio does.

Each request goes out once, on a kept-alive connection per origin; no answer (refused, closed,
reset, silent past Twilio's timeout) is a ``ConnectionFailed``. The ``Transport`` interface and
the in-process ``WSGITransport`` are in ``transport.py``.
"""

from __future__ import annotations

import http.client
import selectors
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from hotline.sim.engine.transport import WebhookResponse, encode_request, json_body
from hotline.sim.model import ConnectionFailed

#: Seconds Twilio waits for an answer to a webhook before it gives up (error 11205).
TWILIO_TIMEOUT = 15.0


class HTTPTransport:
    """Talks HTTP/1.1 to a running server at ``server`` (e.g. ``http://127.0.0.1:5000``).

    A URL on ``public_url``'s host (the public address the app believes Twilio calls) goes to
    ``server``, with that host in the ``Host`` header: the app sees (and checks the signature
    against) the public URL, as it would behind a proxy. A URL on another host (a fallback URL
    served elsewhere) goes to that host. Without ``public_url`` every request goes to ``server``.

    Each request is sent exactly once, as Twilio sends it: one that gets no answer (refused,
    closed, reset, or silent for ``timeout`` seconds, Twilio's 15 by default) raises
    ``ConnectionFailed``. A kept-alive connection the server has closed meanwhile is noticed
    before the request is written, and a fresh one is opened: nothing is ever sent twice.
    """

    shares_clock = False

    def __init__(
        self, server: str, timeout: float = TWILIO_TIMEOUT, public_url: str | None = None
    ) -> None:
        self._server = _origin(server)
        self._public = urlsplit(public_url).netloc if public_url else None
        self._timeout = timeout
        self._connections: dict[_Origin, http.client.HTTPConnection] = {}

    def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes | None = None,
    ) -> WebhookResponse:
        """Send one request (once) and read the whole answer; no answer raises ConnectionFailed."""
        target, encoded = encode_request(method, url, params)
        parts = urlsplit(target)
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        sent = {"Host": parts.netloc, **headers}
        if body is None:
            body = encoded
            if body:
                sent["Content-Type"] = "application/x-www-form-urlencoded"
        origin = self._server
        if self._public is not None and parts.netloc and parts.netloc != self._public:
            origin = _origin(target)
        connection = self._connection(origin)
        try:
            connection.request(method, path, body=body or None, headers=sent)
            response = connection.getresponse()
            content = response.read()
        except TimeoutError as exc:
            connection.close()
            what = f"no answer within {self._timeout:g} s"
            raise ConnectionFailed(f"{method} {url}: {what}", what) from exc
        except ConnectionRefusedError as exc:
            connection.close()
            raise ConnectionFailed(
                f"{method} {url}: connection refused", "connection refused"
            ) from exc
        except (http.client.HTTPException, OSError) as exc:
            # RemoteDisconnected, a reset, a broken pipe, a garbled answer: no usable answer.
            connection.close()
            what = _failure(exc)
            raise ConnectionFailed(f"{method} {url}: {what}", what) from exc
        return WebhookResponse(response.status, content, tuple(response.getheaders()))

    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        """GET ``url`` from the server and decode its JSON answer."""
        return json_body(self.request("GET", url, {}, headers or {}), url)

    def close(self) -> None:
        """Close every connection."""
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def _connection(self, origin: _Origin) -> http.client.HTTPConnection:
        """The connection to ``origin``: kept alive, unless the server has closed it meanwhile."""
        connection = self._connections.get(origin)
        if connection is None:
            scheme, host, port = origin
            factory = (
                http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            )
            connection = self._connections[origin] = factory(host, port, timeout=self._timeout)
        elif connection.sock is not None and _readable(connection.sock):
            # Between two requests a live connection has nothing to read: if it has, the server
            # closed it (or sent what was never asked for). Never write a request onto it.
            connection.close()  # http.client reconnects on the next request
        return connection


#: Where a request goes: scheme, host and port.
_Origin = tuple[str, str, int | None]


def _origin(url: str) -> _Origin:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"HTTPTransport needs an http(s)://host[:port] URL, got {url!r}")
    return parts.scheme, parts.hostname, parts.port


def _readable(sock: socket.socket) -> bool:
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        return bool(selector.select(timeout=0))


def _failure(exc: BaseException) -> str:
    """A failed exchange in a few words."""
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, ConnectionResetError):
        return "the connection was reset"
    if isinstance(exc, BrokenPipeError):
        return "the server closed the connection while the request was sent"
    if isinstance(exc, http.client.HTTPException):
        return f"the answer is not valid HTTP ({type(exc).__name__})"
    return f"the connection failed ({exc})"
