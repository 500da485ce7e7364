"""``[[rest]]`` in call scripts: requests another system makes to Twilio's REST API mid-call."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from hotline.sim.frontends.call_builder import PhoneCall
from hotline.sim.frontends.replay import replay
from hotline.sim.model import ExpectationFailed, ScriptError
from hotline.sim.run.connection import Target
from hotline.sim.scripts.reader import parse_script
from tests.sim_session_apps import AUTH_TOKEN, create_callback_line

APP = "tests.sim_session_apps:create_support_line"

HEADER = """
[call]
name = "moved by the console"
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
"""


def _replay(tmp_path: Path, body: str) -> tuple[int, str, dict[str, object]]:
    script = tmp_path / "rest.toml"
    script.write_text(HEADER + body, encoding="utf-8")
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        replay, [str(script), "--app", APP, "--auth-token", AUTH_TOKEN, "--json", str(report)]
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    return result.exit_code, result.output, data


@pytest.mark.parametrize(
    "request_lines",
    [
        '[[rest]]\nat = 20\npost = "Calls/{CallSid}.json"\ndata = { Url = "/moved" }',
        '[[rest]]\nat = 20\npost = "Queues/{QueueSid:support}/Members/Front.json"\n'
        'data = { Url = "/moved" }',
    ],
    ids=["call update", "queue member update"],
)
def test_a_script_moves_a_queued_caller_through_the_rest_api(
    tmp_path: Path, request_lines: str
) -> None:
    body = f"""
[[steps]]
hear = "Welcome to support."
[[steps]]
hear = "You have been moved to the seller."
[expect]
ended = "completed"
{request_lines}
"""
    code, output, report = _replay(tmp_path, body)
    assert code == 0, output
    (call,) = report["calls"]  # type: ignore[index]
    # "Welcome to support." took 1.2 s: the caller had waited 18.8 s when moved at 20 s.
    assert call["queues"] == [{"name": "support", "result": "redirected", "seconds": 18.8}]
    rest = [e for e in call["transcript"] if e["kind"] == "rest"]
    assert len(rest) == 1 and rest[0]["text"].endswith("→ 200")
    assert rest[0]["at"] == "2026-03-30T10:00:20+02:00"


def test_a_refused_request_fails_the_script_at_its_line_unless_expected(tmp_path: Path) -> None:
    expected = """
