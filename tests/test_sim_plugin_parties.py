"""The ``dial`` fixture with other parties: a session written call by call in Python."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from hotline.sim.frontends.pytest_plugin import PhoneCall
from hotline.sim.model import ExpectationFailed
from hotline.sim.run.runner import Target
from tests.sim_session_apps import AUTH_TOKEN

Dial = Callable[..., PhoneCall]
AT = "2026-03-30T10:00:00+02:00"
ANN = {"agent": "Ann"}  # the custom parameter the agent's browser client sends


@pytest.fixture
def hotline_sim_target() -> Target:
    """These tests call the support line, where an agent's call dials the callers' queue."""
    return Target(auth_token=AUTH_TOKEN, app="tests.sim_session_apps:create_support_line")


def test_an_agent_party_takes_the_caller(dial: Dial) -> None:
    call = dial(at=AT)
    call.hangs_up(after=100)  # stays the caller's last step, whatever is written after it
    agent = call.party("agent", "client:agent", after=30, voice_url="/agent", params=ANN)

    agent.hears("Hello Ann").press("1")
    call.hears("Please wait for the next agent").hears("Connecting you to Ann")
    call.entered_queue("support").bridged_to("client:agent").ended("caller-hangup")
    agent.hears("The caller hung up")
    agent.bridged_to("queue:support").not_queued().ended("completed")
    call.message_sent(count=0).call_placed(count=0)

    assert call.result is not None and agent.result is not None
    assert agent.result.started == call.result.started + timedelta(seconds=30)
    assert call.messages == []
    assert "─ party 'agent'" in call.transcript


def test_a_party_check_that_fails_names_the_party_and_the_line(dial: Dial) -> None:
    call = dial(at=AT)
    call.hangs_up(after=60)
    agent = call.party("agent", "client:agent", after=10, voice_url="/agent", params=ANN)

    with pytest.raises(ExpectationFailed) as caught:
        agent.hears("Hello Bob")  # the line the failure names

    first = str(caught.value).splitlines()[0]
    assert first == (
        f"{__file__}:{_line_of('Hello Bob')}: party 'agent': expected to hear 'Hello Bob',"
        " heard: 'Hello Ann. Press 1 to take the next caller.'"
    )
    assert "✗ party 'agent'" in str(caught.value)  # the transcripts come along


def test_an_outcome_check_of_a_party_fails_naming_it(dial: Dial) -> None:
    call = dial(at=AT)
    call.hangs_up(after=60)
    agent = call.party("agent", "client:agent", after=10, voice_url="/agent")
    agent.press("1")

    with pytest.raises(ExpectationFailed, match="party 'agent': expected the call to end rejected"):
        agent.ended("rejected")
    with pytest.raises(ExpectationFailed, match="expected a message containing 'refund', found"):
        call.message_sent(body="refund")


def test_party_names_are_unique(dial: Dial) -> None:
    call = dial(at=AT)
    call.party("agent", "client:agent")
    with pytest.raises(ValueError, match="there is a party of that name already"):
        call.party("agent", "client:other")
    with pytest.raises(ValueError, match="expected one of completed, busy"):
        call.call_placed(status="done")


def _line_of(text: str) -> int:
    with open(__file__, encoding="utf-8") as source:
        for number, line in enumerate(source, start=1):
            if text in line and "agent.hears" in line:
                return number
    raise AssertionError(f"{text!r} not found")


def test_the_call_itself_sends_its_params_on_every_request(dial: Dial) -> None:
    call = dial(at=AT, params={"ticket": "T-42"})
    call.hangs_up(after=10)

    assert call.result is not None
    posted = [event for event in call.result.transcript if event.kind == "webhook"]
    assert posted and all(event.detail.get("ticket") == "T-42" for event in posted)
