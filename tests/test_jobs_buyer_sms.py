"""The buyer's SMS (a thread opened from their call, a response in their thread) through the REST
stand-in, and the link in it: it opens the buyer's page (Flask's test client), a later SMS's
link works too, the secret is in no row once the row is finished, and every try of a row sends
the same text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline import create_app
from hotline.jobs.context import JobContext
from hotline.jobs.delivery import deliver_outbox
from hotline.messages import conversation
from hotline.messages.conversation import Author
from hotline.messages.threads import key_hash, open_thread
from hotline.rules.routing import Party
from hotline.store import outbox
from hotline.store.database import Store, get_store
from hotline.store.models import OutboxRow, ThreadRow
from hotline.store.outbox import LINK_SECRET
from tests.jobs_fixtures import (
    BUYER,
    MailBox,
    Messages,
    context_for,
    open_call_thread,
    smtp_server,
    twilio_messages,
)

__all__ = ["smtp_server", "twilio_messages"]  # fixtures, used by name

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LINK = re.compile(r"Read and reply: https://hotline\.example(/t/\d+/[A-Za-z0-9_-]+)$")


@pytest.fixture
def app(config: dict[str, Any]) -> Iterator[Flask]:
    """The hotline's pages on this test's database (sessions on: the buyer's page has a form)."""
    application = create_app(config)
    application.config["TESTING"] = True
    yield application
    get_store(application).engine.dispose()


@pytest.fixture
def setup(
    app: Flask, smtp_server: tuple[MailBox, int], twilio_messages: Messages
) -> tuple[FlaskClient, Store, JobContext]:
    """The buyer's browser, the app's store, a job context delivering to the real sides."""
    store = get_store(app)
    return app.test_client(), store, context_for(store, smtp_server[1])


def _link(body: str) -> str:
    found = LINK.search(body)
    assert found is not None, body
    return found.group(1)


def _answer(store: Store, thread_id: int, at: datetime, text: str = "Yes, it does.") -> None:
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        conversation.write(session, thread, Author("seller", "acme"), text, at)


def _payloads(store: Store) -> list[dict[str, object]]:
    with store.session() as session:
        return [json.loads(p) for p in session.scalars(select(OutboxRow.payload))]


def test_the_link_in_each_sms_opens_the_buyers_page(
    setup: tuple[FlaskClient, Store, JobContext], twilio_messages: Messages
) -> None:
    client, store, context = setup
    thread_id = open_call_thread(store, NOW)
    deliver_outbox(context, NOW)
    [opened] = twilio_messages.messages()
    first = _link(opened.body)
    assert first.startswith(f"/t/{thread_id}/")
    page = client.get(first)
    assert page.status_code == 200 and "Does it work with USB-C?" in page.text
    assert all(LINK_SECRET not in p for p in _payloads(store))  # sent: scrubbed

    _answer(store, thread_id, NOW + timedelta(hours=1))
    deliver_outbox(context, NOW + timedelta(hours=1))
    answered, _ = twilio_messages.messages()  # newest first
    assert answered.to == BUYER
    assert answered.body.startswith(
        f"Your question about order 1234567 has a response in thread {thread_id:04d}. "
    )
    second = _link(answered.body)
    page = client.get(second)
    assert page.status_code == 200 and "Yes, it does." in page.text
    # Only a secret's hash is kept, so a new SMS needs a new secret: the newest link works.
    assert client.get(first).status_code == 404
    assert all(LINK_SECRET not in p for p in _payloads(store))

    _answer(store, thread_id, NOW + timedelta(hours=2), "And it charges fast.")
    deliver_outbox(context, NOW + timedelta(hours=2))
    third = _link(twilio_messages.messages()[0].body)
    assert client.get(third).status_code == 200 and third != second


def test_a_thread_without_the_buyers_number_skips_the_sms_and_says_why(
    setup: tuple[FlaskClient, Store, JobContext], twilio_messages: Messages
) -> None:
    _client, store, context = setup
    with store.session() as session:
        thread = open_thread(
            session,
            call_sid="CA-withheld",
            party=Party.SELLER,
            seller_id="acme",
            order_id="1234567",
            topic="product",
            buyer_phone=None,  # a withheld number
            question="Is it in stock?",
            now=NOW,
        )
        thread_id = thread.id
        assert thread.buyer_key_hash is None  # no SMS, no link issued
    _answer(store, thread_id, NOW + timedelta(minutes=5))
    report = deliver_outbox(context, NOW + timedelta(minutes=5))
    assert twilio_messages.messages() == []
    with store.session() as session:
        row = session.scalars(select(OutboxRow).where(OutboxRow.kind == "thread_answered")).one()
        assert row.id in report.skipped and row.status == "skipped"
        assert row.last_error == f"thread {thread_id:04d} has no buyer's phone number"
        assert session.get_one(ThreadRow, thread_id).buyer_key_hash is None


def test_a_retried_sms_sends_the_same_text_with_a_working_link(
    setup: tuple[FlaskClient, Store, JobContext], twilio_messages: Messages
) -> None:
    client, store, context = setup
    thread_id = open_call_thread(store, NOW)
    deliver_outbox(context, NOW)
    _answer(store, thread_id, NOW)
    twilio_messages.refusing = True
    assert len(deliver_outbox(context, NOW).retrying) == 1
    [kept] = [p for p in _payloads(store) if LINK_SECRET in p]  # kept for the next try
    twilio_messages.refusing = False
    assert len(deliver_outbox(context, NOW + timedelta(minutes=1)).sent) == 1
    body = twilio_messages.messages()[0].body
    assert _link(body) == f"/t/{thread_id}/{kept[LINK_SECRET]}"
    assert client.get(_link(body)).status_code == 200


def test_a_sender_killed_after_issuing_the_link_sends_that_link_next_time(
    setup: tuple[FlaskClient, Store, JobContext], twilio_messages: Messages
) -> None:
    client, store, context = setup
    thread_id = open_call_thread(store, NOW)
    deliver_outbox(context, NOW)
    _answer(store, thread_id, NOW)
    with store.session() as session:
        row_id = session.scalars(
            select(OutboxRow.id).where(OutboxRow.kind == "thread_answered")
        ).one()
    timeout = timedelta(seconds=context.settings.jobs.notifications.sending_timeout_seconds)
    claim = outbox.claim(store, row_id, NOW, timeout)
    assert claim is not None
    secret = "s3cret-from-the-first-try"
    assert outbox.attach_link_secret(store, claim, secret, key_hash(secret))
    # ... and the sender dies before Twilio is asked.
    report = deliver_outbox(context, NOW + timeout)
    assert report.sent == [row_id]
    body = twilio_messages.messages()[0].body
    assert _link(body) == f"/t/{thread_id}/{secret}"
    assert client.get(_link(body)).status_code == 200
