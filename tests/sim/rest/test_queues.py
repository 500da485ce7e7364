"""The Queues and Members endpoints through twilio's own Client (switchboard: a test double)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from twilio.rest import Client

from tests.sim.rest.conftest import refusal
from tests.sim.rest.switchboard_double import SwitchboardDouble

AGENT_URL = "https://app.example.com/agent"


def test_create_list_and_fetch(client: Client, board: SwitchboardDouble) -> None:
    queue = client.queues.create(friendly_name="support", max_size=20)
    default = client.queues.create(friendly_name="returns")
    assert board.requests == [
        ("create_queue", ("support", 20)),
        ("create_queue", ("returns", 1000)),
    ]
    assert queue.sid.startswith("QU") and (queue.friendly_name, queue.max_size) == ("support", 20)
    assert (queue.current_size, queue.average_wait_time) == (0, 0)
    assert queue.date_created == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert [q.sid for q in client.queues.list()] == [queue.sid, default.sid]
    assert client.queues(queue.sid).fetch().friendly_name == "support"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"friendly_name": ""}, 20001),
        ({"friendly_name": "q" * 65}, 20001),
        ({"friendly_name": "support", "max_size": 5001}, 20001),
        ({"friendly_name": "support", "max_size": 0}, 20001),
    ],
)
def test_a_malformed_create_is_refused(
    client: Client, board: SwitchboardDouble, kwargs: dict[str, object], code: int
) -> None:
    error = refusal(lambda: client.queues.create(**kwargs))
    assert (error.status, error.code) == (400, code)
    assert board.requests == []


def test_the_switchboards_refusal_is_passed_through(client: Client) -> None:
    client.queues.create(friendly_name="support")
    error = refusal(lambda: client.queues.create(friendly_name="support"))
    assert (error.status, error.code) == (400, 22003)  # whatever the switchboard says
    assert "already exists" in error.msg


def test_an_unknown_queue_is_404(client: Client) -> None:
    for action in (
        lambda: client.queues("QU" + "0" * 32).fetch(),
        lambda: client.queues("QU" + "0" * 32).members("Front").fetch(),
        lambda: client.queues("QU" + "0" * 32).members("Front").update(url=AGENT_URL),
    ):
        error = refusal(action)
        assert (error.status, error.code) == (404, 20404)
    with pytest.raises(Exception, match="Unable to fetch page"):
        client.queues("QU" + "0" * 32).members.list()


def test_members_front_first(client: Client, board: SwitchboardDouble) -> None:
    first, second = board.add_call(), board.add_call()
    board.enqueue("support", first)
    board.tick(30)
    board.enqueue("support", second)
    queue = client.queues.list()[0]
    assert queue.current_size == 2
    members = client.queues(queue.sid).members.list()
    assert [(m.call_sid, m.position) for m in members] == [(first.sid, 1), (second.sid, 2)]
    assert members[0].queue_sid == queue.sid
    assert members[1].date_enqueued == datetime(2026, 11, 30, 10, 0, 30, tzinfo=UTC)
    assert client.queues(queue.sid).members("Front").fetch().call_sid == first.sid
    assert client.queues(queue.sid).members(second.sid).fetch().position == 2


def test_updating_front_or_a_call_dequeues_it_to_a_url(
    client: Client, board: SwitchboardDouble
) -> None:
    first, second = board.add_call(), board.add_call()
    board.enqueue("support", first)
    board.enqueue("support", second)
    queue_sid = client.queues.list()[0].sid
    member = client.queues(queue_sid).members("Front").update(url=AGENT_URL)
    assert member.call_sid == first.sid
    member = client.queues(queue_sid).members(second.sid).update(url=AGENT_URL, method="GET")
    assert member.call_sid == second.sid
    assert board.requests == [
        ("dequeue", (queue_sid, "Front", AGENT_URL, "POST")),
        ("dequeue", (queue_sid, second.sid, AGENT_URL, "GET")),
    ]
    error = refusal(lambda: client.queues(queue_sid).members("Front").update(url=AGENT_URL))
    assert (error.status, error.code) == (404, 20404)  # nobody waits any more


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"url": ""}, 20001), ({"url": "agent"}, 11100), ({"url": AGENT_URL, "method": "PUT"}, 21209)],
)
def test_a_malformed_dequeue_is_refused(
    client: Client, board: SwitchboardDouble, kwargs: dict[str, str], code: int
) -> None:
    board.enqueue("support", board.add_call())
    queue_sid = client.queues.list()[0].sid
    error = refusal(lambda: client.queues(queue_sid).members("Front").update(**kwargs))
    assert (error.status, error.code) == (400, code)
    assert not any(name == "dequeue" for name, _ in board.requests)


def test_a_call_not_in_the_queue_is_404(client: Client, board: SwitchboardDouble) -> None:
    board.enqueue("support", board.add_call())
    queue_sid = client.queues.list()[0].sid
    elsewhere = board.add_call()
    error = refusal(lambda: client.queues(queue_sid).members(elsewhere.sid).update(url=AGENT_URL))
    assert (error.status, error.code) == (404, 20404)
