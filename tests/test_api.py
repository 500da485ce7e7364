"""The JSON API: bearer token required; threads and calls readable."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from tests.conftest import API_TOKEN, CallActions

ENDPOINTS = ["/api/threads", "/api/calls/CA00000000000000000000000000000001"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer wrong", f"Basic {API_TOKEN}", f"bearer {API_TOKEN}x"],
)
def test_api_refuses_without_the_token(client: FlaskClient, path: str, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert "error" in response.get_json()


def test_api_is_off_when_no_token_is_configured(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, config: dict[str, object]
) -> None:
    from hotline import create_app

    monkeypatch.delenv("HOTLINE_API_TOKEN")
    app = create_app(config)
    response = app.test_client().get("/api/threads", headers={"Authorization": "Bearer "})
    assert response.status_code == 401
    assert "HOTLINE_API_TOKEN" in response.get_json()["error"]


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_TOKEN}"}


def test_threads_list_and_filters(call: CallActions, client: FlaskClient) -> None:
    with freeze_time("2026-11-26T22:00:00+01:00"):
        menu = call.start()
        asked = call.press(call.press(menu, "1"), "1")
        fallback = call.say(asked, "Is it waterproof?")
        call.press(fallback, "2")
    body = client.get("/api/threads", headers=auth()).get_json()
    [thread] = body["threads"]
    assert thread["seller"] == "acme"
    assert thread["reference"] == "0001"
    assert thread["messages"][0]["body"] == "Is it waterproof?"
    assert client.get("/api/threads?seller=bookworm", headers=auth()).get_json() == {"threads": []}
    only_warehouse = client.get("/api/threads?party=warehouse", headers=auth()).get_json()
    assert only_warehouse == {"threads": []}


def test_unknown_call_is_404(client: FlaskClient) -> None:
    response = client.get("/api/calls/CAnope", headers=auth())
    assert response.status_code == 404


def test_a_non_ascii_token_is_refused_not_an_error(client: FlaskClient) -> None:
    response = client.get("/api/threads", headers={"Authorization": "Bearer café"})
    assert response.status_code == 401
