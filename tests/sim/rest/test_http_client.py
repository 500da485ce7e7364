"""The HTTP clients twilio's Client is given: in process (WSGI call) and over a local port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from twilio.rest import Client

from hotline.sim.rest.api import create_rest_app
from hotline.sim.rest.server import RestServer
from hotline.twilio_rest.http import (
    InProcessHttpClient,
    LocalHttpClient,
    http_client_from_env,
    is_rest_api_host,
    register_in_process,
    unregister_in_process,
)
from tests.sim.rest.conftest import AUTH_TOKEN, refusal
from tests.sim.rest.switchboard_double import ACCOUNT_SID, SwitchboardDouble

SELLER, HOTLINE = "+48600300400", "+442071000000"


@pytest.fixture
def served(rest_app: Flask) -> Iterator[RestServer]:
    """The stand-in on a free loopback port."""
    with RestServer(rest_app) as server:
        yield server


@pytest.mark.parametrize(
    ("host", "api"),
    [
        ("api.twilio.com", True),
        ("API.Twilio.com", True),
        ("api.sydney.au1.twilio.com", True),  # a Twilio Region and Edge
        ("conversations.twilio.com", False),
        ("taskrouter.twilio.com", False),
        ("api.twilio.com.example.org", False),
    ],
)
def test_which_hosts_are_the_rest_api(host: str, api: bool) -> None:
    assert is_rest_api_host(host) is api


def test_other_twilio_hosts_are_answered_404_without_reaching_the_stand_in(
    client: Client, board: SwitchboardDouble
) -> None:
    error = refusal(lambda: client.taskrouter.v1.workspaces("WS1").fetch())
    assert (error.status, error.code) == (404, 20404)
    assert "taskrouter.twilio.com/v1/Workspaces/WS1" in error.msg
    assert "serves only api.twilio.com" in error.msg


def test_a_regional_client_reaches_the_stand_in(rest_app: Flask, board: SwitchboardDouble) -> None:
    client = Client(
        ACCOUNT_SID,
        AUTH_TOKEN,
        region="au1",
        edge="sydney",
        http_client=InProcessHttpClient(rest_app),
    )
    client.messages.create(to=SELLER, from_=HOTLINE, body="hello")
    assert [name for name, _ in board.requests] == ["send_message"]


def test_over_a_local_port_the_same_client_works(
    served: RestServer, board: SwitchboardDouble
) -> None:
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=LocalHttpClient(served.url))
    call = client.calls.create(
        to=SELLER,
        from_=HOTLINE,
        url="https://a.example/v",
        status_callback_event=["ringing", "answered"],
    )
    assert board.requests[0][1].status_callback_event == ("ringing", "answered")
    assert [c.sid for c in client.calls.list()] == [call.sid]
    error = refusal(lambda: client.calls("CA" + "0" * 32).fetch())
    assert (error.status, error.code) == (404, 20404)
    wrong = Client(ACCOUNT_SID, "nope", http_client=LocalHttpClient(served.url + "/"))
    assert refusal(lambda: wrong.calls(call.sid).fetch()).code == 20003
    error = refusal(lambda: client.conversations.v1.conversations("CH1").fetch())
    assert (error.status, error.code) == (404, 20404)


def test_from_env(served: RestServer, rest_app: Flask) -> None:
    assert http_client_from_env({}) is None
    assert http_client_from_env({"TWILIO_API_URL": " "}) is None
    local = http_client_from_env({"TWILIO_API_URL": served.url})
    assert isinstance(local, LocalHttpClient) and local.base_url == served.url
    assert isinstance(
        http_client_from_env({"TWILIO_API_URL": "inprocess://sim"}), InProcessHttpClient
    )
    with pytest.raises(ValueError, match="TWILIO_API_URL='api.twilio.com'"):
        http_client_from_env({"TWILIO_API_URL": "api.twilio.com"})


def test_from_env_reads_the_process_environment(
    served: RestServer, board: SwitchboardDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_API_URL", served.url)
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http_client_from_env())
    client.queues.create(friendly_name="support")
    assert board.requests == [("create_queue", ("support", 1000))]


def test_an_in_process_client_finds_whichever_stand_in_is_registered_at_each_request(
    board: SwitchboardDouble, rest_app: Flask
) -> None:
    client = Client(
        ACCOUNT_SID,
        AUTH_TOKEN,
        http_client=http_client_from_env({"TWILIO_API_URL": "inprocess://t"}),
    )
    assert register_in_process("t", rest_app) == "inprocess://t"
    try:
        client.queues.create(friendly_name="first")
        second_board = SwitchboardDouble()
        register_in_process("t", create_rest_app(second_board, AUTH_TOKEN))
        client.queues.create(friendly_name="second")
        assert [name for _, (name, _) in board.requests] == ["first"]
        assert [name for _, (name, _) in second_board.requests] == ["second"]
    finally:
        unregister_in_process("t")
    error = refusal(lambda: client.queues.create(friendly_name="third"))
    assert error.status == 503 and "no REST stand-in is registered" in error.msg
