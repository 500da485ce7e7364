"""The job ``rollup`` and ``hotline prune``: each local day's figures kept at 00:10 of the day
after (DST nights included), missed days caught up, written once; old calls' rows pruned only
for rolled-up days, and a day's queue figures the same before and after (SQLite, PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, insert, select

from hotline.agents.figures import read_report, report_as_dict
from hotline.cli import cli
from hotline.config.settings import Settings, load_settings
from hotline.jobs.context import JobContext
from hotline.jobs.prune import PruneRefused, prune
from hotline.jobs.registry import job_named
from hotline.jobs.rollup import next_rollup, roll_up
from hotline.jobs.scheduler import run_job
from hotline.rules.local_periods import day_start
from hotline.store import daily_figures
from hotline.store import queue_entries as q
from hotline.store.database import Store
from hotline.store.models import CallEventRow, QueueEntryRow, TransferRow
from tests.conftest import API_TOKEN, ROOT, shipped_config

WARSAW = ZoneInfo("Europe/Warsaw")
SUBJECTS = ["seller:acme", "seller:bookworm", "seller:greenleaf", "warehouse"]


def _settings(store: Store) -> Settings:
    data = shipped_config()
    data["store"]["url"] = store.url
    return load_settings(data)


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WARSAW).astimezone(UTC)


def _event(store: Store, sid: str, seq: int, at: datetime, step: str, decision: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(CallEventRow).values(call_sid=sid, seq=seq, at=at, step=step, decision=decision)
        )


def _answered_call(store: Store, sid: str, entered: datetime, talk: timedelta) -> None:
    """A caller who waits 20 s, talks ``talk``, hangs up (Twilio's status callback)."""
    _event(store, sid, 1, entered - timedelta(seconds=30), "voice", "menu")
    with store.engine.begin() as conn:
        q.enter(conn, sid, "warehouse", q.CallerContext(), entered)
        claim = q.claim(conn, sid, "anna", entered + timedelta(seconds=15))
        assert claim is not None and q.connect(conn, claim, entered + timedelta(seconds=20))
    _event(store, sid, 2, entered + timedelta(seconds=20) + talk, "status", "status completed")


def _abandoned_call(store: Store, sid: str, entered: datetime) -> None:
    _event(store, sid, 1, entered - timedelta(seconds=30), "voice", "menu")
    with store.engine.begin() as conn:
        q.enter(conn, sid, "warehouse", q.CallerContext(), entered)
        q.leave(conn, sid, "hangup", entered + timedelta(seconds=50))
    _event(store, sid, 2, entered + timedelta(seconds=50), "status", "status completed")


def _warm_transfer(store: Store, sid: str, at: datetime, outcome: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(TransferRow).values(
                call_sid=sid,
                agent_id="anna",
                kind="warm",
                target="acme",
                summary="s",
                at=at,
                outcome=outcome,
                outcome_at=at + timedelta(seconds=20),
            )
        )


def _day_of_calls(store: Store, day: date, tag: str) -> None:
    _answered_call(store, f"CA{tag}-a", _local(day, 9, 5), timedelta(minutes=4))
    _warm_transfer(store, f"CA{tag}-a", _local(day, 9, 7), "busy")
    _abandoned_call(store, f"CA{tag}-b", _local(day, 14, 30))


def _rows(store: Store, kind: str | None = None) -> list[tuple[str, str, str]]:
    with store.engine.connect() as conn:
        found = daily_figures.rows_of(conn, kind)
    return [(r.day.isoformat(), r.kind, r.subject) for r in found]


def _queue_rollup(store: Store, day: date) -> dict[str, Any]:
    with store.engine.connect() as conn:
        [row] = [r for r in daily_figures.rows_of(conn, "queue") if r.day == day]
    return row.figures


@pytest.mark.parametrize(
    ("day", "hours", "rolled_at"),
    [
        (date(2026, 10, 25), 25, datetime(2026, 10, 25, 23, 10, tzinfo=UTC)),  # 00:10 CET
        (date(2026, 3, 29), 23, datetime(2026, 3, 29, 22, 10, tzinfo=UTC)),  # 00:10 CEST
        (date(2026, 11, 26), 24, datetime(2026, 11, 26, 23, 10, tzinfo=UTC)),
    ],
)
def test_a_day_is_rolled_up_at_00_10_of_the_day_after_across_dst(
    store: Store, day: date, hours: int, rolled_at: datetime
) -> None:
    _day_of_calls(store, day, "1")
    context = JobContext(_settings(store), store)
    job = job_named("rollup")
    assert job.next_due is next_rollup
    assert next_rollup(context, _local(day, 12)) == rolled_at
    with freeze_time(rolled_at - timedelta(seconds=1)):
        run_job(job, context)  # as the scheduler runs it, at the wall clock's now
    assert _rows(store) == []
    with freeze_time(rolled_at):
        run_job(job, context)
    assert _rows(store) == [(day.isoformat(), "queue", "warehouse")] + [
        (day.isoformat(), "sales_quality", s) for s in SUBJECTS
    ]
    rolled = _queue_rollup(store, day)
    assert len(rolled["hours"]) == hours
    assert rolled["day"]["start"] == day_start(day, WARSAW).astimezone(UTC).isoformat()
    assert (rolled["day"]["offered"], rolled["day"]["answered"], rolled["day"]["abandoned"]) == (
        2,
        1,
        1,
    )
    assert rolled["day"]["transfers"][0] == {
        "kind": "warm",
        "made": 1,
        "decided": 1,
        "succeeded": 0,
        "outcomes": {"busy": 1},
    }
    # The next day's roll-up is next, at its own 00:10.
    after = next_rollup(context, rolled_at)
    assert after is not None and after.astimezone(WARSAW).time().isoformat() == "00:10:00"
    assert after.astimezone(WARSAW).date() == day + timedelta(days=2)


def test_missed_days_are_caught_up_oldest_first_and_written_once(any_store: Store) -> None:
    days = [date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)]
    _day_of_calls(any_store, days[0], "1")
    _abandoned_call(any_store, "CA2-b", _local(days[1], 10))  # one caller the second day
    # (nothing the third day: it is rolled up all the same, empty)
    context = JobContext(_settings(any_store), any_store)
    now = _local(date(2026, 10, 27), 9)  # the scheduler was down three nights
    assert next_rollup(context, now) == now  # overdue: due at once
    report = roll_up(context, now)
    assert report.days == [d.isoformat() for d in days]
    assert report.rows == 3 * (1 + len(SUBJECTS))
    offered = [_queue_rollup(any_store, d)["day"]["offered"] for d in days]
    assert offered == [2, 1, 0]
    written = _rows(any_store)
    # Again, later the same day: nothing to do, nothing written twice.
    again = roll_up(context, now + timedelta(hours=1))
    assert (again.days, again.rows) == ([], 0)
    assert _rows(any_store) == written
    with any_store.engine.begin() as conn:  # a second writer of a day's row finds it there
        assert not daily_figures.insert_once(conn, days[0], "queue", "warehouse", {}, now)
    assert next_rollup(context, now) == _local(date(2026, 10, 28), 0, 10)


