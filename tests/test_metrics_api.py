"""``GET /api/metrics/queue`` through HTTP: who may read it, the span asked for, and the
figures of calls the IVR queued, an agent took and Twilio ended."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from hotline import create_app
from hotline.agents.roster import token_digest
from hotline.store import queue_entries as q
from hotline.store.database import get_store
from hotline.web.webhook import utc_now
from tests.conftest import API_TOKEN, CallActions

ANNA = "anna-token"
URL = "/api/metrics/queue"


@pytest.fixture
def api(config: dict[str, Any]) -> Iterator[FlaskClient]:
    config["agents"] = [
        {"id": "anna", "name": "Anna", "client": "anna", "token_sha256": token_digest(ANNA)}
    ]
    application: Flask = create_app(config)
    yield application.test_client()
    get_store(application).engine.dispose()


def _get(api: FlaskClient, query: str = "", token: str | None = API_TOKEN) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return api.get(f"{URL}{query}", headers=headers)


@pytest.mark.parametrize(
    ("token", "status"), [(None, 401), ("wrong", 401), (API_TOKEN, 200), (ANNA, 200)]
)
def test_the_operator_and_any_agent_may_read_the_figures(
    api: FlaskClient, token: str | None, status: int
) -> None:
    response = _get(api, "?from=2026-11-26", token)
    assert response.status_code == status
    assert response.is_json
    assert ("error" in response.get_json()) is (status != 200)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("?from=26.11.2026", "from: '26.11.2026' is not a date"),
        ("?from=2026-11-26&to=2026-11-26", "must be after from"),
        ("?from=2026-11-26&to=soon", "to: 'soon' is not a date"),
        ("?from=2020-01-01&to=2026-01-01", "longer than 366 days"),
        # The ends of Python's years: a 400 naming the parameter, not an OverflowError's 500.
        ("?from=9999-12-31T23:00", "from: '9999-12-31T23:00' is out of range"),
        ("?from=0001-01-01", "from: '0001-01-01' is out of range"),
        ("?from=2026-11-26&to=9999-12-31", "to: '9999-12-31' is out of range"),
        ("?from=2026-03-29T02:30", "from: '2026-03-29T02:30' is not a time in Europe/Warsaw"),
    ],
)
def test_bad_dates_get_400_with_a_message(api: FlaskClient, query: str, says: str) -> None:
    response = _get(api, query)
    assert response.status_code == 400
    assert says in response.get_json()["error"]


def test_no_dates_mean_today_in_the_operator_s_timezone(api: FlaskClient) -> None:
    with freeze_time("2026-11-26T23:30:00+00:00"):  # already the 27th in Warsaw
        body = _get(api).get_json()
    assert (body["from"], body["to"]) == ("2026-11-27T00:00:00+01:00", "2026-11-28T00:00:00+01:00")
    assert body["timezone"] == "Europe/Warsaw" and body["queue"] == "warehouse"
    assert len(body["days"]) == 1 and len(body["hours"]) == 24


def test_the_day_clocks_go_back_has_25_hours(api: FlaskClient) -> None:
    body = _get(api, "?from=2026-10-25&to=2026-10-26").get_json()
    assert [d["hours"] for d in body["days"]] == [25]
    starts = [h["start"] for h in body["hours"]]
    assert starts[2:4] == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]
    assert body["total"]["offered"] == 0 and body["total"]["service_level"] is None


def _queued(api: FlaskClient, sid: str, at: str) -> CallActions:
    """A buyer who chose "order status" and waits for an agent."""
    call = CallActions(api, sid=sid)
    with freeze_time(at):
        call.press(call.press(call.start(), "2"), "1")
    return call


def _ended(call: CallActions, at: str) -> None:
    with freeze_time(at):
        call.post("/voice/status", CallStatus="completed")


def test_the_figures_of_real_calls(api: FlaskClient) -> None:
    store = get_store(api.application)
    talked = _queued(api, "CA1", "2026-11-26T10:00:00+01:00")
    hung_up = _queued(api, "CA2", "2026-11-26T10:10:00+01:00")
    _queued(api, "CA3", "2026-11-26T11:00:00+01:00")  # still waiting
    with freeze_time("2026-11-26T10:00:30+01:00"), store.engine.begin() as conn:
        claim = q.claim(conn, "CA1", "anna", utc_now())  # an agent took it 30 s in
        assert claim is not None and q.connect(conn, claim, utc_now())
    _ended(talked, "2026-11-26T10:04:30+01:00")  # after four minutes with the agent
    with freeze_time("2026-11-26T10:11:00+01:00"):
        hung_up.post("/voice/queue/done?step=queue", QueueResult="hangup")
    _ended(hung_up, "2026-11-26T10:11:00+01:00")

    body = _get(api, "?from=2026-11-26T10:00&to=2026-11-26T12:00", ANNA).get_json()
    total = body["total"]
    assert {k: total[k] for k in ("offered", "answered", "abandoned", "waiting")} == {
        "offered": 3,
        "answered": 1,
        "abandoned": 1,
        "waiting": 1,
    }
    assert total["service_level"] == 0.3333  # answered at exactly 30 s: within the level
    assert total["abandonment_rate"] == 0.3333
    assert total["average_speed_of_answer_seconds"] == 30.0
    assert (total["handled"], total["average_handle_time_seconds"]) == (1, 240.0)
    assert total["transfers"]["warm"] == {
        "made": 0,
        "with_outcome": 0,
        "succeeded": 0,
        "success_rate": None,
        "outcomes": {},
    }
    assert [(h["start"], h["offered"]) for h in body["hours"]] == [
        ("2026-11-26T10:00:00+01:00", 2),
        ("2026-11-26T11:00:00+01:00", 1),
    ]
    assert body["days"][0]["start"] == "2026-11-26T10:00:00+01:00"
