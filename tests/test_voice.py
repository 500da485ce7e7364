"""The buyer's journey through the webhooks: signed forms in, TwiML out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import event, func, select

from hotline import create_app
from hotline.store.callstate import CallState
from hotline.store.callstore import CallWork
from hotline.store.database import get_store
from hotline.store.models import CallEventRow, OutboxRow, ThreadRow
from tests.conftest import API_TOKEN, HOTLINE_NUMBER, POLISH_NUMBER, CallActions, TwiML

OPEN = "2026-11-26T10:00:00+01:00"  # a Thursday, mid-morning in Warsaw
CLOSED = "2026-11-26T22:30:00+01:00"
SATURDAY_OPEN = "2026-11-28T10:00:00+01:00"  # the hotline is open; Bookworm (mon-fri 9-17) is not
ACME_PHONE_SPOKEN = "4 8, 6 0 0, 3 0 0, 4 0 0"


@pytest.fixture
def at_open() -> Iterator[None]:
    with freeze_time(OPEN):
        yield


@pytest.fixture
def at_closed() -> Iterator[None]:
    with freeze_time(CLOSED):
        yield


def threads(app: Flask) -> list[ThreadRow]:
    with get_store(app).session() as session:
        rows = session.scalars(select(ThreadRow).order_by(ThreadRow.id)).all()
        for row in rows:
            _ = row.messages  # load while the session is open
        return list(rows)


def call_row(app: Flask, sid: str) -> CallState:
    """The call's state as stored (its latest row)."""
    with CallWork(get_store(app)) as work:
        state = work.load(sid)
    assert state is not None
    return state


def product_question(call: CallActions, question: str = "Is it compatible with my phone?") -> TwiML:
    """From the greeting to just after the question, for the caller with one Acme order."""
    menu = call.start()
    confirm = call.press(menu, "1")
    asked = call.press(confirm, "1")
    assert "what is your question" in asked.said
    return call.say(asked, question)


# -- greeting and menu --------------------------------------------------------------------------


def test_greeting_offers_the_menu_in_a_gather_with_barge_in(
    call: CallActions, at_open: None
) -> None:
    answer = call.start()
    assert answer.status == 200
    assert answer.verbs == ["Gather", "Redirect"]
    gather = answer.first("Gather")
    assert gather.attrib["input"] == "dtmf speech"
    assert gather.attrib["numDigits"] == "1"
    assert gather.attrib["action"] == "/voice/step/main_menu?attempt=1"
    spoken = [say.text or "" for say in gather.iter("Say")]  # nested: the caller can barge in
    assert spoken[0].startswith("Thank you for calling")
    assert "press 1" in spoken[1] and "press 2" in spoken[1] and "press 0" in spoken[1]
    assert answer.first("Redirect").text == "/voice/step/main_menu?attempt=1"


@pytest.mark.parametrize(
    ("key", "expected_action", "expected_words"),
    [
        ("1", "/voice/step/confirm_order?attempt=1", "order 1 2 3 4 5 6 7 from Acme Electronics"),
        ("2", "/voice/step/warehouse_menu?attempt=1", "For order status or delivery time, press 1"),
        ("*", "/voice/step/main_menu?attempt=1", "Thank you for calling"),
    ],
)
def test_menu_keys(
    call: CallActions, at_open: None, key: str, expected_action: str, expected_words: str
) -> None:
    answer = call.press(call.start(), key)
    assert answer.gather_action == expected_action
    assert expected_words in answer.said


def test_key_0_while_open_queues_for_an_agent(call: CallActions, at_open: None) -> None:
    answer = call.press(call.start(), "0")
    enqueue = answer.first("Enqueue")
    assert enqueue.text == "warehouse"
    assert enqueue.attrib["waitUrl"].startswith("/voice/queue/wait")
    assert "An agent will be with you" in answer.said


def test_key_0_while_closed_offers_a_thread_for_customer_service(
    call: CallActions, at_closed: None
) -> None:
    answer = call.press(call.start(), "0")
    assert not answer.all("Enqueue")
    assert "Our hours are 08:00 to 21:00, and we open again tomorrow at 08:00" in answer.said
    assert answer.gather_action == "/voice/step/warehouse_closed?attempt=1"


