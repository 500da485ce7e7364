"""Typed values read from a call script's TOML, each mistake a ``ScriptError`` naming its line."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hotline.sim.engine.call_details import param_problem
from hotline.sim.engine.scheduled import ScheduledUntil
from hotline.sim.model import ScriptError
from hotline.sim.scripts.model import Location
from hotline.sim.scripts.sourcemap import SourceMap

DIGITS = re.compile(r"[0-9*#]+")
# A time after the calls: "+12h", "+1d", "+1h30m", "+90s".
_DURATION = re.compile(r"\+(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")

#: Where a value sits in the TOML document: ``("calls", 1, "steps", 3, "press")``.
KeyPath = tuple[str | int, ...]


class ValueReader:
    """Reads the values of one script file; every error names the file and the line."""

    def __init__(self, file: str, lines: SourceMap, base_dir: Path) -> None:
        self.file = file
        self.lines = lines
        self.base_dir = base_dir

    def where(self, path: Sequence[str | int]) -> Location:
        """The file and line of ``path``."""
        return Location(self.file, self.lines.line_of(path))

    def fail(self, path: Sequence[str | int], message: str) -> ScriptError:
        """A ``ScriptError`` for the value at ``path``."""
        return ScriptError(f"{self.where(path)}: {message}")

    def known(
        self,
        data: Mapping[str, Any],
        path: KeyPath,
        allowed: Sequence[str],
        where: str,
    ) -> None:
        """Refuse any key of ``data`` not in ``allowed`` (a typo never silently does nothing)."""
        for key in data:
            if key not in allowed:
                raise self.fail(
                    path + (key,),
                    f"unknown key {key!r} {where} (expected one of: {', '.join(allowed)})",
                )

    def table(self, data: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        """The table at ``path[-1]`` of ``data`` (empty when absent)."""
        value = data.get(path[-1], {})
        if not isinstance(value, dict):
            raise self.fail(path, f"[{path[-1]}] must be a table")
        return value

    def text(self, value: Any, path: KeyPath, key: str) -> str:
        """A non-empty text."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"{key}: expected a non-empty text in quotes, got {value!r}")
        return value

    def texts(self, value: Any, path: KeyPath, key: str) -> tuple[str, ...]:
        """A text or a list of texts."""
        items = value if isinstance(value, list) else [value]
        return tuple(self.text(item, path, key) for item in items)

    def number(self, value: Any, path: KeyPath, key: str) -> float:
        """A number (an integer or a float, not a boolean)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, f"{key}: expected a number, got {value!r}")
        return float(value)

    def seconds(self, value: Any, path: KeyPath, key: str) -> float:
        """A number of seconds, 0 or more."""
        seconds = self.number(value, path, key)
        if seconds < 0:
            raise self.fail(path, f"{key}: expected seconds (0 or more), got {value!r}")
        return seconds

    def confidence(self, value: Any, path: KeyPath) -> float:
        """A speech recognition confidence, 0.0 to 1.0."""
        confidence = self.number(value, path, "confidence")
        if not 0 <= confidence <= 1:
            raise self.fail(path, "confidence: expected 0.0 to 1.0")
        return confidence

    def digits(self, value: Any, path: KeyPath) -> str:
        """Phone keys: 0-9, * and #."""
        # A tester writing `press = 1` means the key 1, not a number.
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not DIGITS.fullmatch(text):
            raise self.fail(path, f"press: expected keys 0-9, * or #, got {value!r}")
        return text

    def true(self, value: Any, path: KeyPath, key: str) -> None:
        """Exactly ``true``."""
        if value is not True:
            raise self.fail(path, f"{key}: expected true, got {value!r}")

    def voice_url(self, value: Any, path: KeyPath) -> str:
        """The number's Voice URL, a path on the app (instead of the replay's ``--voice-path``)."""
        if isinstance(value, str) and value.startswith("/"):
            return value
        raise self.fail(path, f'voice_url: expected a path like "/voice", got {value!r}')

    def http_status(self, value: Any, path: KeyPath) -> int:
        """An HTTP status code a request is expected to get (100 to 599)."""
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            return value
        raise self.fail(path, f"status: expected an HTTP status, got {value!r}")

    def params(self, value: Any, path: KeyPath) -> dict[str, str]:
        """Extra request parameters: a table of names to texts (whole numbers are written out)."""
        if not isinstance(value, dict):
            raise self.fail(path, 'params: expected a table like { agent = "a1" }')
        params: dict[str, str] = {}
        for name, item in value.items():
            problem = param_problem(name, item)
            if problem is not None:
                raise self.fail(path + (name,), f"params: {problem}")
            params[name] = str(item)
        return params

    def maybe_false(self, data: Mapping[str, Any], key: str, path: KeyPath) -> str | None:
        """A text, ``false`` (returned as ``""``), or ``None`` when the key is absent."""
        if key not in data:
            return None
        if data[key] is False:
            return ""
        return self.text(data[key], path + (key,), key)

    def time(self, value: Any, path: KeyPath, zone: ZoneInfo | None, key: str = "at") -> datetime:
        """An aware date and time: with an offset, or naive and placed in ``zone``."""
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise self.fail(
                    path, f"{key}: expected a time like 2026-03-30T10:00:00+02:00, got {value!r}"
                ) from None
        if not isinstance(value, datetime):
            raise self.fail(path, f"{key}: expected a date and time, got {value!r}")
        when: datetime = value
        if when.tzinfo is None:
            if zone is None:
                raise self.fail(
                    path,
                    f'{key}: give an offset (…T10:00:00+02:00) or a timezone = "Europe/Warsaw"',
                )
            when = when.replace(tzinfo=zone)
        return when

    def horizon(self, value: Any, path: KeyPath, zone: ZoneInfo | None) -> ScheduledUntil:
        """``scheduler_until``: a time after the calls ("+12h": d, h, m, s) or a date and time."""
        key = "scheduler_until"
        if isinstance(value, str) and value.strip().startswith("+"):
            found = _DURATION.fullmatch(value.strip())
            if found is None or not any(found.groups()):
                raise self.fail(
                    path,
                    f'{key}: expected a time after the calls like "+12h", "+1d", "+1h30m",'
                    f" or a date and time, got {value!r}",
                )
            days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
            after = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
            return ScheduledUntil(after=after)
        return ScheduledUntil(until=self.time(value, path, zone, key))
