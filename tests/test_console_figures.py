"""The console's panel of today's queue figures for a day with calls: the replayed busy hour
(tests/calls/agents/busy_hour.toml) in the store, then the console read later that day; every
figure of the day, the transfers by kind and the per-hour table, against hand-computed numbers
(those the script checks through ``GET /api/metrics/queue``)."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from hotline.agents.figures_panel import panel_of
from hotline.sim.engine.transport import WSGITransport
from hotline.sim.hotline_aware.target import HotlineTarget, build_hotline_app
from hotline.sim.run import rest_wiring
from hotline.sim.run.connection import Connection
from hotline.sim.run.outcomes import play_call
from hotline.sim.scripts.reader import load_script
from tests.conftest import API_TOKEN, AUTH_TOKEN, SECRET_KEY
from tests.test_console import figures_shown, sign_in

ROOT = Path(__file__).resolve().parents[1]
BUSY_HOUR = ROOT / "tests/calls/agents/busy_hour.toml"
LATER_THAT_DAY = "2026-11-26T15:00:00+01:00"


@pytest.fixture(scope="module")
def busy_day() -> Iterator[HotlineTarget]:
    """hotline after the replayed busy hour (10:00 to 11:00 in Warsaw on 26 November)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
        env.setenv("HOTLINE_API_TOKEN", API_TOKEN)
        env.setenv("HOTLINE_SECRET_KEY", SECRET_KEY)
        rest_wiring.in_process()  # before the app is built: its Client reaches the stand-in
        target = build_hotline_app(ROOT / "tests/configs/agents.toml")
        try:
            [script] = load_script(BUSY_HOUR)
            connection = Connection(
                WSGITransport(target), target.auth_token, target.api_token, target.base_url
            )
            outcome = play_call(script, connection)
            assert outcome.passed, outcome.failure
            yield target
        finally:
            target.close()


@pytest.fixture
def console(busy_day: HotlineTarget) -> FlaskClient:
    web = busy_day.app.test_client()
    with freeze_time(LATER_THAT_DAY):
        sign_in(web, "demo", "demo-agent-token")
    return web


class _Tables(HTMLParser):
    """Each <table>'s caption and rows of cell texts (the header cells' scope kept)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self._table: list[list[tuple[str, str]]] | None = None
        self._caption: str | None = None
        self._cell: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = []
        elif tag == "caption":
            self._caption = ""
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("th", "td"):
            kind = f"th {dict(attrs).get('scope')}" if tag == "th" else "td"
            self._cell = (kind, [])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None and self._table is not None:
            self._table[-1].append((self._cell[0], " ".join("".join(self._cell[1]).split())))
            self._cell = None
        elif tag == "table" and self._table is not None:
            self.tables[self._caption or ""] = self._table
            self._table, self._caption = None, None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1].append(data)
        elif self._caption is not None and self._table is not None and not self._table:
            self._caption += data


def _tables(page: str) -> dict[str, list[list[tuple[str, str]]]]:
    parser = _Tables()
    parser.feed(page)
    return {" ".join(caption.split()): rows for caption, rows in parser.tables.items()}


# The busy hour by hand (the script's comments say where each comes from): six callers, five
# answered, one abandoned (1 of 6: 17 %), four answered within 30 s (4 of 6: 67 %), the average
# speed of answer 19.8 s (99 s over 5: shown cut down to whole seconds, as a clock), the average
# handle time 130.4 s (652 s over 5), one transfer back to the queue, taken again (100 %).
DAY = {
    "offered": "6",
    "answered": "5",
    "abandoned": "1",
    "abandonment_rate": "17 %",
    "service_level": "67 %",
    "average_speed_of_answer": "0 min 19 s",
    "average_handle_time": "2 min 10 s",
    "transfers": "1 (queue 1)",
}


def test_the_panel_shows_every_figure_of_the_day(console: FlaskClient) -> None:
    with freeze_time(LATER_THAT_DAY):
        page = console.get("/agent/").get_data(as_text=True)
    assert "Today in warehouse" in page
    assert figures_shown(page) == DAY


def test_the_transfers_by_kind_with_their_success_rate(console: FlaskClient) -> None:
    with freeze_time(LATER_THAT_DAY):
        page = console.get("/agent/").get_data(as_text=True)
    head, *rows = _tables(page)["Transfers today by kind"]
    assert head == [
        ("th col", "Kind"),
        ("th col", "Made"),
        ("th col", "With an outcome"),
        ("th col", "Succeeded"),
        ("th col", "Success rate"),
    ]
    assert [[text for _, text in row] for row in rows] == [
        ["warm", "0", "0", "0", "—"],
        ["cold", "0", "0", "0", "—"],
        ["queue", "1", "1", "1", "100 %"],
        ["thread", "0", "0", "0", "—"],
    ]
    assert all(row[0][0] == "th row" for row in rows)


def test_the_per_hour_table_has_the_hours_with_calls(console: FlaskClient) -> None:
    with freeze_time(LATER_THAT_DAY):
        page = console.get("/agent/").get_data(as_text=True)
    head, *rows = _tables(page)["Today per hour (the hours with calls)"]
    assert [text for _, text in head] == [
        "Hour",
        "Offered",
        "Answered",
        "Abandoned",
        "Abandonment rate",
        "Answered within 30 s",
        "Average speed of answer",
        "Average handle time",
        "Transfers",
    ]
    assert {kind for kind, _ in head} == {"th col"}
    # All the calls came in 10:00 to 11:00: that hour alone, with the day's figures.
    [hour] = rows
    assert hour[0] == ("th row", "10:00–11:00")
    assert [text for _, text in hour[1:]] == list(DAY.values())
    assert '<time datetime="2026-11-26T10:00:00+01:00">' in page


def test_the_panel_is_the_api_s_report_and_the_polled_fragment_is_the_page_s(
    console: FlaskClient,
) -> None:
    with freeze_time(LATER_THAT_DAY):
        page = console.get("/agent/").get_data(as_text=True)
        fragment = console.get("/agent/figures")
        api = console.get("/api/metrics/queue")
    panel = panel_of(api.get_json())
    assert panel.total == DAY and [h.label for h in panel.hours] == ["10:00–11:00"]
    assert fragment.status_code == 200
    shown = fragment.get_data(as_text=True)
    assert shown.strip() in page  # console.js swaps in exactly what the first view shows


def test_the_next_day_starts_empty(console: FlaskClient) -> None:
    with freeze_time("2026-11-27T09:00:00+01:00"):
        shown = console.get("/agent/figures").get_data(as_text=True)
    assert figures_shown(shown)["offered"] == "0"
    [_, [empty]] = _tables(shown)["Today per hour (the hours with calls)"]
    assert empty == ("td", "No calls yet today.")


def test_the_fragment_needs_a_session(busy_day: HotlineTarget) -> None:
    answer = busy_day.app.test_client().get("/agent/figures")
    assert answer.status_code == 401 and "<table" not in answer.get_data(as_text=True)
