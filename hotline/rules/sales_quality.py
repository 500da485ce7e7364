"""A seller's sales quality from the Message Center's message times: pure, no store, no clock.

What the two figures mean (the README says the same to the operator):

- the 24 h mark of a thread (or Discussion) is its buyer's first message plus exactly 24 hours
  of real time (in UTC, so a DST change moves no mark);
- a response is a message by the seller or the warehouse (whoever is assigned: both count for the
  seller); a forward's note and the hotline's system messages are never responses, and a forward
  does not reset the clock;
- timely responses over a window ``[from, to)``: of the threads whose buyer's first message is in
  the window, the first response after that message is timely before the mark (23:59:59 after it)
  and late at or after the mark (24:00:00); a thread with no response yet is late once ``now`` has
  reached the mark and pending (not counted) before. ``timely / (timely + late)``;
- average response time: every buyer message sent in ``[from, to)`` (two in a row both await the
  same response) to the first response after it, in seconds; a buyer message with no response
  after it yet is left out.

A figure with nothing to take it over is ``None``, not 0. Messages are taken as given (the store
holds those up to now); ``now`` only tells a pending thread from a late one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ROLES = ("buyer", "seller", "warehouse", "system")
RESPONDERS = frozenset({"seller", "warehouse"})
MESSAGE_KINDS = ("message", "note")
PARTIES = ("seller", "warehouse")
THREAD_KINDS = ("message", "discussion")


@dataclass(frozen=True)
class ThreadMessage:
    """One message of a thread, as far as the figures need it."""

    role: str  # buyer, seller, warehouse, system
    at: datetime  # aware
    kind: str = "message"  # or "note" (a forward's)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown author role {self.role!r}: expected one of {ROLES}")
        if self.kind not in MESSAGE_KINDS:
            raise ValueError(f"unknown message kind {self.kind!r}: expected one of {MESSAGE_KINDS}")
        _aware(self.at, "a message's time")

    @property
    def is_response(self) -> bool:
        """A message by the seller or the warehouse to the buyer (a note is not one)."""
        return self.role in RESPONDERS and self.kind == "message"

    @property
    def awaits_response(self) -> bool:
        """A buyer's message."""
        return self.role == "buyer" and self.kind == "message"


@dataclass(frozen=True)
class Thread:
    """A thread or Discussion: whose order (``None``: a combined order's delivery Discussion,
    no seller's), who is assigned now, and its messages."""

    seller_id: str | None
    assigned: str  # seller or warehouse
    messages: tuple[ThreadMessage, ...]
    kind: str = "message"  # or "discussion"

    def __post_init__(self) -> None:
        if self.assigned not in PARTIES:
            raise ValueError(f"unknown party {self.assigned!r}: expected one of {PARTIES}")
        if self.kind not in THREAD_KINDS:
            raise ValueError(f"unknown thread kind {self.kind!r}: expected one of {THREAD_KINDS}")

    def in_time_order(self) -> list[ThreadMessage]:
        """The messages by their instant; messages of the same instant keep the thread's order."""
        return sorted(self.messages, key=lambda m: m.at.astimezone(UTC))


@dataclass(frozen=True)
class Window:
    """``[start, end)``: the instants the figures look at."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _aware(self.start, "the window's start")
        _aware(self.end, "the window's end")

    def holds(self, instant: datetime) -> bool:
        """Whether ``instant`` is in the window (its start included, its end not)."""
        return self.start.astimezone(UTC) <= instant.astimezone(UTC) < self.end.astimezone(UTC)


@dataclass(frozen=True)
class SalesQuality:
    """The figures of some threads over one window."""

    timely: int
    late: int
    pending: int  # unanswered, before the 24 h mark: not counted
    responses: int  # how many response times the average is taken over
    response_seconds: float  # their sum

    @property
    def threads(self) -> int:
        """The threads counted: timely or late."""
        return self.timely + self.late

    @property
    def timely_responses(self) -> float | None:
        """The share of counted threads answered before their 24 h mark."""
        return None if self.threads == 0 else self.timely / self.threads

    @property
    def average_response_time_s(self) -> float | None:
        """Seconds from a buyer's message to the first response after it, on average."""
        return None if self.responses == 0 else self.response_seconds / self.responses

    def as_dict(self) -> dict[str, float | int | None]:
        """The figures under the API's JSON keys."""
        return {
            "timely_responses": self.timely_responses,
            "average_response_time_s": self.average_response_time_s,
            "threads": self.threads,
            "timely": self.timely,
            "late": self.late,
            "pending": self.pending,
            "responses": self.responses,
        }


