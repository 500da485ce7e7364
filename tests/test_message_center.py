"""The Message Center's services on a real store: opening a buyer's message or Discussion
(routing, the system message, the 24 h mark, the buyer's link), the combined-order delivery
Discussion, outbox rows written once, who sees what, and the message times the metrics load."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hotline.config.settings import Settings, load_settings
from hotline.errors import Invalid, NotAllowed
from hotline.messages import outbox
from hotline.messages.activity import MessageTime, load_activity
from hotline.messages.conversation import Author, write
from hotline.messages.forwarding import forward
from hotline.messages.threads import buyer_key_ok, issue_buyer_key, open_conversation
from hotline.messages.visibility import Viewer, thread_query
from hotline.store.database import Store, sync_directory
from hotline.store.models import MessageRow, OutboxRow, ThreadRow
from tests.conftest import ROOT

NOW = datetime(2026, 6, 10, 10, 30, tzinfo=UTC)
OPERATOR = Viewer("operator")
ACME = Viewer("seller", "acme")
GREENLEAF = Viewer("seller", "greenleaf")
WAREHOUSE = Viewer("warehouse", "demo")


@pytest.fixture
def store(any_store: Store) -> Store:
    """A migrated store on SQLite, then PostgreSQL, with the shipped directory loaded."""
    sync_directory(any_store, load_settings(ROOT / "config.toml"))
    return any_store


@pytest.fixture(scope="module")
def settings() -> Settings:
    """The shipped configuration."""
    return load_settings(ROOT / "config.toml")


def _open(store: Store, settings: Settings, order: str = "1234567", **kwargs: str) -> int:
    by_id = {o.id: o for o in settings.orders}
    with store.session() as session:
        opened = open_conversation(
            session, settings.routing, by_id[order], text="Help, please.", now=NOW, **kwargs
        )
        return opened.thread.id


def _counts(store: Store) -> tuple[int, int, int]:
    with store.session() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(t)) or 0
            for t in (ThreadRow, MessageRow, OutboxRow)
        )


def test_a_message_goes_to_the_topics_party_with_the_buyers_text_first(
    store: Store, settings: Settings
) -> None:
    thread_id = _open(store, settings, topic="order_change")
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        assert (thread.kind, thread.party, thread.seller_id, thread.topic, thread.reason) == (
            "message",
            "warehouse",
            "acme",  # the order's seller, whoever answers: it counts for them
            "order_change",
            None,
        )
        assert thread.due_at == NOW + timedelta(hours=24)
        assert [(m.author, m.body) for m in thread.messages] == [("buyer", "Help, please.")]
        rows = session.scalars(select(OutboxRow)).all()
        assert [(o.kind, o.recipient, o.message_id) for o in rows] == [
            ("thread_opened", "warehouse", thread.messages[0].id)
        ]


def test_a_discussion_starts_with_a_system_message_naming_reason_and_product(
    store: Store, settings: Settings
) -> None:
    thread_id = _open(store, settings, reason="defect_during_use", product="USB-C cable")
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        assert (thread.kind, thread.party, thread.reason) == (
            "discussion",
            "seller",
            "defect_during_use",
        )
        assert [(m.author, m.body) for m in thread.messages] == [
            ("system", "Discussion opened: defect during use. Product: USB-C cable."),
            ("buyer", "Help, please."),
        ]
        [row] = session.scalars(select(OutboxRow)).all()
        assert (row.kind, row.recipient) == ("discussion_opened", "acme")


def test_the_buyers_link_opens_only_their_thread(store: Store, settings: Settings) -> None:
    order = next(o for o in settings.orders if o.id == "1234567")
    with store.session() as session:
        opened = open_conversation(
            session, settings.routing, order, text="Hi", now=NOW, topic="lower_price"
        )
        other = open_conversation(
            session, settings.routing, order, text="Hi", now=NOW, topic="lower_price"
        )
        secret = opened.buyer_secret
        assert opened.buyer_link == f"/t/{opened.thread.id}/{secret}"
        assert buyer_key_ok(opened.thread, secret)
        assert not buyer_key_ok(other.thread, secret)
        assert not buyer_key_ok(opened.thread, secret + "x")
        assert not buyer_key_ok(opened.thread, "")
        renewed = issue_buyer_key(session, opened.thread)
        assert buyer_key_ok(opened.thread, renewed) and not buyer_key_ok(opened.thread, secret)


def test_a_combined_orders_delivery_discussion_is_the_warehouses_alone(
    store: Store, settings: Settings
) -> None:
    thread_id = _open(store, settings, order="6789012", reason="not_received")
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        assert (thread.party, thread.seller_id, thread.combined) == ("warehouse", None, True)
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
        assert [(o.kind, o.recipient) for o in rows] == [
            ("discussion_opened", "warehouse"),
            ("discussion_opened_elsewhere", "acme"),
            ("discussion_opened_elsewhere", "greenleaf"),
        ]
        # Each seller is told only that one was opened on their order, not what it says.
        assert json.loads(rows[1].payload) == {"order": "6789012", "reason": "not_received"}
        for seller in (ACME, GREENLEAF):
            assert not seller.sees(thread)
            assert session.scalars(thread_query(seller)).all() == []
        assert WAREHOUSE.sees(thread) and OPERATOR.sees(thread)
        # It cannot be forwarded to a seller either.
        with pytest.raises(NotAllowed, match="no seller to forward to"):
            forward(session, thread, Author("warehouse", "demo"), "seller", "yours?", NOW)


@pytest.mark.parametrize(
    ("order", "seller", "told"),
    [
        ("1234567", None, [("discussion_opened", "acme")]),  # the order's seller follows it
        ("6789012", "greenleaf", [("discussion_opened", "greenleaf")]),  # the one named
        (  # about none of the sellers' items in particular: each is told, no more
            "6789012",
            None,
            [("discussion_opened_elsewhere", "acme"), ("discussion_opened_elsewhere", "greenleaf")],
        ),
    ],
)
def test_the_sellers_are_told_of_a_discussion_the_warehouse_answers(
    store: Store, settings: Settings, order: str, seller: str | None, told: list[tuple[str, str]]
) -> None:
    """Sellers are told of a Discussion on their order whoever it is assigned to."""
    _open(store, settings, order=order, reason="no_refund_after_return", seller=seller)
    with store.session() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
        assert [(o.kind, o.recipient) for o in rows] == [("discussion_opened", "warehouse"), *told]


def test_a_combined_orders_seller_thread_names_its_seller(store: Store, settings: Settings) -> None:
    before = _counts(store)
    with pytest.raises(Invalid, match=r'say which in "seller" \(acme, greenleaf\)'):
        _open(store, settings, order="6789012", topic="product_details")
    assert _counts(store) == before
    thread_id = _open(store, settings, order="6789012", topic="product_details", seller="greenleaf")
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        assert (thread.party, thread.seller_id, thread.combined) == ("seller", "greenleaf", True)
        assert GREENLEAF.sees(thread) and not ACME.sees(thread)


def test_outbox_rows_are_written_once(store: Store) -> None:
    with store.session() as session:
        thread = ThreadRow(party="seller", seller_id="acme", created_at=NOW)
        session.add(thread)
        session.flush()
        for _ in range(2):
            outbox.notify(
                session,
                kind=outbox.THREAD_OPENED,
                recipient="acme",
                thread_id=thread.id,
                message_id=None,
                payload={},
                now=NOW,
            )
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 1


@pytest.mark.parametrize(
    ("viewer", "role", "expected"),
    [
        (OPERATOR, "buyer", Author("buyer")),
        (OPERATOR, "seller", Author("seller", "acme")),
        (OPERATOR, "warehouse", Author("warehouse")),
        (ACME, "seller", Author("seller", "acme")),
        (ACME, None, Author("seller", "acme")),
        (WAREHOUSE, "warehouse", Author("warehouse", "demo")),
        (WAREHOUSE, None, Author("warehouse", "demo")),
        (ACME, "buyer", None),
        (ACME, "warehouse", None),
        (WAREHOUSE, "seller", None),
        (WAREHOUSE, "buyer", None),
        (OPERATOR, "system", None),
        (OPERATOR, None, None),
    ],
)
def test_who_writes_as_whom(viewer: Viewer, role: str | None, expected: Author | None) -> None:
    thread = ThreadRow(party="seller", seller_id="acme")
    if expected is None:
        with pytest.raises(NotAllowed):
            viewer.author(role, thread)
    else:
        assert viewer.author(role, thread) == expected


def test_thread_query_filters(store: Store, settings: Settings) -> None:
    seller_thread = _open(store, settings, topic="lower_price")
    warehouse_thread = _open(store, settings, order="4567890", topic="order_change")
    with store.session() as session:
        write(
            session, session.get_one(ThreadRow, seller_thread), Author("seller", "acme"), "Ok", NOW
        )

        def ids(viewer: Viewer, **filters: object) -> list[int]:
            return [t.id for t in session.scalars(thread_query(viewer, **filters))]  # type: ignore[arg-type]

        assert ids(OPERATOR) == [warehouse_thread, seller_thread]
        assert ids(WAREHOUSE) == [warehouse_thread, seller_thread]
        assert ids(ACME) == [seller_thread]
        assert ids(GREENLEAF) == [warehouse_thread]  # follows it, read-only
        assert ids(OPERATOR, unanswered=True) == [warehouse_thread]
        assert ids(OPERATOR, unanswered=False) == [seller_thread]
        assert ids(OPERATOR, assigned="seller") == [seller_thread]
        assert ids(OPERATOR, seller="greenleaf") == [warehouse_thread]
        assert ids(ACME, seller="greenleaf") == []
        assert ids(Viewer("buyer", thread_id=seller_thread)) == [seller_thread]


def test_load_activity_gives_the_metrics_every_message_time(
    store: Store, settings: Settings
) -> None:
    thread_id = _open(store, settings, topic="lower_price")
    later = NOW + timedelta(hours=3)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        forward(session, thread, Author("seller", "acme"), "warehouse", "yours", NOW)
        write(session, thread, Author("warehouse", "demo"), "Done.", later)
    _open(store, settings, order="4567890", topic="lower_price")  # greenleaf's
    with store.session() as session:
        [found] = load_activity(session, seller_id="acme", since=NOW, until=NOW + timedelta(days=1))
        assert (found.id, found.kind, found.assigned, found.seller_id) == (
            thread_id,
            "message",
            "warehouse",
            "acme",
        )
        assert found.messages == (
            MessageTime("buyer", "message", NOW),
            MessageTime("seller", "note", NOW),
            MessageTime("warehouse", "message", later),
        )
        assert [t.id for t in load_activity(session, warehouse=True, since=NOW, until=later)] == [
            thread_id
        ]
        # The buyer's message must be in [since, until): until is exclusive.
        assert load_activity(session, seller_id="acme", since=NOW - timedelta(1), until=NOW) == []
        with pytest.raises(ValueError):
            load_activity(session, since=NOW, until=later)
