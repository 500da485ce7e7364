"""TwiML the simulator does not play: a warning and the call goes on, as Twilio's 12200, or refused.

Twilio logs warning 12200 for an unknown attribute and carries on; the simulator shows it in the
report and plays the verb without it. ``strict`` refuses it. Every attribute Twilio documents for
the verbs the simulator plays is in ``twiml_contract.SUPPORTED``, so warnings only come for unknown
ones (or the few documented ones it knows but cannot play). Twilio verbs it does not play are
refused by name.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from twilio.twiml import lower_camel
from twilio.twiml.voice_response import Client, Dial, Enqueue, VoiceResponse

from hotline.sim.engine.simulator import CallResult, Simulator
from hotline.sim.engine.transport import WSGITransport
from hotline.sim.engine.twiml import parse
from hotline.sim.engine.twiml_contract import SUPPORTED, supported_table
from hotline.sim.engine.twiml_warnings import NOT_PLAYED
from hotline.sim.frontends.pytest_plugin import PhoneCall
from hotline.sim.frontends.replay import replay
from hotline.sim.model import (
    CalleeBehaviour,
    CallEnd,
    DialOutcome,
    ExpectationFailed,
    ScriptError,
    UnsupportedTwiML,
)
from hotline.sim.run.runner import Target
from hotline.sim.scripts.reader import parse_script
from tests.sim_twilio_apps import AUTH_TOKEN, OFFICE, create_forwarding_app
from tests.test_sim_engine import AT, BUYER, HOTLINE, ScriptCaller, digits

Dial_ = Callable[..., PhoneCall]
FORWARDING = "tests.sim_twilio_apps:create_forwarding_app"
OFFICE_ANSWERS = {OFFICE: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=2, talk=20)]}

# The twilio package builds TwiML from Twilio's own definitions: each verb's keyword arguments
# are the attributes Twilio documents. (method, the element it makes)
_BUILDERS = [
    (VoiceResponse.say, "Say"),
    (VoiceResponse.play, "Play"),
    (VoiceResponse.pause, "Pause"),
    (VoiceResponse.gather, "Gather"),
    (VoiceResponse.dial, "Dial"),
    (Dial.number, "Number"),
    (Dial.queue, "Queue"),
    (VoiceResponse.record, "Record"),
    (VoiceResponse.enqueue, "Enqueue"),
    (VoiceResponse.redirect, "Redirect"),
    (VoiceResponse.reject, "Reject"),
    (VoiceResponse.hangup, "Hangup"),
    (VoiceResponse.leave, "Leave"),
    (Dial.client, "Client"),
    (Client.identity, "Identity"),
    (Client.parameter, "Parameter"),
    (Dial.sip, "Sip"),
    (Dial.conference, "Conference"),
    (Enqueue.task, "Task"),
]
# The element's text, not an attribute.
_TEXT_ARGUMENTS = {
    "message",
    "url",
    "number",
    "phone_number",
    "name",
    "identity",
    "client_identity",
    "sip_url",
    "body",
}
_ELSEWHERE: set[tuple[str, str]] = set()


def _documented() -> list[tuple[str, str]]:
    found = []
    for builder, element in _BUILDERS:
        for name in list(inspect.signature(builder).parameters)[1:]:
            if name in _TEXT_ARGUMENTS or name == "kwargs":
                continue
            if element in ("Play", "Redirect") and name == "url":
                continue
            found.append((element, lower_camel(name)))
    return found


@pytest.mark.parametrize(("element", "attribute"), _documented())
def test_every_documented_attribute_is_played_or_accepted(element: str, attribute: str) -> None:
    support = SUPPORTED[element]
    assert (element, attribute) in _ELSEWHERE or (
        attribute in support.attributes or attribute in support.unplayed
    )


def test_the_builders_list_covers_every_element_played() -> None:
    assert {element for _, element in _BUILDERS} == set(SUPPORTED) - {"Response"}


def _place(voice_url: str = "/voice", *, strict: bool = False, keys: str = "1") -> CallResult:
    sim = Simulator(WSGITransport(create_forwarding_app()), AUTH_TOKEN, voice_url, strict=strict)
    caller = ScriptCaller([digits(keys)])
    return sim.place_call(caller, AT, BUYER, HOTLINE, callees=OFFICE_ANSWERS)


def test_an_unknown_attribute_is_a_warning_and_the_call_goes_on() -> None:
    result = _place()

    assert result.ended is CallEnd.COMPLETED
    assert result.bridged == (OFFICE,)
    assert result.heard() == ["Press 1 for the office.", "The call ended completed."]
    # record=, hangupOnStar=, recordingStatusCallback=, partialResultCallback= and the
    # <Number statusCallback*> are documented and accepted: only rate= warns.
    [warning] = result.events("warning")
    assert warning.text.startswith("attribute rate= of <Say> is not TwiML Twilio documents")
    assert "warning 12200" in warning.text
    assert warning.url == "http://localhost/voice"
    assert warning.detail == {"element": "Say", "attribute": "rate", "ErrorCode": "12200"}


def test_strict_refuses_the_unknown_attribute() -> None:
    with pytest.raises(UnsupportedTwiML) as refused:
        _place(strict=True)

    assert str(refused.value) == (
        "attribute rate= of <Say> is refused in strict mode: not TwiML Twilio documents (Twilio"
        " logs warning 12200, ignores it) (from http://localhost/voice)"
    )


def test_a_documented_attribute_not_played_warns_that_it_is_not_played() -> None:
    result = _place("/both")

    [warning] = result.events("warning")
    assert warning.text == (
        "attribute sequential= of <Dial> is not played offline (on Twilio it rings the"
        " Numbers one after another, not at once): the verb goes on without it"
    )
    assert result.bridged == (OFFICE,)  # both rang at once; the office answered


def test_strict_refuses_a_documented_attribute_not_played_too() -> None:
    with pytest.raises(UnsupportedTwiML, match="sequential= of <Dial> is refused in strict mode"):
        _place("/both", strict=True)


def test_a_twilio_verb_the_simulator_does_not_play_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedTwiML) as refused:
        _place("/text-me")

    message = str(refused.value)
    assert message.startswith("<Sms> inside the Response is a Twilio verb the simulator does")
    assert "sends a text message during the call" in message


@pytest.mark.parametrize("verb", sorted(NOT_PLAYED))
def test_every_verb_not_played_is_named(verb: str) -> None:
    where = "Dial" if verb in ("Sim", "Application", "WhatsApp") else "Response"
    body = (
        f"<Response><{verb}/></Response>"
        if where == "Response"
        else (f"<Response><Dial><{verb}/></Dial></Response>")
    )
    with pytest.raises(UnsupportedTwiML, match=f"<{verb}> inside .* does not play: it"):
        parse(body.encode(), "http://localhost/x")


def test_documents_are_cached_apart_for_strict_and_not() -> None:
    body = b'<Response><Say rate="fast">Hi</Say></Response>'
    assert len(parse(body, "http://localhost/cache").warnings) == 1
    with pytest.raises(UnsupportedTwiML):
        parse(body, "http://localhost/cache", strict=True)
    assert len(parse(body, "http://localhost/cache").warnings) == 1


# -- in scripts, the report and the dial fixture ---------------------------------------------

SCRIPT = """\
[call]
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
{extra}
[dialled]
"+48225550100" = "answer"
[[steps]]
press = "1"
[[steps]]
hear = "the call ended completed"
[expect]
bridged = "+48225550100"
{expect}
"""


def _replay(tmp_path: Path, *options: str, extra: str = "", expect: str = "") -> tuple[int, str]:
    script = tmp_path / "forwarding.toml"
    script.write_text(SCRIPT.format(extra=extra, expect=expect))
    result = CliRunner().invoke(
        replay, [str(script), "--app", FORWARDING, "--auth-token", AUTH_TOKEN, *options]
    )
    return result.exit_code, result.output


def test_a_passed_call_shows_its_warnings_in_the_report(tmp_path: Path) -> None:
    code, output = _replay(tmp_path, "--json", str(tmp_path / "out.json"))

    assert code == 0, output
    assert "✓ PASSED" in output
    assert "⚠ attribute rate= of <Say> is not TwiML Twilio documents" in output
    assert "(in /voice)" in output
    [call] = json.loads((tmp_path / "out.json").read_text())["calls"]
    assert call["warnings"] == [call["transcript"][1]["text"]]
    assert call["transcript"][1]["kind"] == "warning"


@pytest.mark.parametrize(
    ("expect", "passed", "shown"),
    [
        ('warnings = "rate="', True, ""),
        ('warnings = ["rate=", "12200"]', True, ""),
        ("warnings = false", False, "forwarding.toml:14: expected no TwiML warnings, got 1"),
        ('warnings = "sequential"', False, "expected a TwiML warning about 'sequential', got:"),
    ],
)
def test_a_script_checks_the_warnings(
    tmp_path: Path, expect: str, passed: bool, shown: str
) -> None:
    code, output = _replay(tmp_path, expect=expect)

    assert code == (0 if passed else 1), output
    assert shown in output


@pytest.mark.parametrize("how", [("--strict",), ()])
def test_strict_refuses_and_the_report_keeps_what_was_heard(
    tmp_path: Path, how: tuple[str, ...]
) -> None:
    extra = "" if how else "strict = true"
    code, output = _replay(tmp_path, *how, extra=extra)

    assert code == 1
    assert "UnsupportedTwiML: attribute rate= of <Say>" in output
    assert "POST /voice → 200" in output  # the transcript up to the refusal


def test_script_keys_are_checked() -> None:
    header = '[call]\nat = "2026-03-30T10:00:00+02:00"\nfrom = "+1"\nto = "+2"\n'
    with pytest.raises(ScriptError, match=re.escape("s.toml:5: strict: expected true or false")):
        parse_script(header + 'strict = "yes"\n', "s.toml")
    with pytest.raises(ScriptError, match=re.escape("s.toml:6: warnings: expected false (none)")):
        parse_script(header + "[expect]\nwarnings = true\n", "s.toml")


@pytest.mark.parametrize("hotline_sim_target", [Target(auth_token=AUTH_TOKEN, app=FORWARDING)])
def test_dial_checks_warnings_and_takes_strict(dial: Dial_) -> None:
    call = dial(at="2026-03-30T10:00:00+02:00", dialled={OFFICE: "answer"})
    call.press("1").hears("the call ended completed")
    call.warns("rate=")
    with pytest.raises(ExpectationFailed, match="expected no TwiML warnings, got 1"):
        call.has_no_warnings()

    strict = dial(at="2026-03-30T10:00:00+02:00", dialled={OFFICE: "answer"}, strict=True)
    with pytest.raises(ExpectationFailed, match="UnsupportedTwiML: attribute rate="):
        strict.press("1").hears("the call ended")


def test_the_docs_table_is_the_contract() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "simulator.md").read_text(encoding="utf-8")
    # After a change, regenerate the table with twiml_contract.supported_table().
    assert supported_table() in docs
    for verb in NOT_PLAYED:
        assert f"| `<{verb}>` |" in docs
