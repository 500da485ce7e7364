"""Flow files: read ``flows/<name>.toml`` into a ``Flow``, refuse a malformed one, check its graph.

Structural errors (a wrong type, a missing key) raise ``FlowError`` naming the file and the key;
``check_flow`` lists what makes a well-formed flow unusable: dangling links, missing prompts,
unreachable steps.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hotline.errors import FlowError
from hotline.ivr.flow import (
    AGENT_PROMPTS,
    BRANCH_TESTS,
    GLOBAL_PROMPTS,
    KIND_LINKS,
    KIND_PROMPTS,
    OPTIONAL_PROMPTS,
    PLACEHOLDERS,
    REOPENS_PROMPTS,
    Flow,
    Language,
    Option,
    Step,
)
from hotline.ivr.speech import normalise_speech
from hotline.rules.routing import Party, Topic

_STEP_KEYS = frozenset(
    {"kind", "tries", "test", "repeat_key", "options", "set_topic", "party"}
    | set(OPTIONAL_PROMPTS)
    | {p for prompts in KIND_PROMPTS.values() for p in prompts}
    | {link for links in KIND_LINKS.values() for link in links}
)


def load_flow(flows_dir: Path, name: str) -> Flow:
    """Load and validate ``flows_dir/<name>.toml`` (cached by path and modification time)."""
    path = flows_dir / f"{name}.toml"
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise FlowError(f"{path}: no such flow file") from None
    return _load_cached(path, mtime)


@lru_cache(maxsize=16)
def _load_cached(path: Path, _mtime: int) -> Flow:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise FlowError(f"{path}: not valid TOML: {exc}") from None
    flow = parse_flow(data, path)
    problems = check_flow(flow)
    if problems:
        raise FlowError(f"{path}: " + "; ".join(problems))
    return flow


def parse_flow(data: Mapping[str, Any], path: Path) -> Flow:
    """Build a ``Flow`` from parsed TOML; structural errors raise ``FlowError`` naming the key."""
    meta = _table(data, "flow", path)
    start = meta.get("start")
    if not isinstance(start, str):
        raise FlowError(f"{path}: flow.start: expected the name of the first step")
    steps = {name: _step(name, raw, path) for name, raw in _table(data, "steps", path).items()}
    languages = {
        code: _language(code, raw, path) for code, raw in _table(data, "languages", path).items()
    }
    if not languages:
        raise FlowError(f"{path}: languages: expected at least one [languages.<code>] table")
    return Flow(
        name=path.stem,
        path=path,
        start=start,
        steps=MappingProxyType(steps),
        languages=MappingProxyType(languages),
    )


def check_flow(flow: Flow) -> list[str]:
    """Problems that make a flow unusable: dangling links, missing prompts, unreachable steps."""
    problems: list[str] = []
    if flow.start not in flow.steps:
        problems.append(f"flow.start: no step called {flow.start!r}")
    for src, label, dst in flow.edges():
        if dst not in flow.steps:
            problems.append(f"steps.{src}: {label} leads to {dst!r}, which is not a step")
    needed = set(GLOBAL_PROMPTS)
    if any(
        "{reopens}" in text for lang in flow.languages.values() for text in lang.prompts.values()
    ):
        needed.update(REOPENS_PROMPTS)
    for step in flow.steps.values():
        needed.update(step.prompts.values())
    if any(step.kind == "enqueue" for step in flow.steps.values()):
        needed.update(AGENT_PROMPTS)
    needed.update(
        f"topic_{t.value}" for t in Topic if any(_uses_topic(s) for s in flow.steps.values())
    )
    for lang in flow.languages.values():
        for prompt in sorted(needed - set(lang.prompts)):
            problems.append(f"languages.{lang.code}.prompts: missing prompt {prompt!r}")
        for name, text in lang.prompts.items():
            try:
                unknown = _placeholders(text) - PLACEHOLDERS
            except ValueError as exc:  # a lone "{" or "}" would fail mid-call when spoken
                problems.append(f"languages.{lang.code}.prompts.{name}: bad braces ({exc})")
                continue
            if unknown:
                problems.append(
                    f"languages.{lang.code}.prompts.{name}: unknown placeholder "
                    f"{{{sorted(unknown)[0]}}} (known: {', '.join(sorted(PLACEHOLDERS))})"
                )
        for step in flow.steps.values():
            for option in step.options:
                if lang.code not in option.phrases:
                    problems.append(
                        f"steps.{step.name}: option {option.key} has no phrases for {lang.code!r}"
                    )
    if flow.start in flow.steps:
        for name in sorted(set(flow.steps) - flow.reachable()):
            problems.append(f"steps.{name}: unreachable from {flow.start!r}")
    return problems


def _uses_topic(step: Step) -> bool:
    return step.kind in ("dial_seller", "callback_offer")


def _placeholders(text: str) -> set[str]:
    # An empty name ("{}") counts too: format_map refuses positional fields.
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _table(data: Mapping[str, Any], key: str, where: Path | str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise FlowError(f"{where}: {key}: expected a table")
    return value


def _step(name: str, raw: Any, path: Path) -> Step:
    where = f"{path}: steps.{name}"
    if not isinstance(raw, Mapping):
        raise FlowError(f"{where}: expected a table")
    unknown = sorted(set(raw) - _STEP_KEYS)
    if unknown:
        raise FlowError(f"{where}.{unknown[0]}: unknown key")
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KIND_PROMPTS:
        raise FlowError(f"{where}.kind: expected one of {', '.join(KIND_PROMPTS)}, got {kind!r}")
    prompts: dict[str, str] = {}
    for role in KIND_PROMPTS[kind] + OPTIONAL_PROMPTS:
        if role in raw:
            prompts[role] = _text(raw[role], f"{where}.{role}")
        elif role in KIND_PROMPTS[kind]:
            raise FlowError(f"{where}.{role}: missing (a {kind} step needs a prompt name here)")
    links: dict[str, str] = {}
    for link in KIND_LINKS[kind]:
        if link not in raw:
            raise FlowError(f"{where}.{link}: missing (a {kind} step needs the next step here)")
        links[link] = _text(raw[link], f"{where}.{link}")
    test = raw.get("test")
    if kind == "branch" and test not in BRANCH_TESTS:
        raise FlowError(f"{where}.test: expected one of {', '.join(BRANCH_TESTS)}, got {test!r}")
    tries = raw.get("tries")
    if tries is not None and (not isinstance(tries, int) or not 1 <= tries <= 10):
        raise FlowError(f"{where}.tries: expected a whole number from 1 to 10, got {tries!r}")
    options = tuple(
        _option(raw_opt, f"{where}.options[{i}]")
        for i, raw_opt in enumerate(raw.get("options", []))
    )
    if kind in ("menu", "dial_seller") and not options:
        raise FlowError(f"{where}.options: a {kind} step needs at least one option")
    keys = [o.key for o in options]
    if len(set(keys)) != len(keys):
        raise FlowError(f"{where}.options: a key is used twice ({', '.join(keys)})")
    party = raw.get("party")
    if party is not None and (kind != "thread" or party not in tuple(Party)):
        raise FlowError(
            f"{where}.party: a thread step's party is 'seller' or 'warehouse', got {party!r}"
            + ("" if kind == "thread" else f" on a {kind} step")
        )
    return Step(
        name=name,
        kind=kind,
        prompts=MappingProxyType(prompts),
        links=MappingProxyType(links),
        options=options,
        tries=tries,
        test=test,
        repeat_key=raw.get("repeat_key"),
        topic=_topic(raw.get("set_topic"), f"{where}.set_topic"),
        party=Party(party) if party is not None else None,
    )


def _option(raw: Any, where: str) -> Option:
    if not isinstance(raw, Mapping):
        raise FlowError(f"{where}: expected a table")
    unknown = sorted(set(raw) - {"key", "next", "phrases", "topic"})
    if unknown:
        raise FlowError(f"{where}.{unknown[0]}: unknown key")
    key = _text(raw.get("key"), f"{where}.key")
    if len(key) != 1 or key not in "0123456789*#":
        raise FlowError(f"{where}.key: expected one phone key (0-9, * or #), got {key!r}")
    phrases_raw = raw.get("phrases", {})
    if not isinstance(phrases_raw, Mapping):
        raise FlowError(f"{where}.phrases: expected a table of language = [phrases]")
    phrases, hints = {}, {}
    for lang, words in phrases_raw.items():
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise FlowError(f"{where}.phrases.{lang}: expected a list of phrases")
        phrases[lang] = tuple(normalise_speech(w) for w in words)
        hints[lang] = tuple(" ".join(w.split()) for w in words)
    return Option(
        key=key,
        next=_text(raw.get("next"), f"{where}.next"),
        phrases=MappingProxyType(phrases),
        topic=_topic(raw.get("topic"), f"{where}.topic"),
        hints=MappingProxyType(hints),
    )


def _topic(value: Any, where: str) -> Topic | None:
    if value is None:
        return None
    try:
        return Topic(value)
    except ValueError:
        known = ", ".join(t.value for t in Topic)
        raise FlowError(f"{where}: expected one of {known}, got {value!r}") from None


def _language(code: str, raw: Any, path: Path) -> Language:
    where = f"{path}: languages.{code}"
    if not isinstance(raw, Mapping):
        raise FlowError(f"{where}: expected a table")
    prompts = _table(raw, "prompts", where)
    for name, text in prompts.items():
        _text(text, f"{where}.prompts.{name}")
    topics = {
        key[len("topic_") :]: value for key, value in prompts.items() if key.startswith("topic_")
    }
    return Language(
        code=code,
        say_language=_text(raw.get("say_language"), f"{where}.say_language"),
        voice=raw.get("voice"),
        prompts=MappingProxyType(dict(prompts)),
        topics=MappingProxyType(topics),
    )


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise FlowError(f"{where}: expected a non-empty string, got {value!r}")
    return value
