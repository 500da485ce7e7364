"""Agents' transfers of calls in the store: one row each (who, when, kind, target, summary), and
its outcome, written once.

A transfer is recorded ``pending`` as the agent asks for it; what became of it (the seller took
the call, declined, was busy; the caller was put back in line; a thread was opened) is settled
once: ``settle`` writes only over ``pending``, so a retried callback, or a late one after another
outcome, changes nothing. Works inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update

from hotline.store.models import TransferRow

_TRANSFERS: Table = TransferRow.__table__  # type: ignore[assignment]
PENDING = "pending"
THREAD_OPENED = "thread_opened"


@dataclass(frozen=True)
class Transfer:
    """A transfer as stored."""

    id: int
    call_sid: str
    agent_id: str
    kind: str
    target: str | None
    summary: str
    at: datetime
    outcome: str | None
    outcome_at: datetime | None
    target_call: str | None = None  # the call placed to the target (a warm transfer's seller)

    @property
    def pending(self) -> bool:
        """Whether its outcome is still to come."""
        return self.outcome == PENDING

    def as_dict(self) -> dict[str, Any]:
        """The transfer as the JSON API shows it."""
        return {
            "id": self.id,
            "agent": self.agent_id,
            "kind": self.kind,
            "target": self.target,
            "summary": self.summary,
            "at": self.at.isoformat(),
            "outcome": self.outcome,
            "outcome_at": self.outcome_at.isoformat() if self.outcome_at else None,
        }


def record(
    conn: Connection,
    *,
    call_sid: str,
    agent_id: str,
    kind: str,
    target: str | None,
    summary: str,
    now: datetime,
    outcome: str = PENDING,
) -> Transfer:
    """Write a transfer (``pending`` unless its outcome is already known)."""
    done = None if outcome == PENDING else now
    result = conn.execute(
        insert(_TRANSFERS).values(
            call_sid=call_sid,
            agent_id=agent_id,
            kind=kind,
            target=target,
            summary=summary,
            at=now,
            outcome=outcome,
            outcome_at=done,
        )
    )
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row always has it
    new_id = int(key[0])
    return Transfer(new_id, call_sid, agent_id, kind, target, summary, now, outcome, done)


def set_target_call(conn: Connection, transfer_id: int, call_sid: str) -> None:
    """Keep the SID of the call the transfer placed to its target."""
    conn.execute(
        update(_TRANSFERS).where(_TRANSFERS.c.id == transfer_id).values(target_call=call_sid)
    )


def get(conn: Connection, transfer_id: int) -> Transfer | None:
    """The transfer with this id."""
    row = conn.execute(select(_TRANSFERS).where(_TRANSFERS.c.id == transfer_id)).first()
    return None if row is None else Transfer(**row._asdict())


def settle(conn: Connection, transfer_id: int, outcome: str, now: datetime) -> bool:
    """Write the transfer's outcome if it is still pending; ``False``: it was settled before."""
    c = _TRANSFERS.c
    done = conn.execute(
        update(_TRANSFERS)
        .where(c.id == transfer_id, c.outcome == PENDING)
        .values(outcome=outcome, outcome_at=now)
    )
    return done.rowcount == 1


def refused(conn: Connection, transfer_id: int, now: datetime) -> None:
    """Twilio refused the move the transfer asked for: it ``failed``, whatever outcome was
    written in advance (a queue transfer is recorded ``requeued`` before the caller is moved)."""
    conn.execute(
        update(_TRANSFERS)
        .where(_TRANSFERS.c.id == transfer_id)
        .values(outcome="failed", outcome_at=now)
    )


def pending_of(conn: Connection, call_sid: str, kind: str) -> Transfer | None:
    """The call's latest pending transfer of ``kind``, if any."""
    c = _TRANSFERS.c
    row = conn.execute(
        select(_TRANSFERS)
        .where(c.call_sid == call_sid, c.kind == kind, c.outcome == PENDING)
        .order_by(c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else Transfer(**row._asdict())


def latest_of(
    conn: Connection, call_sid: str, kind: str, since: datetime | None = None
) -> Transfer | None:
    """The call's latest transfer of ``kind`` (made at or after ``since``), whatever its outcome."""
    c = _TRANSFERS.c
    query = select(_TRANSFERS).where(c.call_sid == call_sid, c.kind == kind)
    if since is not None:
        query = query.where(c.at >= since)
    row = conn.execute(query.order_by(c.id.desc()).limit(1)).first()
    return None if row is None else Transfer(**row._asdict())


def under_way(conn: Connection, call_sid: str, since: datetime | None) -> Transfer | None:
    """The call's latest transfer (made at or after ``since``) that has handed the caller on or
    is still doing so: pending, or the caller already sent to a thread."""
    c = _TRANSFERS.c
    query = select(_TRANSFERS).where(
        c.call_sid == call_sid, c.outcome.in_((PENDING, THREAD_OPENED))
    )
    if since is not None:
        query = query.where(c.at >= since)
    row = conn.execute(query.order_by(c.id.desc()).limit(1)).first()
    return None if row is None else Transfer(**row._asdict())


def of_call(conn: Connection, call_sid: str) -> list[Transfer]:
    """The call's transfers, oldest first."""
    c = _TRANSFERS.c
    rows = conn.execute(select(_TRANSFERS).where(c.call_sid == call_sid).order_by(c.id))
    return [Transfer(**row._asdict()) for row in rows]
