"""Shared fixtures: a real SQLite store per test, the app, and a ``call`` that signs like Twilio."""

from __future__ import annotations

import os
import shutil
import tomllib
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.engine import Dialect, make_url
from twilio.request_validator import RequestValidator

from hotline import create_app
from hotline.store.database import Store, upgrade_schema
from hotline.store.models import Base

ROOT = Path(__file__).resolve().parent.parent
AUTH_TOKEN = "test-auth-token"
API_TOKEN = "test-api-token"
SECRET_KEY = "test-session-secret-key-0123456789"
HOTLINE_NUMBER = "+442071000000"  # English prompts in the shipped config
POLISH_NUMBER = "+48221000000"
# Fixtures of their own module: browser (Debian's Chromium via Playwright), page, served_app;
# pytester runs pytest inside a test (the browser fixture's skip is checked that way).
pytest_plugins = ["tests.browser", "pytester"]


def shipped_config() -> dict[str, Any]:
    """The shipped ``config.toml`` as a mapping, with the flows folder made absolute."""
    with (ROOT / "config.toml").open("rb") as fh:
        data = tomllib.load(fh)
    data["hotline"]["flows_dir"] = str(ROOT / "flows")
    return data


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file at the newest schema, made once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "hotline.db"
    upgrade_schema(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_path(tmp_path: Path, migrated_db: Path) -> Path:
    """This test's own database file (a copy of the migrated template)."""
    path = tmp_path / "hotline.db"
    shutil.copy(migrated_db, path)
    return path


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    """A store on this test's migrated database, without the app (and without the directory)."""
    the_store = Store(f"sqlite:///{db_path}")
    yield the_store
    the_store.engine.dispose()


POSTGRES_URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL")


def postgres_database() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database, dropped afterwards (skips without a server)."""
    if not POSTGRES_URL:
        pytest.skip("set HOTLINE_TEST_POSTGRES_URL to a PostgreSQL server (.ci/run does)")
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_store() -> Iterator[Store]:
    """A store on one PostgreSQL database at the newest schema, shared by the session's tests."""
    for url in postgres_database():
        upgrade_schema(url)
        the_store = Store(url)
        try:
            yield the_store
        finally:
            the_store.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, db_path: Path) -> Iterator[Store]:
    """A store at the newest schema on SQLite, then on PostgreSQL (when a server is named).

    On PostgreSQL the database and its connections are the session's, the tables emptied
    before each test (a database and connections for each test would cost a third of a second).
    """
    if request.param == "postgresql":
        shared: Store = request.getfixturevalue("postgres_store")
        with (
            shared.engine.begin() as conn
        ):  # DELETE: for tables this small, far faster than TRUNCATE
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        yield shared
        return
    the_store = Store(f"sqlite:///{db_path}")
    yield the_store
    the_store.engine.dispose()


def postgresql_dialect() -> Dialect:
    """The psycopg dialect, as an engine for a PostgreSQL URL would have it (no server needed)."""
    return psycopg.dialect()  # type: ignore[no-untyped-call]


@pytest.fixture
def config(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The shipped config pointed at this test's database, with the tokens set in the env."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("HOTLINE_API_TOKEN", API_TOKEN)
    monkeypatch.setenv("HOTLINE_SECRET_KEY", SECRET_KEY)
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    data = shipped_config()
    data["store"]["url"] = f"sqlite:///{db_path}"
    return data


@pytest.fixture
def app(config: dict[str, Any]) -> Iterator[Flask]:
    """The hotline app on the shipped config and this test's database."""
    application = create_app(config)
    application.config["TESTING"] = True
    yield application
    application.extensions["hotline.store"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner bound to ``app``."""
    return app.test_cli_runner()


@dataclass
class TwiML:
    """A parsed TwiML answer, for asserting on verbs, attributes and spoken text."""

    status: int
    root: ET.Element
    raw: str

    @property
    def verbs(self) -> list[str]:
        """Top-level verb names in order."""
        return [child.tag for child in self.root]

    def all(self, tag: str) -> list[ET.Element]:
        """Every element named ``tag``, nested ones included."""
        return list(self.root.iter(tag))

    def first(self, tag: str) -> ET.Element:
        """The first element named ``tag`` (fails the test if there is none)."""
        found = self.all(tag)
        assert found, f"no <{tag}> in {self.raw}"
        return found[0]

    @property
    def said(self) -> str:
        """Everything spoken (all Say texts joined)."""
        return " ".join((say.text or "") for say in self.root.iter("Say"))

    @property
    def gather_action(self) -> str:
        """The action URL of the Gather (the next step's path)."""
        return self.first("Gather").attrib["action"]


@dataclass
class CallActions:
    """Plays Twilio towards the app: signed form posts for one call (``CallSid``)."""

    client: FlaskClient
    sid: str = "CA00000000000000000000000000000001"
    from_: str = "+48601100200"
    to: str = HOTLINE_NUMBER
    token: str = AUTH_TOKEN
    history: list[TwiML] = field(default_factory=list)

    def params(self, **extra: str) -> dict[str, str]:
        """The parameters Twilio sends with every request of this call, plus ``extra``."""
        base = {
            "CallSid": self.sid,
            "AccountSid": "AC00000000000000000000000000000000",
            "From": self.from_,
            "To": self.to,
            "Caller": self.from_,
            "Called": self.to,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        base.update(extra)
        return base

    def post(self, path: str, form: dict[str, str] | None = None, **extra: str) -> TwiML:
        """POST ``path`` signed as Twilio would; returns the parsed answer."""
        data = self.params(**extra) if form is None else form
        # An app with a public base URL answers with absolute URLs: Twilio requests them as given.
        url = path if path.startswith(("http://", "https://")) else f"http://localhost{path}"
        signature = RequestValidator(self.token).compute_signature(url, data)
        response = self.client.post(url, data=data, headers={"X-Twilio-Signature": signature})
        text = response.get_data(as_text=True)
        answer = TwiML(response.status_code, ET.fromstring(text), text)
        self.history.append(answer)
        return answer

    def start(self) -> TwiML:
        """The call arrives at the Voice URL."""
        return self.post("/voice", CallStatus="ringing")

    def press(self, answer: TwiML, digits: str) -> TwiML:
        """Press ``digits`` at the Gather of ``answer``."""
        return self.post(answer.gather_action, Digits=digits)

    def say(self, answer: TwiML, words: str, confidence: str = "0.9") -> TwiML:
        """Say ``words`` at the Gather of ``answer``."""
        return self.post(answer.gather_action, SpeechResult=words, Confidence=confidence)

    def silence(self, answer: TwiML) -> TwiML:
        """Say nothing: Twilio follows the Redirect after the Gather."""
        redirect = answer.first("Redirect")
        return self.post(redirect.text or "")


@pytest.fixture
def call(client: FlaskClient) -> CallActions:
    """A buyer's call from the number with exactly one order (Acme Electronics, 1234567)."""
    return CallActions(client)
