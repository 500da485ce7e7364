"""The demo's Message Center threads (``hotline demo seed``, which ``make run`` runs): the demo
seller's threads in each state the pages show, timed back from now.

- answered in time: the buyer asked 3 days ago, the seller answered 2 hours later;
- answered late: asked 2 days ago, answered 30 hours later;
- an unanswered Discussion, opened 5 hours ago (19 hours left before its 24 h mark);
- one forwarded to the warehouse with a note an hour after it was asked, 26 hours ago, not
  answered yet (overdue).

Idempotent: a demo thread is written only when its order has no thread whose buyer's first
message is the demo's, so every start of ``make run`` finds the same four.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config.settings import Settings
from hotline.errors import ConfigError
from hotline.messages import conversation, forwarding
from hotline.messages.conversation import BUYER, MESSAGE, SELLER, Author
from hotline.messages.threads import Opened, open_conversation
from hotline.store.models import MessageRow, ThreadRow

DEMO_SELLER = "acme"


@dataclass(frozen=True)
class _DemoThread:
    order: str
    text: str
    asked_hours_ago: float
    topic: str | None = None
    reason: str | None = None
    answer: str | None = None
    answered_after_hours: float = 0
    forward_note: str | None = None
    forwarded_after_hours: float = 0


DEMO_THREADS = (
    _DemoThread(
        order="1234567",
        topic="product_details",
        text="Does the headset work with a PlayStation 5?",
        asked_hours_ago=72,
        answer="Yes: plug it into the controller's jack, no adapter needed.",
        answered_after_hours=2,
    ),
    _DemoThread(
        order="3456789",
        topic="proof_of_purchase",
        text="Could I have a VAT invoice for this order, please?",
        asked_hours_ago=48,
        answer="Sorry for the wait: the invoice is attached to your order page now.",
        answered_after_hours=30,
    ),
    _DemoThread(
        order="1234567",
        reason="defect_during_use",
        text="The left earpiece went silent after a week of use.",
        asked_hours_ago=5,
    ),
    _DemoThread(
        order="3456789",
        topic="product_details",
        text="When will my order leave the warehouse?",
        asked_hours_ago=26,
        forward_note="A dispatch question: the warehouse knows when it leaves.",
        forwarded_after_hours=1,
    ),
)


def seed_demo(session: Session, settings: Settings, now: datetime) -> list[Opened]:
    """Write the demo threads missing from the store; the ones written, with their links."""
    orders = {order.id: order for order in settings.orders}
    written = []
    for demo in DEMO_THREADS:
        order = orders.get(demo.order)
        if order is None or order.seller != DEMO_SELLER:
            raise ConfigError(
                f"{settings.source}: the demo needs order {demo.order} of seller {DEMO_SELLER}"
            )
        if _seeded(session, demo):
            continue
        asked = now - timedelta(hours=demo.asked_hours_ago)
        opened = open_conversation(
            session,
            settings.routing,
            order,
            text=demo.text,
            now=asked,
            topic=demo.topic,
            reason=demo.reason,
        )
        thread = opened.thread
        if demo.answer is not None:
            at = asked + timedelta(hours=demo.answered_after_hours)
            conversation.write(session, thread, Author(SELLER, thread.seller_id), demo.answer, at)
        if demo.forward_note is not None:
            at = asked + timedelta(hours=demo.forwarded_after_hours)
            by = Author(SELLER, thread.seller_id)
            forwarding.forward(session, thread, by, "warehouse", demo.forward_note, at)
        written.append(opened)
    return written


def _seeded(session: Session, demo: _DemoThread) -> bool:
    """Whether the order already has a thread opened with the demo's buyer message."""
    found = select(ThreadRow.id).where(
        ThreadRow.order_id == demo.order,
        ThreadRow.messages.any(
            (MessageRow.author == BUYER)
            & (MessageRow.kind == MESSAGE)
            & (MessageRow.body == demo.text)
        ),
    )
    return session.scalar(found.limit(1)) is not None
