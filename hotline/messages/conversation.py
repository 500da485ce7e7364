"""Writing in a thread: who writes (``Author``), the text rules, and the one-party rule.

Only the assigned party responds: the thread's seller while it is assigned to the seller, the
warehouse while it is assigned to the warehouse. The buyer may always write in their thread, the
hotline (``system``) too. A refusal raises ``NotAllowed`` with the reason and writes nothing.
Messages are never edited or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hotline.errors import Invalid, NotAllowed
from hotline.messages import outbox
from hotline.rules.routing import Party
from hotline.store.models import MessageRow, ThreadRow

TEXT_MAX = 2000
BUYER = "buyer"
SELLER = Party.SELLER.value
WAREHOUSE = Party.WAREHOUSE.value
SYSTEM = "system"
ROLES = (BUYER, SELLER, WAREHOUSE, SYSTEM)
MESSAGE = "message"
NOTE = "note"  # a forward's note: seller and warehouse see it, the buyer never


@dataclass(frozen=True)
class Author:
    """Who writes: a role (buyer, seller, warehouse, system) and the seller's or agent's id."""

    role: str
    id: str | None = None


def check_text(text: object, what: str = "text") -> str:
    """``text`` when it is a non-empty string of at most ``TEXT_MAX`` characters; else ``Invalid``.

    Text the store cannot keep (a NUL, which PostgreSQL refuses; lone surrogates, which are not
    UTF-8) is refused here too, so it is a 400 rather than a failed write.
    """
    if not isinstance(text, str) or not text.strip():
        raise Invalid(f'"{what}" must be a non-empty string')
    if len(text) > TEXT_MAX:
        raise Invalid(f'"{what}" is {len(text)} characters long; at most {TEXT_MAX}')
    if "\x00" in text:
        raise Invalid(f'"{what}" must not contain NUL characters')
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(f'"{what}" is not valid Unicode text') from None
    return text


def may_respond(thread: ThreadRow, role: str, seller_id: str | None = None) -> bool:
    """Only the assigned party responds: the thread's seller, or the warehouse."""
    if thread.party != role:
        return False
    return role == WAREHOUSE or (seller_id is not None and thread.seller_id == seller_id)


def refusal(thread: ThreadRow, author: Author) -> str | None:
    """Why ``author`` may not write in ``thread`` (``None``: they may)."""
    if author.role in (BUYER, SYSTEM):
        return None
    if author.role not in (SELLER, WAREHOUSE):
        return f"unknown author {author.role!r}"
    if thread.party != author.role:
        return (
            f"thread {thread.id} is assigned to the {thread.party}, not to the {author.role}: "
            f"only the {thread.party} responds (the {author.role} may follow it, or the "
            f"{thread.party} may forward it)"
        )
    if author.role == SELLER and thread.seller_id != author.id:
        return f"thread {thread.id} is not seller {author.id!r}'s"
    return None


def write(
    session: Session, thread: ThreadRow, author: Author, text: str, now: datetime
) -> MessageRow:
    """Add ``author``'s message to ``thread`` and tell the other side (an outbox row).

    ``NotAllowed`` (nothing written) when ``author`` may not respond; ``Invalid`` for bad text.
    """
    text = check_text(text)
    why = refusal(thread, author)
    if why is not None:
        raise NotAllowed(why)
    message = MessageRow(
        author=author.role, author_id=author.id, kind=MESSAGE, body=text, created_at=now
    )
    thread.messages.append(message)
    session.flush()
    if author.role in (SELLER, WAREHOUSE):
        if thread.answered_at is None:
            thread.answered_at = now  # the first response: no more reminders (hotline.jobs)
        # The buyer's SMS; its link's secret is issued when it is first sent (hotline.jobs).
        outbox.notify(
            session,
            kind=outbox.THREAD_ANSWERED,
            recipient=outbox.BUYER,
            thread_id=thread.id,
            message_id=message.id,
            payload={"thread": thread.id, "order": thread.order_id, "by": author.role},
            now=now,
        )
    elif author.role == BUYER and len(thread.messages) > 1:
        outbox.notify(
            session,
            kind=outbox.BUYER_REPLIED,
            recipient=assignee_recipient(thread),
            thread_id=thread.id,
            message_id=message.id,
            payload={"thread": thread.id, "order": thread.order_id},
            now=now,
        )
    return message


def assignee_recipient(thread: ThreadRow) -> str:
    """Who the thread's assignee is, as an outbox recipient: the seller's id or "warehouse"."""
    if thread.party == SELLER and thread.seller_id:
        return thread.seller_id
    return WAREHOUSE
