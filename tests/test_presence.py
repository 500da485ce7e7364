"""Agents' states in the store (``hotline.agents.presence``, ``hotline.store.agent_states``): read
with wrap-up's end, changed by the rules, every change an event, two writers never both winning;
on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.agents import presence
from hotline.agents.presence import AgentStatus
from hotline.agents.states import AgentState, Cause, Verdict
from hotline.store import agent_states
from hotline.store.agent_states import StateChange
from hotline.store.database import Store

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
WRAP_UP = 60


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _change(
    store: Store, wanted: AgentState, cause: Cause, at: datetime, **extra: Any
) -> presence.Outcome:
    extra.setdefault("by", "anna" if cause is Cause.AGENT else cause.value)
    extra.setdefault("why", f"test: {wanted}")
    return presence.change_state(
        store, "anna", wanted, cause, now=at, wrap_up_seconds=WRAP_UP, **extra
    )


def _status(store: Store, at: datetime, wrap_up: int = WRAP_UP) -> AgentStatus:
    with store.engine.connect() as conn:
        return presence.status_of(conn, "anna", at, wrap_up)


def _events(store: Store) -> list[tuple[str, str, datetime, str, str | None]]:
    with store.engine.connect() as conn:
        changes = agent_states.events(conn, "anna")
    return [(c.from_state, c.to_state, c.at, c.by, c.call_sid) for c in reversed(changes)]


def test_an_agent_who_never_changed_is_offline(any_store: Store) -> None:
    assert _status(any_store, T0) == AgentStatus("anna", AgentState.OFFLINE, None, None)
    with any_store.engine.connect() as conn:
        assert presence.statuses(conn, ["anna", "ben"], T0, WRAP_UP) == [
            AgentStatus("anna", AgentState.OFFLINE, None, None),
            AgentStatus("ben", AgentState.OFFLINE, None, None),
        ]


def test_a_whole_call_is_logged_and_the_call_kept_until_the_agent_is_free(
    any_store: Store,
) -> None:
    steps = [
        (AgentState.AVAILABLE, Cause.AGENT, {}, None),
        (AgentState.RINGING, Cause.HOTLINE, {"call_sid": "CA1"}, "CA1"),
        (AgentState.ON_CALL, Cause.TWILIO, {"about_call": "CA1"}, "CA1"),
        (AgentState.WRAP_UP, Cause.TWILIO, {"about_call": "CA1"}, "CA1"),
        (AgentState.AVAILABLE, Cause.AGENT, {}, None),
    ]
    for second, (state, cause, extra, call) in enumerate(steps, start=1):
        outcome = _change(any_store, state, cause, _at(second), **extra)
        assert outcome.changed
        assert outcome.status == AgentStatus("anna", state, _at(second), call)
        assert _status(any_store, _at(second)) == outcome.status
    assert _events(any_store) == [
        ("offline", "available", _at(1), "anna", None),
        ("available", "ringing", _at(2), "hotline", "CA1"),
        ("ringing", "on_call", _at(3), "twilio", "CA1"),
        ("on_call", "wrap_up", _at(4), "twilio", "CA1"),
        ("wrap_up", "available", _at(5), "anna", None),
    ]


def test_refused_and_unchanged_requests_write_nothing(any_store: Store) -> None:
    _change(any_store, AgentState.AVAILABLE, Cause.AGENT, _at(1))
    refused = _change(any_store, AgentState.ON_CALL, Cause.AGENT, _at(2))
    assert refused.decision.verdict is Verdict.REFUSED
    assert "cannot become on_call" in refused.decision.reason
    assert refused.status.state is AgentState.AVAILABLE
    again = _change(any_store, AgentState.AVAILABLE, Cause.AGENT, _at(3))
    assert again.decision.verdict is Verdict.UNCHANGED
    assert again.status.since == _at(1)
    assert len(_events(any_store)) == 1


def test_a_late_callback_about_another_call_changes_nothing(any_store: Store) -> None:
    _change(any_store, AgentState.AVAILABLE, Cause.AGENT, _at(1))
    _change(any_store, AgentState.RINGING, Cause.HOTLINE, _at(2), call_sid="CA2")
    late = _change(any_store, AgentState.AVAILABLE, Cause.TWILIO, _at(3), about_call="CA1")
    assert late.decision.verdict is Verdict.REFUSED
    assert late.decision.reason == "agent anna is ringing about another call, not CA1"
    assert _status(any_store, _at(3)).state is AgentState.RINGING


def test_wrap_up_reads_as_over_and_its_end_is_logged_at_the_next_change(any_store: Store) -> None:
    _change(any_store, AgentState.AVAILABLE, Cause.AGENT, _at(0))
    _change(any_store, AgentState.RINGING, Cause.HOTLINE, _at(1), call_sid="CA1")
    _change(any_store, AgentState.ON_CALL, Cause.TWILIO, _at(2))
    _change(any_store, AgentState.WRAP_UP, Cause.HOTLINE, _at(100))
    assert _status(any_store, _at(159)).state is AgentState.WRAP_UP
    assert _status(any_store, _at(160)) == AgentStatus("anna", AgentState.AVAILABLE, _at(160), None)
    assert _status(any_store, _at(999), wrap_up=0).state is AgentState.WRAP_UP
    assert len(_events(any_store)) == 4  # reading wrote nothing
    _change(any_store, AgentState.OFFLINE, Cause.AGENT, _at(500))
    assert _events(any_store)[-2:] == [
        ("wrap_up", "available", _at(160), "clock", None),
        ("available", "offline", _at(500), "anna", None),
    ]


def test_a_write_over_a_stale_version_loses(any_store: Store) -> None:
    _change(any_store, AgentState.AVAILABLE, Cause.AGENT, _at(1))
    with any_store.engine.connect() as conn:
        read = agent_states.read(conn, "anna")
    assert read is not None and read.version == 1
    _change(any_store, AgentState.OFFLINE, Cause.AGENT, _at(2))
    change = StateChange("available", "ringing", _at(3), "hotline", "taking", "CA1")
    with any_store.engine.begin() as conn:
        assert agent_states.write(conn, "anna", read, change) is False
        assert agent_states.write(conn, "anna", None, change) is False  # the row exists
    assert _status(any_store, _at(3)).state is AgentState.OFFLINE
    assert len(_events(any_store)) == 2


# Only on PostgreSQL: SQLite runs one write transaction at a time, so no write comes in between.
@pytest.mark.parametrize("any_store", ["postgresql"], indirect=True)
def test_a_change_decided_on_a_stale_read_is_decided_again(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _change(any_store, AgentState.AVAILABLE, Cause.AGENT, _at(1))
    read = agent_states.read
    first = [True]

    def read_then_the_agent_logs_off(conn: Any, agent_id: str) -> Any:
        found = read(conn, agent_id)
        if first:
            first.clear()
            _change(any_store, AgentState.OFFLINE, Cause.AGENT, _at(2))  # another worker
        return found

    monkeypatch.setattr(agent_states, "read", read_then_the_agent_logs_off)
    outcome = _change(any_store, AgentState.RINGING, Cause.HOTLINE, _at(3), call_sid="CA1")
    assert outcome.decision.verdict is Verdict.REFUSED
    assert outcome.status.state is AgentState.OFFLINE


def test_two_workers_logging_in_one_agent_at_once_log_one_change(any_store: Store) -> None:
    start = threading.Barrier(2, timeout=10)
    outcomes: list[presence.Outcome] = []

    def log_in() -> None:
        start.wait()
        outcomes.append(_change(any_store, AgentState.AVAILABLE, Cause.AGENT, _at(1)))

    workers = [threading.Thread(target=log_in) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(o.decision.verdict for o in outcomes) == [Verdict.CHANGE, Verdict.UNCHANGED]
    assert len(_events(any_store)) == 1
