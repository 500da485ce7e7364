"""Queue entries in the store (``hotline.store.queue_entries``): every write is conditional on the
entry's status, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.store import queue_entries as q
from hotline.store.database import Store
from hotline.store.queue_entries import CallerContext

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
CONTEXT = CallerContext(
    from_number="+48601100200",
    language="en",
    topic="delivery_problem",
    order_id="1234567",
    seller_id="acme",
    question="where is my parcel",
)
QUEUE_RESULTS = [
    "bridged",
    "bridging-in-process",
    "error",
    "hangup",
    "leave",
    "queue-full",
    "redirected",
    "redirected-from-bridged",
    "system-error",
]


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _enter(store: Store, sid: str = "CA1", at: datetime = T0) -> bool:
    with store.engine.begin() as conn:
        return q.enter(conn, sid, "warehouse", CONTEXT, at)


def _entry(store: Store, sid: str = "CA1") -> q.QueueEntry:
    with store.engine.connect() as conn:
        found = q.entry(conn, sid)
    assert found is not None
    return found


def _to_status(store: Store, status: str) -> q.Claim | None:
    """Bring CA1's entry to ``status`` the way the hotline would."""
    _enter(store)
    if status == q.WAITING:
        return None
    with store.engine.begin() as conn:
        claim = q.claim(conn, "CA1", "anna", _at(5))
        assert claim is not None
        if status == q.TAKEN:
            assert q.connect(conn, claim, _at(9))
        if status == q.LEFT:
            assert q.leave(conn, "CA1", "hangup", _at(9)) == q.LEFT
    return claim


def test_a_caller_enters_once_with_their_context(any_store: Store) -> None:
    assert _enter(any_store) is True
    assert _enter(any_store, at=_at(3)) is False  # a retried webhook: nothing written twice
    entry = _entry(any_store)
    assert (entry.status, entry.queue, entry.claims, entry.transferred) == (
        "waiting",
        "warehouse",
        0,
        False,
    )
    assert (entry.first_entered_at, entry.entered_at) == (T0, T0)
    assert (entry.from_number, entry.topic, entry.order_id, entry.seller_id) == (
        "+48601100200",
        "delivery_problem",
        "1234567",
        "acme",
    )
    assert (entry.language, entry.question) == ("en", "where is my parcel")


def test_a_caller_who_left_and_enters_again_keeps_the_first_place(any_store: Store) -> None:
    _enter(any_store)
    with any_store.engine.begin() as conn:
        assert q.leave(conn, "CA1", "leave", _at(10)) == q.LEFT
    assert _enter(any_store, at=_at(20)) is True
    entry = _entry(any_store)
    assert (entry.status, entry.first_entered_at, entry.entered_at, entry.left_at) == (
        "waiting",
        T0,
        _at(20),
        None,
    )


# (status before, QueueResult) -> status after; each status reached as the hotline reaches it.
LEAVING = {
    **{(q.WAITING, r): q.LEFT for r in QUEUE_RESULTS},
    **{(q.RINGING, r): q.LEFT for r in QUEUE_RESULTS},
    **{(q.TAKEN, r): q.TAKEN for r in QUEUE_RESULTS},
    **{(q.LEFT, r): q.LEFT for r in QUEUE_RESULTS},
    (q.WAITING, "bridged"): q.TAKEN,  # an agent's <Dial><Queue> took the caller
    (q.RINGING, "bridged"): q.TAKEN,
    (q.WAITING, "bridging-in-process"): q.TAKEN,  # ... is taking them
    (q.RINGING, "bridging-in-process"): q.TAKEN,
    # Moved out by the REST API: the claim's owner says what became of a claimed entry.
    (q.RINGING, "redirected"): q.RINGING,
    (q.RINGING, "redirected-from-bridged"): q.RINGING,
}


@pytest.mark.parametrize(("before", "result"), sorted(LEAVING))
def test_leaving_the_queue_for_every_queue_result(
    any_store: Store, before: str, result: str
) -> None:
    _to_status(any_store, before)
    left_at_before = _entry(any_store).left_at
    with any_store.engine.begin() as conn:
        assert q.leave(conn, "CA1", result, _at(30)) == LEAVING[(before, result)]
    entry = _entry(any_store)
    if entry.status == q.LEFT and before != q.LEFT:
        assert (entry.left_at, entry.result) == (_at(30), result)
    else:
        assert entry.left_at == left_at_before
    if result == "bridged" and before in (q.WAITING, q.RINGING):
        assert entry.answered_at == _at(30)


