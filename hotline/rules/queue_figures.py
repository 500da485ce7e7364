"""The agents' queue figures from plain records of calls and transfers: pure, no store, no clock.

What each figure means (the README says the same to the operator):

- offered: callers who first entered the queue in the period (a caller put back, or entering
  again, is still one call, counted where it first entered);
- answered: of those, the ones an agent talked with; abandoned: the ones who hung up before an
  agent did (Twilio's ``QueueResult`` ``hangup``); left otherwise: the rest who left unanswered
  (the queue full, an error, taken out by ``<Leave>`` or the REST API); waiting: still in line;
- average speed of answer: from the first entry to the first agent's answer, over the answered;
- service level: the share of offered calls answered within ``service_level_seconds`` (a call
  answered at exactly that many seconds is within it); abandonment rate: abandoned / offered;
- average handle time: from the first agent's answer to the end of the agents' handling, the
  earliest of the call's end (Twilio's status callback), the end of the caller's conference with
  the agent (Twilio's ``<Dial>`` action on the caller's call, ``/voice/agent/after``: the agent or
  the caller hung up) and the agent letting the caller go by a cold, back-to-the-queue or thread
  transfer; calls whose end is not known yet are left out (``handled`` counts those it is taken
  over). Wrap-up is not part of it;
- transfers, by kind, counted in the period they were made: how many, how many have an outcome
  yet, how many of those succeeded (``SUCCEEDED``), the success rate over those with an outcome.
  A transfer back to the queue is judged by what became of the caller after it
  (``TransferMade.result``): taken again by an agent, it succeeded (``taken``); gone from the
  queue unanswered, it failed (``abandoned`` when they hung up, else ``left``); still in line,
  it has no outcome yet. Twilio refusing to move the caller is ``failed``, as for any kind.

A rate or an average with nothing to take it over is ``None``, not 0.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TypeVar

from hotline.rules.local_periods import Period, local_days, local_hours

TRANSFER_KINDS = ("warm", "cold", "queue", "thread")
# The transfers after which the agent is no longer on the call (warm: they stay to introduce).
LETTING_GO = frozenset({"cold", "queue", "thread"})
# A transfer's outcomes that count as its success: the seller took the call (warm, cold), the
# caller was taken again from the queue (``TransferMade.result``), the thread was opened. Any
# other outcome is a failure (its name says why: busy, no-answer, declined, abandoned...); no
# outcome yet (none, or ``pending``): not counted either way.
SUCCEEDED = frozenset({"accepted", "taken", "thread_opened"})
PENDING = "pending"
# What the store records for a caller put back in the queue, until the rules judge it.
REQUEUED = "requeued"
# Twilio's QueueResult for a caller who hung up while waiting.
HANGUP = "hangup"
_Record = TypeVar("_Record")


@dataclass(frozen=True)
class QueuedCall:
    """One caller's stay in the queue, as the store has it."""

    call_sid: str
    first_entered_at: datetime
    status: str  # waiting, ringing, taken, left
    answered_at: datetime | None = None
    result: str | None = None  # Twilio's QueueResult, the latest
    ended_at: datetime | None = None  # the call's end (status callback), when known
    let_go_at: datetime | None = None  # the first cold/queue/thread transfer of the call
    talk_ended_at: datetime | None = None  # the caller's first agent conference ended

    def handled_until(self) -> datetime | None:
        """When the agents' handling ended: the call's end, the conference's, or the agent
        letting go, whichever came first, if any is known."""
        if self.answered_at is None:
            return None
        answered = self.answered_at.astimezone(UTC)
        known = (self.ended_at, self.talk_ended_at, self.let_go_at)
        ends = [t.astimezone(UTC) for t in known if t is not None]
        return min((t for t in ends if t >= answered), default=None)


@dataclass(frozen=True)
class TransferMade:
    """One transfer, as the store has it."""

    at: datetime
    kind: str
    outcome: str | None = None  # as stored
    # A transfer back to the queue: when an agent's conference next took the caller in, and
    # Twilio's QueueResult if the caller left the queue afterwards without that.
    taken_again_at: datetime | None = None
    left_queue: str | None = None

    def result(self) -> str | None:
        """What the transfer came to, for the figures (``None``: not known yet)."""
        if self.outcome is None or self.outcome == PENDING:
            return None
        if self.kind != "queue" or self.outcome != REQUEUED:
            return self.outcome
        if self.taken_again_at is not None:
            return "taken"
        if self.left_queue is not None:
            return "abandoned" if self.left_queue == HANGUP else "left"
        return None  # still in line (or being rung for)


@dataclass(frozen=True)
class TransferFigures:
    """One kind of transfer's figures."""

    kind: str
    made: int
    decided: int  # with an outcome
    succeeded: int
    outcomes: dict[str, int]

    @property
    def success_rate(self) -> float | None:
        """Succeeded over those with an outcome."""
        return _ratio(self.succeeded, self.decided)


