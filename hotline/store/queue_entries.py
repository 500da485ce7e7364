"""Callers' places in the agents' queues: one row per call, every write conditional.

Each write says in its ``WHERE`` what it expects the row to be (waiting, or ringing for this very
claim, ...), and its row count says whether it was so: two agents claiming one caller, a Twilio
retry and its original, a caller hanging up while an agent is being rung for them — whoever
writes second finds the row changed and writes nothing. That holds on SQLite (one writer at a
time) and on PostgreSQL (an UPDATE waits for the row's other writer, then checks its ``WHERE``
again) alike. Every function works inside the caller's transaction (a ``Connection``).

Statuses: ``waiting`` -> ``ringing`` (claimed: an agent is being rung) -> ``taken`` (talking with
an agent); ``ringing`` -> ``waiting`` (the agent did not answer); ``taken`` -> ``waiting`` (put
back by an agent, keeping the place); ``waiting`` or ``ringing`` -> ``left`` (the caller left the
queue), ``left`` -> ``waiting`` (entered again, keeping the place).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, Table, Update, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hotline.store.models import QueueEntryRow

_ENTRIES: Table = QueueEntryRow.__table__  # type: ignore[assignment]
WAITING, RINGING, TAKEN, LEFT = "waiting", "ringing", "taken", "left"
# Twilio's QueueResult for a caller an agent's <Dial><Queue> took (or is taking: Twilio "has been
# instructed to bridge the enqueued party").
BRIDGED = "bridged"
BRIDGING = "bridging-in-process"
# Twilio's QueueResult for a caller moved out of the queue by its REST API: whoever moved them
# (the hotline's own take, which claimed them first) says what became of the entry.
REDIRECTED = ("redirected", "redirected-from-bridged")


@dataclass(frozen=True)
class CallerContext:
    """What the IVR learnt of a caller, kept with their place in the queue."""

    from_number: str | None = None
    language: str | None = None
    topic: str | None = None
    order_id: str | None = None
    seller_id: str | None = None
    question: str | None = None


@dataclass(frozen=True)
class QueueEntry:
    """A caller's place in a queue, as stored."""

    id: int
    call_sid: str
    queue: str
    status: str
    first_entered_at: datetime
    entered_at: datetime
    from_number: str | None
    language: str | None
    topic: str | None
    order_id: str | None
    seller_id: str | None
    question: str | None
    claims: int
    taken_by: str | None
    claimed_at: datetime | None
    answered_at: datetime | None
    left_at: datetime | None
    result: str | None
    transferred: bool
    last_summary: str | None
    conference: str | None


@dataclass(frozen=True)
class Claim:
    """An agent's claim on a caller: the entry, the call and which claim of it this is."""

    entry_id: int
    call_sid: str
    agent_id: str
    number: int  # the entry's ``claims`` when this claim was made


