"""Requests with no view: the JSON API answers JSON errors, webhooks TwiML, the rest Flask's own."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import API_TOKEN

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.mark.parametrize(
    ("method", "path", "status", "says"),
    [
        ("GET", "/api/nope", 404, "no API endpoint /api/nope"),
        ("GET", "/api", 404, "no API endpoint /api"),
        ("POST", "/api/agents/ana/nothing", 404, "no API endpoint"),
        ("GET", "/api/agents/ana/take", 405, "GET is not allowed on /api/agents/ana/take"),
        ("DELETE", "/api/queue", 405, "(allowed: GET)"),
        ("PUT", "/api/metrics/queue", 405, "PUT is not allowed"),
    ],
)
def test_api_errors_are_json_with_a_message(
    client: FlaskClient, method: str, path: str, status: int, says: str
) -> None:
    response = client.open(path, method=method, headers=AUTH)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert says in response.get_json()["error"]
    if status == 405:
        assert response.headers["Allow"]


def test_the_api_without_a_credential_is_json_too(client: FlaskClient) -> None:
    response = client.get("/api/nope")
    assert response.status_code == 404
    assert response.get_json()["error"]


def test_unknown_webhooks_still_answer_twiml(client: FlaskClient) -> None:
    response = client.post("/voice/nope")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert "<Hangup" in response.get_data(as_text=True)


def test_other_paths_keep_flasks_answer(client: FlaskClient) -> None:
    response = client.get("/apis")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
