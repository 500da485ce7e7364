"""Sales quality from message times: tables of hand-computed cases, and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.rules.sales_quality import (
    SalesQuality,
    Thread,
    ThreadMessage,
    Window,
    for_seller,
    for_warehouse,
    response_mark,
    sales_quality,
    sales_quality_report,
    window_ending,
)

WARSAW = ZoneInfo("Europe/Warsaw")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # 10:00 in Warsaw, a Monday
DAY = 24 * 3600
EVERYTHING = Window(T0 - timedelta(days=1), T0 + timedelta(days=10))
LATER = 9 * DAY  # a "now" after every message of the tables


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def buyer(t: float) -> ThreadMessage:
    return ThreadMessage("buyer", _at(t))


def seller(t: float) -> ThreadMessage:
    return ThreadMessage("seller", _at(t))


def warehouse(t: float) -> ThreadMessage:
    return ThreadMessage("warehouse", _at(t))


def system(t: float) -> ThreadMessage:
    return ThreadMessage("system", _at(t))


def note(role: str, t: float) -> ThreadMessage:
    """A forward's note (seller to warehouse or back)."""
    return ThreadMessage(role, _at(t), kind="note")


def thread(*messages: ThreadMessage, of: str | None = "acme", assigned: str = "seller") -> Thread:
    return Thread(seller_id=of, assigned=assigned, messages=messages)


def _figures_now(threads: list[Thread], now: float, window: Window = EVERYTHING) -> SalesQuality:
    """The figures as the hotline would take them with the clock at ``now`` s after T0."""
    with freeze_time(_at(now)):
        return sales_quality(threads, window, datetime.now(UTC))


def _counts(figures: SalesQuality) -> tuple[int, int, int]:
    return (figures.timely, figures.late, figures.pending)


TIMELY, LATE, PENDING, NOT_COUNTED = (1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 0, 0)


@pytest.mark.parametrize(
    ("messages", "now", "counts"),
    [
        # The 24 h mark is exact: 23:59:59 after the buyer's first message is timely, 24:00:00 late.
        ([buyer(0), seller(DAY - 1)], LATER, TIMELY),
        ([buyer(0), seller(DAY - 0.001)], LATER, TIMELY),
        ([buyer(0), seller(DAY)], LATER, LATE),
        ([buyer(0), seller(DAY + 1)], LATER, LATE),
        ([buyer(0), seller(0)], LATER, TIMELY),  # the same second, written after it
        # The warehouse's response counts for the seller's thread.
        ([buyer(0), warehouse(DAY - 1)], LATER, TIMELY),
        ([buyer(0), warehouse(DAY)], LATER, LATE),
        # A forward in between: its note is no response, and the clock runs on from the
        # buyer's first message (answered 23:59:59 after the forward is 35:59:59 late).
        ([buyer(0), note("seller", 60), warehouse(DAY - 1)], LATER, TIMELY),
        ([buyer(0), note("seller", 12 * 3600), warehouse(12 * 3600 + DAY - 1)], LATER, LATE),
        # ... forwarded back, then answered by the seller in time.
        (
            [buyer(0), note("seller", 60), note("warehouse", 120), seller(DAY - 1)],
            LATER,
            TIMELY,
        ),
        # Only notes and system messages: unanswered.
        ([buyer(0), note("seller", 60), system(61)], DAY - 1, PENDING),
        ([buyer(0), note("seller", 60), system(61)], DAY, LATE),
        # Unanswered: pending until the mark, late from it on.
        ([buyer(0)], 0, PENDING),
        ([buyer(0)], DAY - 1, PENDING),
        ([buyer(0)], DAY, LATE),
        ([buyer(0)], DAY + 1, LATE),
        # A Discussion opens with the hotline's system message; the buyer's starts the clock.
        ([system(-5), buyer(0), seller(DAY - 1)], LATER, TIMELY),
        # Two buyer messages in a row: the first one starts the clock.
        ([buyer(0), buyer(3600), seller(DAY + 60)], LATER, LATE),
        ([buyer(0), buyer(3600), seller(DAY - 60)], LATER, TIMELY),
        # Only the first response decides; a later one changes nothing.
        (
            [buyer(0), seller(DAY + 5), seller(DAY + 6), buyer(DAY + 7), seller(DAY + 8)],
            LATER,
            LATE,
        ),
        ([buyer(0), seller(10), buyer(DAY + 7)], LATER, TIMELY),
        # A seller's message before the buyer's first one answers nothing.
        ([seller(-10), buyer(0)], LATER, LATE),
        ([seller(-10), buyer(0)], 60, PENDING),
        # No buyer message: nothing awaited a response.
        ([], LATER, NOT_COUNTED),
        ([system(0), seller(5)], LATER, NOT_COUNTED),
        # Messages in any order: taken by their times.
        ([seller(DAY - 1), buyer(0)], LATER, TIMELY),
    ],
)
def test_timely_late_pending(
    messages: list[ThreadMessage], now: float, counts: tuple[int, int, int]
) -> None:
    figures = _figures_now([thread(*messages)], now)
    assert _counts(figures) == counts
    assert figures.threads == counts[0] + counts[1]
    assert figures.timely_responses == (None if figures.threads == 0 else float(counts[0]))


