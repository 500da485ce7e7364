"""The ``hotline`` command: threads table, clean errors instead of tracebacks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from hotline.cli import cli, main
from hotline.routing import Party
from hotline.store import get_store
from hotline.threads import open_thread


def test_threads_when_there_are_none(runner: FlaskCliRunner) -> None:
    result = runner.invoke(cli, ["threads"])
    assert result.exit_code == 0, result.output
    assert "no threads yet" in result.output


def test_threads_table_lists_the_question(app: Flask, runner: FlaskCliRunner) -> None:
    with get_store(app).session() as session:
        open_thread(
            session,
            call_sid="CA1",
            party=Party.SELLER,
            seller_id="acme",
            order_id="1234567",
            topic="product",
            buyer_phone="+48601100200",
            question="Is it waterproof?",
            now=datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
        )
    result = runner.invoke(cli, ["threads", "--seller", "acme"])
    assert result.exit_code == 0, result.output
    assert "0001" in result.output
    assert "waterproof?" in result.output  # the question column may wrap
    assert "1234567" in result.output
    other = runner.invoke(cli, ["threads", "--seller", "bookworm"])
    assert "no threads yet" in other.output


def test_bad_config_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[hours]\nopens = "8 am"\n', encoding="utf-8")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t")
    monkeypatch.setenv("HOTLINE_CONFIG", "unused.toml")  # --config writes it; restore it after
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(bad), "db", "upgrade"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "hours.opens" in err and "08:00" in err
    assert "Traceback" not in err


def test_missing_auth_token_stops_serve_before_it_starts(
    config: dict[str, object], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setenv("HOTLINE_CONFIG", "unused.toml")  # --config writes it; restore it after
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(Path(__file__).parent.parent / "config.toml"), "serve"])
    assert exited.value.code == 2
    err = capsys.readouterr().err.replace("\n", " ")
    assert "TWILIO_AUTH_TOKEN" in err
    assert "[security]" in err  # printed as text, not eaten as terminal markup
