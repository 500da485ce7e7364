"""Loading and validating the configuration; start-up refusals of ``create_app``."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import UTC, date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from hotline import create_app
from hotline.config.settings import (
    CONFIG_ENV,
    ORDER_ID_MAX,
    SELLER_ID_MAX,
    SELLER_NAME_MAX,
    load_settings,
)
from hotline.config.values import DATABASE_URL_ENV, LANGUAGE_MAX
from hotline.errors import ConfigError
from hotline.store.models import CallEventRow, OrderRow, SellerRow
from tests.conftest import ROOT, shipped_config

SOURCE = "<config mapping>"
Mutation = Callable[[dict[str, Any]], None]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No config path or database URL from the environment unless a test sets one."""
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


def test_shipped_config_loads() -> None:
    settings = load_settings(ROOT / "config.toml")
    assert settings.source == str(ROOT / "config.toml")
    assert settings.timezone == ZoneInfo("Europe/Warsaw")
    assert (settings.hours.opens, settings.hours.closes) == (time(8), time(21))
    assert settings.hours.days == frozenset(range(7))
    assert settings.hours.closed_dates == {
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2027, 1, 1),
    }
    assert settings.language == "en"
    assert settings.check_signatures is True
    assert dict(settings.number_languages) == {"+48221000000": "pl", "+442071000000": "en"}
    assert settings.flows_dir == ROOT / "flows"
    assert settings.store_url == f"sqlite:///{ROOT / 'instance' / 'hotline.db'}"
    assert (settings.dial_timeout, settings.whisper_timeout, settings.max_tries) == (20, 8, 3)


def test_shipped_directory() -> None:
    settings = load_settings(ROOT / "config.toml")
    sellers = {s.id: s for s in settings.sellers}
    assert [s.id for s in settings.sellers] == ["acme", "bookworm", "greenleaf"]
    assert sellers["acme"].name == "Acme Electronics"
    assert sellers["acme"].phone == "+48600300400"
    assert sellers["acme"].hours is None
    bookworm = sellers["bookworm"].hours
    assert bookworm is not None
    assert (bookworm.opens, bookworm.closes, bookworm.days) == (
        time(9),
        time(17),
        frozenset({0, 1, 2, 3, 4}),
    )
    assert [(o.id, o.seller, o.buyer_phone) for o in settings.orders] == [
        ("1234567", "acme", "+48601100200"),
        ("2345678", "bookworm", "+48601300400"),
        ("3456789", "acme", "+48601500600"),
        ("4567890", "greenleaf", "+48601500600"),
        ("5678901", "greenleaf", "+48601700800"),
        ("6789012", "acme", "+48601900100"),  # combined: acme's and greenleaf's items
    ]
    assert settings.orders[-1].sellers == ("acme", "greenleaf")
    assert settings.orders[-1].combined and not settings.orders[0].combined


def test_empty_mapping_gives_the_defaults() -> None:
    settings = load_settings({})
    assert settings.timezone == ZoneInfo("Europe/Warsaw")
    assert (settings.hours.opens, settings.hours.closes) == (time(8), time(21))
    assert settings.check_signatures is True
    assert settings.max_request_bytes == 65536
    assert settings.sellers == ()
    assert settings.store_url == f"sqlite:///{Path.cwd() / 'hotline.db'}"


