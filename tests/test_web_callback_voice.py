"""The callback offer and the callback's webhooks through Twilio's contract (signed form in,
TwiML out): the offer at the closed message, the number confirmed or typed (or refused), the
request stored once, a new call cancelling it, the buyer answering the callback (greeted about
their topic, in the agents' queue), and its status callback (retry, then the warehouse's thread).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from hotline import create_app
from hotline.store import callbacks, queue_entries
from hotline.store.database import get_store
from hotline.store.models import CallbackRow, MessageRow, ThreadRow
from tests.conftest import API_TOKEN, HOTLINE_NUMBER, CallActions, TwiML

CLOSED = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)  # Thursday 22:30 in Warsaw
DUE = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # Friday 08:00 in Warsaw
BUYER = "+48601100200"
OUTBOUND = "CA00000000000000000000000000000b01"


@pytest.fixture
def config(config: dict[str, Any]) -> dict[str, Any]:
    """The shipped config with the public address Twilio reaches the app at (where the test
    client's requests are signed for): callbacks are offered only with one."""
    config["hotline"]["public_base_url"] = "http://localhost"
    return config


def _offer(call: CallActions) -> TwiML:
    """A warehouse caller (delivery problem) while closed, asking for a callback: key 3."""
    menu = call.press(call.start(), "2")
    closed = call.press(menu, "2")
    assert "To be called back when we open, press 3." in closed.said
    return call.press(closed, "3")


def _rows(app: Flask) -> list[CallbackRow]:
    with get_store(app).session() as session:
        found = callbacks.rows(session)
        session.expunge_all()
        return found


def test_the_caller_id_confirmed_with_1_is_called_back_at_the_next_opening(
    app: Flask, call: CallActions
) -> None:
    with freeze_time(CLOSED):
        offer = _offer(call)
        assert "We can call you back tomorrow at 08:00 on the number ending in 2 0 0." in (
            offer.said
        )
        gather = offer.first("Gather")
        assert (gather.attrib["finishOnKey"], gather.attrib["input"]) == ("#", "dtmf speech")
        done = call.press(offer, "1")
        again = call.press(offer, "1")  # Twilio retries the webhook: one request stored
    assert done.said == (
        "Thank you. We will call you back tomorrow at 08:00. Thank you for calling. Goodbye."
    )
    assert done.verbs == ["Say", "Say", "Hangup"] and again.said == done.said
    [row] = _rows(app)
    assert (row.call_sid, row.phone, row.hotline_number, row.language) == (
        call.sid,
        BUYER,
        HOTLINE_NUMBER,
        "en",
    )
    assert (row.topic, row.order_id, row.seller_id) == ("delivery_problem", "1234567", "acme")
    assert (row.due_at, row.status, row.attempts) == (DUE, "pending", 0)


def test_another_number_typed_with_hash_is_the_one_called(
    app: Flask, call: CallActions, client: FlaskClient
) -> None:
    with freeze_time(CLOSED):
        done = call.press(_offer(call), "601300400")
    assert "We will call you back tomorrow at 08:00." in done.said
    assert [row.phone for row in _rows(app)] == ["+48601300400"]
    # The call's history keeps the typed number masked, as its caller ID is (the request keeps
    # it whole: it is what the hotline calls).
    offer, history = _offer_event(client, call.sid)
    assert offer["input"] == "digits=******400"
    assert offer["decision"].startswith("callback_offer<digits=******400> > ")
    assert "601300400" not in history


def test_a_number_said_in_groups_is_called_and_kept_masked_in_the_history(
    app: Flask, call: CallActions, client: FlaskClient
) -> None:
    with freeze_time(CLOSED):
        done = call.say(_offer(call), "601 300 400")
    assert "We will call you back tomorrow at 08:00." in done.said
    assert [row.phone for row in _rows(app)] == ["+48601300400"]
    offer, history = _offer_event(client, call.sid)
    assert offer["input"].startswith("speech='*** *** 400' (")
    assert "601 300" not in history and "601300400" not in history


def _offer_event(client: FlaskClient, sid: str) -> tuple[dict[str, Any], str]:
    """The call's ``callback_offer`` event in ``GET /api/calls/<sid>``, and that whole answer."""
    history = client.get(f"/api/calls/{sid}", headers={"Authorization": f"Bearer {API_TOKEN}"})
    [offer] = [e for e in history.get_json()["events"] if e["step"] == "callback_offer"]
    return offer, history.text


def test_a_number_that_is_not_one_is_asked_again_then_given_up(
    app: Flask, call: CallActions
) -> None:
    with freeze_time(CLOSED):
        again = call.press(_offer(call), "12")
        gave_up = call.press(again, "999")
    assert again.said.startswith("Sorry, that is not a phone number we can call. We can call")
    assert gave_up.said == (
        "Sorry, I couldn't take a number to call you back. "
        "Please call us again tomorrow at 08:00. Goodbye."
    )
    assert gave_up.verbs == ["Say", "Hangup"] and _rows(app) == []


def test_a_caller_without_caller_id_is_asked_to_type_the_number(
    app: Flask, client: FlaskClient
) -> None:
    anonymous = CallActions(client, from_="anonymous")
    with freeze_time(CLOSED):
        offer = _offer_from_agent_key(anonymous)
        assert offer.said == "Please type the number we should call you back on, then press hash."
        refused = anonymous.press(offer, "1")  # no caller ID to confirm
        done = anonymous.press(refused, "601300400")
    assert "We will call you back" in done.said
    assert [(row.phone, row.caller_id) for row in _rows(app)] == [("+48601300400", None)]


def _offer_from_agent_key(call: CallActions) -> TwiML:
    closed = call.press(call.start(), "0")
    return call.say(closed, "call me back please")


@pytest.mark.parametrize(
    ("asked", "heard", "due"),
    [
        # 21:05 on the night of the autumn change (CEST): 08:00 CET is 07:00 UTC
        (
            datetime(2026, 10, 24, 19, 5, tzinfo=UTC),
            "tomorrow at 08:00",
            datetime(2026, 10, 25, 7, 0, tzinfo=UTC),
        ),
        # 21:05 on the night of the spring change (CET): 08:00 CEST is 06:00 UTC
        (
            datetime(2026, 3, 28, 20, 5, tzinfo=UTC),
            "tomorrow at 08:00",
            datetime(2026, 3, 29, 6, 0, tzinfo=UTC),
        ),
        # the night before two closed dates
        (
            datetime(2026, 12, 24, 21, 0, tzinfo=UTC),
            "on 2026-12-27 at 08:00",
            datetime(2026, 12, 27, 7, 0, tzinfo=UTC),
        ),
    ],
)
def test_the_caller_hears_when_they_will_be_called(
    app: Flask, call: CallActions, asked: datetime, heard: str, due: datetime
) -> None:
    with freeze_time(asked):
        done = call.press(_offer_from_agent_key(call), "1")
    assert f"We will call you back {heard}." in done.said
    assert [row.due_at for row in _rows(app)] == [due]


def test_a_new_call_from_the_buyer_cancels_the_callback_silently(
    app: Flask, client: FlaskClient, call: CallActions
) -> None:
    with freeze_time(CLOSED):
        call.press(_offer(call), "1")
    with freeze_time(CLOSED + timedelta(minutes=20)):
        greeting = CallActions(client, sid="CA00000000000000000000000000000002").start()
    assert "call" not in greeting.said.replace("Thank you for calling", "")  # nothing said
    assert [row.status for row in _rows(app)] == ["cancelled"]


def test_the_polish_offer(app: Flask, client: FlaskClient) -> None:
    polish = CallActions(client, to="+48221000000")
    with freeze_time(CLOSED):
        closed = polish.press(polish.start(), "0")
        assert "Aby poprosić o telefon zwrotny, gdy otworzymy, naciśnij 3." in closed.said
        offer = polish.press(closed, "3")
        done = polish.press(offer, "1")
    assert "na numer kończący się na 2 0 0" in offer.said
    assert "Dziękujemy. Oddzwonimy jutro o 08:00." in done.said
    assert [row.language for row in _rows(app)] == ["pl"]


# -- the callback's own call -------------------------------------------------------------------


def _placed(app: Flask, call: CallActions) -> CallbackRow:
    """A request made in ``call``, claimed by the job as its first try."""
    with freeze_time(CLOSED):
        call.press(_offer(call), "1")
    with get_store(app).session() as session:
        [row] = callbacks.rows(session)
        claim = callbacks.claim(session, row.id, DUE, timedelta(minutes=15))
        assert claim is not None
    [row] = _rows(app)
    return row


def _outbound(client: FlaskClient) -> CallActions:
    """Twilio's side of the hotline's call to the buyer (From: the hotline)."""
    return CallActions(client, sid=OUTBOUND, from_=HOTLINE_NUMBER, to=BUYER)


def test_the_buyer_answers_and_is_put_in_the_queue_with_their_topic(
    app: Flask, client: FlaskClient, call: CallActions
) -> None:
    row = _placed(app, call)
    twilio = _outbound(client)
    path = f"/voice/callback/answer?callback={row.id}&try=1"
    with freeze_time(DUE + timedelta(seconds=20)):
        answer = twilio.post(path, Direction="outbound-api")
        again = twilio.post(path, Direction="outbound-api")  # a retry
    assert answer.said == (
        "This is the marketplace hotline calling you back about a delivery problem. "
        "Please hold. An agent will be with you shortly."
    )
    assert answer.verbs == ["Say", "Say", "Enqueue"] and again.verbs == answer.verbs
    enqueue = answer.first("Enqueue")
    assert enqueue.text == "warehouse"
    assert enqueue.attrib["waitUrl"].startswith("http://localhost/voice/queue/wait")
    [done] = _rows(app)
    assert (done.status, done.call_ref) == ("answered", OUTBOUND)
    with get_store(app).session() as session:
        entry = queue_entries.entry(session.connection(), OUTBOUND)
    assert entry is not None
    assert (entry.from_number, entry.topic, entry.order_id, entry.status) == (
        BUYER,
        "delivery_problem",
        "1234567",
        "waiting",
    )
    with freeze_time(DUE + timedelta(minutes=2)):
        waiting = twilio.post("/voice/queue/wait?step=warehouse_queue", QueuePosition="1")
    assert "You are number 1 in line." in waiting.said


@pytest.mark.parametrize("query", ["callback=999&try=1", "callback=x", "try=1", "callback=1&try=7"])
def test_an_answer_matching_no_callback_try_says_goodbye(
    app: Flask, client: FlaskClient, call: CallActions, query: str
) -> None:
    _placed(app, call)
    with freeze_time(DUE):
        answer = _outbound(client).post(f"/voice/callback/answer?{query}")
    assert answer.status == 200
    assert answer.said == "Thank you for calling. Goodbye." and answer.verbs == ["Say", "Hangup"]


def test_no_answer_twice_then_a_thread_for_the_warehouse(
    app: Flask, client: FlaskClient, call: CallActions
) -> None:
    row = _placed(app, call)
    twilio = _outbound(client)
    with freeze_time(DUE + timedelta(minutes=1)):
        first = twilio.post(
            f"/voice/callback/status?callback={row.id}&try=1", CallStatus="no-answer"
        )
        twilio.post(f"/voice/callback/status?callback={row.id}&try=1", CallStatus="no-answer")
    assert first.status == 200 and first.verbs == []
    [retrying] = _rows(app)
    assert (retrying.status, retrying.due_at) == ("pending", DUE + timedelta(minutes=11))
    with get_store(app).session() as session:
        assert callbacks.claim(session, row.id, DUE + timedelta(minutes=11), timedelta(minutes=15))
    with freeze_time(DUE + timedelta(minutes=12)):
        stale = twilio.post(f"/voice/callback/status?callback={row.id}&try=1", CallStatus="busy")
        last = twilio.post(f"/voice/callback/status?callback={row.id}&try=2", CallStatus="busy")
    assert stale.status == last.status == 200
    [given_up] = _rows(app)
    assert (given_up.status, given_up.attempts, given_up.last_result) == ("unanswered", 2, "busy")
    with get_store(app).session() as session:
        thread = session.get_one(ThreadRow, given_up.thread_id)
        system = session.scalars(
            MessageRow.__table__.select()
            .with_only_columns(MessageRow.body)
            .where(MessageRow.thread_id == thread.id, MessageRow.author == "system")
        ).all()
        assert thread.party == "warehouse"
    assert system == [
        "Callback not answered (2 calls, the last: busy) about delivery problem; order 1234567. "
        "Please contact the buyer."
    ]


def test_a_completed_call_whose_answer_never_came_counts_as_answered(
    app: Flask, client: FlaskClient, call: CallActions
) -> None:
    row = _placed(app, call)
    with freeze_time(DUE + timedelta(minutes=3)):
        _outbound(client).post(
            f"/voice/callback/status?callback={row.id}&try=1", CallStatus="completed"
        )
    assert [r.status for r in _rows(app)] == ["answered"]


@pytest.mark.parametrize(
    "path", ["/voice/callback/answer?callback=1&try=1", "/voice/callback/status"]
)
def test_unsigned_requests_are_refused(client: FlaskClient, path: str) -> None:
    assert client.post(path, data={"CallSid": OUTBOUND}).status_code == 403


def test_without_a_public_address_no_callback_is_promised(config: dict[str, Any]) -> None:
    """Twilio could never fetch the callback's webhooks: the caller is told to call again."""
    config["hotline"]["public_base_url"] = ""
    app = create_app(config)
    try:
        call = CallActions(app.test_client())
        with freeze_time(CLOSED):
            given_up = _offer(call)
        assert given_up.said == (
            "Sorry, I couldn't take a number to call you back. Please call us again tomorrow "
            "at 08:00. Goodbye."
        )
        assert _rows(app) == []
    finally:
        app.extensions["hotline.store"].engine.dispose()
