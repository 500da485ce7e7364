"""A party's list: where a thread stands against its 24 h mark (a table of cases, to the
second), and the order (unanswered first by their mark, then the latest activity)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.messages.inbox import ANSWERED, ASKED_AGAIN, OVERDUE, WAITING, _ordered, standing_of
from hotline.store.models import MessageRow, ThreadRow

T0 = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # the night before Warsaw's clocks go back
MARK = T0 + timedelta(hours=24)


def thread(*messages: tuple[str, str, float], thread_id: int = 1) -> ThreadRow:
    """A thread of (author, kind, seconds after T0) messages."""
    row = ThreadRow(id=thread_id, party="seller", seller_id="acme", created_at=T0)
    row.messages = [
        MessageRow(author=a, kind=k, body="x", created_at=T0 + timedelta(seconds=s))
        for a, k, s in messages
    ]
    return row


@pytest.mark.parametrize(
    ("messages", "now", "standing", "left"),
    [
        ([("buyer", "message", 0)], MARK - timedelta(seconds=1), WAITING, 1),
        ([("buyer", "message", 0)], MARK, OVERDUE, 0),
        ([("buyer", "message", 0)], MARK + timedelta(hours=2), OVERDUE, -7200),
        # A note (a forward) and the hotline's system message are no response.
        ([("buyer", "message", 0), ("seller", "note", 60)], T0, WAITING, 86400),
        ([("system", "message", 0), ("buyer", "message", 0)], T0, WAITING, 86400),
        ([("buyer", "message", 0), ("warehouse", "message", 60)], MARK, ANSWERED, None),
        (
            [("buyer", "message", 0), ("seller", "message", 60), ("buyer", "message", 120)],
            MARK + timedelta(days=3),
            ASKED_AGAIN,
            None,
        ),
    ],
)
def test_where_a_thread_stands(
    messages: list[tuple[str, str, float]],
    now: datetime,
    standing: str,
    left: float | None,
) -> None:
    entry = standing_of(thread(*messages), now, 24)
    assert entry.standing == standing
    assert entry.seconds_left == left
    assert entry.mark == MARK  # 24 hours of real time, across the DST change
    assert entry.unanswered is (standing != ANSWERED)


def test_unanswered_first_by_their_mark_then_the_latest_activity() -> None:
    now = T0 + timedelta(hours=30)
    entries = [
        standing_of(
            thread(("buyer", "message", 0), ("seller", "message", 10), thread_id=1), now, 24
        ),
        standing_of(thread(("buyer", "message", 3600), thread_id=2), now, 24),
        standing_of(
            thread(("buyer", "message", 0), ("seller", "message", 99), thread_id=3), now, 24
        ),
        standing_of(thread(("buyer", "message", 0), thread_id=4), now, 24),
    ]
    assert [e.thread.id for e in _ordered(entries)] == [4, 2, 3, 1]