@pytest.mark.parametrize(
    ("messages", "responses", "average"),
    [
        ([], 0, None),
        ([buyer(0)], 0, None),  # not answered yet: not counted
        ([buyer(0), seller(100)], 1, 100.0),
        ([buyer(0), warehouse(100)], 1, 100.0),
        ([buyer(0), seller(2 * DAY)], 1, 2.0 * DAY),  # late responses count with their time
        # Two buyer messages in a row both await the same response: (100 + 40) / 2.
        ([buyer(0), buyer(60), seller(100)], 2, 70.0),
        # Each buyer message to the first response after it: (100 + 300) / 2.
        ([buyer(0), seller(100), buyer(200), warehouse(500)], 2, 200.0),
        # A second response answers nothing new.
        ([buyer(0), seller(100), seller(200)], 1, 100.0),
        ([buyer(0), seller(100), buyer(200)], 1, 100.0),  # the last one still awaits
        # Notes and system messages are no responses; a forward does not restart the clock.
        ([buyer(0), note("seller", 50), warehouse(150)], 1, 150.0),
        ([buyer(0), system(10), seller(30)], 1, 30.0),
        ([buyer(0), note("seller", 50), note("warehouse", 70), seller(90)], 1, 90.0),
        # To the second and below.
        ([buyer(0), seller(0.5)], 1, 0.5),
    ],
)
def test_average_response_time(
    messages: list[ThreadMessage], responses: int, average: float | None
) -> None:
    figures = _figures_now([thread(*messages)], LATER)
    assert (figures.responses, figures.average_response_time_s) == (responses, average)


def test_average_over_several_threads_weighs_each_buyer_message() -> None:
    threads = [
        thread(buyer(0), seller(100)),
        thread(buyer(0), buyer(10), warehouse(40), of="acme", assigned="warehouse"),
        thread(buyer(0)),
    ]
    figures = _figures_now(threads, LATER)
    # (100 + 40 + 30) / 3; the unanswered thread is late but gives no time.
    assert (figures.responses, figures.average_response_time_s) == (3, 170 / 3)
    assert _counts(figures) == (2, 1, 0)
    assert figures.timely_responses == 2 / 3


def local(text: str, fold: int = 0) -> datetime:
    """A Warsaw wall-clock time, e.g. ``local("2026-03-29 12:30")``."""
    return datetime.fromisoformat(text).replace(tzinfo=WARSAW, fold=fold)


