"""What a call sends: the Voice URL with the number's method, and the details Twilio adds.

A number's Voice URL is requested with the method set on the number; with GET, every parameter
goes in the query string and the signature covers the URL with it (Twilio's security docs).
Twilio adds what it knows of the call (``FromCity``..., ``call_details.py``) to every request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.sim.engine.simulator import Simulator
from hotline.sim.engine.transport import WSGITransport
from hotline.sim.frontends.pytest_plugin import PhoneCall
from hotline.sim.frontends.replay import call, replay
from hotline.sim.model import CallEnd, ScriptError
from hotline.sim.run.runner import Target
from hotline.sim.scripts.reader import parse_script
from tests.sim_twilio_apps import (
    AUTH_TOKEN,
    create_greeting_app,
    create_survey_app,
    requests_of,
)
from tests.test_sim_engine import AT, BUYER, HOTLINE, ScriptCaller, digits

Dial = Callable[..., PhoneCall]
SURVEY = "tests.sim_twilio_apps:create_survey_app"
SCRIPT = """\
[call]
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
voice_url = "/survey"
{method}
[[steps]]
hear = "survey for +48601100200"
[[steps]]
press = "4"
[[steps]]
hear = "you gave us 4"
"""


def test_a_get_voice_url_sends_the_params_in_the_signed_query_string() -> None:
    app = create_survey_app()
    sim = Simulator(WSGITransport(app), AUTH_TOKEN, "/survey", voice_method="GET")

    result = sim.place_call(ScriptCaller([digits("4")]), AT, BUYER, HOTLINE)

    assert result.ended is CallEnd.COMPLETED
    assert result.heard()[-1] == "You gave us 4. Thank you."
    first, second = requests_of(app)  # both signed over their URL, query string included
    assert first[0] == "GET" and first[1].startswith("/survey?CallSid=CA")
    assert "From=%2B48601100200" in first[1] and "CallStatus=ringing" in first[1]
    assert second[0] == "GET" and "Digits=4" in second[1]


def test_a_post_to_a_get_only_voice_url_fails_as_on_twilio() -> None:
    sim = Simulator(WSGITransport(create_survey_app()), AUTH_TOKEN, "/survey")

    result = sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE)

    assert result.ended is CallEnd.FAILED
    assert "POST http://localhost/survey answered 405" in str(result.error)


def test_the_voice_method_is_checked() -> None:
    with pytest.raises(ValueError, match="voice_method: GET or POST"):
        Simulator(WSGITransport(create_survey_app()), AUTH_TOKEN, voice_method="PUT")


@pytest.mark.parametrize(
    ("method", "options", "passed"),
    [
        ('voice_method = "GET"', [], True),
        ('voice_method = "get"', [], True),
        ("", ["--voice-method", "GET"], True),
        ('voice_method = "POST"', ["--voice-method", "GET"], False),  # the script's own wins
        ("", [], False),
    ],
)
def test_replay_takes_the_voice_method_from_the_script_or_the_option(
    tmp_path: Path, method: str, options: list[str], passed: bool
) -> None:
    script = tmp_path / "survey.toml"
    script.write_text(SCRIPT.format(method=method))

    result = CliRunner().invoke(
        replay, [str(script), "--app", SURVEY, "--auth-token", AUTH_TOKEN, *options]
    )

    assert result.exit_code == (0 if passed else 1), result.output
    if not passed:
        assert "POST http://localhost/survey answered 405" in result.output


def test_hotline_call_takes_the_voice_method() -> None:
    options = ["--app", SURVEY, "--auth-token", AUTH_TOKEN, "--voice-path", "/survey"]

    result = CliRunner().invoke(call, [*options, "--voice-method", "get"], input="3\n")

    assert result.exit_code == 0, result.output
    assert "GET /survey/answer?" in result.output
    assert "says 'You gave us 3. Thank you.'" in result.output


def test_a_bad_voice_method_in_a_script_names_its_line() -> None:
    text = SCRIPT.format(method='voice_method = "PUT"')
    with pytest.raises(ScriptError, match=r"s\.toml:6: voice_method: expected \"GET\" or \"POST\""):
        parse_script(text, "s.toml")


@pytest.mark.parametrize(
    "hotline_sim_target", [Target(auth_token=AUTH_TOKEN, app=SURVEY, voice_path="/survey")]
)
def test_dial_takes_the_voice_method(dial: Dial) -> None:
    call = dial(at="2026-03-30T10:00:00+02:00", voice_method="GET")
    call.hears("rate us").press("5").hears("you gave us 5")
    call.ended("completed")


# -- the details Twilio adds to a call: FromCity, ToCity... ------------------------------------

GREETING = "tests.sim_twilio_apps:create_greeting_app"
GEO_SCRIPT = """\
[defaults]
from = "+48601100200"
to = "+48221000000"
at = "2026-03-30T10:00:00+02:00"
params = { FromCountry = "PL", ToCity = "WARSZAWA" }

