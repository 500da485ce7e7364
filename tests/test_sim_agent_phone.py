"""``hotline call --as-agent``: the terminal plays the agent (commands typed at a prompt, sent to
hotline's JSON API as a script's ``[[requests]]``), the caller is scripted (``--caller-keys``).

Driven through click with a scripted stdin, in process, on the virtual clock; the seller's phone
is a ``--dialled`` behaviour. The commands themselves are a table of cases
(``hotline_aware.agent_desk``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.sim.engine.simulator import DEFAULT_ACCOUNT_SID
from hotline.sim.frontends.phone import call
from hotline.sim.hotline_aware.agent_desk import Act, Unclear, parse
from hotline.sim.scripts.model import Location
from hotline.twilio_rest.client import ACCOUNT_SID_ENV
from tests.conftest import API_TOKEN, AUTH_TOKEN
from tests.live_server import free_port, serve_hotline
from tests.test_demo_call import always_open_edits

AGENT = ["--as-agent", "demo", "--agent-token", "demo-agent-token"]
# Thursday 10:00 in Warsaw: open; an English number; Acme answers and presses 1.
CALL = ["--at", "2026-11-26T10:00:00+01:00", "--to", "+442071000000"]
ACME_TAKES = ["--dialled", "+48600300400=answer:1"]
HERE = Location("terminal", 1)
TOKENS = ("agent-token", "operator-token")


def _hotline_call(*options: str, typed: list[str]) -> str:
    env = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HOTLINE_API_TOKEN": API_TOKEN}
    result = CliRunner().invoke(
        call, [*AGENT, *CALL, *options], input="".join(f"{line}\n" for line in typed), env=env
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_the_terminals_agent_takes_the_caller_and_transfers_warm_to_the_seller() -> None:
    output = _hotline_call(
        *ACME_TAKES,
        typed=[
            "help",
            "available",
            "wait",  # the caller presses 2, 1 and is queued
            "take",
            "wait",  # the agent's phone answers, both are in the conference
            "status",
            "warm acme Asks about the warranty",
            "wait",  # Acme hears the summary, presses 1 and joins: the caller is still held
            "connect",  # the agent brings the caller in
            "wait 5",
            "call",
            "hangup",  # the agent leaves the caller with Acme
            "wait",
            "quit",
        ],
    )
    assert "take the next caller (or that one)" in output  # help
    assert re.search(r"POST /api/agents/demo/state → 200", output)
    assert "enters queue warehouse" in output
    assert '"result":"taken"' in output
    assert (
        "[you] app     says 'A caller about the order status."
        " Order 1 2 3 4 5 6 7 from Acme Electronics.'" in output
    )
    assert '"state":"on_call"' in output
    assert "[+48600300400] app     says 'The agent says: Asks about the warranty." in output
    assert "[+48600300400] caller  presses 1" in output
    assert (
        "POST /api/calls/{CallSid}/transfer/complete → 200".replace(
            "{CallSid}", re.findall(r'"call":"(CA[0-9a-f]{32})"', output)[0]
        )
        in output
    )
    assert "You are now connected with the seller." in output  # the caller, off hold
    assert re.search(r'"kind": "warm".*"outcome": "accepted".*"target": "acme"', output)
    assert "[you] twilio  call ended: completed (ended through the REST API" in output


def test_the_agent_puts_the_caller_back_in_the_queue_and_is_in_wrap_up() -> None:
    output = _hotline_call(
        typed=[
            "available",
            "wait",
            "take",
            "wait",
            "requeue Wants a callback about the refund",
            "wait",  # the caller leaves the conference and is queued again
            "status",
            "ready",
            "wait",  # the caller is queued again
            "take",
            "wait",
            "quit",
        ],
    )
    assert re.search(r"POST /api/calls/CA\w+/transfer → 200", output)
    assert '"kind":"queue","outcome":"requeued"' in output
    assert '"state":"wrap_up"' in output
    assert '"state":"available"},"changed":true' in output.split("> ready")[-1]
    assert output.count("enters queue warehouse") == 2
    again = output.split("> take")[-1]
    assert '"result":"taken"' in again
    assert "Wants a callback about the refund" in again  # the whisper says the summary


def test_a_wrong_agent_token_stops_before_the_call() -> None:
    result = CliRunner().invoke(
        call,
        ["--as-agent", "demo", "--agent-token", "nope", *CALL],
        env={"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HOTLINE_API_TOKEN": ""},
    )
    assert result.exit_code == 1
    assert "GET /api/agents/demo answered 401" in result.output


@pytest.mark.parametrize(
    ("line", "method", "path", "json"),
    [
        ("available", "POST", "/api/agents/demo/state", {"state": "available"}),
        ("ready", "POST", "/api/agents/demo/state", {"state": "available"}),
        ("offline", "POST", "/api/agents/demo/state", {"state": "offline"}),
        ("take", "POST", "/api/agents/demo/take", None),
        ("take CA1", "POST", "/api/agents/demo/take", {"call": "CA1"}),
        (
            "warm acme Asks  about it",
            "POST",
            "/api/calls/{CallSid}/transfer",
            {"kind": "warm", "to": "acme", "summary": "Asks  about it"},
        ),
        (
            "cold acme s",
            "POST",
            "/api/calls/{CallSid}/transfer",
            {"kind": "cold", "to": "acme", "summary": "s"},
        ),
        (
            "thread warehouse s",
            "POST",
            "/api/calls/{CallSid}/transfer",
            {"kind": "thread", "to": "warehouse", "summary": "s"},
        ),
        (
            "requeue a refund",
            "POST",
            "/api/calls/{CallSid}/transfer",
            {"kind": "queue", "summary": "a refund"},
        ),
        ("connect", "POST", "/api/calls/{CallSid}/transfer/complete", {"action": "connect"}),
        ("leave", "POST", "/api/calls/{CallSid}/transfer/complete", {"action": "leave"}),
        ("status", "GET", "/api/agents/demo", None),
        ("queue", "GET", "/api/queue", None),
        ("call", "GET", "/api/calls/{CallSid}", None),
    ],
)
def test_commands_are_requests_to_the_json_api(
    line: str, method: str, path: str, json: dict[str, object] | None
) -> None:
    command = parse(line, "demo", TOKENS, HERE)
    assert command.act is Act.REQUEST and command.request is not None
    request = command.request
    assert (request.method, request.path, request.json) == (method, path, json)
    # The caller's record is the operator's to read; everything else is the agent's own doing.
    assert request.token == (TOKENS[1] if line == "call" else TOKENS[0])


@pytest.mark.parametrize(
    ("line", "act", "seconds"),
    [
        ("wait", Act.WAIT, None),
        ("", Act.WAIT, None),
        ("wait 30", Act.WAIT, 30.0),
        ("hangup", Act.HANGUP, None),
        ("hang up", Act.HANGUP, None),
        ("help", Act.HELP, None),
        ("quit", Act.QUIT, None),
    ],
)
def test_commands_for_the_terminal(line: str, act: Act, seconds: float | None) -> None:
    command = parse(line, "demo", TOKENS, HERE)
    assert (command.act, command.seconds) == (act, seconds)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("dance", "is no command"),
        ("warm", "warm needs whom to"),
        ("cold acme", "needs a summary"),
        ("requeue", "needs a summary"),
        ("wait soon", "wait takes a number of seconds"),
        ("wait -1", "wait takes a number of seconds"),
        ("available now", "is no command"),
    ],
)
def test_lines_that_are_no_command_say_what_is_expected(line: str, says: str) -> None:
    with pytest.raises(Unclear, match=says):
        parse(line, "demo", TOKENS, HERE)


def test_the_terminals_agent_takes_a_caller_of_a_running_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's demo with the terminal as the agent: ``hotline serve`` sends its REST
    requests to the stand-in ``hotline call --url URL --rest-port PORT --as-agent demo`` serves."""
    monkeypatch.delenv(ACCOUNT_SID_ENV, raising=False)  # the phone's default account
    rest_port = free_port()
    env = {"TWILIO_API_URL": f"http://127.0.0.1:{rest_port}", ACCOUNT_SID_ENV: DEFAULT_ACCOUNT_SID}
    with serve_hotline(tmp_path, config_edits=always_open_edits(), env=env) as server:
        options = ["--url", server.url, "--rest-port", str(rest_port), "--auth-token", AUTH_TOKEN]
        typed = ["available", "wait", "take", "wait", "status", "hangup", "wait", "quit"]
        result = CliRunner().invoke(
            call,
            [*options, *AGENT, "--to", "+442071000000"],
            input="".join(f"{line}\n" for line in typed),
        )
    assert result.exit_code == 0, result.output
    assert '"result":"taken"' in result.output, result.output
    whisper = "[you] app     says 'A caller about the order status. Order 1 2 3 4 5 6 7"
    assert whisper in result.output
    assert '"state":"on_call"' in result.output
    assert "[you] twilio  call ended: completed (ended through the REST API" in result.output
