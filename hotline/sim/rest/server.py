"""Serving the REST stand-in on a local port, in a background thread, for an app in another
process (``hotline replay --url``): give that app ``TWILIO_API_URL=<server.url>``.

One request is served at a time, in the order they arrive: the switchboard is the simulation's
state, and the app's REST requests must act on it one after the other, as they would reach
Twilio.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from hotline.twilio_rest.http import WSGIApp


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without its access log (the replay reports what the app asked)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Log nothing per request."""


class RestServer:
    """The stand-in's WSGI app served on ``host``:``port`` (port 0: any free one) until stopped.

    Use it as a context manager, or call ``start()`` and ``stop()``.
    """

    def __init__(self, app: WSGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port it listens on (known once started)."""
        if self._server is None:
            raise RuntimeError("the REST stand-in is not serving: call start() first")
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        """Its base URL, e.g. ``http://127.0.0.1:49152``: the value for ``$TWILIO_API_URL``."""
        return f"http://{self._host}:{self.port}"

    def start(self) -> RestServer:
        """Bind the port and serve in a daemon thread; returns itself."""
        if self._server is not None:
            raise RuntimeError("the REST stand-in is already serving")
        self._server = make_server(
            self._host, self._port, self._app, threaded=False, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"rest-stand-in:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wait for the thread and free the port (safe to call twice)."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        if thread is not None:
            thread.join()
        server.server_close()

    def __enter__(self) -> RestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
