# ruff: noqa: F811  (the fixtures of tests/test_agent_calls.py, imported, are parameters here)
"""A warm transfer's consult (hotline.agents.consult): after the seller's 1 the caller stays
held while the agent and the seller talk; the agent brings the caller in or hands over and
leaves (``POST /api/calls/<CallSid>/transfer/complete``); the agent or the seller hanging up
takes a held caller off hold. Webhooks through the Twilio contract (signed form in, TwiML
out), REST through the recorder of tests/test_agent_calls.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hotline.store import agent_states, transfers
from hotline.store.database import get_store
from tests.conftest import API_TOKEN, CallActions
from tests.test_agent_calls import (  # noqa: F401  (pytest's fixtures, used by name)
    AGENT_CALL,
    ANNA,
    BEN,
    BUYER,
    CONFERENCE_SID,
    TwilioRecorder,
    _path,
    _post,
    _taken,
    agents_app,
    api,
    at_open,
    twilio,
)

SELLER = f"/Conferences/{CONFERENCE_SID}/Participants/seller.json"
AGENT = f"/Conferences/{CONFERENCE_SID}/Participants/agent.json"


def _consulting(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder
) -> tuple[CallActions, CallActions, dict[str, Any], dict[str, list[str]]]:
    """Anna talks with a caller, transfers warm to Acme, who presses 1: the consult."""
    caller = _taken(api, agents_app, twilio)
    body = {"kind": "warm", "to": "acme", "summary": "warranty question"}
    made = _post(api, f"/api/calls/{caller.sid}/transfer", ANNA, body).get_json()["transfer"]
    seller_call = twilio.posts("/Calls.json")[-1]
    seller = CallActions(api, sid="CA" + "8" * 32, from_="+442071000000", to="+48600300400")
    screen = seller.post(_path(seller_call["Url"][0]))
    joined = seller.post(_path(screen.gather_action), Digits="1")
    assert joined.first("Conference") is not None
    assert twilio.held[BUYER] is True  # still on hold: the agent and the seller talk first
    return caller, seller, made, joined.first("Dial").attrib


def _complete(api: FlaskClient, sid: str, action: str, token: str = ANNA) -> Any:
    return _post(api, f"/api/calls/{sid}/transfer/complete", token, {"action": action})


def _outcome(app: Flask, transfer_id: int) -> str | None:
    with get_store(app).engine.connect() as conn:
        found = transfers.get(conn, transfer_id)
    return found.outcome if found else None


def test_bringing_the_caller_in_unholds_them_with_a_word_of_who_they_are_with(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    caller, _, made, _ = _consulting(api, agents_app, twilio)
    answer = _complete(api, caller.sid, "connect")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["transfer"]["outcome"] == "accepted"
    unhold = twilio.posts(BUYER)[-1]
    assert unhold["Hold"] == ["false"] and unhold["AnnounceMethod"] == ["POST"]
    told = caller.post(_path(unhold["AnnounceUrl"][0]))
    assert told.said == "Thank you for holding. You are now connected with the seller."
    assert twilio.posts(f"/Calls/{AGENT_CALL}.json") == []  # the agent stays
    again = _complete(api, caller.sid, "connect")  # a second click: nothing left to do
    assert again.status_code == 409
    assert "already talking with the seller" in again.get_json()["error"]


def test_handing_over_unholds_the_caller_and_ends_the_agents_call(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    caller, _, made, _ = _consulting(api, agents_app, twilio)
    answer = _complete(api, caller.sid, "leave")
    assert answer.status_code == 200, answer.get_json()
    assert twilio.held[BUYER] is False
    assert twilio.posts(SELLER)[-1]["EndConferenceOnExit"] == ["true"]  # never left alone
    assert twilio.posts(f"/Calls/{AGENT_CALL}.json") == [{"Status": ["completed"]}]
    with get_store(agents_app).engine.connect() as conn:
        stored = agent_states.read(conn, "anna")
    assert stored is not None and stored.state == "wrap_up"
    assert _outcome(agents_app, made["id"]) == "accepted"


def test_the_agent_hanging_up_during_the_consult_unholds_the_caller_once(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    caller, _, _, _ = _consulting(api, agents_app, twilio)
    agent = CallActions(api, sid=AGENT_CALL, from_="client:anna")
    status_url = twilio.posts("/Calls.json")[0]["StatusCallback"][0]
    assert agent.post(_path(status_url), CallStatus="completed").verbs == []
    (unhold,) = [f for f in twilio.posts(BUYER) if f["Hold"] == ["false"]]
    assert "to=seller" in unhold["AnnounceUrl"][0]
    assert twilio.posts(SELLER)[-1]["EndConferenceOnExit"] == ["true"]
    agent.post(_path(status_url), CallStatus="completed")  # Twilio retries: unheld once
    assert len([f for f in twilio.posts(BUYER) if f["Hold"] == ["false"]]) == 1


def test_the_seller_hanging_up_during_the_consult_gives_the_caller_back_to_the_agent(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    caller, seller, _, dial = _consulting(api, agents_app, twilio)
    done = seller.post(_path(dial["action"]), DialCallStatus="completed")
    assert done.verbs == ["Hangup"]
    assert twilio.held[BUYER] is False
    assert "to=agent" in twilio.posts(BUYER)[-1]["AnnounceUrl"][0]
    told = caller.post(_path(twilio.posts(BUYER)[-1]["AnnounceUrl"][0]))
    assert told.said == "Thank you for holding. You are back with the agent."
    assert twilio.posts(AGENT)[-1]["EndConferenceOnExit"] == ["true"]
    assert _complete(api, caller.sid, "connect").status_code == 409


@pytest.mark.parametrize(
    ("action", "token", "status", "message"),
    [
        ("connect", ANNA, 409, "no warm transfer accepted by a seller"),
        ("leave", BEN, 403, "may act only for themselves"),
        ("stay", ANNA, 400, "actions: connect, leave"),
        (None, ANNA, 400, "actions: connect, leave"),
    ],
)
def test_completing_refused(
    api: FlaskClient,
    agents_app: Flask,
    twilio: TwilioRecorder,
    at_open: None,
    action: str | None,
    token: str,
    status: int,
    message: str,
) -> None:
    caller = _taken(api, agents_app, twilio)
    answer = _complete(api, caller.sid, action, token)  # type: ignore[arg-type]
    assert answer.status_code == status
    assert message in answer.get_json()["error"]


def test_completing_a_declined_transfer_is_refused_and_the_operator_may_act(
    api: FlaskClient, agents_app: Flask, twilio: TwilioRecorder, at_open: None
) -> None:
    caller = _taken(api, agents_app, twilio)
    body = {"kind": "warm", "to": "acme", "summary": "warranty question"}
    _post(api, f"/api/calls/{caller.sid}/transfer", ANNA, body)
    seller_call = twilio.posts("/Calls.json")[-1]
    seller = CallActions(api, sid="CA" + "8" * 32, from_="+442071000000", to="+48600300400")
    seller.post(_path(seller_call["StatusCallback"][0]), CallStatus="busy")
    answer = _complete(api, caller.sid, "connect", API_TOKEN)
    assert answer.status_code == 409
    assert "(it is busy)" in answer.get_json()["error"]
    shown = api.get("/api/agents/anna", headers={"Authorization": f"Bearer {ANNA}"}).get_json()
    assert shown["transfer"]["outcome"] == "busy"
    assert shown["transfer"]["target_name"] == "Acme Electronics"
