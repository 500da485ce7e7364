"""Load and validate the configuration (``config.toml`` or a mapping of the same shape).

Every problem is a ``ConfigError`` naming the source, the dotted key and what was expected, e.g.
``config.toml: hours.opens: expected a time like "08:00", got "8 am"``. Unknown keys are errors too,
so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hotline.config.reader import Section
from hotline.errors import ConfigError
from hotline.rules import phones
from hotline.rules.hours import EVERY_DAY, Schedule, parse_days

CONFIG_ENV = "HOTLINE_CONFIG"
DEFAULT_CONFIG = "config.toml"  # in the current folder
MAPPING_SOURCE = "<config mapping>"  # what errors name when the config is not a file
DATABASE_URL_ENV = "HOTLINE_DATABASE_URL"
SUPPORTED_DATABASES = ("sqlite", "postgresql")  # the webhooks' SQL upserts on these two

# The lengths of the store's columns (hotline/store/models.py), checked here so that a long
# value fails at start-up with its key rather than at the first write (PostgreSQL) or never
# (SQLite).
SELLER_ID_MAX = 64
SELLER_NAME_MAX = 200
ORDER_ID_MAX = 32
LANGUAGE_MAX = 8
# Twilio's limit on a queue's friendly name.
QUEUE_NAME_MAX = 64
# The largest request body served. A Twilio webhook's form is a few KB (a long SpeechResult
# included); 64 KiB leaves ample room, and bounds what any request can make a worker read.
MAX_REQUEST_BYTES = 64 * 1024
MIN_REQUEST_BYTES = 8 * 1024  # below this, a real webhook with long speech could be refused


@dataclass(frozen=True)
class Seller:
    """A seller in the directory; ``hours`` is ``None`` when they keep the hotline's hours."""

    id: str
    name: str
    phone: str
    hours: Schedule | None = None


@dataclass(frozen=True)
class Order:
    """An order in the directory: who bought it (by phone) and from which seller."""

    id: str
    seller: str
    buyer_phone: str
    placed: date | None = None


@dataclass(frozen=True)
class Settings:
    """Everything hotline reads from its configuration, validated and typed."""

    source: str
    base_dir: Path
    timezone: ZoneInfo
    hours: Schedule
    language: str
    default_region: str
    flows_dir: Path
    flow: str
    public_base_url: str | None
    trusted_proxies: int
    check_signatures: bool
    max_request_bytes: int
    store_url: str
    dial_timeout: int
    whisper_timeout: int
    queue: str
    hold_music_url: str
    max_tries: int
    min_speech_confidence: float
    recent_order_days: int
    number_languages: Mapping[str, str] = field(default_factory=dict)
    sellers: tuple[Seller, ...] = ()
    orders: tuple[Order, ...] = ()

    def flows_folder(self) -> Path:
        """``flows_dir``, checked: a ``ConfigError`` naming ``hotline.flows_dir`` when absent."""
        if not self.flows_dir.is_dir():
            raise ConfigError(
                f"{self.source}: hotline.flows_dir: no such folder {self.flows_dir} "
                f"(a relative flows_dir is read from {self._base_dir_is()})"
            )
        return self.flows_dir

    def flow_file(self) -> Path:
        """The file of the flow that answers calls; a ``ConfigError`` naming the key when absent."""
        path = self.flows_folder() / f"{self.flow}.toml"
        if not path.is_file():
            there = sorted(p.stem for p in self.flows_dir.glob("*.toml"))
            raise ConfigError(
                f"{self.source}: hotline.flow: no {path.name} in {self.flows_dir} "
                f"(flows there: {', '.join(there) or 'none'})"
            )
        return path

    def _base_dir_is(self) -> str:
        if self.source == MAPPING_SOURCE:
            return f"the current folder, {self.base_dir}"
        return f"the config file's folder, {self.base_dir}"

    def language_for(self, called: str | None) -> str:
        """The prompt language for a call to ``called`` (the hotline number the buyer dialled)."""
        if called:
            normalised = phones.normalise_or_none(called, self.default_region)
            if normalised is not None and normalised in self.number_languages:
                return self.number_languages[normalised]
        return self.language


