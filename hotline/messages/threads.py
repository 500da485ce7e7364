"""Opening Message Center threads: from a call (the IVR, an agent's transfer) or from a buyer
through the API (a message with a topic, or a Discussion with a reason), and showing them.

Opening from a call is idempotent per call: a Twilio retry of the same webhook (or a second visit
to the step) finds the thread the call already opened instead of writing a second one. A thread
from a call is an ordinary thread: the buyer's spoken question is the buyer's first message, the
call's summary a system message after it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.config.message_center import MessageCenter
from hotline.config.settings import Order
from hotline.errors import Invalid
from hotline.messages import outbox
from hotline.messages.conversation import (
    BUYER,
    MESSAGE,
    NOTE,
    SELLER,
    SYSTEM,
    WAREHOUSE,
    assignee_recipient,
    check_text,
)
from hotline.messages.routes import route
from hotline.rules.routing import Party
from hotline.store.models import MessageRow, ThreadRow

NO_QUESTION = "(the buyer left no question in words)"
PRODUCT_MAX = 200
RESPONSE_HOURS = 24  # the default 24 h mark (config: message_center.response_hours)


def open_thread(
    session: Session,
    *,
    call_sid: str | None,
    party: Party,
    seller_id: str | None,
    order_id: str | None,
    topic: str | None,
    buyer_phone: str | None,
    question: str,
    now: datetime,
    summary: str | None = None,
    response_hours: int = RESPONSE_HOURS,
) -> ThreadRow:
    """Open a thread holding ``question`` (then ``summary`` as a system message) for ``party``
    and queue its notifications in the outbox: one for the assignee and, for a thread opened
    from a call, an SMS to the buyer. ``topic`` is a message-topic code.

    Returns the existing thread when the call already opened one.
    """
    if call_sid is not None:
        existing = session.scalar(select(ThreadRow).where(ThreadRow.call_sid == call_sid))
        if existing is not None:
            return existing
    try:
        with session.begin_nested():
            thread = ThreadRow(
                call_sid=call_sid,
                kind="message",
                party=party.value,
                seller_id=seller_id,
                order_id=order_id,
                topic=topic,
                buyer_phone=buyer_phone,
                status="open",
                created_at=now,
                due_at=now + timedelta(hours=response_hours),
                combined=False,
            )
            first = MessageRow(
                author=BUYER, kind=MESSAGE, body=question or NO_QUESTION, created_at=now
            )
            thread.messages.append(first)
            if summary:
                thread.messages.append(
                    MessageRow(author=SYSTEM, kind=MESSAGE, body=summary, created_at=now)
                )
            session.add(thread)
            session.flush()
            outbox.notify(
                session,
                kind=outbox.THREAD_OPENED,
                recipient=assignee_recipient(thread),
                thread_id=thread.id,
                message_id=first.id,
                payload={"thread": thread.id, "order": order_id, "topic": topic},
                now=now,
            )
            if call_sid is not None and buyer_phone:
                # The buyer who called gets the thread's reference and link by SMS (hotline.jobs):
                # the link's secret waits in the row until it is sent, then only its hash is kept.
                secret = issue_buyer_key(session, thread)
                outbox.notify(
                    session,
                    kind=outbox.BUYER_THREAD_OPENED,
                    recipient=buyer_phone,
                    thread_id=thread.id,
                    message_id=first.id,
                    payload={"thread": thread.id, "order": order_id, outbox.LINK_SECRET: secret},
                    now=now,
                )
            session.flush()
    except IntegrityError:
        # Another worker handled a retry of the same webhook at the same moment.
        existing = session.scalar(select(ThreadRow).where(ThreadRow.call_sid == call_sid))
        if existing is None:
            raise
        return existing
    return thread


@dataclass(frozen=True)
class Opened:
    """A thread opened for a buyer, and the secret of the buyer's link (shown this once)."""

    thread: ThreadRow
    buyer_secret: str

    @property
    def buyer_link(self) -> str:
        """The path of the buyer's page for this thread."""
        return buyer_link(self.thread.id, self.buyer_secret)


