"""Forwarding a thread to the other party with a note.

Only the assignee forwards, and only to the other party; the assignment changes at once and the
thread can be forwarded back. The note is seen by the seller and the warehouse, never by the
buyer. The response clock is not reset: ``due_at`` and the buyer's messages stay as they were.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.errors import Invalid, NotAllowed
from hotline.messages import outbox
from hotline.messages.conversation import (
    NOTE,
    SELLER,
    WAREHOUSE,
    Author,
    assignee_recipient,
    check_text,
    refusal,
)
from hotline.store.models import MessageRow, ThreadRow


def forward(
    session: Session, thread: ThreadRow, by: Author, to: str, note: str, now: datetime
) -> MessageRow:
    """Hand ``thread`` from its assignee ``by`` to ``to`` with ``note``; returns the note.

    ``NotAllowed`` (nothing written) unless ``by`` is the assignee and ``to`` the other party
    with someone to take it; ``Invalid`` for an unknown party or a bad note.
    """
    if to not in (SELLER, WAREHOUSE):
        raise Invalid(f'"to" must be "seller" or "warehouse", got {to!r}')
    note = check_text(note, "note")
    if by.role not in (SELLER, WAREHOUSE):
        raise NotAllowed(f"only the seller or the warehouse forwards, not the {by.role}")
    why = refusal(thread, by)
    if why is not None:
        raise NotAllowed(why.replace("responds", "responds or forwards"))
    if to == thread.party:
        raise NotAllowed(f"thread {thread.id} is already assigned to the {to}")
    if to == SELLER and thread.seller_id is None:
        raise NotAllowed(f"thread {thread.id} has no seller to forward to")
    thread.party = to
    thread.forwarded_at = now  # reminder points before it are not the new assignee's
    message = MessageRow(author=by.role, author_id=by.id, kind=NOTE, body=note, created_at=now)
    thread.messages.append(message)
    session.flush()
    outbox.notify(
        session,
        kind=outbox.THREAD_FORWARDED,
        recipient=assignee_recipient(thread),
        thread_id=thread.id,
        message_id=message.id,
        payload={"thread": thread.id, "order": thread.order_id, "from": by.role, "note": note},
        now=now,
    )
    return message