[[steps]]
hear = "Welcome to support."
[[steps]]
hangup_after = 30
[[rest]]
at = 10
post = "Calls/CA00000000000000000000000000000000.json"
data = { Url = "/moved" }
status = 404
"""
    code, output, _ = _replay(tmp_path, expected)
    assert code == 0, output
    code, output, _ = _replay(tmp_path, expected.replace("status = 404\n", ""))
    assert code == 1
    assert re.search(r"rest\.toml:\d+: POST Calls/CA0+\.json answered 404 \(expected 2xx\)", output)
    missing = expected.replace("CA00000000000000000000000000000000", "{CallSid:agent}")
    code, output, _ = _replay(tmp_path, missing.replace("status = 404\n", ""))
    assert code == 1
    assert "was not sent (expected 2xx): no party named 'agent' in this call" in output


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('at = 5\nget = "Calls.json"\npost = "Calls.json"', "needs one of get, post or delete"),
        ('post = "Calls.json"', "needs 'at'"),
        ('at = 5\nget = "Calls.json"\ndata = { To = "x" }', "data: a GET sends no form data"),
        ('at = 5\npost = "Calls/{Sid}.json"', "unknown placeholder {Sid}"),
        ('at = 5\ndelete = "Calls.json"\nstatus = 1000', "status: expected an HTTP status"),
        ('at = 5\npost = "Calls.json"\nverb = "x"', "unknown key 'verb'"),
    ],
)
def test_rest_request_mistakes_name_their_line(lines: str, message: str) -> None:
    text = HEADER + "[[rest]]\n" + lines + "\n"
    with pytest.raises(ScriptError, match=r"s\.toml:\d+: .*" + re.escape(message)):
        parse_script(text, "s.toml")


ACCOUNT = "AC" + "5" * 32
CALLBACK_SCRIPT = """
[call]
name = "texted and called back"
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
[dialled]
"+48600300400" = "answer"
[[steps]]
hear = "We texted you."
[[expect.messages]]
to = "+48601100200"
body = "call you back"
[[expect.outbound]]
to = "+48600300400"
status = "completed"
heard = "asked for a call back"
"""


def test_an_app_built_in_process_reaches_the_rest_stand_in(tmp_path: Path) -> None:
    script = tmp_path / "callback.toml"
    script.write_text(CALLBACK_SCRIPT, encoding="utf-8")
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    app = "tests.sim_session_apps:create_callback_line"
    result = CliRunner().invoke(replay, [str(script), "--app", app], env=env)
    assert result.exit_code == 0, result.output
    wrong = script.read_text().replace('body = "call you back"', 'body = "call you never"')
    script.write_text(wrong, encoding="utf-8")
    result = CliRunner().invoke(replay, [str(script), "--app", app], env=env)
    assert result.exit_code == 1
    assert "call you never" in result.output


def test_a_running_app_reaches_the_stand_in_on_the_rest_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a free port for the stand-in, known before the app starts
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_API_URL", f"http://127.0.0.1:{port}")
    server = make_server("127.0.0.1", 0, create_callback_line(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script = tmp_path / "callback.toml"
    script.write_text(CALLBACK_SCRIPT, encoding="utf-8")
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        options = ["--url", url, "--rest-port", str(port), "--auth-token", AUTH_TOKEN]
        result = CliRunner().invoke(replay, [str(script), *options])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    assert f"stood in for at http://127.0.0.1:{port}" in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--rest-port", "8123"], "--rest-port is for --url"),
        (["--url", "http://127.0.0.1:1", "--rest-port", "8123", "-j", "2"], "needs -j 1"),
        (["--account-sid", "AC123"], "expected AC and 32 hex digits"),
    ],
)
def test_rest_options_refuse_what_cannot_work(options: list[str], message: str) -> None:
    result = CliRunner().invoke(replay, ["tests/calls/menu", *options])
    assert result.exit_code == 2
    assert message in result.output


MEETING_SCRIPT = """
[call]
name = "a console runs the standup"
at = "2026-03-30T09:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
[dialled]
"+48600300400" = { outcome = "answer", after = 2, talk = 600 }
[[steps]]
hear = "Joining the standup."
[[steps]]
hear = "Two minutes left."
[[steps]]
hear = "You are on hold."
[[steps]]
hear = "The standup is over. Goodbye."
[expect]
conference = "standup"
[[expect.outbound]]
to = "+48600300400"
status = "completed"
[[rest]]
at = 10
post = "Conferences/{ConferenceSid:standup}/Participants.json"
data = { From = "+48221000000", To = "+48600300400", Label = "seller" }
status = 201
[[rest]]
at = 20
post = "Conferences/{ConferenceSid:standup}.json"
data = { AnnounceUrl = "/notice" }
[[rest]]
at = 30
post = "Conferences/{ConferenceSid:standup}/Participants/{CallSid}.json"
data = { Hold = true, HoldUrl = "/hold-music", HoldMethod = "POST" }
[[rest]]
at = 40
delete = "Conferences/{ConferenceSid:standup}/Participants/seller.json"
status = 204
[[rest]]
at = 50
post = "Conferences/{ConferenceSid:standup}.json"
data = { Status = "completed" }
"""


def test_a_script_runs_a_conference_through_the_rest_api(tmp_path: Path) -> None:
    script = tmp_path / "meeting.toml"
    script.write_text(MEETING_SCRIPT, encoding="utf-8")
    report = tmp_path / "report.json"
    app = "tests.sim_session_apps:create_meeting_line"
    options = ["--app", app, "--auth-token", AUTH_TOKEN, "--json", str(report)]
    result = CliRunner().invoke(replay, [str(script), *options])
    assert result.exit_code == 0, result.output
    (call,) = json.loads(report.read_text())["calls"]
    rest = [
        (e["at"][11:19], e["text"].split(" → ")[1])
        for e in call["transcript"]
        if e["kind"] == "rest"
    ]
    assert rest == [
        ("09:00:10", "201"),
        ("09:00:20", "200"),
        ("09:00:30", "200"),
        ("09:00:40", "204"),
        ("09:00:50", "200"),
    ]
    left = [
        e for e in call["transcript"] if e["kind"] == "conference" and e["text"].startswith("left")
    ]
    assert [e["at"][11:19] for e in left] == ["09:00:50"]


CALLBACK_TARGET = Target(
    auth_token=AUTH_TOKEN, app="tests.sim_session_apps:create_callback_line", account_sid=ACCOUNT
)


@pytest.mark.parametrize("hotline_sim_target", [CALLBACK_TARGET])
def test_the_dial_fixture_gives_the_app_the_rest_stand_in(
    dial: Callable[..., PhoneCall], monkeypatch: pytest.MonkeyPatch
) -> None:
    call = dial(
        at="2026-03-30T10:00:00+02:00",
        from_="+48601100200",
        dialled={"+48600300400": "answer"},
    )
    call.hears("We texted you.")
    call.message_sent(to="+48601100200", body="call you back")
    call.call_placed(to="+48600300400", status="completed", heard="asked for a call back")
    with pytest.raises(ExpectationFailed, match="message"):
        call.message_sent(body="never sent")