@pytest.mark.parametrize(
    ("words", "confidence", "expected_action"),
    [
        ("Where is my parcel?", "0.9", "/voice/step/warehouse_menu?attempt=1"),
        ("is it compatible with my phone", "0.8", "/voice/step/confirm_order?attempt=1"),
        ("I need an invoice", "0.7", "/voice/step/confirm_order?attempt=1"),
        ("I want to cancel", "0.9", "/voice/step/warehouse_menu?attempt=1"),
        ("can I talk to a person", "0.9", None),  # the agent queue: no Gather
        ("can I speak to one of your agents", "0.9", None),
        ("my order hasn't arrived yet", "0.9", "/voice/step/warehouse_menu?attempt=1"),
        ("where is my parcel", "0.1", "/voice/step/main_menu?attempt=2"),  # too unsure
        ("bananas", "0.9", "/voice/step/main_menu?attempt=2"),
    ],
)
def test_menu_by_speech(
    call: CallActions, at_open: None, words: str, confidence: str, expected_action: str | None
) -> None:
    answer = call.say(call.start(), words, confidence)
    if expected_action is None:
        assert answer.first("Enqueue").text == "warehouse"
    else:
        assert answer.gather_action == expected_action


@pytest.mark.parametrize("how", ["silence", "invalid key"])
def test_second_try_says_sorry_and_a_shorter_prompt(
    call: CallActions, at_open: None, how: str
) -> None:
    first = call.start()
    second = call.silence(first) if how == "silence" else call.press(first, "7")
    assert second.said.startswith("Sorry, I didn't get that.")
    assert "Press 1 for a product question" in second.said
    assert "Thank you for calling" not in second.said
    assert len(second.said) < len(first.said)
    assert second.gather_action == "/voice/step/main_menu?attempt=2"


@pytest.mark.parametrize(
    ("query", "next_attempt"),
    [
        ("attempt=1", 2),
        ("attempt=2", 3),
        ("", 2),  # no attempt: the first
        ("attempt=", 2),  # blank: the first
        ("attempt=two", 2),  # not a number: the first
        ("attempt=-4", 2),  # below 1: the first
        ("attempt=%D9%A1", 2),  # a non-ASCII digit one, as int() reads it
        ("attempt=1&attempt=2", 2),  # repeated: the first counts, as in request.args
        ("step=x&attempt=2", 3),
    ],
)
def test_the_attempt_is_read_from_the_query_string(
    call: CallActions, at_open: None, query: str, next_attempt: int
) -> None:
    call.start()
    path = "/voice/step/main_menu" + (f"?{query}" if query else "")
    answer = call.post(path, Digits="7")  # no such option: the menu is asked again
    assert answer.gather_action == f"/voice/step/main_menu?attempt={next_attempt}"


def test_an_attempt_past_the_tries_ends_the_menu(call: CallActions, at_open: None) -> None:
    call.start()
    answer = call.post("/voice/step/main_menu?attempt=99", Digits="7")  # read as 10: exhausted
    assert answer.verbs[-1] == "Enqueue"


@pytest.mark.parametrize(
    ("moment", "ends_with"), [(OPEN, "Enqueue"), (CLOSED, "Hangup")], ids=["open", "closed"]
)
def test_three_failed_tries_end_politely(call: CallActions, moment: str, ends_with: str) -> None:
    with freeze_time(moment):
        answer = call.start()
        answer = call.silence(answer)
        answer = call.press(answer, "9")
        assert answer.gather_action == "/voice/step/main_menu?attempt=3"
        answer = call.silence(answer)
    assert answer.verbs[-1] == ends_with
    if ends_with == "Hangup":
        assert "Goodbye" in answer.said


# -- which order ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "caller",
    ["+48601500600", "+48999999999", "anonymous", ""],
    ids=["two orders", "none", "anon", "empty"],
)
def test_without_exactly_one_order_the_caller_types_the_number(
    client: FlaskClient, at_open: None, caller: str
) -> None:
    call = CallActions(client, from_=caller)
    answer = call.press(call.start(), "1")
    assert "enter your order number" in answer.said
    gather = answer.first("Gather")
    assert gather.attrib["finishOnKey"] == "#"
    assert gather.attrib["action"] == "/voice/step/enter_order?attempt=1"


@pytest.mark.parametrize(
    ("words", "expected_action"),
    [
        ("yes", "/voice/step/ask_question?attempt=1"),
        ("1.", "/voice/step/ask_question?attempt=1"),
        ("no, that's not right", "/voice/step/enter_order?attempt=1"),
        ("that is not correct", "/voice/step/enter_order?attempt=1"),
        ("it's a different one", "/voice/step/enter_order?attempt=1"),
    ],
)
def test_order_confirmation_by_speech_hears_the_no_first(
    call: CallActions, at_open: None, words: str, expected_action: str
) -> None:
    confirm = call.press(call.start(), "1")
    assert call.say(confirm, words).gather_action == expected_action


def test_no_to_a_message_ends_the_call(call: CallActions, at_closed: None) -> None:
    closed = call.press(call.press(call.start(), "2"), "1")
    bye = call.say(closed, "no, I don't want to leave a message")
    assert bye.verbs == ["Say", "Hangup"]


