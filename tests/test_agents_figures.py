"""The queue figures read for the API, the command and the console: the store's records through
the rules, and the JSON shape (rates as fractions rounded to 4 places, seconds to 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hotline.agents.figures import read_report, report_as_dict
from hotline.config.settings import load_settings
from hotline.store import queue_entries as q
from hotline.store.database import Store

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Warsaw


def test_the_report_of_a_store_as_json(store: Store, config: dict[str, Any]) -> None:
    settings = load_settings(config)
    with store.engine.begin() as conn:
        for n, wait in enumerate([10, 20, 40]):
            sid = f"CA{n}"
            q.enter(conn, sid, "warehouse", q.CallerContext(), T0)
            claim = q.claim(conn, sid, "anna", T0)
            assert claim is not None and q.connect(conn, claim, T0 + timedelta(seconds=wait))
        q.enter(conn, "CA-other-queue", "elsewhere", q.CallerContext(), T0)
    report = read_report(store, settings, T0, T0 + timedelta(hours=2))
    body = report_as_dict(report, settings.queue)
    assert set(body) == {
        "queue",
        "from",
        "to",
        "timezone",
        "service_level_seconds",
        "total",
        "days",
        "hours",
    }
    assert (body["from"], body["to"]) == ("2026-11-26T10:00:00+01:00", "2026-11-26T12:00:00+01:00")
    total = body["total"]
    assert total["offered"] == 3  # the other queue's caller is not counted
    assert total["service_level"] == 0.6667
    assert total["average_speed_of_answer_seconds"] == 23.3
    assert [h["hours"] for h in body["hours"]] == [1.0, 1.0]
    assert [h["offered"] for h in body["hours"]] == [3, 0]
    assert list(total["transfers"]) == ["warm", "cold", "queue", "thread"]
