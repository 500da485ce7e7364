"""Call scripts: TOML files saying who calls when, what they hear and do, and what must follow.

A file holds one call (``[call]`` with top-level ``[dialled]``, ``[[steps]]`` and ``[expect]``)
or several named calls (``[[calls]]`` with ``[calls.dialled]``, ``[[calls.steps]]`` and
``[calls.expect]``, shared values in ``[defaults]``). Every problem is a ``ScriptError`` naming the
file and line. docs/simulator.md is the format reference.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.sim.model import CalleeBehaviour, DialOutcome, QueueBehaviour, ScriptError
from hotline.sim.sourcemap import SourceMap
from hotline.sim.steps import (
    ENDINGS,
    ApiCheck,
    CallScript,
    Expect,
    Hangup,
    Hear,
    Location,
    Press,
    Record,
    Say,
    Silence,
    Step,
    normalise_heard,
)

_DIGITS = re.compile(r"[0-9*#]+")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_CALL_KEYS = ("name", "at", "timezone", "from", "to", "config")
_CALL_PARTS = ("dialled", "queues", "steps", "expect")
_ACTIONS = ("hear", "hear_re", "not_hear", "press", "say", "silence", "record", "hangup")
_Path = tuple[str | int, ...]
_STEP_KEYS = {
    "hear": (),
    "hear_re": (),
    "not_hear": (),
    "press": ("after",),
    "say": ("confidence", "after"),
    "silence": (),
    "record": ("transcription", "after"),
    "hangup": (),
}


def load_script(path: Path) -> list[CallScript]:
    """Read the calls of one script file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path}: cannot read the script ({exc})") from exc
    return parse_script(text, str(path), path.parent)


