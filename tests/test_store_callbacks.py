"""Callback requests in the store, on SQLite and PostgreSQL: stored once per call, claimed by one
claimer, every later change conditional on the try it is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.store import callbacks
from hotline.store.callbacks import CallbackRequest
from hotline.store.database import Store
from hotline.store.models import CallbackRow

ASKED = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)
DUE = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
LAPSE = timedelta(minutes=15)


def _request(call_sid: str = "CA1", due: datetime = DUE) -> CallbackRequest:
    return CallbackRequest(
        call_sid, "+48601100200", "+48601100200", "+442071000000", "pl", "change", None, None, due
    )


def test_stored_once_per_call_and_due_earliest_first(any_store: Store) -> None:
    with any_store.session() as session:
        assert callbacks.request(session, _request(), ASKED) is True
        assert callbacks.request(session, _request(), ASKED) is False  # a retried webhook
        callbacks.request(session, _request("CA2", DUE - timedelta(days=1)), ASKED)
        assert callbacks.earliest_due(session) == DUE - timedelta(days=1)
        assert len(callbacks.due_ids(session, DUE - timedelta(seconds=1))) == 1
        assert len(callbacks.due_ids(session, DUE)) == 2


def test_nothing_open_means_nothing_due(any_store: Store) -> None:
    with any_store.session() as session:
        assert callbacks.earliest_due(session) is None
        callbacks.request(session, _request(), ASKED)
        callbacks.cancel_for(session, "+48601100200", ASKED)
        assert callbacks.earliest_due(session) is None


def test_a_row_is_claimed_once_and_a_stale_try_changes_nothing(any_store: Store) -> None:
    with any_store.session() as session:
        callbacks.request(session, _request(), ASKED)
        row_id = callbacks.due_ids(session, DUE)[0]
    with any_store.session() as session:
        assert callbacks.claim(session, row_id, DUE - timedelta(seconds=1), LAPSE) is None
        claim = callbacks.claim(session, row_id, DUE, LAPSE)
        assert claim is not None and claim.attempts == 1
        assert callbacks.claim(session, row_id, DUE, LAPSE) is None  # taken
        assert callbacks.placed(session, claim, "CA100")
    with any_store.session() as session:
        row = session.get_one(CallbackRow, row_id)
        assert callbacks.mark_retry(session, row, "busy", DUE + timedelta(minutes=10), DUE)
        assert not callbacks.mark_retry(session, row, "busy", DUE, DUE)  # reported twice
        assert not callbacks.placed(session, claim, "CA-late")  # the try is over
    with any_store.session() as session:
        second = callbacks.claim(session, row_id, DUE + timedelta(minutes=10), LAPSE)
        assert second is not None and second.attempts == 2
        row = session.get_one(CallbackRow, row_id)
        assert row.call_ref is None  # the new try's call is not known yet
        assert callbacks.by_call_ref(session, "CA100") is None
