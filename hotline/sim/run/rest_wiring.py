"""Point the app under test at the REST stand-in: in this process, or on a local port.

An app reaches Twilio's REST API through twilio's ``Client``; given the HTTP client
``http_client_from_env()`` makes, it follows ``$TWILIO_API_URL``. A replay (and ``hotline call``,
and the ``dial`` fixture) sets it, before building an in-process app, to a stand-in registered
in this process, which always acts on the simulator placing the current call; against a running
server (``--url``) the stand-in is served on a port (``--rest-port``) and the app is started
with ``TWILIO_API_URL`` pointing there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from hotline.sim.engine.simulator import DEFAULT_ACCOUNT_SID, Simulator
from hotline.sim.rest.server import RestServer
from hotline.twilio_rest.client import ACCOUNT_SID_ENV
from hotline.twilio_rest.http import API_URL_VARIABLE, register_in_process

#: The name the replay's stand-in is registered under: ``inprocess://hotline-sim``.
IN_PROCESS_NAME = "hotline-sim"

_current: list[Simulator] = []  # the simulator placing the current call (one per process)
_servers: dict[int, RestServer] = {}


def follow(sim: Simulator) -> None:
    """The stand-in acts on ``sim``'s calls from now on."""
    _current[:] = [sim]


def _dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if not _current:
        body = json.dumps({"code": 20404, "message": "no call is being placed", "status": 404})
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [body.encode()]
    return _current[0].rest_app(environ, start_response)


def in_process(account_sid: str | None = None) -> str:
    """Set ``$TWILIO_API_URL`` so apps built from now on in this process reach the stand-in.

    ``account_sid``: the calls' account when it was given (``--account-sid``), put in
    ``$TWILIO_ACCOUNT_SID``; else that variable keeps its value, or gets the simulator's own
    account: either way an app building its Client from the environment and the simulator agree.
    """
    url = register_in_process(IN_PROCESS_NAME, _dispatch)
    os.environ[API_URL_VARIABLE] = url
    if account_sid is not None:
        os.environ[ACCOUNT_SID_ENV] = account_sid
    else:
        os.environ.setdefault(ACCOUNT_SID_ENV, DEFAULT_ACCOUNT_SID)
    return url


def on_port(port: int) -> RestServer:
    """Serve the stand-in on 127.0.0.1:``port`` (once per process; 0: any free port)."""
    server = _servers.get(port)
    if server is None:
        server = _servers[port] = RestServer(_dispatch, port=port).start()
    return server
