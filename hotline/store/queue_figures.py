"""The records the queue figures are made from: queue entries with their call's end, transfers.

Read-only; the figures themselves are ``hotline.rules.queue_figures``'.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table, func, select

from hotline.rules.queue_figures import LETTING_GO, QueuedCall, TransferMade
from hotline.store.models import CallEventRow, QueueEntryRow, TransferRow

_ENTRIES: Table = QueueEntryRow.__table__  # type: ignore[assignment]
_EVENTS: Table = CallEventRow.__table__  # type: ignore[assignment]
_TRANSFERS: Table = TransferRow.__table__  # type: ignore[assignment]
# What the status callback's step records when Twilio says the call is over (``voice.py``).
_CALL_ENDED = tuple(
    f"status {status}" for status in ("completed", "busy", "failed", "no-answer", "canceled")
)


def queued_calls(conn: Connection, queue: str, start: datetime, end: datetime) -> list[QueuedCall]:
    """The callers who first entered ``queue`` in ``[start, end)``, with their call's end and
    the first transfer that let them go."""
    e, ev, t = _ENTRIES.c, _EVENTS.c, _TRANSFERS.c
    ended = (
        select(func.min(ev.at))
        .where(ev.call_sid == e.call_sid, ev.step == "status", ev.decision.in_(_CALL_ENDED))
        .scalar_subquery()
    )
    let_go = (
        select(func.min(t.at))
        .where(t.call_sid == e.call_sid, t.kind.in_(sorted(LETTING_GO)))
        .scalar_subquery()
    )
    rows = conn.execute(
        select(
            e.call_sid,
            e.first_entered_at,
            e.status,
            e.answered_at,
            e.result,
            ended.label("ended_at"),
            let_go.label("let_go_at"),
        )
        .where(e.queue == queue, e.first_entered_at >= start, e.first_entered_at < end)
        .order_by(e.first_entered_at, e.id)
    )
    return [QueuedCall(**row._asdict()) for row in rows]


def transfers_made(conn: Connection, start: datetime, end: datetime) -> list[TransferMade]:
    """The transfers made in ``[start, end)``: when, what kind, the outcome (if any yet)."""
    t = _TRANSFERS.c
    rows = conn.execute(
        select(t.at, t.kind, t.outcome).where(t.at >= start, t.at < end).order_by(t.at, t.id)
    )
    return [TransferMade(**row._asdict()) for row in rows]
