"""Agents' wrap-ups ended at their time (the job ``wrap_up``): the change to available written
to the agent's row and event log, as reading the agent already shows it (``agents.presence``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hotline.agents.presence import end_wrap_ups, next_wrap_up_end
from hotline.jobs.context import JobContext


@dataclass
class WrapUpReport:
    """The agents whose wrap-up one run ended."""

    ended: list[str] = field(default_factory=list)


def end_wrap_ups_due(context: JobContext, now: datetime) -> WrapUpReport:
    """End every wrap-up that is over at ``now``; an agent who moved on meanwhile is left alone."""
    seconds = context.settings.wrap_up_seconds
    return WrapUpReport(end_wrap_ups(context.store, now, seconds))


def next_wrap_up(context: JobContext, now: datetime) -> datetime | None:
    """When the earliest wrap-up ends (``now`` when one is over already; ``None``: none)."""
    ends = next_wrap_up_end(context.store, context.settings.wrap_up_seconds)
    return None if ends is None else max(now, ends)
