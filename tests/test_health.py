"""``GET /healthz``: 200 while the worker can serve calls, 503 and the reason otherwise."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hotline.store.database import head_revision
from hotline.web.webhook import FLOW


def _health(client: FlaskClient) -> tuple[int, dict[str, Any]]:
    response = client.get("/healthz")
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict)
    return response.status_code, body


def test_ok_without_any_token_or_signature(client: FlaskClient) -> None:
    # Signature checks are on in the shipped config; a load balancer signs nothing.
    assert _health(client) == (200, {"status": "ok", "schema": head_revision(), "flow": "hotline"})


def test_answers_head_for_probes_that_send_it(client: FlaskClient) -> None:
    assert client.head("/healthz").status_code == 200


def test_a_deleted_database_file_makes_it_503(client: FlaskClient, db_path: Path) -> None:
    client.get("/healthz")  # the worker has the file open
    db_path.unlink()
    status, body = _health(client)
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["problems"] == [
        "the database file was deleted while the server runs; this worker writes nothing more"
    ]
    assert str(db_path) not in str(body)  # the path is in the log, not in a public answer
    assert _health(client)[0] == 503  # for good: restoring the server is the way back
    assert not db_path.exists()


def test_a_replaced_database_file_makes_it_503(
    client: FlaskClient, db_path: Path, migrated_db: Path
) -> None:
    client.get("/healthz")
    other = db_path.with_name("other.db")
    shutil.copy(migrated_db, other)
    os.replace(other, db_path)
    status, body = _health(client)
    assert status == 503
    assert "replaced by another file" in body["problems"][0]


def test_a_database_at_another_schema_makes_it_503(client: FlaskClient, db_path: Path) -> None:
    # Someone ran an older release's migrations (or edited the table) while this one serves.
    with contextlib.closing(sqlite3.connect(db_path)) as db, db:
        db.execute("UPDATE alembic_version SET version_num = '0001'")
    status, body = _health(client)
    assert status == 503
    assert body["problems"] == [
        f"the database is at schema 0001, not {head_revision()}: run `hotline db upgrade`"
    ]


def test_a_database_that_does_not_answer_makes_it_503(
    client: FlaskClient, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with contextlib.closing(sqlite3.connect(db_path)) as db, db:
        db.execute("DROP TABLE alembic_version")
        db.execute("CREATE VIEW alembic_version AS SELECT 1 / 'x' AS nope FROM missing_table")
    status, body = _health(client)
    assert status == 503
    assert body["problems"] == ["the database does not answer"]
    assert str(db_path) in caplog.text  # the log names the database


def test_no_flow_makes_it_503(app: Flask, client: FlaskClient) -> None:
    del app.extensions[FLOW]
    status, body = _health(client)
    assert status == 503
    assert body["problems"] == ["no call flow is loaded"]


def test_the_check_takes_no_write_lock(client: FlaskClient, db_path: Path) -> None:
    # A load balancer probes every few seconds: the probe must not queue behind a webhook's write.
    with contextlib.closing(sqlite3.connect(db_path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        assert _health(client)[0] == 200
        writer.execute("ROLLBACK")
