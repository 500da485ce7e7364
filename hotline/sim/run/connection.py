"""How the simulator reaches the app under test: a ``Target``, and a ``Connection`` for each call.

The target is plain data (worker processes get a copy); connecting builds or imports a fresh app
and puts it behind in-process WSGI, or points an HTTP transport at a running server.
"""

from __future__ import annotations

import importlib
import inspect
import os
import secrets
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from hotline.sim.engine.clock import AppTime
from hotline.sim.engine.http_transport import HTTPTransport
from hotline.sim.engine.scheduled import ScheduledWork
from hotline.sim.engine.simulator import DEFAULT_ACCOUNT_SID, Simulator
from hotline.sim.engine.status_callbacks import NUMBER_STATUS_CALLBACK_EVENTS
from hotline.sim.engine.transport import Transport, WSGIApp, WSGITransport
from hotline.sim.model import AppUnusable, ScriptError
from hotline.sim.run import rest_wiring
from hotline.sim.scripts.model import NEEDS, CallScript
from hotline.twilio_rest.client import ACCOUNT_SID_ENV

DEFAULT_CONFIG = Path("config.toml")


@dataclass(frozen=True)
class Target:
    """How to reach the app under test; plain data, so worker processes can reach it too.

    ``url``: a running server. ``app``: ``module:name``, a factory called with no arguments for
    each call (or a WSGI app used as is). Otherwise hotline itself, built for each call from
    ``config`` (else the script's own ``config``, else ``./config.toml``). ``fallback_url``: the
    number's Voice Fallback URL for calls whose script names none; ``voice_method``: how the
    number requests its Voice URL (GET or POST) for calls whose script does not say; ``strict``:
    refuse TwiML attributes the engine does not play instead of warning about them.
    ``rest_port``: with ``url``, serve the stand-in for Twilio's REST API on that local port (the
    running app is started with ``TWILIO_API_URL`` pointing there); an app built in this process
    always reaches the stand-in (``rest_wiring.py``).
    """

    auth_token: str | None = None  # None: the app's own (``auth_token`` attribute) or ""
    api_token: str | None = None
    url: str | None = None
    app: str | None = None
    config: Path | None = None
    base_url: str | None = None
    voice_path: str = "/voice"
    fallback_url: str | None = None
    status_callback: str | None = None
    voice_method: str = "POST"
    strict: bool = False
    rest_port: int | None = None  # with ``url``: serve the REST stand-in on this local port
    # None: $TWILIO_ACCOUNT_SID, else the app's own (``account_sid`` attribute), else ours
    account_sid: str | None = None

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

    def prepare_workers(self) -> None:
        """Before forking workers: do here, once, what each of them would otherwise do itself.

        For hotline: import the app's code and make the migrated database each app copies, by
        building this process's own app (the workers build theirs, on their own databases).
        """
        if self.url or self.app:
            return
        config = self.config_for(None)
        if config.is_file():
            _hotline_app(config)
        else:  # every script names its own config: make the migrated database at least
            from hotline.sim.hotline_aware.target import migrated_database

            migrated_database()

    def skip_reason(self, script: CallScript) -> str | None:
        """Why ``script`` cannot be played against this app (``None``: it can).

        An app the replay builds meets every need; a running server meets none of them.
        """
        if not self.url or not script.needs:
            return None
        return "; ".join(f"needs {NEEDS[need]}" for need in sorted(script.needs))

    def connect(self, script: CallScript | None) -> Connection:
        """Reach a fresh app for one call (``script`` may name hotline's config)."""
        salt = ""
        if self.url:
            app: Any = None
            base = self.base_url or self.url
            transport: Transport = HTTPTransport(self.url, public_url=base)
            if self.rest_port is not None:
                rest_wiring.on_port(self.rest_port)
            # A running server keeps every call it saw: a new salt per call keeps the CallSids
            # of this replay apart from those of earlier ones.
            salt = secrets.token_hex(8)
        else:
            # Before the app is built: it may build its Client then.
            rest_wiring.in_process(self.account_sid)
            if self.app:
                app = load_app(self.app)
            else:
                app = _hotline_app(self.config_for(script))
            transport = WSGITransport(cast(WSGIApp, app))
        # An app built for the simulator may say which tokens and public URL it expects.
        auth_token = self.auth_token or getattr(app, "auth_token", None) or ""
        api_token = self.api_token or getattr(app, "api_token", None)
        account_sid = (
            self.account_sid
            or os.environ.get(ACCOUNT_SID_ENV)
            or getattr(app, "account_sid", None)
            or DEFAULT_ACCOUNT_SID
        )
        base_url = self.base_url or self.url or getattr(app, "base_url", None) or "http://localhost"
        # hotline built here offers its scheduled jobs, to run on the virtual clock.
        scheduled = getattr(app, "scheduled_work", None)
        return Connection(
            transport,
            auth_token,
            api_token,
            base_url,
            self.fallback_url,
            salt,
            voice_method=self.voice_method,
            strict=self.strict,
            account_sid=account_sid,
            status_callback=self.status_callback,
            scheduled_work=scheduled if callable(scheduled) else None,
        )


