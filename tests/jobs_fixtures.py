"""The receiving sides of the notifications, real ones: an SMTP server on loopback (aiosmtpd)
and the simulator's REST stand-in for Twilio's Messages API (reached through $TWILIO_API_URL).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from hotline.config.settings import Settings, load_settings
from hotline.jobs.context import JobContext
from hotline.messages.threads import open_thread
from hotline.rules.routing import Party
from hotline.sim.rest.api import create_rest_app
from hotline.sim.rest.switchboard import MessageRecord, RestError
from hotline.store.database import Store, sync_directory
from hotline.twilio_rest.http import register_in_process, unregister_in_process
from tests.conftest import AUTH_TOKEN, shipped_config
from tests.live_server import free_port
from tests.sim.rest.switchboard_double import ACCOUNT_SID, SwitchboardDouble

SELLER_MAIL = "orders@acme.example"
BUYER = "+48601100200"
SMS_FROM = "+442071000000"


@dataclass
class MailBox:
    """An SMTP server's handler: keeps each mail; answers ``refusal`` instead while it is set."""

    mails: list[tuple[list[str], Message]] = field(default_factory=list)
    refusal: str | None = None  # e.g. "451 4.3.0 try again later" or "550 5.1.1 no such user"
    tried: int = 0
    holding: bool = False  # keeps a received mail's "250" back (the sender waits for it)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.tried += 1
        if self.refusal is not None:
            return self.refusal
        assert isinstance(envelope.content, bytes)
        self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        while self.holding:
            await asyncio.sleep(0.05)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[MailBox, int]]:
    """A real SMTP server on a free loopback port, and its mailbox."""
    box = MailBox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


class Messages(SwitchboardDouble):
    """The stand-in's records of messages; refuses new ones (503) while ``refusing``."""

    def __init__(self) -> None:
        super().__init__()
        self.refusing = False
        self.holding = threading.Event()  # set: a message is kept, its answer held back

    def send_message(self, to: str, from_: str, body: str, **kwargs: Any) -> MessageRecord:
        if self.refusing:
            raise RestError(503, 20003, "Service unavailable, try again")
        message = super().send_message(to, from_, body, **kwargs)
        while self.holding.is_set():
            time.sleep(0.05)
        return message


@pytest.fixture
def twilio_messages(monkeypatch: pytest.MonkeyPatch) -> Iterator[Messages]:
    """The REST stand-in in process, where hotline's Client goes ($TWILIO_API_URL)."""
    board = Messages()
    url = register_in_process("jobs-test", create_rest_app(board, AUTH_TOKEN))
    monkeypatch.setenv("TWILIO_API_URL", url)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    yield board
    unregister_in_process("jobs-test")


def settings_for(store: Store, port: int, **notifications: int) -> Settings:
    """The shipped config on ``store``, mailing through loopback ``port``, Acme with an address."""
    data = shipped_config()
    data["store"]["url"] = store.url
    data["hotline"]["public_base_url"] = "https://hotline.example"
    data["sellers"][0]["email"] = SELLER_MAIL
    data["mail"] = {
        "mode": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "sender": "hotline@market.example",
    }
    data["sms"] = {"from": SMS_FROM}
    data["notifications"] = {"retry_seconds": 60, **notifications}
    settings = load_settings(data)
    sync_directory(store, settings)
    return settings


def context_for(store: Store, port: int, **notifications: int) -> JobContext:
    """A job context on ``store`` (hotline's Client built from the environment)."""
    return JobContext(settings_for(store, port, **notifications), store)


def open_call_thread(store: Store, now: datetime, call_sid: str = "CA1") -> int:
    """A thread the hotline opened from a buyer's call for Acme: a mail and an SMS to send."""
    with store.session() as session:
        thread = open_thread(
            session,
            call_sid=call_sid,
            party=Party.SELLER,
            seller_id="acme",
            order_id="1234567",
            topic="product",
            buyer_phone=BUYER,
            question="Does it work with USB-C?",
            now=now,
        )
        return thread.id
