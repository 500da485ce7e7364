"""The queue as agents see it and take from it (``hotline.agents.queue``): callers in line with
their context, a take claiming one caller and ringing the agent (both or neither), and agents
racing for callers on two connections, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from hotline.agents import presence
from hotline.agents import queue as agents_queue
from hotline.agents.presence import AgentStatus
from hotline.agents.queue import Take, TakeResult
from hotline.agents.states import AgentState, Cause
from hotline.messages.threads import open_thread, reference
from hotline.rules.routing import Party
from hotline.store import queue_entries
from hotline.store.database import Store
from hotline.store.queue_entries import CallerContext

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
WRAP_UP = 60


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _enter(
    store: Store,
    sid: str,
    at: datetime,
    order: str | None = "1234567",
    number: str = "+48601100200",
) -> None:
    context = CallerContext(from_number=number, language="en", topic="order_status", order_id=order)
    with store.engine.begin() as conn:
        queue_entries.enter(conn, sid, "warehouse", context, at)


def _available(store: Store, *agents: str) -> None:
    for agent in agents:
        presence.change_state(
            store,
            agent,
            AgentState.AVAILABLE,
            Cause.AGENT,
            by=agent,
            why="log in",
            now=T0,
            wrap_up_seconds=WRAP_UP,
        )


def _take(store: Store, agent: str, call: str | None = None, at: datetime = T0) -> Take:
    return agents_queue.take(
        store,
        agent,
        queue="warehouse",
        now=at,
        wrap_up_seconds=WRAP_UP,
        by=agent,
        call_sid=call,
    )


def _state(store: Store, agent: str) -> AgentStatus:
    with store.engine.connect() as conn:
        return presence.status_of(conn, agent, _at(100), WRAP_UP)


def test_callers_in_line_with_their_earlier_threads(any_store: Store) -> None:
    with any_store.engine.connect() as conn:
        assert agents_queue.in_line(conn, "warehouse", T0) == []
    threads = [  # call, order, buyer's number
        ("CAold", "1234567", "+48601999999"),  # 1: CA1's order, from another number
        ("CA1", "1234567", "+48601100200"),  # 2: CA1's own
        ("CAweb", None, "+48601300400"),  # 3: from CA2's number, no order
        ("CAx", "7654321", "+48601555555"),  # 4: nobody's here
    ]
    ids = []  # PostgreSQL's ids go on across the session's tests: 1 only on a fresh database
    with any_store.sessions() as session, session.begin():
        for sid, order, number in threads:
            opened = open_thread(
                session,
                call_sid=sid,
                party=Party.WAREHOUSE,
                seller_id=None,
                order_id=order,
                topic="delivery_problem",
                buyer_phone=number,
                question="where is it",
                now=T0 - timedelta(days=2),
            )
            ids.append(opened.id)
    _enter(any_store, "CA1", T0)
    _enter(any_store, "CA2", _at(30), order=None, number="+48601300400")
    _enter(any_store, "CA3", _at(40), order=None, number="+48601300401")
    with any_store.engine.connect() as conn:
        first, second, third = agents_queue.in_line(conn, "warehouse", _at(90))
    assert (first.entry.call_sid, first.waiting_seconds) == ("CA1", 90)
    assert [t.id for t in first.threads] == [ids[0]]
    assert (second.entry.call_sid, second.waiting_seconds) == ("CA2", 60)
    assert [t.id for t in second.threads] == [ids[2]]
    assert (third.entry.call_sid, third.threads) == ("CA3", ())
    shown = first.as_dict()
    assert shown["from_number"] == "+48******200"
    assert (shown["topic"], shown["sub_topic"], shown["order"]) == (
        "warehouse",
        "order_status",
        "1234567",
    )
    assert (shown["transferred"], shown["ringing_agent"]) == (
        False,
        None,
    )
    [thread] = shown["earlier_threads"]
    assert (thread["reference"], thread["party"], thread["topic"]) == (
        reference(ids[0]),
        "warehouse",
        "delivery_problem",
    )


def test_take_next_claims_the_first_entered_caller_and_rings_the_agent(any_store: Store) -> None:
    _available(any_store, "anna")
    _enter(any_store, "CA2", _at(2))
    _enter(any_store, "CA1", _at(1))
    take = _take(any_store, "anna", at=_at(10))
    assert take.result is TakeResult.TAKEN and take.claim is not None
    assert (take.claim.call_sid, take.claim.agent_id) == ("CA1", "anna")
    assert _state(any_store, "anna") == AgentStatus("anna", AgentState.RINGING, _at(10), "CA1")
    # Ringing for one caller, the agent takes no other.
    again = _take(any_store, "anna", at=_at(11))
    assert (again.result, again.reason) == (
        TakeResult.AGENT_NOT_AVAILABLE,
        "agent anna is ringing, not available",
    )


@pytest.mark.parametrize(
    ("setup", "call", "result", "reason"),
    [
        (lambda s: None, None, TakeResult.NOBODY_WAITING, "nobody is waiting in warehouse"),
        (
            lambda s: _enter(s, "CA1", T0),
            "CA9",
            TakeResult.CALLER_NOT_WAITING,
            "caller CA9 is not waiting (taken by another agent, or gone)",
        ),
    ],
)
def test_take_with_nobody_to_take(
    any_store: Store,
    setup: Callable[[Store], None],
    call: str | None,
    result: TakeResult,
    reason: str,
) -> None:
    _available(any_store, "anna")
    setup(any_store)
    take = _take(any_store, "anna", call)
    assert (take.result, take.reason, take.claim) == (result, reason, None)
    assert _state(any_store, "anna").state is AgentState.AVAILABLE


def test_an_offline_agent_takes_nobody(any_store: Store) -> None:
    _enter(any_store, "CA1", T0)
    take = _take(any_store, "anna")
    assert (take.result, take.reason) == (
        TakeResult.AGENT_NOT_AVAILABLE,
        "agent anna is offline, not available",
    )
    with any_store.engine.connect() as conn:
        assert queue_entries.waiting_calls(conn, "warehouse", 5) == ["CA1"]


def test_a_take_whose_agent_cannot_ring_leaves_the_caller_waiting(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The agent looked available when the take began, and was not by the time it rang them.
    _enter(any_store, "CA1", T0)
    monkeypatch.setattr(
        presence,
        "status_of",
        lambda conn, agent, now, wrap_up: AgentStatus(agent, AgentState.AVAILABLE, T0, None),
    )
    take = _take(any_store, "anna")
    assert take.result is TakeResult.AGENT_NOT_AVAILABLE
    assert "offline" in take.reason
    with any_store.engine.connect() as conn:
        entry = queue_entries.entry(conn, "CA1")
    assert entry is not None and (entry.status, entry.claims) == ("waiting", 0)


def _race(
    store: Store, monkeypatch: pytest.MonkeyPatch, agents: list[str], call: str | None = None
) -> dict[str, Take]:
    """The agents take at once, each on its own connection, after all read the waiting callers."""
    all_read = threading.Barrier(len(agents), timeout=10)
    read = agents_queue._candidates
    waited: set[int] = set()

    def read_then_wait(the_store: Store, queue: str) -> list[str]:
        found = read(the_store, queue)
        if threading.get_ident() not in waited:  # a take that lost reads again, and goes on
            waited.add(threading.get_ident())
            all_read.wait()
        return found

    if call is None:
        monkeypatch.setattr(agents_queue, "_candidates", read_then_wait)
    else:
        before = queue_entries.claim

        def wait_then_claim(*args: object, **kwargs: object) -> object:
            all_read.wait()
            return before(*args, **kwargs)  # type: ignore[arg-type]

        # Both reach the claim before either has made it (PostgreSQL; SQLite runs them in turn).
        if store.engine.dialect.name == "postgresql":
            monkeypatch.setattr(queue_entries, "claim", wait_then_claim)
    takes: dict[str, Take] = {}

    def take(agent: str) -> None:
        takes[agent] = _take(store, agent, call)

    workers = [threading.Thread(target=take, args=(agent,)) for agent in agents]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return takes


def test_two_agents_racing_for_one_caller_one_gets_them_the_other_nobody(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _available(any_store, "anna", "ben")
    _enter(any_store, "CA1", T0)
    takes = _race(any_store, monkeypatch, ["anna", "ben"])
    results = sorted(t.result for t in takes.values())
    assert results == [TakeResult.NOBODY_WAITING, TakeResult.TAKEN]
    winner = next(a for a, t in takes.items() if t.result is TakeResult.TAKEN)
    loser = next(a for a in takes if a != winner)
    assert _state(any_store, winner).state is AgentState.RINGING
    assert _state(any_store, loser).state is AgentState.AVAILABLE
    with any_store.engine.connect() as conn:
        entry = queue_entries.entry(conn, "CA1")
    assert entry is not None and (entry.status, entry.taken_by, entry.claims) == (
        "ringing",
        winner,
        1,
    )


def test_two_agents_racing_for_two_callers_get_one_each(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _available(any_store, "anna", "ben")
    _enter(any_store, "CA1", T0)
    _enter(any_store, "CA2", _at(1))
    takes = _race(any_store, monkeypatch, ["anna", "ben"])
    assert all(t.result is TakeResult.TAKEN for t in takes.values())
    claims = [t.claim for t in takes.values()]
    assert sorted(c.call_sid for c in claims if c is not None) == ["CA1", "CA2"]


def test_two_agents_taking_the_same_caller_by_name_one_gets_them(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _available(any_store, "anna", "ben")
    _enter(any_store, "CA1", T0)
    takes = _race(any_store, monkeypatch, ["anna", "ben"], call="CA1")
    assert sorted(t.result for t in takes.values()) == [
        TakeResult.CALLER_NOT_WAITING,
        TakeResult.TAKEN,
    ]
