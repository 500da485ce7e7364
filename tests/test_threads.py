"""Message Center threads: open from a call (idempotent per call), write (the one-party rule),
forward with a note and back, the thread as the API shows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hotline.config.settings import load_settings
from hotline.errors import Invalid, NotAllowed
from hotline.messages.conversation import Author, may_respond, write
from hotline.messages.forwarding import forward
from hotline.messages.outbox import BUYER_THREAD_OPENED
from hotline.messages.threads import NO_QUESTION, open_thread, reference, thread_as_dict
from hotline.rules.routing import Party
from hotline.store.database import Store, sync_directory
from hotline.store.models import MessageRow, OutboxRow, ThreadRow
from tests.conftest import ROOT

NOW = datetime(2026, 6, 10, 10, 30, tzinfo=UTC)
CALL_SID = "CA00000000000000000000000000000001"


@pytest.fixture
def store(any_store: Store) -> Store:
    """A migrated store on SQLite, then PostgreSQL, with the shipped directory loaded."""
    sync_directory(any_store, load_settings(ROOT / "config.toml"))
    return any_store


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
            topic="product_details",
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
            "product_details",
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
            "topic": "product_details",
        }


def test_warehouse_thread_notifies_the_warehouse(store: Store) -> None:
    _open(store, party=Party.WAREHOUSE, seller_id=None)
    with store.session() as session:
        recipients = session.scalars(select(OutboxRow.recipient).order_by(OutboxRow.id)).all()
        assert recipients == ["warehouse", "+48601100200"]


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
    ("thread_party", "thread_seller", "role", "seller_id", "expected"),
    [
        ("seller", "acme", "seller", "acme", True),
        ("seller", "acme", "seller", "greenleaf", False),
        ("seller", "acme", "seller", None, False),
        ("seller", "acme", "warehouse", None, False),
        ("warehouse", "acme", "warehouse", None, True),
        ("warehouse", "acme", "seller", "acme", False),
        ("warehouse", None, "warehouse", None, True),
        ("seller", None, "seller", None, False),
    ],
)
def test_may_respond(
    thread_party: str,
    thread_seller: str | None,
    role: str,
    seller_id: str | None,
    expected: bool,
) -> None:
    thread = ThreadRow(party=thread_party, seller_id=thread_seller)
    assert may_respond(thread, role, seller_id) is expected


def test_assigned_seller_replies(store: Store) -> None:
    thread_id = _open(store)
    later = NOW + timedelta(hours=2)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        write(session, thread, Author("seller", "acme"), "Yes, it does.", later)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        assert [(m.author, m.author_id, m.kind, m.body, m.created_at) for m in thread.messages] == [
            ("buyer", None, "message", "Does it work with USB-C?", NOW),
            ("seller", "acme", "message", "Yes, it does.", later),
        ]
        kinds = session.scalars(select(OutboxRow.kind).order_by(OutboxRow.id)).all()
        assert kinds == ["thread_opened", "buyer_thread_opened", "thread_answered"]


@pytest.mark.parametrize(
    "author",
    [Author("warehouse", "demo"), Author("seller", "greenleaf"), Author("seller", None)],
)
def test_others_may_not_reply(store: Store, author: Author) -> None:
    thread_id = _open(store)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        with pytest.raises(NotAllowed, match=f"thread {thread_id} "):
            write(session, thread, author, "Hi", NOW)
    assert _count(store, MessageRow) == 1
    assert _count(store, OutboxRow) == 2  # the seller's and the buyer's, nothing of the refusal


def test_the_buyer_may_always_write(store: Store) -> None:
    thread_id = _open(store)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        write(session, thread, Author("buyer"), "Any news?", NOW)
        outbox = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
        assert [(o.kind, o.recipient) for o in outbox][-1] == ("buyer_replied", "acme")


@pytest.mark.parametrize(
    ("text", "error"),
    [("", "non-empty"), ("   ", "non-empty"), ("x" * 2001, "2001 characters"), ("a\x00b", "NUL")],
)
def test_bad_text_is_refused(store: Store, text: str, error: str) -> None:
    thread_id = _open(store)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        with pytest.raises(Invalid, match=error):
            write(session, thread, Author("buyer"), text, NOW)
        write(session, thread, Author("buyer"), "x" * 2000, NOW)  # the longest allowed


def test_seller_cannot_reply_to_another_sellers_thread(store: Store) -> None:
    acme = _open(store, call_sid="CA1", seller_id="acme")
    greenleaf = _open(store, call_sid="CA2", seller_id="greenleaf")
    with store.session() as session:
        write(
            session,
            session.get_one(ThreadRow, greenleaf),
            Author("seller", "greenleaf"),
            "Ours.",
            NOW,
        )
        with pytest.raises(NotAllowed):
            write(
                session, session.get_one(ThreadRow, acme), Author("seller", "greenleaf"), "No.", NOW
            )


def test_forward_seller_to_warehouse_with_a_note(store: Store) -> None:
    thread_id = _open(store)
    later = NOW + timedelta(minutes=5)
    note = "This is about delivery, not the product."
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        forward(session, thread, Author("seller", "acme"), "warehouse", note, later)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        assert thread.party == "warehouse"
        assert thread.seller_id == "acme"
        assert [(m.author, m.kind, m.body) for m in thread.messages] == [
            ("buyer", "message", "Does it work with USB-C?"),
            ("seller", "note", note),
        ]
        outbox = session.scalars(select(OutboxRow).where(_TO_PARTIES).order_by(OutboxRow.id)).all()
        assert [(o.kind, o.recipient) for o in outbox] == [
            ("thread_opened", "acme"),
            ("thread_forwarded", "warehouse"),
        ]
        assert outbox[1].thread_id == thread_id
        assert outbox[1].message_id == thread.messages[1].id
        assert outbox[1].created_at == later
        assert json.loads(outbox[1].payload) == {
            "thread": thread_id,
            "order": "1234567",
            "from": "seller",
            "note": note,
        }
        with pytest.raises(NotAllowed, match="assigned to the warehouse, not to the seller"):
            write(session, thread, Author("seller", "acme"), "Hi", later)
        write(session, thread, Author("warehouse", "demo"), "On its way.", later)
        assert [m.author for m in thread.messages] == ["buyer", "seller", "warehouse"]


def test_forward_back_and_forth(store: Store) -> None:
    thread_id = _open(store)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        due = thread.due_at
        forward(session, thread, Author("seller", "acme"), "warehouse", "yours", NOW)
        forward(session, thread, Author("warehouse", "demo"), "seller", "no, yours", NOW)
        assert thread.party == "seller"
        assert thread.due_at == due  # the clock is not reset
        assert may_respond(thread, "seller", "acme")
        assert not may_respond(thread, "warehouse")
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
            forward(session, thread, Author("warehouse", "demo"), "seller", "x", NOW)
        with pytest.raises(NotAllowed):
            forward(session, thread, Author("seller", "greenleaf"), "warehouse", "x", NOW)
        with pytest.raises(NotAllowed, match="already assigned to the seller"):
            forward(session, thread, Author("seller", "acme"), "seller", "x", NOW)
        with pytest.raises(NotAllowed):
            forward(session, thread, Author("buyer"), "warehouse", "x", NOW)
        with pytest.raises(Invalid, match='"to" must be'):
            forward(session, thread, Author("seller", "acme"), "buyer", "x", NOW)
        assert thread.party == "seller"
    assert _count(store, OutboxRow) == 2  # the seller's and the buyer's, no forward's
    assert _count(store, MessageRow) == 1


def test_cannot_forward_to_a_seller_when_there_is_none(store: Store) -> None:
    thread_id = _open(store, party=Party.WAREHOUSE, seller_id=None)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        with pytest.raises(NotAllowed, match="has no seller to forward to"):
            forward(session, thread, Author("warehouse", "demo"), "seller", "x", NOW)
        assert thread.party == "warehouse"


def test_thread_as_dict(store: Store) -> None:
    thread_id = _open(store)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        assert thread_as_dict(thread) == {
            "id": thread_id,
            "reference": reference(thread_id),
            "kind": "message",
            "topic": "product_details",
            "reason": None,
            "assigned": "seller",
            "party": "seller",
            "seller": "acme",
            "order": "1234567",
            "combined": False,
            "status": "open",
            "call_sid": CALL_SID,
            "created_at": "2026-06-10T10:30:00+00:00",
            "due_at": "2026-06-11T10:30:00+00:00",
            "unanswered": True,
            "overdue": False,
            "overdue_at": None,
            "messages": [
                {
                    "id": thread.messages[0].id,
                    "author": "buyer",
                    "author_id": None,
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
