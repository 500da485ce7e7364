"""A party's Message Center list: the threads they answer (unanswered first, the nearest 24 h
mark first) and the threads they follow read-only, each with where it stands against its mark.

A seller answers their threads assigned to the seller and follows their threads assigned to
the warehouse; the warehouse answers every thread assigned to it and follows the sellers'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from hotline.messages.conversation import BUYER, MESSAGE, SELLER, WAREHOUSE
from hotline.messages.threads import unanswered
from hotline.messages.visibility import Viewer, thread_query
from hotline.rules.sales_quality import response_mark
from hotline.store.models import ThreadRow

ANSWERED = "answered"  # the buyer's latest message has a response after it
WAITING = "waiting"  # no response yet, before the 24 h mark
OVERDUE = "overdue"  # no response yet, at or past the 24 h mark
ASKED_AGAIN = "asked_again"  # answered once, and the buyer wrote again since


@dataclass(frozen=True)
class Entry:
    """One thread in a list: the thread, where it stands, and its 24 h mark."""

    thread: ThreadRow
    standing: str  # ANSWERED | WAITING | OVERDUE | ASKED_AGAIN
    mark: datetime | None  # the buyer's first message + response_hours (None: no buyer message)
    seconds_left: float | None  # before the mark (negative: overdue); None once answered
    last_at: datetime  # the latest message's time

    @property
    def unanswered(self) -> bool:
        """Whether the buyer awaits a response."""
        return self.standing != ANSWERED


@dataclass(frozen=True)
class Inbox:
    """The threads a party answers, and those it follows read-only."""

    assigned: list[Entry]
    followed: list[Entry]


def standing_of(thread: ThreadRow, now: datetime, response_hours: int) -> Entry:
    """Where ``thread`` stands at ``now`` against its 24 h mark."""
    said = [m for m in thread.messages if m.kind == MESSAGE]
    asked = [m for m in said if m.author == BUYER]
    responded = [m for m in said if m.author in (SELLER, WAREHOUSE)]
    mark = response_mark(asked[0].created_at, response_hours) if asked else None
    last_at = max((m.created_at for m in thread.messages), default=thread.created_at)
    if not unanswered(thread):
        return Entry(thread, ANSWERED, mark, None, last_at)
    if responded:
        return Entry(thread, ASKED_AGAIN, mark, None, last_at)
    assert mark is not None  # awaiting means a buyer's message
    left = (mark - now.astimezone(UTC)).total_seconds()
    # The scheduler's mark (``overdue_at``) is set at this same instant; once set it stands.
    overdue = left <= 0 or thread.overdue_at is not None
    return Entry(thread, OVERDUE if overdue else WAITING, mark, left, last_at)


def inbox(session: Session, viewer: Viewer, now: datetime, response_hours: int) -> Inbox:
    """``viewer``'s list (a seller or the warehouse): what they answer, what they follow."""
    party = SELLER if viewer.role == SELLER else WAREHOUSE
    threads = session.scalars(thread_query(viewer)).all()
    entries = [standing_of(t, now, response_hours) for t in threads]
    return Inbox(
        assigned=_ordered([e for e in entries if e.thread.party == party]),
        followed=_ordered([e for e in entries if e.thread.party != party]),
    )


def _ordered(entries: list[Entry]) -> list[Entry]:
    """Unanswered first, the nearest mark first; then the rest, the latest activity first."""
    waiting = sorted(
        (e for e in entries if e.unanswered),
        key=lambda e: (e.mark or e.last_at, e.thread.id),
    )
    done = sorted(
        (e for e in entries if not e.unanswered),
        key=lambda e: (e.last_at, e.thread.id),
        reverse=True,
    )
    return waiting + done
