"""The SQLite file: never created outside ``hotline db upgrade``, never served unmigrated, and never
written once it is no longer the file at its path (deleted, or replaced by another)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from hotline import create_app
from hotline.cli import main
from hotline.errors import StoreError
from hotline.store.database import Store, make_engine, upgrade_schema
from hotline.store.sqlite_file import file_path
from tests.conftest import AUTH_TOKEN, CallActions
from tests.live_server import serve_hotline, write_config

OPEN = "2026-11-26T10:00:00+01:00"  # a Thursday, mid-morning in Warsaw: the hotline is open
APOLOGY = "Sorry, something went wrong"
UPGRADE = "`hotline db upgrade`"


def _count(db: sqlite3.Connection, table: str) -> int:
    count: int = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return count


@contextlib.contextmanager
def _holding(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection opened on ``path`` now: it keeps reading that file after it leaves the path."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        _count(db, "call_events")  # opens the file (and its WAL) before anything happens to it
        yield db


# -- which URLs are files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////srv/hotline/hotline.db", Path("/srv/hotline/hotline.db")),
        ("sqlite:///hotline.db", Path.cwd() / "hotline.db"),
        ("sqlite:///:memory:", None),
        ("sqlite://", None),
        ("sqlite:///file:hotline.db?mode=ro&uri=true", None),  # the URL's own URI: left alone
        ("postgresql+psycopg://u:pw@db/hotline", None),  # PostgreSQL: no file to watch
    ],
)
def test_file_path(url: str, expected: Path | None) -> None:
    assert file_path(url) == expected


# -- never created implicitly --------------------------------------------------------------------


def test_an_engine_on_a_missing_file_fails_to_connect_and_creates_nothing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    with pytest.raises(Exception, match="unable to open database file"), engine.connect():
        pass
    engine.dispose()
    assert list(tmp_path.iterdir()) == []


def test_a_path_with_uri_characters_opens_that_very_file(tmp_path: Path) -> None:
    # The file is opened as a SQLite URI: '#', '%' and spaces must not cut or change its name.
    path = tmp_path / "odd # 100% name" / "hotline.db"
    upgrade_schema(f"sqlite:///{path}")
    store = Store(f"sqlite:///{path}")
    try:
        assert store.schema_is_current()
        with store.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO sellers (id, name, phone) VALUES ('x', 'X', '+1')")
    finally:
        store.engine.dispose()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert _count(db, "sellers") == 1
    assert {p.name for p in path.parent.iterdir()} <= {
        "hotline.db",
        "hotline.db-wal",
        "hotline.db-shm",
        "hotline.db.lock",  # the writers' queue (store/write_lock.py)
    }
    assert [p.name for p in tmp_path.iterdir()] == ["odd # 100% name"]


def test_create_app_refuses_a_missing_database_and_creates_nothing(
    config: dict[str, Any], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "hotline.db"
    config["store"]["url"] = f"sqlite:///{missing}"
    with pytest.raises(StoreError) as refused:
        create_app(config)
    assert str(missing) in str(refused.value)
    assert UPGRADE in str(refused.value)
    assert not missing.parent.exists()


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["threads"]])
def test_commands_refuse_a_missing_database_and_create_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    missing = tmp_path / "data" / "hotline.db"
    config = write_config(tmp_path, missing)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("HOTLINE_CONFIG", "unused.toml")  # --config writes it; restore it after
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), *command])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert "serving" not in out
    assert UPGRADE in " ".join(err.split())
    assert not missing.parent.exists()


# -- never served unmigrated ---------------------------------------------------------------------


@pytest.mark.parametrize(("revision", "said"), [(None, "no schema"), ("0001", "at 0001")])
def test_create_app_refuses_a_database_not_at_the_newest_schema(
    config: dict[str, Any], tmp_path: Path, revision: str | None, said: str
) -> None:
    stale = tmp_path / "stale.db"
    if revision is None:
        stale.touch()  # a file nobody migrated
    else:
        upgrade_schema(f"sqlite:///{stale}", revision)
    config["store"]["url"] = f"sqlite:///{stale}"
    with pytest.raises(StoreError) as refused:
        create_app(config)
    message = str(refused.value)
    assert str(stale) in message
    assert said in message
    assert UPGRADE in message


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["threads"]])
def test_commands_refuse_an_unmigrated_database_before_any_banner(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    empty = tmp_path / "hotline.db"
    empty.touch()
    config = write_config(tmp_path, empty)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("HOTLINE_CONFIG", "unused.toml")  # --config writes it; restore it after
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), *command])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""  # no banner, nothing served
    err = " ".join(err.split())
    assert UPGRADE in err and str(empty) in err
    assert "Traceback" not in err


# -- the file leaves its path while the app runs -------------------------------------------------


def test_a_deleted_database_is_noticed_and_never_written_again(
    call: CallActions, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with freeze_time(OPEN), _holding(db_path) as orphan:
        menu = call.start()
        written = _count(orphan, "call_events")
        assert written == 1
        db_path.unlink()  # the -wal and -shm files stay, as after an `rm hotline.db`
        with caplog.at_level(logging.ERROR):
            first = call.press(menu, "1")
            second = call.press(menu, "2")
        assert _count(orphan, "call_events") == written
    for answer in (first, second):
        assert answer.status == 200
        assert APOLOGY in answer.said
        assert answer.first("Enqueue").text == "warehouse"  # open: the safe path is an agent
    noticed = [r for r in caplog.records if r.name == "hotline.store.sqlite_file"]
    assert len(noticed) == 1  # loud, once, and every later webhook fails fast
    assert noticed[0].levelno == logging.ERROR
    assert str(db_path) in noticed[0].getMessage()
    assert "was deleted" in noticed[0].getMessage()
    assert "restart the server" in noticed[0].getMessage()
    # Every failed webhook's log line says why.
    failed = [r for r in caplog.records if r.name == "hotline.web.webhook"]
    assert failed and all(r.exc_info and "was deleted" in str(r.exc_info[1]) for r in failed)
    assert not db_path.exists()  # and no new file took its place


def test_a_replaced_database_is_noticed_and_neither_file_is_written(
    call: CallActions, db_path: Path, migrated_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with freeze_time(OPEN), _holding(db_path) as orphan:
        menu = call.start()
        # Moved into place the careful way: the old file's WAL emptied first, else SQLite would
        # replay the old file's last commits into the new one.
        orphan.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        other = db_path.with_name("other.db")
        shutil.copy(migrated_db, other)
        os.replace(other, db_path)
        with caplog.at_level(logging.ERROR):
            answer = call.press(menu, "1")
        assert _count(orphan, "call_events") == 1
        with contextlib.closing(sqlite3.connect(db_path)) as replacement:
            assert _count(replacement, "call_events") == 0
    assert APOLOGY in answer.said
    [noticed] = [r for r in caplog.records if r.name == "hotline.store.sqlite_file"]
    assert "was replaced by another file" in noticed.getMessage()


# -- with gunicorn -------------------------------------------------------------------------------


def _healthz(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_gunicorn_never_serves_a_new_database_after_the_file_is_deleted(
    tmp_path: Path, db_path: Path
) -> None:
    # One worker: once /healthz answers, it has booted (with two, the second might still be
    # starting when the file goes, and fail on its own).
    with serve_hotline(tmp_path, database=db_path) as server:
        assert _healthz(server.port)[0] == 200
        db_path.unlink()
        status, body = _healthz(server.port)
        assert status == 503
        assert "deleted" in body
        [worker] = server.workers()
        os.kill(worker, signal.SIGKILL)  # gunicorn starts another worker in its place
        exit_code = server.process.wait(timeout=60)
    output = server.log()
    # The new worker refused the missing file, and gunicorn stopped rather than run on without it.
    assert exit_code != 0, output
    assert f"no database file at {db_path}" in output
    assert UPGRADE in output
    assert not db_path.exists()
    with pytest.raises(OSError):
        _healthz(server.port)
