"""An agent's state as the store holds it: read (wrap-up's end applied), changed by the rules of
``states``, every change logged as an event.

Reading writes nothing: a wrap-up whose time is over reads as available from its end. The
scheduler's job ``wrap_up`` writes that end soon after it (``end_wrap_ups``), and the next change
of that agent writes it first if the job has not yet (an event by the clock, at the moment it
ended), so the event log misses no change and has each at its time. A change is a
compare-and-set on the agent's row (``store.agent_states.write``): when another worker changed
the agent in between, the change is decided again on what that worker wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from hotline.agents.states import (
    AgentState,
    Cause,
    Decision,
    Verdict,
    decide,
    effective,
    wrap_up_ends,
)
from hotline.errors import StoreError
from hotline.store import agent_states
from hotline.store.agent_states import StateChange, StoredState
from hotline.store.database import Store

# A change lost to another worker is decided again; more losses than this in a row is a fault.
_MAX_TRIES = 10
# These states concern a call: it is kept from ringing through on_call to wrap_up.
_WITH_CALL = (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)


@dataclass(frozen=True)
class AgentStatus:
    """An agent's state at a moment, since when (``None``: never changed), the call it is about."""

    agent_id: str
    state: AgentState
    since: datetime | None
    call_sid: str | None


@dataclass(frozen=True)
class Outcome:
    """What a request for a state came to, and the agent's status after it."""

    decision: Decision
    status: AgentStatus

    @property
    def changed(self) -> bool:
        """Whether the state changed."""
        return self.decision.verdict is Verdict.CHANGE


def status_of(conn: Connection, agent_id: str, now: datetime, wrap_up_seconds: int) -> AgentStatus:
    """The agent's state at ``now``."""
    return _status(agent_id, agent_states.read(conn, agent_id), now, wrap_up_seconds)


def statuses(
    conn: Connection, agent_ids: Iterable[str], now: datetime, wrap_up_seconds: int
) -> list[AgentStatus]:
    """The states of ``agent_ids`` at ``now``, in that order."""
    stored = agent_states.read_all(conn)
    return [_status(i, stored.get(i), now, wrap_up_seconds) for i in agent_ids]


def change_state(
    store: Store,
    agent_id: str,
    wanted: AgentState,
    cause: Cause,
    *,
    by: str,
    why: str,
    now: datetime,
    wrap_up_seconds: int,
    call_sid: str | None = None,
    about_call: str | None = None,
) -> Outcome:
    """Move the agent to ``wanted`` if the rules let ``cause`` do it, in a transaction of its own.

    See ``change_in``.
    """
    with store.engine.begin() as conn:
        return change_in(
            conn,
            agent_id,
            wanted,
            cause,
            by=by,
            why=why,
            now=now,
            wrap_up_seconds=wrap_up_seconds,
            call_sid=call_sid,
            about_call=about_call,
        )


def change_in(
    conn: Connection,
    agent_id: str,
    wanted: AgentState,
    cause: Cause,
    *,
    by: str,
    why: str,
    now: datetime,
    wrap_up_seconds: int,
    call_sid: str | None = None,
    about_call: str | None = None,
) -> Outcome:
    """Move the agent to ``wanted`` inside the caller's transaction, logging the change.

    ``call_sid`` is the call a change to ringing is for (kept through on_call and wrap_up, dropped
    on available and offline). ``about_call``: the change is refused unless the agent's state is
    about that call (a late callback of an earlier call changes nothing). ``by`` and ``why`` go
    into the event. A refusal writes nothing and says why in ``decision.reason``.
    """
    for _ in range(_MAX_TRIES):
        stored = agent_states.read(conn, agent_id)
        if stored is not None:
            stored = _close_wrap_up(conn, stored, now, wrap_up_seconds)
            if stored is None:
                continue  # another worker changed the agent meanwhile: read again
        current = _status(agent_id, stored, now, wrap_up_seconds)
        if about_call is not None and current.call_sid != about_call:
            reason = f"agent {agent_id} is {current.state} about another call, not {about_call}"
            return Outcome(Decision(Verdict.REFUSED, reason), current)
        decision = decide(current.state, wanted, cause)
        if decision.verdict is not Verdict.CHANGE:
            return Outcome(decision, current)
        keep = current.call_sid if wanted in _WITH_CALL else None
        change = StateChange(
            from_state=current.state,
            to_state=wanted,
            at=now,
            by=by,
            why=why,
            call_sid=call_sid if call_sid is not None else keep,
        )
        if agent_states.write(conn, agent_id, stored, change):
            return Outcome(decision, AgentStatus(agent_id, wanted, now, change.call_sid))
    raise StoreError(f"agent {agent_id}: state changed by others {_MAX_TRIES} times in a row")


