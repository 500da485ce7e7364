"""The job ``reminders``: the points after the buyer's first message (12 h and 20 h), the
overdue mark at 24 h to the second, no reminder after a response, a forward's reminders for the
new assignee, late and repeated runs, the DST changes; claims on SQLite and PostgreSQL.

The wall clock is frozen far from the instants the runs are given: the job must use its ``now``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from hotline.config.settings import Order, load_settings
from hotline.errors import ConfigError
from hotline.jobs.context import JobContext
from hotline.jobs.delivery import deliver_outbox
from hotline.jobs.registry import job_named, run_due
from hotline.jobs.reminders import ReminderReport, reminders_due, send_reminders
from hotline.messages import conversation, forwarding
from hotline.messages.conversation import Author
from hotline.messages.threads import open_conversation, thread_as_dict
from hotline.store.database import Store
from hotline.store.models import OutboxRow, ThreadRow
from tests.conftest import shipped_config
from tests.jobs_fixtures import (
    SELLER_MAIL,
    MailBox,
    context_for,
    open_call_thread,
    settings_for,
    smtp_server,
)

__all__ = ["smtp_server"]  # a fixture, used by name

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
WALL_CLOCK = "2031-01-01 00:00:00"  # frozen: nothing here may read it
WARSAW = ZoneInfo("Europe/Warsaw")


def h(hours: float) -> datetime:
    """``hours`` after the buyer's first message (T0)."""
    return T0 + timedelta(hours=hours)


def _reminders(store: Store) -> list[tuple[str, str]]:
    with store.session() as session:
        rows = session.scalars(
            select(OutboxRow).where(OutboxRow.kind.startswith("reminder_")).order_by(OutboxRow.id)
        ).all()
        return [(r.kind, r.recipient) for r in rows]


def _overdue_at(store: Store, thread_id: int) -> datetime | None:
    with store.session() as session:
        return session.get_one(ThreadRow, thread_id).overdue_at


def _answer(store: Store, thread_id: int, at: datetime) -> None:
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        conversation.write(session, thread, Author("seller", "acme"), "Yes, it does.", at)


def _forward(store: Store, thread_id: int, at: datetime) -> None:
    with store.session() as session:
        thread = session.get_one(ThreadRow, thread_id)
        forwarding.forward(session, thread, Author("seller", "acme"), "warehouse", "Yours.", at)


@dataclass(frozen=True)
class Case:
    """A thread opened at T0 for Acme; ``answer``/``forward`` at those hours; the job run at
    ``runs`` (hours, in order); the reminders and the mark expected."""

    name: str
    runs: tuple[float, ...]
    reminders: list[tuple[str, str]]
    overdue: bool
    answer: float | None = None
    forward: float | None = None


