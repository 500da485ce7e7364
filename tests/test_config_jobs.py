"""The scheduler's config keys: defaults, and errors that name the key."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from hotline.config.jobs import JobSettings
from hotline.config.settings import load_settings
from hotline.errors import ConfigError
from tests.conftest import shipped_config


def _bare() -> dict[str, Any]:
    data = shipped_config()
    for table in ("scheduler", "notifications", "mail", "sms", "callbacks"):
        data.pop(table, None)
    return data


def test_defaults_without_the_tables() -> None:
    settings = load_settings(_bare())
    jobs = settings.jobs
    assert jobs.scheduler == JobSettings().scheduler
    assert (jobs.scheduler.lease_seconds, jobs.notifications.max_tries) == (30, 5)
    assert (jobs.scheduler.rollup_at, jobs.scheduler.wrap_up_every_seconds) == (time(0, 10), 15)
    assert jobs.mail.mode == "folder"
    assert jobs.mail.folder == settings.base_dir / "instance/mail"
    assert jobs.sms.from_number is None
    assert (jobs.callbacks.every_seconds, jobs.callbacks.retry_minutes) == (30, 10)
    assert settings.sellers[1].email is None  # bookworm has none


def test_the_shipped_config_reads() -> None:
    jobs = load_settings(shipped_config()).jobs
    assert jobs.sms.from_number == "+442071000000"
    assert load_settings(shipped_config()).sellers[0].email == "orders@acme.example"
    assert jobs.callbacks == JobSettings().callbacks  # the shipped file says the defaults


@pytest.mark.parametrize(
    ("table", "key", "value", "message"),
    [
        (
            "scheduler",
            "lease_seconds",
            2,
            "scheduler.lease_seconds: expected a whole number from 5",
        ),
        ("scheduler", "outbox_every_seconds", 0, "scheduler.outbox_every_seconds: expected"),
        ("scheduler", "rollup_at", "ten past midnight", "scheduler.rollup_at: expected a time"),
        ("scheduler", "rollup_at", "00:10+01:00", "scheduler.rollup_at: expected a time like"),
        ("scheduler", "wrap_up_every_seconds", 0, "scheduler.wrap_up_every_seconds: expected"),
        ("notifications", "max_tries", 0, "notifications.max_tries: expected a whole number"),
        ("notifications", "retry_seconds", "1m", "notifications.retry_seconds: expected"),
        ("mail", "mode", "sendmail", 'mail.mode: expected "folder"'),
        ("mail", "port", 70000, "mail.port: expected a whole number from 1 to 65535"),
        ("mail", "starttls", "yes", "mail.starttls: expected true or false"),
        ("mail", "sender", "hotline", "mail.sender: expected an email address"),
        ("mail", "warehouse", "cs at example", "mail.warehouse: expected an email address"),
        ("mail", "password", "secret", "mail.password: unknown key"),
        ("sms", "from", "not a number", "sms.from: expected a phone number"),
        ("callbacks", "every_seconds", 0, "callbacks.every_seconds: expected a whole number"),
        ("callbacks", "retry_minutes", "10m", "callbacks.retry_minutes: expected a whole"),
        ("callbacks", "tries", 3, "callbacks.tries: unknown key"),
    ],
)
def test_a_bad_value_names_its_key(table: str, key: str, value: Any, message: str) -> None:
    data = _bare()
    data[table] = {key: value}
    with pytest.raises(ConfigError, match="^<config mapping>: " + message.replace("(", r"\(")):
        load_settings(data)


def test_a_bad_seller_email_names_the_seller() -> None:
    data = _bare()
    data["sellers"][1]["email"] = "bookworm"
    with pytest.raises(ConfigError, match=r"sellers\[1\].email: expected an email address"):
        load_settings(data)


def test_a_claim_must_outlast_a_slow_mail_server() -> None:
    data = _bare()
    data["mail"] = {"timeout_seconds": 40}
    data["notifications"] = {"sending_timeout_seconds": 60}
    with pytest.raises(
        ConfigError,
        match=r"notifications.sending_timeout_seconds: expected at least twice "
        r"mail.timeout_seconds \(80\), got 60",
    ):
        load_settings(data)
