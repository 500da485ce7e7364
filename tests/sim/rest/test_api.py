"""The stand-in as an HTTP API: Basic auth, the account in the path, what it does not serve,
and errors in Twilio's JSON shape whatever goes wrong."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from twilio.rest import Client

from hotline.sim.rest.api import create_rest_app
from hotline.twilio_rest.http import InProcessHttpClient
from tests.sim.rest.conftest import AUTH_TOKEN, refusal
from tests.sim.rest.switchboard_double import ACCOUNT_SID, SwitchboardDouble

CALLS = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
API_KEY, API_SECRET = "SK" + "5" * 32, "api-key-secret"


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def http(rest_app: Flask) -> FlaskClient:
    return rest_app.test_client()


def twilio_error(body: bytes) -> dict[str, object]:
    error = json.loads(body)
    assert set(error) == {"code", "message", "more_info", "status"}
    assert error["more_info"] == f"https://www.twilio.com/docs/errors/{error['code']}"
    return error  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(ACCOUNT_SID, "wrong-token"),
        basic("AC" + "9" * 32, AUTH_TOKEN),
        {"Authorization": "Bearer " + AUTH_TOKEN},
        basic(ACCOUNT_SID, AUTH_TOKEN + " "),
    ],
)
def test_without_the_accounts_credentials_it_is_401_authenticate(
    http: FlaskClient, headers: dict[str, str]
) -> None:
    response = http.get(CALLS, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'
    assert twilio_error(response.data) == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


def test_another_account_in_the_path_is_401_as_twilio_documents(http: FlaskClient) -> None:
    other = CALLS.replace(ACCOUNT_SID, "AC" + "9" * 32)
    response = http.get(other, headers=basic(ACCOUNT_SID, AUTH_TOKEN))
    assert (response.status_code, twilio_error(response.data)["code"]) == (401, 20003)


def test_an_api_key_and_secret_authenticate_too(board: SwitchboardDouble) -> None:
    app = create_rest_app(board, AUTH_TOKEN, api_keys={API_KEY: API_SECRET})
    client = Client(API_KEY, API_SECRET, ACCOUNT_SID, http_client=InProcessHttpClient(app))
    assert client.calls.list() == []
    wrong = Client(API_KEY, "guess", ACCOUNT_SID, http_client=InProcessHttpClient(app))
    assert refusal(lambda: wrong.calls("CA1").fetch()).code == 20003


@pytest.mark.parametrize(
    "path",
    [
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.xml",  # JSON only
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings.json",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json",
        "/v1/Workspaces",
        "/",
    ],
)
def test_what_it_does_not_serve_is_404_naming_what_it_does(http: FlaskClient, path: str) -> None:
    response = http.get(path, headers=basic(ACCOUNT_SID, AUTH_TOKEN))
    assert response.status_code == 404
    error = twilio_error(response.data)
    assert error["code"] == 20404
    assert path in str(error["message"])
    assert "serves only api.twilio.com/2010-04-01/Accounts/{AccountSid}/ Calls" in str(
        error["message"]
    )


def test_a_method_a_path_does_not_take_is_405(http: FlaskClient) -> None:
    response = http.delete(
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/CA1.json", headers=basic(ACCOUNT_SID, AUTH_TOKEN)
    )
    assert response.status_code == 405
    error = twilio_error(response.data)
    assert error["code"] == 20004 and "DELETE" in str(error["message"])


def test_answers_are_json(http: FlaskClient) -> None:
    response = http.get(CALLS, headers=basic(ACCOUNT_SID, AUTH_TOKEN))
    assert (response.status_code, response.mimetype) == (200, "application/json")
    assert response.get_json()["calls"] == []


def test_a_failing_switchboard_is_a_500_in_twilios_shape_and_logged(
    board: SwitchboardDouble, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> list[object]:
        raise RuntimeError("the world fell over")

    board.calls = broken  # type: ignore[method-assign]
    http = create_rest_app(board, AUTH_TOKEN).test_client()
    with caplog.at_level(logging.ERROR):
        response = http.get(CALLS, headers=basic(ACCOUNT_SID, AUTH_TOKEN))
    assert response.status_code == 500
    error = twilio_error(response.data)
    assert error["code"] == 20500 and "the world fell over" in str(error["message"])
    assert "REST stand-in: GET" in caplog.text


def test_form_bodies_with_repeated_keys_are_read_as_lists(
    http: FlaskClient, board: SwitchboardDouble
) -> None:
    response = http.post(
        CALLS,
        headers=basic(ACCOUNT_SID, AUTH_TOKEN),
        data="To=%2B48600300400&From=%2B442071000000&Url=https%3A%2F%2Fa.example%2Fv"
        "&StatusCallbackEvent=ringing&StatusCallbackEvent=answered+completed",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201
    assert board.requests[0][1].status_callback_event == ("ringing", "answered", "completed")
