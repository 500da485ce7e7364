"""The agents' calls through the Twilio contract: the take (REST Calls create), every
``/voice/agent/...`` webhook signed in and its TwiML parsed out, the REST requests each one
makes, and the transfers API (who may, what is recorded).

The whole paths (a real caller queued, the agent's phone, the seller's) replay in the simulator
(tests/calls/agents); here each webhook is taken alone, with a recorder standing in for Twilio's
REST API that answers every request with the resource Twilio would (the fields hotline reads).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from twilio.http import HttpClient
from twilio.rest import Client

from hotline import create_app
from hotline.agents.roster import token_digest
from hotline.store import agent_states, queue_entries, transfers
from hotline.store.database import get_store
from hotline.store.queue_entries import QueueEntry
from hotline.twilio_rest.client import EXTENSION as REST_EXTENSION
from hotline.twilio_rest.http import (
    InProcessHttpClient,
    LocalHttpClient,
    register_in_process,
    unregister_in_process,
)
from tests.conftest import API_TOKEN, AUTH_TOKEN, CallActions
from tests.live_server import free_port

ANNA, BEN = "anna-token", "ben-token"
OPEN = "2026-11-26T10:00:00+01:00"
ACCOUNT = "AC" + "0" * 32
QUEUE_SID = "QU" + "1" * 32
CONFERENCE_SID = "CF" + "2" * 32
AGENT_CALL = "CA" + "9" * 32  # the agent's call (every call the recorder creates has this SID)
BUYER = f"/Conferences/{CONFERENCE_SID}/Participants/buyer.json"


@dataclass
class TwilioRecorder:
    """Twilio's REST API as far as hotline uses it: records each request, answers a resource."""

    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    refuse: bool = False
    refusal: str = "no"
    refusal_status: str = "400 Bad Request"
    unreachable: bool = False  # the transport fails as requests does when Twilio is unreachable
    held: dict[str, bool] = field(default_factory=dict)  # participant path: on hold (as posted)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode(), keep_blank_values=True)
        form.update(parse_qs(environ.get("QUERY_STRING", "")))
        self.requests.append((method, path, form))
        if method == "POST" and "/Participants/" in path and "Hold" in form:
            self.held[path[path.index("/Conferences/") :]] = form["Hold"] == ["true"]
        if self.unreachable:
            raise requests.ConnectionError("Failed to establish a new connection: refused")
        status, body = (
            (self.refusal_status, {"code": 21220, "message": self.refusal})
            if self.refuse
            else (
                "200 OK",
                self._answer(path),
            )
        )
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    def _answer(self, path: str) -> dict[str, Any]:
        meta = {"page": 0, "page_size": 50, "next_page_uri": None, "uri": path}
        if path.endswith("/Queues.json"):
            return {**meta, "queues": [{"sid": QUEUE_SID, "friendly_name": "warehouse"}]}
        if path.endswith("/Conferences.json"):
            return {**meta, "conferences": [{"sid": CONFERENCE_SID, "status": "in-progress"}]}
        if "/Participants/" in path:  # fetched by label: the agent's call, the hold as posted
            label = path.rsplit("/", 1)[-1].removesuffix(".json")
            return {
                "call_sid": AGENT_CALL,
                "label": label,
                "hold": self.held.get(path[path.index("/Conferences/") :], False),
            }
        return {"sid": "CA" + "9" * 32, "status": "queued"}

    def posts(self, ending: str) -> list[dict[str, list[str]]]:
        """The forms of the POSTs to a path ending in ``ending``."""
        return [f for m, p, f in self.requests if m == "POST" and p.endswith(ending)]


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[TwilioRecorder]:
    recorder = TwilioRecorder()
    monkeypatch.setenv("TWILIO_API_URL", register_in_process("agent-calls-test", recorder))
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    yield recorder
    unregister_in_process("agent-calls-test")


@pytest.fixture
def agents_app(config: dict[str, Any], twilio: TwilioRecorder) -> Iterator[Flask]:
    config["agents"] = [
        {"id": "anna", "name": "Anna", "client": "anna", "token_sha256": token_digest(ANNA)},
        {"id": "ben", "name": "Ben", "phone": "+48601100901", "token_sha256": token_digest(BEN)},
    ]
    application = create_app(config)
    yield application
    get_store(application).engine.dispose()


