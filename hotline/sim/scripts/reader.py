"""Call scripts: TOML files saying who calls when, what they hear and do, and what must follow.

A file holds one call (``[call]`` with ``[dialled]``, ``[queues]``, ``[[steps]]``, ``[expect]``
and ``[[parties]]``, at the top of the file or inside the call: ``[call.dialled]``...) or several
named calls (``[[calls]]`` with ``[calls.dialled]``, ``[[calls.steps]]``..., shared values in
``[defaults]``). Every problem is a ``ScriptError`` naming the file and line.
The file's shape and each call's header are read here; its parts in ``callees`` ([dialled],
[queues]), ``caller_steps`` ([[steps]]), ``expectations`` ([expect]) and ``parties``
([[parties]]).
docs/simulator.md is the format reference.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.sim.model import ScriptError
from hotline.sim.scripts.app_requests import read_requests
from hotline.sim.scripts.callees import parse_ring, read_dialled, read_queues
from hotline.sim.scripts.caller_steps import read_step
from hotline.sim.scripts.expectations import read_expect
from hotline.sim.scripts.model import NEEDS, AppRequest, CallScript, Party
from hotline.sim.scripts.parties import read_parties
from hotline.sim.scripts.rest_requests import read_rest
from hotline.sim.scripts.sourcemap import SourceMap
from hotline.sim.scripts.values import KeyPath, ValueReader

__all__ = ["load_script", "parse_ring", "parse_script"]

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_CALL_KEYS = (
    "name",
    "at",
    "timezone",
    "from",
    "to",
    "config",
    "voice_url",
    "voice_method",
    "strict",
    "fallback_url",
    "status_callback",
    "needs",
    "params",
    "scheduler_until",
)
_CALL_PARTS = ("dialled", "queues", "steps", "expect", "parties", "rest", "requests")
#: What [defaults] may give every call (not a call's own: its name and parties).
_DEFAULT_KEYS = (
    *(key for key in _CALL_KEYS if key != "name"),
    "dialled",
    "queues",
)
#: Parts written as arrays of tables: [[steps]], [[parties]].
_ARRAY_PARTS = ("steps", "parties", "rest", "requests")


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


class _Reader(ValueReader):
    """Turns the parsed TOML of one file into ``CallScript`` objects, naming lines in errors."""

    def calls(self, data: dict[str, Any]) -> list[CallScript]:
        if "calls" in data:
            for key in _CALL_PARTS:
                if key in data:
                    raise self.fail((key,), _misplaced_part(key))
            self.known(data, (), ("calls", "defaults"), "at the top of a file with [[calls]]")
            defaults = self.table(data, ("defaults",))
            self.known(defaults, ("defaults",), _DEFAULT_KEYS, "in [defaults]")
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
        self.known(header, ("call",), (*_CALL_KEYS, *_CALL_PARTS), "in [call]")
        # A part may be top-level ([dialled], [[steps]]) or inside the call ([call.dialled]).
        lifted = frozenset(key for key in _CALL_PARTS if key in data)
        twice = [key for key in _CALL_PARTS if key in lifted and key in header]
        if twice:
            raise self.fail(("call", twice[0]), _twice(twice[0]))
        merged: dict[str, Any] = {**header, **{key: data[key] for key in lifted}}
        no_defaults: dict[str, Any] = {}
        return [self.call(merged, ("call",), no_defaults, lifted=lifted, single=True)]

    def call(
        self,
        entry: Any,
        path: KeyPath,
        defaults: Mapping[str, Any],
        *,
        lifted: frozenset[str] = frozenset(),
        single: bool = False,
    ) -> CallScript:
        if not isinstance(entry, dict):
            raise self.fail(path, "a call must be a table")
        if not single:
            self.known(entry, path, (*_CALL_KEYS, *_CALL_PARTS), "in [[calls]]")

        def key_path(key: str) -> KeyPath:
            if key in lifted:
                return (key,)
            if key not in entry and key in defaults:
                return ("defaults", key)
            return path + (key,)

        values = {**defaults, **entry}
        if "name" in values:
            name = self.text(values["name"], key_path("name"), "name")
        elif single:
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
            **read_dialled(self, defaults.get("dialled", no_rings), ("defaults", "dialled")),
            **read_dialled(self, entry.get("dialled", no_rings), key_path("dialled")),
        }
        queues = {
            **read_queues(self, defaults.get("queues", no_rings), ("defaults", "queues")),
            **read_queues(self, entry.get("queues", no_rings), key_path("queues")),
        }
        steps_data = entry.get("steps", [])
        if not isinstance(steps_data, list):
            raise self.fail(key_path("steps"), "'steps' must be a list of [[steps]] tables")
        steps = tuple(
            read_step(self, step, key_path("steps") + (i,)) for i, step in enumerate(steps_data)
        )
        voice_url = None
        if "voice_url" in values:
            voice_url = self.voice_url(values["voice_url"], key_path("voice_url"))
        voice_method = None
        if "voice_method" in values:
            voice_method = self.http_method(values["voice_method"], key_path("voice_method"))
        strict = None
        if "strict" in values:
            if not isinstance(values["strict"], bool):
                raise self.fail(
                    key_path("strict"), f"strict: expected true or false, got {values['strict']!r}"
                )
            strict = values["strict"]
        fallback_url = None
        if "fallback_url" in values:
            fallback_url = self.fallback_url(values["fallback_url"], key_path("fallback_url"))
        status_callback = None
        if "status_callback" in values:
            status_callback = self.fallback_url(
                values["status_callback"], key_path("status_callback"), "status_callback"
            )
        needs: frozenset[str] = frozenset()
        if "needs" in values:
            needs = self.needs(values["needs"], key_path("needs"))
        scheduler_until = None
        if "scheduler_until" in values:
            here = key_path("scheduler_until")
            scheduler_until = self.horizon(values["scheduler_until"], here, zone)
        expect = read_expect(self, entry.get("expect", {}), key_path("expect"))
        if scheduler_until is not None or expect.scheduled:
            needs = needs | {"scheduled-work"}  # a running server does its own
        params = {
            **self.params(defaults.get("params", {}), ("defaults", "params")),
            **self.params(entry.get("params", {}), key_path("params")),
        }
        parties: tuple[Party, ...] = ()
        if "parties" in entry:
            parties = read_parties(self, entry["parties"], key_path("parties"))
        rest = read_rest(self, entry["rest"], key_path("rest")) if "rest" in entry else ()
        requests: tuple[AppRequest, ...] = ()
        if "requests" in entry:
            requests = read_requests(self, entry["requests"], key_path("requests"))
        named = {party.name for party in parties}
        for i, request in enumerate(requests):
            if request.party and request.party not in named:
                raise self.fail(
                    key_path("requests") + (i, "party"),
                    f"party: no party named {request.party!r} in this call",
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
            expect=expect,
            voice_url=voice_url,
            voice_method=voice_method,
            strict=strict,
            fallback_url=fallback_url,
            status_callback=status_callback,
            needs=needs,
            parties=parties,
            scheduler_until=scheduler_until,
            rest=rest,
            requests=requests,
            params=params,
        )

    def http_method(self, value: Any, path: KeyPath) -> str:
        """How the number requests its Voice URL: GET or POST (as its Twilio setting says)."""
        if isinstance(value, str) and value.upper() in ("GET", "POST"):
            return value.upper()
        raise self.fail(path, f'voice_method: expected "GET" or "POST", got {value!r}')

    def fallback_url(self, value: Any, path: KeyPath, key: str = "fallback_url") -> str:
        """One of the number's URLs (Voice Fallback, status callback): a path, an http(s) URL,
        or false (none)."""
        if value is False:
            return ""
        if isinstance(value, str) and (
            value.startswith("/") or value.startswith(("http://", "https://"))
        ):
            return value
        raise self.fail(
            path,
            f'{key}: expected a path like "/voice/{key.split("_")[0]}", an http(s):// URL'
            f" or false, got {value!r}",
        )

    def needs(self, value: Any, path: KeyPath) -> frozenset[str]:
        """What the call needs of an app built for the replay: some of ``NEEDS``."""
        wanted = self.texts(value, path, "needs") if value != [] else ()
        for need in wanted:
            if need not in NEEDS:
                raise self.fail(
                    path, f"needs: unknown need {need!r} (expected: {', '.join(NEEDS)})"
                )
        return frozenset(wanted)


def _misplaced_part(key: str) -> str:
    """Where a call part goes in a file of several calls."""
    top, table = _spelled(key, "")
    shared = f", or [defaults.{key}] for every call" if key in ("dialled", "queues") else ""
    return f"{top} at the top of a file with [[calls]]: write {table} under a call{shared}"


def _twice(key: str) -> str:
    """The error for a part given both at the top of the file and inside ``[call]``."""
    top, inside = _spelled(key, "call.")
    return f"{top} and {inside} are the same part of the call: keep one"


def _spelled(key: str, prefix: str) -> tuple[str, str]:
    """How a tester writes a part at the top of a file, and inside ``[call]`` or ``[[calls]]``."""
    if key in _ARRAY_PARTS:
        return f"[[{key}]]", f"[[{prefix or 'calls.'}{key}]]"
    return f"[{key}]", f"[{prefix or 'calls.'}{key}]"
