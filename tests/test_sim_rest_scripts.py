"""``[[rest]]`` in call scripts: requests another system makes to Twilio's REST API mid-call."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.sim.frontends.replay import replay
from hotline.sim.model import ScriptError
from hotline.sim.scripts.reader import parse_script
from tests.sim_session_apps import AUTH_TOKEN

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
