"""Agents' states in the store: one row per agent, changed only over the version it was read at,
and an event row for every change.

The rules (which change is allowed, wrap-up's end) are ``hotline.agents.states``; this module only
reads and writes. ``write`` is a compare-and-set: it changes the row only if its ``version`` is
still the one the caller decided on (an agent with no row yet: only if nobody made one meanwhile),
and says whether it did, so two workers deciding at once never both win. Works inside the
caller's transaction (``Connection``), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hotline.store.models import AgentEventRow, AgentStateRow

_STATES: Table = AgentStateRow.__table__  # type: ignore[assignment]
_EVENTS: Table = AgentEventRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class StoredState:
    """An agent's row: state, since when, the call it concerns, and its version."""

    agent_id: str
    state: str
    since: datetime
    call_sid: str | None
    version: int


@dataclass(frozen=True)
class StateChange:
    """A change to write: the new state and call, and the event's who and why."""

    from_state: str
    to_state: str
    at: datetime
    by: str  # the agent's id, "operator", "hotline", "twilio", "clock"
    why: str
    call_sid: str | None


def read(conn: Connection, agent_id: str) -> StoredState | None:
    """The agent's row (``None``: the agent never changed state)."""
    row = conn.execute(select(_STATES).where(_STATES.c.agent_id == agent_id)).first()
    return None if row is None else StoredState(**row._asdict())


def read_all(conn: Connection) -> dict[str, StoredState]:
    """Every agent's row, by agent id."""
    return {row.agent_id: StoredState(**row._asdict()) for row in conn.execute(select(_STATES))}


def in_state(conn: Connection, state: str) -> list[StoredState]:
    """The rows of the agents whose stored state is ``state``, the longest in it first."""
    rows = conn.execute(select(_STATES).where(_STATES.c.state == state).order_by(_STATES.c.since))
    return [StoredState(**row._asdict()) for row in rows]


def write(conn: Connection, agent_id: str, over: StoredState | None, change: StateChange) -> bool:
    """Write ``change`` over the row as read (``over``) and log it; ``False``: the row moved on."""
    values = {"state": change.to_state, "since": change.at, "call_sid": change.call_sid}
    if over is None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(_STATES)
            .inline()
            # SQLAlchemy keeps an INSERT's row count only when asked: it says who won.
            .execution_options(preserve_rowcount=True)
            .values(agent_id=agent_id, version=1, **values)
            .on_conflict_do_nothing(index_elements=["agent_id"])
        )
    else:
        statement = (
            update(_STATES)
            .where(_STATES.c.agent_id == agent_id, _STATES.c.version == over.version)
            .values(version=over.version + 1, **values)
        )
    if conn.execute(statement).rowcount != 1:
        return False
    conn.execute(
        insert(_EVENTS).values(
            agent_id=agent_id,
            from_state=change.from_state,
            to_state=change.to_state,
            at=change.at,
            by=change.by,
            why=change.why,
            call_sid=change.call_sid,
        )
    )
    return True


def events(conn: Connection, agent_id: str, limit: int = 100) -> list[StateChange]:
    """The agent's latest changes, newest first."""
    rows = conn.execute(
        select(_EVENTS)
        .where(_EVENTS.c.agent_id == agent_id)
        .order_by(_EVENTS.c.id.desc())
        .limit(limit)
    )
    return [
        StateChange(
            from_state=row.from_state,
            to_state=row.to_state,
            at=row.at,
            by=row.by,
            why=row.why,
            call_sid=row.call_sid,
        )
        for row in rows
    ]
