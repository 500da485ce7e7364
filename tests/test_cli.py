"""The ``hotline`` command: threads table, clean errors instead of tracebacks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import update

from hotline import create_app
from hotline.cli import cli, main
from hotline.messages.threads import open_thread
from hotline.rules.routing import Party
from hotline.server import banner
from hotline.store.database import get_store
from hotline.store.models import OutboxRow
from tests.conftest import ROOT


@pytest.fixture
def config_file(db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped config as a file, on this test's database; no Twilio token in the env."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///instance/hotline.db"', f'url = "sqlite:///{db_path}"')
    text = text.replace('flows_dir = "flows"', f'flows_dir = "{ROOT / "flows"}"')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("HOTLINE_CONFIG", "unused.toml")  # --config writes it; restore it after
    return path


def threads_output(config_file: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config_file), "threads", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_threads_when_there_are_none(config_file: Path) -> None:
    assert "no threads yet" in threads_output(config_file)


def test_threads_table_lists_the_question(app: Flask, config_file: Path) -> None:
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
    output = threads_output(config_file, "--seller", "acme")  # no auth token needed to list
    assert "0001" in output
    assert "waterproof?" in output  # the question column may wrap
    assert "1234567" in output
    assert "no threads yet" in threads_output(config_file, "--seller", "bookworm")


def test_outbox_lists_the_notifications_with_the_buyers_number_masked(
    app: Flask, config_file: Path
) -> None:
    def outbox_output(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config_file), "outbox", *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert "no notifications" in outbox_output()
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
    output = outbox_output()
    assert "thread_opened" in output and "buyer_thread_opened" in output
    assert "+48******200" in output and "+48601100200" not in output
    assert output.count("pending") == 2
    assert "no notifications failed" in outbox_output("--status", "failed")
    # An error written before errors were kept masked is masked when shown.
    with get_store(app).engine.begin() as conn:
        conn.execute(
            update(OutboxRow).values(
                last_error="Twilio answered 400 (error 21211): The 'To' number +48601100200 is "
                "not a valid phone number."
            )
        )
    output = outbox_output()
    assert "The 'To' number +48******200 is" in output and "601100200" not in output


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


@pytest.mark.parametrize(
    ("shared_key", "expected"),
    [
        (None, "Signature checks: on ($TWILIO_AUTH_TOKEN)"),
        (
            "a-shared-key",
            "Signature checks: on ($TWILIO_AUTH_TOKEN and SharedKey-signed ones "
            "($TWILIO_WEBHOOK_SHARED_KEY))",
        ),
    ],
)
def test_the_serve_banner_says_which_signatures_are_checked(
    config: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    shared_key: str | None,
    expected: str,
) -> None:
    if shared_key:
        monkeypatch.setenv("TWILIO_WEBHOOK_SHARED_KEY", shared_key)
    else:
        monkeypatch.delenv("TWILIO_WEBHOOK_SHARED_KEY", raising=False)
    banner(create_app(config), None, True, "127.0.0.1", 5000)
    assert expected in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    ("public", "expected"),
    [
        (None, "Voice fallback URL: http://127.0.0.1:5000/voice/fallback"),
        (
            "https://hotline.example.com",
            "Voice fallback URL: https://hotline.example.com/voice/fallback",
        ),
    ],
)
def test_the_serve_banner_gives_the_voice_fallback_url(
    config: dict[str, Any], capsys: pytest.CaptureFixture[str], public: str | None, expected: str
) -> None:
    banner(create_app(config), public, True, "127.0.0.1", 5000)
    out = " ".join(capsys.readouterr().out.split())
    assert expected in out
    assert "Voice Fallback URL" in out and "/voice/fallback." in out  # and what to do with it


def test_config_option_naming_a_missing_file_gives_its_absolute_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOTLINE_CONFIG", "unused.toml")  # --config writes it; restore it after
    with pytest.raises(SystemExit) as exited:
        main(["--config", "typo.toml", "flows", "check"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'typo.toml'}: no such config file "
        "(named by --config or $HOTLINE_CONFIG)\n"
    )


@pytest.mark.parametrize("make_folder", [False, True], ids=["no folder", "an empty folder"])
def test_flows_check_without_flows_names_hotline_flows_dir(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    make_folder: bool,
) -> None:
    if make_folder:
        (tmp_path / "flows").mkdir()
    config = tmp_path / "config.toml"
    config.write_text("[hotline]\ntimezone = 'Europe/Warsaw'\n", encoding="utf-8")
    monkeypatch.setenv("HOTLINE_CONFIG", "unused.toml")  # --config writes it; restore it after
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "flows", "check"])
    assert exited.value.code == 2
    flows = tmp_path / "flows"
    problem = (
        f"no flow files (*.toml) in {flows}"
        if make_folder
        else f"no such folder {flows} (a relative flows_dir is read from the config file's"
        f" folder, {tmp_path})"
    )
    assert capsys.readouterr().err == f"error: {config}: hotline.flows_dir: {problem}\n"


@pytest.mark.parametrize(("option", "value"), [("--workers", "0"), ("--port", "0")])
def test_serve_refuses_zero_workers_or_port_zero(
    config_file: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config_file), "serve", option, value])
    assert exited.value.code == 2
    assert f"Invalid value for '{option}'" in capsys.readouterr().err


def test_the_serve_banner_keeps_each_line_whole_in_a_pipe(
    config: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    banner(create_app(config), "https://hotline.example.com", True, "127.0.0.1", 5000)
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.endswith(
            "/api/threads  (Bearer $HOTLINE_API_TOKEN, or a seller's or agent's own token)"
        )
        for line in lines
    )
    assert any("Demo seller:        acme, token demo-seller-token" in line for line in lines)
    assert any("set your Twilio number's Voice URL to" in line for line in lines)


def test_the_serve_banner_names_the_health_check(
    config: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    banner(create_app(config), "https://hotline.example.com", True, "127.0.0.1", 5000)
    out = capsys.readouterr().out
    assert "Health check (GET): http://127.0.0.1:5000/healthz" in out


def test_replay_takes_the_top_level_config_from_another_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "config.toml"  # what ./config.toml would be here: not a config at all
    elsewhere.write_text("this is not the config\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t")
    monkeypatch.setenv("HOTLINE_API_TOKEN", "a")
    monkeypatch.setenv("HOTLINE_CONFIG", "unused.toml")  # --config writes it; restore it after
    main(["--config", str(ROOT / "config.toml"), "replay", str(ROOT / "tests/calls/readme")])
    assert capsys.readouterr().out.rstrip().endswith("1 passed, 0 failed")


@pytest.mark.parametrize("demo", [True, False], ids=["shipped demo agent", "own tokens"])
def test_the_serve_banner_says_how_the_demo_agent_logs_in(
    config: dict[str, Any], capsys: pytest.CaptureFixture[str], demo: bool
) -> None:
    if not demo:
        config["agents"][0]["token_sha256"] = "0" * 64
    banner(create_app(config), None, True, "127.0.0.1", 5000)
    out = " ".join(capsys.readouterr().out.split())
    assert "Agents: 1 configured; http://127.0.0.1:5000/api/queue" in out
    assert ("Demo agent: id demo, token demo-agent-token (Demo Agent;" in out) is demo
    assert "Console: http://127.0.0.1:5000/agent (an agent signs in with their id and token)" in out
    assert (
        "Message Center: http://127.0.0.1:5000/messages (a seller or a warehouse agent signs in "
        "with their token)"
    ) in out


def test_the_serve_banner_says_the_console_is_off_without_a_session_secret(
    config: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_SECRET_KEY")
    banner(create_app(config), None, True, "127.0.0.1", 5000)
    out = " ".join(capsys.readouterr().out.split())
    assert "Console: off: set $HOTLINE_SECRET_KEY (the same for every worker)" in out


def test_the_schedulers_log_keeps_the_libraries_to_their_warnings() -> None:
    import logging

    from hotline.cli import scheduler_logging

    levels = {name: logging.getLogger(name).level for name in ("apscheduler", "alembic", "twilio")}
    try:
        scheduler_logging()
        # twilio's client logs each request's headers at INFO from this logger.
        assert logging.getLogger("twilio.http_client").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("alembic.runtime.plugins").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("apscheduler.scheduler").getEffectiveLevel() == logging.WARNING
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