[[calls]]
name = "from Krakow"
params = { FromCity = "KRAKOW", ForwardedFrom = "+48120000000" }
[[calls.steps]]
hear = "hello caller from krakow, pl"
[[calls.steps]]
press = "1"
[[calls.steps]]
hear = "still krakow; caller country pl; called in warszawa; forwarded from +48120000000"

[[calls]]
name = "from nowhere"
[[calls.steps]]
hear = "hello caller from nowhere, pl"
"""


def test_details_are_sent_on_every_request_with_their_caller_and_called_twins() -> None:
    app = create_greeting_app()
    sim = Simulator(
        WSGITransport(app),
        AUTH_TOKEN,
        status_callback="/status",
        status_callback_events=["completed"],
    )
    details = {"FromCity": "GDANSK", "FromCountry": "PL", "ToZip": "00-001"}

    result = sim.place_call(ScriptCaller([digits("1")]), AT, BUYER, HOTLINE, details=details)

    assert result.heard()[0] == "Hello caller from GDANSK, PL."
    webhooks = result.events("webhook") + result.events("status-callback")
    assert len(webhooks) == 3  # /voice, /menu and the completed status callback (a 404 here)
    for event in webhooks:
        assert event.detail["FromCity"] == "GDANSK" and event.detail["CallerCity"] == "GDANSK"
        assert event.detail["ToZip"] == "00-001" and event.detail["CalledZip"] == "00-001"


def test_a_detail_twilio_does_not_send_is_refused() -> None:
    sim = Simulator(WSGITransport(create_greeting_app()), AUTH_TOKEN)
    with pytest.raises(ValueError, match="unknown call detail 'FromTown'"):
        sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE, details={"FromTown": "X"})


def test_scripts_send_the_details_defaults_merged_with_the_calls(tmp_path: Path) -> None:
    script = tmp_path / "geo.toml"
    script.write_text(GEO_SCRIPT)

    result = CliRunner().invoke(
        replay, [str(script), "--app", GREETING, "--auth-token", AUTH_TOKEN, "-v"]
    )

    assert result.exit_code == 0, result.output
    assert "2 passed" in result.output


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('params = { FromTown = "X" }', "s.toml:5: params: 'FromTown' is not a parameter Twilio"),
        ("params = { FromCity = 1 }", "s.toml:5: params: FromCity must be a text, got 1"),
        ('params = "FromCity=X"', "s.toml:5: params: expected a table"),
    ],
)
def test_a_bad_detail_in_a_script_names_its_line(line: str, message: str) -> None:
    text = f'[call]\nat = "2026-03-30T10:00:00+02:00"\nfrom = "+1"\nto = "+2"\n{line}\n'
    with pytest.raises(ScriptError, match=re.escape(message)):
        parse_script(text, "s.toml")


def test_hotline_call_takes_details() -> None:
    options = ["--app", GREETING, "--auth-token", AUTH_TOKEN, "--param", "FromCity=TORUN"]

    ok = CliRunner().invoke(call, options, input="hangup\n")
    bad = CliRunner().invoke(call, [*options, "--param", "City=TORUN"])

    assert ok.exit_code == 0, ok.output
    assert "says 'Hello caller from TORUN, None.'" in ok.output
    assert bad.exit_code == 2 and "'City=TORUN': expected NAME=VALUE" in bad.output


@pytest.mark.parametrize("hotline_sim_target", [Target(auth_token=AUTH_TOKEN, app=GREETING)])
def test_dial_takes_details(dial: Dial) -> None:
    call = dial(at="2026-03-30T10:00:00+02:00", params={"FromCity": "LODZ", "ToCity": "OPOLE"})
    call.hears("hello caller from lodz").press("1").hears("called in opole")

    with pytest.raises(ValueError, match="'FromTown' is not a parameter Twilio adds"):
        dial(at="2026-03-30T10:00:00+02:00", params={"FromTown": "LODZ"})
