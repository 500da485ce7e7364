"""Run call scripts against an app: find them, play each call, check its outcome, in parallel.

Each call gets a fresh app (the factory is called once per call), so calls never see each
other's side effects and can run in any order or in several processes.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import multiprocessing
import os
import sys
import tomllib
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from freezegun import api as freezegun_api

from hotline.sim.callees import number_key
from hotline.sim.caller import Failure, ScriptedCaller
from hotline.sim.checks import check_result
from hotline.sim.clock import AppTime
from hotline.sim.engine import CallResult, Simulator
from hotline.sim.model import CallEnd, ScriptError, SimError
from hotline.sim.script import load_script
from hotline.sim.steps import ApiCheck, CallScript
from hotline.sim.transport import HTTPTransport, Transport, WSGIApp, WSGITransport

if TYPE_CHECKING:
    from hotline.sim.coverage import CallTrail

DEFAULT_CONFIG = Path("config.toml")


@dataclass(frozen=True)
class Target:
    """How to reach the app under test; plain data, so worker processes can reach it too.

    ``url``: a running server. ``app``: ``module:name``, a factory called with no arguments for
    each call (or a WSGI app used as is). Otherwise hotline itself, built for each call from
    ``config`` (else the script's own ``config``, else ``./config.toml``).
    """

    auth_token: str | None = None  # None: the app's own (``auth_token`` attribute) or ""
    api_token: str | None = None
    url: str | None = None
    app: str | None = None
    config: Path | None = None
    base_url: str | None = None
    voice_path: str = "/voice"

    def describe(self) -> str:
        """Say what is being called, for the progress line."""
        if self.url:
            return self.url
        if self.app:
            return self.app
        return f"hotline ({self.config or 'config from each script'})"

    def check(self) -> None:
        """Fail early (ScriptError) when the app cannot be found, before any call is placed."""
        if self.app:
            _import_app(self.app)
        elif self.config and not self.url and not self.config.is_file():
            raise ScriptError(f"{self.config}: no such config file")

    def config_for(self, script: CallScript | None) -> Path:
        """The hotline config a call runs on: ``config``, else the script's, else the default."""
        return self.config or (script and script.config) or DEFAULT_CONFIG

    def connect(self, script: CallScript | None) -> Connection:
        """Reach a fresh app for one call (``script`` may name hotline's config)."""
        if self.url:
            app: Any = None
            transport: Transport = HTTPTransport(self.url)
        else:
            if self.app:
                app = load_app(self.app)
            else:
                app = _hotline_app(self.config_for(script))
            transport = WSGITransport(cast(WSGIApp, app))
        # An app built for the simulator may say which tokens and public URL it expects.
        auth_token = self.auth_token or getattr(app, "auth_token", None) or ""
        api_token = self.api_token or getattr(app, "api_token", None)
        base_url = self.base_url or self.url or getattr(app, "base_url", None) or "http://localhost"
        return Connection(transport, auth_token, api_token, base_url)


@dataclass(frozen=True)
class Connection:
    """An app reached for one call: the transport, the tokens to use, its public URL."""

    transport: Transport
    auth_token: str
    api_token: str | None
    base_url: str

    def simulator(self, voice_path: str, app_time: AppTime | None = None) -> Simulator:
        """A simulator calling this app; ``app_time``: a freeze shared with other calls."""
        sim = Simulator(self.transport, self.auth_token, voice_path, self.base_url)
        if app_time is not None and self.transport.shares_clock:
            sim.app_time = app_time  # as Simulator.batch() does, but across connections
        return sim


# hotline apps built in this process, one per config: building one migrates a fresh database,
# so it is reused and ``reset()`` between calls instead (same state as a new one, much faster).
_HOTLINE_APPS: dict[Path, Any] = {}


def _hotline_app(config: Path) -> Any:
    key = config.resolve()
    app = _HOTLINE_APPS.get(key)
    if app is not None:
        app.reset()
        return app
    if not key.is_file():
        raise ScriptError(f"{config}: no such config file (give --config, --app or --url)")
    # Imported here: only hotline's own target needs the app's code in this process.
    from hotline.sim.target import build_hotline_app

    app = _HOTLINE_APPS[key] = build_hotline_app(key)
    return app


@dataclass(frozen=True)
class CallOutcome:
    """How one scripted call went: the verdict, what went wrong first, and the whole transcript."""

    script: CallScript
    status: str  # "passed", "failed" (a check failed) or "error" (the call could not be played)
    failure: Failure | None = None
    result: CallResult | None = None
    seconds: float = 0.0  # wall-clock time spent on the call
    trail: CallTrail | None = None  # the app's record of the call, read for ``--coverage``

    @property
    def passed(self) -> bool:
        """Whether every step and check held."""
        return self.status == "passed"


@dataclass
class RunSummary:
    """The outcomes of a run, in script order."""

    outcomes: list[CallOutcome] = field(default_factory=list)

    @property
    def passed(self) -> int:
        """How many calls passed."""
        return sum(1 for outcome in self.outcomes if outcome.passed)

    @property
    def failed(self) -> int:
        """How many calls failed or could not be played."""
        return len(self.outcomes) - self.passed

    def line(self) -> str:
        """The summary line: ``N passed, M failed``."""
        return f"{self.passed} passed, {self.failed} failed"


def find_scripts(paths: Sequence[Path]) -> list[Path]:
    """The script files named, and the ``*.toml`` scripts under the folders named (sorted).

    Inside folders, TOML files with no ``[call]``/``[[calls]]`` (an app's config.toml next to the
    scripts) are not scripts and are left out; a file named explicitly is always a script.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*.toml")) if _looks_like_script(p))
        elif path.is_file():
            found.append(path)
        else:
            raise ScriptError(f"{path}: no such file or folder")
    return list(dict.fromkeys(found))


def load_scripts(paths: Sequence[Path]) -> list[CallScript]:
    """Every call of every script under ``paths``; the first malformed one raises ScriptError."""
    calls: list[CallScript] = []
    for path in find_scripts(paths):
        calls.extend(load_script(path))
    return calls


def wall_clock() -> float:
    """Seconds on the real clock (``time.perf_counter``), even while the app's time is frozen."""
    # Looked up on freezegun's module at each call: a freeze patches the names other modules hold.
    return float(freezegun_api.real_perf_counter())


def run_call(
    script: CallScript,
    target: Target,
    *,
    trail: bool = False,
    app_time: AppTime | None = None,
) -> CallOutcome:
    """Play one scripted call against a fresh app and check everything the script expects.

    With ``trail``, the outcome also carries hotline's own record of the call (for coverage),
    read before the app is reset for the next call. ``app_time``: see ``play_call``.
    """
    started = wall_clock()
    try:
        connection = target.connect(script)
    except Exception as exc:  # an app that cannot be built fails its calls, not the whole run
        return CallOutcome(script, "error", _crash(script, exc), None, wall_clock() - started)
    try:
        outcome = play_call(script, connection, target.voice_path, app_time=app_time)
        if trail and outcome.result is not None:
            from hotline.sim.coverage import fetch_trail

            record = fetch_trail(connection, outcome.result.call_sid, target.config_for(script))
            outcome = dataclasses.replace(outcome, trail=record)
        return outcome
    finally:
        connection.transport.close()


def play_call(
    script: CallScript,
    connection: Connection,
    voice_path: str = "/voice",
    *,
    app_time: AppTime | None = None,
) -> CallOutcome:
    """Play one scripted call on an open connection and check everything the script expects.

    ``app_time``: one freeze of the app's clock shared by a run of calls in this process (started
    here if it is not yet; the caller stops it), which spares freezegun's start-up per call.
    """
    started = wall_clock()
    caller = ScriptedCaller(script)
    result: CallResult | None = None
    try:
        if app_time is not None and connection.transport.shares_clock and not app_time.active:
            app_time.start(script.at)
        sim = connection.simulator(voice_path, app_time)
        result = sim.place_call(
            caller,
            script.at,
            script.from_,
            script.to,
            script.dialled,
            script.queues,
            seed=script.id,
        )
        caller.finish(result.ended, result.reason + _hint(result.reason))
        failure = caller.failure or _check_outcome(script, result, sim, connection.api_token)
        status = "passed" if failure is None else "failed"
    except Exception as exc:  # one crashing call must not stop the others
        failure, status = caller.failure or _crash(script, exc), "error"
    return CallOutcome(script, status, failure, result, wall_clock() - started)


def _crash(script: CallScript, exc: Exception) -> Failure:
    if isinstance(exc, SimError):
        # The app answered something the engine cannot play, or cannot be reached: no traceback.
        return Failure(script.where, f"{type(exc).__name__}: {exc}")
    detail = "".join(traceback.format_exception(exc)).rstrip()
    return Failure(script.where, f"the call crashed: {type(exc).__name__}: {exc}\n{detail}")


def run_calls(
    scripts: Sequence[CallScript],
    target: Target,
    jobs: int = 1,
    on_done: Callable[[CallOutcome], None] | None = None,
    *,
    trails: bool = False,
) -> RunSummary:
    """Run ``scripts`` (in ``jobs`` processes when more than one); outcomes keep script order.

    ``trails``: each outcome carries hotline's record of its call (``CallOutcome.trail``).
    """
    outcomes: list[CallOutcome | None] = [None] * len(scripts)
    for index, outcome in _outcomes(scripts, target, jobs, trails):
        outcomes[index] = outcome
        if on_done is not None:
            on_done(outcome)
    return RunSummary([outcome for outcome in outcomes if outcome is not None])


def load_app(spec: str) -> WSGIApp:
    """Import ``module:name``: call it if it is a factory taking no arguments, else use it as is."""
    found = _import_app(spec)
    if _is_factory(found):
        return cast(WSGIApp, found())
    return cast(WSGIApp, found)


def _import_app(spec: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ScriptError(f"--app {spec!r}: expected module:factory, e.g. myapp:create_app")
    # Like `flask --app`: modules next to where the command runs are importable.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ScriptError(f"--app {spec!r}: {exc}") from exc


def _is_factory(found: Any) -> bool:
    if not callable(found):
        return False
    try:
        parameters = inspect.signature(found).parameters.values()
    except (TypeError, ValueError):
        return False
    required = [
        p
        for p in parameters
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    return not required


def _outcomes(
    scripts: Sequence[CallScript], target: Target, jobs: int, trails: bool
) -> Iterator[tuple[int, CallOutcome]]:
    if jobs <= 1 or len(scripts) <= 1:
        # One freeze of the app's clock for the whole run (each call moves it to its own time):
        # starting freezegun scans every module, ~10 ms, more than a short call takes.
        app_time = AppTime()
        try:
            for index, script in enumerate(scripts):
                yield index, run_call(script, target, trail=trails, app_time=app_time)
        finally:
            app_time.stop()
        return
    # spawn, not fork: the parent may hold threads (the progress display) that fork would copy.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {
            pool.submit(run_call, script, target, trail=trails): i
            for i, script in enumerate(scripts)
        }
        for future in as_completed(futures):
            yield futures[future], future.result()


def _looks_like_script(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return True  # broken TOML in the scripts folder: load it, so its error is shown
    return "call" in data or "calls" in data


def _check_outcome(
    script: CallScript, result: CallResult, sim: Simulator, api_token: str | None
) -> Failure | None:
    expect = script.expect
    place = expect.places
    if result.ended is CallEnd.FAILED and expect.ended != CallEnd.FAILED.value:
        reason = result.reason + _hint(result.reason)
        return Failure(script.where, f"the call failed: {reason}", result.finished)
    if expect.ended is not None and result.ended.value != expect.ended:
        return Failure(
            place["ended"],
            f"expected the call to end {expect.ended}, it ended {result.ended.value}"
            f" ({result.reason})",
            result.finished,
        )
    numbers = [n for n in result.bridged if not n.startswith("queue:")]
    if expect.bridged is not None:
        shown = ", ".join(numbers) or "nobody"
        if expect.bridged == "" and numbers:
            return Failure(place["bridged"], f"expected no bridge, the call was bridged to {shown}")
        wanted = number_key(expect.bridged)
        if expect.bridged and wanted not in {number_key(n) for n in numbers}:
            return Failure(
                place["bridged"],
                f"expected the call to be bridged to {expect.bridged}, it was bridged to {shown}",
            )
    if expect.queue is not None:
        entered = result.entered_queues()
        shown = ", ".join(entered) or "no queue"
        if expect.queue == "" and entered:
            return Failure(place["queue"], f"expected no queue, the caller entered {shown}")
        if expect.queue and expect.queue not in entered:
            return Failure(
                place["queue"], f"expected the caller to enter queue {expect.queue!r}, got {shown}"
            )
    for check in expect.api:
        failure = _check_api(check, result, sim, api_token)
        if failure is not None:
            return failure
    return check_result(script, result)  # what dialled numbers heard; the engine's time limit


def _hint(reason: str) -> str:
    if " answered 403" in reason:
        return " (does the app check signatures with another token? set TWILIO_AUTH_TOKEN)"
    return ""


def _check_api(
    check: ApiCheck, result: CallResult, sim: Simulator, api_token: str | None
) -> Failure | None:
    where, path = check.where, check.path
    if api_token is None:
        return Failure(where, "checking the app's API needs a token: set HOTLINE_API_TOKEN")
    url = sim.url(path.replace("{CallSid}", result.call_sid))
    headers = {"Authorization": f"Bearer {api_token}"}
    response = sim.transport.request("GET", url, {}, headers)
    if response.status != check.status:
        return Failure(
            where,
            f"GET {path} answered {response.status} (expected {check.status}):"
            f" {response.excerpt()!r}",
        )
    text = response.body.decode("utf-8", errors="replace")
    try:
        # Re-encode JSON so "\u0105" escapes compare as the letters a tester writes.
        text = json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        pass
    folded = text.casefold()
    shown = text if len(text) <= 300 else text[:300] + "…"
    for wanted in check.contains:
        if wanted.casefold() not in folded:
            return Failure(where, f"expected GET {path} to contain {wanted!r}, got: {shown}")
    for unwanted in check.lacks:
        if unwanted.casefold() in folded:
            return Failure(where, f"expected GET {path} not to contain {unwanted!r}, got: {shown}")
    return None
