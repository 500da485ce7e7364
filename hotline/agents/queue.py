"""The callers waiting for an agent, as agents see them, and taking one.

The queue is the store's queue entries (``store.queue_entries``; the IVR writes them as it puts a
caller in the queue). Here: the callers in line with what an agent needs to know (how long they
have waited, what the IVR learnt, earlier Message Center threads of their order, whether an agent
put them back and with what summary), and ``take``: one caller claimed for one agent, the agent
ringing for them, in one transaction.

Two agents taking at the same moment get two different callers, or one of them nobody: the claim
is a conditional UPDATE that only one of them can win (see ``store.queue_entries``). Locks are
taken in one order, the entry's row before the agent's, so two takes never deadlock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Table, or_, select

from hotline.agents import presence
from hotline.agents.presence import Outcome
from hotline.agents.states import AgentState, Cause
from hotline.config.settings import Settings
from hotline.ivr.flow import Flow
from hotline.messages.threads import reference
from hotline.rules import phones
from hotline.rules.routing import Topic, menu_topic, sub_topic
from hotline.store import queue_entries
from hotline.store.database import Store
from hotline.store.models import ThreadRow
from hotline.store.queue_entries import Claim, QueueEntry

_THREADS: Table = ThreadRow.__table__  # type: ignore[assignment]
# "Take next" tries the first few waiting callers; if others claimed all of them meanwhile, it
# looks again, this many times, before it says nobody is waiting.
_CANDIDATES = 5
_ROUNDS = 5
EARLIER_THREADS_SHOWN = 10
# A topic in words as the caller's language says it: (language, topic) -> words.
TopicWords = Callable[[str | None, str], str]


@dataclass(frozen=True)
class EarlierThread:
    """A Message Center thread opened before about the caller's order or from their number."""

    id: int
    order_id: str | None
    party: str
    topic: str | None
    status: str
    created_at: datetime


@dataclass(frozen=True)
class WaitingCaller:
    """A caller in line: their entry, how long they have waited, their earlier threads."""

    entry: QueueEntry
    waiting_seconds: int  # since they last entered the queue
    threads: tuple[EarlierThread, ...]
    topic_words: TopicWords | None = None
    seller_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The caller as the JSON API shows them (the number masked)."""
        e = self.entry
        topic, narrower = topics_of(e.topic)
        return {
            "call": e.call_sid,
            "status": e.status,
            "waiting_seconds": self.waiting_seconds,
            "first_entered_at": e.first_entered_at.isoformat(),
            "entered_at": e.entered_at.isoformat(),
            "from_number": phones.mask(e.from_number),
            "language": e.language,
            "topic": topic,
            "topic_words": self._words(topic),
            "sub_topic": narrower,
            "sub_topic_words": self._words(narrower),
            "order": e.order_id,
            "seller": e.seller_id,
            "seller_name": self.seller_name,
            "question": e.question,
            "transferred": e.transferred,
            "last_summary": e.last_summary,
            "ringing_agent": e.taken_by if e.status == queue_entries.RINGING else None,
            "earlier_threads": [
                {
                    "id": t.id,
                    "reference": reference(t.id),
                    "order": t.order_id,
                    "party": t.party,
                    "topic": t.topic,
                    "status": t.status,
                    "created_at": t.created_at.isoformat(),
                }
                for t in self.threads
            ],
        }

    def _words(self, topic: str | None) -> str | None:
        if topic is None or self.topic_words is None:
            return None
        return self.topic_words(self.entry.language, topic)


def topics_of(stored: str | None) -> tuple[str | None, str | None]:
    """The main-menu topic and the narrower one (or None) of a call's stored topic."""
    if stored is None:
        return None, None
    try:
        topic = Topic(stored)
    except ValueError:  # not one of today's topics (an older row): shown as it is
        return stored, None
    narrower = sub_topic(topic)
    return menu_topic(topic).value, narrower.value if narrower else None


def in_line(
    conn: Connection,
    queue: str,
    now: datetime,
    topic_words: TopicWords | None = None,
    seller_names: Mapping[str, str] | None = None,
) -> list[WaitingCaller]:
    """The callers in ``queue`` (waiting, or being rung for), first entry first.

    ``topic_words`` says their topics in words; ``seller_names``: the sellers' names by id.
    """
    entries = queue_entries.in_line(conn, queue)
    threads = _earlier_threads(conn, entries)
    names = seller_names or {}
    return [
        WaitingCaller(
            entry=e,
            waiting_seconds=max(0, int((now - e.entered_at).total_seconds())),
            threads=threads.get(e.call_sid, ()),
            topic_words=topic_words,
            seller_name=names.get(e.seller_id) if e.seller_id else None,
        )
        for e in entries
    ]


