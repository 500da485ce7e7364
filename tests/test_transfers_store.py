"""store.transfers: a transfer recorded pending, its outcome written once, listed per call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.store import transfers
from hotline.store.database import Store

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_an_outcome_is_written_once_whoever_comes_second(any_store: Store) -> None:
    with any_store.engine.begin() as conn:
        made = transfers.record(
            conn, call_sid="CA1", agent_id="anna", kind="warm", target="acme", summary="s", now=T0
        )
        assert made.pending and made.outcome_at is None
        assert transfers.pending_of(conn, "CA1", "warm") == made
        assert transfers.pending_of(conn, "CA1", "cold") is None
        later = T0 + timedelta(seconds=20)
        assert transfers.settle(conn, made.id, "accepted", later)
        assert not transfers.settle(conn, made.id, "declined", later)  # a late callback
        settled = transfers.get(conn, made.id)
        assert settled is not None
        assert (settled.outcome, settled.outcome_at) == ("accepted", later)
        assert transfers.pending_of(conn, "CA1", "warm") is None


def test_a_calls_transfers_oldest_first_as_the_api_shows_them(any_store: Store) -> None:
    with any_store.engine.begin() as conn:
        for kind, outcome in (("warm", "declined"), ("thread", "thread_opened")):
            transfers.record(
                conn,
                call_sid="CA1",
                agent_id="anna",
                kind=kind,
                target="acme",
                summary="s",
                now=T0,
                outcome=outcome,
            )
        transfers.record(
            conn, call_sid="CA2", agent_id="ben", kind="queue", target=None, summary="", now=T0
        )
        shown = [t.as_dict() for t in transfers.of_call(conn, "CA1")]
    assert [(t["kind"], t["outcome"]) for t in shown] == [
        ("warm", "declined"),
        ("thread", "thread_opened"),
    ]
    assert shown[0]["outcome_at"] == T0.isoformat()


def test_the_latest_transfer_of_a_kind_since_a_claim(any_store: Store) -> None:
    with any_store.engine.begin() as conn:
        first, second = (
            transfers.record(
                conn,
                call_sid="CA1",
                agent_id="anna",
                kind="warm",
                target="acme",
                summary="s",
                now=T0 + timedelta(seconds=at),
                outcome=outcome,
            )
            for at, outcome in ((0, "declined"), (60, "accepted"))
        )
        assert transfers.latest_of(conn, "CA1", "warm") == second
        assert transfers.latest_of(conn, "CA1", "warm", T0 + timedelta(seconds=61)) is None
        assert transfers.latest_of(conn, "CA1", "cold") is None
        assert first.outcome == "declined"
