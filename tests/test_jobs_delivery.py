"""The outbox's delivery against real receiving sides (an SMTP server on loopback, the REST
stand-in for Twilio's Messages API), on SQLite and PostgreSQL: sent once, retried with back-off,
failed after max_tries, never sent twice by two claimers, reconciled after a crash mid-send.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hotline.jobs.delivery import deliver_outbox, outbox_next_due
from hotline.jobs.notices import message_id
from hotline.jobs.registry import next_due, run_due
from hotline.messages.threads import key_hash, open_conversation
from hotline.store import outbox
from hotline.store.database import Store
from hotline.store.models import OutboxRow, ThreadRow
from hotline.store.outbox import LINK_SECRET
from tests.jobs_fixtures import (
    BUYER,
    SELLER_MAIL,
    SMS_FROM,
    MailBox,
    Messages,
    context_for,
    open_call_thread,
    smtp_server,
    twilio_messages,
)

__all__ = ["smtp_server", "twilio_messages"]  # fixtures, used by name

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _rows(store: Store) -> list[tuple[str, str, int, str | None]]:
    with store.session() as session:
        found = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
        return [(r.kind, r.status, r.tries, r.last_error) for r in found]


def _ids(store: Store) -> list[int]:
    """The rows' ids, oldest first (PostgreSQL's sequences go on from test to test)."""
    with store.session() as session:
        return list(session.scalars(select(OutboxRow.id).order_by(OutboxRow.id)))


def test_a_thread_from_a_call_mails_the_seller_and_texts_the_buyer_once(
    any_store: Store, smtp_server: tuple[MailBox, int], twilio_messages: Messages
) -> None:
    box, port = smtp_server
    context = context_for(any_store, port)
    thread_id = open_call_thread(any_store, NOW)

    report = run_due(context, NOW)["outbox"]
    again = deliver_outbox(context, NOW + timedelta(hours=1))  # nothing left: nothing resent

    assert len(report.sent) == 2 and again.sent == [] and again.found_sent == []
    [(recipients, mail)] = box.mails
    assert recipients == [SELLER_MAIL]
    assert mail["To"] == SELLER_MAIL and mail["From"] == "hotline@market.example"
    mail_id, _sms_id = _ids(any_store)
    assert mail["Subject"] == f"A new Message Center thread: {thread_id:04d}"
    assert mail["Message-ID"] == f"<outbox-{mail_id}-20261126090000@market.example>"
    body = mail.get_payload(decode=True).decode()
    assert "Does it work with USB-C?" in body and "Order: 1234567" in body
    [sms] = twilio_messages.messages()
    assert (sms.to, sms.from_) == (BUYER, SMS_FROM)
    text, _, secret = sms.body.rpartition("/")
    assert text == (
        f"Your question about order 1234567 is in thread {thread_id:04d}. "
        f"Read and reply: https://hotline.example/t/{thread_id}"
    )
    with any_store.session() as session:  # the link's secret: its hash on the thread, no more
        assert session.get(ThreadRow, thread_id).buyer_key_hash == key_hash(secret)  # type: ignore[union-attr]
        assert secret not in "".join(session.scalars(select(OutboxRow.payload)))
    assert _rows(any_store) == [
        ("thread_opened", "sent", 1, None),
        ("buyer_thread_opened", "sent", 1, None),
    ]
    with any_store.session() as session:
        refs = session.scalars(select(OutboxRow.sent_ref).order_by(OutboxRow.id)).all()
    assert refs == [mail["Message-ID"], sms.sid]


@pytest.mark.parametrize("refusal", ["451 4.3.0 try again later", "554 5.7.1 rejected"])
def test_a_refusing_smtp_server_gets_retries_with_back_off_then_the_row_fails(
    any_store: Store, smtp_server: tuple[MailBox, int], twilio_messages: Messages, refusal: str
) -> None:
    box, port = smtp_server
    box.refusal = refusal
    context = context_for(any_store, port, max_tries=3)
    open_call_thread(any_store, NOW)

    mail_id, sms_id = _ids(any_store)
    first = deliver_outbox(context, NOW)
    assert first.retrying == [mail_id] and first.sent == [sms_id]  # the SMS went; mail waits
    assert deliver_outbox(context, NOW + timedelta(seconds=59)).retrying == []  # not due yet
    second = deliver_outbox(context, NOW + timedelta(seconds=60))
    assert second.retrying == [mail_id]
    with any_store.session() as session:
        row = session.get_one(OutboxRow, mail_id)
        # 60 s after the first failure, then 120 s after the second
        assert row.next_attempt_at == NOW + timedelta(seconds=180)
        assert row.last_error == f"the SMTP server refused the mail: {refusal}"
    third = deliver_outbox(context, NOW + timedelta(seconds=180))
    assert third.failed == [mail_id]
    assert deliver_outbox(context, NOW + timedelta(days=2)).failed == []  # failed stays failed
    assert box.tried == 3 and box.mails == []
    assert _rows(any_store)[0][:3] == ("thread_opened", "failed", 3)


def test_a_server_back_up_gets_the_mail_on_the_next_try(
    any_store: Store, smtp_server: tuple[MailBox, int], twilio_messages: Messages
) -> None:
    box, port = smtp_server
    context = context_for(any_store, port)
    open_call_thread(any_store, NOW)
    box.refusal = "421 4.3.2 shutting down"
    deliver_outbox(context, NOW)
    box.refusal = None
    assert deliver_outbox(context, NOW + timedelta(seconds=60)).sent == _ids(any_store)[:1]
    assert len(box.mails) == 1
    assert _rows(any_store)[0] == ("thread_opened", "sent", 2, None)


def test_no_smtp_server_listening_is_a_failed_try(
    any_store: Store, twilio_messages: Messages
) -> None:
    from tests.live_server import free_port

    context = context_for(any_store, free_port())  # nothing listens there
    open_call_thread(any_store, NOW)
    assert deliver_outbox(context, NOW).retrying == _ids(any_store)[:1]
    error = _rows(any_store)[0][3]
    assert error is not None and error.startswith("cannot send through the SMTP server 127.0.0.1:")


def test_twilio_refusing_the_sms_gets_retries_then_fails(
    any_store: Store, smtp_server: tuple[MailBox, int], twilio_messages: Messages
) -> None:
    _box, port = smtp_server
    twilio_messages.refusing = True
    context = context_for(any_store, port, max_tries=2)
    open_call_thread(any_store, NOW)
    sms_id = _ids(any_store)[1]
    assert deliver_outbox(context, NOW).retrying == [sms_id]
    assert deliver_outbox(context, NOW + timedelta(seconds=60)).failed == [sms_id]
    kind, status, tries, error = _rows(any_store)[1]
    assert (kind, status, tries) == ("buyer_thread_opened", "failed", 2)
    assert error == (
        "Twilio answered 503 (error 20003): Unable to create record: Service unavailable, try again"
    )
    assert twilio_messages.messages() == []


def _twilio_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twilio's REST API at a closed port of this machine."""
    from tests.live_server import free_port

    monkeypatch.setenv("TWILIO_API_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "a-token")


def test_twilio_unreachable_is_a_failed_try(
    any_store: Store, smtp_server: tuple[MailBox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _box, port = smtp_server
    _twilio_unreachable(monkeypatch)
    context = context_for(any_store, port)
    open_call_thread(any_store, NOW)
    assert deliver_outbox(context, NOW).retrying == _ids(any_store)[1:]
    error = _rows(any_store)[1][3]
    assert error is not None and error.startswith("Twilio could not be reached")


def test_two_claimers_at_once_send_each_row_exactly_once(
    any_store: Store, smtp_server: tuple[MailBox, int], twilio_messages: Messages
) -> None:
    box, port = smtp_server
    context = context_for(any_store, port)
    for n in range(10):
        open_call_thread(any_store, NOW, call_sid=f"CA{n}")
    start = threading.Barrier(2)
    reports = []

    def claimer() -> None:
        start.wait()
        reports.append(deliver_outbox(context, NOW))

    threads = [threading.Thread(target=claimer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = [row for report in reports for row in report.sent]
    ids = _ids(any_store)
    assert sorted(sent) == ids and len(ids) == 20  # each of the rows by one claimer only
    assert len(box.mails) == 10 and len(twilio_messages.messages()) == 10
    assert {mail["Message-ID"] for _to, mail in box.mails} == {
        f"<outbox-{n}-20261126090000@market.example>" for n in ids[::2]
    }


def _claim_and_crash(store: Store, row_id: int, context_timeout: timedelta) -> outbox.Claim:
    """A sender that claimed the row and died before recording anything."""
    claim = outbox.claim(store, row_id, NOW, context_timeout)
    assert claim is not None
    return claim


def test_an_sms_sent_before_a_crash_is_found_and_not_sent_again(
    any_store: Store, smtp_server: tuple[MailBox, int], twilio_messages: Messages
) -> None:
    _box, port = smtp_server
    context = context_for(any_store, port)
    thread_id = open_call_thread(any_store, NOW)
    mail_id, sms_id = _ids(any_store)
    timeout = timedelta(seconds=context.settings.jobs.notifications.sending_timeout_seconds)
    claim = _claim_and_crash(any_store, sms_id, timeout)
    # it had gone out: the crash came between Twilio's answer and the row's update
    twilio_messages.send_message(
        BUYER,
        SMS_FROM,
        f"Your question about order 1234567 is in thread {thread_id:04d}. "
        f"Read and reply: https://hotline.example/t/{thread_id}/{json.loads(claim.payload)[LINK_SECRET]}",
    )
    assert deliver_outbox(context, NOW).sent == [mail_id]  # the claimed row waits
    assert deliver_outbox(context, NOW + timeout - timedelta(seconds=1)).found_sent == []
    report = deliver_outbox(context, NOW + timeout)
    assert report.found_sent == [sms_id] and report.sent == []
    assert len(twilio_messages.messages()) == 1
    assert _rows(any_store)[1] == ("buyer_thread_opened", "sent", 2, None)
    # the crashed sender, were it to wake up, records nothing over the new claim
    assert not outbox.mark_sent(any_store, claim, NOW, "SMstale")


def test_an_sms_not_sent_before_a_crash_is_sent_after_it(
    any_store: Store, smtp_server: tuple[MailBox, int], twilio_messages: Messages
) -> None:
    _box, port = smtp_server
    context = context_for(any_store, port)
    open_call_thread(any_store, NOW)
    timeout = timedelta(seconds=context.settings.jobs.notifications.sending_timeout_seconds)
    _claim_and_crash(any_store, _ids(any_store)[1], timeout)
    assert deliver_outbox(context, NOW + timeout).sent == _ids(any_store)
    assert len(twilio_messages.messages()) == 1


def test_twilio_unreachable_while_looking_for_a_sent_sms_names_no_number(
    any_store: Store,
    smtp_server: tuple[MailBox, int],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Looking for the SMS a crashed sender may have sent lists Twilio's messages to the buyer:
    # the failed request's URL holds the number ("To=%2B48..."), in the error and in the log.
    _box, port = smtp_server
    _twilio_unreachable(monkeypatch)
    context = context_for(any_store, port)
    open_call_thread(any_store, NOW)
    timeout = timedelta(seconds=context.settings.jobs.notifications.sending_timeout_seconds)
    _claim_and_crash(any_store, _ids(any_store)[1], timeout)
    with caplog.at_level(logging.WARNING, logger="hotline.jobs"):
        assert deliver_outbox(context, NOW + timeout).retrying == [_ids(any_store)[1]]
    error = _rows(any_store)[1][3]
    digits = BUYER.lstrip("+")
    assert error is not None and "To=%2B********" + digits[-3:] in error  # the request, masked
    assert digits not in error and digits not in caplog.text


def test_a_mail_claimed_before_a_crash_is_resent_with_the_same_message_id(
    any_store: Store, smtp_server: tuple[MailBox, int], twilio_messages: Messages
) -> None:
    box, port = smtp_server
    context = context_for(any_store, port)
    open_call_thread(any_store, NOW)
    timeout = timedelta(seconds=context.settings.jobs.notifications.sending_timeout_seconds)
    claim = _claim_and_crash(any_store, _ids(any_store)[0], timeout)
    report = deliver_outbox(context, NOW + timeout)
    assert report.sent == _ids(any_store)
    [(_to, mail)] = box.mails
    assert mail["Message-ID"] == message_id(claim, "hotline@market.example")


def test_rows_with_nobody_to_send_to_are_skipped_with_the_reason(
    any_store: Store, smtp_server: tuple[MailBox, int], twilio_messages: Messages
) -> None:
    from hotline.messages.threads import open_thread
    from hotline.rules.routing import Party

    _box, port = smtp_server
    context = context_for(any_store, port)
    with any_store.session() as session:
        for seller, party in (("bookworm", Party.SELLER), (None, Party.WAREHOUSE)):
            open_thread(
                session,
                call_sid=None,
                party=party,
                seller_id=seller,
                order_id=None,
                topic=None,
                buyer_phone=None,
                question="?",
                now=NOW,
            )
    assert deliver_outbox(context, NOW).skipped == _ids(any_store)
    assert [row[3] for row in _rows(any_store)] == [
        "seller 'bookworm' has no email in [[sellers]]",
        "no address for the warehouse: set [mail] warehouse",
    ]


def test_a_kind_no_job_knows_waits_untouched(
    any_store: Store, smtp_server: tuple[MailBox, int], twilio_messages: Messages
) -> None:
    _box, port = smtp_server
    context = context_for(any_store, port)
    with any_store.session() as session:
        session.add(OutboxRow(kind="later_kind", recipient="acme", payload="{}", created_at=NOW))
    assert deliver_outbox(context, NOW) == deliver_outbox(context, NOW)
    assert _rows(any_store) == [("later_kind", "pending", 0, None)]


def test_folder_mode_writes_each_mail_to_a_file_and_logs_it(
    store: Store, tmp_path: object, caplog: pytest.LogCaptureFixture, twilio_messages: Messages
) -> None:
    from pathlib import Path

    from hotline.config.settings import load_settings
    from hotline.jobs.context import JobContext
    from hotline.store.database import sync_directory
    from tests.conftest import shipped_config

    data = shipped_config()
    data["store"]["url"] = store.url
    folder = Path(str(tmp_path)) / "mail"
    data["mail"] = {"folder": str(folder)}  # mode "folder" is the default
    settings = load_settings(data)
    sync_directory(store, settings)
    open_call_thread(store, NOW)
    with caplog.at_level("INFO", logger="hotline.jobs.mail"):
        report = deliver_outbox(JobContext(settings, store), NOW)
    assert report.sent == [1, 2]  # the mail to the folder, the SMS to the stand-in
    [written] = folder.glob("*.eml")
    assert f"To: {SELLER_MAIL}" in written.read_text()
    [line] = [r.getMessage() for r in caplog.records if r.name == "hotline.jobs.mail"]
    assert line == (
        f'mail to {SELLER_MAIL} written to {written} ([mail] mode = "folder": '
        "no mail server is used)"
    )


def test_a_seller_told_of_a_combined_orders_discussion_learns_only_the_order(
    store: Store, smtp_server: tuple[MailBox, int]
) -> None:
    box, port = smtp_server
    context = context_for(store, port)
    order = next(o for o in context.settings.orders if o.id == "6789012")
    with store.session() as session:
        open_conversation(
            session,
            context.settings.routing,
            order,
            text="The parcel never came, my address is 1 Secret Street.",
            now=NOW,
            reason="not_received",
        )
    deliver_outbox(context, NOW)
    # Both sellers of the order are told (the warehouse has no address in these settings).
    told = sorted(to for to, _mail in box.mails)
    assert told == sorted([[SELLER_MAIL], ["orders@greenleaf.example"]])
    for _to, mail in box.mails:
        body = mail.get_payload(decode=True).decode()
        assert mail["Subject"] == "A Discussion opened on your order"
        assert "Order: 6789012" in body
        assert "Secret Street" not in body and "Thread:" not in body


def test_next_due_is_now_for_a_due_row_then_the_retry_then_none(
    any_store: Store, smtp_server: tuple[MailBox, int], twilio_messages: Messages
) -> None:
    box, port = smtp_server
    context = context_for(any_store, port)
    assert outbox_next_due(context, NOW) is None  # nothing written: nothing to wake for
    open_call_thread(any_store, NOW)
    later = NOW + timedelta(minutes=5)
    assert outbox_next_due(context, later) == later  # due since it was written: due now
    box.refusal = "451 4.3.0 try again later"
    deliver_outbox(context, later)  # the SMS goes, the mail waits 60 s for its retry
    assert outbox_next_due(context, later) == later + timedelta(seconds=60)
    assert next_due(context, later) == later + timedelta(seconds=60)  # the registry's earliest
    box.refusal = None
    deliver_outbox(context, later + timedelta(seconds=60))
    assert outbox_next_due(context, later + timedelta(seconds=60)) is None
    # The registry's earliest is now another job's: the thread's first reminder, 12 h in.
    assert next_due(context, later + timedelta(seconds=60)) == NOW + timedelta(hours=12)


def test_next_due_of_a_lapsing_claim_is_when_it_lapses(
    any_store: Store, twilio_messages: Messages
) -> None:
    context = context_for(any_store, 1)
    open_call_thread(any_store, NOW)
    for row_id in _ids(any_store):
        _claim_and_crash(any_store, row_id, timedelta(seconds=300))
    assert outbox_next_due(context, NOW) == NOW + timedelta(seconds=300)
    assert outbox_next_due(context, NOW + timedelta(hours=1)) == NOW + timedelta(hours=1)


def test_a_seller_is_told_of_a_discussion_the_warehouse_answers(
    store: Store, smtp_server: tuple[MailBox, int]
) -> None:
    """ "Whoever it is assigned to": a Discussion on Acme's order that the warehouse answers is
    mailed to Acme too, saying who answers it."""
    box, port = smtp_server
    context = context_for(store, port)
    order = next(o for o in context.settings.orders if o.id == "1234567")
    with store.session() as session:
        open_conversation(
            session,
            context.settings.routing,
            order,
            text="The parcel never came.",
            now=NOW,
            reason="not_received",
        )
    deliver_outbox(context, NOW)
    [(to, mail)] = box.mails  # the warehouse has no address in these settings: skipped
    body = mail.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert to == [SELLER_MAIL] and mail["Subject"] == "A Discussion opened on your order: 0001"
    assert "The buyer's question:\nThe parcel never came." in body
    assert "The warehouse answers it; you can follow it in the Message Center." in body


def test_the_assignee_is_told_when_the_buyer_writes_again(
    store: Store, smtp_server: tuple[MailBox, int], twilio_messages: Messages
) -> None:
    from hotline.messages.conversation import Author, write

    box, port = smtp_server
    context = context_for(store, port)
    thread_id = open_call_thread(store, NOW)
    deliver_outbox(context, NOW)  # the thread's own mail and SMS
    box.mails.clear()
    later = NOW + timedelta(hours=1)
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        write(session, thread, Author("buyer"), "And does it fit the 2024 model?", later)
    report = deliver_outbox(context, later)
    assert len(report.sent) == 1 and report.skipped == []
    [(to, mail)] = box.mails
    body = mail.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert to == [SELLER_MAIL]
    assert mail["Subject"] == "The buyer wrote again in a Message Center thread: 0001"
    assert "The buyer wrote:\nAnd does it fit the 2024 model?" in body
    assert "Please answer it in the Message Center." in body