def as_agents_see_them(
    conn: Connection, settings: Settings, flow: Flow, now: datetime
) -> list[WaitingCaller]:
    """The callers in the hotline's queue with their topics in words and their sellers' names."""
    names = {s.id: s.name for s in settings.sellers}
    return in_line(conn, settings.queue, now, _topic_words(flow, settings), names)


def _topic_words(flow: Flow, settings: Settings) -> TopicWords:
    def say(language: str | None, topic: str) -> str:
        code = language if language and language in flow.languages else settings.language
        found = flow.languages.get(code) or next(iter(flow.languages.values()))
        return found.topics.get(topic, topic)

    return say


class TakeResult(StrEnum):
    """What an agent's take came to."""

    TAKEN = "taken"  # a caller is claimed for the agent, who is now ringing for them
    NOBODY_WAITING = "nobody_waiting"
    CALLER_NOT_WAITING = "caller_not_waiting"  # that caller left, or another agent has them
    AGENT_NOT_AVAILABLE = "agent_not_available"


@dataclass(frozen=True)
class Take:
    """The result of a take: the claim when there is one, else why not (in words)."""

    result: TakeResult
    claim: Claim | None = None
    reason: str = ""


class _AgentBusy(Exception):
    """The agent stopped being available during the take: undo the claim."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.decision.reason)
        self.outcome = outcome


def take(
    store: Store,
    agent_id: str,
    *,
    queue: str,
    now: datetime,
    wrap_up_seconds: int,
    by: str,
    call_sid: str | None = None,
) -> Take:
    """Claim a caller for the agent and put the agent to ringing for them, both or neither.

    ``call_sid``: that caller; else the one waiting longest (by first entry). ``by`` is who asked
    (the agent's id or ``operator``), for the agent's event log.
    """
    for _ in range(_ROUNDS):
        candidates = [call_sid] if call_sid is not None else _candidates(store, queue)
        if not candidates:
            return Take(TakeResult.NOBODY_WAITING, reason=f"nobody is waiting in {queue}")
        try:
            with store.engine.begin() as conn:
                status = presence.status_of(conn, agent_id, now, wrap_up_seconds)
                if status.state is not AgentState.AVAILABLE:
                    reason = f"agent {agent_id} is {status.state}, not available"
                    return Take(TakeResult.AGENT_NOT_AVAILABLE, reason=reason)
                for sid in candidates:
                    claim = queue_entries.claim(conn, sid, agent_id, now)
                    if claim is None:
                        continue
                    outcome = presence.change_in(
                        conn,
                        agent_id,
                        AgentState.RINGING,
                        Cause.HOTLINE,
                        by=by,
                        why=f"taking caller {sid}",
                        now=now,
                        wrap_up_seconds=wrap_up_seconds,
                        call_sid=sid,
                    )
                    if not outcome.changed:
                        raise _AgentBusy(outcome)  # rolls the claim back
                    return Take(TakeResult.TAKEN, claim=claim)
        except _AgentBusy as busy:
            return Take(TakeResult.AGENT_NOT_AVAILABLE, reason=busy.outcome.decision.reason)
        if call_sid is not None:
            return Take(
                TakeResult.CALLER_NOT_WAITING,
                reason=f"caller {call_sid} is not waiting (taken by another agent, or gone)",
            )
    return Take(TakeResult.NOBODY_WAITING, reason=f"nobody is waiting in {queue}")


def _candidates(store: Store, queue: str) -> list[str]:
    """The first few waiting callers, read without the write lock (the claim decides)."""
    with store.engine.execution_options(hotline_read_only=True).connect() as conn:
        return queue_entries.waiting_calls(conn, queue, _CANDIDATES)


def _earlier_threads(
    conn: Connection, entries: list[QueueEntry]
) -> dict[str, tuple[EarlierThread, ...]]:
    """Each entry's earlier threads: of its order, or from its caller's number (the warehouse
    topics reach the queue without asking for an order); never the call's own; newest first."""
    orders = {e.order_id for e in entries if e.order_id}
    numbers = {e.from_number for e in entries if e.from_number}
    if not orders and not numbers:
        return {}
    t = _THREADS.c
    rows = conn.execute(
        select(
            t.id, t.call_sid, t.order_id, t.buyer_phone, t.party, t.topic, t.status, t.created_at
        )
        .where(or_(t.order_id.in_(sorted(orders)), t.buyer_phone.in_(sorted(numbers))))
        .order_by(t.id.desc())
    ).all()
    found: dict[str, tuple[EarlierThread, ...]] = {}
    for e in entries:
        mine = [
            EarlierThread(r.id, r.order_id, r.party, r.topic, r.status, r.created_at)
            for r in rows
            if r.call_sid != e.call_sid
            and (
                (e.order_id is not None and r.order_id == e.order_id)
                or (e.from_number is not None and r.buyer_phone == e.from_number)
            )
        ]
        found[e.call_sid] = tuple(mine[:EARLIER_THREADS_SHOWN])
    return found
