"""Dialled parties: what each number does when it rings, and what a whole ``<Dial>`` comes to.

Behaviours are given per number (or per queue name for ``<Dial><Queue>``) and consumed one per
ring: ``[no-answer, answer]`` means the first Dial to that number goes unanswered, the second is
picked up. A ring with no behaviour left gets the engine's default, a no-answer lasting the whole
Dial timeout, and the transcript says so.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hotline.sim.model import CalleeBehaviour, DialOutcome, QueueBehaviour

_PHONE = re.compile(r"^\+?[\d\s().\-]+$")


def number_key(target: str) -> str:
    """Return the form a number is looked up by: "+48 (22) 123-45-67" and "+48221234567" match."""
    target = target.strip()
    if _PHONE.match(target):
        return ("+" if target.startswith("+") else "") + re.sub(r"\D", "", target)
    return target


@dataclass(frozen=True)
class Ring:
    """One dialled number on one Dial: the behaviour it got and whether the engine chose it."""

    number: str
    behaviour: CalleeBehaviour
    default: bool
    timeout: float

    @property
    def answers(self) -> bool:
        """Whether it picks up before the Dial gives up."""
        return (
            self.behaviour.outcome is DialOutcome.ANSWER
            and self.behaviour.ring_seconds < self.timeout
        )


class CalleeBook:
    """The behaviours still to come for each dialled number or queue, one consumed per ring."""

    def __init__(self, behaviours: Mapping[str, Sequence[CalleeBehaviour]]) -> None:
        self._pending = {number_key(target): deque(seq) for target, seq in behaviours.items()}

    def ring(self, target: str, timeout: float) -> Ring:
        """Return what ``target`` does on this ring (the default: no answer for ``timeout`` s)."""
        pending = self._pending.get(number_key(target))
        if pending:
            return Ring(target, pending.popleft(), False, timeout)
        default = CalleeBehaviour(DialOutcome.NO_ANSWER, ring_seconds=timeout)
        return Ring(target, default, True, timeout)

    def has(self, target: str) -> bool:
        """Whether a behaviour is still scripted for ``target``."""
        return bool(self._pending.get(number_key(target)))

    def unused(self) -> dict[str, int]:
        """Return how many behaviours were never reached, per number (only numbers with some)."""
        return {target: len(left) for target, left in self._pending.items() if left}


def answer_order(rings: Sequence[Ring]) -> list[Ring]:
    """Return the rings that pick up, earliest first (ties keep the Dial's order)."""
    return sorted((ring for ring in rings if ring.answers), key=lambda r: r.behaviour.ring_seconds)


def unbridged(rings: Sequence[Ring], refused: bool) -> tuple[str, float]:
    """Return the DialCallStatus and the seconds the Dial lasted when nobody was bridged.

    A callee who picked up but refused in the whisper made the dialled leg ``completed``
    (``DialBridged=false`` tells it apart); otherwise the Dial ends when the last number gives
    up: no-answer beats busy beats failed.
    """
    timeout = rings[0].timeout if rings else 0.0
    if refused:
        return "completed", 0.0
    outcomes = {ring.behaviour.outcome for ring in rings}
    if DialOutcome.NO_ANSWER in outcomes or DialOutcome.ANSWER in outcomes:
        return "no-answer", timeout
    lasted = min(timeout, max((ring.behaviour.ring_seconds for ring in rings), default=0.0))
    if DialOutcome.BUSY in outcomes:
        return "busy", lasted
    return "failed", lasted


def queue_behaviour(queues: Mapping[str, QueueBehaviour], name: str) -> tuple[QueueBehaviour, bool]:
    """Return what happens in queue ``name`` and whether it is the default (nobody answers)."""
    behaviour = queues.get(name)
    if behaviour is None:
        return QueueBehaviour(), True
    return behaviour, False
