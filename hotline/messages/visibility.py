"""Who sees which threads and as whom they may write.

The operator sees every thread and may write as any party; the warehouse (each agent) sees every
thread, and responds in those assigned to it; a seller sees only the threads of their orders
(``seller_id``; never a combined order's delivery Discussion, which has none) and responds in
those assigned to them; the buyer sees their one thread (by its link) without the notes. A thread
a viewer may not see is, to them, a thread that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, false, select
from sqlalchemy.orm import aliased, selectinload

from hotline.errors import NotAllowed
from hotline.messages.conversation import BUYER, MESSAGE, SELLER, WAREHOUSE, Author
from hotline.store.models import MessageRow, ThreadRow

OPERATOR = "operator"


@dataclass(frozen=True)
class Viewer:
    """Who looks: the operator, a seller (``id``: theirs), the warehouse (``id``: the agent's,
    or None) or a thread's buyer (``thread_id``: the one thread their link opens)."""

    role: str
    id: str | None = None
    thread_id: int | None = None

    def sees(self, thread: ThreadRow) -> bool:
        """Whether ``thread`` exists for this viewer."""
        if self.role in (OPERATOR, WAREHOUSE):
            return True
        if self.role == SELLER:
            return self.id is not None and thread.seller_id == self.id
        if self.role == BUYER:
            return self.thread_id is not None and thread.id == self.thread_id
        return False

    def author(self, role: str | None, thread: ThreadRow) -> Author:
        """The author this viewer writes as in ``thread`` when asking to write as ``role``.

        The operator may be anyone (a seller's message is the thread's seller's); the others
        only themselves (``None``: their own role). ``NotAllowed`` otherwise.
        """
        if self.role == OPERATOR:
            if role == SELLER:
                return Author(SELLER, thread.seller_id)
            if role in (BUYER, WAREHOUSE):
                return Author(role)
            raise NotAllowed(f'"author" must be "buyer", "seller" or "warehouse", got {role!r}')
        if role is not None and role != self.role:
            raise NotAllowed(
                f"the {self.role}'s credential writes as the {self.role}, not {role!r}"
            )
        return Author(self.role, self.id)


def visible(viewer: Viewer, query: Select[Any]) -> Select[Any]:
    """``query`` over threads narrowed to those ``viewer`` sees."""
    if viewer.role in (OPERATOR, WAREHOUSE):
        return query
    if viewer.role == SELLER and viewer.id is not None:
        return query.where(ThreadRow.seller_id == viewer.id)
    if viewer.role == BUYER and viewer.thread_id is not None:
        return query.where(ThreadRow.id == viewer.thread_id)
    return query.where(false())


def unanswered_clause() -> Any:
    """SQL: the thread has a buyer's message with no seller's or warehouse's message after it."""
    asked = aliased(MessageRow)
    answer = aliased(MessageRow)
    answered = exists().where(
        answer.thread_id == asked.thread_id,
        answer.kind == MESSAGE,
        answer.author.in_((SELLER, WAREHOUSE)),
        answer.id > asked.id,
    )
    return exists().where(
        and_(asked.thread_id == ThreadRow.id, asked.kind == MESSAGE, asked.author == BUYER),
        ~answered,
    )


def thread_query(
    viewer: Viewer,
    *,
    seller: str | None = None,
    assigned: str | None = None,
    unanswered: bool | None = None,
    limit: int = 500,
) -> Select[Any]:
    """The threads ``viewer`` sees, newest first, with their messages, filtered."""
    query = select(ThreadRow).options(selectinload(ThreadRow.messages))
    query = visible(viewer, query)
    if seller is not None:
        query = query.where(ThreadRow.seller_id == seller)
    if assigned is not None:
        query = query.where(ThreadRow.party == assigned)
    if unanswered is not None:
        clause = unanswered_clause()
        query = query.where(clause if unanswered else ~clause)
    return query.order_by(ThreadRow.id.desc()).limit(limit)
