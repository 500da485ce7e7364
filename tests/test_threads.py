"""Message Center threads: open (idempotent per call), reply, forward, who may respond."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from hotline.errors import NotAllowed
from hotline.messages.threads import (
    BUYER_THREAD_OPENED,
    NO_QUESTION,
    forward,
    may_respond,
    open_thread,
    reference,
    reply,
    thread_as_dict,
)
from hotline.rules.routing import Party
from hotline.store.database import Store, get_store
from hotline.store.models import MessageRow, OutboxRow, ThreadRow

NOW = datetime(2026, 6, 10, 10, 30, tzinfo=UTC)
CALL_SID = "CA00000000000000000000000000000001"


@pytest.fixture
def store(app: Flask) -> Store:
    """The app's migrated store (the shipped directory is loaded)."""
    return get_store(app)


def _open(
    store: Store,
    *,
    call_sid: str | None = CALL_SID,
    party: Party = Party.SELLER,
    seller_id: str | None = "acme",
    question: str = "Does it work with USB-C?",
) -> int:
    with store.session() as session:
        thread = open_thread(
            session,
            call_sid=call_sid,
            party=party,
            seller_id=seller_id,
            order_id="1234567",
            topic="product",
            buyer_phone="+48601100200",
            question=question,
            now=NOW,
        )
        return thread.id


# The notifications of the thread's parties (not the buyer's SMS).
_TO_PARTIES = OutboxRow.kind != BUYER_THREAD_OPENED


def _count(store: Store, table: type[ThreadRow] | type[MessageRow] | type[OutboxRow]) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_open_thread_writes_thread_first_message_and_outbox(store: Store) -> None:
    thread_id = _open(store)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        assert (thread.party, thread.seller_id, thread.order_id, thread.topic) == (
            "seller",
            "acme",
            "1234567",
            "product",
        )
        assert (thread.call_sid, thread.buyer_phone, thread.status) == (
            CALL_SID,
            "+48601100200",
            "open",
        )
        assert thread.created_at == NOW
        assert [(m.author, m.kind, m.body) for m in thread.messages] == [
            ("buyer", "message", "Does it work with USB-C?")
        ]
        outbox = session.scalars(select(OutboxRow)).all()
        assert [(o.kind, o.recipient, o.thread_id, o.sent_at, o.status) for o in outbox] == [
            ("thread_opened", "acme", thread_id, None, "pending"),
            # the buyer who called is told the thread's reference by SMS
            ("buyer_thread_opened", "+48601100200", thread_id, None, "pending"),
        ]
        assert json.loads(outbox[0].payload) == {
            "thread": thread_id,
            "order": "1234567",
            "topic": "product",
        }


def test_warehouse_thread_notifies_the_warehouse(store: Store) -> None:
    _open(store, party=Party.WAREHOUSE, seller_id=None)
    with store.session() as session:
        assert session.scalars(select(OutboxRow.recipient)).all() == ["warehouse", "+48601100200"]


def test_open_thread_without_question_says_so(store: Store) -> None:
    thread_id = _open(store, question="")
    with store.session() as session:
        assert session.get_one(ThreadRow, thread_id).messages[0].body == NO_QUESTION


def test_opening_twice_for_one_call_returns_the_same_thread(store: Store) -> None:
    first = _open(store)
    second = _open(store, question="a retry of the same webhook")
    assert second == first
    assert _count(store, ThreadRow) == 1
    assert _count(store, MessageRow) == 1
    assert _count(store, OutboxRow) == 2  # the assignee's and the buyer's


def test_different_calls_open_different_threads(store: Store) -> None:
    first = _open(store, call_sid="CA1")
    second = _open(store, call_sid="CA2")
    third = _open(store, call_sid=None)
    fourth = _open(store, call_sid=None)
    assert len({first, second, third, fourth}) == 4
    assert _count(store, OutboxRow) == 6  # a buyer's SMS only for the threads opened by calls


@pytest.mark.parametrize(
    ("thread_party", "thread_seller", "party", "seller_id", "expected"),
    [
        ("seller", "acme", Party.SELLER, "acme", True),
        ("seller", "acme", Party.SELLER, "greenleaf", False),
        ("seller", "acme", Party.SELLER, None, False),
        ("seller", "acme", Party.WAREHOUSE, None, False),
        ("warehouse", "acme", Party.WAREHOUSE, None, True),
        ("warehouse", "acme", Party.SELLER, "acme", False),
        ("warehouse", None, Party.WAREHOUSE, None, True),
    ],
)
def test_may_respond(
    thread_party: str,
    thread_seller: str | None,
    party: Party,
    seller_id: str | None,
    expected: bool,
) -> None:
    thread = ThreadRow(party=thread_party, seller_id=thread_seller)
    assert may_respond(thread, party, seller_id) is expected


def test_assigned_seller_replies(store: Store) -> None:
    thread_id = _open(store)
    later = NOW + timedelta(hours=2)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        reply(
            session, thread, party=Party.SELLER, seller_id="acme", body="Yes, it does.", now=later
        )
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        assert [(m.author, m.kind, m.body, m.created_at) for m in thread.messages] == [
            ("buyer", "message", "Does it work with USB-C?", NOW),
            ("seller", "message", "Yes, it does.", later),
        ]


