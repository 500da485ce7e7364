"""Load and validate the configuration (``config.toml`` or a mapping of the same shape).

Every problem is a ``ConfigError`` naming the source, the dotted key and what was expected, e.g.
``config.toml: hours.opens: expected a time like "08:00", got "8 am"``. Unknown keys are errors too,
so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.config import values
from hotline.config.agents import Agent, agents
from hotline.config.directory import ORDER_ID_MAX as ORDER_ID_MAX
from hotline.config.directory import SELLER_ID_MAX as SELLER_ID_MAX
from hotline.config.directory import SELLER_NAME_MAX as SELLER_NAME_MAX
from hotline.config.directory import Order as Order
from hotline.config.directory import Seller as Seller
from hotline.config.directory import check_directory, order, seller
from hotline.config.jobs import JobSettings, job_settings
from hotline.config.message_center import MessageCenter, message_center
from hotline.config.reader import Section
from hotline.errors import ConfigError
from hotline.rules import phones
from hotline.rules.hours import Schedule

CONFIG_ENV = "HOTLINE_CONFIG"
DEFAULT_CONFIG = "config.toml"  # in the current folder
MAPPING_SOURCE = "<config mapping>"  # what errors name when the config is not a file

# Twilio's limit on a queue's friendly name.
QUEUE_NAME_MAX = 64
# The largest request body served. A Twilio webhook's form is a few KB (a long SpeechResult
# included); 64 KiB leaves ample room, and bounds what any request can make a worker read.
MAX_REQUEST_BYTES = 64 * 1024
MIN_REQUEST_BYTES = 8 * 1024  # below this, a real webhook with long speech could be refused


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
    wrap_up_seconds: int
    service_level_seconds: int
    number_languages: Mapping[str, str] = field(default_factory=dict)
    sellers: tuple[Seller, ...] = ()
    orders: tuple[Order, ...] = ()
    agents: tuple[Agent, ...] = ()
    message_center: MessageCenter | None = None

    @property
    def routing(self) -> MessageCenter:
        """The Message Center's tables (always set by ``load_settings``)."""
        assert self.message_center is not None
        return self.message_center

    jobs: JobSettings = JobSettings()

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
    hours = values.schedule(root.table("hours"), tz)
    numbers = root.table("numbers")
    number_languages = {}
    for number in list(numbers.data):
        entry = numbers.table(number)
        try:
            key = phones.normalise(number, region)
        except ValueError:
            raise numbers.fail(number, "a phone number as the key", number) from None
        number_languages[key] = values.language(entry, "language")
        entry.finish()
    security = root.table("security")
    store = root.table("store")
    calls = root.table("calls")
    routing = message_center(root)  # first: the reminders are checked against its 24 h
    settings = Settings(
        source=source,
        base_dir=base_dir,
        timezone=tz,
        hours=hours,
        language=values.language(main, "language", "en"),
        default_region=region,
        flows_dir=base_dir / main.text("flows_dir", "flows"),
        flow=main.text("flow", "hotline"),
        public_base_url=values.public_base_url(main, "public_base_url"),
        trusted_proxies=main.integer("trusted_proxies", 0, 0, 10),
        check_signatures=security.boolean("check_signatures", True),
        max_request_bytes=security.integer(
            "max_request_bytes", MAX_REQUEST_BYTES, MIN_REQUEST_BYTES, 16 * 1024 * 1024
        ),
        store_url=values.store_url(store, "url", base_dir),
        dial_timeout=calls.integer("dial_timeout", 20, 5, 600),
        whisper_timeout=calls.integer("whisper_timeout", 8, 3, 60),
        queue=calls.text("queue", "warehouse", longest=QUEUE_NAME_MAX),
        hold_music_url=calls.text(
            "hold_music_url", "http://com.twilio.sounds.music.s3.amazonaws.com/ClockworkWaltz.mp3"
        ),
        max_tries=calls.integer("max_tries", 3, 1, 10),
        min_speech_confidence=calls.number("min_speech_confidence", 0.3, 0.0, 1.0),
        recent_order_days=calls.integer("recent_order_days", 90, 1, 3650),
        # 0: wrap-up lasts until the agent says they are ready.
        wrap_up_seconds=calls.integer("wrap_up_seconds", 60, 0, 3600),
        service_level_seconds=calls.integer("service_level_seconds", 30, 1, 3600),
        number_languages=number_languages,
        sellers=tuple(seller(s, tz, region, hours) for s in root.table_list("sellers")),
        orders=tuple(order(o, region) for o in root.table_list("orders")),
        agents=agents(root, region),
        message_center=routing,
        jobs=job_settings(root, base_dir, region, routing.response_hours),
    )
    for section in (main, security, store, calls, numbers, root):
        section.finish()
    check_directory(root, settings.sellers, settings.orders, settings.agents)
    return settings
