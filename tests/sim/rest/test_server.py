"""Serving the stand-in on a local port: any free port, a URL for $TWILIO_API_URL, a clean stop."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest
from flask import Flask

from hotline.sim.rest.server import RestServer


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_serves_on_a_free_port_until_stopped(rest_app: Flask) -> None:
    server = RestServer(rest_app).start()
    try:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        with pytest.raises(urllib.error.HTTPError) as caught:  # no credentials: Twilio's 401
            urllib.request.urlopen(f"{server.url}/2010-04-01/Accounts/AC1/Calls.json", timeout=10)
        assert caught.value.code == 401 and b'"code": 20003' in caught.value.read()
        with pytest.raises(RuntimeError, match="already serving"):
            server.start()
    finally:
        server.stop()
    with pytest.raises(RuntimeError, match="not serving"):  # the port is unknown once stopped
        server.url  # noqa: B018
    server.stop()  # twice is fine


def test_stopping_frees_the_port(rest_app: Flask) -> None:
    with RestServer(rest_app) as server:
        port = server.port
        assert listening(port)
    assert not listening(port)
    with RestServer(rest_app, port=port) as again:  # the same port can be bound at once
        assert again.port == port
