"""Line numbers for the tables, keys and array elements of a TOML document.

``tomllib`` gives values without positions; a script error must still name its line, so this scans
the source text once and maps each key path (``("calls", 1, "steps", 3, "press")``) to its line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Path = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class SourceMap:
    """Where each table header, key and array element of a TOML document starts (1-based lines)."""

    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        self._arrays: dict[Path, int] = {}
        self._scan(text)

    def line_of(self, path: Sequence[str | int]) -> int:
        """The line of ``path``, or of its nearest ancestor that has one (1 for the document)."""
        key = tuple(path)
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key[:-1]
        return 1

    def _scan(self, text: str) -> None:
        table: Path = ()
        lines = text.splitlines()
        number = 0
        while number < len(lines):
            line = lines[number]
            number += 1
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith("["):
                table = self._header(stripped, number)
                continue
            parsed = _split_key(stripped)
            if parsed is None:
                continue
            keys, value_start = parsed
            path = table + tuple(keys)
            self._lines.setdefault(path, number)
            indent = len(line) - len(line.lstrip())
            number = self._value(lines, number - 1, indent + value_start, path)

    def _header(self, stripped: str, number: int) -> Path:
        is_array = stripped.startswith("[[")
        inner = stripped[2:] if is_array else stripped[1:]
        parsed = _split_dotted(inner)
        if parsed is None:
            return ()
        keys, _ = parsed
        resolved: Path = ()
        for key in keys[:-1]:
            resolved += (key,)
            if resolved in self._arrays:
                resolved += (self._arrays[resolved],)
        resolved += (keys[-1],)
        if is_array:
            self._lines.setdefault(resolved, number)
            index = self._arrays.get(resolved, -1) + 1
            self._arrays[resolved] = index
            resolved += (index,)
        self._lines[resolved] = number
        return resolved

    def _value(self, lines: list[str], row: int, col: int, path: Path) -> int:
        """Scan one value, noting the line of each array element; return the row after it."""
        depth = 0
        element = -1
        expecting_element = False
        quote = ""
        while row < len(lines):
            text = lines[row]
            while col < len(text):
                char = text[col]
                if quote:
                    if char == "\\" and quote in ('"', '"""'):
                        col += 2
                        continue
                    if text.startswith(quote, col):
                        col += len(quote)
                        quote = ""
                        continue
                    col += 1
                    continue
                if char == "#":
                    break
                if depth == 1 and expecting_element and char not in " \t,]}":
                    element += 1
                    self._lines.setdefault(path + (element,), row + 1)
                    expecting_element = False
                if char in "\"'":
                    triple = char * 3
                    quote = triple if text.startswith(triple, col) else char
                    col += len(quote)
                    continue
                if char in "[{":
                    depth += 1
                    if depth == 1 and char == "[":
                        expecting_element = True
                elif char in "]}":
                    depth -= 1
                elif char == "," and depth == 1:
                    expecting_element = True
                col += 1
            row += 1
            col = 0
            if depth <= 0 and not quote:
                break
        return row


def _split_key(stripped: str) -> tuple[list[str], int] | None:
    """``(keys, index just past '=')`` for a ``key = value`` line, or ``None``."""
    parsed = _split_dotted(stripped)
    if parsed is None:
        return None
    keys, end = parsed
    rest = stripped[end:]
    if not rest.startswith("="):
        return None
    return keys, end + 1


def _split_dotted(text: str) -> tuple[list[str], int] | None:
    """The parts of the dotted key at the start of ``text``, and the index just past it."""
    keys: list[str] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos >= len(text):
            return None
        char = text[pos]
        if char in "\"'":
            end = text.find(char, pos + 1)
            if end < 0:
                return None
            raw = text[pos + 1 : end]
            keys.append(raw)
            pos = end + 1
        else:
            match = _BARE_KEY.match(text, pos)
            if match is None:
                return None
            keys.append(match.group())
            pos = match.end()
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos < len(text) and text[pos] == ".":
            pos += 1
            continue
        if pos < len(text) and text[pos] == "]":
            pos += 1
        return keys, pos
