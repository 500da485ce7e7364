"""A sender killed (SIGKILL) mid-send: the receiving side had the notification, the row was
left ``sending``. Once its claim lapses the next run reconciles it: the SMS is found among the
messages Twilio has and not sent again; the mail is sent again with the same Message-ID.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from hotline.jobs.delivery import deliver_outbox
from hotline.sim.rest.api import create_rest_app
from hotline.sim.rest.server import RestServer
from hotline.store import outbox
from hotline.store.database import Store
from tests.conftest import AUTH_TOKEN, ROOT
from tests.jobs_fixtures import MailBox, Messages, context_for, open_call_thread, smtp_server
from tests.sim.rest.switchboard_double import ACCOUNT_SID

__all__ = ["smtp_server"]

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
DEADLINE = 120.0
# A sender in a process of its own, delivering the outbox at NOW (argv: database URL, SMTP port).
SENDER = (
    "import sys; from datetime import datetime; "
    "from hotline.store.database import Store; from hotline.jobs.delivery import deliver_outbox; "
    "from tests.jobs_fixtures import context_for; store = Store(sys.argv[1]); "
    "deliver_outbox(context_for(store, int(sys.argv[2])), datetime.fromisoformat(sys.argv[3]))"
)


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Messages, str]]:
    """The REST stand-in on a loopback port (the sender is in another process)."""
    board = Messages()
    with RestServer(create_rest_app(board, AUTH_TOKEN)) as server:
        monkeypatch.setenv("TWILIO_API_URL", server.url)
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
        yield board, server.url
        board.holding.clear()


def _wait_for(what: str, check: Callable[[], object]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {DEADLINE} s")
        time.sleep(0.05)


def _killed_mid_send(store: Store, port: int, received: Callable[[], bool]) -> None:
    sender = subprocess.Popen(
        [sys.executable, "-c", SENDER, store.url, str(port), NOW.isoformat()],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        _wait_for("received", received)
    finally:
        sender.send_signal(signal.SIGKILL)
        sender.wait()


def test_a_mail_received_before_the_kill_is_resent_with_its_message_id(
    any_store: Store, smtp_server: tuple[MailBox, int], stand_in: tuple[Messages, str]
) -> None:
    box, port = smtp_server
    context = context_for(any_store, port)
    open_call_thread(any_store, NOW)
    box.holding = True
    _killed_mid_send(any_store, port, lambda: len(box.mails) == 1)
    box.holding = False
    [mail_row, _sms_row] = reversed(outbox.rows(any_store))
    assert (mail_row.status, mail_row.tries) == ("sending", 1)
    lapse = timedelta(seconds=context.settings.jobs.notifications.sending_timeout_seconds)
    report = deliver_outbox(context, NOW + lapse)
    assert report.sent == [mail_row.id, _sms_row.id]
    first, second = (mail for _to, mail in box.mails)
    assert first["Message-ID"] == second["Message-ID"]
    assert first.get_payload() == second.get_payload()


def test_an_sms_sent_before_the_kill_is_found_and_not_sent_again(
    any_store: Store, smtp_server: tuple[MailBox, int], stand_in: tuple[Messages, str]
) -> None:
    _box, port = smtp_server
    board, _url = stand_in
    context = context_for(any_store, port)
    open_call_thread(any_store, NOW)
    board.holding.set()
    _killed_mid_send(any_store, port, lambda: len(board.messages()) == 1)
    board.holding.clear()
    [mail_row, sms_row] = reversed(outbox.rows(any_store))
    assert (mail_row.status, sms_row.status) == ("sent", "sending")
    lapse = timedelta(seconds=context.settings.jobs.notifications.sending_timeout_seconds)
    report = deliver_outbox(context, NOW + lapse)
    assert report.found_sent == [sms_row.id] and report.sent == []
    [message] = board.messages()
    [row] = outbox.rows(any_store, "sent", limit=1)
    assert (row.id, row.sent_ref, row.tries) == (sms_row.id, message.sid, 2)
