"""How the simulator reaches the app: one small ``Transport`` interface, and the in-process one.

``WSGITransport`` calls any WSGI application directly (the app shares the process, so it can see
the simulator's virtual clock); ``http_transport.HTTPTransport`` speaks HTTP/1.1 to a running
server (the app runs on its own clock). Both take absolute URLs: the URL the app believes Twilio
requested, which is also the URL the request is signed with. Also here: ``WebhookResponse`` (what
the app answered) and the form encoding both transports send.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import quote_plus, unquote_to_bytes, urlsplit

from hotline.sim.model import ConnectionFailed, WebhookFailed

#: What a WSGI application looks like (PEP 3333), kept loose so any framework's app fits.
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_EXCERPT = 300


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    """What the app answered: status code, body bytes and headers (names as sent)."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    # In-process: what the app wrote to ``wsgi.errors`` while failing (a 5xx), e.g. the traceback
    # Flask logs there; a running server keeps its own logs, so it is "" over HTTP.
    app_errors: str = ""

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
        self,
        method: str,
        url: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes | None = None,
    ) -> WebhookResponse:
        """Send ``params`` form-encoded (POST body, or query string for GET) to ``url``.

        ``body``: send these bytes instead (``params`` empty), typed by ``headers``'
        ``Content-Type`` (a JSON API request).
        """
        ...

    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        """GET ``url`` and return its JSON body; a non-2xx answer raises ``WebhookFailed``."""
        ...

    def close(self) -> None:
        """Release whatever the transport holds (sockets)."""
        ...


# A call's params repeat from webhook to webhook (CallSid, From, To, AccountSid...): quoting each
# text once per process instead of once per request was a tenth of the simulator's own time.
_quote = lru_cache(maxsize=4096)(quote_plus)


def form_encode(params: Mapping[str, str]) -> str:
    """``urllib.parse.urlencode(params)``, the same text, with each key and value quoted once."""
    return "&".join(
        # str(): urlencode quotes str() of a non-text value; for a text it is the same text
        f"{_quote(str(k))}={_quote(str(v))}"
        for k, v in params.items()
    )


def encode_request(method: str, url: str, params: Mapping[str, str]) -> tuple[str, bytes]:
    """Return the URL to request and the body: Twilio puts GET params in the query string."""
    if method == "GET":
        if params:
            url = f"{url}{'&' if urlsplit(url).query else '?'}{form_encode(params)}"
        return url, b""
    return url, form_encode(params).encode("ascii")


def json_body(response: WebhookResponse, url: str) -> Any:
    """The JSON of a 2xx answer to ``GET url``; anything else raises ``WebhookFailed``."""
    if not 200 <= response.status < 300:
        raise WebhookFailed(f"GET {url} answered {response.status}: {response.excerpt()!r}")
    try:
        return json.loads(response.body)
    except ValueError as exc:
        raise WebhookFailed(f"GET {url} did not answer JSON: {response.excerpt()!r}") from exc


class WSGITransport:
    """Calls a WSGI application in-process, building the PEP 3333 environ itself (any framework).

    An app that raises answers 500, as under a server; one that raises while sending its answer,
    once part of the body is out, breaks the connection (``ConnectionFailed``), as a server
    closing it mid-answer would. On a request answered 5xx, what the app raised travels with the
    answer (``WebhookResponse.app_errors``) into the call's report: the exceptions it logged
    (``logging``, as Flask logs an error it turns into a 500), else what it wrote to
    ``wsgi.errors``. Anything else it writes there goes to stderr, as before.
    """

    shares_clock = True

    def __init__(self, app: WSGIApp, remote_addr: str = "127.0.0.1") -> None:
        self._app = app
        self._remote_addr = remote_addr

    def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes | None = None,
    ) -> WebhookResponse:
        """Run the app on one request and collect its whole answer."""
        target, encoded = encode_request(method, url, params)
        body = encoded if body is None else body
        errors = io.StringIO()
        environ = self._environ(method, target, body, headers, errors)
        captured: list[Any] = []
        chunks: list[bytes] = []

        def start_response(
            status: str,
            response_headers: list[tuple[str, str]],
            exc_info: tuple[type[BaseException], BaseException, TracebackType] | None = None,
        ) -> Callable[[bytes], object]:
            if exc_info is not None and any(chunks):  # PEP 3333: too late, headers are out
                raise exc_info[1].with_traceback(exc_info[2])
            captured[:] = [status, response_headers]
            return lambda _data: None  # the legacy write() callable; nothing uses it here

        logged = _LoggedExceptions()
        root = logging.getLogger()
        root.addHandler(logged)
        try:
            result = self._app(environ, start_response)
            try:
                for chunk in result:  # one by one: what came before a failure is kept
                    chunks.append(chunk)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception as exc:  # the app crashed
            # From the app's own frames on: the first one is this method's.
            below = exc.__traceback__.tb_next if exc.__traceback__ else None
            traceback.print_exception(type(exc), exc, below, file=errors)
            crashed = f"the app raised {type(exc).__name__}: {exc}"
            if any(chunks):
                # A server has sent the status and part of the body: it can only close the
                # connection, and Twilio gets no whole answer.
                what = f"{crashed}, after part of its answer: the connection closed mid-answer"
                failed = ConnectionFailed(f"{method} {url}: {what}", what, errors.getvalue())
                raise failed from exc
            # Nothing sent yet: a WSGI server answers 500, and Twilio sees that.
            shown = f"500 Internal Server Error: {crashed}"
            return WebhookResponse(
                500, shown.encode(), (("Content-Type", "text/plain"),), errors.getvalue()
            )
        finally:
            root.removeHandler(logged)
        status_line, response_headers = captured
        status = int(status_line.split(" ", 1)[0])
        written = errors.getvalue()
        if status < 500:
            if written:
                sys.stderr.write(written)  # the app's own logging, not a failure of this request
            written = ""
        elif logged.texts:
            written = "\n".join(logged.texts)  # what the app caught and logged as it failed
        return WebhookResponse(status, b"".join(chunks), tuple(response_headers), written)

    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        """GET ``url`` from the app and decode its JSON answer."""
        return json_body(self.request("GET", url, {}, headers or {}), url)

    def close(self) -> None:
        """Nothing to release in-process."""

    def _environ(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str], errors: io.StringIO
    ) -> dict[str, Any]:
        scheme, path_info, query, server_name, server_port, host = _url_environ(url)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "SERVER_NAME": server_name,
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": self._remote_addr,
            "HTTP_HOST": host,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": errors,
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


class _LoggedExceptions(logging.Handler):
    """Keeps the exceptions logged while the app answers one request (with their tracebacks).

    Flask logs an exception it turns into a 500 through ``logging``: to ``wsgi.errors`` only when
    nothing else handles its logger (under pytest, the log capture does), so the records are
    the one place that always has it.
    """

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep an error record that carries an exception."""
        if record.exc_info:
            self.texts.append(self.format(record))


# A call posts to the same few URLs again and again: split each once per process.
@lru_cache(maxsize=1024)
def _url_environ(url: str) -> tuple[str, str, str, str, str, str]:
    """The environ's URL entries: scheme, PATH_INFO, QUERY_STRING, SERVER_NAME/PORT, HTTP_HOST."""
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    port = parts.port or (443 if scheme == "https" else 80)
    # PEP 3333: PATH_INFO is the unquoted path as latin-1 "bytes in a str".
    path_info = unquote_to_bytes(parts.path or "/").decode("latin-1")
    return scheme, path_info, parts.query, parts.hostname or "localhost", str(port), parts.netloc
