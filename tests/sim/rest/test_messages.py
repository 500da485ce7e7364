"""The Messages endpoints through twilio's own Client (switchboard: a test double)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from twilio.rest import Client

from hotline.sim.rest.switchboard import MessageRecord
from tests.sim.rest.conftest import refusal
from tests.sim.rest.switchboard_double import SwitchboardDouble

BUYER = "+48601100200"
HOTLINE = "+442071000000"
SERVICE = "MG" + "1" * 32


def test_create_records_the_message(client: Client, board: SwitchboardDouble) -> None:
    message = client.messages.create(
        to=BUYER,
        from_=HOTLINE,
        body="Your question was sent to the seller.",
        media_url=["https://app.example.com/a.png", "https://app.example.com/b.png"],
        status_callback="https://app.example.com/sms-status",
    )
    ((_, sent),) = board.requests
    assert isinstance(sent, MessageRecord)
    assert (sent.to, sent.from_, sent.body, sent.status_callback) == (
        BUYER, HOTLINE, "Your question was sent to the seller.", "https://app.example.com/sms-status",
    )  # fmt: skip
    assert sent.media_url == ("https://app.example.com/a.png", "https://app.example.com/b.png")
    assert (message.sid, message.status, message.direction) == (sent.sid, "queued", "outbound-api")
    assert (message.num_media, message.num_segments, message.price) == ("2", "1", None)
    assert message.date_created == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_create_through_a_messaging_service(client: Client, board: SwitchboardDouble) -> None:
    message = client.messages.create(
        to="whatsapp:" + BUYER, messaging_service_sid=SERVICE, body="Hi"
    )
    ((_, sent),) = board.requests
    assert (sent.from_, sent.messaging_service_sid) == ("", SERVICE)
    assert (message.from_, message.messaging_service_sid) == (None, SERVICE)


def test_media_alone_needs_no_body(client: Client, board: SwitchboardDouble) -> None:
    client.messages.create(to=BUYER, from_=HOTLINE, media_url=["https://app.example.com/a.png"])
    assert board.requests[0][1].body == ""


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": "", "from_": HOTLINE, "body": "x"}, 21604),
        ({"to": BUYER, "body": "x"}, 21603),
        ({"to": BUYER, "from_": HOTLINE}, 21602),
        ({"to": BUYER, "from_": HOTLINE, "body": "x" * 1601}, 21617),
        ({"to": "600300400", "from_": HOTLINE, "body": "x"}, 21211),
        ({"to": BUYER, "from_": "+0", "body": "x"}, 21212),
        ({"to": BUYER, "from_": HOTLINE, "media_url": ["a.png"]}, 11100),
        ({"to": BUYER, "from_": HOTLINE, "media_url": ["https://a.example/x.png"] * 11}, 20001),
        ({"to": BUYER, "from_": HOTLINE, "body": "x", "status_callback": "cb"}, 11100),
    ],
)
def test_a_malformed_create_is_refused(
    client: Client, board: SwitchboardDouble, kwargs: dict[str, object], code: int
) -> None:
    error = refusal(lambda: client.messages.create(**kwargs))
    assert (error.status, error.code) == (400, code)
    assert board.requests == []


def test_list_filters_and_fetch(client: Client, board: SwitchboardDouble) -> None:
    first = client.messages.create(to=BUYER, from_=HOTLINE, body="one")
    board.tick(86400)
    second = client.messages.create(to="+48600300400", from_="Hotline", body="two")
    assert [m.sid for m in client.messages.list()] == [second.sid, first.sid]
    assert [m.sid for m in client.messages.list(to=BUYER)] == [first.sid]
    assert [m.sid for m in client.messages.list(from_="Hotline")] == [second.sid]
    assert [m.sid for m in client.messages.list(date_sent=datetime(2026, 12, 1, tzinfo=UTC))] == [
        second.sid
    ]
    # DateSent< is "on and before" that day, as Twilio documents it
    assert [
        m.sid for m in client.messages.list(date_sent_before=datetime(2026, 11, 30, tzinfo=UTC))
    ] == [first.sid]
    assert client.messages(first.sid).fetch().body == "one"
    error = refusal(lambda: client.messages("SM" + "0" * 32).fetch())
    assert (error.status, error.code) == (404, 20404)