def load_settings(config: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> Settings:
    """Read and validate ``config``: a TOML path, a mapping of the same shape, or ``None``.

    ``None`` means ``$HOTLINE_CONFIG``, else ``./config.toml``.
    """
    origin = ""  # why this path was looked at, for the "no such file" message
    if config is None:
        named = os.environ.get(CONFIG_ENV)
        config = named or DEFAULT_CONFIG
        origin = (
            f" (named by --config or ${CONFIG_ENV})"
            if named
            else f" (the default, ./{DEFAULT_CONFIG} in the current folder: run hotline from the "
            f"folder that has it, or pass --config PATH, or set ${CONFIG_ENV})"
        )
    if isinstance(config, Mapping):
        return _parse(config, MAPPING_SOURCE, Path.cwd())
    path = Path(config)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        # Absolute: "config.toml: no such config file" hides which folder was looked in.
        raise ConfigError(f"{path.absolute()}: no such config file{origin}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path.absolute()}: a folder, not a config file{origin}") from None
    except OSError as exc:
        raise ConfigError(
            f"{path.absolute()}: cannot read the config file: {exc.strerror}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return _parse(data, str(path), path.resolve().parent)


def _parse(data: Mapping[str, Any], source: str, base_dir: Path) -> Settings:
    root = Section(data, "", source)
    main = root.table("hotline")
    tz_name = main.text("timezone", "Europe/Warsaw")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise main.fail("timezone", 'an IANA timezone like "Europe/Warsaw"', tz_name) from None
    region = main.text("default_region", "PL").upper()
    hours = _schedule(root.table("hours"), tz)
    numbers = root.table("numbers")
    number_languages = {}
    for number in list(numbers.data):
        entry = numbers.table(number)
        try:
            key = phones.normalise(number, region)
        except ValueError:
            raise numbers.fail(number, "a phone number as the key", number) from None
        number_languages[key] = _language(entry, "language")
        entry.finish()
    security = root.table("security")
    store = root.table("store")
    calls = root.table("calls")
    settings = Settings(
        source=source,
        base_dir=base_dir,
        timezone=tz,
        hours=hours,
        language=_language(main, "language", "en"),
        default_region=region,
        flows_dir=base_dir / main.text("flows_dir", "flows"),
        flow=main.text("flow", "hotline"),
        public_base_url=_public_base_url(main, "public_base_url"),
        trusted_proxies=main.integer("trusted_proxies", 0, 0, 10),
        check_signatures=security.boolean("check_signatures", True),
        max_request_bytes=security.integer(
            "max_request_bytes", MAX_REQUEST_BYTES, MIN_REQUEST_BYTES, 16 * 1024 * 1024
        ),
        store_url=_store_url(store, "url", base_dir),
        dial_timeout=calls.integer("dial_timeout", 20, 5, 600),
        whisper_timeout=calls.integer("whisper_timeout", 8, 3, 60),
        queue=calls.text("queue", "warehouse", longest=QUEUE_NAME_MAX),
        hold_music_url=calls.text(
            "hold_music_url", "http://com.twilio.sounds.music.s3.amazonaws.com/ClockworkWaltz.mp3"
        ),
        max_tries=calls.integer("max_tries", 3, 1, 10),
        min_speech_confidence=calls.number("min_speech_confidence", 0.3, 0.0, 1.0),
        recent_order_days=calls.integer("recent_order_days", 90, 1, 3650),
        number_languages=number_languages,
        sellers=tuple(_seller(s, tz, region, hours) for s in root.table_list("sellers")),
        orders=tuple(_order(o, region) for o in root.table_list("orders")),
    )
    for section in (main, security, store, calls, numbers, root):
        section.finish()
    _check_directory(settings, root)
    return settings


def _schedule(section: Section, tz: ZoneInfo, base: Schedule | None = None) -> Schedule:
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
            closed.add(_date(section, "closed_dates", value))
    section.finish()
    return Schedule(opens=opens, closes=closes, tz=tz, days=days, closed_dates=frozenset(closed))


def _clock(value: time) -> str:
    """``value`` as written in a config: ``08:00``, or ``08:00:30`` when it has seconds."""
    return value.isoformat("minutes" if not (value.second or value.microsecond) else "auto")


def _date(section: Section, name: str, value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise section.fail(name, 'dates like 2026-12-25 or "2026-12-25"', value)


def _phone(section: Section, name: str, region: str) -> str:
    value = section.text(name)
    try:
        return phones.normalise(value, region)
    except ValueError:
        raise section.fail(name, "a phone number like +48601100200", value) from None


def _seller(section: Section, tz: ZoneInfo, region: str, hotline_hours: Schedule) -> Seller:
    hours = None
    if "hours" in section.data:
        hours = _schedule(section.table("hours"), tz, base=hotline_hours)
    seller = Seller(
        id=section.text("id", longest=SELLER_ID_MAX),
        name=section.text("name", longest=SELLER_NAME_MAX),
        phone=_phone(section, "phone", region),
        hours=hours,
    )
    section.finish()
    return seller


def _order(section: Section, region: str) -> Order:
    order_id = section.raw("id", None)
    if isinstance(order_id, int) and not isinstance(order_id, bool):
        order_id = str(order_id)
    # isascii: str.isdigit() also passes "²" and other scripts' digits, which no keypad sends.
    if not isinstance(order_id, str) or not (order_id.isascii() and order_id.isdigit()):
        raise section.fail("id", "an order number made of digits", order_id)
    if len(order_id) > ORDER_ID_MAX:
        raise section.fail("id", f"an order number of at most {ORDER_ID_MAX} digits", order_id)
    placed = section.raw("placed", None)
    order = Order(
        id=order_id,
        seller=section.text("seller"),
        buyer_phone=_phone(section, "buyer_phone", region),
        placed=None if placed is None else _date(section, "placed", placed),
    )
    section.finish()
    return order


def _check_directory(settings: Settings, root: Section) -> None:
    seller_ids = [s.id for s in settings.sellers]
    for i, seller_id in enumerate(seller_ids):
        if seller_ids.index(seller_id) != i:
            raise ConfigError(f"{root.source}: sellers[{i}].id: duplicate seller id {seller_id!r}")
    order_ids = [o.id for o in settings.orders]
    for i, order in enumerate(settings.orders):
        if order.seller not in seller_ids:
            raise ConfigError(
                f"{root.source}: orders[{i}].seller: expected one of the sellers' ids "
                f"({', '.join(seller_ids) or 'none defined'}), got {order.seller!r}"
            )
        if order_ids.index(order.id) != i:
            raise ConfigError(f"{root.source}: orders[{i}].id: duplicate order number {order.id!r}")


def _language(section: Section, name: str, default: str | None = None) -> str:
    value = section.text(name, default)
    if not 1 <= len(value) <= LANGUAGE_MAX:
        expected = f'a language code like "en" (1 to {LANGUAGE_MAX} characters)'
        raise section.fail(name, expected, value)
    return value


def _public_base_url(section: Section, name: str) -> str | None:
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


def _store_url(section: Section, name: str, base_dir: Path) -> str:
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
            f"postgresql+psycopg://user:pw@host/db, got {_without_password(url)!r}"
        ) from None
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != "sqlite:///:memory:":
        path = Path(url[len(prefix) :])
        if not path.is_absolute():
            return prefix + str(base_dir / path)
    return url


def _without_password(url: str) -> str:
    """``url`` with any password masked, so that an error message is safe to log."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", url)