@dataclass(frozen=True)
class QueueFigures:
    """The figures of one period (or of the whole span)."""

    offered: int
    answered: int
    abandoned: int
    left_otherwise: int
    waiting: int
    answered_in_service_level: int
    speed_of_answer_seconds: float  # the sum, over the answered
    handled: int
    handle_seconds: float  # the sum, over the handled
    transfers: tuple[TransferFigures, ...]

    @property
    def average_speed_of_answer(self) -> float | None:
        """Seconds from first entry to answer, on average."""
        return _ratio(self.speed_of_answer_seconds, self.answered)

    @property
    def service_level(self) -> float | None:
        """The share of offered calls answered within the service level."""
        return _ratio(self.answered_in_service_level, self.offered)

    @property
    def abandonment_rate(self) -> float | None:
        """The share of offered calls abandoned."""
        return _ratio(self.abandoned, self.offered)

    @property
    def average_handle_time(self) -> float | None:
        """Seconds from answer to the end of the agents' handling, on average."""
        return _ratio(self.handle_seconds, self.handled)


@dataclass(frozen=True)
class PeriodFigures:
    """A local day or hour with its figures."""

    period: Period
    figures: QueueFigures


@dataclass(frozen=True)
class QueueReport:
    """The figures over ``[start, end)``: in all, per local day, per local hour."""

    start: datetime
    end: datetime
    service_level_seconds: int
    total: QueueFigures
    days: tuple[PeriodFigures, ...]
    hours: tuple[PeriodFigures, ...]


def queue_figures(
    calls: Iterable[QueuedCall], transfers: Iterable[TransferMade], service_level_seconds: int
) -> QueueFigures:
    """The figures of these calls and transfers (already chosen for one period)."""
    offered = answered = abandoned = left_otherwise = waiting = in_level = handled = 0
    speed = handle = 0.0
    for call in calls:
        offered += 1
        if call.answered_at is not None:
            answered += 1
            waited = _seconds(call.first_entered_at, call.answered_at)
            speed += waited
            in_level += waited <= service_level_seconds
            until = call.handled_until()
            if until is not None:
                handled += 1
                handle += _seconds(call.answered_at, until)
        elif call.status == "left":
            if call.result == HANGUP:
                abandoned += 1
            else:
                left_otherwise += 1
        else:
            waiting += 1
    return QueueFigures(
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        left_otherwise=left_otherwise,
        waiting=waiting,
        answered_in_service_level=in_level,
        speed_of_answer_seconds=speed,
        handled=handled,
        handle_seconds=handle,
        transfers=transfer_figures(transfers),
    )


def transfer_figures(transfers: Iterable[TransferMade]) -> tuple[TransferFigures, ...]:
    """Per kind (the four always, any other kind seen after them): made, decided, succeeded."""
    by_kind: dict[str, list[TransferMade]] = {kind: [] for kind in TRANSFER_KINDS}
    for transfer in transfers:
        by_kind.setdefault(transfer.kind, []).append(transfer)
    figures = []
    for kind, made in by_kind.items():
        outcomes = Counter(r for r in (t.result() for t in made) if r is not None)
        figures.append(
            TransferFigures(
                kind=kind,
                made=len(made),
                decided=sum(outcomes.values()),
                succeeded=sum(n for outcome, n in outcomes.items() if outcome in SUCCEEDED),
                outcomes=dict(sorted(outcomes.items())),
            )
        )
    return tuple(figures)


def queue_report(
    calls: Sequence[QueuedCall],
    transfers: Sequence[TransferMade],
    start: datetime,
    end: datetime,
    tz: tzinfo,
    service_level_seconds: int,
) -> QueueReport:
    """The figures over ``[start, end)`` in all, per local day and per local hour of ``tz``.

    A call belongs to the period it first entered the queue in, a transfer to the one it was
    made in; records outside ``[start, end)`` are left out.
    """
    hours = local_hours(start, end, tz)
    days = local_days(hours)
    calls_in = _by_hour(hours, calls, lambda c: c.first_entered_at)
    transfers_in = _by_hour(hours, transfers, lambda t: t.at)

    def of(indexes: range) -> QueueFigures:
        return queue_figures(
            (c for i in indexes for c in calls_in[i]),
            (t for i in indexes for t in transfers_in[i]),
            service_level_seconds,
        )

    day_figures = []
    first = 0
    for day in days:
        last = first
        while last < len(hours) and hours[last].end_utc <= day.end_utc:
            last += 1
        day_figures.append(PeriodFigures(day, of(range(first, last))))
        first = last
    return QueueReport(
        start=start.astimezone(tz),
        end=end.astimezone(tz),
        service_level_seconds=service_level_seconds,
        total=of(range(len(hours))),
        days=tuple(day_figures),
        hours=tuple(PeriodFigures(p, of(range(i, i + 1))) for i, p in enumerate(hours)),
    )


def _by_hour(
    hours: Sequence[Period], records: Iterable[_Record], when: Callable[[_Record], datetime]
) -> list[list[_Record]]:
    """``records`` sorted into ``hours`` (those outside them left out)."""
    starts = [hour.start_utc for hour in hours]
    found: list[list[_Record]] = [[] for _ in hours]
    for record in records:
        instant = when(record)
        i = bisect_right(starts, instant) - 1
        if i >= 0 and hours[i].holds(instant):
            found[i].append(record)
    return found


def _seconds(since: datetime, until: datetime) -> float:
    # In UTC: two datetimes of one timezone subtract by their wall clocks, wrong across DST.
    return (until.astimezone(UTC) - since.astimezone(UTC)).total_seconds()


def _ratio(part: float, whole: int) -> float | None:
    return None if whole == 0 else part / whole
