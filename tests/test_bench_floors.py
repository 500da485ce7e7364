"""``make bench``'s two floors do the work their docstrings say, and no less: signed, committed,
and (the state floor) the call's state read back and appended under its key."""

from __future__ import annotations

import contextlib
import importlib
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from hotline.store.database import upgrade_schema

BENCH = Path(__file__).resolve().parent.parent / "bench"
TOKEN = "bench-floor-token"
BASE = "http://localhost"
SID = "CA" + "5" * 32
CALLER, HOTLINE_NUMBER = "+48601100200", "+442071000000"


@pytest.fixture
def bench_modules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``bench/`` importable as ``make bench`` has it (its modules import one another)."""
    monkeypatch.syspath_prepend(str(BENCH))
    yield
    # Forgotten again, so no other test finds them imported. Not through ``monkeypatch``: its undo,
    # which runs after this, would put them back.
    for name in ("bare_app", "floor_app", "state_floor_app"):
        sys.modules.pop(name, None)


def _app(module: str, database: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("FLOOR_SIGNED_BASE", BASE)
    monkeypatch.setenv("FLOOR_DATABASE", str(database))
    found: ModuleType = importlib.import_module(module)
    return found.create_app().test_client()


def _post(client: Any, path: str, digits: str | None = None, signature: str | None = None) -> Any:
    form = {"CallSid": SID, "From": CALLER, "To": HOTLINE_NUMBER, "CallStatus": "ringing"}
    if digits is not None:
        form["Digits"] = digits
    if signature is None:
        signature = RequestValidator(TOKEN).compute_signature(BASE + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def _rows(database: Path, query: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(database)) as conn:
        return conn.execute(query).fetchall()


@pytest.mark.usefixtures("bench_modules")
def test_the_floor_commits_a_row_per_signed_request_and_none_for_a_bad_signature(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "floor.db"
    client = _app("floor_app", database, monkeypatch)
    answer = _post(client, "/voice")
    assert answer.status_code == 200 and b"<Gather" in answer.data
    assert _post(client, "/voice", signature="bad").status_code == 403
    assert _rows(database, "SELECT count(*) FROM webhook_log") == [(1,)]
    # A retry: the floor keeps no call, so it writes a second row.
    assert _post(client, "/voice").status_code == 200
    assert _post(client, "/voice/step/main_menu?attempt=1", digits="1").status_code == 200
    assert _rows(database, "SELECT call_sid, step FROM webhook_log ORDER BY id") == [
        (SID, "incoming"),
        (SID, "incoming"),
        (SID, "main_menu"),
    ]


@pytest.mark.usefixtures("bench_modules")
def test_the_state_floor_reads_the_call_back_and_appends_by_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "state_floor.db"
    upgrade_schema(f"sqlite:///{database}")
    client = _app("state_floor_app", database, monkeypatch)
    events = (
        "SELECT seq, step, input, from_number, to_number, call_step, started_at IS NOT NULL "
        "FROM call_events ORDER BY seq"
    )
    # A step of a call never greeted: answered, nothing written.
    assert _post(client, "/voice/step/main_menu?attempt=1", digits="1").status_code == 200
    assert _rows(database, events) == []
    assert _post(client, "/voice", signature="bad").status_code == 403
    assert _rows(database, events) == []
    for _ in range(2):  # Twilio retries the greeting: its key is taken, nothing more is written
        assert _post(client, "/voice").status_code == 200
    assert _rows(database, events) == [
        (1, "incoming", None, CALLER, HOTLINE_NUMBER, "main_menu", 1)
    ]
    step = _post(client, "/voice/step/main_menu?attempt=1", digits="1")
    assert step.status_code == 200 and b"<Gather" in step.data
    # The step's row carries the state read from the greeting's.
    assert _rows(database, events)[1] == (
        2,
        "main_menu",
        "digits=1",
        CALLER,
        HOTLINE_NUMBER,
        "main_menu",
        1,
    )