@dataclass(frozen=True)
class Connection:
    """An app reached for one call: the transport, the tokens to use, its public URL.

    ``fallback_url``: the number's Voice Fallback URL unless the script names one;
    ``voice_method``: how it requests its Voice URL unless the script says; ``strict``: refuse
    TwiML attributes the engine does not play.
    ``sid_salt``: mixed into the seed of every SID, so that SIDs differ from run to run (a
    running server); empty in-process, where the same call gets the same SIDs every time.
    """

    transport: Transport
    auth_token: str
    api_token: str | None
    base_url: str
    fallback_url: str | None = None
    sid_salt: str = ""
    voice_method: str = "POST"
    strict: bool = False
    account_sid: str = DEFAULT_ACCOUNT_SID  # the account the calls (and the REST stand-in) are of
    status_callback: str | None = None  # the number's status callback unless the script names one
    # The app's timed work for a session's scheduler (hotline in process); None: it has none.
    scheduled_work: Callable[[], ScheduledWork] | None = None

    def seed(self, seed: str) -> str:
        """The seed of a call's SIDs: ``seed``, salted for a running server."""
        return f"{seed}#{self.sid_salt}" if self.sid_salt else seed

    def simulator(
        self,
        voice_path: str,
        app_time: AppTime | None = None,
        *,
        fallback_url: str | None = None,
        voice_method: str | None = None,
        strict: bool | None = None,
        pace: float | None = None,
        status_callback: str | None = None,
    ) -> Simulator:
        """A simulator calling this app; ``app_time``: a freeze shared with other calls.

        ``fallback_url``: the call's own Voice Fallback URL ("" none; ``None``: the connection's);
        ``voice_method``: the call's own Voice URL method (``None``: the connection's);
        ``strict``: the call's own strictness (``None``: the connection's); ``pace``: real
        seconds per virtual second (``None``: as fast as it can; see ``Simulator``);
        ``status_callback``: the number's status callback, posted the call's end ("" none;
        ``None``: the connection's).
        """
        fallback = self.fallback_url if fallback_url is None else fallback_url
        callback = self.status_callback if status_callback is None else status_callback
        sim = Simulator(
            self.transport,
            self.auth_token,
            voice_path,
            self.base_url,
            fallback_url=fallback or None,
            voice_method=voice_method or self.voice_method,
            strict=self.strict if strict is None else strict,
            account_sid=self.account_sid,
            pace=pace,
            status_callback=callback or None,
            status_callback_events=NUMBER_STATUS_CALLBACK_EVENTS,
        )
        sim.scheduled_work = self.scheduled_work
        if app_time is not None and self.transport.shares_clock:
            sim.app_time = app_time  # as Simulator.batch() does, but across connections
        rest_wiring.follow(sim)  # the REST stand-in acts on this simulator's calls
        return sim


# hotline apps built in this process, one per config (and per the tokens it read from the
# environment when it was built): building one costs more than a call, so it is reused and
# ``reset()`` between calls instead (same state as a new one, much faster).
_HOTLINE_APPS: dict[tuple[Path, str | None, str | None], Any] = {}
# Apps a forked worker inherited from its parent: their databases are the parent's, so they are
# never used here; they are kept rather than dropped, so that no clean-up of theirs (closing the
# parent's connections) ever runs in a process that did not open them.
_INHERITED: list[Any] = []


def forget_inherited_apps() -> None:
    """In a forked worker: leave the parent's apps alone; this process builds its own."""
    _INHERITED.extend(_HOTLINE_APPS.values())
    _HOTLINE_APPS.clear()


def close_apps(*, exiting: bool = False) -> None:
    """Close the apps this process built, removing their databases (a worker, as it ends).

    ``exiting``: the process ends right after, so the databases are removed without being closed
    first (closing copies a database's write-ahead log into it, and syncs it, just before it is
    deleted); its descriptors go with the process.
    """
    apps = list(_HOTLINE_APPS.values())
    _HOTLINE_APPS.clear()
    for app in apps:
        if exiting:
            app.remove()
        else:
            app.close()
    if "hotline.sim.hotline_aware.target" in sys.modules:
        from hotline.sim.hotline_aware.target import remove_migrated_database

        remove_migrated_database()


def _app_key(path: Path) -> tuple[Path, str | None, str | None]:
    return path, os.environ.get("TWILIO_AUTH_TOKEN"), os.environ.get("HOTLINE_API_TOKEN")


def _hotline_app(config: Path) -> Any:
    path = config.resolve()
    app = _HOTLINE_APPS.get(_app_key(path))
    if app is not None:
        app.reset()
        return app
    if not path.is_file():
        raise ScriptError(f"{config}: no such config file (give --config, --app or --url)")
    # Imported here: only hotline's own target needs the app's code in this process.
    from hotline.sim.hotline_aware.target import build_hotline_app

    app = build_hotline_app(path)
    _HOTLINE_APPS[_app_key(path)] = app  # read after: building sets unset tokens to its own
    return app


def load_app(spec: str) -> WSGIApp:
    """Import ``module:name``: call it if it is a factory taking no arguments, else use it as is.

    A factory that raises is ``AppUnusable``, with what it raised and where in the app.
    """
    found = _import_app(spec)
    if not _is_factory(found):
        return cast(WSGIApp, found)
    try:
        return cast(WSGIApp, found())
    except Exception as exc:
        raise AppUnusable(
            f"--app {spec!r}: the factory raised {type(exc).__name__}: {exc}\n{_app_part(exc)}"
        ) from exc


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
    except Exception as exc:  # the module itself raised while it was imported
        raise AppUnusable(
            f"--app {spec!r}: importing {module_name} raised {type(exc).__name__}: {exc}"
            f"\n{_app_part(exc)}"
        ) from exc


_SIM_FOLDER = str(Path(__file__).resolve().parents[1])


def _app_part(exc: BaseException) -> str:
    """The traceback from the first frame of the app on (not the simulator's, not importlib's)."""
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if not (name.startswith(_SIM_FOLDER) or name.startswith("<frozen") or "importlib" in name):
            break
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()


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
