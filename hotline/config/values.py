"""The checks and parsers of single config values: hours, dates, phones, languages and URLs.

Each takes the ``Section`` that holds the value and fails with a ``ConfigError`` naming the
source, the dotted key and what was expected; ``hotline.config.settings`` assembles the results.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hotline.config.reader import Section
from hotline.errors import ConfigError
from hotline.rules import phones
from hotline.rules.hours import EVERY_DAY, Schedule, parse_days

DATABASE_URL_ENV = "HOTLINE_DATABASE_URL"
SUPPORTED_DATABASES = ("sqlite", "postgresql")  # the webhooks' SQL upserts on these two
# The length of the store's language columns (hotline/store/models.py), checked here so that a
# long value fails at start-up with its key rather than at the first write.
LANGUAGE_MAX = 8


def schedule(section: Section, tz: ZoneInfo, base: Schedule | None = None) -> Schedule:
    """Hours from ``section``; a seller's (``base`` given) default to the hotline's own."""
    opens = section.clock_time("opens", base.opens if base else time(8))
    closes = section.clock_time("closes", base.closes if base else time(21))
    if not opens < closes:
        raise section.fail("closes", f"a time after opens ({_clock(opens)})", _clock(closes))
    days_value = section.raw("days", None)
    days = base.days if base else EVERY_DAY
    if days_value is not None:
        if not isinstance(days_value, list) or not all(isinstance(d, str) for d in days_value):
            raise section.fail("days", 'a list of day names like ["mon", "tue"]', days_value)
        try:
            days = parse_days(days_value)
        except ValueError as exc:
            raise ConfigError(f"{section.source}: {section.key('days')}: {exc}") from None
        if not days:
            raise section.fail("days", "at least one day", days_value)
    closed: set[date] = set()
    if base is None:
        closed_value = section.raw("closed_dates", [])
        if not isinstance(closed_value, list):
            raise section.fail("closed_dates", "a list of dates like [2026-12-25]", closed_value)
        for value in closed_value:
            closed.add(date_value(section, "closed_dates", value))
    section.finish()
    return Schedule(opens=opens, closes=closes, tz=tz, days=days, closed_dates=frozenset(closed))


def _clock(value: time) -> str:
    """``value`` as written in a config: ``08:00``, or ``08:00:30`` when it has seconds."""
    return value.isoformat("minutes" if not (value.second or value.microsecond) else "auto")


def date_value(section: Section, name: str, value: Any) -> date:
    """``value`` (of key ``name``) as a date: a TOML date or an ISO string like "2026-12-25"."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise section.fail(name, 'dates like 2026-12-25 or "2026-12-25"', value)


def phone(section: Section, name: str, region: str) -> str:
    """The phone number at ``name`` in E.164, read in ``region`` when written without +."""
    value = section.text(name)
    try:
        return phones.normalise(value, region)
    except ValueError:
        raise section.fail(name, "a phone number like +48601100200", value) from None


def language(section: Section, name: str, default: str | None = None) -> str:
    """A prompt language code that fits the store's column (``LANGUAGE_MAX``)."""
    value = section.text(name, default)
    if not 1 <= len(value) <= LANGUAGE_MAX:
        expected = f'a language code like "en" (1 to {LANGUAGE_MAX} characters)'
        raise section.fail(name, expected, value)
    return value


def public_base_url(section: Section, name: str) -> str | None:
    """The address Twilio reaches hotline at, without a trailing slash; ``None`` when empty."""
    value = section.text(name, "")
    if value and not _is_http_url(value):
        raise section.fail(name, "an http(s) URL like https://hotline.example.com", value)
    return value.rstrip("/") or None


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        port = parts.port  # ValueError when not a number from 0 to 65535
    except ValueError:
        return False
    # Webhook URLs are this plus a path: a query or fragment would land in the middle of them.
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and port != 0
        and "?" not in value
        and "#" not in value
    )


def store_url(section: Section, name: str, base_dir: Path) -> str:
    """The database URL: ``$HOTLINE_DATABASE_URL`` wins; relative SQLite paths sit by the config.

    The URL must name a dialect and driver SQLAlchemy can load; nothing connects here.
    """
    url = section.text(name, "sqlite:///hotline.db")
    from_env = os.environ.get(DATABASE_URL_ENV)
    url = from_env or url
    try:
        parsed = make_url(url)
        parsed.get_dialect().import_dbapi()
        if parsed.get_backend_name() not in SUPPORTED_DATABASES:
            raise ArgumentError(f"unsupported database {parsed.get_backend_name()}")
    except (ArgumentError, ImportError):
        key = f"${DATABASE_URL_ENV}" if from_env else section.key(name)
        raise ConfigError(
            f"{section.source}: {key}: expected a database URL like sqlite:///hotline.db or "
            f"postgresql+psycopg://user:pw@host/db, got {without_password(url)!r}"
        ) from None
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != "sqlite:///:memory:":
        path = Path(url[len(prefix) :])
        if not path.is_absolute():
            return prefix + str(base_dir / path)
    return url


def without_password(url: str) -> str:
    """``url`` with any password masked, so that an error message is safe to log."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", url)
