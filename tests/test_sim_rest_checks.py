"""``[expect] messages`` and ``outbound``: what the app did through the REST API, read and checked.

The records come from a real session's network, made the way the REST stand-in makes them when
the app calls Twilio's API (Messages create, Calls create), at a second of the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest

from hotline.sim.engine.simulator import Simulator
from hotline.sim.engine.transport import WSGITransport
from hotline.sim.model import CalleeBehaviour, DialOutcome, ScriptError
from hotline.sim.rest.switchboard import MessageRecord, OutboundCall
from hotline.sim.run.runner import Target, run_call
from hotline.sim.run.sessions import placed_calls
from hotline.sim.scripts.model import Expect
from hotline.sim.scripts.reader import parse_script
from hotline.sim.scripts.rest_checks import PlacedCall, check_messages, check_outbound
from tests.sim_apps import AUTH_TOKEN, twiml_app
from tests.test_sim_engine import ScriptCaller, twiml

AT = datetime(2026, 3, 30, 10, 0, 0)
BUYER = "+48601100200"
HOTLINE = "+48221000000"
OTHER = "+48601100299"
HEADER = """\
[call]
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
"""


def _session_records() -> tuple[list[MessageRecord], list[PlacedCall]]:
    """Two messages and two calls placed 5 s into a session (one answered, one busy)."""
    app = twiml_app(
        {
            "/voice": twiml(lambda r: r.say("Thank you, we will text you.")),
            "/outbound": twiml(lambda r: r.say("This is the hotline calling you back.")),
        }
    )
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    callees = {
        BUYER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=3.0, talk=20.0)],
        OTHER: [CalleeBehaviour(DialOutcome.BUSY, ring_seconds=2.0)],
    }
    session = sim.session(AT, callees=callees)
    main = session.place_call(ScriptCaller(), BUYER, HOTLINE)
    network = session.network

    def the_app_acts() -> None:
        network.send_message(BUYER, HOTLINE, "Your order 1234567 ships today.")
        network.send_message(OTHER, HOTLINE, "A buyer left you a question.")
        for to in (BUYER, OTHER):
            network.create_call(OutboundCall(to=to, from_=HOTLINE, url="http://localhost/outbound"))

    session.at(5.0, the_app_acts)
    session.run()
    return list(network.sent_messages), [call for call, _ in placed_calls(network, {main})]


@pytest.fixture(scope="module")
def records() -> tuple[list[MessageRecord], list[PlacedCall]]:
    return _session_records()


def _expect(text: str) -> Expect:
    (script,) = parse_script(HEADER + text, "s.toml")
    return script.expect


def _messages(text: str, messages: Sequence[MessageRecord]) -> str | None:
    failure = check_messages(_expect(text).messages, messages)
    return None if failure is None else str(failure)


def _outbound(text: str, placed: Sequence[PlacedCall]) -> str | None:
    failure = check_outbound(_expect(text).outbound, placed)
    return None if failure is None else str(failure)


def test_the_placed_calls_are_seen_as_they_ended(
    records: tuple[list[MessageRecord], list[PlacedCall]],
) -> None:
    _, placed = records
    assert [(call.to, call.status, call.heard) for call in placed] == [
        (BUYER, "completed", ("This is the hotline calling you back.",)),
        (OTHER, "busy", ()),
    ]


@pytest.mark.parametrize(
    "text",
    [
        '[[expect.messages]]\nto = "+48601100200"\nbody = "ships today"\n',
        '[[expect.messages]]\nto = "+48 601 100 200"\nfrom = "+48221000000"\n',
        '[[expect.messages]]\nbody = ["ORDER 1234567", "ships"]\ncount = 1\n',
        "[[expect.messages]]\ncount = 2\n",
        '[[expect.messages]]\nto = "+48600000000"\ncount = 0\n',
        '[[expect.messages]]\nto = "+48601100200"\n[[expect.messages]]\nto = "+48601100299"\n',
    ],
)
def test_message_checks_that_hold(
    text: str, records: tuple[list[MessageRecord], list[PlacedCall]]
) -> None:
    assert _messages(text, records[0]) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[expect.messages]]\nto = "+48601100200"\nbody = "refund"\n',
            "s.toml:5: expected a message to +48601100200 containing 'refund', found none (the"
            " app sent 2: to +48601100200 from +48221000000: 'Your order 1234567 ships today.';"
            " to +48601100299 from +48221000000: 'A buyer left you a question.')",
        ),
        (
            "[[expect.messages]]\ncount = 1\n",
            "s.toml:5: expected 1 message, found 2 (the app sent 2: ",
        ),
        (
            "[expect]\nmessages = false\n",
            "s.toml:6: expected no message, found 2 (the app sent 2: ",
        ),
    ],
)
def test_message_checks_that_fail_say_what_was_sent(
    text: str, message: str, records: tuple[list[MessageRecord], list[PlacedCall]]
) -> None:
    found = _messages(text, records[0])
    assert found is not None and found.startswith(message)


def test_a_message_check_when_nothing_was_sent() -> None:
    found = _messages('[[expect.messages]]\nto = "+48601100200"\n', [])
    assert found == "s.toml:5: expected a message to +48601100200, found none (the app sent none)"
    assert _messages("[expect]\nmessages = false\n", []) is None


@pytest.mark.parametrize(
    "text",
    [
        '[[expect.outbound]]\nto = "+48601100200"\nstatus = "completed"\nheard = "calling you"\n',
        '[[expect.outbound]]\nto = "+48601100299"\nstatus = "busy"\nfrom = "+48221000000"\n',
        "[[expect.outbound]]\ncount = 2\n",
        '[[expect.outbound]]\nstatus = "no-answer"\ncount = 0\n',
    ],
)
def test_outbound_checks_that_hold(
    text: str, records: tuple[list[MessageRecord], list[PlacedCall]]
) -> None:
    assert _outbound(text, records[1]) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[expect.outbound]]\nto = "+48601100299"\nstatus = "completed"\n',
            "s.toml:5: expected a call to +48601100299 ending completed, found none (the app"
            " placed 2: to +48601100200 from +48221000000 (completed, heard 'This is the hotline"
            " calling you back.'); to +48601100299 from +48221000000 (busy, heard nothing))",
        ),
        (
            '[[expect.outbound]]\nheard = "your refund"\n',
            "s.toml:5: expected a call on which the app said 'your refund', found none",
        ),
        ("[expect]\noutbound = false\n", "s.toml:6: expected no call, found 2"),
    ],
)
def test_outbound_checks_that_fail_say_what_was_placed(
    text: str, message: str, records: tuple[list[MessageRecord], list[PlacedCall]]
) -> None:
    found = _outbound(text, records[1])
    assert found is not None and found.startswith(message)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("[expect]\nmessages = true\n", 6, "'messages' must be a list of [[expect.messages]]"),
        ("[[expect.messages]]\nbdy = 'x'\n", 6, "unknown key 'bdy' in [[expect.messages]]"),
        ("[[expect.messages]]\ncount = -1\n", 6, "count: expected 0 or more, got -1"),
        ("[[expect.messages]]\nto = 5\n", 6, "to: expected a non-empty text"),
        ("[[expect.outbound]]\nstatus = 'done'\n", 6, "status: expected one of completed, busy"),
        ("[[expect.outbound]]\nheard = ''\n", 6, "heard: expected a non-empty text"),
        ("[expect]\noutbound = []\n", 6, "'outbound' must be a list of [[expect.outbound]]"),
    ],
)
def test_rest_check_mistakes_name_their_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_script(HEADER + text, "s.toml")
    assert str(caught.value).startswith(f"s.toml:{line}: ")
    assert message in str(caught.value)


def test_a_script_checking_messages_is_played_as_a_session() -> None:
    target = Target(auth_token="test-auth-token", app="tests.sim_script_apps:create_closed_shop")
    quiet, expecting = parse_script(
        """\
[defaults]
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
[[calls]]
name = "sends nothing"
[calls.expect]
messages = false
outbound = false
[[calls]]
name = "expects a text"
[[calls.expect.messages]]
body = "your order"
""",
        "s.toml",
    )
    assert quiet.needs_session and expecting.needs_session
    assert run_call(quiet, target).status == "passed"
    outcome = run_call(expecting, target)
    assert outcome.status == "failed"
    assert str(outcome.failure) == (
        "s.toml:12: expected a message containing 'your order', found none (the app sent none)"
    )
