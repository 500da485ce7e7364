"""The SQLite database file: opened only when it exists, created only by ``hotline db upgrade``,
and watched, so that a worker never keeps writing into a file that is no longer at its path.

sqlite3 creates a missing file on connect, and a process that has a file open keeps writing into
it after it is deleted or renamed away. Either way a worker would serve calls from a database
nobody else sees (and whose writes are lost). So connections open the file read-write only
(``mode=rw``: a missing file is an error), and each connection handed out by the pool first
compares the file at the path with the one the store opened: one ``os.stat`` per checkout.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from hotline.errors import StoreError

log = logging.getLogger(__name__)

UPGRADE_HINT = "`hotline db upgrade`"


def file_path(url: str) -> Path | None:
    """The file of a SQLite file URL; ``None`` for PostgreSQL, memory and URI-style URLs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or "uri" in parsed.query:
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).absolute()


def create(path: Path) -> None:
    """Create the database file and its folder if missing (the upgrade's privilege alone)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)):
        pass  # connecting in sqlite3's default mode creates the (empty) file


def open_read_write(engine: Engine, path: Path) -> None:
    """Make ``engine`` open ``path`` read-write only: a missing file fails instead of appearing."""
    uri = f"file:{quote(str(path))}?mode=rw"

    @event.listens_for(engine, "do_connect")
    def _read_write(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        cargs[:1] = [uri]
        cparams["uri"] = True


class FileWatch:
    """The database file a store opened, checked against whatever is at its path now."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._where = str(path)  # os.stat of a str: the cheapest check there is
        try:
            found = os.stat(self._where)
        except FileNotFoundError:
            raise StoreError(
                f"no database file at {path}: create it with {UPGRADE_HINT} "
                "(the server never creates one on its own)"
            ) from None
        self._identity = (found.st_dev, found.st_ino)
        self.problem: str | None = None  # once set, for good: the store stays refused

    def check(self) -> None:
        """Raise ``StoreError`` when the file at the path is not the one opened (gone, replaced)."""
        if self.problem is None:
            try:
                found = os.stat(self._where)
            except FileNotFoundError:
                self._lose(
                    "was deleted",
                    f"restore it (or create a new one with {UPGRADE_HINT}) and restart the server",
                )
            except OSError as exc:  # e.g. its folder made unreadable: refuse, but only for now
                raise StoreError(f"cannot check the database file {self.path}: {exc}") from exc
            else:
                if (found.st_dev, found.st_ino) != self._identity:
                    self._lose(
                        "was replaced by another file",
                        "restart the server to serve the file now at that path",
                    )
        if self.problem is not None:
            raise StoreError(f"the database file {self.path} {self.problem}")

    def _lose(self, what: str, todo: str) -> None:
        self.problem = f"{what} while the server runs; this worker writes nothing more"
        # Loud and once per worker: from now on every webhook fails fast (the caller hears the
        # apology) and ``/healthz`` answers 503 until the server is restarted on a good file.
        log.error(
            "the database file %s %s: this worker (pid %d) stops using the file it opened (what "
            "it wrote there would be seen by no other process, and lost); every webhook now "
            "gets the apology and /healthz answers 503. To fix: %s",
            self.path,
            what,
            os.getpid(),
            todo,
        )


def watch(engine: Engine, file: FileWatch) -> FileWatch:
    """Check ``file`` each time ``engine``'s pool hands out a connection."""

    @event.listens_for(engine, "checkout")
    def _still_the_file(_dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        file.check()

    # A connection the pool opens anew (after a failed checkout, say) must not open a file that
    # replaced the one watched either.
    @event.listens_for(engine, "do_connect")
    def _before_opening(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
        file.check()

    return file
