"""Reading one TOML table of the configuration: typed getters whose errors name the dotted key.

``hotline.config.settings`` and ``values`` decide what the configuration means; this module reads
values of the right shape and turns every mismatch into a ``ConfigError`` like
``config.toml: calls.dial_timeout: expected a whole number from 5 to 600, got '20'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from hotline.errors import ConfigError


class Section:
    """A TOML table being read: typed getters that name the dotted key; unknown keys caught."""

    def __init__(self, data: Mapping[str, Any], prefix: str, source: str) -> None:
        self.data = data
        self.prefix = prefix
        self.source = source
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        """The dotted key of ``name`` in this table, e.g. ``sellers[0].hours.opens``."""
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, expected: str, got: Any = None, secret: bool = False) -> ConfigError:
        """The error for ``name`` holding ``got`` instead of ``expected`` (raise it). A ``secret``
        value is not repeated, only its length: it may be the token itself, pasted in its hash's
        place, and the error goes to a terminal or a log."""
        if got is None:
            shown = ""
        elif secret:
            shown = f", got {len(str(got))} characters (not shown)"
        else:
            shown = f", got {got!r}"
        return ConfigError(f"{self.source}: {self.key(name)}: expected {expected}{shown}")

    def raw(self, name: str, default: Any) -> Any:
        """The value of ``name`` as given (``default`` when absent), marked as known."""
        self.used.add(name)
        return self.data.get(name, default)

    def required(self, name: str, expected: str) -> Any:
        """The value of ``name`` as given; missing is an error naming ``expected``."""
        self.used.add(name)
        if name not in self.data:
            raise ConfigError(f"{self.source}: {self.key(name)}: missing; expected {expected}")
        return self.data[name]

    def text(self, name: str, default: str | None = None, *, longest: int | None = None) -> str:
        """A string (required unless ``default``); with ``longest``, 1 to ``longest`` characters.

        The limits match the store's columns, which would otherwise fail at the first write.
        """
        expected = "a string"
        if longest is not None:
            expected = f"a non-empty string of at most {longest} characters"
        value = self.required(name, expected) if default is None else self.raw(name, default)
        if not isinstance(value, str) or (longest is not None and not 1 <= len(value) <= longest):
            raise self.fail(name, expected, value)
        return value

    def integer(self, name: str, default: int, low: int = 0, high: int = 10**6) -> int:
        """A whole number from ``low`` to ``high`` (``true`` is not 1)."""
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(name, f"a whole number from {low} to {high}", value)
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        """A number from ``low`` to ``high``, as a float."""
        value = self.raw(name, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self.fail(name, f"a number from {low} to {high}", value)
        return float(value)

    def boolean(self, name: str, default: bool) -> bool:
        """``true`` or ``false``, nothing truthy."""
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, "true or false", value)
        return value

    def clock_time(self, name: str, default: time) -> time:
        """A local wall-clock time: a TOML local time or a string like ``"08:00"``."""
        value = self.raw(name, default)
        parsed: time | None = value if isinstance(value, time) else None
        if isinstance(value, str):
            try:
                parsed = time.fromisoformat(value)
            except ValueError:
                pass
        if parsed is None:
            raise self.fail(name, 'a time like "08:00"', value)
        # Hours are wall-clock times in hotline.timezone; an offset would make them
        # incomparable with the local times they are checked against.
        if parsed.tzinfo is not None:
            raise self.fail(name, 'a time like "08:00" (local time, no offset)', value)
        return parsed

    def table(self, name: str) -> Section:
        """The sub-table ``name`` (empty when absent)."""
        value = self.raw(name, {})
        if not isinstance(value, Mapping):
            raise self.fail(name, "a table", value)
        return Section(value, self.key(name), self.source)

    def table_list(self, name: str) -> list[Section]:
        """The array of tables ``name`` (``[[name]]``; empty when absent)."""
        value = self.raw(name, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(name, f"a list of tables ([[{self.key(name)}]])", value)
        return [Section(v, f"{self.key(name)}[{i}]", self.source) for i, v in enumerate(value)]

    def finish(self) -> None:
        """Refuse any key no getter asked for: a typo must not fall back to a default."""
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise ConfigError(f"{self.source}: {self.key(unknown[0])}: unknown key")
