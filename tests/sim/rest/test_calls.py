"""The Calls endpoints through twilio's own Client: what reaches the switchboard, what comes back.

The switchboard here is a test double (the engine's world is built separately): these tests
prove the REST layer, its parameters, shapes and refusals, not the effect on a live call.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from twilio.rest import Client

from hotline.sim.rest.switchboard import CallUpdate, OutboundCall
from tests.sim.rest.conftest import refusal
from tests.sim.rest.switchboard_double import SwitchboardDouble

APP = "https://app.example.com"
HOTLINE = "+442071000000"
SELLER = "+48600300400"


def test_create_places_an_outbound_call_with_every_documented_setting(
    client: Client, board: SwitchboardDouble
) -> None:
    call = client.calls.create(
        to=SELLER,
        from_=HOTLINE,
        url=f"{APP}/outbound",
        method="GET",
        status_callback=f"{APP}/status",
        status_callback_method="GET",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
        timeout=25,
        time_limit=600,
        caller_id="+442071000001",
    )
    assert board.requests == [
        (
            "create_call",
            OutboundCall(
                to=SELLER,
                from_=HOTLINE,
                url=f"{APP}/outbound",
                method="GET",
                twiml=None,
                status_callback=f"{APP}/status",
                status_callback_method="GET",
                status_callback_event=("initiated", "ringing", "answered", "completed"),
                timeout=25.0,
                time_limit=600.0,
                caller_id="+442071000001",
            ),
        )
    ]
    # twilio's CallInstance parsed the answer: a 201 with the call queued
    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert (call.status, call.direction, call.to, call._from) == (
        "queued",
        "outbound-api",
        SELLER,
        HOTLINE,
    )
    assert call.date_created == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert call.account_sid == board.account_sid and call.api_version == "2010-04-01"
    assert call.uri == f"/2010-04-01/Accounts/{board.account_sid}/Calls/{call.sid}.json"


def test_create_defaults(client: Client, board: SwitchboardDouble) -> None:
    client.calls.create(
        to="client:alice", from_=HOTLINE, twiml="<Response><Say>Hi</Say></Response>"
    )
    ((_, sent),) = board.requests
    assert sent == OutboundCall(
        to="client:alice", from_=HOTLINE, twiml="<Response><Say>Hi</Say></Response>"
    )
    assert (sent.method, sent.status_callback_event, sent.timeout) == ("POST", ("completed",), 60.0)


def test_when_both_url_and_twiml_are_given_twiml_is_ignored(
    client: Client, board: SwitchboardDouble
) -> None:
    client.calls.create(to=SELLER, from_=HOTLINE, url=f"{APP}/a", twiml="<Response/>")
    ((_, sent),) = board.requests
    assert (sent.url, sent.twiml) == (f"{APP}/a", None)


@pytest.mark.parametrize(
    ("kwargs", "code", "words"),
    [
        ({"to": "", "from_": HOTLINE, "url": f"{APP}/a"}, 21201, "No 'To' number"),
        ({"to": SELLER, "from_": "", "url": f"{APP}/a"}, 21213, "No 'From' number"),
        ({"to": "600300400", "from_": HOTLINE, "url": f"{APP}/a"}, 21211, "'To' number 600300400"),
        ({"to": SELLER, "from_": "hotline", "url": f"{APP}/a"}, 21212, "'From' number hotline"),
        ({"to": SELLER, "from_": HOTLINE}, 21205, "Url parameter is required"),
        ({"to": SELLER, "from_": HOTLINE, "url": "/voice"}, 21205, "not a valid URL: /voice"),
        (
            {"to": SELLER, "from_": HOTLINE, "url": f"{APP}/a", "method": "PUT"},
            21209,
            "GET or POST",
        ),
        (
            {"to": SELLER, "from_": HOTLINE, "application_sid": "AP" + "1" * 32},
            21218,
            "ApplicationSid",
        ),
        (
            {"to": SELLER, "from_": HOTLINE, "url": f"{APP}/a", "status_callback_event": ["busy"]},
            21626,
            "StatusCallbackEvent 'busy'",
        ),
        ({"to": SELLER, "from_": HOTLINE, "url": f"{APP}/a", "timeout": 601}, 20001, "Timeout"),
        (
            {"to": SELLER, "from_": HOTLINE, "url": f"{APP}/a", "status_callback": "status"},
            21205,
            "StatusCallback",
        ),
        ({"to": SELLER, "from_": HOTLINE, "twiml": "<Response>" + "x" * 4000}, 20001, "4000"),
    ],
)
def test_a_malformed_create_is_refused_before_the_switchboard(
    client: Client, board: SwitchboardDouble, kwargs: dict[str, object], code: int, words: str
) -> None:
    error = refusal(lambda: client.calls.create(**kwargs))
    assert (error.status, error.code, error.method) == (400, code, "POST")
    assert words in error.msg
    assert board.requests == []


def test_list_is_newest_first_and_filters_as_twilio_does(
    client: Client, board: SwitchboardDouble
) -> None:
    parent = board.add_call(from_="+48601100200")
    board.tick(60)
    child = board.add_call(
        from_=HOTLINE,
        to=SELLER,
        direction="outbound-dial",
        parent_call_sid=parent.sid,
        status="ringing",
    )
    board.tick(60)
    done = board.add_call(status="completed", start_time=datetime(2026, 11, 29, 9, 0, tzinfo=UTC))
    assert [c.sid for c in client.calls.list()] == [done.sid, child.sid, parent.sid]
    assert [c.sid for c in client.calls.list(to=SELLER)] == [child.sid]
    assert [c.sid for c in client.calls.list(from_="+48601100200")] == [done.sid, parent.sid]
    assert [c.sid for c in client.calls.list(status="in-progress")] == [parent.sid]
    assert [c.sid for c in client.calls.list(parent_call_sid=parent.sid)] == [child.sid]
    assert [c.sid for c in client.calls.list(start_time_after=datetime(2026, 11, 30))] == [
        child.sid, parent.sid,
    ]  # fmt: skip
    assert [c.sid for c in client.calls.list(start_time_before=datetime(2026, 11, 30))] == [
        done.sid
    ]
    assert client.calls.list(to="+10000000000") == []


def test_list_pages_are_followed_by_the_client(client: Client, board: SwitchboardDouble) -> None:
    made = [board.add_call() for _ in range(5)]
    page = client.calls.page(page_size=2)
    assert [c.sid for c in page] == [made[4].sid, made[3].sid]
    assert page.next_page_url is not None and "PageToken=PA" in page.next_page_url
    assert [c.sid for c in client.calls.stream(page_size=2)] == [c.sid for c in reversed(made)]
    assert len(client.calls.list(limit=3, page_size=2)) == 3


def test_fetch(client: Client, board: SwitchboardDouble) -> None:
    made = board.add_call(to="+14158675308", duration=None)
    call = client.calls(made.sid).fetch()
    assert (call.sid, call.status, call.to_formatted) == (made.sid, "in-progress", "(415) 867-5308")
    error = refusal(lambda: client.calls("CA" + "f" * 32).fetch())
    assert (error.status, error.code) == (404, 20404)
    assert f"/Calls/CA{'f' * 32}.json was not found" in error.msg


def test_update_redirects_to_a_url_or_twiml(client: Client, board: SwitchboardDouble) -> None:
    live = board.add_call()
    client.calls(live.sid).update(url=f"{APP}/transfer", method="GET")
    client.calls(live.sid).update(twiml="<Response><Say>Hold on</Say></Response>")
    client.calls(live.sid).update(
        url=f"{APP}/next", status_callback=f"{APP}/status", status_callback_method="GET"
    )
    assert board.requests == [
        ("update_call", (live.sid, CallUpdate(url=f"{APP}/transfer", method="GET"))),
        ("update_call", (live.sid, CallUpdate(twiml="<Response><Say>Hold on</Say></Response>"))),
        (
            "update_call",
            (
                live.sid,
                CallUpdate(
                    url=f"{APP}/next", status_callback=f"{APP}/status", status_callback_method="GET"
                ),
            ),
        ),
    ]


@pytest.mark.parametrize("status", ["completed", "canceled"])
def test_update_status_hangs_up(client: Client, board: SwitchboardDouble, status: str) -> None:
    live = board.add_call()
    call = client.calls(live.sid).update(status=status)
    assert board.requests == [("update_call", (live.sid, CallUpdate(status=status)))]
    assert call.status == status and call.end_time is not None


def test_an_update_of_a_finished_call_is_the_switchboards_21220(
    client: Client, board: SwitchboardDouble
) -> None:
    done = board.add_call(status="completed")
    error = refusal(lambda: client.calls(done.sid).update(url=f"{APP}/x"))
    assert (error.status, error.code) == (400, 21220)
    assert "not in-progress" in error.msg


def test_an_update_of_an_unknown_call_is_404(client: Client, board: SwitchboardDouble) -> None:
    error = refusal(lambda: client.calls("CA" + "e" * 32).update(status="completed"))
    assert (error.status, error.code) == (404, 20404)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"status": "busy"}, 20001),
        ({"url": "transfer"}, 21205),
        ({"url": f"{APP}/a", "method": "PUT"}, 21209),
    ],
)
def test_a_malformed_update_is_refused(
    client: Client, board: SwitchboardDouble, kwargs: dict[str, str], code: int
) -> None:
    live = board.add_call()
    error = refusal(lambda: client.calls(live.sid).update(**kwargs))
    assert (error.status, error.code) == (400, code)
    assert board.requests == []


def test_an_update_with_nothing_to_change_returns_the_call(
    client: Client, board: SwitchboardDouble
) -> None:
    live = board.add_call()
    assert client.calls(live.sid).update().sid == live.sid
    assert board.requests == []