@pytest.fixture
def api(agents_app: Flask) -> FlaskClient:
    return agents_app.test_client()


@pytest.fixture
def at_open() -> Iterator[None]:
    with freeze_time(OPEN):
        yield


def _post(api: FlaskClient, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
    return api.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


def _queued(
    api: FlaskClient, sid: str = "CA00000000000000000000000000000001", from_: str = "+48601100200"
) -> CallActions:
    """A caller through key 2, then 1, into the warehouse queue (by default with the caller's
    one order, 1234567 of acme, found by caller ID)."""
    caller = CallActions(api, sid=sid, from_=from_)
    assert caller.press(caller.press(caller.start(), "2"), "1").first("Enqueue") is not None
    return caller


def _entry(app: Flask, sid: str) -> QueueEntry:
    with get_store(app).engine.connect() as conn:
        found = queue_entries.entry(conn, sid)
    assert found is not None
    return found


def _state(app: Flask, agent: str) -> str:
    with get_store(app).engine.connect() as conn:
        stored = agent_states.read(conn, agent)
    return stored.state if stored else "offline"


def _taken(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, from_: str = "+48601100200"
) -> CallActions:
    """Anna logged in, a caller queued, Anna took them and answered."""
    caller = _queued(api, from_=from_)
    assert _post(api, "/api/agents/anna/state", ANNA, {"state": "available"}).status_code == 200
    assert _post(api, "/api/agents/anna/take", ANNA).status_code == 200
    answer_url = twilio.posts("/Calls.json")[-1]["Url"][0]
    agent = CallActions(api, sid="CA" + "9" * 32, from_="client:anna")
    assert agent.post(_path(answer_url)).first("Conference") is not None
    return caller


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_a_take_rings_the_agents_client_with_absolute_urls(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    caller = _queued(api)
    _post(api, "/api/agents/anna/state", ANNA, {"state": "available"})
    answer = _post(api, "/api/agents/anna/take", ANNA)
    assert answer.status_code == 200
    assert answer.get_json()["call"] == caller.sid
    (create,) = twilio.posts("/Calls.json")
    assert create["To"] == ["client:anna"]
    assert create["From"] == ["+442071000000"]  # the number the caller called
    assert create["Url"][0].startswith("http://localhost/voice/agent/answer?entry=")
    assert create["StatusCallback"][0].startswith("http://localhost/voice/agent/status?")
    entry = _entry(agents_app, caller.sid)
    assert entry.status == "ringing" and entry.taken_by == "anna"
    assert entry.conference is not None and entry.conference.startswith("hl-")
    assert len(entry.conference) == 19  # hl- and 16 hex digits: nothing of the caller in it
    assert _state(agents_app, "anna") == "ringing"


@pytest.mark.parametrize(
    ("token", "agent", "status"),
    [(ANNA, "ben", 403), (BEN, "ben", 409), (API_TOKEN, "anna", 409)],
    ids=["another agent", "not available", "operator, nobody waiting"],
)
def test_takes_refused(
    api: FlaskClient, twilio: TwilioRecorder, at_open: None, token: str, agent: str, status: int
) -> None:
    _post(api, "/api/agents/anna/state", ANNA, {"state": "available"})
    answer = _post(api, f"/api/agents/{agent}/take", token)
    assert answer.status_code == status
    assert answer.get_json()["error"]
    assert twilio.posts("/Calls.json") == []


@pytest.mark.parametrize("failure", ["refused", "unreachable"])
def test_twilio_refusing_the_agents_call_gives_the_caller_back(
    api: FlaskClient,
    agents_app: Flask,
    twilio: TwilioRecorder,
    at_open: None,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> None:
    caller = _queued(api)
    _post(api, "/api/agents/anna/state", ANNA, {"state": "available"})
    if failure == "refused":
        twilio.refuse = True
    else:
        _unreachable(monkeypatch, agents_app)
    answer = _post(api, "/api/agents/anna/take", ANNA)
    assert answer.status_code == 409
    assert "could not ring anna" in answer.get_json()["error"]
    assert _entry(agents_app, caller.sid).status == "waiting"
    assert _state(agents_app, "anna") == "available"


def test_twilios_refusal_naming_the_agents_number_is_logged_masked(
    api: FlaskClient,
    agents_app: Flask,
    twilio: TwilioRecorder,
    at_open: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Twilio's error messages name the number (21219: "The number +... is unverified"): the
    log keeps its country code and last digits only."""
    _queued(api)
    _post(api, "/api/agents/ben/state", BEN, {"state": "available"})
    twilio.refuse = True
    twilio.refusal = "The number +48601100901 is unverified."
    caplog.set_level("INFO")
    assert _post(api, "/api/agents/ben/take", BEN).status_code == 409
    assert "+48******901 is unverified" in caplog.text
    assert "601100901" not in caplog.text


def test_the_agent_answers_hears_the_caller_and_meets_them_in_the_conference(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    caller = _queued(api)
    _post(api, "/api/agents/anna/state", ANNA, {"state": "available"})
    _post(api, "/api/agents/anna/take", ANNA)
    answer_path = _path(twilio.posts("/Calls.json")[0]["Url"][0])
    agent = CallActions(api, sid="CA" + "9" * 32, from_="client:anna")
    twiml = agent.post(answer_path)
    assert twiml.status == 200
    assert "A caller about the order status." in twiml.said
    conference = twiml.first("Conference")
    entry = _entry(agents_app, caller.sid)
    assert conference.text == entry.conference
    assert conference.attrib["participantLabel"] == "agent"
    assert conference.attrib["endConferenceOnExit"] == "true"
    assert twiml.first("Dial").attrib["action"].startswith("http://localhost/voice/agent/left?")
    (moved,) = twilio.posts(f"/Queues/{QUEUE_SID}/Members/{caller.sid}.json")
    assert moved["Url"] == [f"http://localhost/voice/agent/join?entry={entry.id}"]
    assert (entry.status, _state(agents_app, "anna")) == ("taken", "on_call")

    again = agent.post(answer_path)  # Twilio retries the webhook: same answer, nobody moved twice
    assert again.first("Conference").text == entry.conference
    assert len(twilio.posts("/Members/" + caller.sid + ".json")) == 1

    joined = caller.post(f"/voice/agent/join?entry={entry.id}")
    assert joined.first("Conference").text == entry.conference
    assert joined.first("Conference").attrib["participantLabel"] == "buyer"


def test_a_caller_gone_before_the_agent_answers_is_said_and_frees_the_agent(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    caller = _queued(api)
    _post(api, "/api/agents/anna/state", ANNA, {"state": "available"})
    _post(api, "/api/agents/anna/take", ANNA)
    caller.post("/voice/queue/done?step=warehouse_queue", QueueResult="hangup")
    agent = CallActions(api, sid="CA" + "9" * 32, from_="client:anna")
    twiml = agent.post(_path(twilio.posts("/Calls.json")[0]["Url"][0]))
    assert "the caller hung up before you answered" in twiml.said
    assert twiml.verbs[-1] == "Hangup"
    assert _state(agents_app, "anna") == "available"


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled"])
def test_an_agent_not_answering_gives_the_caller_back(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None, status: str
) -> None:
    caller = _queued(api)
    _post(api, "/api/agents/anna/state", ANNA, {"state": "available"})
    _post(api, "/api/agents/anna/take", ANNA)
    agent = CallActions(api, sid="CA" + "9" * 32, from_="client:anna")
    callback = _path(twilio.posts("/Calls.json")[0]["StatusCallback"][0])
    assert agent.post(callback, CallStatus=status).status == 200
    assert _entry(agents_app, caller.sid).status == "waiting"
    assert _state(agents_app, "anna") == "available"


def test_webhooks_need_twilios_signature_and_never_answer_5xx(
    api: FlaskClient, twilio: TwilioRecorder, at_open: None
) -> None:
    assert api.post("/voice/agent/answer?entry=1&claim=1&agent=anna").status_code == 403
    agent = CallActions(api, sid="CA" + "9" * 32, from_="client:anna")
    for path in ("/voice/agent/answer?entry=x", "/voice/agent/screen?transfer=77"):
        twiml = agent.post(path)
        assert twiml.status == 200
        assert twiml.verbs[-1] == "Hangup"


def test_a_transfer_back_to_the_queue_keeps_the_place_and_is_recorded(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    caller = _taken(api, agents_app, twilio)
    first = _entry(agents_app, caller.sid).first_entered_at
    body = {"kind": "queue", "summary": "needs a  return label"}
    assert _post(api, f"/api/calls/{caller.sid}/transfer", BEN, body).status_code == 403
    answer = _post(api, f"/api/calls/{caller.sid}/transfer", ANNA, body)
    assert answer.status_code == 200
    assert answer.get_json()["transfer"]["outcome"] == "requeued"
    (moved,) = twilio.posts(f"/Calls/{caller.sid}.json")
    assert moved["Url"][0].startswith("http://localhost/voice/agent/requeue?transfer=")
    entry = _entry(agents_app, caller.sid)
    assert (entry.status, entry.first_entered_at, entry.transferred) == ("waiting", first, True)
    assert entry.last_summary == "needs a return label"
    assert _state(agents_app, "anna") == "wrap_up"
    back = caller.post(_path(moved["Url"][0]))
    assert back.first("Enqueue").text == "warehouse"
    record = api.get(f"/api/calls/{caller.sid}", headers={"Authorization": f"Bearer {API_TOKEN}"})
    (shown,) = record.get_json()["transfers"]
    assert (shown["kind"], shown["agent"], shown["summary"]) == (
        "queue",
        "anna",
        entry.last_summary,
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"kind": "sideways", "summary": "x"}, 400),
        ({"kind": "cold", "to": "nobody", "summary": "x"}, 400),
        ({"kind": "warm", "summary": "x"}, 400),  # the caller has no seller: name one
    ],
)
def test_transfers_refused(
    api: FlaskClient,
    agents_app: Flask,
    twilio: TwilioRecorder,
    at_open: None,
    body: dict[str, str],
    status: int,
) -> None:
    caller = _taken(api, agents_app, twilio, from_="+48609999999")  # a number with no order
    answer = _post(api, f"/api/calls/{caller.sid}/transfer", ANNA, body)
    assert answer.status_code == status
    assert answer.get_json()["error"]


def test_a_cold_transfer_dials_the_seller_with_the_summary_in_the_whisper(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    caller = _taken(api, agents_app, twilio)
    body = {"kind": "cold", "to": "acme", "summary": "charger fits?"}
    assert _post(api, f"/api/calls/{caller.sid}/transfer", API_TOKEN, body).status_code == 200
    cold = caller.post(_path(twilio.posts(f"/Calls/{caller.sid}.json")[0]["Url"][0]))
    assert "connecting you to Acme Electronics" in cold.said
    number = cold.first("Number")
    assert number.text == "+48600300400"
    whisper = caller.post(_path(number.attrib["url"]))
    assert "The agent says: charger fits?" in whisper.said
    caller.post(cold.first("Dial").attrib["action"], DialCallStatus="busy")
    with get_store(agents_app).engine.connect() as conn:
        (made,) = transfers.of_call(conn, caller.sid)
    assert (made.kind, made.target, made.outcome) == ("cold", "acme", "busy")


@pytest.mark.parametrize(("digits", "outcome"), [("1", "accepted"), ("2", "declined")])
def test_a_warm_transfer_holds_the_caller_and_screens_the_seller(
    api: FlaskClient,
    agents_app: Flask,
    twilio: TwilioRecorder,
    at_open: None,
    digits: str,
    outcome: str,
) -> None:
    caller = _taken(api, agents_app, twilio)
    body = {"kind": "warm", "to": "acme", "summary": "warranty question"}
    made = _post(api, f"/api/calls/{caller.sid}/transfer", ANNA, body).get_json()["transfer"]
    buyer = f"/Conferences/{CONFERENCE_SID}/Participants/buyer.json"
    (held,) = twilio.posts(buyer)
    assert held["Hold"] == ["true"] and held["HoldMethod"] == ["POST"]
    seller_call = twilio.posts("/Calls.json")[-1]
    assert seller_call["To"] == ["+48600300400"]
    seller = CallActions(api, sid="CA" + "8" * 32, from_="+442071000000", to="+48600300400")
    screen = seller.post(_path(seller_call["Url"][0]))
    assert "The agent says: warranty question. Press 1" in screen.said
    assert screen.first("Gather").attrib["numDigits"] == "1"
    answer = seller.post(_path(screen.gather_action), Digits=digits)
    if digits == "1":  # the agent and the seller talk first: the caller stays held
        assert twilio.posts(buyer)[-1]["Hold"] == ["true"]
        joined = answer.first("Conference")
        assert joined.attrib["participantLabel"] == "seller"
        assert joined.attrib["endConferenceOnExit"] == "false"
        agent = f"/Conferences/{CONFERENCE_SID}/Participants/agent.json"
        assert twilio.posts(agent)[-1]["EndConferenceOnExit"] == ["false"]
    else:
        assert twilio.posts(buyer)[-1]["Hold"] == ["false"]  # back with the agent, told so
        assert "to=agent" in twilio.posts(buyer)[-1]["AnnounceUrl"][0]
        assert answer.verbs[-1] == "Hangup"
    # The seller's call ending afterwards changes nothing: the outcome is written once.
    seller.post(_path(seller_call["StatusCallback"][0]), CallStatus="completed")
    with get_store(agents_app).engine.connect() as conn:
        stored = transfers.get(conn, made["id"])
    assert stored is not None and stored.outcome == outcome


def test_a_thread_transfer_says_the_reference_then_goodbye(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    caller = _taken(api, agents_app, twilio)
    body = {"kind": "thread", "to": "warehouse", "summary": "address change"}
    assert _post(api, f"/api/calls/{caller.sid}/transfer", ANNA, body).status_code == 200
    said = caller.post(_path(twilio.posts(f"/Calls/{caller.sid}.json")[0]["Url"][0]))
    assert "Our customer service will reply there." in said.said
    assert said.verbs[-1] == "Hangup"
    threads = api.get("/api/threads", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert "address change" in json.dumps(threads.get_json())


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"kind": "cold", "to": "acme"}, {"kind": "cold", "to": "acme"}),
        ({"kind": "thread", "to": "warehouse"}, {"kind": "cold", "to": "acme"}),
        ({"kind": "cold", "to": "acme"}, {"kind": "thread", "to": "warehouse"}),
        ({"kind": "warm", "to": "acme"}, {"kind": "warm", "to": "acme"}),
        ({"kind": "warm", "to": "acme"}, {"kind": "cold", "to": "acme"}),
    ],
)
def test_a_caller_handed_on_is_not_handed_on_again(
    api: FlaskClient,
    agents_app: Flask,
    twilio: TwilioRecorder,
    at_open: None,
    first: dict[str, str],
    second: dict[str, str],
) -> None:
    """A second click (or a second tab) while the first transfer is under way is refused: the
    caller is moved once and one transfer is on the record."""
    caller = _taken(api, agents_app, twilio)
    path = f"/api/calls/{caller.sid}/transfer"
    assert _post(api, path, ANNA, {**first, "summary": "one"}).status_code == 200
    requests = len(twilio.requests)
    again = _post(api, path, ANNA, {**second, "summary": "two"})
    assert again.status_code == 409
    assert "already" in again.get_json()["error"]
    assert len(twilio.requests) == requests  # nobody moved, held or rung again
    with get_store(agents_app).engine.connect() as conn:
        assert [t.summary for t in transfers.of_call(conn, caller.sid)] == ["one"]


def test_after_a_failed_transfer_the_agent_may_choose_again(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    caller = _taken(api, agents_app, twilio)
    path = f"/api/calls/{caller.sid}/transfer"
    twilio.refuse = True
    assert _post(api, path, ANNA, {"kind": "cold", "to": "acme"}).status_code == 502
    twilio.refuse = False
    assert _post(api, path, ANNA, {"kind": "thread", "to": "warehouse"}).status_code == 200
    with get_store(agents_app).engine.connect() as conn:
        outcomes = [t.outcome for t in transfers.of_call(conn, caller.sid)]
    assert outcomes == ["failed", "thread_opened"]


def test_twilio_refusing_a_move_back_to_the_queue_leaves_the_caller_with_the_agent(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    """The caller is still in the agent's conference: the store says so, and the agent may
    try again (before, the entry said waiting, nobody could transfer them, another agent could
    take a caller who was not in Twilio's queue)."""
    caller = _taken(api, agents_app, twilio)
    before = _entry(agents_app, caller.sid)
    twilio.refuse = True
    body = {"kind": "queue", "summary": "back you go"}
    refused = _post(api, f"/api/calls/{caller.sid}/transfer", ANNA, body)
    assert refused.status_code == 502 and "Twilio refused" in refused.get_json()["error"]
    assert _entry(agents_app, caller.sid) == before
    twilio.refuse = False
    assert _post(api, f"/api/calls/{caller.sid}/transfer", ANNA, body).status_code == 200
    assert _entry(agents_app, caller.sid).status == "waiting"
    with get_store(agents_app).engine.connect() as conn:  # the refused one is not "requeued"
        assert [t.outcome for t in transfers.of_call(conn, caller.sid)] == ["failed", "requeued"]


def test_a_retried_press_of_1_joins_the_seller_again(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    """Twilio retries the seller's key (a timeout, a worker restarted): the retry gets the same
    conference, not "the buyer is gone", and the transfer stays accepted."""
    caller = _taken(api, agents_app, twilio)
    body = {"kind": "warm", "to": "acme", "summary": "warranty question"}
    made = _post(api, f"/api/calls/{caller.sid}/transfer", ANNA, body).get_json()["transfer"]
    seller_call = twilio.posts("/Calls.json")[-1]
    seller = CallActions(api, sid="CA" + "8" * 32, from_="+442071000000", to="+48600300400")
    screen = seller.post(_path(seller_call["Url"][0]))
    first = seller.post(_path(screen.gather_action), Digits="1")
    again = seller.post(_path(screen.gather_action), Digits="1")
    assert again.verbs == first.verbs
    assert again.first("Conference").text == first.first("Conference").text
    assert again.first("Conference").attrib == first.first("Conference").attrib
    assert again.said == first.said
    with get_store(agents_app).engine.connect() as conn:
        stored = transfers.get(conn, made["id"])
    assert stored is not None and stored.outcome == "accepted"


def test_a_thread_transfer_retried_after_twilio_refused_uses_the_thread_once(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    """Twilio refuses to move the caller; the agent tries again: one thread for the caller,
    the one they hear, with the agent's summary once."""
    caller = _taken(api, agents_app, twilio)
    path = f"/api/calls/{caller.sid}/transfer"
    body = {"kind": "thread", "to": "warehouse", "summary": "address change"}
    headers = {"Authorization": f"Bearer {API_TOKEN}"}

    def threads() -> list[dict[str, Any]]:
        found = api.get("/api/threads", headers=headers).get_json()["threads"]
        return [t for t in found if t["call_sid"] == caller.sid]

    twilio.refuse = True
    assert _post(api, path, ANNA, body).status_code == 502
    assert threads() == []  # nobody notified of a thread the caller never heard of
    twilio.refuse = False
    assert _post(api, path, ANNA, body).status_code == 200
    said = caller.post(_path(twilio.posts(f"/Calls/{caller.sid}.json")[-1]["Url"][0]))
    (thread,) = threads()
    assert " ".join(thread["reference"]) in said.said
    notes = [m["body"] for m in thread["messages"] if m["kind"] == "note"]
    assert notes == ["address change"]
    with get_store(agents_app).engine.connect() as conn:
        outcomes = [t.outcome for t in transfers.of_call(conn, caller.sid)]
    assert outcomes == ["failed", "thread_opened"]


@pytest.mark.parametrize("failure", ["503", "500", "unreachable"])
def test_twilio_failing_a_warm_hold_is_said_and_leaves_the_caller_with_the_agent(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None, failure: str
) -> None:
    """Twilio's error (5xx, unreachable) while holding the caller is not their hanging up: the
    agent hears Twilio refused, the record says failed, the agent still talks with the caller
    and may try again."""
    caller = _taken(api, agents_app, twilio)
    before = _entry(agents_app, caller.sid)
    path = f"/api/calls/{caller.sid}/transfer"
    body = {"kind": "warm", "to": "acme", "summary": "warranty question"}
    if failure == "unreachable":
        twilio.unreachable = True
    else:
        twilio.refuse, twilio.refusal_status = True, f"{failure} Server Error"
    refused = _post(api, path, ANNA, body)
    assert refused.status_code == 502
    assert "Twilio refused to hold the caller" in refused.get_json()["error"]
    assert "no longer in the call" not in refused.get_json()["error"]
    assert _entry(agents_app, caller.sid) == before
    assert _state(agents_app, "anna") == "on_call"
    twilio.refuse = twilio.unreachable = False
    assert _post(api, path, ANNA, body).status_code == 200
    with get_store(agents_app).engine.connect() as conn:
        outcomes = [t.outcome for t in transfers.of_call(conn, caller.sid)]
    assert outcomes == ["failed", "pending"]


class _SellersLineUnreachable(HttpClient):  # type: ignore[misc]  # twilio has no type hints
    """The recorder for every request but new calls (the seller's), sent to a closed port."""

    def __init__(self, recorder: TwilioRecorder, closed: str) -> None:
        super().__init__(logging.getLogger(__name__), is_async=False)
        self._recorder = InProcessHttpClient(recorder)
        self._closed = LocalHttpClient(closed)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        to = self._closed if method == "POST" and url.endswith("/Calls.json") else self._recorder
        return to.request(method, url, *args, **kwargs)


def _unreachable(monkeypatch: pytest.MonkeyPatch, app: Flask) -> str:
    """Twilio's REST API at a loopback port nothing listens on, for the app's next Client."""
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("TWILIO_API_URL", closed)
    app.extensions[REST_EXTENSION].clear()  # built again at the next request, from the env
    return closed


def _after_refusal(app: Flask, caller: CallActions, before: QueueEntry) -> list[str]:
    """The caller is still with the agent; the transfers' outcomes."""
    assert _entry(app, caller.sid) == before
    assert _state(app, "anna") == "on_call"
    with get_store(app).engine.connect() as conn:
        return [t.outcome for t in transfers.of_call(conn, caller.sid)]


@pytest.mark.parametrize("kind", ["warm", "cold", "queue", "thread"])
def test_twilio_unreachable_during_a_transfer_is_a_502_and_the_caller_stays(
    api: FlaskClient,
    agents_app: Flask,
    twilio: TwilioRecorder,
    at_open: None,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """A network error (no HTTP answer at all) is Twilio refusing, said in a JSON 502: the
    transfer is failed and the agent still talks with the caller."""
    caller = _taken(api, agents_app, twilio)
    before = _entry(agents_app, caller.sid)
    _unreachable(monkeypatch, agents_app)
    body = {"kind": kind, "to": "acme", "summary": "warranty question"}
    refused = _post(api, f"/api/calls/{caller.sid}/transfer", ANNA, body)
    assert refused.status_code == 502, refused.get_data(as_text=True)
    assert "could not be reached (ConnectionError)" in refused.get_json()["error"]
    assert _after_refusal(agents_app, caller, before) == ["failed"]


def test_the_sellers_line_unreachable_in_a_warm_transfer_gives_the_caller_back(
    api: FlaskClient,
    agents_app: Flask,
    twilio: TwilioRecorder,
    at_open: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The caller held, then ringing the seller fails on the network: a JSON 502, the
    transfer failed, the caller unheld and with the agent, who may try again."""
    caller = _taken(api, agents_app, twilio)
    before = _entry(agents_app, caller.sid)
    closed = _unreachable(monkeypatch, agents_app)
    client = Client(ACCOUNT, AUTH_TOKEN, http_client=_SellersLineUnreachable(twilio, closed))
    agents_app.extensions[REST_EXTENSION]["client"] = client
    body = {"kind": "warm", "to": "acme", "summary": "warranty question"}
    path = f"/api/calls/{caller.sid}/transfer"
    refused = _post(api, path, ANNA, body)
    assert refused.status_code == 502, refused.get_data(as_text=True)
    assert refused.get_json()["error"].startswith("Twilio refused to ring the seller: ")
    buyer = f"/Conferences/{CONFERENCE_SID}/Participants/buyer.json"
    assert [form["Hold"] for form in twilio.posts(buyer)] == [["true"], ["false"]]
    assert _after_refusal(agents_app, caller, before) == ["failed"]
    agents_app.extensions[REST_EXTENSION].clear()
    monkeypatch.setenv("TWILIO_API_URL", register_in_process("agent-calls-test", twilio))
    assert _post(api, path, ANNA, body).status_code == 200
