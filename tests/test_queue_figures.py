"""The queue figures from plain records: a table of cases for each figure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.rules.local_periods import day_start
from hotline.rules.queue_figures import (
    QueuedCall,
    QueueFigures,
    TransferMade,
    queue_figures,
    queue_report,
)

WARSAW = ZoneInfo("Europe/Warsaw")
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Warsaw
LEVEL = 30


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def answered(
    wait: float, talk: float | None = None, entered: float = 0, **more: object
) -> QueuedCall:
    """A caller entering at ``entered`` s, answered ``wait`` s later, ending ``talk`` s after."""
    ended = None if talk is None else _at(entered + wait + talk)
    return QueuedCall(
        f"CA{entered}-{wait}",
        _at(entered),
        "taken",
        answered_at=_at(entered + wait),
        result="redirected",
        ended_at=ended,
        **more,  # type: ignore[arg-type]
    )


def left(result: str, entered: float = 0) -> QueuedCall:
    return QueuedCall(f"CA{entered}", _at(entered), "left", result=result)


def waiting(entered: float = 0, status: str = "waiting") -> QueuedCall:
    return QueuedCall(f"CA{entered}", _at(entered), status)


def _figures(calls: list[QueuedCall], transfers: list[TransferMade] | None = None) -> QueueFigures:
    return queue_figures(calls, transfers or [], LEVEL)


COUNTS = ("offered", "answered", "abandoned", "left_otherwise", "waiting")


@pytest.mark.parametrize(
    ("calls", "counts"),
    [
        ([], (0, 0, 0, 0, 0)),
        ([left("hangup"), left("hangup", 5)], (2, 0, 2, 0, 0)),  # all abandoned
        ([answered(10), left("hangup"), waiting()], (3, 1, 1, 0, 1)),
        ([waiting(status="ringing")], (1, 0, 0, 0, 1)),  # an agent is being rung: still waiting
        # Left without an agent for other reasons than hanging up: not abandoned.
        ([left("leave"), left("queue-full"), left("error"), left("redirected")], (4, 0, 0, 4, 0)),
        # Put back after an agent talked with them: still one answered call.
        ([QueuedCall("CA1", T0, "waiting", answered_at=_at(5))], (1, 1, 0, 0, 0)),
        ([QueuedCall("CA1", T0, "left", answered_at=_at(5), result="hangup")], (1, 1, 0, 0, 0)),
    ],
)
def test_offered_answered_abandoned_left_waiting(
    calls: list[QueuedCall], counts: tuple[int, ...]
) -> None:
    figures = _figures(calls)
    assert tuple(getattr(figures, name) for name in COUNTS) == counts
    assert figures.offered == sum(counts[1:])


@pytest.mark.parametrize(
    ("calls", "level", "in_level"),
    [
        ([], None, 0),
        ([answered(30)], 1.0, 1),  # exactly at the service level: within it
        ([answered(30.001)], 0.0, 0),
        ([answered(29), answered(31)], 0.5, 1),
        ([answered(5), left("hangup")], 0.5, 1),  # over offered calls, abandoned ones included
        ([left("hangup"), left("hangup")], 0.0, 0),
        ([answered(5), waiting()], 0.5, 1),
    ],
)
def test_service_level(calls: list[QueuedCall], level: float | None, in_level: int) -> None:
    figures = _figures(calls)
    assert (figures.service_level, figures.answered_in_service_level) == (level, in_level)


@pytest.mark.parametrize(
    ("calls", "rate"),
    [
        ([], None),
        ([left("hangup")], 1.0),
        ([left("hangup"), answered(3), left("leave"), waiting()], 0.25),
        ([answered(3)], 0.0),
    ],
)
def test_abandonment_rate(calls: list[QueuedCall], rate: float | None) -> None:
    assert _figures(calls).abandonment_rate == rate


@pytest.mark.parametrize(
    ("calls", "asa"),
    [
        ([], None),
        ([left("hangup")], None),  # nobody answered: no average
        ([answered(10), answered(20)], 15.0),
        ([answered(0)], 0.0),
        ([answered(10), left("hangup"), waiting()], 10.0),  # over the answered only
    ],
)
def test_average_speed_of_answer(calls: list[QueuedCall], asa: float | None) -> None:
    assert _figures(calls).average_speed_of_answer == asa


@pytest.mark.parametrize(
    ("calls", "handled", "aht"),
    [
        ([], 0, None),
        ([answered(10, talk=100), answered(5, talk=200)], 2, 150.0),
        ([answered(10, talk=100), answered(5)], 1, 100.0),  # still talking: left out
        # A cold, queue or thread transfer ends the agent's handling before the call ends.
        ([answered(10, talk=300, let_go_at=_at(70))], 1, 60.0),
        ([answered(10, let_go_at=_at(40))], 1, 30.0),
        # An end recorded before the answer is not this handling's end.
        ([answered(10, talk=50, let_go_at=_at(1))], 1, 50.0),
        # The conference with the agent ended (the Dial action): known without a status
        # callback, and before the call's end (the caller still hears goodbye).
        ([answered(10, talk_ended_at=_at(130))], 1, 120.0),
        ([answered(10, talk=125, talk_ended_at=_at(130))], 1, 120.0),
        ([answered(10, talk=300, talk_ended_at=_at(400), let_go_at=_at(70))], 1, 60.0),
        ([left("hangup")], 0, None),
    ],
)
def test_average_handle_time(calls: list[QueuedCall], handled: int, aht: float | None) -> None:
    figures = _figures(calls)
    assert (figures.handled, figures.average_handle_time) == (handled, aht)


def _kind(figures: QueueFigures, kind: str) -> tuple[int, int, int, float | None, dict[str, int]]:
    [found] = [t for t in figures.transfers if t.kind == kind]
    return found.made, found.decided, found.succeeded, found.success_rate, found.outcomes


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], (0, 0, 0, None, {})),
        ([None, None], (2, 0, 0, None, {})),  # no outcome yet: not counted either way
        (["accepted", "busy", None], (3, 2, 1, 0.5, {"accepted": 1, "busy": 1})),
        (["accepted", "accepted"], (2, 2, 2, 1.0, {"accepted": 2})),
        (["pending", "accepted"], (2, 1, 1, 1.0, {"accepted": 1})),  # pending: no outcome yet
        (
            ["no-answer", "declined", "closed"],
            (3, 3, 0, 0.0, {"closed": 1, "declined": 1, "no-answer": 1}),
        ),
    ],
)
def test_warm_transfers_and_their_success(
    outcomes: list[str | None], expected: tuple[object, ...]
) -> None:
    transfers = [TransferMade(T0, "warm", outcome) for outcome in outcomes]
    assert _kind(_figures([], transfers), "warm") == expected


# A transfer back to the queue succeeds when an agent takes the caller again; the outcome
# stored as the agent makes it (``requeued``) says only that the caller is back in line.
@pytest.mark.parametrize(
    ("outcome", "taken_again_at", "left_queue", "result"),
    [
        ("requeued", _at(100), None, "taken"),
        ("requeued", None, None, None),  # still in line, or being rung for: not known yet
        ("requeued", None, "hangup", "abandoned"),
        ("requeued", None, "leave", "left"),
        ("requeued", None, "error", "left"),
        ("failed", None, None, "failed"),  # Twilio refused to move the caller
        ("pending", None, None, None),
        (None, None, None, None),
    ],
)
def test_a_queue_transfer_s_result(
    outcome: str | None, taken_again_at: datetime | None, left_queue: str | None, result: str | None
) -> None:
    made = TransferMade(T0, "queue", outcome, taken_again_at, left_queue)
    assert made.result() == result
    figures = _figures([], [made])
    succeeded = 1 if result == "taken" else 0
    assert _kind(figures, "queue")[1:3] == (0 if result is None else 1, succeeded)


def test_every_kind_is_listed_and_counted_apart() -> None:
    transfers = [
        TransferMade(T0, "cold", "accepted"),
        TransferMade(T0, "queue", "requeued", taken_again_at=_at(10)),
        TransferMade(T0, "queue", "requeued", left_queue="hangup"),
        TransferMade(T0, "thread", "thread_opened"),
        TransferMade(T0, "thread", None),
        TransferMade(T0, "conference", "completed"),  # a kind of tomorrow: listed after the four
    ]
    figures = _figures([], transfers)
    assert [t.kind for t in figures.transfers] == ["warm", "cold", "queue", "thread", "conference"]
    assert _kind(figures, "warm") == (0, 0, 0, None, {})
    assert _kind(figures, "cold") == (1, 1, 1, 1.0, {"accepted": 1})
    assert _kind(figures, "queue") == (2, 2, 1, 0.5, {"abandoned": 1, "taken": 1})
    assert _kind(figures, "thread")[:4] == (1 + 1, 1, 1, 1.0)
    # Only the outcomes the rules know as success count as one (a kind unknown to them: none).
    assert _kind(figures, "conference")[:4] == (1, 1, 0, 0.0)


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WARSAW).astimezone(UTC)


def _caller(entered: str, wait: float = 10) -> QueuedCall:
    at = _local(entered)
    return QueuedCall(entered, at, "taken", answered_at=at + timedelta(seconds=wait))


def test_calls_across_midnight_count_on_the_day_and_hour_they_entered() -> None:
    calls = [_caller("2026-11-26T23:59:50", wait=40), _caller("2026-11-27T00:00:00")]
    start = day_start(date(2026, 11, 26), WARSAW)
    report = queue_report(calls, [], start, start + timedelta(days=2), WARSAW, LEVEL)
    assert [(d.period.start.day, d.figures.offered, d.figures.answered) for d in report.days] == [
        (26, 1, 1),
        (27, 1, 1),
    ]
    assert [d.figures.service_level for d in report.days] == [0.0, 1.0]
    busy = [
        (f"{h.period.start:%d %H}", h.figures.offered) for h in report.hours if h.figures.offered
    ]
    assert busy == [("26 23", 1), ("27 00", 1)]
    assert len(report.hours) == 48
    assert report.total.offered == 2 and report.total.service_level == 0.5


def test_the_night_clocks_go_back_has_two_0200_hours_and_a_25_hour_day() -> None:
    first_two = _local("2026-10-25T02:30")  # +02:00 (fold 0): 00:30 UTC
    second_two = first_two + timedelta(hours=1)  # 02:30 again, +01:00: 01:30 UTC
    calls = [
        QueuedCall("CA1", first_two, "left", result="hangup"),
        QueuedCall("CA2", second_two, "taken", answered_at=second_two + timedelta(seconds=20)),
        QueuedCall("CA3", second_two, "taken", answered_at=second_two + timedelta(seconds=40)),
    ]
    transfers = [TransferMade(second_two + timedelta(minutes=5), "warm", "accepted")]
    start = day_start(date(2026, 10, 25), WARSAW)
    end = day_start(date(2026, 10, 26), WARSAW)
    report = queue_report(calls, transfers, start, end, WARSAW, LEVEL)
    [day] = report.days
    assert day.period.seconds == 25 * 3600 and len(report.hours) == 25
    twos = [h for h in report.hours if h.period.start.hour == 2]
    assert [h.period.start.isoformat() for h in twos] == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
    ]
    assert [(h.figures.offered, h.figures.abandoned, h.figures.answered) for h in twos] == [
        (1, 1, 0),
        (2, 0, 2),
    ]
    assert twos[1].figures.average_speed_of_answer == 30.0
    assert [t.made for t in twos[1].figures.transfers] == [1, 0, 0, 0]
    assert day.figures.offered == 3 and day.figures.abandonment_rate == pytest.approx(1 / 3)


def test_a_call_answered_across_the_dst_change_waited_its_real_time() -> None:
    # Entered 02:50 +02:00, answered 02:10 +01:00: twenty minutes later, not forty earlier.
    entered = _local("2026-10-25T02:50").astimezone(WARSAW)
    answer = (entered.astimezone(UTC) + timedelta(minutes=20)).astimezone(WARSAW)
    assert (answer.strftime("%H:%M"), answer.fold) == ("02:10", 1)
    figures = queue_figures([QueuedCall("CA1", entered, "taken", answered_at=answer)], [], LEVEL)
    assert figures.average_speed_of_answer == 1200.0


def test_the_spring_day_has_23_hours_and_records_outside_the_span_are_left_out() -> None:
    start = day_start(date(2026, 3, 29), WARSAW)
    end = day_start(date(2026, 3, 30), WARSAW)
    calls = [
        _caller("2026-03-29T01:59"),
        _caller("2026-03-29T03:00"),
        QueuedCall("before", start - timedelta(seconds=1), "left", result="hangup"),
        QueuedCall("after", end, "left", result="hangup"),
    ]
    report = queue_report(
        calls, [TransferMade(end, "cold", "connected")], start, end, WARSAW, LEVEL
    )
    assert len(report.hours) == 23
    assert [h.period.start.hour for h in report.hours][:4] == [0, 1, 3, 4]
    assert report.total.offered == 2 and report.total.abandoned == 0
    assert sum(t.made for t in report.total.transfers) == 0


def test_a_span_with_no_calls_has_every_hour_and_no_rates() -> None:
    start = day_start(date(2026, 11, 26), WARSAW)
    report = queue_report([], [], start, start + timedelta(days=1), WARSAW, LEVEL)
    assert len(report.hours) == 24 and len(report.days) == 1
    total = report.total
    assert (total.offered, total.service_level, total.abandonment_rate) == (0, None, None)
    assert (total.average_speed_of_answer, total.average_handle_time) == (None, None)