@pytest.mark.parametrize(
    ("party", "seller_id"),
    [(Party.WAREHOUSE, None), (Party.SELLER, "greenleaf"), (Party.SELLER, None)],
)
def test_others_may_not_reply(store: Store, party: Party, seller_id: str | None) -> None:
    thread_id = _open(store)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        with pytest.raises(NotAllowed, match=f"thread {thread_id} is assigned to the seller"):
            reply(session, thread, party=party, seller_id=seller_id, body="Hi", now=NOW)
    assert _count(store, MessageRow) == 1


def test_seller_cannot_reply_to_another_sellers_thread(store: Store) -> None:
    acme = _open(store, call_sid="CA1", seller_id="acme")
    greenleaf = _open(store, call_sid="CA2", seller_id="greenleaf")
    with store.session() as session:
        reply(
            session,
            session.get_one(ThreadRow, greenleaf),
            party=Party.SELLER,
            seller_id="greenleaf",
            body="Ours.",
            now=NOW,
        )
        with pytest.raises(NotAllowed):
            reply(
                session,
                session.get_one(ThreadRow, acme),
                party=Party.SELLER,
                seller_id="greenleaf",
                body="Not ours.",
                now=NOW,
            )


def test_forward_seller_to_warehouse_with_a_note(store: Store) -> None:
    thread_id = _open(store)
    later = NOW + timedelta(minutes=5)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        forward(
            session,
            thread,
            by=Party.SELLER,
            seller_id="acme",
            to=Party.WAREHOUSE,
            note="This is about delivery, not the product.",
            now=later,
        )
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        assert thread.party == "warehouse"
        assert thread.seller_id == "acme"
        assert [(m.author, m.kind, m.body) for m in thread.messages] == [
            ("buyer", "message", "Does it work with USB-C?"),
            ("seller", "note", "This is about delivery, not the product."),
        ]
        outbox = session.scalars(select(OutboxRow).where(_TO_PARTIES).order_by(OutboxRow.id)).all()
        assert [o.recipient for o in outbox] == ["acme", "warehouse"]
        assert outbox[1].thread_id == thread_id
        assert outbox[1].created_at == later
        assert json.loads(outbox[1].payload) == {
            "thread": thread_id,
            "note": "This is about delivery, not the product.",
        }
        with pytest.raises(NotAllowed, match="assigned to the warehouse, not to seller"):
            reply(session, thread, party=Party.SELLER, seller_id="acme", body="Hi", now=later)
        reply(session, thread, party=Party.WAREHOUSE, body="On its way.", now=later)
        assert [m.author for m in thread.messages] == ["buyer", "seller", "warehouse"]


def test_forward_back_and_forth(store: Store) -> None:
    thread_id = _open(store)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        forward(
            session,
            thread,
            by=Party.SELLER,
            seller_id="acme",
            to=Party.WAREHOUSE,
            note="yours",
            now=NOW,
        )
        forward(session, thread, by=Party.WAREHOUSE, to=Party.SELLER, note="no, yours", now=NOW)
        assert thread.party == "seller"
        assert may_respond(thread, Party.SELLER, "acme")
        assert not may_respond(thread, Party.WAREHOUSE)
    with store.session() as session:
        recipients = select(OutboxRow.recipient).where(_TO_PARTIES).order_by(OutboxRow.id)
        assert session.scalars(recipients).all() == [
            "acme",
            "warehouse",
            "acme",
        ]


def test_only_the_assignee_may_forward(store: Store) -> None:
    thread_id = _open(store)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        with pytest.raises(NotAllowed):
            forward(session, thread, by=Party.WAREHOUSE, to=Party.WAREHOUSE, note="x", now=NOW)
        with pytest.raises(NotAllowed):
            forward(
                session,
                thread,
                by=Party.SELLER,
                seller_id="greenleaf",
                to=Party.WAREHOUSE,
                note="x",
                now=NOW,
            )
        assert thread.party == "seller"
    assert _count(store, OutboxRow) == 2  # the seller's and the buyer's, no forward's


def test_cannot_forward_to_a_seller_when_there_is_none(store: Store) -> None:
    thread_id = _open(store, party=Party.WAREHOUSE, seller_id=None)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        with pytest.raises(NotAllowed, match="has no seller to forward to"):
            forward(session, thread, by=Party.WAREHOUSE, to=Party.SELLER, note="x", now=NOW)
        assert thread.party == "warehouse"


def test_thread_as_dict(store: Store) -> None:
    thread_id = _open(store)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        assert thread_as_dict(thread) == {
            "id": thread_id,
            "reference": reference(thread_id),
            "party": "seller",
            "seller": "acme",
            "order": "1234567",
            "topic": "product",
            "status": "open",
            "call_sid": CALL_SID,
            "created_at": "2026-06-10T10:30:00+00:00",
            "messages": [
                {
                    "author": "buyer",
                    "kind": "message",
                    "body": "Does it work with USB-C?",
                    "at": "2026-06-10T10:30:00+00:00",
                }
            ],
        }
    assert json.loads(json.dumps(thread_as_dict(thread)))["reference"] == reference(thread_id)


@pytest.mark.parametrize(
    ("thread_id", "expected"),
    [(1, "0001"), (42, "0042"), (999, "0999"), (1234, "1234"), (12345, "12345")],
)
def test_reference(thread_id: int, expected: str) -> None:
    assert reference(thread_id) == expected
