"""A real ``hotline serve`` for tests: gunicorn on a free loopback port, always stopped after.

``serve_hotline(folder)`` writes the shipped config into ``folder`` (its own database there, the
repository's flows), migrates that database with ``hotline db upgrade`` unless it is given an
already migrated file, starts ``hotline serve`` with the test tokens and without the caller's
``HOTLINE_CONFIG``/``HOTLINE_DATABASE_URL``/``FORWARDED_ALLOW_IPS``, waits until it answers HTTP
and yields a ``LiveServer``. Leaving the ``with`` block (a failed test too) stops the server, its
workers and anything else of its process group: no gunicorn outlives the test.

    with serve_hotline(tmp_path, workers=2) as server:
        urlopen(server.url + "/healthz")
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import API_TOKEN, AUTH_TOKEN, ROOT

HOTLINE = str(Path(sys.executable).with_name("hotline"))  # the console script of this venv
# Guards for a server that never starts or never stops, before the test fails: not measurements.
START_GUARD_S = 60.0
STOP_GUARD_S = 30.0
# What would change which config or database the server reads, or which peers gunicorn trusts.
OUTSIDE_ENV = ("HOTLINE_CONFIG", "HOTLINE_DATABASE_URL", "FORWARDED_ALLOW_IPS")


def free_port() -> int:
    """A loopback port nothing listens on right now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def hotline_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without ``OUTSIDE_ENV``, with the test tokens and ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in OUTSIDE_ENV}
    env.update(TWILIO_AUTH_TOKEN=AUTH_TOKEN, HOTLINE_API_TOKEN=API_TOKEN)
    env.update(extra or {})
    return env


def write_config(folder: Path, database: Path, edits: Mapping[str, str] | None = None) -> Path:
    """The shipped config as ``folder/config.toml`` on ``database``, each ``edits`` old -> new."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    replacements = {
        'url = "sqlite:///instance/hotline.db"': f'url = "sqlite:///{database}"',
        'flows_dir = "flows"': f'flows_dir = "{ROOT / "flows"}"',
        **(edits or {}),
    }
    for old, new in replacements.items():
        assert old in text, f"config.toml no longer says {old!r}"  # else the edit did nothing
        text = text.replace(old, new)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def upgrade(config: Path, env: Mapping[str, str]) -> None:
    """Run ``hotline db upgrade`` on ``config``'s database."""
    command = [HOTLINE, "--config", str(config), "db", "upgrade"]
    subprocess.run(command, env=env, check=True, timeout=120)  # a guard for a hung migration


def children(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (a gunicorn master's workers), read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command may hold spaces and parentheses: the fields after the last ')'.
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@dataclass
class LiveServer:
    """A running ``hotline serve``: where it listens, its master process, its config and log."""

    port: int
    process: subprocess.Popen[bytes]
    config: Path
    database: Path
    log_path: Path

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Everything the server printed so far (stdout and stderr)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def workers(self) -> list[int]:
        """The pids of gunicorn's workers right now."""
        return children(self.process.pid)

    def stop(self) -> None:
        """Kill the workers, SIGTERM the master (which reaps them), then end what is left."""
        if self.process.poll() is None:
            # A test's server has nothing to save, and SIGTERM alone took about a second here;
            # killing the workers first, about half that (the log then says they were sent
            # SIGKILL). The master is alive, so these pids are still its children (no reuse).
            for pid in self.workers():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.terminate()
            try:
                self.process.wait(STOP_GUARD_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # Workers of a master that died unclean keep serving: the group (start_new_session) ends.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def wait_until_answering(self) -> None:
        """Return once the server answers HTTP; fail with its log if it exits or never does."""
        deadline = time.monotonic() + START_GUARD_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"hotline serve exited early:\n{self.log()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                try:
                    # Any status will do: with one worker, an answer means it has booted.
                    connection.request("GET", "/healthz")
                    connection.getresponse().read()
                    return
                finally:
                    connection.close()
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"hotline serve did not answer:\n{self.log()}")


@contextlib.contextmanager
def serve_hotline(
    folder: Path,
    *,
    database: Path | None = None,
    workers: int = 1,
    config_edits: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[LiveServer]:
    """``hotline serve`` on a free loopback port, answering; stopped when the block ends.

    ``database``: an already migrated SQLite file, served as is; by default a new
    ``folder/hotline.db`` made by ``hotline db upgrade``. ``config_edits``: exact texts of the
    shipped config.toml and what to write instead (each must be there). ``env``: variables set
    over ``hotline_env()``. The log is ``folder/serve.log``.
    """
    full_env = hotline_env(env)
    if database is None:
        database = folder / "hotline.db"
        config = write_config(folder, database, config_edits)
        upgrade(config, full_env)
    else:
        config = write_config(folder, database, config_edits)
    port = free_port()
    log_path = folder / "serve.log"
    command = [HOTLINE, "--config", str(config), "serve", "--port", str(port)]
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() can end every worker
        )
    server = LiveServer(port, process, config, database, log_path)
    try:
        server.wait_until_answering()
        yield server
    finally:
        server.stop()