SECOND = 1 / 3600
CASES = [
    Case("a second before 12 h: nothing", (12 - SECOND,), [], False),
    Case("exactly at 12 h", (12,), [("reminder_12h", "acme")], False),
    Case(
        "at 12 h and at 20 h",
        (12, 20 - SECOND, 20),
        [("reminder_12h", "acme"), ("reminder_20h", "acme")],
        False,
    ),
    Case(
        "23:59:59: not yet overdue",
        (12, 20, 24 - SECOND),
        [("reminder_12h", "acme"), ("reminder_20h", "acme")],
        False,
    ),
    Case(
        "24:00:00: overdue",
        (12, 20, 24),
        [("reminder_12h", "acme"), ("reminder_20h", "acme")],
        True,
    ),
    Case("answered before 12 h: nothing, ever", (12, 20, 24, 48), [], False, answer=11),
    Case(
        "answered between the points: the 12 h one only",
        (12, 20, 24),
        [("reminder_12h", "acme")],
        False,
        answer=15,
    ),
    Case("answered at 23:59:59: in time", (24, 30), [], False, answer=24 - SECOND),
    Case("answered at 24:00:00: late, marked", (25,), [], True, answer=24),
    Case(
        "forwarded between 12 h and 20 h: the 20 h one to the warehouse, the 12 h one not again",
        (12, 20, 21),
        [("reminder_12h", "acme"), ("reminder_20h", "warehouse")],
        False,
        forward=15,
    ),
    Case(
        "forwarded at 15 h, the job first runs at 21 h: the 12 h point was the seller's",
        (21,),
        [("reminder_20h", "warehouse")],
        False,
        forward=15,
    ),
    Case(
        "the job late, after both points: each once",
        (21, 22),
        [("reminder_12h", "acme"), ("reminder_20h", "acme")],
        False,
    ),
    Case("the job late, after the mark: marked, no reminders", (30,), [], True),
    Case(
        "run twice at each instant: nothing twice",
        (12, 12, 20, 20, 24, 24),
        [("reminder_12h", "acme"), ("reminder_20h", "acme")],
        True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reminder_points_and_the_overdue_mark(store: Store, case: Case) -> None:
    context = context_for(store, 25)
    thread_id = open_call_thread(store, T0)
    events = sorted(
        [(case.answer, _answer)] * (case.answer is not None)
        + [(case.forward, _forward)] * (case.forward is not None),
        key=lambda e: e[0] or 0,
    )
    with freeze_time(WALL_CLOCK):
        for run in case.runs:
            while events and (events[0][0] or 0) <= run:
                at, act = events.pop(0)
                act(store, thread_id, h(at or 0))
            send_reminders(context, h(run))
        for at, act in events:
            act(store, thread_id, h(at or 0))
    assert _reminders(store) == case.reminders
    assert _overdue_at(store, thread_id) == (h(24) if case.overdue else None)


def test_a_response_after_the_mark_keeps_it_and_the_thread_is_answered(store: Store) -> None:
    context = context_for(store, 25)
    thread_id = open_call_thread(store, T0)
    assert send_reminders(context, h(24)).marked == [thread_id]
    _answer(store, thread_id, h(26))
    assert send_reminders(context, h(27)) == ReminderReport()
    with store.session() as session:
        shown = thread_as_dict(session.get_one(ThreadRow, thread_id))
    assert shown["overdue"] is True and shown["overdue_at"] == "2026-11-27T09:00:00+00:00"
    assert shown["unanswered"] is False


def test_next_due_names_each_point_then_the_mark_then_nothing(store: Store) -> None:
    context = context_for(store, 25)
    assert reminders_due(context, T0) is None  # no thread
    thread_id = open_call_thread(store, T0)
    assert job_named("reminders").next_due is reminders_due
    assert reminders_due(context, T0) == h(12)
    assert reminders_due(context, h(13)) == h(13)  # the 12 h point is due (the job is late)
    send_reminders(context, h(13))
    assert reminders_due(context, h(13)) == h(20)
    send_reminders(context, h(20))
    assert reminders_due(context, h(20)) == h(24)
    send_reminders(context, h(24))
    assert reminders_due(context, h(24)) is None
    assert _overdue_at(store, thread_id) == h(24)


def test_next_due_is_nothing_once_answered(store: Store) -> None:
    context = context_for(store, 25)
    thread_id = open_call_thread(store, T0)
    _answer(store, thread_id, h(1))
    assert reminders_due(context, h(1)) is None


def _open_discussion(store: Store, at: datetime) -> int:
    """A Discussion for Acme (a reason the seller answers), its buyer's first message at ``at``."""
    settings = settings_for(store, 25)
    order = next(o for o in settings.orders if o.id == "1234567")
    assert isinstance(order, Order)
    with store.session() as session:
        opened = open_conversation(
            session,
            settings.routing,
            order,
            text="There is no proof of purchase in the parcel.",
            now=at,
            reason="incomplete_no_proof_of_purchase",
        )
        return opened.thread.id


@pytest.mark.parametrize(
    ("opened", "point_12", "point_20", "mark"),
    [
        # autumn (2026-10-25, 03:00 CEST -> 02:00 CET): 12 real hours are 11 on the wall clock
        ("2026-10-24 20:30", "2026-10-25 07:30", "2026-10-25 15:30", "2026-10-25 19:30"),
        # spring (2026-03-29, 02:00 CET -> 03:00 CEST): 12 real hours are 13 on the wall clock
        ("2026-03-28 20:30", "2026-03-29 09:30", "2026-03-29 17:30", "2026-03-29 21:30"),
    ],
)
def test_a_discussion_across_the_dst_change_is_reminded_in_real_hours(
    store: Store, opened: str, point_12: str, point_20: str, mark: str
) -> None:
    def local(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=WARSAW)

    context = context_for(store, 25)
    assert str(context.settings.timezone) == "Europe/Warsaw"
    start = local(opened)
    thread_id = _open_discussion(store, start.astimezone(UTC))
    one = timedelta(seconds=1)
    with freeze_time(WALL_CLOCK):
        # real hours (in UTC: Python subtracts two times of one zone by their wall clocks)
        assert local(point_12).astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=12)
        assert send_reminders(context, local(point_12) - one).reminded == []
        assert send_reminders(context, local(point_12)).reminded == [
            (thread_id, "reminder_12h", "acme")
        ]
        assert send_reminders(context, local(point_20) - one).reminded == []
        assert send_reminders(context, local(point_20)).reminded == [
            (thread_id, "reminder_20h", "acme")
        ]
        assert send_reminders(context, local(mark) - one).marked == []
        assert send_reminders(context, local(mark)).marked == [thread_id]
    assert _overdue_at(store, thread_id) == local(mark).astimezone(UTC)


def test_two_runs_at_once_write_each_reminder_and_the_mark_once(any_store: Store) -> None:
    context = context_for(any_store, 25)
    ids = [open_call_thread(any_store, T0, call_sid=f"CA{n}") for n in range(8)]
    for at in (h(12), h(24)):
        start = threading.Barrier(2)
        reports: list[ReminderReport] = []

        def run(
            now: datetime = at,
            start: threading.Barrier = start,
            reports: list[ReminderReport] = reports,
        ) -> None:
            start.wait()
            reports.append(send_reminders(context, now))

        workers = [threading.Thread(target=run) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        written = [r for report in reports for r in report.reminded]
        marked = [t for report in reports for t in report.marked]
        if at == h(12):
            assert sorted(written) == [(t, "reminder_12h", "acme") for t in ids]
        else:  # the 20 h point is past the mark by now: only the marks
            assert written == [] and sorted(marked) == ids
    assert _reminders(any_store) == [("reminder_12h", "acme")] * 8


def test_a_reminder_is_mailed_to_the_assignee_and_dropped_once_answered(
    store: Store, smtp_server: tuple[MailBox, int]
) -> None:
    box, port = smtp_server
    context = context_for(store, port)
    thread_id = open_call_thread(store, T0)
    deliver_outbox(context, T0)  # the thread's own notifications (the SMS fails: no Twilio)
    box.mails.clear()
    run_due(context, h(12))  # the reminder written and delivered in one go
    [(to, mail)] = box.mails
    assert to == [SELLER_MAIL]
    assert (
        mail["Subject"]
        == f"Reminder: a Message Center thread awaits your response: {thread_id:04d}"
    )
    body = mail.get_payload(decode=True).decode()
    assert "12 hours ago" in body and "due by 2026-11-27 09:00 UTC" in body
    assert "Does it work with USB-C?" in body
    # the 20 h reminder is written, then the thread is answered before it goes out
    send_reminders(context, h(20))
    _answer(store, thread_id, h(20) + timedelta(seconds=5))
    report = deliver_outbox(context, h(20) + timedelta(seconds=10))
    assert len(box.mails) == 1 and len(report.skipped) == 1
    with store.session() as session:
        row = session.get_one(OutboxRow, report.skipped[0])
        assert (row.kind, row.status) == ("reminder_20h", "skipped")
        assert row.last_error == f"thread {thread_id:04d} has been answered since"


def test_a_forwarded_threads_reminder_goes_to_the_warehouse(
    store: Store, smtp_server: tuple[MailBox, int]
) -> None:
    box, port = smtp_server
    settings = settings_for(store, port)
    warehouse = "service@market.example"
    jobs = replace(settings.jobs, mail=replace(settings.jobs.mail, warehouse=warehouse))
    context = JobContext(replace(settings, jobs=jobs), store)
    thread_id = open_call_thread(store, T0)
    _forward(store, thread_id, h(15))
    assert send_reminders(context, h(20)).reminded == [(thread_id, "reminder_20h", "warehouse")]
    box.mails.clear()
    deliver_outbox(context, h(20))
    [(to, mail)] = [(t, m) for t, m in box.mails if m["Subject"].startswith("Reminder")]
    assert to == [warehouse] and mail["To"] == warehouse
    assert "Hello Customer service," in mail.get_payload(decode=True).decode()


@pytest.mark.parametrize(
    ("hours", "response_hours", "fine"),
    [
        ([12, 20], 24, True),
        ([1], 24, True),
        ([], 24, True),
        ([0, 12], 24, False),
        ([12, 24], 24, False),
        ([20, 12], 24, False),
        ([12, 12], 24, False),
        ([12.5], 24, False),
        ("12", 24, False),
        ([30], 48, True),
        ([30], 24, False),
    ],
)
def test_reminder_hours_are_checked_against_the_response_hours(
    hours: object, response_hours: int, fine: bool
) -> None:
    data = shipped_config()
    data["notifications"] = {"reminder_hours": hours}
    data["message_center"]["response_hours"] = response_hours
    if fine:
        settings = load_settings(data)
        assert settings.jobs.notifications.reminder_hours == tuple(hours)  # type: ignore[arg-type]
    else:
        with pytest.raises(ConfigError, match=r"notifications\.reminder_hours: expected"):
            load_settings(data)
