"""``hotline demo seed``: the demo seller's four threads, written once however often it runs,
and their figures as the demo shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from hotline.cli import cli
from hotline.config.settings import load_settings
from hotline.messages.demo import seed_demo
from hotline.messages.inbox import inbox
from hotline.messages.quality import seller_quality, warehouse_quality
from hotline.messages.visibility import Viewer
from hotline.rules.sales_quality import window_ending
from hotline.store.database import Store, get_store, sync_directory
from hotline.store.models import ThreadRow
from tests.conftest import ROOT


@pytest.fixture
def config_file(app: Flask, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped config on this test's database (the ``app`` fixture loaded its directory)."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///instance/hotline.db"', f'url = "sqlite:///{db_path}"')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("HOTLINE_CONFIG", "unused.toml")  # --config writes it; restored after
    return path


def test_the_command_writes_the_threads_once(app: Flask, config_file: Path) -> None:
    first = CliRunner().invoke(cli, ["--config", str(config_file), "demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "4 Message Center threads written for the demo seller acme" in first.output
    assert first.output.count("a buyer's page: /t/") == 4
    again = CliRunner().invoke(cli, ["--config", str(config_file), "demo", "seed"])
    assert again.exit_code == 0, again.output
    assert "threads are in place" in again.output
    with get_store(app).session() as session:
        assert session.scalar(select(func.count()).select_from(ThreadRow)) == 4


def test_the_demos_figures_and_lists_on_sqlite_and_postgresql(any_store: Store) -> None:
    now = datetime.now(UTC)
    settings = load_settings(ROOT / "config.toml")
    sync_directory(any_store, settings)
    with any_store.session() as session:
        seed_demo(session, settings, now)
        assert seed_demo(session, settings, now) == []
        window = window_ending(now, 30)
        acme = seller_quality(session, "acme", window, now, 24)
        alone = warehouse_quality(session, window, now, 24)
        mine = inbox(session, Viewer("seller", "acme"), now, 24)
        its = inbox(session, Viewer("warehouse", "demo"), now, 24)
    # By their place among the demo's threads (ids differ on a PostgreSQL sequence).
    first = min(e.thread.id for e in mine.assigned + mine.followed)
    assert [(e.thread.id - first + 1, e.standing) for e in mine.assigned] == [
        (3, "waiting"),
        (2, "answered"),
        (1, "answered"),
    ]
    assert [(e.thread.id - first + 1, e.standing) for e in mine.followed] == [(4, "overdue")]
    assert [e.thread.id - first + 1 for e in its.assigned] == [4] and len(its.followed) == 3
    # In time (2 h), late (30 h), the forwarded one overdue (late), the Discussion pending.
    assert (acme.timely, acme.late, acme.pending) == (1, 2, 1)
    assert acme.timely_responses == pytest.approx(1 / 3)
    assert acme.average_response_time_s == pytest.approx(16 * 3600)
    assert (alone.timely, alone.late, alone.timely_responses) == (0, 1, 0.0)
