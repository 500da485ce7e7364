"""The outbox's delivery in the store: a row claimed, then finished, each in its own transaction.

A claim is a compare-and-set (``UPDATE ... WHERE status = <seen> AND tries = <seen>``): of two
claimers that saw the same row, exactly one changes it (on PostgreSQL the second's UPDATE waits
for the first's commit and then finds its condition false; on SQLite the write lock queues them),
so a row is never handed to two senders. A claim sets ``next_attempt_at`` to when it lapses: a
row still ``sending`` after that had its sender killed mid-send and is claimed again, marked
``reconcile`` so the sender first makes sure it did not go out already. Finishing is conditional
on the claim too: a sender whose claim lapsed and was taken over writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, false, func, or_, select, update
from sqlalchemy.orm import Session

from hotline.store.database import Store
from hotline.store.models import OutboxRow, ThreadRow

PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
STATUSES = (PENDING, SENDING, SENT, FAILED, SKIPPED)
# A buyer's SMS's payload key holding the secret of the link it carries (the store keeps only
# the secret's hash on the thread): kept while the row may be tried again, so every try has the
# same text, and scrubbed when the row is finished (sent, failed or skipped).
LINK_SECRET = "link_secret"


@dataclass(frozen=True)
class Claim:
    """A row handed to one sender: its contents, which try this is, whether it must reconcile."""

    id: int
    kind: str
    recipient: str
    thread_id: int | None
    payload: str
    created_at: datetime
    tries: int  # this try's number, from 1
    reconcile: bool  # the row was found "sending": a try before this one may have gone out


def due_ids(store: Store, now: datetime, kinds: Collection[str], limit: int = 100) -> list[int]:
    """The rows to try at ``now``: pending and due, or sending with a lapsed claim; oldest first.

    Only ``kinds`` some job knows how to send: a row of another kind waits, untouched.
    """
    due = or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now)
    query = (
        select(OutboxRow.id)
        .where(OutboxRow.status.in_((PENDING, SENDING)), due, _kind_in(kinds))
        .order_by(OutboxRow.id)
        .limit(limit)
    )
    with _reading(store) as session:
        return list(session.scalars(query))


def earliest_due(store: Store, now: datetime, kinds: Collection[str]) -> datetime | None:
    """When the next row of ``kinds`` is to be tried: ``now`` if one is due already, else the
    earliest pending retry or lapsing claim; ``None`` when no row waits."""
    waiting = and_(OutboxRow.status.in_((PENDING, SENDING)), _kind_in(kinds))
    with _reading(store) as session:
        if session.scalar(
            select(OutboxRow.id).where(waiting, OutboxRow.next_attempt_at.is_(None)).limit(1)
        ):
            return now
        earliest = session.scalar(select(func.min(OutboxRow.next_attempt_at)).where(waiting))
    if earliest is None:
        return None
    if earliest.tzinfo is None:  # an aggregate's result on a backend that drops the type
        earliest = earliest.replace(tzinfo=UTC)
    return max(earliest, now)


def _reading(store: Store) -> Session:
    # A read in autocommit: on SQLite it takes no write lock from the webhooks.
    return Session(store.engine.execution_options(hotline_read_only=True))


def _kind_in(kinds: Collection[str]) -> ColumnElement[bool]:
    # A kind may carry a suffix (a reminder's point: reminder_12h): a known kind is a prefix of it.
    return or_(false(), *(OutboxRow.kind.startswith(kind) for kind in kinds))


def claim(store: Store, row_id: int, now: datetime, sending_timeout: timedelta) -> Claim | None:
    """Claim row ``row_id`` for one try at ``now``; ``None`` when it is not due or was taken."""
    with store.session() as session:
        row = session.get(OutboxRow, row_id)
        if row is None or row.status not in (PENDING, SENDING):
            return None
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return None
        seen_status, seen_tries = row.status, row.tries
        changed = session.execute(
            update(OutboxRow)
            .where(
                and_(
                    OutboxRow.id == row_id,
                    OutboxRow.status == seen_status,
                    OutboxRow.tries == seen_tries,
                )
            )
            .values(status=SENDING, tries=seen_tries + 1, next_attempt_at=now + sending_timeout)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return Claim(
            id=row.id,
            kind=row.kind,
            recipient=row.recipient,
            thread_id=row.thread_id,
            payload=row.payload,
            created_at=row.created_at,
            tries=seen_tries + 1,
            reconcile=seen_status == SENDING,
        )


def _still_claimed(claim: Claim) -> ColumnElement[bool]:
    """The row as ``claim`` left it: being sent, on that very try (no other sender took it)."""
    return and_(
        OutboxRow.id == claim.id, OutboxRow.status == SENDING, OutboxRow.tries == claim.tries
    )


def _finish(store: Store, claim: Claim, *, final: bool = True, **values: object) -> bool:
    if final:
        values["payload"] = scrubbed(claim.payload)
    with store.session() as session:
        changed = session.execute(
            update(OutboxRow)
            .where(_still_claimed(claim))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return changed.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def mark_sent(store: Store, claim: Claim, now: datetime, ref: str | None) -> bool:
    """The claimed row went out (``ref``: the receiving side's id for it)."""
    return _finish(
        store, claim, status=SENT, sent_at=now, sent_ref=ref, next_attempt_at=None, last_error=None
    )


def mark_failed_try(store: Store, claim: Claim, error: str, retry_at: datetime | None) -> bool:
    """The try failed: pending again until ``retry_at``, or failed for good when it is ``None``."""
    status = PENDING if retry_at is not None else FAILED
    return _finish(
        store,
        claim,
        final=retry_at is None,
        status=status,
        next_attempt_at=retry_at,
        last_error=error[:2000],
    )


def mark_skipped(store: Store, claim: Claim, reason: str) -> bool:
    """Nobody to send the row to (``reason`` says why): kept, and never tried again."""
    return _finish(store, claim, status=SKIPPED, next_attempt_at=None, last_error=reason)


def attach_link_secret(store: Store, claim: Claim, secret: str, key_hash: str) -> Claim | None:
    """Give the claimed row's thread a new buyer's link (``key_hash`` of ``secret``) and keep
    ``secret`` in the row for its tries, in one transaction; ``None`` (nothing written) when the
    claim was taken over meanwhile."""
    data = json.loads(claim.payload)
    data[LINK_SECRET] = secret
    payload = json.dumps(data)
    with store.session() as session:
        changed = session.execute(
            update(OutboxRow)
            .where(_still_claimed(claim))
            .values(payload=payload)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        session.execute(
            update(ThreadRow)
            .where(ThreadRow.id == claim.thread_id)
            .values(buyer_key_hash=key_hash)
            .execution_options(synchronize_session=False)
        )
    return replace(claim, payload=payload)


def scrubbed(payload: str) -> str:
    """``payload`` without a link's secret (the row is finished: no try will need it)."""
    try:
        data = json.loads(payload)
    except ValueError:
        return payload
    if not isinstance(data, dict) or LINK_SECRET not in data:
        return payload
    data.pop(LINK_SECRET)
    return json.dumps(data)


def rows(store: Store, status: str | None = None, limit: int = 50) -> Sequence[OutboxRow]:
    """The newest rows (of ``status``), for ``hotline outbox`` and the tests."""
    query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxRow.status == status)
    with _reading(store) as session:
        return list(session.scalars(query))