def test_nothing_to_roll_up_before_anything_is_recorded(store: Store) -> None:
    context = JobContext(_settings(store), store)
    now = _local(date(2026, 10, 27), 9)
    assert next_rollup(context, now) is None
    assert roll_up(context, now).days == []


def _figures(store: Store, settings: Settings, first: date, last: date) -> dict[str, Any]:
    start, end = day_start(first, WARSAW), day_start(last + timedelta(days=1), WARSAW)
    return report_as_dict(read_report(store, settings, start, end), settings.queue)


def _count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        counted: int = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return counted


def test_a_day_s_figures_do_not_change_when_its_rows_are_pruned(any_store: Store) -> None:
    d1, d2, d3 = date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)
    _day_of_calls(any_store, d1, "1")
    _day_of_calls(any_store, d2, "2")
    _day_of_calls(any_store, d3, "3")
    # A caller of the 25th's last minutes, whose call ends after midnight: kept whole.
    _answered_call(any_store, "CA-midnight", _local(d2, 23, 58), timedelta(minutes=20))
    settings = _settings(any_store)
    context = JobContext(settings, any_store)
    roll_up(context, _local(date(2026, 10, 27), 9))
    before = _figures(any_store, settings, d1, d3)
    by_day = [_figures(any_store, settings, d, d) for d in (d1, d2, d3)]
    start, end = _local(d2, 9), _local(d3, 12)  # a span from inside a pruned day
    part = report_as_dict(read_report(any_store, settings, start, end), settings.queue)
    assert before["total"]["offered"] == 7 and before["total"]["handled"] == 4

    result = prune(any_store, settings, d3, _local(date(2026, 10, 27), 10))

    assert result.days == [d1.isoformat(), d2.isoformat()]
    assert (result.deleted.queue_entries, result.deleted.transfers) == (4, 2)
    assert result.deleted.call_events == 8
    with any_store.engine.connect() as conn:
        kept = conn.execute(select(QueueEntryRow.call_sid).order_by(QueueEntryRow.call_sid))
        assert [r.call_sid for r in kept] == ["CA-midnight", "CA3-a", "CA3-b"]
    assert _figures(any_store, settings, d1, d3) == before
    assert [_figures(any_store, settings, d, d) for d in (d1, d2, d3)] == by_day
    assert report_as_dict(read_report(any_store, settings, start, end), settings.queue) == part
    # Pruning again changes nothing.
    again = prune(any_store, settings, d3, _local(date(2026, 10, 27), 11))
    assert again.days == [] and again.deleted.call_events == 0
    assert _figures(any_store, settings, d1, d3) == before


