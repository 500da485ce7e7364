"""The job ``wrap_up``: an agent's wrap-up that is over is ended in the store, with its event, at
its end; not before; an agent who moved on meanwhile is left alone; a second run writes nothing
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.agents import presence
from hotline.agents.states import AgentState, Cause
from hotline.config.settings import Settings, load_settings
from hotline.jobs.context import JobContext
from hotline.jobs.registry import job_named
from hotline.jobs.wrap_up import end_wrap_ups_due, next_wrap_up
from hotline.store import agent_states
from hotline.store.agent_states import StateChange
from hotline.store.database import Store
from tests.conftest import shipped_config

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # anna's wrap-up begins
WRAP_UP = 60  # the shipped config's calls.wrap_up_seconds
END = T0 + timedelta(seconds=WRAP_UP)


def _context(store: Store, wrap_up_seconds: int = WRAP_UP) -> JobContext:
    data = shipped_config()
    data["store"]["url"] = store.url
    data["calls"]["wrap_up_seconds"] = wrap_up_seconds
    settings: Settings = load_settings(data)
    return JobContext(settings, store)


def _in_wrap_up(store: Store, agent: str, since: datetime) -> None:
    with store.engine.begin() as conn:
        change = StateChange("on_call", "wrap_up", since, "twilio", "call over", "CA1")
        assert agent_states.write(conn, agent, agent_states.read(conn, agent), change)


def _stored(store: Store, agent: str) -> tuple[str, datetime]:
    with store.engine.connect() as conn:
        row = agent_states.read(conn, agent)
    assert row is not None
    return row.state, row.since


def _events(store: Store, agent: str) -> list[tuple[str, str, datetime, str]]:
    with store.engine.connect() as conn:
        changes = agent_states.events(conn, agent)
    return [(c.from_state, c.to_state, c.at, c.by) for c in reversed(changes)]


@pytest.mark.parametrize(
    ("now", "ended", "state", "since"),
    [
        (END - timedelta(seconds=1), [], "wrap_up", T0),  # not due: 59 s in
        (END, ["anna"], "available", END),  # due to the second
        (END + timedelta(hours=3), ["anna"], "available", END),  # late: still at its end
    ],
)
def test_a_wrap_up_is_ended_at_its_end_with_its_event(
    any_store: Store, now: datetime, ended: list[str], state: str, since: datetime
) -> None:
    _in_wrap_up(any_store, "anna", T0)
    context = _context(any_store)
    assert end_wrap_ups_due(context, now).ended == ended
    assert _stored(any_store, "anna") == (state, since)
    expected = [("on_call", "wrap_up", T0, "twilio")]
    if ended:
        expected.append(("wrap_up", "available", END, "clock"))
    assert _events(any_store, "anna") == expected
    # The lazy read agrees with what was written, before and after the job.
    with any_store.engine.connect() as conn:
        status = presence.status_of(conn, "anna", now, WRAP_UP)
    assert (status.state.value, status.since) == (state, since)


def test_two_runs_write_the_end_once(any_store: Store) -> None:
    _in_wrap_up(any_store, "anna", T0)
    context = _context(any_store)
    assert end_wrap_ups_due(context, END).ended == ["anna"]
    assert end_wrap_ups_due(context, END + timedelta(seconds=15)).ended == []
    assert [e[1] for e in _events(any_store, "anna")] == ["wrap_up", "available"]


def test_an_agent_who_said_ready_first_is_left_alone(any_store: Store) -> None:
    _in_wrap_up(any_store, "anna", T0)
    ready = T0 + timedelta(seconds=20)
    outcome = presence.change_state(
        any_store,
        "anna",
        AgentState.AVAILABLE,
        Cause.AGENT,
        by="anna",
        why="ready",
        now=ready,
        wrap_up_seconds=WRAP_UP,
    )
    assert outcome.changed
    assert end_wrap_ups_due(_context(any_store), END).ended == []
    assert _stored(any_store, "anna") == ("available", ready)
    assert [(e[1], e[3]) for e in _events(any_store, "anna")] == [
        ("wrap_up", "twilio"),
        ("available", "anna"),
    ]


def test_an_agent_whose_next_change_wrote_the_end_first_is_left_alone(any_store: Store) -> None:
    _in_wrap_up(any_store, "anna", T0)
    later = END + timedelta(seconds=30)
    presence.change_state(
        any_store,
        "anna",
        AgentState.OFFLINE,
        Cause.AGENT,
        by="anna",
        why="home",
        now=later,
        wrap_up_seconds=WRAP_UP,
    )
    assert end_wrap_ups_due(_context(any_store), later).ended == []
    assert [(e[1], e[2]) for e in _events(any_store, "anna")] == [
        ("wrap_up", T0),
        ("available", END),
        ("offline", later),
    ]


def test_next_due_is_the_earliest_wrap_up_end(any_store: Store) -> None:
    context = _context(any_store)
    job = job_named("wrap_up")
    assert job.next_due is next_wrap_up
    assert next_wrap_up(context, T0) is None  # nobody in wrap-up
    _in_wrap_up(any_store, "anna", T0 + timedelta(seconds=30))
    _in_wrap_up(any_store, "ben", T0)
    assert next_wrap_up(context, T0) == END  # ben's
    assert next_wrap_up(context, END + timedelta(seconds=5)) == END + timedelta(seconds=5)
    end_wrap_ups_due(context, END)
    assert next_wrap_up(context, END) == END + timedelta(seconds=30)  # anna's


def test_a_wrap_up_without_a_time_limit_never_ends_by_itself(any_store: Store) -> None:
    _in_wrap_up(any_store, "anna", T0)
    context = _context(any_store, wrap_up_seconds=0)
    assert end_wrap_ups_due(context, T0 + timedelta(days=1)).ended == []
    assert next_wrap_up(context, T0) is None
    assert _stored(any_store, "anna") == ("wrap_up", T0)