def test_confirmed_order_can_be_replaced_by_another(call: CallActions, at_open: None) -> None:
    confirm = call.press(call.start(), "1")
    entry = call.press(confirm, "2")
    assert "enter your order number" in entry.said
    asked = call.press(entry, "4567890")
    assert "what is your question" in asked.said
    row = call_row(call.client.application, call.sid)
    assert (row.order_id, row.seller_id) == ("4567890", "greenleaf")


@pytest.mark.parametrize("entered", [("digits", "2345678"), ("speech", "it's 2 3 4 5 6 7 8")])
def test_order_entry_by_keys_or_speech(
    client: FlaskClient, at_open: None, entered: tuple[str, str]
) -> None:
    call = CallActions(client, from_="+48999999999")
    entry = call.press(call.start(), "1")
    how, value = entered
    asked = call.press(entry, value) if how == "digits" else call.say(entry, value)
    assert "what is your question" in asked.said
    assert call_row(client.application, call.sid).seller_id == "bookworm"


def test_unknown_order_is_said_back_and_asked_again_then_gives_up(
    client: FlaskClient, at_closed: None
) -> None:
    call = CallActions(client, from_="+48999999999")
    entry = call.press(call.start(), "1")
    again = call.press(entry, "999")
    assert "couldn't find order 9 9 9" in again.said
    assert "enter your order number" in again.said
    assert again.gather_action == "/voice/step/enter_order?attempt=2"
    third = call.silence(again)
    assert third.said.startswith("Sorry, I didn't get that.")
    assert third.gather_action == "/voice/step/enter_order?attempt=3"
    last = call.press(third, "111")
    assert last.verbs[-1] == "Hangup"  # closed: a polite goodbye


# -- the question and the handoff --------------------------------------------------------------


def test_handoff_dials_the_seller_with_a_whisper(call: CallActions, at_open: None) -> None:
    answer = product_question(call)
    assert "connecting you to Acme Electronics" in answer.said
    dial = answer.first("Dial")
    assert dial.attrib["action"] == "/voice/step/handoff/dialled"
    assert dial.attrib["timeout"] == "20"
    assert dial.attrib["callerId"] == call.to
    number = answer.first("Number")
    assert number.text == "+48600300400"
    assert number.attrib["url"] == f"/voice/whisper?call={call.sid}&step=handoff"
    assert call_row(call.client.application, call.sid).question == "Is it compatible with my phone?"


def test_silence_instead_of_a_question_still_goes_on(call: CallActions, at_open: None) -> None:
    asked = call.press(call.press(call.start(), "1"), "1")
    answer = call.silence(asked)
    assert answer.first("Number").text == "+48600300400"
    assert call_row(call.client.application, call.sid).question is None


def whisper(call: CallActions) -> TwiML:
    seller_leg = CallActions(call.client, sid="CA00000000000000000000000000000099")
    return seller_leg.post(
        f"/voice/whisper?call={call.sid}&step=handoff",
        ParentCallSid=call.sid,
        Direction="outbound-dial",
    )


def test_whisper_tells_the_seller_the_subject(call: CallActions, at_open: None) -> None:
    product_question(call)
    leg = whisper(call)
    gather = leg.first("Gather")
    assert gather.attrib["numDigits"] == "1"
    assert gather.attrib["input"] == "dtmf speech"
    assert "a product question" in leg.said
    assert "order 1 2 3 4 5 6 7" in leg.said
    assert "Is it compatible with my phone" in leg.said
    assert "Press 1 or say yes to take the call" in leg.said
    assert leg.verbs == ["Gather", "Hangup"]  # no key: the seller's leg (or voicemail) hangs up


@pytest.mark.parametrize(
    ("answer_given", "bridged"),
    [
        ({"Digits": "1"}, True),
        ({"Digits": "2"}, False),
        ({"Digits": ""}, False),
        ({"Digits": "#"}, False),
        ({}, False),
        ({"SpeechResult": "Yes, I'll take it", "Confidence": "0.8"}, True),
        ({"SpeechResult": "yes", "Confidence": "0.1"}, False),
        ({"SpeechResult": "Please leave a message after the tone", "Confidence": "0.9"}, False),
        ({"SpeechResult": "Please hold while we connect your call", "Confidence": "0.9"}, False),
        ({"SpeechResult": "Yes, hello, Acme Electronics speaking", "Confidence": "0.9"}, False),
        ({"SpeechResult": "Yes.", "Confidence": "0.5"}, False),  # too unsure to take a call
        ({"SpeechResult": "1.", "Confidence": "0.9"}, True),
    ],
)
def test_whisper_key_or_words_decide(
    call: CallActions, at_open: None, answer_given: dict[str, str], bridged: bool
) -> None:
    product_question(call)
    seller_leg = CallActions(call.client, sid="CA00000000000000000000000000000099")
    answer = seller_leg.post(
        f"/voice/whisper/answer?call={call.sid}&step=handoff",
        ParentCallSid=call.sid,
        **answer_given,
    )
    assert answer.verbs == ([] if bridged else ["Hangup"])
    assert call_row(call.client.application, call.sid).seller_accepted is bridged


