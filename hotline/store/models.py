"""hotline's tables as SQLAlchemy models: sellers, orders, call events (with the call's state),
threads, outbox, and the agents' tables: their states, events and console sessions, queue
entries, transfers; the days' rolled-up figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC (SQLite keeps no offset of its own)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, the stored text in one step (what the two processors would make)."""
        general = super().bind_processor(dialect)
        if dialect.name != "sqlite" or general is None:
            return general
        # Every webhook binds its ``now`` twice or three times (the call's times, the event's);
        # SQLAlchemy's way (this type's UTC conversion, then SQLite's DATETIME formatting a dict)
        # costs 4 µs each. The same text, formatted directly and kept for the last value:
        # ``tests/test_store.py`` checks it against the general processor with hypothesis.
        last: tuple[datetime, str] | None = None

        def process(value: Any) -> Any:
            nonlocal last
            if not isinstance(value, datetime) or value.tzinfo is None:
                return general(value)  # None, and the errors, exactly as SQLAlchemy has them
            seen = last
            if seen is not None and seen[0] is value:
                return seen[1]
            utc = value if value.tzinfo is UTC else value.astimezone(UTC)  # mostly UTC already
            text = utc.isoformat(" ", "microseconds")[:26]  # without "+00:00"
            last = (value, text)
            return text

        return process


class Base(DeclarativeBase):
    """Declarative base of hotline's tables."""


class SellerRow(Base):
    """A seller, loaded from the directory in the config."""

    __tablename__ = "sellers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    opens: Mapped[str | None] = mapped_column(String(5))
    closes: Mapped[str | None] = mapped_column(String(5))
    days: Mapped[str | None] = mapped_column(String(40))  # "0,1,2,3,4" (0 = Monday)


class OrderRow(Base):
    """An order: who bought it (by phone) from which seller."""

    __tablename__ = "orders"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    buyer_phone: Mapped[str] = mapped_column(String(32), index=True)
    placed: Mapped[date | None] = mapped_column(Date)
    seller: Mapped[SellerRow] = relationship()


class OrderSellerRow(Base):
    """One seller of an order's items: one row for an order, several for a combined order."""

    __tablename__ = "order_sellers"
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"), primary_key=True)


class CallEventRow(Base):
    """One webhook step of a call, and the call's state after it: the call is its latest row.

    Each webhook appends one row (``seq`` counts a call's rows from 1): when, which webhook step,
    what the caller gave, what was decided, and everything the hotline knows about the call by
    then. So a step is one append (no row of the call is ever updated), the call's state is the
    row with the highest ``seq``, and the unique ``(call_sid, seq)`` both finds that row and makes
    a second writer of the same ``seq`` (a concurrent webhook of the call, a retry) notice the
    other. ``id`` orders all rows as they were written.
    Rows migrated from before this layout with no call (events of CallSids the hotline never
    started) have no state: ``started_at`` and the other state columns are NULL.
    """

    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("call_sid", "seq", name="uq_call_events_call_sid_seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())  # the call's updated_at
    step: Mapped[str] = mapped_column(String(64))  # the webhook's step (what it answered)
    input: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(Text)
    # The call's state after the step (``CallState``; its ``step`` is ``call_step`` here).
    from_number: Mapped[str | None] = mapped_column(String(32))
    to_number: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    call_step: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(String(32))
    seller_id: Mapped[str | None] = mapped_column(String(64))
    question: Mapped[str | None] = mapped_column(Text)
    seller_accepted: Mapped[bool | None] = mapped_column(Boolean)
    dial_status: Mapped[str | None] = mapped_column(String(32))
    queue_result: Mapped[str | None] = mapped_column(String(32))
    thread_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(32))


class ThreadRow(Base):
    """A Message Center thread (``kind`` "message") or Discussion (``kind`` "discussion", with a
    ``reason``) between a buyer and the party it is assigned to (``party``: seller|warehouse).

    ``seller_id`` is the seller of the thread's order whoever is assigned (NULL: a combined
    order's delivery Discussion, which no seller sees, or no order). ``due_at`` is the 24 h mark;
    ``buyer_key_hash`` the SHA-256 of the buyer's link secret (NULL until one is issued).
    ``answered_at`` is the seller's or warehouse's first response, ``forwarded_at`` the latest
    forward; ``overdue_at`` the 24 h mark the thread passed unanswered, set once by the
    ``reminders`` job and never cleared.
    """

    __tablename__ = "threads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    party: Mapped[str] = mapped_column(String(16))  # the assignee: seller | warehouse
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"))
    order_id: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(32))
    buyer_phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16), default="message", server_default="message")
    reason: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    buyer_key_hash: Mapped[str | None] = mapped_column(String(64))
    combined: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    messages: Mapped[list[MessageRow]] = relationship(
        back_populates="thread", order_by="MessageRow.id", cascade="all, delete-orphan"
    )


class MessageRow(Base):
    """A message in a thread, never edited or deleted: ``author`` is the role (buyer, seller,
    warehouse, system), ``author_id`` the seller's or agent's id (NULL: the buyer, the system,
    the operator), ``kind`` "message" or "note" (a forward's note, never shown to the buyer)."""

    __tablename__ = "thread_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    author: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="message")  # message | note
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    thread: Mapped[ThreadRow] = relationship(back_populates="messages")


