"""The IVR's queue entries through the Twilio contract: the enqueue step writes the caller's entry,
``/voice/queue/done`` says how they left, a retried webhook writes nothing twice, and a webhook
whose entry cannot be written still answers TwiML."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import text

from hotline.store import queue_entries
from hotline.store.database import get_store
from hotline.store.queue_entries import QueueEntry
from tests.conftest import POLISH_NUMBER, CallActions, TwiML

OPEN = "2026-11-26T10:00:00+01:00"
ENTERED = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
DONE = "/voice/queue/done?step=warehouse_queue"


@pytest.fixture
def at_open() -> Iterator[None]:
    with freeze_time(OPEN):
        yield


def _entry(app: Flask, sid: str) -> QueueEntry | None:
    with get_store(app).engine.connect() as conn:
        return queue_entries.entry(conn, sid)


def _queued(call: CallActions, key: str = "2") -> TwiML:
    """Through the main menu (2) and the warehouse menu (``key``) into the queue."""
    sub_menu = call.press(call.start(), "2")
    answer = call.press(sub_menu, key)
    assert answer.first("Enqueue").text == "warehouse"
    return answer


def test_the_enqueue_step_writes_the_callers_entry_with_what_the_ivr_learnt(
    call: CallActions, app: Flask, at_open: None
) -> None:
    _queued(call)
    entry = _entry(app, call.sid)
    assert entry is not None
    assert (entry.status, entry.queue, entry.first_entered_at, entry.entered_at) == (
        "waiting",
        "warehouse",
        ENTERED,
        ENTERED,
    )
    assert (entry.from_number, entry.language, entry.topic) == (
        "+48601100200",
        "en",
        "delivery_problem",
    )


def test_a_polish_caller_asking_for_an_agent(call: CallActions, app: Flask, at_open: None) -> None:
    polish = CallActions(call.client, to=POLISH_NUMBER)
    assert polish.press(polish.start(), "0").first("Enqueue").text == "warehouse"
    entry = _entry(app, polish.sid)
    assert entry is not None
    assert (entry.language, entry.topic, entry.order_id, entry.question) == (
        "pl",
        "agent",
        None,
        None,
    )


def test_a_product_caller_whose_menus_ran_out_brings_the_order_and_seller(
    call: CallActions, app: Flask, at_open: None
) -> None:
    # Caller ID found the order; the caller never confirmed it nor typed one: an agent (open).
    answer = call.press(call.start(), "1")
    for _ in range(10):
        if answer.all("Enqueue"):
            break
        answer = call.silence(answer)
    assert answer.first("Enqueue").text == "warehouse"
    entry = _entry(app, call.sid)
    assert entry is not None
    assert (entry.topic, entry.order_id, entry.seller_id) == ("product", "1234567", "acme")


def test_a_retried_enqueue_webhook_writes_nothing_twice(
    call: CallActions, app: Flask, at_open: None
) -> None:
    sub_menu = call.press(call.start(), "2")
    first = call.press(sub_menu, "1")
    with freeze_time("2026-11-26T10:00:05+01:00"):
        retry = call.press(sub_menu, "1")  # Twilio retries the same request
    assert retry.verbs == first.verbs
    with get_store(app).engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM queue_entries")).scalar()
    assert count == 1
    entry = _entry(app, call.sid)
    assert entry is not None and entry.entered_at == ENTERED


@pytest.mark.parametrize(
    ("result", "status", "verbs"),
    [
        ("hangup", "left", ["Hangup"]),
        ("leave", "left", ["Say", "Hangup"]),
        ("queue-full", "left", ["Say", "Hangup"]),
        ("system-error", "left", ["Say", "Hangup"]),
        ("error", "left", ["Say", "Hangup"]),
        ("", "left", ["Say", "Hangup"]),  # no QueueResult: taken as an error
        ("bridged", "taken", ["Hangup"]),
        # An agent's <Dial><Queue> is connecting them: nothing said, nothing ended.
        ("bridging-in-process", "taken", []),
        # Moved out by the REST API: Twilio ignores this answer, so it says nothing.
        ("redirected", "left", []),
        ("redirected-from-bridged", "left", []),
    ],
)
def test_queue_done_says_how_the_caller_left_once(
    call: CallActions, app: Flask, at_open: None, result: str, status: str, verbs: list[str]
) -> None:
    _queued(call)
    with freeze_time("2026-11-26T10:02:00+01:00"):
        answer = call.post(DONE, QueueResult=result, QueueTime="120")
        retry = call.post(DONE, QueueResult=result, QueueTime="120")
    assert answer.status == 200 and answer.verbs == verbs
    assert retry.verbs == verbs
    entry = _entry(app, call.sid)
    assert entry is not None
    assert (entry.status, entry.result) == (status, result or "error")
    if status == "left":
        assert entry.left_at == datetime(2026, 11, 26, 9, 2, tzinfo=UTC)


def test_a_claimed_caller_moved_out_by_rest_stays_with_the_claim(
    call: CallActions, app: Flask, at_open: None
) -> None:
    _queued(call)
    with get_store(app).engine.begin() as conn:
        claim = queue_entries.claim(conn, call.sid, "demo", datetime.now(UTC))
    assert claim is not None
    answer = call.post(DONE, QueueResult="redirected", QueueTime="30")
    assert answer.verbs == []
    entry = _entry(app, call.sid)
    assert entry is not None and (entry.status, entry.taken_by) == ("ringing", "demo")


def test_queue_done_of_a_caller_without_an_entry(
    call: CallActions, app: Flask, at_open: None
) -> None:
    # Queued by the apology (a failed webhook), with no step and no entry.
    call.start()
    answer = call.post("/voice/queue/done", QueueResult="hangup", QueueTime="5")
    assert answer.verbs == ["Hangup"]
    assert _entry(app, call.sid) is None


def test_an_entry_that_cannot_be_written_still_gets_the_caller_an_answer(
    call: CallActions, app: Flask, at_open: None
) -> None:
    with get_store(app).engine.begin() as conn:
        conn.execute(text("DROP TABLE queue_entries"))
    sub_menu = call.press(call.start(), "2")
    answer = call.press(sub_menu, "1")
    assert answer.status == 200
    assert answer.verbs == ["Say", "Enqueue"]  # the apology, then the queue (open)
    assert "sorry" in answer.said.lower()
    done = call.post(DONE, QueueResult="hangup", QueueTime="5")
    assert done.status == 200
