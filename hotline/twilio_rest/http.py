"""HTTP clients that hand twilio's ``Client`` requests to the REST stand-in instead of Twilio.

An app reaches the stand-in only by being given one of these as its ``Client``'s HTTP client,
never by patching: ``Client(sid, token, http_client=...)``.

- ``InProcessHttpClient`` calls the stand-in's WSGI app in this process (no socket): for
  ``hotline replay --app`` and the pytest plugin, where the app under test shares the process.
- ``LocalHttpClient`` sends the requests over HTTP to a stand-in served on a local port
  (``server.py``): for ``hotline replay --url``, where the app runs in a process of its own.
- ``http_client_from_env()`` picks one from ``$TWILIO_API_URL`` (``http://127.0.0.1:PORT`` or
  ``inprocess://NAME``), or returns ``None`` (Twilio itself) when it is unset, so an app wires
  both with one line: ``Client(sid, token, http_client=http_client_from_env())``.

Both rewrite only where a request goes: ``https://api.twilio.com/...`` (or a regional
``api.<edge>.<region>.twilio.com``) becomes the stand-in; the path, query, form body and Basic
credentials are passed as they are. A request for another Twilio host (conversations,
taskrouter...) is answered 404 at once, naming what the stand-in serves.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import json
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from werkzeug.test import EnvironBuilder, run_wsgi_app

#: The variable ``http_client_from_env`` reads.
API_URL_VARIABLE = "TWILIO_API_URL"
_IN_PROCESS_SCHEME = "inprocess"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_logger = logging.getLogger(__name__)

# Stand-ins served in this process, by name, for ``inprocess://NAME`` clients (looked up at each
# request, so an app that builds its Client once keeps reaching whichever stand-in is current).
_in_process: dict[str, WSGIApp] = {}


def register_in_process(name: str, app: WSGIApp) -> str:
    """Serve ``app`` to ``inprocess://NAME`` clients in this process; returns that URL."""
    _in_process[name] = app
    return f"{_IN_PROCESS_SCHEME}://{name}"


def unregister_in_process(name: str) -> None:
    """Stop serving the stand-in registered as ``name`` (its clients then get 503)."""
    _in_process.pop(name, None)


def is_rest_api_host(host: str) -> bool:
    """True for ``api.twilio.com`` and its regional forms (``api.sydney.au1.twilio.com``)."""
    host = host.lower()
    return host == "api.twilio.com" or (host.startswith("api.") and host.endswith(".twilio.com"))


def http_client_from_env(environ: Mapping[str, str] | None = None) -> HttpClient | None:
    """The HTTP client ``$TWILIO_API_URL`` asks for, or ``None`` (Twilio itself) when unset."""
    url = (os.environ if environ is None else environ).get(API_URL_VARIABLE, "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme == _IN_PROCESS_SCHEME and parts.hostname:
        return InProcessHttpClient(parts.hostname)
    if parts.scheme in ("http", "https") and parts.hostname:
        return LocalHttpClient(url)
    raise ValueError(
        f"{API_URL_VARIABLE}={url!r}: expected http://HOST:PORT (a stand-in on a port) "
        f"or {_IN_PROCESS_SCHEME}://NAME (one in this process)"
    )


def _encoded(values: Mapping[str, object] | None) -> str:
    # twilio's serializers leave lists for repeated keys (StatusCallbackEvent, MediaUrl): sent
    # as the key repeated, as requests sends them to Twilio
    return urlencode(values or {}, doseq=True)


def _elsewhere(url: str) -> Response | None:
    """The 404 for a URL on a Twilio host other than the REST API's, else ``None``."""
    parts = urlsplit(url)
    if is_rest_api_host(parts.hostname or ""):
        return None
    body = json.dumps(not_served(parts.netloc, parts.path))
    return Response(404, body, {"Content-Type": "application/json"})


class InProcessHttpClient(HttpClient):  # type: ignore[misc]  # twilio has no type hints
    """Hands each request to the stand-in's WSGI app in this process (a WSGI call, no socket)."""

    def __init__(self, app: WSGIApp | str, logger: logging.Logger = _logger) -> None:
        super().__init__(logger, is_async=False)
        self._app = app

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Call the stand-in with the request twilio's Client built; return its answer."""
        refused = _elsewhere(url)
        if refused is not None:
            return refused
        app = self._app if not isinstance(self._app, str) else _in_process.get(self._app)
        if app is None:
            message = f"no REST stand-in is registered in this process as {self._app!r}"
            return Response(503, json.dumps({"status": 503, "message": message}))
        parts = urlsplit(url)
        query = "&".join(text for text in (parts.query, _encoded(params)) if text)
        builder = EnvironBuilder(
            path=parts.path,
            base_url=urlunsplit((parts.scheme, parts.netloc, "", "", "")),
            method=method.upper(),
            query_string=query,
            headers=list((headers or {}).items()),
            data=_encoded(data) if data else None,
            content_type="application/x-www-form-urlencoded" if data else None,
            auth=auth,
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
        try:
            body = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        code = int(status.split(" ", 1)[0])
        return Response(code, body.decode("utf-8"), dict(response_headers.items()))


class LocalHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio has no type hints
    """Sends each request over HTTP to a stand-in served at ``base_url`` (http://127.0.0.1:PORT)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        parts = urlsplit(base_url)
        self.base_url = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Send the request to the stand-in instead of Twilio; return its answer."""
        refused = _elsewhere(url)
        if refused is not None:
            return refused
        parts = urlsplit(url)
        local = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        response: Response = super().request(
            method, local, params, data, headers, auth, timeout, allow_redirects
        )
        return response


#: What a stand-in for Twilio's REST API serves, named in every 404 it gives for something else.
SERVED = (
    "api.twilio.com/2010-04-01/Accounts/{AccountSid}/ Calls, Queues (Members), "
    "Conferences (Participants) and Messages, as .json"
)


def not_served(host: str, path: str) -> dict[str, object]:
    """Twilio's 404 body for a URL a stand-in does not serve (another host, path or format)."""
    message = (
        f"The requested resource {host}{path} was not found: this stand-in for Twilio's REST "
        f"API serves only {SERVED}"
    )
    return {
        "code": 20404,
        "message": message,
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }
