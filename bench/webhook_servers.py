"""The servers ``make bench`` measures: gunicorn on loopback, each app under the same settings.

Also what the benchmark reads about a running server: whether it answers a signed webhook with
TwiML, and how much CPU its worker processes have used (from ``/proc``, on Linux), so the report
can say what one request costs the server itself whatever else the machine is doing.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from twilio.request_validator import RequestValidator
from webhook_wrk import AUTH_TOKEN

HOST = "127.0.0.1"
BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A gunicorn serving one app on loopback."""

    name: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def worker_cpu_seconds(self) -> float | None:
        """User and system CPU seconds the workers have used so far (None off Linux)."""
        try:
            total = 0
            for pid in _children(self.process.pid):
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            return total / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (empty off Linux)."""
        try:
            return _children(self.process.pid)
        except OSError:
            return []


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as fh:
            children += [int(child) for child in fh.read().split()]
    return children


@contextlib.contextmanager
def gunicorn(
    name: str, app: str, env: dict[str, str], log: Path, workers: int, cwd: Path
) -> Iterator[Server]:
    """Run ``app`` (a gunicorn ``module:factory()``) with sync workers until exit."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
        "--pythonpath",
        str(BENCH),
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
        app,
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(name, f"http://{HOST}:{port}", process, log)
    try:
        _wait_until_up(server, port)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: Server, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.1)
    raise SystemExit(
        f"{server.name} did not start listening on {server.base}:\n{server.log.read_text()}"
    )


def check_answer(server: Server, target: str, form: dict[str, str], signed_base: str) -> None:
    """Post one request signed for ``signed_base`` (it also waits for a worker to boot); fail
    unless the answer is a 200 with TwiML."""
    url = server.base + target
    data = urllib.parse.urlencode(form).encode()
    signature = RequestValidator(AUTH_TOKEN).compute_signature(signed_base + target, form)
    req = urllib.request.Request(url, data=data, headers={"X-Twilio-Signature": signature})
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            body = answer.read().decode()
    except urllib.error.HTTPError as exc:
        log = server.log.read_text()
        raise SystemExit(f"{server.name} {url}: HTTP {exc.code}\n{log}") from None
    if "<Gather" not in body:
        log = server.log.read_text()
        raise SystemExit(f"{server.name} {url}: not the expected TwiML:\n{body}\n{log}")
