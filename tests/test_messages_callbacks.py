"""An unanswered callback: retried once, then a thread for the warehouse (once, however many
times the last try is reported)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from hotline.config.settings import load_settings
from hotline.messages.callbacks import GAVE_UP, RETRYING, STALE, settle_unanswered, summary
from hotline.store import callbacks
from hotline.store.callbacks import CallbackRequest
from hotline.store.database import Store
from hotline.store.models import CallbackRow, ThreadRow
from tests.conftest import shipped_config

NOW = datetime(2026, 11, 27, 7, 1, tzinfo=UTC)
RETRY = timedelta(minutes=10)


def _calling(store: Store) -> int:
    with store.session() as session:
        callbacks.request(
            session,
            CallbackRequest(
                "CA1", "+48601100200", None, "+442071000000", "en", None, None, None, NOW
            ),
            NOW,
        )
        [row_id] = callbacks.due_ids(session, NOW)
        assert callbacks.claim(session, row_id, NOW, RETRY) is not None
    return row_id


def _settle(store: Store, row_id: int, result: str) -> str:
    routing = load_settings(shipped_config()).routing
    with store.session() as session:
        row = session.get_one(CallbackRow, row_id)
        return settle_unanswered(session, row, result, NOW, RETRY, routing)


def test_the_first_unanswered_try_is_retried_the_second_opens_one_thread(store: Store) -> None:
    row_id = _calling(store)
    assert _settle(store, row_id, "no-answer") == RETRYING
    with store.session() as session:
        assert callbacks.claim(session, row_id, NOW + RETRY, RETRY) is not None
    assert _settle(store, row_id, "failed") == GAVE_UP
    assert _settle(store, row_id, "failed") == STALE
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(ThreadRow)) == 1
        row = session.get_one(CallbackRow, row_id)
        assert row.thread_id is not None and row.status == "unanswered"


def test_the_summary_says_what_the_callback_was_about() -> None:
    row = CallbackRow(attempts=2, topic="order_status", order_id="1234567")
    assert summary(row, "no-answer") == (
        "Callback not answered (2 calls, the last: no-answer) about order status; "
        "order 1234567. Please contact the buyer."
    )
    assert summary(CallbackRow(attempts=1, topic=None), "busy").startswith(
        "Callback not answered (1 call, the last: busy) about agent."
    )