def end_wrap_ups(store: Store, now: datetime, wrap_up_seconds: int) -> list[str]:
    """Write the end of every wrap-up that is over at ``now`` (the job ``wrap_up``), each in a
    transaction of its own; the agents whose wrap-up this run ended.

    The change is the one the next change of the agent would have written first (to available,
    at the wrap-up's end, by the clock), so reading the agent gives the same before and after.
    An agent who changed meanwhile (said ready, logged off) is left as they are.
    """
    if wrap_up_seconds <= 0:
        return []  # wrap-up lasts until the agent says they are ready
    with store.engine.execution_options(hotline_read_only=True).connect() as conn:
        candidates = [
            row.agent_id
            for row in agent_states.in_state(conn, AgentState.WRAP_UP.value)
            if _over(row, now, wrap_up_seconds)
        ]
    ended = []
    for agent_id in candidates:
        with store.engine.begin() as conn:
            stored = agent_states.read(conn, agent_id)
            if stored is None or not _over(stored, now, wrap_up_seconds):
                continue  # the agent moved on since
            if _close_wrap_up(conn, stored, now, wrap_up_seconds) is not None:
                ended.append(agent_id)
    return ended


def next_wrap_up_end(store: Store, wrap_up_seconds: int) -> datetime | None:
    """When the earliest wrap-up now in the store ends (``None``: none, or none ends by itself)."""
    with store.engine.execution_options(hotline_read_only=True).connect() as conn:
        rows = agent_states.in_state(conn, AgentState.WRAP_UP.value)
    ends = [wrap_up_ends(row.since, wrap_up_seconds) for row in rows]
    return min((end for end in ends if end is not None), default=None)


def _over(stored: StoredState, now: datetime, wrap_up_seconds: int) -> bool:
    """Whether ``stored`` is a wrap-up whose time is over at ``now``."""
    if stored.state != AgentState.WRAP_UP.value:
        return False
    ends = wrap_up_ends(stored.since, wrap_up_seconds)
    return ends is not None and ends <= now


def _close_wrap_up(
    conn: Connection, stored: StoredState, now: datetime, wrap_up_seconds: int
) -> StoredState | None:
    """Write the end of a wrap-up that is over (``None``: another worker changed the row)."""
    state, since = effective(AgentState(stored.state), stored.since, now, wrap_up_seconds)
    if state.value == stored.state:
        return stored
    change = StateChange(
        from_state=stored.state,
        to_state=state,
        at=since,
        by=Cause.CLOCK.value,
        why=f"wrap-up over after {wrap_up_seconds} s",
        call_sid=None,
    )
    if not agent_states.write(conn, stored.agent_id, stored, change):
        return None
    return StoredState(stored.agent_id, state, since, None, stored.version + 1)


def _status(
    agent_id: str, stored: StoredState | None, now: datetime, wrap_up_seconds: int
) -> AgentStatus:
    if stored is None:
        return AgentStatus(agent_id, AgentState.OFFLINE, None, None)
    state, since = effective(AgentState(stored.state), stored.since, now, wrap_up_seconds)
    call = stored.call_sid if state.value == stored.state else None
    return AgentStatus(agent_id, state, since, call)
