"""``store.agent_sessions``: an agent's console session generation, bumped by each sign-out,
one agent's apart from another's (``any_store``: SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from hotline.store import agent_sessions
from hotline.store.database import Store


def test_each_sign_out_bumps_only_that_agents_generation(any_store: Store) -> None:
    with any_store.engine.begin() as conn:
        assert agent_sessions.generation(conn, "demo") == 0
        assert agent_sessions.end_sessions(conn, "demo") == 1
        assert agent_sessions.end_sessions(conn, "demo") == 2
        assert agent_sessions.generation(conn, "demo") == 2
        assert agent_sessions.generation(conn, "ben") == 0