@pytest.mark.parametrize(
    ("status", "accepted", "done"),
    [
        ("completed", True, True),
        ("answered", True, True),
        ("completed", False, False),
        ("busy", False, False),
        ("no-answer", False, False),
        ("failed", False, False),
        ("canceled", False, False),
        ("no-answer", True, False),
        ("", False, False),
        ("garbage", True, False),
    ],
)
def test_every_dial_call_status(
    call: CallActions, at_open: None, status: str, accepted: bool, done: bool
) -> None:
    product_question(call)
    if accepted:
        CallActions(call.client, sid="CA00000000000000000000000000000099").post(
            f"/voice/whisper/answer?call={call.sid}&step=handoff",
            ParentCallSid=call.sid,
            Digits="1",
        )
    answer = call.post("/voice/step/handoff/dialled", DialCallStatus=status, DialCallDuration="30")
    if done:
        assert answer.verbs == ["Say", "Hangup"]
        assert "Goodbye" in answer.said
        assert call_row(call.client.application, call.sid).outcome == "seller_took_call"
    else:
        assert "can't take your call right now" in answer.said
        assert answer.gather_action == "/voice/step/seller_fallback?attempt=1"


@pytest.mark.parametrize(
    ("moment", "caller"),
    [
        (CLOSED, "+48601100200"),
        (SATURDAY_OPEN, "+48601300400"),
        ("2026-11-26T18:00:00+01:00", "+48601300400"),
    ],
    ids=["hotline closed", "seller's day off", "after seller's hours"],
)
def test_no_dial_when_the_hotline_or_the_seller_is_closed(
    client: FlaskClient, moment: str, caller: str
) -> None:
    call = CallActions(client, from_=caller)
    with freeze_time(moment):
        answer = product_question(call)
    assert not answer.all("Dial")
    assert "can't take your call right now" in answer.said
    assert "press 1" in answer.said and "press 2" in answer.said


# -- fallbacks ----------------------------------------------------------------------------------


def test_fallback_1_says_the_sellers_number_in_groups_and_repeats(
    call: CallActions, at_closed: None
) -> None:
    fallback = product_question(call)
    number = call.press(fallback, "1")
    assert f"The phone number of Acme Electronics is plus {ACME_PHONE_SPOKEN}" in number.said
    assert "To hear it again, press 1" in number.said
    again = call.press(number, "1")
    assert ACME_PHONE_SPOKEN in again.said
    bye = call.silence(again)
    assert bye.verbs[-1] == "Hangup"


def test_fallback_by_speech(call: CallActions, at_closed: None) -> None:
    fallback = product_question(call)
    answer = call.say(fallback, "give me the phone number")
    assert ACME_PHONE_SPOKEN in answer.said


def test_fallback_2_stores_the_question_in_a_thread_for_the_seller(
    call: CallActions, app: Flask, at_closed: None
) -> None:
    fallback = product_question(call, "Is it compatible with the Pixel 9?")
    done = call.press(fallback, "2")
    assert "reference 0 0 0 1" in done.said
    assert done.verbs[-1] == "Hangup"
    [thread] = threads(app)
    assert (thread.party, thread.seller_id, thread.order_id) == ("seller", "acme", "1234567")
    assert thread.messages[0].body == "Is it compatible with the Pixel 9?"
    with get_store(app).session() as session:
        outbox = session.scalars(select(OutboxRow)).all()
        assert [(o.kind, o.recipient, o.thread_id) for o in outbox] == [
            ("thread_opened", "acme", thread.id)
        ]


def test_fallback_2_asks_for_the_question_when_there_was_none(
    call: CallActions, app: Flask, at_closed: None
) -> None:
    asked = call.press(call.press(call.start(), "1"), "1")
    fallback = call.silence(asked)
    ask = call.press(fallback, "2")
    assert "tell me your question" in ask.said
    again = call.silence(ask)
    assert "didn't hear a question" in again.said
    done = call.say(again, "Does it come with a charger?")
    assert "reference" in done.said
    assert threads(app)[0].messages[0].body == "Does it come with a charger?"


def test_fallback_2_with_no_question_at_all_opens_no_thread(
    call: CallActions, app: Flask, at_closed: None
) -> None:
    asked = call.press(call.press(call.start(), "1"), "1")
    ask = call.press(call.silence(asked), "2")
    bye = call.silence(call.silence(ask))
    assert bye.verbs[-1] == "Hangup"
    assert threads(app) == []


def test_the_same_webhook_twice_opens_one_thread(
    call: CallActions, app: Flask, at_closed: None
) -> None:
    fallback = product_question(call)
    first = call.press(fallback, "2")
    retry = call.press(fallback, "2")  # Twilio retried the same request
    assert first.said == retry.said
    assert len(threads(app)) == 1
    with get_store(app).session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 1


