"""hotline's scheduled jobs in a replay: the outbox delivered on the virtual clock, the SMS a
Message of the REST stand-in, the seller's mail a file in the replay's own folder; scripts that
do not ask for the scheduler are played as before."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.sim.engine.transport import WSGITransport
from hotline.sim.frontends.replay import replay
from hotline.sim.hotline_aware.target import HotlineTarget, build_hotline_app
from hotline.sim.report.console import transcript_lines
from hotline.sim.run import rest_wiring
from hotline.sim.run.connection import Connection
from hotline.sim.run.outcomes import CallOutcome, play_call
from hotline.sim.scripts.model import CallScript, Expect
from hotline.sim.scripts.reader import load_script, parse_script
from hotline.store import outbox
from hotline.store.database import get_store

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests/calls/scheduler/thread_notices.toml"


@pytest.fixture
def target() -> Iterator[HotlineTarget]:
    rest_wiring.in_process()  # before the app is built: its Client reaches the stand-in
    app = build_hotline_app(ROOT / "config.toml")
    try:
        yield app
    finally:
        app.close()


def _play(target: HotlineTarget, script: CallScript) -> CallOutcome:
    connection = Connection(
        WSGITransport(target),
        target.auth_token,
        target.api_token,
        target.base_url,
        scheduled_work=target.scheduled_work,
    )
    return play_call(script, connection)


def test_the_outbox_is_delivered_on_the_virtual_clock_through_the_stand_in(
    target: HotlineTarget,
) -> None:
    [script] = load_script(SCRIPT)
    outcome = _play(target, script)
    assert outcome.passed, outcome.failure
    [run] = outcome.scheduled
    assert run.at.strftime("%H:%M:%S") == "22:30:55"  # the instant the thread was opened
    assert run.lines == ("outbox: 2 sent (mail to seller acme, sms to +48******200)",)
    [sms] = outcome.messages
    assert (sms.to, sms.from_, sms.created) == ("+48601100200", "+442071000000", run.at)
    assert "thread 0001" in sms.body
    rows = outbox.rows(get_store(target.app))
    assert {(row.status, row.sent_at) for row in rows} == {("sent", run.at)}
    [mail] = list(target.mail_folder.glob("*.eml"))  # the replay's folder, never a server
    assert "To: orders@acme.example" in mail.read_text()
    shown = "\n".join(text for text, _ in transcript_lines(outcome))
    assert "22:30:55.0  scheduler outbox: 2 sent" in shown


def test_a_script_without_the_scheduler_leaves_the_outbox_pending(target: HotlineTarget) -> None:
    [script] = load_script(SCRIPT)
    plain = dataclasses.replace(
        script, expect=dataclasses.replace(script.expect, scheduled=(), messages=())
    )
    assert not plain.runs_scheduler and not plain.needs_session  # the lone call's fast path
    outcome = _play(target, plain)
    assert outcome.passed, outcome.failure
    assert outcome.scheduled == () and outcome.messages == ()
    assert {row.status for row in outbox.rows(get_store(target.app))} == {"pending"}


def test_replay_reports_scheduled_work_in_the_json_report(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = CliRunner().invoke(replay, [str(SCRIPT), "-v", "--json", str(report)])
    assert result.exit_code == 0, result.output
    assert "scheduler outbox: 2 sent" in result.output
    assert "5 webhooks · 1 scheduled run" in result.output  # the call's header line
    [call] = json.loads(report.read_text())["calls"]
    assert call["scheduled"] == [
        {
            "at": "2026-11-26T22:30:55+01:00",
            "lines": ["outbox: 2 sent (mail to seller acme, sms to +48******200)"],
        }
    ]


def test_an_app_with_no_scheduled_work_fails_a_script_that_expects_some(tmp_path: Path) -> None:
    script = tmp_path / "s.toml"
    script.write_text(
        HEADER
        + '[expect]\nscheduled = "outbox"\n[[steps]]\nhear = "Welcome to support."\n'
        + "[[steps]]\nhangup = true\n",
        encoding="utf-8",
    )
    app = "tests.sim_session_apps:create_support_line"
    result = CliRunner().invoke(replay, [str(script), "--app", app], env=_SUPPORT_ENV)
    assert result.exit_code == 1
    assert "the app offers none to run on the virtual clock" in result.output


HEADER = """
[call]
name = "scheduled"
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
"""
_SUPPORT_ENV = {"TWILIO_AUTH_TOKEN": "session-auth-token"}


@pytest.mark.parametrize(
    ("value", "after", "until"),
    [
        ('"+12h"', "12:00:00", None),
        ('"+1d"', "1 day, 0:00:00", None),
        ('"+1h30m"', "1:30:00", None),
        ('"2026-03-31T08:30:00+02:00"', None, "2026-03-31T08:30:00+02:00"),
        ("2026-03-31T08:30:00+02:00", None, "2026-03-31T08:30:00+02:00"),
    ],
)
def test_scheduler_until_is_a_time_after_the_calls_or_an_instant(
    value: str, after: str | None, until: str | None
) -> None:
    [script] = parse_script(HEADER.replace("[call]", f"[call]\nscheduler_until = {value}"), "s")
    horizon = script.scheduler_until
    assert horizon is not None
    assert (str(horizon.after) if horizon.after else None) == after
    assert (horizon.until.isoformat() if horizon.until else None) == until
    assert script.runs_scheduler and script.needs_session
    assert "scheduled-work" in script.needs  # a running server is skipped: it has its own


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('scheduler_until = "+12"', 'expected a time after the calls like "+12h"'),
        ('scheduler_until = "+"', 'expected a time after the calls like "+12h"'),
        ('scheduler_until = "tomorrow"', "scheduler_until: expected a time like"),
        ("scheduler_until = 12", "scheduler_until: expected a date and time"),
    ],
)
def test_scheduler_until_mistakes_name_their_line(line: str, message: str) -> None:
    from hotline.sim.model import ScriptError

    with pytest.raises(ScriptError, match=r"s:\d+: .*" + message.replace("+", r"\+")):
        parse_script(HEADER.replace("[call]", f"[call]\n{line}"), "s")


def test_scheduled_checks_belong_to_the_main_call() -> None:
    from hotline.sim.model import ScriptError

    text = HEADER + '[[parties]]\nname = "p"\nfrom = "+48601999000"\n[parties.expect]\n'
    text += 'scheduled = "outbox"\n'
    with pytest.raises(ScriptError, match="belongs to the whole session"):
        parse_script(text, "s")
    assert Expect(where=load_script(SCRIPT)[0].where).scheduled == ()


def test_a_reset_clears_every_table_but_the_directory() -> None:
    """A replay starts each script on an empty store: every table a call or a job writes is
    cleared (a table added later and forgotten here would leak rows from script to script)."""
    from hotline.sim.hotline_aware.target import CALL_TABLES, KEPT_TABLES
    from hotline.store.models import Base

    assert set(Base.metadata.tables) == set(CALL_TABLES) | KEPT_TABLES
    assert not set(CALL_TABLES) & KEPT_TABLES
