"""``[[requests]]`` in call scripts: the app's own API driven mid-call (an agent's console)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.sim.frontends.replay import replay
from hotline.sim.model import ScriptError
from hotline.sim.scripts.reader import parse_script
from tests.sim_session_apps import AUTH_TOKEN, CONSOLE_TOKEN

APP = "tests.sim_session_apps:create_console_line"
HEADER = """
[call]
name = "moved by the console"
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
"""
MOVED = """
[[steps]]
hear = "An agent moved you."
[expect]
ended = "completed"
"""


def _replay(tmp_path: Path, body: str) -> tuple[int, str, dict[str, object]]:
    script = tmp_path / "requests.toml"
    script.write_text(HEADER + body, encoding="utf-8")
    report = tmp_path / "report.json"
    options = ["--app", APP, "--auth-token", AUTH_TOKEN, "--json", str(report)]
    result = CliRunner().invoke(replay, [str(script), *options])
    data = json.loads(report.read_text()) if report.exists() else {}
    return result.exit_code, result.output, data


@pytest.mark.parametrize(
    ("when", "seconds"),
    [("at = 12", 12.0), ('on = "enqueue"\nafter = 5', 5.0)],
    ids=["at a second", "on an event"],
)
def test_a_console_request_moves_the_caller(tmp_path: Path, when: str, seconds: float) -> None:
    request = f"""
[[requests]]
{when}
post = "/api/take"
json = {{ call = "{{CallSid}}" }}
token = "{CONSOLE_TOKEN}"
"""
    code, output, report = _replay(tmp_path, MOVED + request)
    assert code == 0, output
    (call,) = report["calls"]  # type: ignore[index]
    assert call["queues"] == [{"name": "support", "result": "redirected", "seconds": seconds}]
    sent = [e["text"] for e in call["transcript"] if e["kind"] == "request"]
    assert sent == ["POST /api/take → 200"]


def test_a_refused_request_fails_the_script_at_its_line(tmp_path: Path) -> None:
    request = """
[[requests]]
at = 3
post = "/api/take"
json = { call = "{CallSid}" }
token = "not-the-console"
"""
    code, output, _ = _replay(tmp_path, "[[steps]]\nhangup_after = 20\n" + request)
    assert code == 1
    assert re.search(r"requests\.toml:\d+: POST /api/take answered 401 \(expected 2xx\)", output)
    expected = request.replace('token = "not-the-console"', 'token = "x"\nstatus = 401')
    code, output, _ = _replay(tmp_path, "[[steps]]\nhangup_after = 20\n" + expected)
    assert code == 0, output


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('post = "/api/take"', "needs 'at' (seconds) or 'on' (an event)"),
        ('at = 1\non = "enqueue"\npost = "/api/take"', "'at' (seconds) or 'on' (an event), not"),
        ('on = "queued"\npost = "/api/take"', "on: unknown event 'queued'"),
        ('at = 1\nafter = 2\npost = "/api/take"', "after: only with 'on'"),
        ('on = "enqueue"\nparty = "agent"\npost = "/x"', "party: no party named 'agent'"),
        ('at = 1\npost = "api/take"', 'expected a path like "/api/queue"'),
        ('at = 1\nget = "/api/queue"\njson = { a = 1 }', "json: a GET sends no body"),
        ('at = 1\npost = "/api/{Sid}"', "unknown placeholder {Sid}"),
        ('at = 1\nget = "/a"\npost = "/b"', "needs one of get, post, put or delete"),
    ],
)
def test_request_mistakes_name_their_line(lines: str, message: str) -> None:
    with pytest.raises(ScriptError, match=r"s\.toml:\d+: .*" + re.escape(message)):
        parse_script(HEADER + "[[requests]]\n" + lines + "\n", "s.toml")
