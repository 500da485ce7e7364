"""Our own app as a simulator target: built from a config file, with a fresh store for every call.

The engine talks to any WSGI app; this adapter is the one place that knows hotline's store, so that
each replayed call starts from the same state (same thread references, no calls left over) and the
same script gives the same transcript whichever order the calls run in.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import sqlite3
import tempfile
import tomllib
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, text

from hotline.sim.engine.simulator import DEFAULT_ACCOUNT_SID
from hotline.store.database import get_store, upgrade_schema
from hotline.store.models import Base

SIM_AUTH_TOKEN = "hotline-sim-auth-token"
SIM_API_TOKEN = "hotline-sim-api-token"
# The directory (sellers, orders) comes from the config and stays; what calls write is cleared,
# the agents' states and the queue included (each script starts with every agent offline), and
# what the scheduled work keeps (callbacks, the days' figures), in an order the foreign keys allow.
# Kept: the directory and the schedulers' lease.
KEPT_TABLES = frozenset({"sellers", "orders", "order_sellers", "scheduler_lease"})
CALL_TABLES = (
    "callbacks",
    "daily_figures",
    "agent_sessions",
    "outbox",
    "thread_messages",
    "threads",
    "call_events",
    "transfers",
    "queue_entries",
    "agent_events",
    "agent_states",
)
# Built once: a replay resets the store before every call, and building them each time cost more
# than running them (SQLAlchemy caches their compiled form by statement object).
_DELETES = tuple(delete(Base.metadata.tables[name]) for name in CALL_TABLES)
_HAS_SEQUENCES = text("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
_CLEAR_SEQUENCES = text("DELETE FROM sqlite_sequence")

if TYPE_CHECKING:
    from hotline.sim.hotline_aware.scheduled import HotlineScheduledWork

StartResponse = Callable[..., Any]


class HotlineTarget:
    """hotline as a WSGI app on a temporary SQLite store; ``reset()`` empties it between calls.

    Signature checks stay on: the target uses ``$TWILIO_AUTH_TOKEN`` (or a simulator token when it
    is unset) and ``$HOTLINE_API_TOKEN`` and ``$TWILIO_ACCOUNT_SID`` likewise, exposed as
    ``auth_token``, ``api_token`` and ``account_sid``.
    """

    def __init__(self, config_path: str | os.PathLike[str]) -> None:
        from hotline import create_app

        path = Path(config_path).resolve()
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
        # The directory (sellers, orders) is all the app's start-up writes: it comes from the file.
        directory_key = hashlib.sha256(raw).hexdigest()
        hotline_table = data.setdefault("hotline", {})
        hotline_table["flows_dir"] = str(path.parent / hotline_table.get("flows_dir", "flows"))
        self._folder = tempfile.mkdtemp(prefix="hotline-sim-")
        self._remove = weakref.finalize(self, _remove_folder, self._folder, os.getpid())
        database = f"{self._folder}/hotline.db"
        data.setdefault("store", {})["url"] = f"sqlite:///{database}"
        # Mail the scheduled jobs send goes to a folder of the replay's, never to a mail server.
        self.mail_folder = Path(self._folder) / "mail"
        data["mail"] = {**data.get("mail", {}), "mode": "folder", "folder": str(self.mail_folder)}
        os.environ.pop("HOTLINE_DATABASE_URL", None)  # the replay never touches a real database
        self.auth_token = os.environ.setdefault("TWILIO_AUTH_TOKEN", SIM_AUTH_TOKEN)
        self.api_token = os.environ.setdefault("HOTLINE_API_TOKEN", SIM_API_TOKEN)
        # The account of the calls, and of the REST requests hotline makes (to the stand-in).
        self.account_sid = os.environ.setdefault("TWILIO_ACCOUNT_SID", DEFAULT_ACCOUNT_SID)
        with_directory = _DIRECTORIES.get(directory_key)
        shutil.copyfile(with_directory[0] if with_directory else migrated_database(), database)
        # Requests are signed for the address Twilio would use, so the app's check agrees; a
        # config without one gets the simulator's, so what the app builds from it (a callback's
        # webhooks, the buyer's link in an SMS) points where the simulator serves the app.
        self.base_url = (hotline_table.get("public_base_url") or "").rstrip(
            "/"
        ) or "http://localhost"
        hotline_table["public_base_url"] = self.base_url
        self.app = create_app(data)
        self._store = get_store(self.app)
        if with_directory is None:
            _keep_directory(directory_key, database)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve a request (the target is a WSGI app)."""
        result: Iterable[bytes] = self.app(environ, start_response)
        return result

    def scheduled_work(self) -> HotlineScheduledWork:
        """hotline's scheduled jobs on this app's store, for the simulator's virtual clock."""
        from hotline.sim.hotline_aware.scheduled import HotlineScheduledWork
        from hotline.twilio_rest.client import client_of
        from hotline.web.webhook import SETTINGS

        app = self.app
        return HotlineScheduledWork(app.extensions[SETTINGS], self._store, lambda: client_of(app))

    def reset(self) -> None:
        """Forget every call, thread and notification; keep the directory."""
        with self._store.engine.begin() as conn:
            for statement in _DELETES:
                conn.execute(statement)
            if conn.dialect.name == "sqlite":
                has_sequences = conn.execute(_HAS_SEQUENCES).first()
                if has_sequences:
                    conn.execute(_CLEAR_SEQUENCES)

    def close(self) -> None:
        """Release the database and remove its temporary folder (else it goes with the object)."""
        self._store.engine.dispose()
        self._remove()

    def remove(self) -> None:
        """Remove the temporary folder, database and all, leaving its connections open.

        Only for a process about to end: the app must not serve another request.
        """
        self._remove()


