"""The message times the sales-quality metrics are computed from, loaded from the store.

For a seller (threads of their orders: ``seller_id``, whoever is assigned now) or the warehouse
(threads assigned to it now), the threads with a buyer's message in ``[since, until)`` and every
message of theirs (role, kind, time), oldest first. No counters: only what the messages say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from hotline.messages.conversation import BUYER, MESSAGE, WAREHOUSE
from hotline.store.models import MessageRow, ThreadRow


@dataclass(frozen=True)
class MessageTime:
    """One message as the metrics see it."""

    author: str  # buyer | seller | warehouse | system
    kind: str  # message | note
    at: datetime


@dataclass(frozen=True)
class ThreadActivity:
    """A thread as the metrics see it: who it is assigned to now, and its messages' times."""

    id: int
    kind: str  # message | discussion
    assigned: str  # seller | warehouse
    seller_id: str | None
    opened_at: datetime
    messages: tuple[MessageTime, ...]


def load_activity(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    seller_id: str | None = None,
    warehouse: bool = False,
) -> list[ThreadActivity]:
    """The threads of ``seller_id``'s orders (or, ``warehouse``, those assigned to the warehouse)
    with a buyer's message in ``[since, until)``, each with all its messages."""
    if (seller_id is None) == (not warehouse):
        raise ValueError("give either seller_id or warehouse=True")
    asked = exists().where(
        MessageRow.thread_id == ThreadRow.id,
        MessageRow.author == BUYER,
        MessageRow.kind == MESSAGE,
        MessageRow.created_at >= since,
        MessageRow.created_at < until,
    )
    query = select(ThreadRow).options(selectinload(ThreadRow.messages)).where(asked)
    if warehouse:
        query = query.where(ThreadRow.party == WAREHOUSE)
    else:
        query = query.where(ThreadRow.seller_id == seller_id)
    return [
        ThreadActivity(
            id=thread.id,
            kind=thread.kind,
            assigned=thread.party,
            seller_id=thread.seller_id,
            opened_at=thread.created_at,
            messages=tuple(
                MessageTime(m.author, m.kind, m.created_at)
                for m in sorted(thread.messages, key=lambda m: (m.created_at, m.id))
            ),
        )
        for thread in session.scalars(query.order_by(ThreadRow.id))
    ]
