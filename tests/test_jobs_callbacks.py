"""The job ``callbacks`` against the REST stand-in for Twilio's Calls API (in process, reached
through $TWILIO_API_URL), on SQLite and PostgreSQL: the call placed at the due time from the
number the buyer called, the retry after an unanswered try, then the warehouse's thread; one call
however many runs claim at once; a lapsed or refused try; a new call from the buyer cancels.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from hotline.jobs.callbacks import CLAIM_LAPSE, call_back, next_due
from hotline.jobs.context import JobContext
from hotline.jobs.registry import job_named, run_due
from hotline.messages.callbacks import settle_unanswered
from hotline.sim.rest.switchboard import OutboundCall, RestError
from hotline.store import callbacks
from hotline.store.callbacks import CallbackRequest
from hotline.store.callstate import CallState
from hotline.store.callstore import CallWork
from hotline.store.database import Store
from hotline.store.models import CallbackRow, MessageRow, OutboxRow, ThreadRow
from tests.jobs_fixtures import BUYER, Messages, settings_for, twilio_messages

__all__ = ["twilio_messages"]  # a fixture, used by name

ASKED = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)  # 22:30 in Warsaw: closed
DUE = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # 08:00 in Warsaw
HOTLINE = "+442071000000"
RETRY = timedelta(minutes=10)


def _context(store: Store, **main: str) -> JobContext:
    settings = settings_for(store, 2525)
    return JobContext(replace(settings, **main) if main else settings, store)


def _ask(store: Store, call_sid: str = "CA1", phone: str = BUYER) -> int:
    with store.session() as session:
        callbacks.request(
            session,
            CallbackRequest(
                call_sid=call_sid,
                phone=phone,
                caller_id=phone,
                hotline_number=HOTLINE,
                language="en",
                topic="delivery_problem",
                order_id="1234567",
                seller_id="acme",
                due_at=DUE,
            ),
            ASKED,
        )
        row_id = session.scalar(select(CallbackRow.id).where(CallbackRow.call_sid == call_sid))
        assert row_id is not None
        return row_id


def _row(store: Store, row_id: int) -> CallbackRow:
    with store.session() as session:
        row = session.get_one(CallbackRow, row_id)
        session.expunge(row)
        return row


def _created(board: Messages) -> list[OutboundCall]:
    return [req for kind, req in board.requests if kind == "create_call"]  # type: ignore[misc]


def _status(store: Store, row_id: int, call_status: str, now: datetime) -> str:
    """What /voice/callback/status does with an unanswered try's final CallStatus."""
    context = _context(store)
    with store.session() as session:
        row = session.get_one(CallbackRow, row_id)
        return settle_unanswered(session, row, call_status, now, RETRY, context.settings.routing)


def test_the_callback_is_placed_at_its_time_from_the_number_the_buyer_called(
    any_store: Store, twilio_messages: Messages
) -> None:
    context = _context(any_store)
    row_id = _ask(any_store)
    assert next_due(context, ASKED) == DUE
    assert job_named("callbacks").next_due is next_due
    assert run_due(context, DUE - timedelta(seconds=1))["callbacks"].called == []
    report = run_due(context, DUE)["callbacks"]
    assert report.called == [row_id]
    [made] = _created(twilio_messages)
    assert (made.to, made.from_, made.method, made.status_callback_method) == (
        BUYER,
        HOTLINE,
        "POST",
        "POST",
    )
    answer, status = urlsplit(made.url or ""), urlsplit(made.status_callback or "")
    assert (answer.scheme, answer.netloc, answer.path) == (
        "https",
        "hotline.example",
        "/voice/callback/answer",
    )
    assert status.path == "/voice/callback/status"
    assert (
        parse_qs(answer.query)
        == parse_qs(status.query)
        == {
            "callback": [str(row_id)],
            "try": ["1"],
        }
    )
    assert made.status_callback_event == ("completed",)
    row = _row(any_store, row_id)
    [placed] = twilio_messages.calls()
    assert (row.status, row.attempts, row.call_ref) == ("calling", 1, placed.sid)
    assert row.due_at == DUE + CLAIM_LAPSE  # when the claim lapses without its status callback
    assert next_due(context, DUE) == DUE + CLAIM_LAPSE
    assert call_back(context, DUE + timedelta(minutes=1)).called == []  # placed once


