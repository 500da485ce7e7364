"""Scripts with other parties played as one session: each party's steps, checks and transcript.

The scripts in tests/session_calls/ are replayed with ``hotline replay --app`` against the small
apps of tests/sim_session_apps.py (a support queue an agent dials; a conference).
"""

from __future__ import annotations

import json
import pickle
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from hotline.sim.frontends.replay import replay
from hotline.sim.report.console import transcript_lines
from hotline.sim.run.runner import Target, load_scripts, run_call
from hotline.sim.scripts.reader import load_script
from tests.sim_session_apps import AUTH_TOKEN, create_support_line

SCRIPTS = Path(__file__).parent / "session_calls"
SUPPORT_SCRIPT = SCRIPTS / "support" / "agent_takes_the_caller.toml"
SUPPORT = Target(auth_token=AUTH_TOKEN, app="tests.sim_session_apps:create_support_line")
MEETING = Target(auth_token=AUTH_TOKEN, app="tests.sim_session_apps:create_meeting_line")


def _replay(app: str, *args: str) -> tuple[int, str]:
    env = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    result = CliRunner().invoke(replay, ["--app", f"tests.sim_session_apps:{app}", *args], env=env)
    return result.exit_code, result.output


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    """The support script with ``old`` replaced by ``new`` (which must be there)."""
    text = SUPPORT_SCRIPT.read_text()
    assert old in text
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


# -- playing a session ------------------------------------------------------------------------


def test_an_agent_party_takes_the_queued_caller_and_both_transcripts_are_shown() -> None:
    code, output = _replay("create_support_line", str(SCRIPTS / "support"), "-v")

    assert code == 0, output
    assert output.rstrip().endswith("1 passed, 0 failed")
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if "─ party 'agent'" in line)
    # The agent's call starts 30 s into the caller's and is shown under it, indented.
    assert "from 10:00:30.0 · 72 s on the call · ended completed" in lines[header]
    assert lines[header + 1].startswith("      10:00:30.0  twilio  POST /agent → 200")
    assert "agent='Ann'" in lines[header + 1]  # the party's params, on every request
    caller = "\n".join(lines[:header])
    assert "app     says 'Connecting you to Ann.'" in caller
    assert "connected to client:agent" in caller


def test_the_outcome_carries_each_party_on_the_sessions_clock() -> None:
    (script,) = load_script(SUPPORT_SCRIPT)
    outcome = run_call(script, SUPPORT)

    assert outcome.status == "passed", outcome.failure
    assert outcome.result is not None
    (agent,) = outcome.legs
    assert agent.label == "party 'agent'"
    assert agent.failure is None
    assert agent.result is not None
    assert agent.result.started == outcome.result.started + timedelta(seconds=30)
    assert agent.result.bridged == ("queue:support",)
    assert outcome.result.bridged == ("client:agent",)
    assert outcome.result.queues[0].result == "bridged"
    # A CallOutcome crosses processes with -j: the parties' results come along.
    assert pickle.loads(pickle.dumps(outcome)) == outcome


def test_parties_meet_in_a_conference_in_a_file_of_several_calls() -> None:
    code, output = _replay("create_meeting_line", str(SCRIPTS / "meeting"), "-v")

    assert code == 0, output
    assert output.rstrip().endswith("2 passed, 0 failed")
    assert "─ party 'host'" in output
    assert "─ party 'colleague'" in output
    assert "role='host'" in output


def test_a_call_with_params_is_played_as_a_session_and_sends_them(tmp_path: Path) -> None:
    path = tmp_path / "host.toml"
    path.write_text(
        '[call]\nat = "2026-03-30T09:00:00+02:00"\nfrom = "+48601100300"\nto = "+48221000000"\n'
        'params = { role = "host" }\n[[steps]]\nhear = "Welcome, host"\n[[steps]]\n'
        'hangup_after = 30\n[expect]\nconference = "standup"\n'
    )
    (script,) = load_script(path)
    assert script.needs_session
    outcome = run_call(script, MEETING)
    assert outcome.status == "passed", outcome.failure
    assert outcome.legs == ()


def test_scripts_without_parties_keep_the_single_call_path() -> None:
    # The agents' scripts (calls/agents) place calls through the REST API, and the scheduler's
    # (calls/scheduler) run scheduled work on the session's clock: sessions, rightly.
    calls = Path(__file__).parent / "calls"
    sessions = ("agents", "scheduler")
    folders = [p for p in calls.iterdir() if p.is_dir() and p.name not in sessions]
    scripts = load_scripts(folders)
    assert scripts
    assert not any(script.needs_session or script.runs_scheduler for script in scripts)
    for name in sessions:
        assert all(script.needs_session for script in load_scripts([calls / name]))


# -- failures name the party ------------------------------------------------------------------