def test_prune_is_refused_for_days_without_a_roll_up(any_store: Store) -> None:
    d1, d2 = date(2026, 10, 24), date(2026, 10, 25)
    _day_of_calls(any_store, d1, "1")
    _day_of_calls(any_store, d2, "2")
    settings = _settings(any_store)
    events = _count(any_store, CallEventRow)
    with pytest.raises(PruneRefused, match=r"2 day\(s\) before 2026-10-26 have no roll-up yet"):
        prune(any_store, settings, date(2026, 10, 26), _local(date(2026, 10, 27), 9))
    roll_up(JobContext(settings, any_store), _local(d2, 12))  # the 24th only: the 25th goes on
    with pytest.raises(PruneRefused, match=r"\(2026-10-25\)"):
        prune(any_store, settings, date(2026, 10, 26), _local(date(2026, 10, 27), 9))
    with pytest.raises(PruneRefused, match="after today"):
        prune(any_store, settings, date(2026, 10, 26), _local(d2, 12))
    assert _count(any_store, CallEventRow) == events  # nothing deleted
    assert prune(any_store, settings, d2, _local(d2, 12)).days == [d1.isoformat()]


@pytest.fixture
def config_file(db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped config as a file, on this test's database."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///instance/hotline.db"', f'url = "sqlite:///{db_path}"')
    text = text.replace('flows_dir = "flows"', f'flows_dir = "{ROOT / "flows"}"')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("HOTLINE_CONFIG", "unused.toml")
    return path


def test_the_prune_command_and_the_api_read_the_pruned_day(
    config_file: Path, store: Store, client: FlaskClient
) -> None:
    d1 = date(2026, 10, 24)
    _day_of_calls(store, d1, "1")
    url = "/api/metrics/queue?from=2026-10-24&to=2026-10-25"
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    before = client.get(url, headers=auth).get_json()
    runner = CliRunner()
    refused = runner.invoke(cli, ["--config", str(config_file), "prune", "--before", "2026-10-25"])
    assert refused.exit_code == 1
    assert "1 day(s) before 2026-10-25 have no roll-up yet (2026-10-24)" in refused.output
    roll_up(JobContext(_settings(store), store), _local(date(2026, 10, 25), 1))
    done = runner.invoke(cli, ["--config", str(config_file), "prune", "--before", "2026-10-25"])
    assert done.exit_code == 0, done.output
    assert done.output == (
        "1 day(s) newly pruned; deleted 4 call events, 2 queue entries, 1 transfers from "
        "before 2026-10-25\n"
    )
    assert _count(store, QueueEntryRow) == 0
    assert client.get(url, headers=auth).get_json() == before
    bad = runner.invoke(cli, ["--config", str(config_file), "prune", "--before", "24.10.2026"])
    assert bad.exit_code == 2 and "expected a date like 2026-10-25" in bad.output