# -- warehouse ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "topic"),
    [("1", "order_status"), ("2", "delivery_problem"), ("3", "cancellation"), ("4", "change")],
)
def test_warehouse_topics_while_open_enter_the_queue(
    call: CallActions, at_open: None, key: str, topic: str
) -> None:
    sub_menu = call.press(call.start(), "2")
    answer = call.press(sub_menu, key)
    enqueue = answer.first("Enqueue")
    assert enqueue.text == "warehouse"
    assert enqueue.attrib["waitUrl"] == "/voice/queue/wait?step=warehouse_queue"
    assert enqueue.attrib["action"] == "/voice/queue/done?step=warehouse_queue"
    assert call_row(call.client.application, call.sid).topic == topic


def test_queue_wait_says_the_position_and_plays_hold(call: CallActions, at_open: None) -> None:
    call.press(call.press(call.start(), "2"), "1")
    wait = call.post(
        "/voice/queue/wait?step=warehouse_queue",
        QueuePosition="3",
        QueueTime="40",
        CurrentQueueSize="5",
        QueueSid="QU0",
        AvgQueueTime="60",
    )
    assert wait.verbs == ["Say", "Play"]
    assert "You are number 3 in line" in wait.said


@pytest.mark.parametrize(
    ("result", "verbs"),
    [
        ("bridged", ["Hangup"]),
        ("hangup", ["Hangup"]),
        ("queue-full", ["Say", "Hangup"]),
        ("error", ["Say", "Hangup"]),
        ("", ["Say", "Hangup"]),
    ],
)
def test_queue_result_is_recorded(
    call: CallActions, at_open: None, result: str, verbs: list[str]
) -> None:
    call.press(call.press(call.start(), "2"), "3")
    answer = call.post("/voice/queue/done?step=warehouse_queue", QueueResult=result, QueueTime="12")
    assert answer.verbs == verbs
    assert call_row(call.client.application, call.sid).queue_result == (result or "error")


def test_warehouse_while_closed_says_the_hours_and_takes_a_thread(
    call: CallActions, app: Flask, at_closed: None
) -> None:
    closed = call.press(call.press(call.start(), "2"), "2")
    assert "closed now" in closed.said and "Our hours are 08:00 to 21:00" in closed.said
    ask = call.press(closed, "1")
    done = call.say(ask, "My parcel arrived damaged")
    assert "Our customer service will reply there" in done.said
    [thread] = threads(app)
    # The caller's number has one order (acme's), found by caller ID: the warehouse's thread is
    # still that seller's order's, so it counts for their sales quality.
    assert (thread.party, thread.seller_id, thread.topic) == (
        "warehouse",
        "acme",
        "delivery_problem",
    )


@pytest.mark.parametrize(
    ("moment", "to", "reopens"),
    [
        ("2026-11-26T07:00:00+01:00", HOTLINE_NUMBER, "we open again today at 08:00"),
        ("2026-11-26T22:30:00+01:00", HOTLINE_NUMBER, "we open again tomorrow at 08:00"),
        ("2026-12-25T12:00:00+01:00", HOTLINE_NUMBER, "we open again on 2026-12-27 at 08:00"),
        ("2026-11-26T22:30:00+01:00", POLISH_NUMBER, "ponownie zapraszamy jutro o 08:00"),
    ],
    ids=["before opening", "after closing", "closed dates", "polish"],
)
def test_closed_message_says_when_we_open_again(
    client: FlaskClient, moment: str, to: str, reopens: str
) -> None:
    call = CallActions(client, to=to)
    with freeze_time(moment):
        answer = call.press(call.start(), "0")
    assert reopens in answer.said


def test_warehouse_while_closed_can_just_end(call: CallActions, at_closed: None) -> None:
    closed = call.press(call.press(call.start(), "2"), "1")
    bye = call.press(closed, "2")
    assert bye.verbs == ["Say", "Hangup"]


# -- hours at the edges, through the webhook -------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        ("2026-11-26T07:59:59+01:00", False),
        ("2026-11-26T08:00:00+01:00", True),
        ("2026-11-26T20:59:59+01:00", True),
        ("2026-11-26T21:00:00+01:00", False),
        ("2026-03-29T07:59:59+02:00", False),  # clocks went forward that night
        ("2026-03-29T08:00:00+02:00", True),
        ("2026-10-25T20:59:59+01:00", True),  # clocks went back that night
        ("2026-10-25T21:00:00+01:00", False),
        ("2026-12-25T12:00:00+01:00", False),  # a closed date in the shipped config
    ],
)
def test_agent_key_follows_the_hours(client: FlaskClient, moment: str, open_: bool) -> None:
    call = CallActions(client)
    with freeze_time(moment):
        answer = call.press(call.start(), "0")
    assert bool(answer.all("Enqueue")) is open_