def test_a_party_hearing_the_wrong_prompt_fails_first_naming_the_party(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'hear = "Hello Ann"', 'hear = "Hello Bob"')
    code, output = _replay("create_support_line", str(path))

    assert code == 1
    line = _line_of(path, "Hello Bob")
    # The agent hung up at its failed check 30 s in, so the caller was never taken either:
    # the failure shown is the one that happened first on the clock, the agent's.
    assert (
        f"✗ an agent takes the waiting caller: {path}:{line}: party 'agent': expected to hear"
        " 'Hello Bob', heard: 'Hello Ann. Press 1 to take the next caller.'"
    ) in output
    assert output.rstrip().endswith("0 passed, 1 failed")
    # The party's transcript shows its failure where it happened.
    lines = output.splitlines()
    header = next(i for i, text in enumerate(lines) if "✗ party 'agent'" in text)
    assert any("✗" in text and "Hello Bob" in text for text in lines[header + 1 :])


def test_a_party_whose_check_failed_hangs_up_there(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'hear = "Hello Ann"', 'hear = "Hello Bob"')
    (script,) = load_script(path)
    outcome = run_call(script, SUPPORT)

    agent = outcome.legs[0].result
    assert agent is not None
    # The check failed when the agent pressed 1, 4.6 s in: the agent hangs up at that moment
    # rather than talking to the caller it has just taken until the caller hangs up.
    assert (agent.ended.value, agent.duration) == ("caller-hangup", 4.6)
    assert outcome.result is not None
    assert outcome.result.queues[0].result == "bridged"


def test_a_wrong_party_expectation_fails_at_its_line(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'bridged = "queue:support"', 'bridged = "queue:sales"')
    (script,) = load_script(path)
    outcome = run_call(script, SUPPORT)

    assert outcome.status == "failed"
    assert outcome.failure is not None
    assert outcome.failure.where.line == _line_of(path, "queue:sales")
    assert outcome.failure.message == (
        "party 'agent': expected the call to be bridged to queue:sales, it was bridged to"
        " queue:support"
    )
    assert outcome.legs[0].failure == outcome.failure


def test_the_main_calls_own_failure_is_not_blamed_on_a_party(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'bridged = "client:agent"', 'bridged = "client:bob"')
    (script,) = load_script(path)
    outcome = run_call(script, SUPPORT)

    assert outcome.failure is not None
    assert outcome.failure.message == (
        "expected the call to be bridged to client:bob, it was bridged to client:agent"
    )
    assert outcome.legs[0].failure is None


def test_a_party_whose_voice_url_fails_hears_twilios_apology(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'voice_url = "/agent"', 'voice_url = "/no-such-page"')
    (script,) = load_script(path)
    outcome = run_call(script, SUPPORT)

    assert outcome.status == "failed"
    assert outcome.failure is not None
    assert outcome.failure.where.line == _line_of(path, "Hello Ann")
    assert outcome.failure.message == (
        "party 'agent': expected to hear 'Hello Ann', heard: 'We are sorry, an application error"
        " has occurred. Goodbye.'"
    )
    agent = outcome.legs[0].result
    assert agent is not None
    assert agent.ended.value == "failed"
    assert "POST http://localhost/no-such-page answered 404" in agent.reason


def test_a_party_playing_twiml_the_engine_cannot_is_an_error_naming_it(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'voice_url = "/agent"', 'voice_url = "/stream"')
    (script,) = load_script(path)
    outcome = run_call(script, SUPPORT)

    assert outcome.status == "error"
    assert outcome.failure is not None
    assert outcome.failure.where.line == _line_of(path, "[[parties]]")
    assert outcome.failure.message.startswith("party 'agent': UnsupportedTwiML: <Connect>")
    assert outcome.result is not None  # the caller's call was played all the same
    assert outcome.legs[0].result is None
    assert "party 'agent': it crashed" in "\n".join(line for line, _ in transcript_lines(outcome))


def test_json_and_junit_reports_carry_the_parties(tmp_path: Path) -> None:
    json_path, junit_path = tmp_path / "run.json", tmp_path / "run.xml"
    code, _ = _replay(
        "create_support_line",
        str(SUPPORT_SCRIPT),
        "--json",
        str(json_path),
        "--junit",
        str(junit_path),
    )

    assert code == 0
    (call,) = json.loads(json_path.read_text())["calls"]
    (leg,) = call["legs"]
    assert (leg["label"], leg["ended"], leg["failure"]) == ("party 'agent'", "completed", None)
    assert leg["bridged"] == ["queue:support"]
    assert leg["transcript"][0]["detail"]["agent"] == "Ann"
    output = ET.parse(junit_path).getroot().find("testsuite/testcase/system-out")
    assert output is not None and output.text is not None
    assert "─ party 'agent'" in output.text


# -- against a running server -----------------------------------------------------------------


@pytest.fixture
def support_server() -> Iterator[str]:
    """The support line served over HTTP on a free loopback port, in a thread."""
    httpd = make_server("127.0.0.1", 0, create_support_line(), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_parties_play_over_a_socket_on_the_engines_clock(support_server: str) -> None:
    env = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    result = CliRunner().invoke(replay, ["--url", support_server, str(SUPPORT_SCRIPT)], env=env)

    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("1 passed, 0 failed")