# Warsaw's clocks go forward on 2026-03-29 (02:00 CET -> 03:00 CEST: that day has 23 h) and
# back on 2026-10-25 (03:00 CEST -> 02:00 CET: 25 h). The mark is 24 h of real time.
@pytest.mark.parametrize(
    ("asked", "answered", "seconds", "counts"),
    [
        # Spring: the next day's 12:30 is only 23 h 30 min later; the mark is at 13:00 local.
        (local("2026-03-28 12:00"), local("2026-03-29 12:30"), 23.5 * 3600, TIMELY),
        (local("2026-03-28 12:00"), local("2026-03-29 12:59:59"), DAY - 1, TIMELY),
        (local("2026-03-28 12:00"), local("2026-03-29 13:00"), DAY, LATE),
        # Autumn: the next day's 11:30 is already 24 h 30 min later; the mark is at 11:00 local.
        (local("2026-10-24 12:00"), local("2026-10-25 11:30"), 24.5 * 3600, LATE),
        (local("2026-10-24 12:00"), local("2026-10-25 10:59:59"), DAY - 1, TIMELY),
        (local("2026-10-24 12:00"), local("2026-10-25 11:00"), DAY, LATE),
        # Inside the hour that comes twice: 02:30 CEST to the second 02:15 (CET) is 45 min,
        # not minus 15 as the wall clocks would say.
        (local("2026-10-25 02:30"), local("2026-10-25 02:15", fold=1), 45 * 60, TIMELY),
    ],
)
def test_across_dst_changes(
    asked: datetime, answered: datetime, seconds: float, counts: tuple[int, int, int]
) -> None:
    messages = (ThreadMessage("buyer", asked), ThreadMessage("seller", answered))
    window = Window(local("2026-01-01 00:00"), local("2027-01-01 00:00"))
    with freeze_time(datetime(2026, 12, 1, tzinfo=UTC)):
        figures = sales_quality([thread(*messages)], window, datetime.now(WARSAW))
    assert _counts(figures) == counts
    assert figures.average_response_time_s == seconds


@pytest.mark.parametrize(
    ("asked", "now", "counts"),
    [
        (local("2026-03-28 12:00"), local("2026-03-29 12:59:59"), PENDING),
        (local("2026-03-28 12:00"), local("2026-03-29 13:00"), LATE),
        (local("2026-10-24 12:00"), local("2026-10-25 10:59:59"), PENDING),
        (local("2026-10-24 12:00"), local("2026-10-25 11:00"), LATE),
    ],
)
def test_unanswered_across_dst_changes(
    asked: datetime, now: datetime, counts: tuple[int, int, int]
) -> None:
    window = Window(local("2026-01-01 00:00"), local("2027-01-01 00:00"))
    with freeze_time(now):
        figures = sales_quality([thread(ThreadMessage("buyer", asked))], window, datetime.now(UTC))
    assert _counts(figures) == counts


@pytest.mark.parametrize(
    ("asked", "mark"),
    [
        (local("2026-03-28 12:00"), local("2026-03-29 13:00")),
        (local("2026-10-24 12:00"), local("2026-10-25 11:00")),
        (local("2026-10-25 02:30"), local("2026-10-26 01:30")),
        (local("2026-10-25 02:30", fold=1), local("2026-10-26 02:30")),
    ],
)
def test_response_mark_is_24_hours_of_real_time(asked: datetime, mark: datetime) -> None:
    assert response_mark(asked) == mark
    assert response_mark(asked).tzinfo is UTC


W0, W1 = T0, T0 + timedelta(days=30)


@pytest.mark.parametrize(
    ("first", "counted"),
    [
        (W0, 1),  # the window's start is in it
        (W0 - timedelta(microseconds=1), 0),
        (W1 - timedelta(microseconds=1), 1),
        (W1, 0),  # its end is not
    ],
)
def test_window_edges(first: datetime, counted: int) -> None:
    answer = first + timedelta(hours=1)
    threads = [thread(ThreadMessage("buyer", first), ThreadMessage("seller", answer))]
    figures = sales_quality(threads, Window(W0, W1), W1 + timedelta(days=2))
    assert (figures.threads, figures.responses) == (counted, counted)
    assert figures.average_response_time_s == (3600.0 if counted else None)


def test_window_takes_threads_by_first_message_and_times_by_each_message() -> None:
    # The thread began before the window: its first response is not counted in this window,
    # but the buyer's message in the window awaited a response and gives its time.
    started_before = thread(
        ThreadMessage("buyer", W0 - timedelta(days=2)),
        ThreadMessage("seller", W0 - timedelta(days=1)),
        ThreadMessage("buyer", W0 + timedelta(hours=1)),
        ThreadMessage("seller", W0 + timedelta(hours=3)),
    )
    # A thread begun in the window, answered after it ended: counted, with its time.
    answered_after = thread(
        ThreadMessage("buyer", W1 - timedelta(hours=1)),
        ThreadMessage("seller", W1 + timedelta(hours=2)),
    )
    figures = sales_quality([started_before, answered_after], Window(W0, W1), W1 + timedelta(3))
    assert _counts(figures) == TIMELY
    assert (figures.responses, figures.average_response_time_s) == (2, 2.5 * 3600)