def test_a_call_without_an_entry_leaves_nothing(any_store: Store) -> None:
    with any_store.engine.begin() as conn:
        assert q.leave(conn, "CAnone", "hangup", T0) is None


def test_claim_connect_and_the_first_answer_is_kept(any_store: Store) -> None:
    claim = _to_status(any_store, q.RINGING)
    assert claim is not None
    assert (claim.call_sid, claim.agent_id, claim.number) == ("CA1", "anna", 1)
    with any_store.engine.begin() as conn:
        assert q.claim(conn, "CA1", "ben", _at(6)) is None  # ringing: not waiting
        assert q.connect(conn, claim, _at(9)) is True
        assert q.connect(conn, claim, _at(12)) is False  # a retry: already taken
    entry = _entry(any_store)
    assert (entry.status, entry.taken_by, entry.claimed_at, entry.answered_at) == (
        "taken",
        "anna",
        _at(5),
        _at(9),
    )


def test_a_released_claim_is_stale_and_the_caller_keeps_their_place(any_store: Store) -> None:
    _enter(any_store, "CA0", at=T0 - timedelta(seconds=1))
    first = _to_status(any_store, q.RINGING)
    assert first is not None
    with any_store.engine.begin() as conn:
        assert q.release(conn, first) is True  # anna did not answer
        assert q.release(conn, first) is False
        assert q.waiting_calls(conn, "warehouse", 5) == ["CA0", "CA1"]
        second = q.claim(conn, "CA1", "anna", _at(20))
        assert second is not None and second.number == 2
        # The first claim's late answer does not take the caller from the second one.
        assert q.connect(conn, first, _at(21)) is False
        assert q.connect(conn, second, _at(22)) is True


def test_a_caller_who_hangs_up_while_an_agent_is_rung_cannot_be_connected(
    any_store: Store,
) -> None:
    claim = _to_status(any_store, q.RINGING)
    assert claim is not None
    with any_store.engine.begin() as conn:
        assert q.leave(conn, "CA1", "hangup", _at(7)) == q.LEFT
        assert q.connect(conn, claim, _at(9)) is False
        assert q.release(conn, claim) is False


def test_put_back_keeps_the_place_and_marks_the_caller_transferred(any_store: Store) -> None:
    _to_status(any_store, q.TAKEN)
    _enter(any_store, "CA2", at=_at(40))
    with any_store.engine.begin() as conn:
        assert q.put_back(conn, "CA1", "ben", "wants a refund", _at(60)) is False  # not ben's
        assert q.put_back(conn, "CA1", "anna", "wants a refund", _at(60)) is True
        assert q.put_back(conn, "CA1", "anna", "again", _at(61)) is False  # waiting now
        assert q.waiting_calls(conn, "warehouse", 5) == ["CA1", "CA2"]
    entry = _entry(any_store)
    assert (entry.status, entry.transferred, entry.last_summary, entry.taken_by) == (
        "waiting",
        True,
        "wants a refund",
        None,
    )
    assert (entry.first_entered_at, entry.entered_at, entry.answered_at) == (T0, _at(60), _at(9))


def test_in_line_lists_waiting_and_ringing_callers_of_the_queue_by_first_entry(
    any_store: Store,
) -> None:
    _enter(any_store, "CA3", at=_at(3))
    _enter(any_store, "CA2", at=_at(2))
    _to_status(any_store, q.RINGING)  # CA1 at T0, claimed
    with any_store.engine.begin() as conn:
        q.enter(conn, "CA9", "other", CONTEXT, _at(1))
        q.enter(conn, "CA4", "warehouse", CONTEXT, _at(4))
        q.leave(conn, "CA4", "hangup", _at(5))
    with any_store.engine.connect() as conn:
        line = q.in_line(conn, "warehouse")
        assert [(e.call_sid, e.status) for e in line] == [
            ("CA1", "ringing"),
            ("CA2", "waiting"),
            ("CA3", "waiting"),
        ]
        assert q.waiting_calls(conn, "warehouse", 1) == ["CA2"]