def _set(*path: str | int, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


def _drop(*path: str | int) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return mutate


BAD_CONFIGS = [
    pytest.param(
        _set("hotline", "timezone", value="Mars/Olympus"),
        "hotline.timezone: expected an IANA timezone like \"Europe/Warsaw\", got 'Mars/Olympus'",
        id="bad-timezone",
    ),
    pytest.param(
        _set("hours", "opens", value="8 am"),
        "hours.opens: expected a time like \"08:00\", got '8 am'",
        id="opens-8-am",
    ),
    pytest.param(
        _set("hours", "closes", value="07:00"),
        "hours.closes: expected a time after opens (08:00), got '07:00'",
        id="closes-before-opens",
    ),
    pytest.param(
        _set("hours", "days", value="mon"),
        'hours.days: expected a list of day names like ["mon", "tue"], got \'mon\'',
        id="days-not-a-list",
    ),
    pytest.param(
        _set("hours", "closed_dates", value=5),
        "hours.closed_dates: expected a list of dates like [2026-12-25], got 5",
        id="closed-dates-not-a-list",
    ),
    pytest.param(
        _set("hours", "closed_dates", value=["soon"]),
        "hours.closed_dates: expected dates like 2026-12-25 or \"2026-12-25\", got 'soon'",
        id="closed-date-not-a-date",
    ),
    pytest.param(_set("colour", value="blue"), "colour: unknown key", id="unknown-top-level"),
    pytest.param(
        _set("calls", "dial_timout", value=20),
        "calls.dial_timout: unknown key",
        id="unknown-key-in-calls",
    ),
    pytest.param(
        _set("calls", "dial_timeout", value="20"),
        "calls.dial_timeout: expected a whole number from 5 to 600, got '20'",
        id="dial-timeout-wrong-type",
    ),
    pytest.param(
        _set("calls", "dial_timeout", value=True),
        "calls.dial_timeout: expected a whole number from 5 to 600, got True",
        id="dial-timeout-bool",
    ),
    pytest.param(
        _set("calls", "dial_timeout", value=1),
        "calls.dial_timeout: expected a whole number from 5 to 600, got 1",
        id="dial-timeout-out-of-range",
    ),
    pytest.param(
        _set("calls", "min_speech_confidence", value=1.5),
        "calls.min_speech_confidence: expected a number from 0.0 to 1.0, got 1.5",
        id="confidence-out-of-range",
    ),
    pytest.param(
        _set("security", "check_signatures", value="yes"),
        "security.check_signatures: expected true or false, got 'yes'",
        id="check-signatures-not-bool",
    ),
    pytest.param(
        _set("sellers", 1, "phone", value="call me"),
        "sellers[1].phone: expected a phone number like +48601100200, got 'call me'",
        id="bad-seller-phone",
    ),
    pytest.param(
        _drop("sellers", 0, "name"),
        "sellers[0].name: missing; expected a non-empty string of at most 200 characters",
        id="seller-without-name",
    ),
    pytest.param(
        _set("orders", 0, "seller", value="nobody"),
        "orders[0].seller: expected one of the sellers' ids (acme, bookworm, greenleaf), "
        "got 'nobody'",
        id="order-unknown-seller",
    ),
    pytest.param(
        _set("sellers", 2, "id", value="acme"),
        "sellers[2].id: duplicate seller id 'acme'",
        id="duplicate-seller-id",
    ),
    pytest.param(
        _set("orders", 1, "id", value="1234567"),
        "orders[1].id: duplicate order number '1234567'",
        id="duplicate-order-id",
    ),
    pytest.param(
        _set("orders", 0, "id", value="12-34"),
        "orders[0].id: expected an order number made of digits, got '12-34'",
        id="order-id-not-digits",
    ),
    pytest.param(
        _set("sellers", 0, "hours", value={"days": ["mon", "funday"]}),
        "sellers[0].hours.days: unknown day 'funday' "
        "(expected one of mon, tue, wed, thu, fri, sat, sun)",
        id="bad-seller-day",
    ),
    pytest.param(
        _set("sellers", 0, "hours", value={"opens": "09:00", "closed_dates": []}),
        "sellers[0].hours.closed_dates: unknown key",
        id="seller-closed-dates-unknown",
    ),
    pytest.param(
        _set("sellers", value={"id": "x"}),
        "sellers: expected a list of tables ([[sellers]]), got {'id': 'x'}",
        id="sellers-not-a-list",
    ),
    pytest.param(
        _set("numbers", "reception", value={"language": "en"}),
        "numbers.reception: expected a phone number as the key, got 'reception'",
        id="numbers-key-not-a-number",
    ),
    pytest.param(
        _drop("numbers", "+48221000000", "language"),
        "numbers.+48221000000.language: missing; expected a string",
        id="number-without-language",
    ),
    pytest.param(
        _set("hours", "opens", value="08:00+01:00"),
        "hours.opens: expected a time like \"08:00\" (local time, no offset), got '08:00+01:00'",
        id="opens-with-offset",
    ),
    pytest.param(
        _set("hours", "opens", value=time(8, tzinfo=UTC)),
        'hours.opens: expected a time like "08:00" (local time, no offset), '
        "got datetime.time(8, 0, tzinfo=datetime.timezone.utc)",
        id="opens-aware-time",
    ),
    pytest.param(
        _set("sellers", 1, "hours", "closes", value="17:00Z"),
        'sellers[1].hours.closes: expected a time like "08:00" (local time, no offset), '
        "got '17:00Z'",
        id="seller-closes-with-offset",
    ),
    pytest.param(
        _set("hours", value={"opens": "08:00:30", "closes": "08:00:10"}),
        "hours.closes: expected a time after opens (08:00:30), got '08:00:10'",
        id="closes-before-opens-by-seconds",
    ),
    pytest.param(
        _set("hotline", "public_base_url", value="hotline.example.com"),
        "hotline.public_base_url: expected an http(s) URL like https://hotline.example.com, "
        "got 'hotline.example.com'",
        id="public-base-url-without-scheme",
    ),
    pytest.param(
        _set("hotline", "public_base_url", value="https://hotline.example.com/?key=1"),
        "hotline.public_base_url: expected an http(s) URL like https://hotline.example.com, "
        "got 'https://hotline.example.com/?key=1'",
        id="public-base-url-with-query",
    ),
    pytest.param(
        _set("hotline", "public_base_url", value="https://hotline.example.com#top"),
        "hotline.public_base_url: expected an http(s) URL like https://hotline.example.com, "
        "got 'https://hotline.example.com#top'",
        id="public-base-url-with-fragment",
    ),
    pytest.param(
        _set("hotline", "public_base_url", value="https://hotline.example.com:https"),
        "hotline.public_base_url: expected an http(s) URL like https://hotline.example.com, "
        "got 'https://hotline.example.com:https'",
        id="public-base-url-bad-port",
    ),
    pytest.param(
        _set("store", "url", value="hotline.db"),
        "store.url: expected a database URL like sqlite:///hotline.db or "
        "postgresql+psycopg://user:pw@host/db, got 'hotline.db'",
        id="store-url-not-a-url",
    ),
    pytest.param(
        _set("store", "url", value="postgres://hotline:secret@db.example.com/hotline"),
        "store.url: expected a database URL like sqlite:///hotline.db or "
        "postgresql+psycopg://user:pw@host/db, got 'postgres://hotline:***@db.example.com/hotline'",
        id="store-url-postgres-scheme-password-hidden",
    ),
    pytest.param(
        _set("store", "url", value="mysql://db.example.com/hotline"),
        "store.url: expected a database URL like sqlite:///hotline.db or "
        "postgresql+psycopg://user:pw@host/db, got 'mysql://db.example.com/hotline'",
        id="store-url-driver-not-installed",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("MySQLdb") is not None, reason="mysqlclient is installed"
        ),
    ),
    pytest.param(
        _set("hours", "days", value=[]),
        "hours.days: expected at least one day, got []",
        id="no-days",
    ),
    pytest.param(
        _set("sellers", 1, "hours", "days", value=[]),
        "sellers[1].hours.days: expected at least one day, got []",
        id="seller-no-days",
    ),
    pytest.param(
        _set("calls", "queue", value=""),
        "calls.queue: expected a non-empty string of at most 64 characters, got ''",
        id="queue-empty",
    ),
    pytest.param(
        _set("calls", "queue", value="q" * 65),
        f"calls.queue: expected a non-empty string of at most 64 characters, got '{'q' * 65}'",
        id="queue-too-long",
    ),
    pytest.param(
        _set("sellers", 0, "id", value="a" * 65),
        f"sellers[0].id: expected a non-empty string of at most 64 characters, got '{'a' * 65}'",
        id="seller-id-too-long",
    ),
    pytest.param(
        _set("sellers", 0, "id", value=""),
        "sellers[0].id: expected a non-empty string of at most 64 characters, got ''",
        id="seller-id-empty",
    ),
    pytest.param(
        _set("sellers", 0, "name", value="n" * 201),
        f"sellers[0].name: expected a non-empty string of at most 200 characters, "
        f"got '{'n' * 201}'",
        id="seller-name-too-long",
    ),
    pytest.param(
        _set("orders", 0, "id", value="1" * 33),
        f"orders[0].id: expected an order number of at most 32 digits, got '{'1' * 33}'",
        id="order-id-too-long",
    ),
    pytest.param(
        _set("orders", 0, "id", value="12\u00b2"),
        "orders[0].id: expected an order number made of digits, got '12\u00b2'",
        id="order-id-not-ascii-digits",
    ),
    pytest.param(
        _set("hotline", "language", value="english-uk"),
        'hotline.language: expected a language code like "en" (1 to 8 characters), '
        "got 'english-uk'",
        id="language-too-long",
    ),
    pytest.param(
        _set("numbers", "+48221000000", "language", value=""),
        'numbers.+48221000000.language: expected a language code like "en" '
        "(1 to 8 characters), got ''",
        id="number-language-empty",
    ),
    pytest.param(
        _set("security", "max_request_bytes", value=1000),
        "security.max_request_bytes: expected a whole number from 8192 to 16777216, got 1000",
        id="max-request-bytes-too-small",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), BAD_CONFIGS)