def enter(
    conn: Connection, call_sid: str, queue: str, context: CallerContext, now: datetime
) -> bool:
    """Put the caller in ``queue`` as waiting; ``False`` when they already are in it.

    A retried webhook finds the entry and writes nothing. A caller who had left and enters again
    keeps the place of their first entry.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # ``inline``: no RETURNING of the new id; ``preserve_rowcount``: SQLAlchemy keeps an INSERT's
    # row count only when asked (it is what says whether the row was added).
    added = conn.execute(
        dialect.insert(_ENTRIES)
        .inline()
        .execution_options(preserve_rowcount=True)
        .values(
            call_sid=call_sid,
            queue=queue,
            status=WAITING,
            first_entered_at=now,
            entered_at=now,
            claims=0,
            transferred=False,
            **asdict(context),
        )
        .on_conflict_do_nothing(index_elements=["call_sid"])
    )
    if added.rowcount == 1:
        return True
    back = conn.execute(
        _change(call_sid, LEFT).values(
            status=WAITING, queue=queue, entered_at=now, left_at=None, taken_by=None
        )
    )
    return back.rowcount == 1


def leave(conn: Connection, call_sid: str, result: str, now: datetime) -> str | None:
    """Record how the caller left the queue (Twilio's ``QueueResult``); the entry's status after.

    ``bridged`` (or ``bridging-in-process``): an agent's ``<Dial><Queue>`` took them.
    ``redirected``: the REST API moved them out; a claimed entry stays as its claim has it, a
    waiting one has left. Anything else (they hung up, ``<Leave>``, the queue was full, an
    error): they left, claimed or not. An entry already taken or left stays so (a retry, or a
    result after an agent took the caller). ``None``: the call has no entry.
    """
    c = _ENTRIES.c
    if result in (BRIDGED, BRIDGING):
        conn.execute(
            _change(call_sid, WAITING, RINGING).values(
                status=TAKEN, result=result, answered_at=func.coalesce(c.answered_at, now)
            )
        )
    elif result in REDIRECTED:
        conn.execute(_change(call_sid, WAITING).values(status=LEFT, result=result, left_at=now))
    else:
        conn.execute(
            _change(call_sid, WAITING, RINGING).values(status=LEFT, result=result, left_at=now)
        )
    status: str | None = conn.execute(select(c.status).where(c.call_sid == call_sid)).scalar()
    return status


def entry(conn: Connection, call_sid: str) -> QueueEntry | None:
    """The call's entry, if it has one."""
    row = conn.execute(select(_ENTRIES).where(_ENTRIES.c.call_sid == call_sid)).first()
    return None if row is None else QueueEntry(**row._asdict())


def entry_by_id(conn: Connection, entry_id: int) -> QueueEntry | None:
    """The entry with this id, if any."""
    row = conn.execute(select(_ENTRIES).where(_ENTRIES.c.id == entry_id)).first()
    return None if row is None else QueueEntry(**row._asdict())


def in_line(conn: Connection, queue: str, limit: int = 500) -> list[QueueEntry]:
    """The callers in ``queue`` (waiting, or being rung for) in the order of their first entry."""
    c = _ENTRIES.c
    rows = conn.execute(
        select(_ENTRIES)
        .where(c.queue == queue, c.status.in_((WAITING, RINGING)))
        .order_by(c.first_entered_at, c.id)
        .limit(limit)
    )
    return [QueueEntry(**row._asdict()) for row in rows]


def waiting_calls(conn: Connection, queue: str, limit: int) -> list[str]:
    """The CallSids of the first ``limit`` waiting callers (not claimed), first entry first."""
    c = _ENTRIES.c
    rows = conn.execute(
        select(c.call_sid)
        .where(c.queue == queue, c.status == WAITING)
        .order_by(c.first_entered_at, c.id)
        .limit(limit)
    )
    return list(rows.scalars())


def claim(conn: Connection, call_sid: str, agent_id: str, now: datetime) -> Claim | None:
    """Claim the waiting caller for ``agent_id`` (now ringing); ``None``: not waiting any more.

    Of any number of agents claiming one caller at once, exactly one gets the claim.
    """
    c = _ENTRIES.c
    claimed = conn.execute(
        _change(call_sid, WAITING).values(
            status=RINGING, taken_by=agent_id, claimed_at=now, claims=c.claims + 1
        )
    )
    if claimed.rowcount != 1:
        return None
    row = conn.execute(select(c.id, c.claims).where(c.call_sid == call_sid)).one()
    return Claim(entry_id=row.id, call_sid=call_sid, agent_id=agent_id, number=row.claims)


def connect(conn: Connection, claim: Claim, now: datetime) -> bool:
    """The claiming agent answered: the caller is taken; ``False`` when the claim is stale (the
    caller left meanwhile, or the claim was given up)."""
    c = _ENTRIES.c
    taken = conn.execute(
        _claimed(claim).values(status=TAKEN, answered_at=func.coalesce(c.answered_at, now))
    )
    return taken.rowcount == 1


def set_conference(conn: Connection, claim: Claim, name: str) -> bool:
    """Name the conference of ``claim`` (still ringing); ``False`` when the claim is stale."""
    return conn.execute(_claimed(claim).values(conference=name)).rowcount == 1


def talking_with(conn: Connection, call_sid: str, agent_id: str) -> QueueEntry | None:
    """The call's entry if ``agent_id`` is talking with the caller (taken by them), else None."""
    found = entry(conn, call_sid)
    if found is None or found.status != TAKEN or found.taken_by != agent_id:
        return None
    return found


def release(conn: Connection, claim: Claim) -> bool:
    """The claiming agent did not answer: the caller waits again, in their place."""
    released = conn.execute(_claimed(claim).values(status=WAITING, taken_by=None))
    return released.rowcount == 1


def put_back(conn: Connection, call_sid: str, agent_id: str, summary: str, now: datetime) -> bool:
    """The agent talking with the caller hands them back to the queue: waiting in their first
    entry's place, marked transferred with the agent's summary; ``False`` unless that agent
    has the caller."""
    back = conn.execute(
        _change(call_sid, TAKEN)
        .where(_ENTRIES.c.taken_by == agent_id)
        .values(
            status=WAITING, entered_at=now, taken_by=None, transferred=True, last_summary=summary
        )
    )
    return back.rowcount == 1


def undo_put_back(conn: Connection, before: QueueEntry) -> bool:
    """Twilio refused to move the caller put back: they are still with the agent, as ``before``
    says (``False``: the entry changed meanwhile, e.g. the caller hung up)."""
    undone = conn.execute(
        _change(before.call_sid, WAITING)
        .where(_ENTRIES.c.claims == before.claims)
        .values(
            status=before.status,
            entered_at=before.entered_at,
            taken_by=before.taken_by,
            transferred=before.transferred,
            last_summary=before.last_summary,
        )
    )
    return undone.rowcount == 1


def _change(call_sid: str, *statuses: str) -> Update:
    """An UPDATE of the call's entry that writes only while its status is one of ``statuses``."""
    c = _ENTRIES.c
    return update(_ENTRIES).where(c.call_sid == call_sid, c.status.in_(statuses))


def _claimed(claim: Claim) -> Update:
    """An UPDATE that writes only while ``claim`` is the entry's latest claim and still ringing."""
    c = _ENTRIES.c
    return update(_ENTRIES).where(
        c.id == claim.entry_id, c.status == RINGING, c.claims == claim.number
    )