def open_conversation(
    session: Session,
    routing: MessageCenter,
    order: Order,
    *,
    text: str,
    now: datetime,
    topic: str | None = None,
    reason: str | None = None,
    seller: str | None = None,
    product: str | None = None,
) -> Opened:
    """Open the buyer's thread about ``order``: a message with ``topic`` or a Discussion with
    ``reason``, routed by the operator's table; ``text`` is the buyer's first message.

    A Discussion starts with a system message stating the reason and the product. ``Invalid``
    (nothing written) for an unknown code, a missing or foreign seller, or bad text.
    """
    found = route(routing, order, topic=topic, reason=reason, seller=seller)
    text = check_text(text)
    if product is not None and (
        not isinstance(product, str) or not product.strip() or len(product) > PRODUCT_MAX
    ):
        raise Invalid(f'"product" must be a non-empty string of at most {PRODUCT_MAX} characters')
    if product is not None:
        check_text(product, "product")
    secret = secrets.token_urlsafe(24)
    thread = ThreadRow(
        kind=found.kind,
        reason=reason,
        party=found.party.value,
        seller_id=found.seller_id,
        order_id=order.id,
        topic=topic,
        buyer_phone=order.buyer_phone,
        status="open",
        created_at=now,
        due_at=now + timedelta(hours=routing.response_hours),
        buyer_key_hash=key_hash(secret),
        combined=found.combined,
    )
    if reason is not None:
        about = product or f"the items of order {order.id}"
        opening = f"Discussion opened: {reason.replace('_', ' ')}. Product: {about}."
        thread.messages.append(
            MessageRow(author=SYSTEM, kind=MESSAGE, body=opening, created_at=now)
        )
    first = MessageRow(author=BUYER, kind=MESSAGE, body=text, created_at=now)
    thread.messages.append(first)
    session.add(thread)
    session.flush()
    kind = outbox.DISCUSSION_OPENED if reason is not None else outbox.THREAD_OPENED
    outbox.notify(
        session,
        kind=kind,
        recipient=assignee_recipient(thread),
        thread_id=thread.id,
        message_id=first.id,
        payload={"thread": thread.id, "order": order.id, "topic": topic, "reason": reason},
        now=now,
    )
    if reason is not None and thread.party == Party.WAREHOUSE.value and thread.seller_id:
        # The seller of the order is told of every Discussion on it, whoever answers it: this
        # one they follow read-only.
        outbox.notify(
            session,
            kind=kind,
            recipient=thread.seller_id,
            thread_id=thread.id,
            message_id=first.id,
            payload={"thread": thread.id, "order": order.id, "topic": topic, "reason": reason},
            now=now,
        )
    for told in found.told:
        # Told only that a Discussion was opened on their order: not which, nor what it says.
        outbox.notify(
            session,
            kind=outbox.DISCUSSION_OPENED_ELSEWHERE,
            recipient=told,
            thread_id=thread.id,
            message_id=first.id,
            payload={"order": order.id, "reason": reason},
            now=now,
        )
    return Opened(thread, secret)


def key_hash(secret: str) -> str:
    """The SHA-256 (hex) of a buyer's link secret, as the store keeps it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def buyer_link(thread_id: int, secret: str) -> str:
    """The path of the buyer's page for a thread."""
    return f"/t/{thread_id}/{secret}"


# A buyer's link inside a log line's text (a request line, a Referer, a query string that may
# percent-encode its slashes): group 1 is all of it up to the secret.
_LINK_IN_TEXT = re.compile(r"((?:/|%2[Ff])t(?:/|%2[Ff])\d+(?:/|%2[Ff]))[^/?#&\s\"']+")


def without_link_secrets(text: str) -> str:
    """``text`` with the secret of every buyer's link in it replaced by "…" (for log lines)."""
    if "t/" not in text and "%2" not in text:  # the common case, without the regex
        return text
    return _LINK_IN_TEXT.sub("\\1…", text)


def buyer_key_ok(thread: ThreadRow, secret: str) -> bool:
    """Whether ``secret`` is the buyer's link secret of ``thread`` (constant time)."""
    if thread.buyer_key_hash is None or not secret:
        return False
    try:
        offered = key_hash(secret).encode()
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(offered, thread.buyer_key_hash.encode())


def issue_buyer_key(session: Session, thread: ThreadRow) -> str:
    """A new link secret for the buyer of ``thread`` (any earlier link stops working)."""
    secret = secrets.token_urlsafe(24)
    thread.buyer_key_hash = key_hash(secret)
    session.flush()
    return secret


def unanswered(thread: ThreadRow) -> bool:
    """Whether the buyer's latest message has had no response by the seller or warehouse yet."""
    waiting = False
    for message in thread.messages:
        if message.kind != MESSAGE:
            continue
        if message.author == BUYER:
            waiting = True
        elif message.author in (SELLER, WAREHOUSE):
            waiting = False
    return waiting


def thread_as_dict(thread: ThreadRow, *, for_buyer: bool = False) -> dict[str, object]:
    """A thread as the JSON API shows it (``for_buyer``: without the forwards' notes)."""
    return {
        "id": thread.id,
        "reference": reference(thread.id),
        "kind": thread.kind,
        "topic": thread.topic,
        "reason": thread.reason,
        "assigned": thread.party,
        "party": thread.party,  # the name before the Message Center; kept for old clients
        "seller": thread.seller_id,
        "order": thread.order_id,
        "combined": thread.combined,
        "status": thread.status,
        "call_sid": thread.call_sid,
        "created_at": thread.created_at.isoformat(),
        "due_at": thread.due_at.isoformat() if thread.due_at else None,
        "unanswered": unanswered(thread),
        # The 24 h mark passed unanswered, as the scheduler marked it (kept once answered).
        "overdue": thread.overdue_at is not None,
        "overdue_at": thread.overdue_at.isoformat() if thread.overdue_at else None,
        "messages": [
            {
                "id": m.id,
                "author": m.author,
                "author_id": m.author_id,
                "kind": m.kind,
                "body": m.body,
                "at": m.created_at.isoformat(),
            }
            for m in thread.messages
            if not (for_buyer and m.kind == NOTE)
        ],
    }


def reference(thread_id: int) -> str:
    """The short reference a buyer hears and quotes for a thread."""
    return f"{thread_id:04d}"