def test_bad_config_names_source_key_and_expectation(mutate: Mutation, message: str) -> None:
    data = shipped_config()
    mutate(data)
    with pytest.raises(ConfigError) as caught:
        load_settings(data)
    assert str(caught.value) == f"{SOURCE}: {message}"


def test_column_limits_match_the_store() -> None:
    assert SellerRow.__table__.c.id.type.length == SELLER_ID_MAX
    assert SellerRow.__table__.c.name.type.length == SELLER_NAME_MAX
    assert OrderRow.__table__.c.id.type.length == ORDER_ID_MAX
    assert CallEventRow.__table__.c.language.type.length == LANGUAGE_MAX


def test_bad_database_url_env_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, "postgres://hotline:secret@db.example.com/hotline")
    with pytest.raises(ConfigError) as caught:
        load_settings(shipped_config())
    assert str(caught.value) == (
        f"{SOURCE}: $HOTLINE_DATABASE_URL: expected a database URL like sqlite:///hotline.db or "
        "postgresql+psycopg://user:pw@host/db, got 'postgres://hotline:***@db.example.com/hotline'"
    )


def test_times_with_seconds_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "hotline.toml"
    path.write_text(
        "[hours]\nopens = 08:00:30\ncloses = 20:59:59.500\n"
        '[[sellers]]\nid = "a"\nname = "A"\nphone = "+48600300400"\n'
        'hours = { days = ["mon"] }\n',
        encoding="utf-8",
    )
    settings = load_settings(path)
    expected = (time(8, 0, 30), time(20, 59, 59, 500000))
    assert (settings.hours.opens, settings.hours.closes) == expected
    [seller] = settings.sellers
    assert seller.hours is not None
    assert (seller.hours.opens, seller.hours.closes) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", None),
        ("https://hotline.example.com", "https://hotline.example.com"),
        ("https://hotline.example.com/", "https://hotline.example.com"),
        ("https://example.com/hotline/", "https://example.com/hotline"),
        ("http://localhost:5000", "http://localhost:5000"),
    ],
)
def test_public_base_url(url: str, expected: str | None) -> None:
    data = shipped_config()
    data["hotline"]["public_base_url"] = url
    assert load_settings(data).public_base_url == expected


