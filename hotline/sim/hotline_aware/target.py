"""Our own app as a simulator target: built from a config file, with a fresh store for every call.

The engine talks to any WSGI app; this adapter is the one place that knows hotline's store, so that
each replayed call starts from the same state (same thread references, no calls left over) and the
same script gives the same transcript whichever order the calls run in.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import tomllib
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, text

from hotline.store.database import get_store, upgrade_schema
from hotline.store.models import Base

SIM_AUTH_TOKEN = "hotline-sim-auth-token"
SIM_API_TOKEN = "hotline-sim-api-token"
# The directory (sellers, orders) comes from the config and stays; what calls write is cleared.
_CALL_TABLES = ("outbox", "thread_messages", "threads", "call_events", "calls")

StartResponse = Callable[..., Any]


class HotlineTarget:
    """hotline as a WSGI app on a temporary SQLite store; ``reset()`` empties it between calls.

    Signature checks stay on: the target uses ``$TWILIO_AUTH_TOKEN`` (or a simulator token when it
    is unset) and ``$HOTLINE_API_TOKEN`` likewise, exposed as ``auth_token`` and ``api_token``.
    """

    def __init__(self, config_path: str | os.PathLike[str]) -> None:
        from hotline import create_app

        path = Path(config_path).resolve()
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        hotline_table = data.setdefault("hotline", {})
        hotline_table["flows_dir"] = str(path.parent / hotline_table.get("flows_dir", "flows"))
        self._folder = tempfile.mkdtemp(prefix="hotline-sim-")
        weakref.finalize(self, shutil.rmtree, self._folder, True)
        url = f"sqlite:///{self._folder}/hotline.db"
        data.setdefault("store", {})["url"] = url
        os.environ.pop("HOTLINE_DATABASE_URL", None)  # the replay never touches a real database
        self.auth_token = os.environ.setdefault("TWILIO_AUTH_TOKEN", SIM_AUTH_TOKEN)
        self.api_token = os.environ.setdefault("HOTLINE_API_TOKEN", SIM_API_TOKEN)
        upgrade_schema(url)
        self.app = create_app(data)
        # Requests are signed for the address Twilio would use, so the app's check agrees.
        self.base_url = (hotline_table.get("public_base_url") or "").rstrip(
            "/"
        ) or "http://localhost"
        self._store = get_store(self.app)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve a request (the target is a WSGI app)."""
        result: Iterable[bytes] = self.app(environ, start_response)
        return result

    def reset(self) -> None:
        """Forget every call, thread and notification; keep the directory."""
        tables = {t.name: t for t in Base.metadata.sorted_tables}
        with self._store.engine.begin() as conn:
            for name in _CALL_TABLES:
                conn.execute(delete(tables[name]))
            if conn.dialect.name == "sqlite":
                has_sequences = conn.execute(
                    text("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
                ).first()
                if has_sequences:
                    conn.execute(text("DELETE FROM sqlite_sequence"))

    def close(self) -> None:
        """Release the database (the temporary folder goes with the object)."""
        self._store.engine.dispose()


def build_hotline_app(config_path: str | os.PathLike[str] = "config.toml") -> HotlineTarget:
    """Our app from ``config_path`` on a temporary store, ready for the simulator."""
    return HotlineTarget(config_path)
