"""The records the queue figures are made from: queue entries with their call's end, transfers
(those back to the queue with what became of the caller after them).

Read-only; the figures themselves are ``hotline.rules.queue_figures``'.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table, func, select

from hotline.rules.queue_figures import LETTING_GO, QueuedCall, TransferMade
from hotline.store.models import CallEventRow, QueueEntryRow, TransferRow
from hotline.store.queue_entries import LEFT

_ENTRIES: Table = QueueEntryRow.__table__  # type: ignore[assignment]
_EVENTS: Table = CallEventRow.__table__  # type: ignore[assignment]
_TRANSFERS: Table = TransferRow.__table__  # type: ignore[assignment]
# What the status callback's step records when Twilio says the call is over (``voice.py``).
_CALL_ENDED = tuple(
    f"status {status}" for status in ("completed", "busy", "failed", "no-answer", "canceled")
)
# The caller's webhook when their conference with an agent ended (the Dial action,
# ``web/agent_voice.py``): Twilio tells it whether or not the number has a status callback.
_TALK_ENDED = "agent/after"
# The caller's webhook as an agent's conference takes them in (``web/agent_voice.py``).
_TAKEN_IN = "agent/join"


def queued_calls(conn: Connection, queue: str, start: datetime, end: datetime) -> list[QueuedCall]:
    """The callers who first entered ``queue`` in ``[start, end)``, with their call's end, the
    end of their first agent conference and the first transfer that let them go."""
    e, ev, t = _ENTRIES.c, _EVENTS.c, _TRANSFERS.c
    ended = (
        select(func.min(ev.at))
        .where(ev.call_sid == e.call_sid, ev.step == "status", ev.decision.in_(_CALL_ENDED))
        .scalar_subquery()
    )
    talk_ended = (
        select(func.min(ev.at))
        .where(ev.call_sid == e.call_sid, ev.step == _TALK_ENDED)
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
            talk_ended.label("talk_ended_at"),
        )
        .where(e.queue == queue, e.first_entered_at >= start, e.first_entered_at < end)
        .order_by(e.first_entered_at, e.id)
    )
    return [QueuedCall(**row._asdict()) for row in rows]


def transfers_made(conn: Connection, start: datetime, end: datetime) -> list[TransferMade]:
    """The transfers made in ``[start, end)``: when, what kind, the outcome (if any yet); for
    one back to the queue, when the caller was next taken in by an agent's conference, and how
    they left the queue if they did after it."""
    t, ev, e = _TRANSFERS.c, _EVENTS.c, _ENTRIES.c
    taken_again = (
        select(func.min(ev.at))
        .where(ev.call_sid == t.call_sid, ev.step == _TAKEN_IN, ev.at >= t.at)
        .scalar_subquery()
    )
    left_queue = (
        select(e.result)
        .where(e.call_sid == t.call_sid, e.status == LEFT, e.left_at >= t.at)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(
            t.at,
            t.kind,
            t.outcome,
            taken_again.label("taken_again_at"),
            left_queue.label("left_queue"),
        )
        .where(t.at >= start, t.at < end)
        .order_by(t.at, t.id)
    )
    return [TransferMade(**row._asdict()) for row in rows]
