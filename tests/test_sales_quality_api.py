"""Sales quality from a seeded store: ``GET /api/metrics/sales-quality`` (who may read which
seller's figures, the window) and ``hotline metrics sales-quality``, against hand-computed
figures. The cases (T0 = 2026-11-02 09:00 UTC, now = T0 + 5 days):

- A (acme): the buyer at T0, the seller at T0 + 23:59:59: timely, 86,399 s;
- B (acme): the buyer at T0 + 1 h, forwarded at T0 + 2 h, the warehouse at T0 + 25 h (24 h
  exactly after the buyer): late, 86,400 s; counted for acme and for the warehouse alone;
- C (acme, a Discussion): the buyer at T0 + 2 d and again an hour later, the seller at
  T0 + 2 d + 3 h: timely; 10,800 s and 7,200 s;
- D (acme): the buyer an hour before now, no response: pending;
- E (greenleaf, the warehouse's): the buyer at T0, no response: late;
- F (a combined order's delivery Discussion, no seller): the buyer at T0, the warehouse an hour
  later: timely for the warehouse alone, 3,600 s.

acme: 2 timely, 1 late, 1 pending: 2/3; (86,399 + 86,400 + 10,800 + 7,200) / 4 = 47,699.75 s.
greenleaf: 0 of 1; no response time. The warehouse alone (B, E, F): 1/3; (86,400 + 3,600) / 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from hotline import create_app
from hotline.agents.roster import DEMO_TOKEN, token_digest
from hotline.cli import cli
from hotline.config.settings import Settings, load_settings
from hotline.messages import conversation, forwarding
from hotline.messages.conversation import Author
from hotline.messages.quality import quality_report
from hotline.messages.threads import open_conversation
from hotline.rules.sales_quality import Window
from hotline.store.database import Store, get_store, sync_directory
from hotline.web import webhook
from tests.conftest import API_TOKEN, ROOT

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=5)
HOUR = timedelta(hours=1)
SELLER_TOKEN = "demo-seller-token"  # acme's
OTHER_TOKEN = "greenleaf-token"
URL = "/api/metrics/sales-quality"
ACME = {
    "timely_responses": 2 / 3,
    "average_response_time_s": 47699.75,
    "threads": 3,
    "timely": 2,
    "late": 1,
    "pending": 1,
    "responses": 4,
}
GREENLEAF = {
    "timely_responses": 0.0,
    "average_response_time_s": None,
    "threads": 1,
    "timely": 0,
    "late": 1,
    "pending": 0,
    "responses": 0,
}
NOBODY = {
    "timely_responses": None,
    "average_response_time_s": None,
    "threads": 0,
    "timely": 0,
    "late": 0,
    "pending": 0,
    "responses": 0,
}
WAREHOUSE = {
    "timely_responses": 1 / 3,
    "average_response_time_s": 45000.0,
    "threads": 3,
    "timely": 1,
    "late": 2,
    "pending": 0,
    "responses": 2,
}


def seed(store: Store, settings: Settings) -> None:
    """Write the cases A to F."""
    orders = {o.id: o for o in settings.orders}
    routing = settings.routing

    def opened(order: str, at: datetime, **route: str) -> Any:
        return open_conversation(
            session, routing, orders[order], text="A question.", now=at, **route
        ).thread

    with store.session() as session:
        a = opened("1234567", T0, topic="product_details")
        conversation.write(
            session,
            a,
            Author("seller", "acme"),
            "An answer.",
            T0 + timedelta(hours=23, minutes=59, seconds=59),
        )
        b = opened("3456789", T0 + HOUR, topic="proof_of_purchase")
        forwarding.forward(
            session, b, Author("seller", "acme"), "warehouse", "Yours.", T0 + 2 * HOUR
        )
        conversation.write(session, b, Author("warehouse", "demo"), "Here.", T0 + 25 * HOUR)
        c = opened("1234567", T0 + 48 * HOUR, reason="defect_during_use")
        conversation.write(session, c, Author("buyer"), "Hello?", T0 + 49 * HOUR)
        conversation.write(session, c, Author("seller", "acme"), "Sorry.", T0 + 51 * HOUR)
        opened("1234567", NOW - HOUR, topic="lower_price")
        opened("4567890", T0, topic="order_preparation")
        f = opened("6789012", T0, reason="not_received")
        conversation.write(session, f, Author("warehouse", "demo"), "On its way.", T0 + HOUR)


@pytest.fixture
def seeded(config: dict[str, Any]) -> Iterator[Flask]:
    greenleaf = next(s for s in config["sellers"] if s["id"] == "greenleaf")
    greenleaf["token_sha256"] = token_digest(OTHER_TOKEN)
    app = create_app(config)
    seed(get_store(app), app.extensions[webhook.SETTINGS])
    yield app
    get_store(app).engine.dispose()


def test_the_report_from_the_store_on_sqlite_and_postgresql(any_store: Store) -> None:
    settings = load_settings(ROOT / "config.toml")
    sync_directory(any_store, settings)
    seed(any_store, settings)
    window = Window(T0 - timedelta(days=1), NOW)
    with any_store.session() as session:
        report = quality_report(
            session, ["acme", "bookworm", "greenleaf"], window, NOW, 24, warehouse=True
        )
    assert report.sellers["acme"].as_dict() == ACME
    assert report.sellers["greenleaf"].as_dict() == GREENLEAF
    assert report.sellers["bookworm"].as_dict() == NOBODY
    assert report.warehouse is not None and report.warehouse.as_dict() == WAREHOUSE


def get(client: FlaskClient, query: str = "", token: str | None = API_TOKEN) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with freeze_time(NOW):
        return client.get(URL + query, headers=headers)


def figures(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ACME}


def test_each_seller_and_the_warehouse_alone_over_the_default_window(seeded: Flask) -> None:
    body = get(seeded.test_client()).get_json()
    assert body["sellers"] == {"acme": ACME, "bookworm": NOBODY, "greenleaf": GREENLEAF}
    assert body["warehouse"] == WAREHOUSE
    # 30 times 24 hours of real time up to now (so 11:00 in Warsaw before the clocks went back).
    assert body["from"] == "2026-10-08T11:00:00+02:00" and body["to"] == "2026-11-07T10:00:00+01:00"


@pytest.mark.parametrize("token", [API_TOKEN, DEMO_TOKEN])
def test_one_seller_for_the_operator_and_the_warehouse(seeded: Flask, token: str) -> None:
    body = get(seeded.test_client(), "?seller=acme", token).get_json()
    assert body["seller"] == "acme" and figures(body) == ACME


def test_a_seller_reads_their_own_figures_only(seeded: Flask) -> None:
    client = seeded.test_client()
    own = get(client, "", SELLER_TOKEN)
    assert own.status_code == 200 and own.get_json()["seller"] == "acme"
    assert figures(own.get_json()) == ACME
    assert figures(get(client, "?seller=acme", SELLER_TOKEN).get_json()) == ACME
    other = get(client, "?seller=acme", OTHER_TOKEN)
    assert other.status_code == 404 and other.get_json() == {"error": "no seller 'acme'"}
    assert figures(get(client, "", OTHER_TOKEN).get_json()) == GREENLEAF


def test_the_window_asked_for(seeded: Flask) -> None:
    # From Warsaw's midnight of 4 November: only C (answered in time, two waits) and D.
    body = get(seeded.test_client(), "?seller=acme&from=2026-11-04&to=2026-11-08").get_json()
    assert figures(body) == {
        "timely_responses": 1.0,
        "average_response_time_s": 9000.0,
        "threads": 1,
        "timely": 1,
        "late": 0,
        "pending": 1,
        "responses": 2,
    }
    assert body["from"] == "2026-11-04T00:00:00+01:00"


@pytest.mark.parametrize(
    ("query", "token", "status", "says"),
    [
        ("", None, 401, "missing or wrong bearer token"),
        ("", "guess", 401, "missing or wrong bearer token"),
        ("?seller=nobody", API_TOKEN, 404, "no seller 'nobody'"),
        ("?from=soon", API_TOKEN, 400, "from: 'soon' is not a date"),
        ("?from=2026-11-05&to=2026-11-04", API_TOKEN, 400, "must be after from"),
        ("?to=0001-01-01", API_TOKEN, 400, "to: '0001-01-01' is out of range"),
        ("?from=0001-01-01&to=9999-12-31", API_TOKEN, 400, "is out of range"),
        ("?from=9999-12-31T23:00", API_TOKEN, 400, "from: '9999-12-31T23:00' is out of range"),
        ("?from=2026-03-29T02:30", API_TOKEN, 400, "'2026-03-29T02:30' is not a time in"),
        # No ``to`` is now: the instants compared are named, not "to None".
        ("?from=2020-01-01", API_TOKEN, 400, "to 2026-11-"),
    ],
)
def test_refusals_are_json_with_a_message(
    seeded: Flask, query: str, token: str | None, status: int, says: str
) -> None:
    response = get(seeded.test_client(), query, token)
    assert response.status_code == status
    assert says in response.get_json()["error"]


@pytest.fixture
def config_file(
    seeded: Flask, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///instance/hotline.db"', f'url = "sqlite:///{db_path}"')
    text = text.replace('flows_dir = "flows"', f'flows_dir = "{ROOT / "flows"}"')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("HOTLINE_CONFIG", "unused.toml")  # --config writes it; restored after
    return path


def command(config_file: Path, *args: str) -> Any:
    with freeze_time(NOW):
        return CliRunner().invoke(
            cli, ["--config", str(config_file), "metrics", "sales-quality", *args]
        )


def test_the_command_prints_each_seller_and_the_warehouse(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = command(config_file)
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    acme = [c.strip() for c in rows["acme"].split("│")[1:-1]]
    assert acme == ["acme", "66.7%", "13 h 15 min 00 s", "3", "2", "1", "1", "4"]
    warehouse = [c.strip() for c in rows["the warehouse alone"].split("│")[1:-1]]
    assert warehouse == [
        "the warehouse alone",
        "33.3%",
        "12 h 30 min 00 s",
        "3",
        "1",
        "2",
        "0",
        "2",
    ]
    greenleaf = [c.strip() for c in rows["greenleaf"].split("│")[1:-1]]
    assert greenleaf[1:3] == ["0.0%", "—"]


def test_the_command_for_one_seller_and_its_errors(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = command(config_file, "--seller", "acme", "--from", "2026-11-04")
    assert result.exit_code == 0, result.output
    assert "the warehouse alone" not in result.output and "greenleaf" not in result.output
    assert "100.0%" in result.output and "2 h 30 min 00 s" in result.output
    unknown = command(config_file, "--seller", "nobody")
    assert unknown.exit_code == 2 and "no seller 'nobody'" in unknown.output
    bad = command(config_file, "--to", "later")
    assert bad.exit_code == 2 and "to: 'later' is not a date" in bad.output
    for args in (["--to", "0001-01-01"], ["--from", "0001-01-01", "--to", "9999-12-31"]):
        extreme = command(config_file, *args)
        assert extreme.exit_code == 2 and "is out of range" in extreme.output
        assert isinstance(extreme.exception, SystemExit)  # click's usage error, no traceback


@pytest.mark.parametrize(
    ("asked", "answered", "timely", "seconds"),
    [
        # Spring: Saturday 12:00 CET to Sunday 12:30 CEST is 23 h 30 min of real time: timely.
        (
            datetime(2026, 3, 28, 11, 0, tzinfo=UTC),
            datetime(2026, 3, 29, 10, 30, tzinfo=UTC),
            1,
            84600,
        ),
        # Autumn: Saturday 12:00 CEST to Sunday 11:30 CET is 24 h 30 min: late.
        (
            datetime(2026, 10, 24, 10, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 10, 30, tzinfo=UTC),
            0,
            88200,
        ),
    ],
    ids=["spring", "autumn"],
)
def test_a_thread_across_a_dst_change_through_the_api(
    config: dict[str, Any], asked: datetime, answered: datetime, timely: int, seconds: int
) -> None:
    """Written through the API under a frozen clock, read back through the API: the 24 h mark
    is real time, whatever the wall clocks in Warsaw did in between."""
    app = create_app(config)
    client = app.test_client()
    operator = {"Authorization": f"Bearer {API_TOKEN}"}
    seller = {"Authorization": f"Bearer {SELLER_TOKEN}"}
    try:
        with freeze_time(asked):
            body = {"order": "1234567", "topic": "product_details", "text": "Does it fit?"}
            thread = client.post("/api/threads", json=body, headers=operator).get_json()
        with freeze_time(answered):
            path = f"/api/threads/{thread['id']}/messages"
            assert client.post(path, json={"text": "Yes."}, headers=seller).status_code == 201
        with freeze_time(answered + timedelta(days=2)):
            query = f"?seller=acme&from={asked.date()}&to={(answered + timedelta(days=1)).date()}"
            got = client.get(URL + query, headers=operator).get_json()
        assert (got["timely"], got["late"], got["average_response_time_s"]) == (
            timely,
            1 - timely,
            seconds,
        )
    finally:
        get_store(app).engine.dispose()