# A database at the newest schema, made once per process and copied for each new app: running
# the migrations costs more than the rest of building an app. Worker processes forked after it
# was made copy it too. Each entry: the file, and the process that made it (and removes it).
_TEMPLATE: list[tuple[str, int]] = []


def migrated_database() -> str:
    """The path of an empty database at the newest schema (never opened by an app: copy it)."""
    if not _TEMPLATE:
        folder = tempfile.mkdtemp(prefix="hotline-sim-template-")
        atexit.register(_remove_folder, folder, os.getpid())
        path = f"{folder}/hotline.db"
        upgrade_schema(f"sqlite:///{path}")
        _TEMPLATE.append((path, os.getpid()))
    return _TEMPLATE[0][0]


# Per config file (by its bytes): a copy of the database of the first app built from it in this
# process (or its parent), taken as it was built, before any call: the newest schema with the
# config's directory in. Later apps of the config copy it, and their start-up only reads the
# directory (sellers, orders) instead of writing it, a third of an app's build. Each entry: the
# file and the process that made it (and removes it).
_DIRECTORIES: dict[str, tuple[str, int]] = {}


def _keep_directory(key: str, database: str) -> None:
    """Keep a copy of ``database`` (an app just built) for the next apps of the same config."""
    handle, copy = tempfile.mkstemp(prefix="hotline-sim-directory-", suffix=".db")
    os.close(handle)
    # SQLite's backup: a consistent copy, whatever is still in the source's write-ahead log.
    with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    source.close()
    target.close()
    _DIRECTORIES[key] = (copy, os.getpid())
    atexit.register(_remove_file, copy, os.getpid())


def remove_migrated_database() -> None:
    """Remove the template databases this process made (worker processes end without atexit)."""
    if _TEMPLATE:
        path, owner = _TEMPLATE.pop()
        _remove_folder(os.path.dirname(path), owner)
    for key, (copy, owner) in list(_DIRECTORIES.items()):
        if owner == os.getpid():
            del _DIRECTORIES[key]
            _remove_file(copy, owner)


def _remove_file(path: str, owner: int) -> None:
    # As for folders: a worker forked from the process that made the file must never remove it.
    if os.getpid() == owner:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _remove_folder(folder: str, owner: int) -> None:
    # A worker forked from the process that made the folder must never remove it.
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def build_hotline_app(config_path: str | os.PathLike[str] = "config.toml") -> HotlineTarget:
    """Our app from ``config_path`` on a temporary store, ready for the simulator."""
    return HotlineTarget(config_path)
