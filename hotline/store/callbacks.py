"""Callback requests in the store: stored once per call, cancelled, claimed and finished by
compare-and-set.

Every change after the request says in its ``WHERE`` what it expects the row to be (its status
and how many calls were placed), and its row count says whether it was so: of two schedulers
that saw one due row, exactly one claims it (PostgreSQL's second UPDATE waits for the first's
commit, then finds its condition false; SQLite's write lock queues them), and a status callback
of an earlier try, or a retry of one, changes nothing. Each function works in the caller's
transaction (a ``Session``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotline.store.models import CallbackRow

PENDING, CALLING, ANSWERED, UNANSWERED, CANCELLED = (
    "pending",
    "calling",
    "answered",
    "unanswered",
    "cancelled",
)
OPEN = (PENDING, CALLING)


@dataclass(frozen=True)
class CallbackRequest:
    """What a call that asked for a callback leaves: whom to call, from where, about what."""

    call_sid: str
    phone: str
    caller_id: str | None
    hotline_number: str | None
    language: str
    topic: str | None
    order_id: str | None
    seller_id: str | None
    due_at: datetime


@dataclass(frozen=True)
class Claim:
    """A callback handed to one scheduler for one call: which try this is (from 1)."""

    id: int
    phone: str
    hotline_number: str | None
    attempts: int


def request(session: Session, wanted: CallbackRequest, now: datetime) -> bool:
    """Store the request; ``False`` when this call had stored it already (a retried webhook)."""
    table = CallbackRow.__table__
    dialect = postgresql if _is_pg(session) else sqlite
    added = session.execute(
        dialect.insert(table)
        .values(
            call_sid=wanted.call_sid,
            phone=wanted.phone,
            caller_id=wanted.caller_id,
            hotline_number=wanted.hotline_number,
            language=wanted.language,
            topic=wanted.topic,
            order_id=wanted.order_id,
            seller_id=wanted.seller_id,
            requested_at=now,
            due_at=wanted.due_at,
            status=PENDING,
            attempts=0,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["call_sid"])
        .execution_options(preserve_rowcount=True)
    )
    return added.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# A new call from ``number`` cancels the callbacks not yet placed to or asked from it. One
# statement, run by ``cancel_for`` and, prepared, by the Voice URL's write (``CallWork``); the
# status index narrows it to the pending rows, a handful, so it costs the webhook next to nothing.
CANCEL_PENDING = (
    update(CallbackRow)
    .where(
        CallbackRow.status == bindparam("pending"),
        or_(CallbackRow.phone == bindparam("number"), CallbackRow.caller_id == bindparam("caller")),
    )
    .values(status=bindparam("cancelled"), updated_at=bindparam("now"))
)


# ``CANCEL_PENDING``'s parameters, in the order ``cancel_row`` gives their values.
CANCEL_ORDER = ("pending", "cancelled", "number", "caller", "now")


def cancel_row(number: str, now: datetime) -> tuple[object, ...]:
    """``CANCEL_PENDING``'s parameters for a call from ``number`` at ``now``, in
    ``CANCEL_ORDER``."""
    return (PENDING, CANCELLED, number, number, now)


def cancel_values(number: str, now: datetime) -> dict[str, object]:
    """``CANCEL_PENDING``'s parameters for a call from ``number`` at ``now``, by name."""
    return dict(zip(CANCEL_ORDER, cancel_row(number, now), strict=True))


def cancel_for(session: Session, number: str, now: datetime) -> int:
    """Cancel the callbacks not yet placed to or asked from ``number``; how many were."""
    changed = session.execute(
        CANCEL_PENDING.execution_options(synchronize_session=False), cancel_values(number, now)
    )
    return changed.rowcount  # type: ignore[attr-defined, no-any-return]


def _due(now: datetime) -> ColumnElement[bool]:
    # A pending row at its time, or a claim that lapsed (its scheduler died, or no status
    # callback came): both are the job's to act on.
    return and_(CallbackRow.status.in_(OPEN), CallbackRow.due_at <= now)


def due_ids(session: Session, now: datetime, limit: int = 100) -> list[int]:
    """The callbacks to act on at ``now``, earliest first."""
    query = select(CallbackRow.id).where(_due(now)).order_by(CallbackRow.due_at).limit(limit)
    return list(session.scalars(query))


def earliest_due(session: Session) -> datetime | None:
    """When the next callback (or lapsing claim) is due; ``None`` when none is open."""
    found: datetime | None = session.scalar(
        select(func.min(CallbackRow.due_at)).where(CallbackRow.status.in_(OPEN))
    )
    if found is None:
        return None
    # ``func.min`` bypasses the column's type on SQLite: the naive UTC value comes back as is.
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def claim(session: Session, row_id: int, now: datetime, lapse: timedelta) -> Claim | None:
    """Claim a due pending row for one call at ``now``; ``None`` when not due or taken."""
    row = session.get(CallbackRow, row_id)
    if row is None or row.status != PENDING or row.due_at > now:
        return None
    if not _change(session, row.id, PENDING, row.attempts).values(
        status=CALLING,
        attempts=row.attempts + 1,
        due_at=now + lapse,
        call_ref=None,
        updated_at=now,
    ):
        return None
    return Claim(row.id, row.phone, row.hotline_number, row.attempts + 1)


class _Change:
    """A conditional UPDATE of one row: applied by ``values``, which says whether it was."""

    def __init__(self, session: Session, conditions: list[ColumnElement[bool]]) -> None:
        self.session, self.conditions = session, conditions

    def values(self, **values: object) -> bool:
        changed = self.session.execute(
            update(CallbackRow)
            .where(*self.conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return changed.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def _change(session: Session, row_id: int, status: str, attempts: int) -> _Change:
    return _Change(
        session,
        [CallbackRow.id == row_id, CallbackRow.status == status, CallbackRow.attempts == attempts],
    )


def placed(session: Session, claim_: Claim, call_ref: str) -> bool:
    """The claimed try's outbound call is ``call_ref`` (its status callback will name it)."""
    return _change(session, claim_.id, CALLING, claim_.attempts).values(call_ref=call_ref)


def by_call_ref(session: Session, call_ref: str) -> CallbackRow | None:
    """The callback whose current (or last) outbound call is ``call_ref``."""
    return session.scalar(select(CallbackRow).where(CallbackRow.call_ref == call_ref))


def mark_answered(session: Session, row: CallbackRow, now: datetime, call_ref: str) -> bool:
    """The buyer picked up the try ``row`` is calling on (the outbound call ``call_ref``)."""
    return _change(session, row.id, CALLING, row.attempts).values(
        status=ANSWERED, last_result="answered", call_ref=call_ref, updated_at=now
    )


def mark_retry(
    session: Session, row: CallbackRow, result: str, retry_at: datetime, now: datetime
) -> bool:
    """Nobody answered this try (``result``): pending again, due at ``retry_at``."""
    return _change(session, row.id, CALLING, row.attempts).values(
        status=PENDING, due_at=retry_at, last_result=result, updated_at=now
    )


def mark_unanswered(
    session: Session, row: CallbackRow, result: str, thread_id: int | None, now: datetime
) -> bool:
    """Nobody answered the last try: given up, the warehouse's thread holding the request."""
    return _change(session, row.id, CALLING, row.attempts).values(
        status=UNANSWERED, last_result=result, thread_id=thread_id, updated_at=now
    )


def rows(session: Session) -> list[CallbackRow]:
    """Every callback, oldest first (for the tests and the transcript)."""
    return list(session.scalars(select(CallbackRow).order_by(CallbackRow.id)))
