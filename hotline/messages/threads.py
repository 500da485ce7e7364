"""Message Center threads: open one for a buyer's question, reply, forward, who may respond.

Opening is idempotent per call: a Twilio retry of the same webhook (or a second visit to the step)
finds the thread the call already opened instead of writing a second one.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.errors import NotAllowed
from hotline.rules.routing import Party
from hotline.store.models import MessageRow, OutboxRow, ThreadRow

NO_QUESTION = "(the buyer left no question in words)"
# The outbox row of the SMS telling a buyer who called the reference of the thread opened for them.
BUYER_THREAD_OPENED = "buyer_thread_opened"


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
) -> ThreadRow:
    """Open a thread holding ``question`` for ``party`` and queue its notifications in the outbox:
    one for the assignee and, for a thread opened from a call, an SMS to the buyer.

    Returns the existing thread when the call already opened one.
    """
    if call_sid is not None:
        existing = session.scalar(select(ThreadRow).where(ThreadRow.call_sid == call_sid))
        if existing is not None:
            return existing
    recipient = seller_id if party is Party.SELLER and seller_id else Party.WAREHOUSE.value
    try:
        with session.begin_nested():
            thread = ThreadRow(
                call_sid=call_sid,
                party=party.value,
                seller_id=seller_id,
                order_id=order_id,
                topic=topic,
                buyer_phone=buyer_phone,
                status="open",
                created_at=now,
            )
            thread.messages.append(
                MessageRow(
                    author="buyer", kind="message", body=question or NO_QUESTION, created_at=now
                )
            )
            session.add(thread)
            session.flush()
            session.add(
                OutboxRow(
                    kind="thread_opened",
                    recipient=recipient,
                    thread_id=thread.id,
                    payload=json.dumps({"thread": thread.id, "order": order_id, "topic": topic}),
                    created_at=now,
                )
            )
            if call_sid is not None and buyer_phone:
                # The buyer who called gets the thread's reference by SMS (hotline.jobs).
                session.add(
                    OutboxRow(
                        kind=BUYER_THREAD_OPENED,
                        recipient=buyer_phone,
                        thread_id=thread.id,
                        payload=json.dumps({"thread": thread.id, "order": order_id}),
                        created_at=now,
                    )
                )
            session.flush()
    except IntegrityError:
        # Another worker handled a retry of the same webhook at the same moment.
        existing = session.scalar(select(ThreadRow).where(ThreadRow.call_sid == call_sid))
        if existing is None:
            raise
        return existing
    return thread


def may_respond(thread: ThreadRow, party: Party, seller_id: str | None = None) -> bool:
    """Only the assigned party responds: the thread's seller, or the warehouse."""
    if thread.party != party.value:
        return False
    return party is Party.WAREHOUSE or thread.seller_id == seller_id


def reply(
    session: Session,
    thread: ThreadRow,
    *,
    party: Party,
    body: str,
    now: datetime,
    seller_id: str | None = None,
) -> MessageRow:
    """Add ``party``'s reply to ``thread``; raises ``NotAllowed`` unless it is assigned to them."""
    if not may_respond(thread, party, seller_id):
        raise NotAllowed(
            f"thread {thread.id} is assigned to the {thread.party}, not to {party.value}"
        )
    message = MessageRow(author=party.value, kind="message", body=body, created_at=now)
    thread.messages.append(message)
    session.flush()
    return message


def forward(
    session: Session,
    thread: ThreadRow,
    *,
    by: Party,
    to: Party,
    note: str,
    now: datetime,
    seller_id: str | None = None,
) -> ThreadRow:
    """Hand a wrongly routed thread to the other party with a note; only the assignee may."""
    if not may_respond(thread, by, seller_id):
        raise NotAllowed(f"thread {thread.id} is assigned to the {thread.party}, not to {by.value}")
    if to is Party.SELLER and thread.seller_id is None:
        raise NotAllowed(f"thread {thread.id} has no seller to forward to")
    thread.party = to.value
    thread.messages.append(MessageRow(author=by.value, kind="note", body=note, created_at=now))
    recipient = thread.seller_id if to is Party.SELLER and thread.seller_id else to.value
    session.add(
        OutboxRow(
            kind=f"thread_forwarded_{len(thread.messages)}",
            recipient=recipient,
            thread_id=thread.id,
            payload=json.dumps({"thread": thread.id, "note": note}),
            created_at=now,
        )
    )
    session.flush()
    return thread


def thread_as_dict(thread: ThreadRow) -> dict[str, object]:
    """A thread as the JSON API shows it."""
    return {
        "id": thread.id,
        "reference": reference(thread.id),
        "party": thread.party,
        "seller": thread.seller_id,
        "order": thread.order_id,
        "topic": thread.topic,
        "status": thread.status,
        "call_sid": thread.call_sid,
        "created_at": thread.created_at.isoformat(),
        "messages": [
            {"author": m.author, "kind": m.kind, "body": m.body, "at": m.created_at.isoformat()}
            for m in thread.messages
        ],
    }


def reference(thread_id: int) -> str:
    """The short reference a buyer hears and quotes for a thread."""
    return f"{thread_id:04d}"