def test_no_threads_give_no_figures() -> None:
    figures = sales_quality([], EVERYTHING, _at(LATER))
    assert figures.as_dict() == {
        "timely_responses": None,
        "average_response_time_s": None,
        "threads": 0,
        "timely": 0,
        "late": 0,
        "pending": 0,
        "responses": 0,
    }


def test_as_dict_has_the_api_keys() -> None:
    threads = [thread(buyer(0), seller(60)), thread(buyer(0), seller(DAY)), thread(buyer(LATER))]
    assert _figures_now(threads, LATER).as_dict() == {
        "timely_responses": 0.5,
        "average_response_time_s": (60 + DAY) / 2,
        "threads": 2,
        "timely": 1,
        "late": 1,
        "pending": 1,
        "responses": 2,
    }


SELLERS_AND_WAREHOUSE = [
    thread(buyer(0), seller(60), of="acme"),
    # acme's thread forwarded to the warehouse, answered by it late: still acme's.
    thread(buyer(0), note("seller", 30), warehouse(DAY + 1), of="acme", assigned="warehouse"),
    thread(buyer(0), seller(120), of="bolt"),
    thread(buyer(0), of="bolt"),  # unanswered, past its mark
    # A combined order's delivery Discussion: no seller's, the warehouse's alone.
    thread(buyer(0), warehouse(600), of=None, assigned="warehouse"),
]


@pytest.mark.parametrize(
    ("whose", "counts", "responses", "average"),
    [
        ("acme", (1, 1, 0), 2, (60 + DAY + 1) / 2),
        ("bolt", (1, 1, 0), 1, 120.0),
        ("nobody", (0, 0, 0), 0, None),  # a seller with no threads: no figures
        ("warehouse", (1, 1, 0), 2, (DAY + 1 + 600) / 2),
    ],
)
def test_sellers_are_isolated_and_the_warehouse_alone(
    whose: str, counts: tuple[int, int, int], responses: int, average: float | None
) -> None:
    now = _at(LATER)
    if whose == "warehouse":
        figures = for_warehouse(SELLERS_AND_WAREHOUSE, EVERYTHING, now)
    else:
        figures = for_seller(SELLERS_AND_WAREHOUSE, whose, EVERYTHING, now)
    assert _counts(figures) == counts
    assert (figures.responses, figures.average_response_time_s) == (responses, average)


def test_report_has_each_seller_and_the_warehouse() -> None:
    now = _at(LATER)
    report = sales_quality_report(SELLERS_AND_WAREHOUSE, EVERYTHING, now)
    assert list(report.sellers) == ["acme", "bolt"]
    for seller_id, figures in report.sellers.items():
        assert figures == for_seller(SELLERS_AND_WAREHOUSE, seller_id, EVERYTHING, now)
    assert report.warehouse == for_warehouse(SELLERS_AND_WAREHOUSE, EVERYTHING, now)


def test_response_hours_are_a_parameter() -> None:
    figures = sales_quality([thread(buyer(0), seller(3600))], EVERYTHING, _at(LATER), 1)
    assert _counts(figures) == LATE


@freeze_time("2026-11-30T12:00:00+01:00")
def test_window_ending_now() -> None:
    now = datetime.now(WARSAW)
    window = window_ending(now, days=30)
    assert (window.start, window.end) == (now - timedelta(days=30), now)
    assert window.holds(now - timedelta(days=30)) and not window.holds(now)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ThreadMessage("buyer", datetime(2026, 11, 2, 9)),  # no timezone
        lambda: ThreadMessage("operator", T0),
        lambda: ThreadMessage("seller", T0, kind="reply"),
        lambda: Thread("acme", "operator", ()),
        lambda: Thread("acme", "seller", (), kind="complaint"),
        lambda: Window(datetime(2026, 11, 2), T0),
    ],
)
def test_bad_input_is_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="now"):
        sales_quality([], EVERYTHING, datetime(2026, 11, 2, 9))


