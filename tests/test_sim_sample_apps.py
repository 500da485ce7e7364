"""The tests' own small Twilio apps (tests/sim/apps), replayed with their call scripts and
called from the ``dial`` fixture: each shows a behaviour Twilio documents."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hotline.sim.frontends.pytest_plugin import PhoneCall
from hotline.sim.model import ExpectationFailed
from hotline.sim.run.connection import Target
from hotline.sim.run.outcomes import run_call
from hotline.sim.run.runner import load_scripts
from hotline.sim.scripts.model import CallScript
from tests.sim.apps.forwarding import BACKUP, OWNER
from tests.sim.apps.voice_app import API_TOKEN, AUTH_TOKEN

APPS = Path(__file__).parent / "sim" / "apps"


def _target(app: str) -> Target:
    return Target(
        auth_token=AUTH_TOKEN, api_token=API_TOKEN, app=f"tests.sim.apps.{app}:create_app"
    )


def _calls() -> list[tuple[str, CallScript]]:
    folders = sorted(
        path for path in APPS.iterdir() if path.is_dir() and path.name != "__pycache__"
    )
    return [(folder.name, call) for folder in folders for call in load_scripts([folder])]


CALLS = _calls()


def test_every_app_has_its_scripts() -> None:
    assert {app for app, _ in CALLS} == {"forwarding", "voicemail", "waiting_line"}
    assert len(CALLS) >= 12


@pytest.mark.parametrize(("app", "script"), CALLS, ids=[call.name for _, call in CALLS])
def test_a_sample_apps_script_replays(app: str, script: CallScript) -> None:
    outcome = run_call(script, _target(app))

    assert outcome.status == "passed", f"{outcome.failure}\n{outcome.result}"


# -- the same behaviours from Python, with the dial fixture --------------------------------------

Dial = Callable[..., PhoneCall]
AT = "2026-03-30T10:00:00+02:00"


@pytest.mark.parametrize("hotline_sim_target", [_target("voicemail")])
def test_barging_in_and_ending_a_message_with_a_key(dial: Dial) -> None:
    call = dial(at=AT)
    call.press("1", after=2, barge_in=True).hears("press star")
    call.records(9, "call me back", end="*").hears("message of 9 seconds").ended("completed")
    assert call.result is not None
    heard = call.result.heard()
    assert heard[0] == "You reached the voicemail of the test shop."  # cut off 2 s in
    assert "To hear our address, press 2." not in heard


@pytest.mark.parametrize("hotline_sim_target", [_target("voicemail")])
def test_hanging_up_at_the_end_of_a_message(dial: Dial) -> None:
    call = dial(at=AT)
    call.press("1").records(15, end="hangup")
    call.ended("caller-hangup")
    assert "POST /recorded Digits=hangup CallStatus=completed RecordingDuration=15" in (
        call.get_json("/api/log")
    )


@pytest.mark.parametrize("hotline_sim_target", [_target("voicemail")])
def test_a_wrong_record_ending_is_refused(dial: Dial) -> None:
    with pytest.raises(ValueError, match="one key"):
        dial(at=AT).records(5, end="##")


@pytest.mark.parametrize("hotline_sim_target", [_target("forwarding")])
def test_a_screened_phone_hanging_up_in_the_whisper(dial: Dial) -> None:
    call = dial(at=AT, dialled={OWNER: "answer:hangup", BACKUP: "busy"})
    call.hears("nobody at the shop").not_bridged()
    call.callee_hears(OWNER, "press 1 to take the call")


@pytest.mark.parametrize("hotline_sim_target", [_target("forwarding")])
def test_the_wrong_dial_status_fails_the_check(dial: Dial) -> None:
    call = dial(at=AT, dialled={OWNER: "answer:hangup", BACKUP: "busy"})
    with pytest.raises(ExpectationFailed, match="expected to hear 'the shop has hung up'"):
        call.hears("the shop has hung up")
