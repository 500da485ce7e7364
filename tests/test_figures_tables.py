"""``hotline metrics queue``: the figures as tables in the terminal, bad dates refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from hotline.cli import cli
from hotline.store import queue_entries as q
from hotline.store.database import Store
from hotline.store.models import TransferRow
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
    monkeypatch.setenv("HOTLINE_CONFIG", "unused.toml")
    return path


def _run(config_file: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config_file), "metrics", "queue", *args])
    return result.exit_code, result.output


def _fill(db_path: Path) -> None:
    """The night the clocks go back: a caller at each 02:00, one hangs up, one is answered."""
    first_two = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 +02:00
    second_two = first_two + timedelta(hours=1)  # 02:30 +01:00
    store = Store(f"sqlite:///{db_path}")
    with store.engine.begin() as conn:
        q.enter(conn, "CA1", "warehouse", q.CallerContext(), first_two)
        q.leave(conn, "CA1", "hangup", first_two + timedelta(seconds=50))
        q.enter(conn, "CA2", "warehouse", q.CallerContext(), second_two)
        claim = q.claim(conn, "CA2", "anna", second_two + timedelta(seconds=10))
        assert claim is not None and q.connect(conn, claim, second_two + timedelta(seconds=12))
        conn.execute(
            insert(TransferRow).values(
                call_sid="CA2",
                agent_id="anna",
                kind="warm",
                target="acme",
                summary="s",
                at=second_two + timedelta(minutes=2),
                outcome="busy",
            )
        )
    store.engine.dispose()


def test_the_tables_of_a_25_hour_day(config_file: Path, db_path: Path) -> None:
    _fill(db_path)
    code, output = _run(config_file, "--from", "2026-10-25", "--to", "2026-10-26")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == (
        "queue warehouse: 2026-10-25 00:00+02:00 to 2026-10-26 00:00+01:00 (Europe/Warsaw); "
        "service level: answered within 30 s"
    )
    day = next(line for line in lines if "2026-10-25 Sun" in line).split("│")
    assert [c.strip() for c in day[1:-1]] == [
        "2026-10-25 Sun",
        "2",
        "1",
        "1",
        "0",
        "0",
        "12.0 s",
        "50.0 %",
        "50.0 %",
        "-",
    ]
    hours = [line.split("│")[1].strip() for line in lines if "2026-10-25 02:00" in line]
    assert hours == ["2026-10-25 02:00 +0200", "2026-10-25 02:00 +0100"]
    warm = next(line for line in lines if "│ warm" in line).split("│")
    assert [c.strip() for c in warm[1:-1]] == ["warm", "1", "1", "0", "0.0 %", "busy 1"]


def test_a_day_without_calls(config_file: Path) -> None:
    code, output = _run(config_file, "--from", "2026-11-26")
    assert code == 0, output
    assert "no calls in any hour" in output
    total = next(line for line in output.splitlines() if "│ total" in line).split("│")
    assert [c.strip() for c in total[1:-1]] == [
        "total",
        "0",
        "0",
        "0",
        "0",
        "0",
        "-",
        "-",
        "-",
        "-",
    ]


def test_bad_dates_are_refused_with_the_reason(config_file: Path) -> None:
    code, output = _run(config_file, "--from", "2026-11-26", "--to", "2026-11-25")
    assert code == 2
    assert "must be after from" in output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--from", "9999-12-31T23:00"), "from: '9999-12-31T23:00' is out of range"),
        (("--from", "0001-01-01"), "from: '0001-01-01' is out of range"),
        (("--from", "2026-03-29T02:30"), "'2026-03-29T02:30' is not a time in Europe/Warsaw"),
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_refused(
    config_file: Path, args: tuple[str, ...], says: str
) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config_file), "metrics", "queue", *args])
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert isinstance(result.exception, SystemExit)  # click's usage error, no traceback