class OutboxRow(Base):
    """A notification to deliver (e.g. "a new thread for seller X"), and how its delivery went:
    one per kind, thread, message that caused it and recipient, so a retry never writes a second.

    ``status``: pending (due at ``next_attempt_at``, or at once when it is NULL), sending (claimed:
    ``next_attempt_at`` is then when the claim lapses, should its sender die mid-send), sent,
    failed (after ``[notifications] max_tries``), skipped (nobody to send it to, ``last_error``
    says why). ``tries`` counts the claims; ``sent_ref`` is what the receiving side calls it
    (the mail's Message-ID, the SMS's SID).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint(
            "kind", "thread_id", "message_id", "recipient", name="uq_outbox_kind_thread_message"
        ),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("thread_messages.id"))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_ref: Mapped[str | None] = mapped_column(String(255))


class SchedulerLeaseRow(Base):
    """Who leads the schedulers: on SQLite the lease itself (taken over once ``expires_at``
    passes); on PostgreSQL, where an advisory lock decides, only a note of the holder."""

    __tablename__ = "scheduler_lease"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgentStateRow(Base):
    """An agent's state now: one row per agent who ever changed state (none: offline).

    ``version`` counts the agent's changes: a change is written only over the version it was
    decided on, so two workers deciding at once cannot both win.
    """

    __tablename__ = "agent_states"
    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    call_sid: Mapped[str | None] = mapped_column(String(64))  # the call they ring for or talk on
    version: Mapped[int] = mapped_column(Integer)


class AgentSessionRow(Base):
    """The page sessions of an agent (``agent_id`` their id) or a seller (``seller:<id>``):
    ``generation`` is bumped by a sign-out, which ends every session (every copy of the cookie)
    signed in under an older one. No row: generation 0."""

    __tablename__ = "agent_sessions"
    agent_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)


class AgentEventRow(Base):
    """One change of an agent's state: from, to, when, who caused it and why."""

    __tablename__ = "agent_events"
    __table_args__ = (Index("ix_agent_events_agent_id_at", "agent_id", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(64))  # the agent's id, "operator", "twilio", "clock"...
    why: Mapped[str] = mapped_column(Text)
    call_sid: Mapped[str | None] = mapped_column(String(64))


class QueueEntryRow(Base):
    """A caller's place in an agents' queue, one per call, with what the IVR learnt of them.

    ``first_entered_at`` orders the queue and never changes (a caller put back keeps their
    place); ``entered_at`` is the latest entry. ``status``: waiting, ringing (claimed: an agent
    is being rung for them), taken (talking with an agent), left. ``claims`` counts the claims,
    and a claim's later steps are written only while it is still the latest one.
    """

    __tablename__ = "queue_entries"
    __table_args__ = (
        UniqueConstraint("call_sid", name="uq_queue_entries_call_sid"),
        Index("ix_queue_entries_queue_status_first", "queue", "status", "first_entered_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    first_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # What the IVR learnt, as the call's state had it when the caller first entered.
    from_number: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(String(32))
    seller_id: Mapped[str | None] = mapped_column(String(64))
    question: Mapped[str | None] = mapped_column(Text)
    claims: Mapped[int] = mapped_column(Integer, default=0)
    taken_by: Mapped[str | None] = mapped_column(String(64))  # the agent of the latest claim
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first agent talked
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[str | None] = mapped_column(String(32))  # Twilio's QueueResult, the latest
    transferred: Mapped[bool] = mapped_column(Boolean, default=False)
    last_summary: Mapped[str | None] = mapped_column(Text)
    # The opaque conference name (hl-<random>) of the latest claim: where agent and caller talk.
    conference: Mapped[str | None] = mapped_column(String(64))


class TransferRow(Base):
    """An agent's transfer of a call: who, when, what kind, to whom, the summary, the outcome."""

    __tablename__ = "transfers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # warm, cold, queue, thread
    target: Mapped[str | None] = mapped_column(String(64))  # a seller's or an agent's id
    summary: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The seller's call a warm transfer placed (canceled if the caller hangs up while it rings).
    target_call: Mapped[str | None] = mapped_column(String(64))


class DailyFiguresRow(Base):
    """A local day's figures, rolled up once the day is over: ``kind`` "queue" (``subject`` the
    queue) or "sales_quality" (``subject`` ``seller:<id>`` or ``warehouse``), as JSON.

    One row per (day, kind, subject), written once. ``pruned_at``: when the day's call rows were
    deleted (``hotline prune``), after which the queue figures of the day are read from here.
    """

    __tablename__ = "daily_figures"
    __table_args__ = (
        UniqueConstraint("day", "kind", "subject", name="uq_daily_figures_day_kind_subject"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(80))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    pruned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CallbackRow(Base):
    """A buyer's request, made in a call outside the hours, to be called back when it opens.

    One per call that asked (``call_sid``), so a retried webhook stores one. ``phone`` is whom to
    call, ``hotline_number`` the number they had called (the callback comes from it); ``topic``,
    ``order_id``, ``seller_id`` and ``language`` go with them into the agents' queue.
    ``status``: pending (due at ``due_at``), calling (claimed: ``call_ref`` is the outbound call,
    ``due_at`` when the claim lapses), answered, unanswered (after the last try: ``thread_id``
    holds the warehouse's thread), cancelled (the buyer called again first). ``attempts`` counts
    the calls placed; ``last_result`` is Twilio's CallStatus of the last one.
    """

    __tablename__ = "callbacks"
    __table_args__ = (
        Index("ix_callbacks_status_due_at", "status", "due_at"),
        Index("ix_callbacks_phone_status", "phone", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(String(32))
    caller_id: Mapped[str | None] = mapped_column(String(32))  # the asking call's From
    hotline_number: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(String(64))
    seller_id: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    call_ref: Mapped[str | None] = mapped_column(String(64))
    last_result: Mapped[str | None] = mapped_column(String(32))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