def test_unanswered_twice_then_a_thread_for_the_warehouse(
    any_store: Store, twilio_messages: Messages
) -> None:
    context = _context(any_store)
    row_id = _ask(any_store)
    call_back(context, DUE)
    ended = DUE + timedelta(minutes=1)
    assert _status(any_store, row_id, "no-answer", ended) == "retrying"
    assert _status(any_store, row_id, "no-answer", ended) == "stale"  # a retried callback
    assert next_due(context, ended) == ended + RETRY
    assert call_back(context, ended + RETRY - timedelta(seconds=1)).called == []
    assert call_back(context, ended + RETRY).called == [row_id]
    first, second = _created(twilio_messages)
    assert parse_qs(urlsplit(second.url or "").query)["try"] == ["2"]
    assert (second.to, second.from_) == (first.to, first.from_)
    assert _status(any_store, row_id, "busy", ended + RETRY) == "gave_up"
    row = _row(any_store, row_id)
    assert (row.status, row.attempts, row.last_result) == ("unanswered", 2, "busy")
    assert next_due(context, ended + RETRY) is None
    assert call_back(context, DUE + timedelta(days=1)).called == []
    with any_store.session() as session:
        thread = session.get_one(ThreadRow, row.thread_id)
        assert (thread.party, thread.order_id, thread.buyer_phone) == (
            "warehouse",
            "1234567",
            BUYER,
        )
        bodies = session.scalars(
            select(MessageRow.body).where(MessageRow.thread_id == thread.id)
        ).all()
        kinds = session.scalars(select(OutboxRow.kind).where(OutboxRow.thread_id == thread.id))
        assert set(kinds) == {"thread_opened", "buyer_thread_opened"}
    assert bodies[1].startswith("Callback not answered (2 calls, the last: busy)")


def test_two_runs_at_once_place_one_call(any_store: Store, twilio_messages: Messages) -> None:
    context = _context(any_store)
    ids = [_ask(any_store, call_sid=f"CA{n}", phone=f"+4860110030{n}") for n in range(5)]
    start = threading.Barrier(2)
    reports = []

    def run() -> None:
        start.wait()
        reports.append(call_back(context, DUE))

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    called = [row for report in reports for row in report.called]
    assert sorted(called) == ids
    assert sorted(made.to for made in _created(twilio_messages)) == [
        f"+4860110030{n}" for n in range(5)
    ]


def test_a_claim_without_its_status_callback_lapses_into_a_retry(
    any_store: Store, twilio_messages: Messages
) -> None:
    context = _context(any_store)
    row_id = _ask(any_store)
    call_back(context, DUE)
    assert call_back(context, DUE + CLAIM_LAPSE - timedelta(seconds=1)).retrying == []
    assert call_back(context, DUE + CLAIM_LAPSE).retrying == [row_id]
    row = _row(any_store, row_id)
    assert (row.status, row.last_result, row.due_at) == (
        "pending",
        "lost",
        DUE + CLAIM_LAPSE + RETRY,
    )


def test_a_call_twilio_refuses_is_an_unanswered_try(
    any_store: Store, twilio_messages: Messages, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(request: OutboundCall) -> None:
        raise RestError(400, 21215, "Geo permission for this number is off")

    monkeypatch.setattr(twilio_messages, "create_call", refuse)
    context = _context(any_store)
    row_id = _ask(any_store)
    assert call_back(context, DUE).retrying == [row_id]
    assert call_back(context, DUE + RETRY).gave_up == [row_id]
    assert _row(any_store, row_id).last_result == "refused"


def test_without_a_public_base_url_no_call_goes_out(
    any_store: Store, twilio_messages: Messages
) -> None:
    context = _context(any_store, public_base_url="")
    row_id = _ask(any_store)
    assert call_back(context, DUE).retrying == [row_id]
    assert _created(twilio_messages) == []


def test_a_new_call_from_the_buyer_cancels_the_pending_callback(
    any_store: Store, twilio_messages: Messages
) -> None:
    context = _context(any_store)
    row_id = _ask(any_store)
    other = _ask(any_store, call_sid="CA2", phone="+48601999000")
    with any_store.session() as session:
        assert callbacks.cancel_for(session, BUYER, ASKED + timedelta(minutes=5)) == 1
    assert _row(any_store, row_id).status == "cancelled"
    assert call_back(context, DUE).called == [other]
    with any_store.session() as session:  # a callback already placed is not cancelled
        assert callbacks.cancel_for(session, "+48601999000", DUE) == 0


def test_a_request_is_stored_once_per_call(any_store: Store) -> None:
    _ask(any_store)
    _ask(any_store)
    with any_store.session() as session:
        assert len(callbacks.rows(session)) == 1


def test_the_voice_urls_write_cancels_the_callbacks_of_the_calling_number(
    any_store: Store, twilio_messages: Messages
) -> None:
    asked_for_other = _ask(any_store)  # asked from BUYER's phone for BUYER
    with any_store.session() as session:  # asked from elsewhere, to be called on BUYER's phone
        callbacks.request(
            session,
            CallbackRequest("CA2", BUYER, "+48601999000", HOTLINE, "en", None, None, None, DUE),
            ASKED,
        )
    untouched = _ask(any_store, call_sid="CA3", phone="+48601555000")
    again = ASKED + timedelta(minutes=30)
    with CallWork(any_store) as work:
        work.cancel_callbacks_on_save(BUYER, again)
        call = CallState("CA9", "en", again, again, "main_menu", from_number=BUYER)
        work.save(call, "incoming", None, "main_menu")
    with any_store.session() as session:
        statuses = {row.call_sid: (row.status, row.updated_at) for row in callbacks.rows(session)}
    assert statuses == {
        "CA1": ("cancelled", again),
        "CA2": ("cancelled", again),
        "CA3": ("pending", ASKED),
    }
    assert call_back(_context(any_store), DUE).called == [untouched]
    assert _row(any_store, asked_for_other).attempts == 0