# -- language, durability, the event log ----------------------------------------------------------


def test_polish_number_gets_polish_prompts(client: FlaskClient, at_open: None) -> None:
    call = CallActions(client, to=POLISH_NUMBER)
    answer = call.start()
    assert "Dziękujemy" in answer.said
    assert answer.first("Say").attrib["language"] == "pl-PL"
    assert call.say(answer, "gdzie jest moja paczka").gather_action.startswith(
        "/voice/step/warehouse_menu"
    )


@pytest.mark.parametrize(
    ("words", "queued"),
    [("chcę rozmawiać z konsultantem", True), ("nie dostałem przesyłki", False)],
)
def test_polish_speech_understands_inflected_words(
    client: FlaskClient, at_open: None, words: str, queued: bool
) -> None:
    call = CallActions(client, to=POLISH_NUMBER)
    answer = call.say(call.start(), words)
    if queued:
        assert answer.first("Enqueue").text == "warehouse"
    else:
        assert answer.gather_action == "/voice/step/warehouse_menu?attempt=1"


def test_call_survives_a_restart_between_webhooks(
    call: CallActions, config: dict[str, object], at_closed: None
) -> None:
    fallback = product_question(call, "Is the cable included?")
    # A new process: a fresh app on the same database continues the same call.
    restarted = create_app(config)
    call.client = restarted.test_client()
    done = call.press(fallback, "2")
    assert "reference 0 0 0 1" in done.said
    assert threads(restarted)[0].messages[0].body == "Is the cable included?"
    restarted.extensions["hotline.store"].engine.dispose()


