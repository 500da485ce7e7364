"""hotline's twilio Client: credentials from the environment, sent where $TWILIO_API_URL says."""

from __future__ import annotations

from datetime import datetime

import pytest

from hotline.errors import ConfigError
from hotline.sim.engine.simulator import DEFAULT_ACCOUNT_SID, Simulator
from hotline.sim.engine.transport import WSGITransport
from hotline.twilio_rest.client import rest_client
from hotline.twilio_rest.http import LocalHttpClient, register_in_process, unregister_in_process
from tests.sim_apps import AUTH_TOKEN, twiml_app
from tests.test_sim_engine import ScriptCaller, twiml

TOKEN = AUTH_TOKEN  # the test app checks signatures with it; the stand-in takes it too


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({}, "$TWILIO_ACCOUNT_SID and $TWILIO_AUTH_TOKEN"),
        ({"TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID}, "needs $TWILIO_AUTH_TOKEN:"),
        ({"TWILIO_AUTH_TOKEN": TOKEN}, "needs $TWILIO_ACCOUNT_SID:"),
    ],
)
def test_missing_credentials_are_named(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace("$", r"\$")):
        rest_client(environ)


def test_the_client_goes_where_twilio_api_url_says() -> None:
    environ = {
        "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_URL": "http://127.0.0.1:8765",
    }
    client = rest_client(environ)
    assert isinstance(client.http_client, LocalHttpClient)
    assert client.http_client.base_url == "http://127.0.0.1:8765"
    assert rest_client({k: v for k, v in environ.items() if k != "TWILIO_API_URL"}).http_client
    # unset: twilio's own client, which talks to Twilio


def test_the_client_reaches_the_simulators_stand_in_in_process() -> None:
    sim = Simulator(WSGITransport(twiml_app({"/voice": twiml(lambda r: r.pause(length=5))})), TOKEN)
    url = register_in_process("twilio-rest-test", sim.rest_app)
    try:
        session = sim.session(datetime(2026, 3, 30, 10, 0))
        sid = session.place_call(ScriptCaller(), "+48601100200", "+48221000000")
        environ = {
            "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_API_URL": url,
        }
        client = rest_client(environ)
        seen: list[str] = []
        session.at(2.0, lambda: seen.append(client.calls(sid).fetch().status))
        session.run()
    finally:
        unregister_in_process("twilio-rest-test")
    assert seen == ["in-progress"]