def parse_script(text: str, file: str, base_dir: Path | None = None) -> list[CallScript]:
    """Parse a script's calls; ``file`` names it in errors, ``base_dir`` anchors relative paths."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POSITION.search(message)
        line = int(found.group(1)) if found else 1
        message = _TOML_POSITION.sub("", message)
        raise ScriptError(f"{file}:{line}: not valid TOML: {message}") from exc
    reader = _Reader(file, SourceMap(text), base_dir or Path("."))
    return reader.calls(data)


def parse_ring(text: str) -> CalleeBehaviour:
    """Parse a ring: ``answer[:KEYS]``, ``no-answer[:SECONDS]``, ``busy`` or ``failed``."""
    outcome_text, _, argument = text.strip().partition(":")
    try:
        outcome = DialOutcome(outcome_text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r}: expected answer[:KEYS], no-answer[:SECONDS], busy or failed"
        ) from None
    if not argument:
        return CalleeBehaviour(outcome)
    if outcome is DialOutcome.ANSWER and _DIGITS.fullmatch(argument):
        return CalleeBehaviour(outcome, press=argument)
    if outcome is DialOutcome.NO_ANSWER:
        try:
            seconds = float(argument)
        except ValueError:
            seconds = -1.0
        if seconds >= 0:
            return CalleeBehaviour(outcome, ring_seconds=seconds)
    raise ValueError(f"{text!r}: expected answer[:KEYS], no-answer[:SECONDS], busy or failed")


class _Reader:
    """Turns the parsed TOML of one file into ``CallScript`` objects, naming lines in errors."""

    def __init__(self, file: str, lines: SourceMap, base_dir: Path) -> None:
        self.file = file
        self.lines = lines
        self.base_dir = base_dir

    def where(self, path: Sequence[str | int]) -> Location:
        return Location(self.file, self.lines.line_of(path))

    def fail(self, path: Sequence[str | int], message: str) -> ScriptError:
        return ScriptError(f"{self.where(path)}: {message}")

    def calls(self, data: dict[str, Any]) -> list[CallScript]:
        if "calls" in data:
            self.known(data, (), ("calls", "defaults"), "at the top of a file with [[calls]]")
            defaults = self.table(data, ("defaults",))
            allowed = (*_CALL_KEYS[1:], "dialled", "queues")
            self.known(defaults, ("defaults",), allowed, "in [defaults]")
            calls = data["calls"]
            if not isinstance(calls, list) or not calls:
                raise self.fail(("calls",), "'calls' must be a list of [[calls]] tables")
            scripts = [self.call(entry, ("calls", i), defaults) for i, entry in enumerate(calls)]
            seen: dict[str, int] = {}
            for i, script in enumerate(scripts):
                if script.name in seen:
                    raise self.fail(("calls", i, "name"), f"two calls are named {script.name!r}")
                seen[script.name] = i
            return scripts
        if "call" not in data:
            raise self.fail((), "a script needs a [call] table (or [[calls]] for several calls)")
        self.known(data, (), ("call", *_CALL_PARTS), "at the top of the script")
        header = self.table(data, ("call",))
        self.known(header, ("call",), _CALL_KEYS, "in [call]")
        merged: dict[str, Any] = dict(header)
        merged.update({k: data[k] for k in _CALL_PARTS if k in data})
        no_defaults: dict[str, Any] = {}
        return [self.call(merged, ("call",), no_defaults, top_level=True)]

    def call(
        self,
        entry: Any,
        path: _Path,
        defaults: Mapping[str, Any],
        top_level: bool = False,
    ) -> CallScript:
        if not isinstance(entry, dict):
            raise self.fail(path, "a call must be a table")
        if not top_level:
            self.known(entry, path, (*_CALL_KEYS, *_CALL_PARTS), "in [[calls]]")

        def key_path(key: str) -> _Path:
            # In the one-call form, dialled/steps/expect live at the top of the file.
            if top_level and key in _CALL_PARTS:
                return (key,)
            if key not in entry and key in defaults:
                return ("defaults", key)
            return path + (key,)

        values = {**defaults, **entry}
        if "name" in values:
            name = self.text(values["name"], key_path("name"), "name")
        elif top_level:
            name = Path(self.file).stem
        else:
            raise self.fail(path, "each [[calls]] needs a name")
        zone = None
        if "timezone" in values:
            zone_name = self.text(values["timezone"], key_path("timezone"), "timezone")
            try:
                zone = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                raise self.fail(
                    key_path("timezone"), f"timezone: unknown time zone {zone_name!r}"
                ) from None
        if "at" not in values:
            raise self.fail(path, "missing 'at' (when the call starts: 2026-03-30T10:00:00+02:00)")
        at = self.time(values["at"], key_path("at"), zone)
        for key in ("from", "to"):
            if key not in values:
                raise self.fail(path, f'missing {key!r} (a phone number like "+48601100200")')
        config = None
        if "config" in values:
            config = self.base_dir / self.text(values["config"], key_path("config"), "config")
        no_rings: dict[str, Any] = {}
        dialled = {
            **self.dialled(defaults.get("dialled", no_rings), ("defaults", "dialled")),
            **self.dialled(entry.get("dialled", no_rings), key_path("dialled")),
        }
        queues = {
            **self.queues(defaults.get("queues", no_rings), ("defaults", "queues")),
            **self.queues(entry.get("queues", no_rings), key_path("queues")),
        }
        steps_data = entry.get("steps", [])
        if not isinstance(steps_data, list):
            raise self.fail(key_path("steps"), "'steps' must be a list of [[steps]] tables")
        steps = tuple(
            self.step(step, key_path("steps") + (i,)) for i, step in enumerate(steps_data)
        )
        return CallScript(
            name=name,
            where=self.where(path),
            at=at,
            from_=self.text(values["from"], key_path("from"), "from"),
            to=self.text(values["to"], key_path("to"), "to"),
            config=config,
            dialled=dialled,
            queues=queues,
            steps=steps,
            expect=self.expect(entry.get("expect", {}), key_path("expect")),
        )

    def dialled(self, data: Any, path: _Path) -> dict[str, tuple[CalleeBehaviour, ...]]:
        if not isinstance(data, dict):
            raise self.fail(path, '[dialled] must be a table: "+48600300400" = "answer:1"')
        result: dict[str, tuple[CalleeBehaviour, ...]] = {}
        for number, value in data.items():
            here = path + (number,)
            if isinstance(value, dict) and "rings" in value:
                self.known(value, here, ("rings",), f"in dialled.{number!r}")
                value, here = value["rings"], here + ("rings",)
            rings = value if isinstance(value, list) else [value]
            if not rings:
                raise self.fail(here, f"dialled {number!r}: give at least one ring")
            result[number] = tuple(
                self.ring(ring, here + (i,) if isinstance(value, list) else here)
                for i, ring in enumerate(rings)
            )
        return result

    def queues(self, data: Any, path: _Path) -> dict[str, QueueBehaviour]:
        if not isinstance(data, dict):
            raise self.fail(path, "[queues] must be a table: warehouse = { agent_after = 30 }")
        result: dict[str, QueueBehaviour] = {}
        for name, value in data.items():
            here = path + (name,)
            if not isinstance(value, dict):
                raise self.fail(
                    here, f"queue {name!r}: expected a table like {{ agent_after = 30 }}"
                )
            self.known(value, here, ("agent_after", "talk", "ahead", "avg_wait"), "in a queue")
            extra: dict[str, Any] = {}
            for key in ("agent_after", "talk", "avg_wait"):
                if key in value:
                    extra[key] = self.seconds(value[key], here + (key,), key)
            if "ahead" in value:
                ahead = value["ahead"]
                if not isinstance(ahead, int) or isinstance(ahead, bool) or ahead < 0:
                    raise self.fail(here + ("ahead",), f"ahead: expected 0 or more, got {ahead!r}")
                extra["ahead"] = ahead
            result[name] = QueueBehaviour(**extra)
        return result

    def ring(self, data: Any, path: _Path) -> CalleeBehaviour:
        if isinstance(data, str):
            try:
                return parse_ring(data)
            except ValueError as exc:
                raise self.fail(path, f"ring {exc}") from None
        if not isinstance(data, dict):
            raise self.fail(path, 'a ring is a string like "answer:1" or a table with an outcome')
        self.known(data, path, ("outcome", "after", "press", "talk"), "in a ring")
        if "outcome" not in data:
            raise self.fail(path, "a ring needs an outcome: answer, busy, no-answer or failed")
        outcome_text = self.text(data["outcome"], path + ("outcome",), "outcome")
        try:
            outcome = DialOutcome(outcome_text)
        except ValueError:
            raise self.fail(
                path + ("outcome",),
                f"outcome: expected answer, busy, no-answer or failed, got {outcome_text!r}",
            ) from None
        extra: dict[str, Any] = {}
        if "after" in data:
            extra["ring_seconds"] = self.seconds(data["after"], path + ("after",), "after")
        if "talk" in data:
            extra["talk"] = self.seconds(data["talk"], path + ("talk",), "talk")
        if "press" in data:
            extra["press"] = self.digits(data["press"], path + ("press",))
        return CalleeBehaviour(outcome, **extra)

    def step(self, data: Any, path: _Path) -> Step:
        if not isinstance(data, dict):
            raise self.fail(path, 'a step must be a table like { hear = "..." }')
        every_key = (*_ACTIONS, "hangup_after", "after", "confidence", "transcription")
        self.known(data, path, every_key, "in a step")
        actions = [key for key in data if key in _ACTIONS or key == "hangup_after"]
        if len(actions) != 1:
            found = ", ".join(actions) if actions else "none"
            raise self.fail(
                path,
                f"a step needs exactly one of {', '.join(_ACTIONS)} (found: {found})",
            )
        action = actions[0]
        allowed = (action, *_STEP_KEYS.get(action, ()))
        self.known(data, path, allowed, f"in a {action!r} step")
        value = data[action]
        here = path + (action,)
        where = self.where(here)
        after = self.seconds(data["after"], path + ("after",), "after") if "after" in data else None
        if action in ("hear", "not_hear"):
            shown = self.text(value, here, action)
            pattern = re.compile(re.escape(normalise_heard(shown)), re.IGNORECASE)
            return Hear(where, pattern, repr(shown), negated=action == "not_hear")
        if action == "hear_re":
            source = self.text(value, here, action)
            try:
                pattern = re.compile(source, re.IGNORECASE)
            except re.error as exc:
                raise self.fail(here, f"hear_re: not a valid regular expression ({exc})") from None
            return Hear(where, pattern, f"/{source}/")
        if action == "press":
            return Press(where, self.digits(value, here), after)
        if action == "say":
            words = self.text(value, here, action)
            confidence = None
            if "confidence" in data:
                confidence = self.number(data["confidence"], path + ("confidence",), "confidence")
                if not 0 <= confidence <= 1:
                    raise self.fail(path + ("confidence",), "confidence: expected 0.0 to 1.0")
            return Say(where, words, confidence, after)
        if action == "silence":
            self.true(value, here, action)
            return Silence(where)
        if action == "record":
            transcription = ""
            if "transcription" in data:
                transcription = self.text(
                    data["transcription"], path + ("transcription",), "transcription"
                )
            return Record(where, self.seconds(value, here, action), transcription, after)
        if action == "hangup_after":
            return Hangup(where, self.seconds(value, here, action))
        self.true(value, here, action)
        return Hangup(where)

    def expect(self, data: Any, path: _Path) -> Expect:
        if not isinstance(data, dict):
            raise self.fail(path, "[expect] must be a table")
        self.known(data, path, ("ended", "bridged", "queue", "api"), "in [expect]")
        ended = None
        if "ended" in data:
            ended = self.text(data["ended"], path + ("ended",), "ended")
            if ended not in ENDINGS:
                raise self.fail(
                    path + ("ended",), f"ended: expected one of {', '.join(ENDINGS)}, got {ended!r}"
                )
        checks = data.get("api", [])
        if not isinstance(checks, list):
            raise self.fail(path + ("api",), "'api' must be a list of [[expect.api]] tables")
        return Expect(
            where=self.where(path),
            ended=ended,
            bridged=self.maybe_false(data, "bridged", path),
            queue=self.maybe_false(data, "queue", path),
            api=tuple(self.api(check, path + ("api", i)) for i, check in enumerate(checks)),
            places={key: self.where(path + (key,)) for key in ("ended", "bridged", "queue")},
        )

    def api(self, data: Any, path: _Path) -> ApiCheck:
        if not isinstance(data, dict):
            raise self.fail(path, "an API check must be a table with 'get'")
        self.known(data, path, ("get", "contains", "lacks", "status"), "in [[expect.api]]")
        if "get" not in data:
            raise self.fail(path, "an API check needs 'get' (a path like \"/api/threads\")")
        get = self.text(data["get"], path + ("get",), "get")
        if not get.startswith("/"):
            raise self.fail(path + ("get",), f"get: expected a path starting with '/', got {get!r}")
        status = 200
        if "status" in data:
            status_value = data["status"]
            if not isinstance(status_value, int) or isinstance(status_value, bool):
                raise self.fail(path + ("status",), "status: expected an HTTP status like 200")
            status = status_value
        return ApiCheck(
            where=self.where(path),
            path=get,
            contains=self.texts(data.get("contains", []), path + ("contains",), "contains"),
            lacks=self.texts(data.get("lacks", []), path + ("lacks",), "lacks"),
            status=status,
        )

    # --- typed values -------------------------------------------------------------------------

    def known(
        self,
        data: Mapping[str, Any],
        path: _Path,
        allowed: Sequence[str],
        where: str,
    ) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(
                    path + (key,),
                    f"unknown key {key!r} {where} (expected one of: {', '.join(allowed)})",
                )

    def table(self, data: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        value = data.get(path[-1], {})
        if not isinstance(value, dict):
            raise self.fail(path, f"[{path[-1]}] must be a table")
        return value

    def text(self, value: Any, path: _Path, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"{key}: expected a non-empty text in quotes, got {value!r}")
        return value

    def texts(self, value: Any, path: _Path, key: str) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        return tuple(self.text(item, path, key) for item in items)

    def number(self, value: Any, path: _Path, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, f"{key}: expected a number, got {value!r}")
        return float(value)

    def seconds(self, value: Any, path: _Path, key: str) -> float:
        seconds = self.number(value, path, key)
        if seconds < 0:
            raise self.fail(path, f"{key}: expected seconds (0 or more), got {value!r}")
        return seconds

    def digits(self, value: Any, path: _Path) -> str:
        # A tester writing `press = 1` means the key 1, not a number.
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not _DIGITS.fullmatch(text):
            raise self.fail(path, f"press: expected keys 0-9, * or #, got {value!r}")
        return text

    def true(self, value: Any, path: _Path, key: str) -> None:
        if value is not True:
            raise self.fail(path, f"{key}: expected true, got {value!r}")

    def maybe_false(self, data: Mapping[str, Any], key: str, path: _Path) -> str | None:
        if key not in data:
            return None
        if data[key] is False:
            return ""
        return self.text(data[key], path + (key,), key)

    def time(self, value: Any, path: _Path, zone: ZoneInfo | None) -> datetime:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise self.fail(
                    path, f"at: expected a time like 2026-03-30T10:00:00+02:00, got {value!r}"
                ) from None
        if not isinstance(value, datetime):
            raise self.fail(path, f"at: expected a date and time, got {value!r}")
        when: datetime = value
        if when.tzinfo is None:
            if zone is None:
                raise self.fail(
                    path, 'at: give an offset (…T10:00:00+02:00) or a timezone = "Europe/Warsaw"'
                )
            when = when.replace(tzinfo=zone)
        return when