def test_bad_config_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "hotline.toml"
    path.write_text('[hours]\nopens = "8 am"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == f"{path}: hours.opens: expected a time like \"08:00\", got '8 am'"


@pytest.mark.parametrize("given", ["argument", "env", "default"])
def test_missing_config_file_names_the_absolute_path_looked_at(
    given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a folder with no config.toml, as when run from elsewhere
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    name = "config.toml" if given == "default" else "nowhere.toml"
    if given == "env":
        monkeypatch.setenv("HOTLINE_CONFIG", name)
    with pytest.raises(ConfigError) as caught:
        load_settings(name if given == "argument" else None)
    why = {
        "argument": "",
        "env": " (named by --config or $HOTLINE_CONFIG)",
        "default": " (the default, ./config.toml in the current folder: run hotline from the "
        "folder that has it, or pass --config PATH, or set $HOTLINE_CONFIG)",
    }[given]
    assert str(caught.value) == f"{tmp_path / name}: no such config file{why}"


def test_a_folder_given_as_the_config_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert str(caught.value) == f"{tmp_path}: a folder, not a config file"


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[hotline\ntimezone = 'Europe/Warsaw'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: not valid TOML: ")
    assert "line 1" in str(caught.value)


def test_hotline_config_env_is_used_when_config_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "from-env.toml"
    path.write_text('[hotline]\ntimezone = "Europe/London"\n', encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    settings = load_settings(None)
    assert settings.source == str(path)
    assert settings.timezone == ZoneInfo("Europe/London")


def test_config_none_without_env_reads_config_toml_in_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.toml").write_text("[calls]\nmax_tries = 5\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None)
    assert settings.source == "config.toml"
    assert settings.max_tries == 5
    assert settings.base_dir == tmp_path.resolve()


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://hotline:secret@db.example.com/hotline", "sqlite:////srv/hotline.db"],
)
def test_database_url_env_wins(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[store]\nurl = "sqlite:///instance/hotline.db"\n', encoding="utf-8")
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    assert load_settings(path).store_url == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///instance/hotline.db", "sqlite:///{base}/instance/hotline.db"),
        ("sqlite:///hotline.db", "sqlite:///{base}/hotline.db"),
        ("sqlite:////var/lib/hotline.db", "sqlite:////var/lib/hotline.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql://h/db", "postgresql://h/db"),
    ],
)
def test_relative_sqlite_url_sits_beside_the_config_file(
    url: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    path = folder / "hotline.toml"
    path.write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the config's folder
    settings = load_settings(path)
    assert settings.store_url == expected.format(base=folder.resolve())
    assert settings.flows_dir == folder.resolve() / "flows"


@pytest.mark.parametrize(
    ("called", "language"),
    [
        ("+48221000000", "pl"),
        ("+442071000000", "en"),
        ("22 100 00 00", "pl"),  # national, read with default_region PL
        ("+48 22 100 00 00", "pl"),
        ("+48600000000", "en"),  # not listed: the default language
        ("anonymous", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_language_for(called: str | None, language: str) -> None:
    assert load_settings(ROOT / "config.toml").language_for(called) == language


def test_language_for_uses_the_configured_default() -> None:
    data = shipped_config()
    data["hotline"]["language"] = "pl"
    settings = load_settings(data)
    assert settings.language_for("+48600000000") == "pl"
    assert settings.language_for("+442071000000") == "en"


def test_create_app_refuses_a_language_the_flow_lacks(config: dict[str, Any]) -> None:
    config["numbers"]["+442071000000"]["language"] = "de"
    with pytest.raises(ConfigError) as caught:
        create_app(config)
    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: language 'de' has no prompts in ")
    assert message.endswith("hotline.toml (it has: en, pl)")


def test_create_app_refuses_signature_checks_without_auth_token(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    assert config["security"]["check_signatures"] is True
    with pytest.raises(ConfigError, match=r"\$TWILIO_AUTH_TOKEN is not set") as caught:
        create_app(config)
    assert str(caught.value).startswith(f"{SOURCE}: security.check_signatures is on")


def test_create_app_without_checks_needs_no_auth_token(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    config["security"]["check_signatures"] = False
    app = create_app(config)
    try:
        assert "SIGNATURE CHECKS ARE OFF" in caplog.text
    finally:
        app.extensions["hotline.store"].engine.dispose()


def test_seller_hours_default_to_the_hotlines(tmp_path: Path) -> None:
    data = {
        "hours": {"opens": "07:00", "closes": "22:00", "days": ["mon", "tue"]},
        "sellers": [
            {"id": "a", "name": "A", "phone": "+48600300400", "hours": {"closes": "15:00"}},
        ],
    }
    [seller] = load_settings(data).sellers
    assert seller.hours is not None
    assert (seller.hours.opens, seller.hours.closes) == (time(7, 0), time(15, 0))
    assert seller.hours.days == frozenset({0, 1})


class _OtherDatabase(SQLiteDialect_pysqlite):
    """A database whose driver loads, but which the store does not support."""

    name = "otherdb"


def test_a_database_the_store_does_not_support_is_refused() -> None:
    registry.register("otherdb", __name__, "_OtherDatabase")
    config = shipped_config()
    config["store"]["url"] = "otherdb:///hotline.db"
    with pytest.raises(ConfigError, match=r"store\.url: expected a database URL like sqlite"):
        load_settings(config)


@pytest.mark.parametrize(
    ("hotline_table", "error"),
    [
        (
            'flows_dir = "flowz"',
            "{config}: hotline.flows_dir: no such folder {etc}/flowz "
            "(a relative flows_dir is read from the config file's folder, {etc})",
        ),
        (  # the default: flows/ beside a config that was copied elsewhere
            "",
            "{config}: hotline.flows_dir: no such folder {etc}/flows "
            "(a relative flows_dir is read from the config file's folder, {etc})",
        ),
        (
            f'flows_dir = "{ROOT / "flows"}"\nflow = "hotlin"',
            f"{{config}}: hotline.flow: no hotlin.toml in {ROOT / 'flows'} (flows there: hotline)",
        ),
    ],
)
def test_a_missing_flows_folder_or_flow_names_its_key_and_the_path_looked_at(
    hotline_table: str, error: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    config = etc / "hotline.toml"
    config.write_text(f"[hotline]\n{hotline_table}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the config's folder
    with pytest.raises(ConfigError) as caught:
        create_app(config)
    assert str(caught.value) == error.format(config=config, etc=etc)


def test_a_missing_flows_folder_of_a_mapping_is_read_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"hotline": {"flows_dir": "nowhere"}})
    with pytest.raises(ConfigError) as caught:
        settings.flow_file()
    assert str(caught.value) == (
        f"{SOURCE}: hotline.flows_dir: no such folder {tmp_path / 'nowhere'} "
        f"(a relative flows_dir is read from the current folder, {tmp_path})"
    )