# Properties, over random threads around the autumn DST change (Warsaw's clocks go back on
# 2026-10-25 at 01:00 UTC), each message at a distinct whole second so "after" is plain.
P0 = datetime(2026, 10, 23, 12, tzinfo=UTC)
ROLE_KINDS = [
    ("buyer", "message"),
    ("seller", "message"),
    ("warehouse", "message"),
    ("system", "message"),
    ("seller", "note"),
    ("warehouse", "note"),
]
SPAN = 4 * DAY


@st.composite
def some_threads(draw: st.DrawFn) -> list[Thread]:
    """Up to 8 threads of up to 6 messages, no two messages of a thread at the same second."""
    found = []
    for _ in range(draw(st.integers(0, 8))):
        seconds = draw(st.lists(st.integers(0, SPAN), max_size=6, unique=True))
        messages = tuple(
            ThreadMessage(role, P0 + timedelta(seconds=s), kind)
            for s in seconds
            for role, kind in [draw(st.sampled_from(ROLE_KINDS))]
        )
        seller_id = draw(st.sampled_from(["acme", "bolt", None]))
        found.append(Thread(seller_id, draw(st.sampled_from(["seller", "warehouse"])), messages))
    return found


instants = st.integers(-DAY, SPAN + DAY).map(lambda s: P0 + timedelta(seconds=s))


def _expected_times(threads: list[Thread], window: Window) -> list[float]:
    """Each buyer message in the window to the earliest response later than it, by brute force."""
    times = []
    for t in threads:
        for asked in t.messages:
            if asked.role == "buyer" and asked.kind == "message" and window.holds(asked.at):
                later = [m.at for m in t.messages if m.is_response and m.at > asked.at]
                if later:
                    times.append((min(later) - asked.at).total_seconds())
    return times


def _first_asked_in(threads: list[Thread], window: Window) -> int:
    firsts = [min((m.at for m in t.messages if m.role == "buyer"), default=None) for t in threads]
    return sum(1 for first in firsts if first is not None and window.holds(first))


@settings(max_examples=300, deadline=None)
@given(threads=some_threads(), start=instants, end=instants, now=instants, data=st.data())
def test_properties(
    threads: list[Thread],
    start: datetime,
    end: datetime,
    now: datetime,
    data: st.DataObject,
) -> None:
    window = Window(start, end)
    figures = sales_quality(threads, window, now)
    assert figures.timely + figures.late + figures.pending == _first_asked_in(threads, window)
    assert figures.threads == figures.timely + figures.late
    rate = figures.timely_responses
    assert (rate is None) == (figures.threads == 0)
    assert rate is None or 0 <= rate <= 1

    times = _expected_times(threads, window)
    assert figures.responses == len(times)
    average = figures.average_response_time_s
    if times:
        assert average is not None
        assert min(times) <= average <= max(times)
        assert average == pytest.approx(sum(times) / len(times))
    else:
        assert average is None

    # The order of the threads, and the timezone the instants are written in, change nothing.
    shuffled = data.draw(st.permutations(threads))
    assert sales_quality(shuffled, window, now) == figures
    for tz in (WARSAW, timezone(timedelta(hours=5, minutes=45))):
        shown = [
            Thread(
                t.seller_id,
                t.assigned,
                tuple(ThreadMessage(m.role, m.at.astimezone(tz), m.kind) for m in t.messages),
            )
            for t in threads
        ]
        local_window = Window(start.astimezone(tz), end.astimezone(tz))
        assert sales_quality(shown, local_window, now.astimezone(tz)) == figures

    # Later, a pending thread may only become late; nothing else moves.
    later = sales_quality(threads, window, now + timedelta(days=1))
    assert (later.timely, later.late + later.pending) == (
        figures.timely,
        figures.late + figures.pending,
    )
    assert later.late >= figures.late

    # Each seller's figures add up to those of all the sellers' threads.
    report = sales_quality_report(threads, window, now)
    of_sellers = sales_quality([t for t in threads if t.seller_id is not None], window, now)
    assert sum(f.timely for f in report.sellers.values()) == of_sellers.timely
    assert sum(f.late for f in report.sellers.values()) == of_sellers.late
    assert sum(f.responses for f in report.sellers.values()) == of_sellers.responses
