"""The agents' console: sign-in with the agent's id and token, the session cookie as the API's
credential, CSRF on every POST, the session secret; the page as the server renders it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from hotline import create_app
from hotline.agents.figures_panel import panel_texts
from hotline.agents.login import COOKIE_NAME, CSRF_HEADER, SECRET_KEY_ENV
from hotline.agents.roster import DEMO_TOKEN, token_digest
from hotline.errors import ConfigError
from hotline.store.database import get_store
from tests.conftest import CallActions

BEN = "ben-token"
OPEN = "2026-11-26T10:00:00+01:00"


@pytest.fixture
def two_agents(config: dict[str, Any]) -> Iterator[Flask]:
    config["agents"].append(
        {"id": "ben", "name": "Ben", "phone": "+48601100901", "token_sha256": token_digest(BEN)}
    )
    application = create_app(config)
    yield application
    get_store(application).engine.dispose()


@pytest.fixture
def web(two_agents: Flask) -> FlaskClient:
    return two_agents.test_client()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def sign_in(web: FlaskClient, agent: str = "demo", token: str = DEMO_TOKEN) -> str:
    """Sign in through the form; the console's CSRF token."""
    form = web.get("/agent/login").get_data(as_text=True)
    answer = web.post(
        "/agent/login", data={"agent": agent, "token": token, "csrf_token": _csrf(form)}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/agent/"
    return _csrf(web.get("/agent/").get_data(as_text=True))


@pytest.mark.parametrize("path", ["/agent", "/agent/"])
def test_no_session_no_console(web: FlaskClient, path: str) -> None:
    answer = web.get(path, follow_redirects=True)
    assert answer.request.path == "/agent/login"
    assert 'id="token"' in answer.get_data(as_text=True)


def test_the_agent_signs_in_and_the_console_names_them(web: FlaskClient) -> None:
    sign_in(web)
    page = web.get("/agent/").get_data(as_text=True)
    assert "Signed in as <strong>Demo Agent</strong>" in page and 'id="agent-id">demo<' in page
    assert 'data-state="offline"' in page and "Nobody is waiting." in page
    cookie = web.get_cookie("hotline_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert DEMO_TOKEN not in cookie.value


@pytest.mark.parametrize(
    ("agent", "token"),
    [("demo", "wrong"), ("ben", DEMO_TOKEN), ("nobody", DEMO_TOKEN), ("demo", "")],
    ids=["wrong token", "another agent's token", "unknown agent", "no token"],
)
def test_a_wrong_id_or_token_is_refused(web: FlaskClient, agent: str, token: str) -> None:
    form = web.get("/agent/login").get_data(as_text=True)
    answer = web.post(
        "/agent/login", data={"agent": agent, "token": token, "csrf_token": _csrf(form)}
    )
    assert answer.status_code == 401
    assert "Wrong agent id or token." in answer.get_data(as_text=True)
    assert web.get("/agent/").status_code == 302


def test_sign_in_without_the_forms_csrf_token_is_refused(web: FlaskClient) -> None:
    web.get("/agent/login")
    answer = web.post("/agent/login", data={"agent": "demo", "token": DEMO_TOKEN})
    assert answer.status_code == 403
    assert web.get("/agent/").status_code == 302


def test_the_session_is_the_apis_credential_and_every_post_needs_the_csrf_token(
    web: FlaskClient,
) -> None:
    csrf = sign_in(web)
    assert web.get("/api/queue").get_json()["callers"] == []
    assert web.get("/api/agents/demo").get_json()["state"] == "offline"
    refused = web.post("/api/agents/demo/state", json={"state": "available"})
    assert refused.status_code == 403 and "CSRF" in refused.get_json()["error"]
    wrong = web.post(
        "/api/agents/demo/state", json={"state": "available"}, headers={CSRF_HEADER: "x" + csrf}
    )
    assert wrong.status_code == 403
    assert web.get("/api/agents/demo").get_json()["state"] == "offline"
    done = web.post(
        "/api/agents/demo/state", json={"state": "available"}, headers={CSRF_HEADER: csrf}
    )
    assert done.status_code == 200 and done.get_json()["agent"]["state"] == "available"


def test_a_session_acts_for_its_own_agent_only(web: FlaskClient) -> None:
    csrf = sign_in(web, "ben", BEN)
    assert [a["id"] for a in web.get("/api/agents").get_json()["agents"]] == ["ben"]
    assert web.get("/api/agents/demo").status_code == 403
    other = web.post(
        "/api/agents/demo/state", json={"state": "available"}, headers={CSRF_HEADER: csrf}
    )
    assert other.status_code == 403


def test_a_bearer_header_is_judged_alone_even_with_a_session(web: FlaskClient) -> None:
    sign_in(web)
    answer = web.get("/api/queue", headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401


def test_the_operators_api_stays_bearer_only(web: FlaskClient) -> None:
    sign_in(web)
    assert web.get("/api/threads").status_code == 401


def test_sign_out_needs_the_csrf_token_and_ends_the_session(web: FlaskClient) -> None:
    csrf = sign_in(web)
    assert web.post("/agent/logout").status_code == 403
    assert web.get("/agent/").status_code == 200
    answer = web.post("/agent/logout", data={"csrf_token": csrf})
    assert answer.status_code == 302 and answer.headers["Location"] == "/agent/login"
    assert web.get("/agent/").status_code == 302
    assert web.get("/api/queue").status_code == 401


def test_a_copied_cookie_is_signed_out_with_the_session_it_was_copied_from(
    web: FlaskClient, two_agents: Flask
) -> None:
    """A signed cookie cannot be taken back: sign-out bumps the agent's session generation, so
    a copy kept from before (another tab, another machine, a stolen one) is over too."""
    csrf = sign_in(web)
    cookie = web.get_cookie(COOKIE_NAME)
    assert cookie is not None
    copy = two_agents.test_client()
    copy.set_cookie(COOKIE_NAME, cookie.value)
    assert copy.get("/agent/").status_code == 200
    assert copy.get("/api/queue").status_code == 200
    other = two_agents.test_client()
    sign_in(other, "ben", BEN)  # another agent's session is not theirs to end
    assert web.post("/agent/logout", data={"csrf_token": csrf}).status_code == 302
    assert copy.get("/agent/").status_code == 302
    assert copy.get("/api/queue").status_code == 401
    refused = copy.post(
        "/api/agents/demo/state", json={"state": "available"}, headers={CSRF_HEADER: csrf}
    )
    assert refused.status_code == 401
    assert other.get("/api/queue").status_code == 200
    sign_in(copy)  # signing in again makes a session of the new generation
    assert copy.get("/api/queue").status_code == 200


def test_the_state_buttons_work_without_javascript(web: FlaskClient) -> None:
    csrf = sign_in(web)
    assert web.post("/agent/state", data={"state": "available"}).status_code == 403
    answer = web.post("/agent/state", data={"state": "available", "csrf_token": csrf})
    assert answer.status_code == 302
    assert 'data-state="available"' in web.get("/agent/").get_data(as_text=True)
    assert (
        web.post("/agent/state", data={"state": "ringing", "csrf_token": csrf}).status_code == 400
    )


def test_the_console_shows_a_caller_the_ivr_queued(web: FlaskClient) -> None:
    call = CallActions(web)
    with freeze_time(OPEN):
        call.press(call.press(call.start(), "2"), "2")
    with freeze_time("2026-11-26T10:01:30+01:00"):
        sign_in(web)
        page = web.get("/agent/").get_data(as_text=True)
    assert f'data-call="{call.sid}"' in page
    assert "1 min 30 s" in page and "+48******200" in page and ": a delivery problem" in page
    assert "an order or delivery" in page and "Acme Electronics (acme)" in page
    assert "+48601100200" not in page


def test_a_token_changed_in_the_config_ends_its_sessions(
    config: dict[str, Any], two_agents: Flask
) -> None:
    web = two_agents.test_client()
    sign_in(web)
    config["agents"][0]["token_sha256"] = token_digest("a-new-token")
    renewed = create_app(config)
    try:
        later = renewed.test_client()
        cookie = web.get_cookie("hotline_session")
        assert cookie is not None
        later.set_cookie("hotline_session", cookie.value)
        assert later.get("/agent/").status_code == 302
        assert later.get("/api/queue").status_code == 401
    finally:
        get_store(renewed).engine.dispose()


def test_without_the_secret_the_console_says_how_to_turn_it_on(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV)
    app = create_app(config)
    try:
        web = app.test_client()
        for answer in (web.get("/agent/"), web.get("/agent/login")):
            assert answer.status_code == 503
            assert f"${SECRET_KEY_ENV}" in answer.get_data(as_text=True)
        with web.get("/agent/static/console.js") as script:  # the file is closed after
            assert script.status_code == 200
    finally:
        get_store(app).engine.dispose()


def test_a_short_secret_is_refused_at_start(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_KEY_ENV, "short")
    with pytest.raises(ConfigError, match=rf"\${SECRET_KEY_ENV} is 5 characters long"):
        create_app(config)


def figures_shown(page: str) -> dict[str, str]:
    """The panel's figures of the day as a page shows them, by name."""
    return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', page))


def test_the_console_shows_todays_queue_figures_and_long_waits_in_hours(
    web: FlaskClient,
) -> None:
    with freeze_time("2026-11-26T09:00:00+01:00"):
        sign_in(web)
        empty = web.get("/agent/").get_data(as_text=True)
    assert "Today in warehouse" in empty and "Answered within 30 s" in empty
    assert figures_shown(empty) == {
        "offered": "0",
        "answered": "0",
        "abandoned": "0",
        "abandonment_rate": "—",
        "service_level": "—",
        "average_speed_of_answer": "—",
        "average_handle_time": "—",
        "transfers": "0",
    }
    call = CallActions(web)
    with freeze_time(OPEN):
        call.press(call.press(call.start(), "2"), "2")
    with freeze_time("2026-11-26T11:39:02+01:00"):
        page = web.get("/agent/").get_data(as_text=True)
        api = web.get("/api/metrics/queue")  # the panel is its report, not a second one
    assert "1 h 39 min" in page and "99 min" not in page  # the caller's wait
    assert figures_shown(page)["offered"] == "1"
    assert api.status_code == 200 and figures_shown(page) == panel_texts(api.get_json()["total"])


@pytest.mark.parametrize(
    ("path", "opened"),
    [
        ("/voice", False),
        ("/voice/step/main_menu", False),
        ("/voice/agent/whisper", False),
        ("/voiceover", True),  # only the /voice tree is Twilio's
        ("/agent/", True),
        ("/api/queue", True),
        ("/messages/", True),
    ],
)
def test_twilios_webhooks_open_no_session(web: FlaskClient, path: str, opened: bool) -> None:
    """A page session is opened for the pages and the API, never for Twilio's webhooks."""
    from flask import session
    from flask.sessions import NullSession

    sign_in(web)  # a webhook carrying the cookie still gets no session
    app = web.application
    cookie = web.get_cookie(COOKIE_NAME)
    assert cookie is not None
    headers = {"Cookie": f"{COOKIE_NAME}={cookie.value}"}
    with app.test_request_context(path, method="POST", headers=headers):
        assert isinstance(session, NullSession) is not opened
        assert ("agent" in session) is opened