@dataclass(frozen=True)
class SalesQualityReport:
    """The figures of each seller (those with a thread) and of the warehouse alone."""

    sellers: dict[str, SalesQuality]
    warehouse: SalesQuality


def response_mark(first_buyer_message: datetime, response_hours: int = 24) -> datetime:
    """The instant a response is due by: ``response_hours`` of real time later, in UTC."""
    return first_buyer_message.astimezone(UTC) + timedelta(hours=response_hours)


def window_ending(now: datetime, days: int) -> Window:
    """The last ``days`` times 24 hours up to ``now`` (the figures' default window)."""
    return Window(now - timedelta(days=days), now)


def sales_quality(
    threads: Iterable[Thread], window: Window, now: datetime, response_hours: int = 24
) -> SalesQuality:
    """The figures of these threads (already chosen: one seller's, or the warehouse's)."""
    _aware(now, "now")
    timely = late = pending = responses = 0
    seconds = 0.0
    for thread in threads:
        messages = thread.in_time_order()
        verdict = _first_response_verdict(messages, window, now, response_hours)
        timely += verdict == "timely"
        late += verdict == "late"
        pending += verdict == "pending"
        for waited in _response_times(messages, window):
            responses += 1
            seconds += waited
    return SalesQuality(timely, late, pending, responses, seconds)


def _response_times(messages: Sequence[ThreadMessage], window: Window) -> list[float]:
    """Seconds from each buyer message sent in the window to the first response after it
    (``messages`` in time order; a buyer message not answered yet gives none)."""
    times: list[float] = []
    awaiting: list[datetime] = []
    for message in messages:
        if message.awaits_response and window.holds(message.at):
            awaiting.append(message.at)
        elif message.is_response:
            times.extend(_seconds(asked, message.at) for asked in awaiting)
            awaiting = []
    return times


def for_seller(
    threads: Iterable[Thread],
    seller_id: str,
    window: Window,
    now: datetime,
    response_hours: int = 24,
) -> SalesQuality:
    """The figures of one seller's orders' threads, whoever is assigned to them now."""
    mine = (t for t in threads if t.seller_id == seller_id)
    return sales_quality(mine, window, now, response_hours)


def for_warehouse(
    threads: Iterable[Thread], window: Window, now: datetime, response_hours: int = 24
) -> SalesQuality:
    """The figures of the threads assigned to the warehouse now (any seller's, or none's)."""
    its = (t for t in threads if t.assigned == "warehouse")
    return sales_quality(its, window, now, response_hours)


def sales_quality_report(
    threads: Sequence[Thread], window: Window, now: datetime, response_hours: int = 24
) -> SalesQualityReport:
    """Each seller's figures (sellers in id order) and the warehouse's alone."""
    sellers = sorted({t.seller_id for t in threads if t.seller_id is not None})
    return SalesQualityReport(
        sellers={s: for_seller(threads, s, window, now, response_hours) for s in sellers},
        warehouse=for_warehouse(threads, window, now, response_hours),
    )


def _first_response_verdict(
    messages: Sequence[ThreadMessage], window: Window, now: datetime, response_hours: int
) -> str | None:
    """timely, late or pending; ``None`` when the buyer's first message is not in the window."""
    asked = next((i for i, m in enumerate(messages) if m.awaits_response), None)
    if asked is None or not window.holds(messages[asked].at):
        return None
    mark = response_mark(messages[asked].at, response_hours)
    response = next((m for m in messages[asked + 1 :] if m.is_response), None)
    if response is None:
        return "late" if now.astimezone(UTC) >= mark else "pending"
    return "timely" if response.at.astimezone(UTC) < mark else "late"


def _seconds(since: datetime, until: datetime) -> float:
    # In UTC: two datetimes of one tzinfo subtract by their wall clocks, wrong across DST.
    return (until.astimezone(UTC) - since.astimezone(UTC)).total_seconds()


def _aware(instant: datetime, what: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must carry its timezone (got {instant.isoformat()})")
