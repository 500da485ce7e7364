"""Agents' console session generations: the one a new session is signed in under, and the bump
a sign-out makes so every session of an older generation (every copy of its cookie) is over.

An agent with no row is at generation 0. Works inside the caller's transaction, on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from hotline.store.models import AgentSessionRow

_SESSIONS: Table = AgentSessionRow.__table__  # type: ignore[assignment]


def generation(conn: Connection, agent_id: str) -> int:
    """The agent's current session generation (0 before their first sign-out)."""
    found = conn.execute(
        select(_SESSIONS.c.generation).where(_SESSIONS.c.agent_id == agent_id)
    ).scalar()
    return int(found or 0)


def end_sessions(conn: Connection, agent_id: str) -> int:
    """End every session of the agent's current generation; returns the new generation."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_SESSIONS).values(agent_id=agent_id, generation=1)
    # One statement, so two sign-outs at once both bump (neither overwrites the other's).
    statement = statement.on_conflict_do_update(
        index_elements=["agent_id"], set_={"generation": _SESSIONS.c.generation + 1}
    )
    conn.execute(statement)
    return generation(conn, agent_id)