def test_every_webhook_is_recorded_and_readable_through_the_api(
    call: CallActions, app: Flask, client: FlaskClient, at_closed: None
) -> None:
    call.press(product_question(call), "2")
    with get_store(app).session() as session:
        steps = session.scalars(
            select(CallEventRow.step)
            .where(CallEventRow.call_sid == call.sid)
            .order_by(CallEventRow.seq)
        ).all()
    assert steps == ["incoming", "main_menu", "confirm_order", "ask_question", "seller_fallback"]
    response = client.get(
        f"/api/calls/{call.sid}", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    body = response.get_json()
    assert response.status_code == 200
    assert body["outcome"] == "thread_opened"
    assert body["from_number"] == "+48******200"
    assert [e["step"] for e in body["events"]] == steps
    assert body["events"][1]["input"] == "digits=1"


# -- never a 5xx ----------------------------------------------------------------------------------


def test_unknown_step_gets_an_apology_not_an_error(call: CallActions, at_open: None) -> None:
    answer = call.post("/voice/step/no_such_step?attempt=1", Digits="1")
    assert answer.status == 200
    assert "Sorry, something went wrong" in answer.said
    assert answer.first("Enqueue").text == "warehouse"  # open: an agent is the safe path


def test_missing_call_sid_gets_an_apology(call: CallActions, at_closed: None) -> None:
    answer = call.post("/voice", form={"From": "+48601100200"})
    assert answer.status == 200
    assert "Sorry, something went wrong" in answer.said
    assert answer.verbs[-1] == "Hangup"


def stored_rows(app: Flask) -> tuple[int, int]:
    """How many calls and ``call_events`` rows there are."""
    with get_store(app).session() as session:
        calls = session.scalar(select(func.count(CallEventRow.call_sid.distinct())))
        events = session.scalar(select(func.count()).select_from(CallEventRow))
    return calls or 0, events or 0


APOLOGY_THEN_AGENT = ["Say", "Enqueue"]
APOLOGY_THEN_GOODBYE = ["Say", "Say", "Hangup"]


@pytest.mark.parametrize(
    ("path", "form", "at_open_", "at_closed_"),
    [
        ("/voice/step/main_menu?attempt=1", {"Digits": "2"}, APOLOGY_THEN_AGENT, None),
        ("/voice/step/ask_question?attempt=2", {"SpeechResult": "hello"}, APOLOGY_THEN_AGENT, None),
        (
            "/voice/step/handoff/dialled",
            {"DialCallStatus": "no-answer"},
            APOLOGY_THEN_AGENT,
            None,
        ),
        ("/voice/queue/wait?step=warehouse_queue", {"QueuePosition": "1"}, ["Play"], ["Play"]),
        ("/voice/queue/done?step=warehouse_queue", {"QueueResult": "hangup"}, None, None),
        # An agent talked with the caller (queued by /voice/fallback): no apology, hang up.
        ("/voice/queue/done", {"QueueResult": "bridged"}, ["Hangup"], ["Hangup"]),
        ("/voice/status", {"CallStatus": "completed"}, None, None),
        ("/voice/whisper?call=CAnope&step=handoff", {}, ["Hangup"], ["Hangup"]),
        ("/voice/whisper/answer?call=CAnope&step=handoff", {"Digits": "1"}, ["Hangup"], ["Hangup"]),
    ],
)
@pytest.mark.parametrize("moment", [OPEN, CLOSED], ids=["open", "closed"])
def test_a_webhook_of_a_call_never_started_gets_the_safe_path_and_no_row(
    call: CallActions,
    app: Flask,
    caplog: pytest.LogCaptureFixture,
    path: str,
    form: dict[str, str],
    at_open_: list[str] | None,
    at_closed_: list[str] | None,
    moment: str,
) -> None:
    expected = (at_open_ if moment == OPEN else at_closed_) or APOLOGY_THEN_GOODBYE
    with freeze_time(moment), caplog.at_level(logging.WARNING, logger="hotline.web.webhook"):
        answer = call.post(path, **form)
    assert answer.status == 200
    assert answer.verbs == expected
    if "Say" in expected:
        assert "Sorry, something went wrong" in answer.said
    if "Enqueue" in expected:
        assert answer.first("Enqueue").text == "warehouse"
    assert stored_rows(app) == (0, 0)  # no call invented, no event without its call
    sid = "CAnope" if "call=CAnope" in path else call.sid
    [line] = [r for r in caplog.records if "never started" in r.getMessage()]
    assert sid in line.getMessage() and line.levelno == logging.WARNING
    assert not line.exc_info  # a known situation, not a traceback


def test_a_failed_first_webhook_leaves_no_orphan_event(
    call: CallActions, app: Flask, at_open: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.ivr import steps

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(steps.Turn, "enter", broken)
    answer = call.start()
    assert answer.status == 200
    assert answer.verbs == APOLOGY_THEN_AGENT
    assert stored_rows(app) == (0, 0)  # the call's row was never written, so no event either


def test_a_known_call_keeps_its_steps_after_a_stray_one(
    call: CallActions, app: Flask, at_open: None
) -> None:
    menu = call.start()
    stray = CallActions(call.client, sid="CA00000000000000000000000000000999")
    stray.post("/voice/step/main_menu?attempt=1", Digits="2")
    assert call.press(menu, "2").gather_action == "/voice/step/warehouse_menu?attempt=1"
    assert stored_rows(app) == (1, 2)


def test_exception_in_a_step_is_logged_with_the_call_sid(
    call: CallActions,
    at_open: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from hotline.ivr import steps

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(steps.Turn, "answer", broken)
    answer = call.press(call.start(), "1")
    assert answer.status == 200
    assert "Sorry, something went wrong" in answer.said
    assert any(call.sid in r.getMessage() and r.exc_info for r in caplog.records)
    with get_store(call.client.application).session() as session:
        last = session.scalars(
            select(CallEventRow.decision).order_by(CallEventRow.seq.desc()).limit(1)
        ).one()
    assert last == "failed (RuntimeError) > apology"  # the call's history shows it too


def test_whisper_for_an_unknown_call_hangs_up_the_seller_leg(
    call: CallActions, at_open: None
) -> None:
    answer = call.post("/voice/whisper?call=CAnope&step=handoff")
    assert answer.status == 200
    assert answer.verbs == ["Hangup"]


@pytest.mark.parametrize("path", ["/voice/nowhere", "/voice/step/a/b/c"])
def test_unknown_voice_url_answers_twiml(call: CallActions, at_open: None, path: str) -> None:
    answer = call.post(path)
    assert answer.status == 200
    assert "Sorry, something went wrong" in answer.said


def test_status_callback_records_the_end(call: CallActions, app: Flask, at_open: None) -> None:
    call.start()
    answer = call.post("/voice/status", CallStatus="completed", CallDuration="42")
    assert answer.status == 200
    assert call_row(app, call.sid).outcome == "ended:completed"


def test_control_characters_in_speech_never_break_the_whisper(
    call: CallActions, at_open: None
) -> None:
    product_question(call, "is it\x0bwaterproof\x00?")
    leg = whisper(call)  # parsing the TwiML is the check: \x0b and \x00 are not valid XML
    assert "is it waterproof" in leg.said


def test_a_database_error_is_logged_without_the_callers_number(
    call: CallActions, app: Flask, at_open: None, caplog: pytest.LogCaptureFixture
) -> None:
    with get_store(app).engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE call_events")
    answer = call.start()
    assert "Sorry, something went wrong" in answer.said
    logged = "\n".join(r.getMessage() + str(r.exc_info and r.exc_info[1]) for r in caplog.records)
    assert "call_events" in logged  # the error itself is there...
    assert "601100200" not in logged  # ...but not the buyer's number it was writing


def test_whisper_steps_are_logged_at_their_own_time(client: FlaskClient, app: Flask) -> None:
    call = CallActions(client)
    with freeze_time(OPEN) as clock:
        product_question(call)
        clock.tick(30)
        whisper(call)
    with get_store(app).session() as session:
        rows = session.execute(
            select(CallEventRow.step, CallEventRow.at).where(CallEventRow.call_sid == call.sid)
        ).all()
    times = {step: at for step, at in rows}
    assert (times["whisper"] - times["ask_question"]).total_seconds() == 30


# -- the Voice Fallback URL --------------------------------------------------------------------

FAILED_AT = "https://hotline.example.com/voice/step/main_menu?attempt=1"


def fallback(call: CallActions) -> TwiML:
    """Twilio asking the fallback URL after a webhook of the call failed."""
    return call.post("/voice/fallback", ErrorCode="11200", ErrorUrl=FAILED_AT)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        ("2026-11-26T07:59:59+01:00", False),
        ("2026-11-26T08:00:00+01:00", True),
        (OPEN, True),
        ("2026-11-26T20:59:59+01:00", True),
        ("2026-11-26T21:00:00+01:00", False),
        (CLOSED, False),
        ("2026-12-25T12:00:00+01:00", False),  # a closed date
    ],
)
def test_the_fallback_apologises_then_queues_while_open_else_says_goodbye(
    call: CallActions, moment: str, open_: bool
) -> None:
    with freeze_time(moment):
        answer = fallback(call)
    assert answer.status == 200
    assert answer.said.startswith("Sorry, something went wrong")
    if open_:
        assert answer.verbs == APOLOGY_THEN_AGENT
        enqueue = answer.first("Enqueue")
        assert enqueue.text == "warehouse"
        assert enqueue.attrib["waitUrl"] == "/voice/queue/wait"  # its hold music
        assert enqueue.attrib["action"] == "/voice/queue/done"
    else:
        assert answer.verbs == APOLOGY_THEN_GOODBYE
        assert "Goodbye" in answer.said


def test_the_fallback_speaks_the_numbers_language(client: FlaskClient, app: Flask) -> None:
    call = CallActions(client, to=POLISH_NUMBER)
    with freeze_time(CLOSED):
        answer = fallback(call)
    polish = app.extensions["hotline.flow"].languages["pl"].prompts
    assert answer.said == f"{polish['apology']} {polish['goodbye']}"


def test_the_fallback_logs_twilios_error_with_the_call_and_a_masked_number(
    call: CallActions, at_open: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="hotline.web.voice"):
        fallback(call)
    [line] = [r for r in caplog.records if "fallback" in r.getMessage()]
    assert line.levelno == logging.ERROR
    message = line.getMessage()
    for part in (call.sid, "+48******200", "error 11200", f"at {FAILED_AT}"):
        assert part in message
    assert "601100200" not in message


def test_the_fallback_keeps_control_characters_out_of_the_log(
    call: CallActions, at_open: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="hotline.web.voice"):
        call.post("/voice/fallback", ErrorCode="1\n2", ErrorUrl="x\r\nforged line")
    [line] = [r.getMessage() for r in caplog.records if "fallback" in r.getMessage()]
    assert "\n" not in line and "\r" not in line
    assert "error 1?2 at x??forged line" in line


def _delete(path: Path) -> None:
    path.unlink()


def _corrupt(path: Path) -> None:
    path.write_bytes(b"this is not a database\n" * 100)


def _make_unopenable(path: Path) -> None:
    path.unlink()
    path.mkdir()  # a directory where the file was: no user can open it as a database


@pytest.mark.parametrize("break_it", [_delete, _corrupt, _make_unopenable])
@pytest.mark.parametrize("moment", [OPEN, CLOSED], ids=["open", "closed"])
def test_the_fallback_works_without_the_database(
    call: CallActions, app: Flask, db_path: Path, break_it: Callable[[Path], None], moment: str
) -> None:
    engine = get_store(app).engine
    connections: list[object] = []  # every attempt to open the database, failed ones too
    # First in line: the store's own do_connect check (is the file still the one opened?)
    # refuses a replaced file before later listeners would hear of the attempt.
    event.listen(engine, "do_connect", lambda *args: connections.append(args), insert=True)
    engine.dispose()
    call.sid = "CAhealthy"
    call.start()  # the count below can fail: an ordinary webhook does open the database
    assert connections
    engine.dispose()  # no pooled connection left: any database use would have to open the file
    connections.clear()
    call.sid = "CAbroken"
    break_it(db_path)
    with freeze_time(moment):
        answer = fallback(call)
    assert answer.status == 200
    assert answer.verbs == (APOLOGY_THEN_AGENT if moment == OPEN else APOLOGY_THEN_GOODBYE)
    assert connections == []  # the database was never even opened
    if break_it is _delete:
        assert not db_path.exists()  # and SQLite was not asked to make a new one
