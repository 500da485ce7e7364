"""Deleting old calls' rows (``hotline prune``): call events, queue entries and transfers.

A call goes whole or not at all: its rows are deleted only when every one of them is older than
the cutoff and it is not in the queue any more. A call that crosses the cutoff (it began the
evening before, its transfer's outcome came after) keeps all its rows, so the figures of the
days after the cutoff, which read them, do not change. Works inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Table, delete, or_, select, union
from sqlalchemy.sql.selectable import CompoundSelect

from hotline.store.models import CallEventRow, QueueEntryRow, TransferRow
from hotline.store.queue_entries import RINGING, WAITING

_EVENTS: Table = CallEventRow.__table__  # type: ignore[assignment]
_ENTRIES: Table = QueueEntryRow.__table__  # type: ignore[assignment]
_TRANSFERS: Table = TransferRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Pruned:
    """How many rows of each table were deleted."""

    call_events: int
    queue_entries: int
    transfers: int


def prune_before(conn: Connection, cutoff: datetime) -> Pruned:
    """Delete the rows of the calls that are wholly before ``cutoff``."""
    kept = _calls_kept(cutoff)
    ev, en, tr = _EVENTS.c, _ENTRIES.c, _TRANSFERS.c
    events = conn.execute(delete(_EVENTS).where(ev.at < cutoff, ev.call_sid.not_in(kept))).rowcount
    entries = conn.execute(
        delete(_ENTRIES).where(en.first_entered_at < cutoff, en.call_sid.not_in(kept))
    ).rowcount
    transfers = conn.execute(
        delete(_TRANSFERS).where(tr.at < cutoff, tr.call_sid.not_in(kept))
    ).rowcount
    return Pruned(events, entries, transfers)


def _calls_kept(cutoff: datetime) -> CompoundSelect[tuple[str]]:
    """The calls with a row at or after ``cutoff``, or waiting (or rung for) in a queue."""
    ev, en, tr = _EVENTS.c, _ENTRIES.c, _TRANSFERS.c
    return union(
        select(ev.call_sid).where(ev.at >= cutoff),
        select(en.call_sid).where(
            or_(
                en.entered_at >= cutoff,
                en.left_at >= cutoff,
                en.answered_at >= cutoff,
                en.status.in_((WAITING, RINGING)),
            )
        ),
        select(tr.call_sid).where(or_(tr.at >= cutoff, tr.outcome_at >= cutoff)),
    )
