"""The rules of an agent's states (``hotline.agents.states``): every pair of states, every cause."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from hotline.agents.states import (
    TRANSITIONS,
    AgentState,
    Cause,
    Verdict,
    decide,
    effective,
    wrap_up_ends,
)

OFF, AVAIL, RING, TALK, WRAP = (
    AgentState.OFFLINE,
    AgentState.AVAILABLE,
    AgentState.RINGING,
    AgentState.ON_CALL,
    AgentState.WRAP_UP,
)
AGENT, HOTLINE, TWILIO, CLOCK = Cause.AGENT, Cause.HOTLINE, Cause.TWILIO, Cause.CLOCK

# Every allowed change and who may make it; any other (from, to, cause) is refused.
ALLOWED = {
    (OFF, AVAIL, AGENT),  # log in
    (AVAIL, OFF, AGENT),  # log off
    (AVAIL, RING, HOTLINE),  # the hotline rings the agent for a caller it claimed
    (RING, TALK, TWILIO),  # the agent answered
    (RING, AVAIL, TWILIO),  # not answered, busy
    (RING, AVAIL, HOTLINE),  # the caller hung up before the agent answered
    (TALK, WRAP, TWILIO),  # the call ended
    (TALK, WRAP, HOTLINE),  # the agent handed the caller on
    (WRAP, AVAIL, AGENT),  # ready
    (WRAP, AVAIL, CLOCK),  # wrap-up time over
    (WRAP, OFF, AGENT),  # log off after a call
}
EVERY_CASE = [
    (current, wanted, cause)
    for current, wanted in itertools.product(AgentState, AgentState)
    if current is not wanted
    for cause in Cause
]


def test_the_table_is_the_rules() -> None:
    assert {(a, b, c) for (a, b), causes in TRANSITIONS.items() for c in causes} == ALLOWED


@pytest.mark.parametrize(("current", "wanted", "cause"), EVERY_CASE)
def test_every_change_is_allowed_only_to_its_causes(
    current: AgentState, wanted: AgentState, cause: Cause
) -> None:
    decision = decide(current, wanted, cause)
    if (current, wanted, cause) in ALLOWED:
        assert (decision.verdict, decision.reason) == (Verdict.CHANGE, "")
    else:
        assert decision.verdict is Verdict.REFUSED
        assert str(current) in decision.reason and str(wanted) in decision.reason


@pytest.mark.parametrize("state", list(AgentState))
@pytest.mark.parametrize("cause", list(Cause))
def test_asking_for_the_state_one_is_in_changes_nothing(state: AgentState, cause: Cause) -> None:
    assert decide(state, state, cause).verdict is Verdict.UNCHANGED


@pytest.mark.parametrize(
    ("current", "wanted", "cause", "reason"),
    [
        (
            AVAIL,
            TALK,
            AGENT,
            "an agent who is available cannot become on_call; from available: "
            "offline (by the agent), ringing (by the hotline)",
        ),
        (
            TALK,
            OFF,
            AGENT,
            "an agent who is on_call cannot become offline; from on_call: "
            "wrap_up (by the hotline or Twilio's callbacks)",
        ),
        (
            AVAIL,
            RING,
            AGENT,
            "available -> ringing is made by the hotline, not by the agent",
        ),
        (
            RING,
            TALK,
            HOTLINE,
            "ringing -> on_call is made by Twilio's callbacks, not by the hotline",
        ),
    ],
)
def test_refusals_say_what_is_possible(
    current: AgentState, wanted: AgentState, cause: Cause, reason: str
) -> None:
    assert decide(current, wanted, cause).reason == reason


T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "seconds_later", "wrap_up_seconds", "expected"),
    [
        (WRAP, 59, 60, (WRAP, T0)),
        (WRAP, 60, 60, (AVAIL, T0 + timedelta(seconds=60))),  # over at the second it ends
        (WRAP, 3600, 60, (AVAIL, T0 + timedelta(seconds=60))),  # since: when it ended
        (WRAP, 86400, 0, (WRAP, T0)),  # 0: until the agent is ready
        (TALK, 3600, 60, (TALK, T0)),  # only wrap-up ends by itself
        (AVAIL, 3600, 60, (AVAIL, T0)),
    ],
)
def test_wrap_up_ends_after_its_seconds(
    state: AgentState,
    seconds_later: int,
    wrap_up_seconds: int,
    expected: tuple[AgentState, datetime],
) -> None:
    now = T0 + timedelta(seconds=seconds_later)
    assert effective(state, T0, now, wrap_up_seconds) == expected


def test_wrap_up_ends_at() -> None:
    assert wrap_up_ends(T0, 45) == T0 + timedelta(seconds=45)
    assert wrap_up_ends(T0, 0) is None
