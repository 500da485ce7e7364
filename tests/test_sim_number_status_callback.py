"""The number's status callback in replays: a script's ``status_callback``, ``--status-callback``.

Twilio posts an inbound call's end to the number's "call status changes" URL: the final
``CallStatus`` with ``CallDuration``, signed like every webhook, nothing for the call's start.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.sim.frontends.replay import replay
from hotline.sim.model import ScriptError
from hotline.sim.run.connection import Target
from hotline.sim.run.runner import run_call
from hotline.sim.scripts.reader import parse_script
from tests.sim_script_apps import API_TOKEN, AUTH_TOKEN

SHOP = Target(auth_token=AUTH_TOKEN, api_token=API_TOKEN, app="tests.sim_script_apps:create_shop")
HEADER = """\
[call]
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
"""
# The caller hangs up 8 s in (during the welcome); the app itself ends the call after no choice.
ENDINGS = {
    "caller-hangs-up": ('[[steps]]\nhangup_after = 8\n[expect]\nended = "caller-hangup"\n', "8"),
    "app-hangs-up": ('[[steps]]\nsilence = true\n[expect]\nended = "completed"\n', None),
}


@pytest.mark.parametrize(("steps", "duration"), ENDINGS.values(), ids=ENDINGS.keys())
def test_a_scripts_status_callback_gets_the_calls_end_and_nothing_else(
    steps: str, duration: str | None
) -> None:
    (script,) = parse_script(HEADER + 'status_callback = "/status"\n' + steps, "call.toml")

    outcome = run_call(script, SHOP)

    assert outcome.status == "passed", outcome.failure
    assert outcome.result is not None
    [posted] = outcome.result.events("status-callback")
    # 204, not 403: signed as every webhook is (the shop checks every signature).
    assert (posted.url, posted.text) == ("http://localhost/status", "POST 204")
    assert posted.detail["CallStatus"] == "completed"
    assert posted.detail["CallbackSource"] == "call-progress-events"
    assert posted.detail["SequenceNumber"] == "0"  # the only one: no initiated, ringing, answered
    assert posted.detail["Timestamp"].startswith("Mon, 30 Mar 2026 10:00:")
    expected = duration or str(round(outcome.result.duration))
    assert posted.detail["CallDuration"] == expected
    ended = outcome.result.started + timedelta(seconds=outcome.result.duration)
    assert posted.at == ended  # posted as the call ends


def test_replay_takes_a_status_callback_for_scripts_that_name_none(tmp_path: Path) -> None:
    ends = '[[steps]]\nhangup_after = 8\n[expect]\nended = "caller-hangup"\n'
    (tmp_path / "a_uses_it.toml").write_text(HEADER + ends)
    (tmp_path / "b_has_none.toml").write_text(HEADER + "status_callback = false\n" + ends)
    env = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HOTLINE_API_TOKEN": API_TOKEN}
    args = ["--app", SHOP.app or "", str(tmp_path), "--status-callback", "/status", "-v"]

    result = CliRunner().invoke(replay, args, env=env)

    assert result.exit_code == 0, result.output
    line = "status callback POST /status → 204  CallStatus='completed'  CallbackSource="
    assert result.output.count(line) == 1  # a_uses_it's; b_has_none's number has none
    assert "CallDuration='8'" in result.output
    assert result.output.rstrip().endswith("2 passed, 0 failed")


@pytest.mark.parametrize("value", ['"voice/status"', "true", "3"])
def test_a_status_callback_that_is_no_url_is_refused(value: str) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_script(HEADER + f"status_callback = {value}\n", "call.toml")
    assert 'status_callback: expected a path like "/voice/status"' in str(caught.value)
