"""Replaying against a running server: what the shipped scripts need, and a real gunicorn, twice.

A running server keeps its own clock and everything earlier calls stored, so a script says what
it needs of an app built for the replay (``needs``); ``--url`` skips such calls. The first tests
prove the declarations right in-process: every call of ``tests/calls`` that claims neither need
passes at any time of day, on a database earlier calls have filled. The last one replays a few
shipped scripts twice over ``--url`` against ``hotline serve`` on a temporary database.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from hotline.sim.engine.clock import AppTime
from hotline.sim.engine.transport import WSGITransport
from hotline.sim.frontends.replay import replay
from hotline.sim.hotline_aware.target import HotlineTarget, build_hotline_app
from hotline.sim.run.connection import Connection
from hotline.sim.run.outcomes import play_call
from hotline.sim.run.runner import load_scripts
from hotline.sim.scripts.model import CallScript
from tests.live_server import serve_hotline

ROOT = Path(__file__).resolve().parent.parent
CALLS = ROOT / "tests" / "calls"
WARSAW = ZoneInfo("Europe/Warsaw")
# One instant for each state the hours can be in (config.toml): closed before opening (opens again
# today), open with Bookworm's own hours over (a Saturday; a weekday evening), open with every
# seller in, a closed date (opens again days later), closed at night (opens again tomorrow).
ANY_TIME = [
    datetime(2026, 11, 30, 3, 0, tzinfo=WARSAW),
    datetime(2026, 11, 28, 12, 0, tzinfo=WARSAW),
    datetime(2026, 11, 30, 18, 30, tzinfo=WARSAW),
    datetime(2026, 11, 30, 10, 0, tzinfo=WARSAW),
    datetime(2026, 12, 25, 12, 0, tzinfo=WARSAW),
    datetime(2026, 11, 30, 22, 0, tzinfo=WARSAW),
]
AUTH_TOKEN = "live-test-auth-token"
API_TOKEN = "live-test-api-token"


@pytest.fixture(scope="module")
def shipped() -> list[CallScript]:
    """Every call of tests/calls."""
    return load_scripts([CALLS])


def _play_on(app: HotlineTarget, script: CallScript, app_time: AppTime) -> str | None:
    """Play ``script`` on ``app`` as a server would take it (no reset, fresh SIDs)."""
    connection = Connection(
        WSGITransport(app), app.auth_token, app.api_token, app.base_url, None, secrets.token_hex(8)
    )
    outcome = play_call(script, connection, app_time=app_time)
    return None if outcome.passed else f"{script.id} at {script.at}: {outcome.failure}"


def test_calls_that_need_nothing_pass_at_any_time_on_a_used_database(
    shipped: list[CallScript],
) -> None:
    free = [script for script in shipped if not script.needs]
    assert len(free) >= 20  # the live replay below has something to run
    app = build_hotline_app(ROOT / "config.toml")
    app_time = AppTime()
    try:
        # Calls that need an empty database leave threads behind: the rest must not mind.
        for script in shipped:
            if "empty-database" in script.needs:
                _play_on(app, script, app_time)
        failures = [
            failure
            for at in ANY_TIME
            for script in free
            if (failure := _play_on(app, dataclasses.replace(script, at=at), app_time))
        ]
    finally:
        app_time.stop()
        app.close()
    assert failures == [], "\n".join(failures)


def test_a_call_marked_virtual_time_fails_at_some_time(
    shipped: list[CallScript],
) -> None:
    # The declarations are not decoration: a call marked virtual-time fails at some instant.
    marked = [s for s in shipped if s.needs == {"virtual-time"}]
    app = build_hotline_app(ROOT / "config.toml")
    app_time = AppTime()
    try:
        for script in marked[:3]:
            results = []
            for at in ANY_TIME:
                app.reset()
                results.append(_play_on(app, dataclasses.replace(script, at=at), app_time))
            assert any(results), f"{script.id} passes at every instant: it needs no virtual-time"
    finally:
        app_time.stop()
        app.close()


# -- a real server ---------------------------------------------------------------------------------


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """``hotline serve`` (gunicorn, 2 workers, signatures checked) on a fresh SQLite file."""
    tokens = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HOTLINE_API_TOKEN": API_TOKEN}
    with serve_hotline(tmp_path, workers=2, env=tokens) as server:
        yield server.url


def test_replay_against_a_live_server_twice(live_server: str, tmp_path: Path) -> None:
    scripts = [
        CALLS / "menu" / "main_menu_keys.toml",  # four calls run, key 0 needs the hours
        CALLS / "fallback" / "seller_number.toml",  # two count threads: skipped
        CALLS / "product" / "which_order.toml",  # order look-ups, typed orders
    ]
    env = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HOTLINE_API_TOKEN": API_TOKEN}
    runs = []
    for run in ("first", "second"):
        report = tmp_path / f"{run}.json"
        args = ["--url", live_server, *map(str, scripts), "--json", str(report)]
        result = CliRunner().invoke(replay, args, env=env)
        assert result.exit_code == 0, result.output
        runs.append(json.loads(report.read_text()))
        assert "skipped: needs the app to see the call's virtual time" in result.output
        assert "skipped: needs an empty database" in result.output

    first, second = runs
    assert first["summary"] == second["summary"]
    assert first["summary"]["failed"] == 0
    assert first["summary"]["passed"] >= 10 and first["summary"]["skipped"] >= 5
    played = [
        (one["call_sid"], other["call_sid"])
        for one, other in zip(first["calls"], second["calls"], strict=True)
        if one["status"] == "passed"
    ]
    assert all(a != b for a, b in played)  # the second run never reuses a CallSid
