"""Access tokens for agents' Voice SDK clients: ``GET /api/agents/<id>/client-token`` and the
token itself (a JWT signed with the account's API key, a Voice grant allowing incoming calls)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from hotline import create_app
from hotline.agents.roster import token_digest
from hotline.errors import ConfigError
from hotline.store.database import get_store
from hotline.twilio_rest.client_tokens import client_token
from tests.conftest import API_TOKEN

ANNA, BEN = "anna-token", "ben-token"
ACCOUNT = "AC" + "1" * 32
KEY, SECRET = "SK" + "2" * 32, "an-api-key-secret-of-32-characters!!"
ENV = {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_KEY": KEY, "TWILIO_API_SECRET": SECRET}


@pytest.fixture
def api(config: dict[str, Any]) -> Iterator[FlaskClient]:
    config["agents"] = [
        {"id": "anna", "name": "Anna", "client": "anna_desk", "token_sha256": token_digest(ANNA)},
        {"id": "ben", "name": "Ben", "phone": "+48601100901", "token_sha256": token_digest(BEN)},
    ]
    app: Flask = create_app(config)
    yield app.test_client()
    get_store(app).engine.dispose()


def _claims(token: str) -> dict[str, Any]:
    """The token's claims, its signature checked with the API key's secret."""
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert (header["alg"], header["cty"]) == ("HS256", "twilio-fpa;v=1")
    claims: dict[str, Any] = jwt.decode(token, SECRET, algorithms=["HS256"])
    return claims


def test_the_token_lets_the_identity_receive_calls_and_names_the_account() -> None:
    claims = _claims(client_token("anna_desk", ttl=600, environ=ENV))
    assert claims["grants"] == {"identity": "anna_desk", "voice": {"incoming": {"allow": True}}}
    assert (claims["iss"], claims["sub"]) == (KEY, ACCOUNT)
    assert claims["exp"] - claims["nbf"] == 600


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({}, "$TWILIO_ACCOUNT_SID and $TWILIO_API_KEY and $TWILIO_API_SECRET"),
        ({**ENV, "TWILIO_API_SECRET": ""}, "$TWILIO_API_SECRET"),
    ],
)
def test_a_missing_key_is_named(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as refused:
        client_token("anna_desk", environ=environ)
    assert f"set {named} (make a key" in str(refused.value)


@pytest.mark.parametrize("ttl", [59, 24 * 3600 + 1])
def test_a_token_lasts_a_minute_to_a_day(ttl: int) -> None:
    with pytest.raises(ValueError, match="60 to 86400"):
        client_token("anna_desk", ttl=ttl, environ=ENV)


@pytest.mark.parametrize(
    ("token", "agent", "status"),
    [
        (ANNA, "anna", 200),  # her own
        (API_TOKEN, "anna", 200),  # the operator: any agent's
        (BEN, "anna", 403),  # another agent's
        (BEN, "ben", 409),  # rung on a phone: no client to register
        (API_TOKEN, "carl", 404),
        (None, "anna", 401),
    ],
)
def test_who_gets_a_client_token(
    api: FlaskClient, monkeypatch: pytest.MonkeyPatch, token: str | None, agent: str, status: int
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    answer = api.get(f"/api/agents/{agent}/client-token", headers=headers)
    assert answer.status_code == status, answer.get_json()
    body = answer.get_json()
    if status == 200:
        assert (body["identity"], body["expires_in"]) == ("anna_desk", 3600)
        assert _claims(body["token"])["grants"]["identity"] == "anna_desk"
    else:
        assert body["error"]


def test_without_an_api_key_the_answer_says_what_to_set(
    api: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWILIO_API_KEY", raising=False)
    monkeypatch.delenv("TWILIO_API_SECRET", raising=False)
    answer = api.get("/api/agents/anna/client-token", headers={"Authorization": f"Bearer {ANNA}"})
    assert answer.status_code == 503
    assert "$TWILIO_API_KEY" in answer.get_json()["error"]
