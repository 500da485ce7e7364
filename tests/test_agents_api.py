"""The agents' JSON API: who may call what (the operator for anyone, an agent for themselves),
states set by clicks, the queue as a real call fills it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from hotline import create_app
from hotline.agents.roster import DEMO_TOKEN, token_digest
from hotline.messages.threads import open_thread
from hotline.rules.routing import Party
from hotline.store import agent_states
from hotline.store.database import get_store
from tests.conftest import API_TOKEN, CallActions
from tests.live_server import serve_hotline

ANNA, BEN = "anna-token", "ben-token"
OPEN = "2026-11-26T10:00:00+01:00"


@pytest.fixture
def agents_app(config: dict[str, Any]) -> Iterator[Flask]:
    config["agents"] = [
        {"id": "anna", "name": "Anna", "client": "anna", "token_sha256": token_digest(ANNA)},
        {
            "id": "ben",
            "name": "Ben",
            "phone": "+48601100901",
            "token_sha256": token_digest(BEN),
        },
    ]
    application = create_app(config)
    yield application
    get_store(application).engine.dispose()


@pytest.fixture
def api(agents_app: Flask) -> FlaskClient:
    return agents_app.test_client()


def _bearer(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


OPERATOR = API_TOKEN
ENDPOINTS = {
    "list": ("GET", "/api/agents"),
    "anna": ("GET", "/api/agents/anna"),
    "anna-state": ("POST", "/api/agents/anna/state"),
    "unknown": ("GET", "/api/agents/carl"),
    "queue": ("GET", "/api/queue"),
    "threads": ("GET", "/api/threads"),  # the Message Center: the warehouse sees every thread
}
# (credential, endpoint) -> status; each credential's row covers every endpoint.
MATRIX = {
    **{(None, e): 401 for e in ENDPOINTS},
    **{("wrong", e): 401 for e in ENDPOINTS},
    **{(OPERATOR, e): 200 for e in ENDPOINTS},
    (OPERATOR, "unknown"): 404,
    (ANNA, "list"): 200,
    (ANNA, "anna"): 200,
    (ANNA, "anna-state"): 200,
    (ANNA, "unknown"): 403,  # another id, known or not: not hers
    (ANNA, "queue"): 200,
    (ANNA, "threads"): 200,
    (BEN, "list"): 200,
    (BEN, "anna"): 403,
    (BEN, "anna-state"): 403,
    (BEN, "unknown"): 403,
    (BEN, "queue"): 200,
    (BEN, "threads"): 200,
}


@pytest.mark.parametrize(("token", "endpoint"), sorted(MATRIX, key=str))
def test_who_may_call_what(api: FlaskClient, token: str | None, endpoint: str) -> None:
    method, path = ENDPOINTS[endpoint]
    body = {"state": "available"} if method == "POST" else None
    response = api.open(path, method=method, json=body, headers=_bearer(token))
    assert response.status_code == MATRIX[(token, endpoint)]
    if response.status_code != 200:
        assert response.get_json()["error"]
    if response.status_code == 403:
        assert response.get_json()["error"].endswith(
            "may act only for themselves, not for " + ("carl" if endpoint == "unknown" else "anna")
        )


@pytest.mark.parametrize(
    ("token", "listed"),
    [(OPERATOR, ["anna", "ben"]), (ANNA, ["anna"]), (BEN, ["ben"])],
)
def test_an_agent_sees_only_themselves(api: FlaskClient, token: str, listed: list[str]) -> None:
    agents = api.get("/api/agents", headers=_bearer(token)).get_json()["agents"]
    assert [a["id"] for a in agents] == listed


def test_agents_are_shown_with_their_state_and_a_masked_phone(api: FlaskClient) -> None:
    agents = api.get("/api/agents", headers=_bearer(OPERATOR)).get_json()["agents"]
    assert agents == [
        {
            "id": "anna",
            "name": "Anna",
            "rings": "client:anna",
            "state": "offline",
            "since": None,
            "call": None,
        },
        {
            "id": "ben",
            "name": "Ben",
            "rings": "+48******901",
            "state": "offline",
            "since": None,
            "call": None,
        },
    ]


def test_an_agent_logs_in_and_off_and_every_change_is_an_event(
    api: FlaskClient, agents_app: Flask
) -> None:
    with freeze_time(OPEN):
        first = api.post(
            "/api/agents/anna/state", json={"state": "available"}, headers=_bearer(ANNA)
        )
        again = api.post(
            "/api/agents/anna/state", json={"state": "available"}, headers=_bearer(ANNA)
        )
    assert first.status_code == 200 and first.get_json()["changed"] is True
    assert first.get_json()["agent"]["state"] == "available"
    assert first.get_json()["agent"]["since"] == "2026-11-26T09:00:00+00:00"
    assert again.status_code == 200 and again.get_json()["changed"] is False
    shown = api.get("/api/agents/anna", headers=_bearer(ANNA)).get_json()
    assert shown["state"] == "available"
    # The operator logs her off.
    off = api.post("/api/agents/anna/state", json={"state": "offline"}, headers=_bearer(OPERATOR))
    assert off.get_json()["agent"]["state"] == "offline"
    with get_store(agents_app).engine.connect() as conn:
        events = list(reversed(agent_states.events(conn, "anna")))
    assert [(e.from_state, e.to_state, e.by, e.why) for e in events] == [
        ("offline", "available", "anna", "set by the agent"),
        ("available", "offline", "operator", "set by the operator"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"state": "on_call"}, 409, "an agent who is offline cannot become on_call"),
        ({"state": "ringing"}, 409, "an agent who is offline cannot become ringing"),
        ({"state": "asleep"}, 400, 'expected a JSON body like {"state": "available"}'),
        ({}, 400, "states: offline, available, ringing, on_call, wrap_up"),
        (["available"], 400, "expected a JSON body"),
        ("available", 400, "expected a JSON body"),
    ],
)
def test_a_state_an_agent_cannot_set_is_refused_with_a_reason(
    api: FlaskClient, body: Any, status: int, error: str
) -> None:
    response = api.post("/api/agents/anna/state", json=body, headers=_bearer(ANNA))
    assert response.status_code == status
    assert error in response.get_json()["error"]


def test_a_body_that_is_not_json_is_refused(api: FlaskClient) -> None:
    response = api.post(
        "/api/agents/anna/state",
        data="state=available",
        content_type="application/x-www-form-urlencoded",
        headers=_bearer(ANNA),
    )
    assert response.status_code == 400
    assert "expected a JSON body" in response.get_json()["error"]


def test_the_queue_shows_a_caller_the_ivr_put_there(api: FlaskClient) -> None:
    call = CallActions(api)
    with freeze_time(OPEN):
        queued = call.press(call.press(call.start(), "2"), "2")
        assert queued.first("Enqueue").text == "warehouse"
    with freeze_time("2026-11-26T10:01:30+01:00"):
        shown = api.get("/api/queue", headers=_bearer(ANNA)).get_json()
    assert shown["queue"] == "warehouse"
    [caller] = shown["callers"]
    assert caller["call"] == call.sid
    assert (caller["status"], caller["waiting_seconds"], caller["from_number"]) == (
        "waiting",
        90,
        "+48******200",
    )
    assert (caller["topic"], caller["sub_topic"], caller["transferred"]) == (
        "warehouse",
        "delivery_problem",
        False,
    )
    with freeze_time("2026-11-26T10:02:00+01:00"):
        call.post("/voice/queue/done?step=warehouse_queue", QueueResult="hangup", QueueTime="120")
    assert api.get("/api/queue", headers=_bearer(ANNA)).get_json()["callers"] == []


# A caller's keys (after the greeting), their number, whether an earlier thread of the order
# (1234567, +48601100200's only order) exists, and what GET /api/queue shows of them.
QUEUED_CALLERS = {
    "warehouse-matched-order": (
        ["2", "2"],
        "+48601100200",
        False,
        ("warehouse", "an order or delivery", "delivery_problem", "a delivery problem"),
        ("1234567", "acme", "Acme Electronics"),
    ),
    "warehouse-matched-order-earlier-thread": (
        ["2", "1"],
        "+48601100200",
        True,
        ("warehouse", "an order or delivery", "order_status", "the order status"),
        ("1234567", "acme", "Acme Electronics"),
    ),
    "warehouse-two-orders-none-matched": (
        ["2", "3"],
        "+48601500600",
        False,
        ("warehouse", "an order or delivery", "cancellation", "a cancellation or return"),
        (None, None, None),
    ),
    "warehouse-unknown-number": (
        ["2", "4"],
        "+48609999999",
        True,
        ("warehouse", "an order or delivery", "change", "a delivery change"),
        (None, None, None),
    ),
    "warehouse-menu-exhausted": (
        ["2", "9", "9", "9"],
        "+48609999999",
        False,
        ("warehouse", "an order or delivery", None, None),
        (None, None, None),
    ),
    "agent": (
        ["0"],
        "+48601100200",
        False,
        ("agent", "a question for an agent", None, None),
        (None, None, None),
    ),
}


@pytest.mark.parametrize(
    ("keys", "number", "earlier", "topics", "order"),
    QUEUED_CALLERS.values(),
    ids=QUEUED_CALLERS.keys(),
)
def test_the_queue_shows_topic_sub_topic_order_seller_and_earlier_threads(
    api: FlaskClient,
    agents_app: Flask,
    keys: list[str],
    number: str,
    earlier: bool,
    topics: tuple[str, str, str | None, str | None],
    order: tuple[str | None, str | None, str | None],
) -> None:
    if earlier:  # a thread of the order from two days before, by another call
        with get_store(agents_app).sessions() as session, session.begin():
            open_thread(
                session,
                call_sid="CAearlier",
                party=Party.WAREHOUSE,
                seller_id=None,
                order_id="1234567",
                topic="order_status",
                buyer_phone="+48601999999",
                question="where is it",
                now=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
            )
    call = CallActions(api, from_=number)
    with freeze_time(OPEN):
        answer = call.start()
        for key in keys:
            answer = call.press(answer, key)
        assert answer.first("Enqueue").text == "warehouse"
        [caller] = api.get("/api/queue", headers=_bearer(ANNA)).get_json()["callers"]
    shown = (caller["topic"], caller["topic_words"], caller["sub_topic"], caller["sub_topic_words"])
    assert shown == topics
    assert (caller["order"], caller["seller"], caller["seller_name"]) == order
    threads = caller["earlier_threads"]
    if earlier and order[0] is not None:
        [thread] = threads
        assert {k: thread[k] for k in ("reference", "topic", "status", "created_at")} == {
            "reference": "0001",
            "topic": "order_status",
            "status": "open",
            "created_at": "2026-11-24T09:00:00+00:00",
        }
        assert isinstance(thread["id"], int)
    else:  # no thread of theirs (the one of order 1234567 is not this caller's)
        assert threads == []


def test_agents_tokens_work_without_the_operators(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_API_TOKEN")
    config["agents"][0]["token_sha256"] = token_digest(ANNA)
    app = create_app(config)
    client = app.test_client()
    assert client.get("/api/queue", headers=_bearer(ANNA)).status_code == 200
    assert client.get("/api/queue", headers=_bearer("")).status_code == 401
    config["agents"] = []
    bare = create_app(config)
    refused = bare.test_client().get("/api/queue", headers=_bearer(ANNA))
    assert refused.status_code == 401
    assert "HOTLINE_API_TOKEN" in refused.get_json()["error"]
    get_store(app).engine.dispose()
    get_store(bare).engine.dispose()


def test_two_gunicorn_workers_see_the_same_state(tmp_path: Path) -> None:
    with serve_hotline(tmp_path, workers=2) as server:
        demo = {"Authorization": f"Bearer {DEMO_TOKEN}", "Content-Type": "application/json"}
        body = json.dumps({"state": "available"}).encode()
        request = Request(f"{server.url}/api/agents/demo/state", body, demo, method="POST")
        with urlopen(request, timeout=30) as answer:
            assert json.load(answer)["changed"] is True
        states = set()
        for _ in range(20):  # each on a connection of its own: either worker may answer
            with urlopen(Request(f"{server.url}/api/agents/demo", headers=demo), timeout=30) as a:
                states.add(json.load(a)["state"])
        assert states == {"available"}
