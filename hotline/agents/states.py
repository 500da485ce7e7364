"""An agent's states and the rules between them (pure: plain values and ``now`` in, decisions out).

An agent logs in (offline -> available); the hotline rings them for a caller it claimed for them
(available -> ringing); they answer (-> on_call) or not (-> available); the call ends or they hand
the caller on (-> wrap_up); they say they are ready, or the wrap-up time runs out (-> available);
they log off from available or wrap-up (-> offline).

Each change has a cause: the agent's own click (the operator may click for them), the hotline's
doing (it rings the agent for a caller it claimed, or leaves them after a transfer), Twilio's
callbacks about the agent's call (answered, not answered, ended), or the clock (wrap-up over).
Asking for the state one is already in changes nothing (a double click, a retried callback).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType


class AgentState(StrEnum):
    """Where an agent is: logged off, free, being rung for a caller, talking, wrapping up."""

    OFFLINE = "offline"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


class Cause(StrEnum):
    """What may change an agent's state."""

    AGENT = "agent"  # the agent's own click (or the operator's, for them)
    HOTLINE = "hotline"  # it rings them for a caller it claimed; it moves them on after a transfer
    TWILIO = "twilio"  # Twilio's callbacks about the agent's call: answered, not answered, ended
    CLOCK = "clock"  # the wrap-up time is over


TRANSITIONS: Mapping[tuple[AgentState, AgentState], frozenset[Cause]] = MappingProxyType(
    {
        (AgentState.OFFLINE, AgentState.AVAILABLE): frozenset({Cause.AGENT}),
        (AgentState.AVAILABLE, AgentState.OFFLINE): frozenset({Cause.AGENT}),
        (AgentState.AVAILABLE, AgentState.RINGING): frozenset({Cause.HOTLINE}),
        (AgentState.RINGING, AgentState.ON_CALL): frozenset({Cause.TWILIO}),
        # Not answered, busy, or the caller hung up before the agent picked up.
        (AgentState.RINGING, AgentState.AVAILABLE): frozenset({Cause.TWILIO, Cause.HOTLINE}),
        # The call ended, or the agent handed the caller on (cold, to the queue, to a thread).
        (AgentState.ON_CALL, AgentState.WRAP_UP): frozenset({Cause.TWILIO, Cause.HOTLINE}),
        (AgentState.WRAP_UP, AgentState.AVAILABLE): frozenset({Cause.AGENT, Cause.CLOCK}),
        (AgentState.WRAP_UP, AgentState.OFFLINE): frozenset({Cause.AGENT}),
    }
)
_WHO = {
    Cause.AGENT: "the agent",
    Cause.HOTLINE: "the hotline",
    Cause.TWILIO: "Twilio's callbacks",
    Cause.CLOCK: "the end of wrap-up",
}


class Verdict(StrEnum):
    """What a request for a state comes to."""

    CHANGE = "change"
    UNCHANGED = "unchanged"  # already in that state
    REFUSED = "refused"


@dataclass(frozen=True)
class Decision:
    """The verdict on a change, and in words why it is refused (empty otherwise)."""

    verdict: Verdict
    reason: str = ""


def decide(current: AgentState, wanted: AgentState, cause: Cause) -> Decision:
    """Whether ``cause`` may move an agent from ``current`` to ``wanted``."""
    if current is wanted:
        return Decision(Verdict.UNCHANGED)
    allowed = TRANSITIONS.get((current, wanted))
    if allowed is not None and cause in allowed:
        return Decision(Verdict.CHANGE)
    if allowed is not None:
        who = " or ".join(_WHO[c] for c in sorted(allowed))
        return Decision(
            Verdict.REFUSED, f"{current} -> {wanted} is made by {who}, not by {_WHO[cause]}"
        )
    onward = [
        f"{to} (by {' or '.join(_WHO[c] for c in sorted(causes))})"
        for (source, to), causes in TRANSITIONS.items()
        if source is current
    ]
    return Decision(
        Verdict.REFUSED,
        f"an agent who is {current} cannot become {wanted}; from {current}: {', '.join(onward)}",
    )


def wrap_up_ends(since: datetime, wrap_up_seconds: int) -> datetime | None:
    """When a wrap-up begun at ``since`` ends by itself (``None``: only when the agent says so)."""
    if wrap_up_seconds <= 0:
        return None
    return since + timedelta(seconds=wrap_up_seconds)


def effective(
    state: AgentState, since: datetime, now: datetime, wrap_up_seconds: int
) -> tuple[AgentState, datetime]:
    """The state at ``now`` and since when: a wrap-up whose time is over is available again."""
    if state is AgentState.WRAP_UP:
        ends = wrap_up_ends(since, wrap_up_seconds)
        if ends is not None and now >= ends:
            return AgentState.AVAILABLE, ends
    return state, since
