"""Replaying scripts: right ones pass, wrong ones fail at the right line; the commands' outputs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.sim.engine.simulator import CallResult
from hotline.sim.frontends.replay import call, replay
from hotline.sim.model import CallEnd, Event, Who
from hotline.sim.report.console import transcript_lines
from hotline.sim.run.runner import (
    CallOutcome,
    Target,
    find_scripts,
    load_scripts,
    run_call,
    run_calls,
)
from hotline.sim.scripts.reader import parse_script
from tests.sim_script_apps import API_TOKEN, AUTH_TOKEN, SELLER

SHOP = Target(auth_token=AUTH_TOKEN, api_token=API_TOKEN, app="tests.sim_script_apps:create_shop")
CLOSED = Target(
    auth_token=AUTH_TOKEN, api_token=API_TOKEN, app="tests.sim_script_apps:create_closed_shop"
)
HEADER = """\
[call]
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
"""
SELLER_ANSWERS = f"""\
[dialled]
"{SELLER}" = "answer:1"
[[steps]]
hear = "product question, press 1"
[[steps]]
press = "1"
[[steps]]
hear = "connecting you to the seller"
[expect]
ended = "completed"
bridged = "{SELLER}"
queue = false
"""
SELLER_AWAY = f"""\
[dialled]
"{SELLER}" = ["no-answer:20"]
[[steps]]
press = "1"
[[steps]]
hear = "seller is not available"
[[steps]]
say = "is it compatible with my phone"
[[steps]]
hear = "sent your question"
[expect]
bridged = false
[[expect.api]]
get = "/api/threads"
contains = ["compatible", "{SELLER}"]
"""
ORDER_QUEUE = """\
[queues]
warehouse = { agent_after = 40, talk = 60 }
[[steps]]
press = "2"
[[steps]]
hear = "hold for the warehouse"
[expect]
queue = "warehouse"
ended = "completed"
"""


def _run(body: str, target: Target = SHOP) -> tuple[str, str | None, int | None]:
    (script,) = parse_script(HEADER + body, "call.toml")
    outcome = run_call(script, target)
    failure = outcome.failure
    return (
        outcome.status,
        failure.message if failure else None,
        failure.where.line if failure else None,
    )


@pytest.mark.parametrize("body", [SELLER_ANSWERS, SELLER_AWAY, ORDER_QUEUE])
def test_right_scripts_pass(body: str) -> None:
    assert _run(body) == ("passed", None, None)


def test_a_queue_call_records_the_visit_and_the_bridge() -> None:
    (script,) = parse_script(HEADER + ORDER_QUEUE, "call.toml")

    outcome = run_call(script, SHOP)

    assert outcome.result is not None
    assert [(v.name, v.result, v.seconds) for v in outcome.result.queues] == [
        ("warehouse", "bridged", 40.0)
    ]
    assert outcome.result.bridged == ("queue:warehouse",)


def test_a_wrong_prompt_fails_at_its_line_with_what_was_heard() -> None:
    body = SELLER_ANSWERS.replace("product question, press 1", "product question, press 3")

    status, message, line = _run(body)

    assert (status, line) == ("failed", 8)
    assert message == (
        "expected to hear 'product question, press 3', heard: 'Welcome to the test shop."
        " For a product question, press 1. For your order, press 2.'"
    )


def test_a_wrong_branch_fails_the_bridge_check() -> None:
    body = (
        SELLER_ANSWERS.replace('press = "1"', 'press = "2"')
        .replace('hear = "connecting you to the seller"', 'hear = "hold"')
        .replace('ended = "completed"\n', "")
    )

    status, message, line = _run(body)

    assert (status, line) == ("failed", 14)
    assert message == f"expected the call to be bridged to {SELLER}, it was bridged to nobody"


def test_a_wrong_branch_fails_the_next_hear() -> None:
    body = SELLER_AWAY.replace(f'"{SELLER}" = ["no-answer:20"]', f'"{SELLER}" = "answer:1"')

    status, message, line = _run(body)

    assert (status, line) == ("failed", 10)
    assert message is not None
    assert message == (
        "expected to hear 'seller is not available', heard:"
        " 'Connecting you to the seller. Thank you for calling. Goodbye.'"
    )


def test_a_missing_side_effect_fails_the_api_check() -> None:
    body = SELLER_AWAY.replace('contains = ["compatible"', 'contains = ["waterproof"')

    status, message, line = _run(body)

    assert (status, line) == ("failed", 17)
    assert message is not None
    assert message.startswith("expected GET /api/threads to contain 'waterproof', got: [{")


def test_an_api_check_without_a_token_says_so() -> None:
    target = Target(auth_token=AUTH_TOKEN, app=SHOP.app)

    status, message, _ = _run(SELLER_AWAY, target)

    assert (status, message) == (
        "failed",
        "checking the app's API needs a token: set HOTLINE_API_TOKEN",
    )


def test_the_app_hanging_up_early_fails_at_the_step_left() -> None:
    status, message, line = _run(SELLER_ANSWERS, CLOSED)

    assert (status, line) == ("failed", 8)
    assert message == (
        "expected to hear 'product question, press 1', heard: 'The test shop is closed. Goodbye.'"
    )
    status, message, line = _run('[[steps]]\nhear = "closed"\n[[steps]]\npress = "1"\n', CLOSED)
    assert (status, line) == ("failed", 8)
    assert message == (
        "the app ended the call (<Hangup> in http://localhost/voice) before this step: press '1'"
    )


def test_a_failing_webhook_fails_the_call() -> None:
    status, message, line = _run('[[steps]]\npress = "9"\n')

    assert (status, line) == ("failed", 1)
    assert message is not None
    assert message.startswith("the call failed: POST http://localhost/menu answered 500")


BROKEN_MENU = '[[steps]]\npress = "9"\n[[steps]]\nhear = "something went wrong (error 11200)"\n'


def test_a_script_names_the_numbers_fallback_url() -> None:
    (script,) = parse_script(HEADER + 'fallback_url = "/fallback"\n' + BROKEN_MENU, "call.toml")

    outcome = run_call(script, SHOP)

    assert outcome.status == "passed", outcome.failure
    assert outcome.result is not None
    webhooks = [(e.url, e.text) for e in outcome.result.events("webhook")]
    assert webhooks == [
        ("http://localhost/voice", "POST 200"),
        ("http://localhost/menu", "POST 500"),  # once: never re-sent
        ("http://localhost/fallback", "POST 200"),
    ]


def test_replay_takes_a_fallback_url_for_scripts_that_name_none(tmp_path: Path) -> None:
    (tmp_path / "a_uses_it.toml").write_text(HEADER + BROKEN_MENU)
    refuses = HEADER + 'fallback_url = false\n[[steps]]\npress = "9"\n[expect]\nended = "failed"\n'
    (tmp_path / "b_has_none.toml").write_text(refuses)

    code, output = _replay(str(tmp_path), "--fallback-url", "/fallback", "-v")

    assert code == 0, output
    assert "requests the Voice Fallback URL /fallback (ErrorCode 11200)" in output
    assert (
        "POST /fallback → 200  Digits='9'  ErrorCode='11200'  ErrorUrl='http://localhost/menu'"
        in output
    )
    assert "twilio  says 'We are sorry, an application error has occurred. Goodbye.'" in output
    assert "no Voice Fallback URL: Twilio tells the caller" in output
    assert output.rstrip().endswith("2 passed, 0 failed")


def test_calls_a_running_server_cannot_serve_are_skipped_saying_why(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(HEADER.replace("[call]\n", '[call]\nneeds = "virtual-time"\n'))
    (tmp_path / "b.toml").write_text(
        HEADER.replace("[call]\n", '[call]\nneeds = ["empty-database", "virtual-time"]\n')
    )
    report, junit = tmp_path / "r.json", tmp_path / "r.xml"

    # Nothing listens at this URL: skipped calls never reach it.
    code, output = _replay_url(
        "http://127.0.0.1:9", str(tmp_path), "--json", str(report), "--junit", str(junit)
    )

    assert code == 0, output
    assert "- SKIPPED a" in output
    assert "skipped: needs the app to see the call's virtual time" in output
    assert "needs an empty database (a running server keeps what earlier calls stored)" in output
    assert output.rstrip().endswith("0 passed, 0 failed, 2 skipped")
    data = json.loads(report.read_text())
    assert data["summary"] == {"total": 2, "passed": 0, "failed": 0, "skipped": 2}
    assert data["calls"][0]["status"] == "skipped"
    assert data["calls"][0]["skipped"].startswith("needs the app to see")
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("skipped") == "2" and suite.get("failures") == "0"
    assert all(case.find("skipped") is not None for case in suite.iter("testcase"))


def test_in_process_every_need_is_met() -> None:
    (script,) = parse_script(
        HEADER.replace("[call]\n", '[call]\nneeds = ["virtual-time", "empty-database"]\n')
        + ORDER_QUEUE,
        "call.toml",
    )
    assert SHOP.skip_reason(script) is None
    assert run_call(script, SHOP).status == "passed"


def test_a_wrong_auth_token_is_explained() -> None:
    target = Target(auth_token="not-the-token", app=SHOP.app)

    status, message, _ = _run('[[steps]]\npress = "1"\n', target)

    assert status == "failed"
    assert message is not None
    assert "answered 403" in message and "set TWILIO_AUTH_TOKEN" in message


def test_the_caller_hangs_up_in_the_queue_when_the_script_says() -> None:
    body = (
        '[[steps]]\npress = "2"\n[[steps]]\nhangup_after = 60\n[expect]\nended = "caller-hangup"\n'
    )
    (script,) = parse_script(HEADER + body, "call.toml")

    outcome = run_call(script, SHOP)

    assert outcome.status == "passed", outcome.failure
    assert outcome.result is not None
    assert [(v.name, v.result) for v in outcome.result.queues] == [("warehouse", "hangup")]
    assert outcome.result.duration == 60.0  # exactly when the script says, not when music ends
    assert outcome.result.reason == "the caller hung up 60 s into the call"


CALLEE_HEARD = f"""\
[dialled]
"{SELLER}" = "answer:say=yes I'll take it"
[[steps]]
press = "1"
[expect]
bridged = "{SELLER}"
callee_heard = {{ "{SELLER}" = ["product question", "SAY  YES"] }}
"""


def test_a_seller_saying_yes_is_bridged_and_what_they_heard_is_checked() -> None:
    assert _run(CALLEE_HEARD) == ("passed", None, None)


def test_a_seller_who_heard_something_else_fails_at_the_callee_heard_line() -> None:
    status, message, line = _run(CALLEE_HEARD.replace('"SAY  YES"', '"compatible"'))

    assert (status, line) == ("failed", 11)
    assert message == (
        f"expected {SELLER} to hear 'compatible', heard:"
        " 'A buyer has a product question. Press 1 or say yes to take the call.'"
    )


def test_a_number_never_reached_heard_nothing() -> None:
    body = CALLEE_HEARD.replace("answer:say=yes I'll take it", "busy").replace(
        f'bridged = "{SELLER}"', "bridged = false"
    )

    status, message, _ = _run(body)

    assert (status, message) == (
        "failed",
        f"expected {SELLER} to hear 'product question', heard nothing",
    )


def test_a_full_queue_is_scripted_and_not_counted_as_entered() -> None:
    body = ORDER_QUEUE.replace("{ agent_after = 40, talk = 60 }", "{ full = true }").replace(
        'hear = "hold for the warehouse"', 'not_hear = "never"'
    )
    (script,) = parse_script(HEADER + body, "call.toml")

    outcome = run_call(script, SHOP)

    assert outcome.failure is not None
    assert outcome.failure.message == "expected the caller to enter queue 'warehouse', got no queue"
    assert outcome.result is not None
    assert [(v.name, v.result) for v in outcome.result.queues] == [("warehouse", "queue-full")]
    assert outcome.result.duration < 10  # refused at once: no waiting


def test_a_queue_nobody_answers_fails_at_the_call_limit() -> None:
    body = ORDER_QUEUE.replace("warehouse = { agent_after = 40, talk = 60 }", "")

    status, message, line = _run(body.replace('ended = "completed"\n', ""))

    assert (status, line) == ("failed", 1)
    assert message == (
        "the caller waited in queue 'warehouse' until the call limit (3600 s):"
        " script an agent in [queues] or a hangup"
    )
    # An [expect] the limit breaks fails first, and says why.
    status, message, line = _run(body)
    assert (status, line) == ("failed", 13)
    assert message == (
        "expected the call to end completed, it ended caller-hangup"
        " (the caller waited in queue 'warehouse' until the call limit (3600 s))"
    )


def test_a_wait_loop_folds_into_one_block_and_whispers_name_their_listener() -> None:
    start = datetime(2026, 3, 30, 10, 0, tzinfo=UTC)

    def event(second: float, who: Who, kind: str, text: str, **detail: str) -> Event:
        url = "http://localhost/wait" if kind == "webhook" else ""
        return Event(start + timedelta(seconds=second), who, kind, text, url, detail)

    loop = [
        event(6 * n + part, who, kind, text, **({"QueueTime": str(6 * n)} if part == 0 else {}))
        for n in range(4)
        for part, (who, kind, text) in enumerate(
            [(Who.TWILIO, "webhook", "POST 200"), (Who.APP, "say", "Hold"), (Who.APP, "play", "m")]
        )
    ]
    whisper = event(30, Who.CALLEE, "say", "Press 1", party=SELLER)
    (script,) = parse_script(HEADER, "call.toml")
    result = CallResult("CA1", [*loop, whisper], CallEnd.COMPLETED, "", start, start, 4)

    lines = [line for line, _ in transcript_lines(CallOutcome(script, "passed", result=result))]

    assert lines == [
        "10:00:00.0  twilio  POST /wait → 200  QueueTime='0'",
        "10:00:01.0  app     says 'Hold'",
        "10:00:02.0  app     plays m",
        "10:00:20.0          ↑ the 3 lines above ×4 in all, to here",
        f"10:00:30.0  callee  {SELLER} hears 'Press 1'",
    ]


def test_an_unknown_app_is_an_error_outcome() -> None:
    (script,) = parse_script(HEADER, "call.toml")

    outcome = run_call(script, Target(auth_token="x", app="tests.sim_script_apps:no_such_app"))

    assert outcome.status == "error"
    assert outcome.failure is not None
    assert "no_such_app" in outcome.failure.message


def test_calls_run_in_processes_give_the_same_outcomes(tmp_path: Path) -> None:
    for name, body in [("a", SELLER_ANSWERS), ("b", SELLER_AWAY), ("c", ORDER_QUEUE)]:
        (tmp_path / f"{name}.toml").write_text(HEADER + body)
    scripts = load_scripts([tmp_path])

    alone = run_calls(scripts, SHOP, jobs=1)
    parallel = run_calls(scripts, SHOP, jobs=2)

    assert [o.script.name for o in parallel.outcomes] == ["a", "b", "c"]
    assert [o.status for o in parallel.outcomes] == ["passed"] * 3
    for one, other in zip(alone.outcomes, parallel.outcomes, strict=True):
        assert one.result is not None and other.result is not None
        assert one.result.transcript == other.result.transcript


def test_folders_are_searched_for_scripts_only(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "b.toml").write_text(HEADER)
    (tmp_path / "a.toml").write_text(HEADER)
    (tmp_path / "config.toml").write_text("[hours]\nopens = '08:00'\n")
    (tmp_path / "notes.txt").write_text("not a script")

    assert find_scripts([tmp_path]) == [tmp_path / "a.toml", tmp_path / "nested" / "b.toml"]


# --- the replay command ------------------------------------------------------------------------


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "seller_answers.toml").write_text(HEADER + SELLER_ANSWERS)
    (folder / "seller_away.toml").write_text(HEADER + SELLER_AWAY)
    wrong = SELLER_AWAY.replace('contains = ["compatible"', 'contains = ["waterproof"')
    (folder / "wrong.toml").write_text(HEADER + wrong)
    return folder


def _replay(*args: str) -> tuple[int, str]:
    runner = CliRunner()
    env = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HOTLINE_API_TOKEN": API_TOKEN}
    result = runner.invoke(replay, ["--app", SHOP.app or "", *args], env=env)
    return result.exit_code, result.output


def _replay_url(url: str, *args: str) -> tuple[int, str]:
    env = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HOTLINE_API_TOKEN": API_TOKEN}
    result = CliRunner().invoke(replay, ["--url", url, *args], env=env)
    return result.exit_code, result.output


def test_replay_prints_failures_and_the_summary_and_exits_non_zero(scripts: Path) -> None:
    code, output = _replay(str(scripts))

    assert code == 1
    assert output.rstrip().endswith("2 passed, 1 failed")
    assert "✗ FAILED wrong" in output
    assert (
        f"{scripts / 'wrong.toml'}:17: expected GET /api/threads to contain 'waterproof'" in output
    )
    # Passing calls show only their header line unless -v is given.
    assert "says 'Thank you for calling. Goodbye.'" not in output


def test_replay_verbose_shows_every_transcript(scripts: Path) -> None:
    code, output = _replay(str(scripts / "seller_answers.toml"), "-v")

    assert code == 0
    assert "caller  presses 1" in output
    assert "POST /menu → 200  Digits='1'" in output
    assert output.rstrip().endswith("1 passed, 0 failed")


def test_replay_writes_json_and_junit(scripts: Path, tmp_path: Path) -> None:
    code, _ = _replay(
        str(scripts),
        "-j",
        "2",
        "--json",
        str(tmp_path / "r.json"),
        "--junit",
        str(tmp_path / "r.xml"),
    )

    assert code == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"] == {"total": 3, "passed": 2, "failed": 1, "skipped": 0}
    assert [c["status"] for c in report["calls"]] == ["passed", "passed", "failed"]
    assert report["calls"][2]["failure"]["line"] == 17
    assert report["calls"][0]["bridged"] == [SELLER]
    assert report["calls"][0]["transcript"][0]["kind"] == "webhook"
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    failures = [
        case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None
    ]
    assert failures == ["wrong"]


def test_replay_filters_calls_by_name(scripts: Path) -> None:
    code, output = _replay(str(scripts), "-k", "seller_a")

    assert code == 0
    assert output.rstrip().endswith("2 passed, 0 failed")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # The absolute path: run from another folder, the relative one says nothing.
        (["missing-folder"], f"Error: {Path.cwd() / 'missing-folder'}: no such file or folder"),
        (["--url", "http://x", "--app", "m:f"], "choose one of --config, --app, --url"),
    ],
)
def test_replay_usage_errors_have_no_traceback(args: list[str], message: str) -> None:
    result = CliRunner().invoke(replay, args)

    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_replay_prints_brackets_in_failures_as_written(tmp_path: Path) -> None:
    path = tmp_path / "stuck.toml"
    path.write_text(HEADER + '[[steps]]\npress = "2"\n')  # queued; no agent, no hang-up

    code, output = _replay(str(path))

    assert code == 1
    assert "↑ the" not in output  # hold music without a waitUrl folds into one line
    assert "plays [hold music]  (×" in output
    assert output.count("script an agent in [queues] or a hangup") == 2  # transcript and summary


def test_replay_names_the_line_of_a_bad_script(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(HEADER + '[[steps]]\npress = "one"\n')

    code, output = _replay(str(tmp_path))

    assert code == 2
    assert (
        f"Error: {tmp_path / 'bad.toml'}:6: press: expected keys 0-9, * or #, got 'one'" in output
    )


def test_replay_refuses_an_app_it_cannot_import(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(HEADER)

    result = CliRunner().invoke(replay, [str(tmp_path), "--app", "no_such_module:create"])

    assert result.exit_code == 2
    assert "--app 'no_such_module:create': No module named 'no_such_module'" in result.output


# --- the interactive phone ---------------------------------------------------------------------


def test_call_lets_a_tester_press_and_speak() -> None:
    result = CliRunner().invoke(
        call,
        [
            "--app",
            SHOP.app or "",
            "--auth-token",
            AUTH_TOKEN,
            "--at",
            "2026-03-30T10:00:00+02:00",
            "--dialled",
            f"{SELLER}=no-answer:20",
        ],
        input="1\nsay is it compatible with my phone\n",
    )

    assert result.exit_code == 0, result.output
    output = result.output
    assert "says 'Welcome to the test shop. For a product question, press 1.'" in output
    assert output.index("press 1.'") < output.index("[Gather: dtmf or speech, timeout 5 s]")
    assert "says 'The seller is not available." in output
    assert "POST /question → 200  SpeechResult='is it compatible with my phone'" in output
    assert "Call completed after" in output
    assert "Bridged to: nobody" in output


def test_call_hangs_up_on_request_and_refuses_a_bad_ring() -> None:
    ok = CliRunner().invoke(
        call, ["--app", SHOP.app or "", "--auth-token", AUTH_TOKEN], input="nonsense\nhangup\n"
    )
    bad = CliRunner().invoke(call, ["--app", SHOP.app or "", "--dialled", f"{SELLER}=ring"])

    assert ok.exit_code == 0, ok.output
    assert "Type keys (1, 12#), 'say WORDS', 'wait' or 'hangup'." in ok.output
    assert "Call caller-hangup after" in ok.output
    assert bad.exit_code == 2
    assert "'ring': expected answer[:KEYS]" in bad.output
