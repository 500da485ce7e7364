"""The job ``reminders``: the assignee of an unanswered thread is reminded before its 24 h mark,
and a thread that passes the mark unanswered is marked overdue.

The points are ``[notifications] reminder_hours`` after the buyer's first message (12 h and 20 h
by default), in real hours (a DST change moves the wall clock, not the points), like the mark
(``message_center.response_hours``). What a run does at ``now``:

- each point passed and not yet written becomes an outbox row (``reminder_<h>h``, one per thread
  and point, mailed by the ``outbox`` job) to the party assigned now, unless the thread has had a
  response, or its mark has passed too (then the mark says it all), or it was forwarded after the
  point (that point was the previous assignee's: the new one gets only the points after the
  forward; the clock is not reset);
- a thread whose mark has passed with no response before it gets ``overdue_at`` = its mark,
  once. A later response does not clear it: the thread is answered, and was overdue.

Rows and marks are written in transactions that find what is already there (the outbox's unique
row per kind, thread, message and recipient; ``overdue_at`` set only while NULL), so a run that
comes late writes each passed point once, and two runs at once write nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from hotline.jobs.context import JobContext
from hotline.messages import outbox
from hotline.messages.conversation import BUYER, MESSAGE, SELLER, WAREHOUSE, assignee_recipient
from hotline.rules.sales_quality import response_mark
from hotline.store.models import OutboxRow, ThreadRow


@dataclass
class ReminderReport:
    """What one run wrote: reminders as (thread, kind, recipient), threads marked overdue."""

    reminded: list[tuple[int, str, str]] = field(default_factory=list)
    marked: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Work:
    """Something due for a thread at ``at``: a reminder (``kind``, to ``recipient``) or, with
    ``kind`` None, the overdue mark."""

    at: datetime
    kind: str | None = None
    recipient: str | None = None
    hours: int | None = None


def send_reminders(context: JobContext, now: datetime) -> ReminderReport:
    """Write every reminder and overdue mark due at ``now`` (the job ``reminders``)."""
    report = ReminderReport()
    for thread_id, work in _candidates(context, now):
        for item in work:
            if item.at > now:
                continue
            if item.kind is None:
                if _mark_overdue(context, thread_id, item.at):
                    report.marked.append(thread_id)
            elif _remind(context, thread_id, item, now):
                assert item.recipient is not None
                report.reminded.append((thread_id, item.kind, item.recipient))
    return report


def reminders_due(context: JobContext, now: datetime) -> datetime | None:
    """The earliest instant at or after ``now`` when ``send_reminders`` has work (``None``:
    no thread awaits a reminder or its mark)."""
    times = [item.at for _, work in _candidates(context, now) for item in work]
    return max(now, min(times)) if times else None


def pending_work(
    thread: ThreadRow,
    written: Iterable[str],
    hours: Sequence[int],
    response_hours: int,
    now: datetime,
) -> list[Work]:
    """What is still to do for ``thread`` (its reminder kinds ``written`` already), due or not."""
    said = [m for m in thread.messages if m.kind == MESSAGE]
    asked = next((m for m in said if m.author == BUYER), None)
    if asked is None:
        return []
    first = asked.created_at.astimezone(UTC)
    mark = response_mark(first, response_hours)
    response = next((m for m in said if m.author in (SELLER, WAREHOUSE) and m.id > asked.id), None)
    work = []
    if thread.overdue_at is None and (response is None or _utc(response.created_at) >= mark):
        work.append(Work(mark))
    if response is not None or thread.answered_at is not None or now >= mark:
        return work
    done = set(written)
    forwarded = _utc(thread.forwarded_at) if thread.forwarded_at is not None else None
    for h in hours:
        kind = outbox.reminder_kind(h)
        at = first + timedelta(hours=h)
        if kind in done or (forwarded is not None and forwarded > at):
            continue  # sent, or passed before a forward: not the new assignee's
        work.append(Work(at, kind, assignee_recipient(thread), h))
    return work


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def _reading(context: JobContext) -> Session:
    return Session(context.store.engine.execution_options(hotline_read_only=True))


def _candidates(context: JobContext, now: datetime) -> list[tuple[int, list[Work]]]:
    """The threads that may have work: not marked, and unanswered or answered at or after their
    due time (so a thread answered in time is never read again)."""
    query = (
        select(ThreadRow)
        .where(
            ThreadRow.overdue_at.is_(None),
            or_(
                ThreadRow.answered_at.is_(None),
                ThreadRow.due_at.is_(None),
                ThreadRow.answered_at >= ThreadRow.due_at,
            ),
        )
        .options(selectinload(ThreadRow.messages))
        .order_by(ThreadRow.id)
    )
    found = []
    with _reading(context) as session:
        threads = session.scalars(query).all()
        written = _written(session, [t.id for t in threads])
        for thread in threads:
            work = _work_for(context, thread, written.get(thread.id, set()), now)
            if work:
                found.append((thread.id, work))
    return found


def _work_for(
    context: JobContext, thread: ThreadRow, written: set[str], now: datetime
) -> list[Work]:
    settings = context.settings
    return pending_work(
        thread,
        written,
        settings.jobs.notifications.reminder_hours,
        settings.routing.response_hours,
        now,
    )


def _written(session: Session, thread_ids: list[int]) -> dict[int, set[str]]:
    """The reminder kinds already written, by thread."""
    written: dict[int, set[str]] = {}
    for start in range(0, len(thread_ids), 500):  # a bounded IN list
        chunk = thread_ids[start : start + 500]
        rows = session.execute(
            select(OutboxRow.thread_id, OutboxRow.kind).where(
                OutboxRow.thread_id.in_(chunk), OutboxRow.kind.startswith(f"{outbox.REMINDER}_")
            )
        )
        for thread_id, kind in rows:
            if thread_id is not None:
                written.setdefault(thread_id, set()).add(kind)
    return written


def _remind(context: JobContext, thread_id: int, item: Work, now: datetime) -> bool:
    """Write the reminder ``item`` if it is still due (looked at again in the transaction)."""
    with context.store.session() as session:
        thread = session.get(ThreadRow, thread_id)
        if thread is None:
            return False
        written = _written(session, [thread_id]).get(thread_id, set())
        still = [w for w in _work_for(context, thread, written, now) if w.kind == item.kind]
        if not still or still[0].recipient != item.recipient:
            return False  # answered, forwarded or written meanwhile
        asked = next(m for m in thread.messages if m.kind == MESSAGE and m.author == BUYER)
        mark = response_mark(asked.created_at, context.settings.routing.response_hours)
        assert item.kind is not None and item.recipient is not None
        return outbox.notify(
            session,
            kind=item.kind,
            recipient=item.recipient,
            thread_id=thread_id,
            message_id=asked.id,
            payload={
                "thread": thread_id,
                "order": thread.order_id,
                "hours": item.hours,
                "mark": f"{mark:%Y-%m-%d %H:%M} UTC",
            },
            now=now,
        )


def _mark_overdue(context: JobContext, thread_id: int, mark: datetime) -> bool:
    """Set the thread's ``overdue_at`` to its mark unless it is set already (compare-and-set)."""
    with context.store.session() as session:
        changed = session.execute(
            update(ThreadRow)
            .where(ThreadRow.id == thread_id, ThreadRow.overdue_at.is_(None))
            .values(overdue_at=mark)
            .execution_options(synchronize_session=False)
        )
        return changed.rowcount == 1  # type: ignore[attr-defined, no-any-return]
