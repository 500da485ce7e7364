"""Signature checks on every webhook, behind proxies too, and the switch that turns them off."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from hotline import create_app
from hotline.agents.roster import token_digest
from hotline.errors import ConfigError
from hotline.web.security import DEMO_SECRETS, SHARED_KEY_ENV, SIGNATURE_SETTINGS_HEADER
from tests.conftest import AUTH_TOKEN, CallActions

FORM = {"CallSid": "CA1", "From": "+48601100200", "To": "+442071000000"}
WEBHOOKS = [
    "/voice",
    "/voice/step/main_menu?attempt=1",
    "/voice/step/handoff/dialled",
    "/voice/whisper?call=CA1&step=handoff",
    "/voice/whisper/answer?call=CA1&step=handoff",
    "/voice/queue/wait?step=warehouse_queue",
    "/voice/queue/done?step=warehouse_queue",
    "/voice/status",
    "/voice/fallback",
]


def sign(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, form))


@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize(
    ("signature", "status"),
    [
        (None, 403),
        ("", 403),
        ("bm90IGEgc2lnbmF0dXJl", 403),
        ("wrong-token", 403),
        ("right", 200),
    ],
)
def test_every_webhook_checks_the_signature(
    client: FlaskClient, path: str, signature: str | None, status: int
) -> None:
    headers = {}
    if signature == "right":
        headers["X-Twilio-Signature"] = sign(f"http://localhost{path}", FORM)
    elif signature == "wrong-token":
        headers["X-Twilio-Signature"] = sign(f"http://localhost{path}", FORM, "another-token")
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    response = client.post(path, data=FORM, headers=headers)
    assert response.status_code == status


def test_a_changed_parameter_breaks_the_signature(client: FlaskClient) -> None:
    signature = sign("http://localhost/voice", FORM)
    response = client.post(
        "/voice", data={**FORM, "From": "+48999999999"}, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403


def test_a_changed_query_breaks_the_signature(client: FlaskClient) -> None:
    signature = sign("http://localhost/voice/step/main_menu?attempt=1", FORM)
    response = client.post(
        "/voice/step/main_menu?attempt=3", data=FORM, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403


def app_with(config: dict[str, Any], **hotline: Any) -> Flask:
    config["hotline"].update(hotline)
    if hotline.get("public_base_url"):
        # The shipped demo agent's and demo seller's tokens are refused on a public address.
        config["agents"] = []
        config["sellers"] = [
            {k: v for k, v in s.items() if k != "token_sha256"} for s in config["sellers"]
        ]
    return create_app(config)


def test_behind_a_proxy_with_a_public_base_url(config: dict[str, Any]) -> None:
    app = app_with(config, public_base_url="https://hotline.example.com/")
    client = app.test_client()
    public = sign("https://hotline.example.com/voice", FORM)
    internal = sign("http://localhost/voice", FORM)
    assert (
        client.post("/voice", data=FORM, headers={"X-Twilio-Signature": public}).status_code == 200
    )
    assert (
        client.post("/voice", data=FORM, headers={"X-Twilio-Signature": internal}).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("signed_for", "status"),
    [
        ("https://hotline.example.com/voice", 200),
        ("https://hotline.example.com:443/voice", 200),  # Twilio may sign with the default port
        ("https://hotline.example.com:8443/voice", 403),
        ("http://hotline.example.com/voice", 403),
    ],
)
def test_the_default_port_may_be_in_the_signed_url_or_not(
    config: dict[str, Any], signed_for: str, status: int
) -> None:
    client = app_with(config, public_base_url="https://hotline.example.com").test_client()
    signature = sign(signed_for, FORM)
    response = client.post("/voice", data=FORM, headers={"X-Twilio-Signature": signature})
    assert response.status_code == status


@pytest.mark.parametrize(
    ("trusted", "status"), [(1, 200), (0, 403)], ids=["proxy trusted", "proxy not trusted"]
)
def test_behind_a_proxy_with_forwarded_headers(
    config: dict[str, Any], trusted: int, status: int
) -> None:
    client = app_with(config, trusted_proxies=trusted).test_client()
    headers = {
        "X-Twilio-Signature": sign("https://tunnel.example.net/voice", FORM),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "tunnel.example.net",
        "X-Forwarded-For": "203.0.113.9",
    }
    assert client.post("/voice", data=FORM, headers=headers).status_code == status


def test_checks_off_accept_unsigned_requests_and_say_so(
    config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    config["security"]["check_signatures"] = False
    with caplog.at_level(logging.WARNING):
        app = create_app(config)
    assert any("SIGNATURE CHECKS ARE OFF" in r.getMessage() for r in caplog.records)
    assert app.test_client().post("/voice", data=FORM).status_code == 200


def test_a_signed_call_passes_end_to_end(call: CallActions) -> None:
    assert call.start().status == 200


def test_webhook_urls_keep_the_public_path_prefix(config: dict[str, Any]) -> None:
    client = app_with(config, public_base_url="https://example.com/hotline").test_client()
    url = "https://example.com/hotline/voice"
    answer = client.post("/voice", data=FORM, headers={"X-Twilio-Signature": sign(url, FORM)})
    assert b'action="https://example.com/hotline/voice/step/main_menu?attempt=1"' in answer.data


def test_webhook_urls_keep_a_forwarded_prefix(config: dict[str, Any]) -> None:
    client = app_with(config, trusted_proxies=1).test_client()
    headers = {
        "X-Twilio-Signature": sign("https://tunnel.example.net/hotline/voice", FORM),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "tunnel.example.net",
        "X-Forwarded-Prefix": "/hotline",
    }
    answer = client.post("/voice", data=FORM, headers=headers)
    assert answer.status_code == 200
    assert b'action="/hotline/voice/step/main_menu?attempt=1"' in answer.data


SHARED_KEY = "test-shared-key-secret"
RULE_SHA256 = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"


@pytest.mark.parametrize(
    ("signed_with", "secret", "algorithm", "status"),
    [
        (RULE_SHA256, SHARED_KEY, "HMAC_SHA256", 200),
        ("key=webhooks_sharedkey_1,algorithm=HMAC_SHA1", SHARED_KEY, "HMAC_SHA1", 200),
        ("key=webhooks_sharedkey_1", SHARED_KEY, "HMAC_SHA1", 200),  # no algorithm: SHA-1
        (RULE_SHA256, AUTH_TOKEN, "HMAC_SHA256", 403),  # a rule's requests: the key signs
        (RULE_SHA256, SHARED_KEY, "HMAC_SHA1", 403),  # with the algorithm the header names
        (None, SHARED_KEY, "HMAC_SHA1", 403),  # no header: the auth token signs
        (None, AUTH_TOKEN, "HMAC_SHA256", 403),
        ("key=webhooks_sharedkey_1,algorithm=HMAC_MD5", SHARED_KEY, "HMAC_SHA1", 403),
    ],
)
def test_webhooks_signed_with_a_twilio_shared_key(
    config: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    signed_with: str | None,
    secret: str,
    algorithm: str,
    status: int,
) -> None:
    monkeypatch.setenv(SHARED_KEY_ENV, SHARED_KEY)
    client = create_app(config).test_client()
    validator = RequestValidator(secret)
    headers = {
        "X-Twilio-Signature": validator.compute_signature("http://localhost/voice", FORM, algorithm)
    }
    if signed_with is not None:
        headers[SIGNATURE_SETTINGS_HEADER] = signed_with
    assert client.post("/voice", data=FORM, headers=headers).status_code == status


def test_a_shared_key_signature_without_its_secret_is_refused_and_says_why(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(SHARED_KEY_ENV, raising=False)
    client = create_app(config).test_client()
    signature = RequestValidator(SHARED_KEY).compute_signature(
        "http://localhost/voice", FORM, "HMAC_SHA256"
    )
    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/voice",
            data=FORM,
            headers={"X-Twilio-Signature": signature, SIGNATURE_SETTINGS_HEADER: RULE_SHA256},
        )
    assert response.status_code == 403
    assert any(SHARED_KEY_ENV in r.getMessage() for r in caplog.records)


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "hotline.web.security" and r.getMessage().startswith("rejected ")
    ]


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no X-Twilio-Signature header"),
        ({"X-Twilio-Signature": ""}, "no X-Twilio-Signature header"),
        (
            {"X-Twilio-Signature": sign("http://localhost/voice/status?x=1", FORM, "other")},
            "X-Twilio-Signature does not match: is $TWILIO_AUTH_TOKEN right",
        ),
        (  # signed for the tunnel's address, checked against the one the server saw
            {"X-Twilio-Signature": sign("https://tunnel.example.net/voice/status?x=1", FORM)},
            "X-Twilio-Signature does not match: is $TWILIO_AUTH_TOKEN right",
        ),
        (
            {"X-Twilio-Signature": "c2lnbmF0dXJl", SIGNATURE_SETTINGS_HEADER: RULE_SHA256},
            f"signed with a Twilio SharedKey, and ${SHARED_KEY_ENV} is not set",
        ),
    ],
    ids=["missing", "empty", "wrong token", "another URL", "SharedKey without secret"],
)
def test_a_refused_signature_is_logged_with_why_and_the_url_checked(
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    headers: dict[str, str],
    why: str,
) -> None:
    monkeypatch.delenv(SHARED_KEY_ENV, raising=False)
    with caplog.at_level(logging.WARNING, logger="hotline.web.security"):
        response = client.post("/voice/status?x=1", data=FORM, headers=headers)
    assert response.status_code == 403
    [line] = refusals(caplog)
    assert line.startswith(f"rejected POST /voice/status: {why}")
    assert line.endswith("the URL checked was http://localhost/voice/status?x=1")
    assert all(r.levelno == logging.WARNING for r in caplog.records)


def test_a_refused_signature_never_logs_a_secret(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(SHARED_KEY_ENV, SHARED_KEY)
    client = create_app(config).test_client()
    wrong = {"X-Twilio-Signature": sign("http://localhost/voice", FORM, "other")}
    with caplog.at_level(logging.DEBUG):
        for extra in ({}, {SIGNATURE_SETTINGS_HEADER: RULE_SHA256}):
            assert client.post("/voice", data=FORM, headers={**wrong, **extra}).status_code == 403
    lines = refusals(caplog)
    assert len(lines) == 2
    assert "$TWILIO_WEBHOOK_SHARED_KEY right" in lines[1]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert AUTH_TOKEN not in logged
    assert SHARED_KEY not in logged


def test_the_makefiles_demo_secrets_are_the_ones_refused() -> None:
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    for name, value in DEMO_SECRETS.items():
        assert f"export {name} ?= {value}\n" in makefile


@pytest.mark.parametrize(
    ("base_url", "demo", "refused"),
    [
        ("https://hotline.example.com", "TWILIO_AUTH_TOKEN", "$TWILIO_AUTH_TOKEN"),
        ("https://hotline.example.com", "HOTLINE_API_TOKEN", "$HOTLINE_API_TOKEN"),
        ("https://abc.ngrok.app", "HOTLINE_SECRET_KEY", "$HOTLINE_SECRET_KEY"),
        ("http://203.0.113.5:5000", "agent", "agent demo's token"),
        ("https://hotline.example.com", "seller", "seller acme's token"),
        # One's own machine (make run's demo): the demo secrets are fine.
        ("", "TWILIO_AUTH_TOKEN", None),
        ("http://127.0.0.1:5000", "HOTLINE_API_TOKEN", None),
        ("http://localhost:5000", "agent", None),
        ("http://localhost:5000", "seller", None),
        # A public address with the server's own secrets: fine.
        ("https://hotline.example.com", None, None),
    ],
)
def test_a_server_reachable_from_outside_refuses_the_demos_secrets(
    config: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    base_url: str,
    demo: str | None,
    refused: str | None,
) -> None:
    config["hotline"]["public_base_url"] = base_url
    own = {"id": "demo", "name": "Demo", "client": "demo", "token_sha256": token_digest("own")}
    config["agents"] = [own] if demo != "agent" else config["agents"]
    if demo != "seller":
        config["sellers"][0] = {**config["sellers"][0], "token_sha256": token_digest("acme's own")}
    if demo in DEMO_SECRETS:
        monkeypatch.setenv(demo, DEMO_SECRETS[demo])
    if refused is None:
        create_app(config)
        return
    with pytest.raises(ConfigError) as error:
        create_app(config)
    assert refused in str(error.value)
    assert "demo" in str(error.value)
