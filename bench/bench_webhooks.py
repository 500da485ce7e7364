"""Webhook throughput: hotline under gunicorn against a bare Flask app, driven by wrk on loopback.

``make bench`` starts the apps under the same gunicorn settings (2 sync workers): hotline with
signature checks on and a fresh SQLite database (every webhook commits a ``call_events`` row),
``bench/bare_app.py``, which only reads the form and answers fixed TwiML, and
``bench/floor_app.py``, the bare app plus one signature check and one committed row: the least
any signed, durably recorded webhook costs. wrk posts the same Twilio-signed bodies to each (a
different CallSid per request), the targets take turns, and the script prints requests/s and the
ratio to the bare app, hotline's and the floor's, for ``POST /voice`` and for the menu step.
Any answer that is not a 200 with a ``<Gather>`` (a 403 means the signatures are wrong, an
apology means the app failed) makes the run fail: those numbers would be meaningless.

``--profile`` instead runs hotline's webhooks in-process under cProfile (Flask's test client, no
network) and prints where the time goes, next to the bare app's cost per request.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twilio.request_validator import RequestValidator

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
CONFIG = ROOT / "config.toml"
AUTH_TOKEN = "bench-auth-token"
HOST = "127.0.0.1"
WORKERS = 2
VOICE = "/voice"
MENU = "/voice/step/main_menu?attempt=1"
HOTLINE_NUMBER = "+442071000000"  # English prompts in the shipped config
CALLER = "+48601100200"  # has exactly one order in the shipped directory: the menu confirms it
BODY_RATE = 2500  # distinct signed bodies per second of run (more than hotline ever answers)


# -- what wrk posts -------------------------------------------------------------------------------


def twilio_form(call_sid: str, digits: str | None = None) -> dict[str, str]:
    """The parameters Twilio posts to a Voice webhook (a Gather's action adds ``Digits``)."""
    form = {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "in-progress" if digits is not None else "ringing",
        "CallToken": "",
        "Called": HOTLINE_NUMBER,
        "CalledCity": "",
        "CalledCountry": "GB",
        "CalledState": "London",
        "CalledZip": "",
        "Caller": CALLER,
        "CallerCity": "",
        "CallerCountry": "PL",
        "CallerState": "",
        "CallerZip": "",
        "Direction": "inbound",
        "From": CALLER,
        "FromCity": "",
        "FromCountry": "PL",
        "FromState": "",
        "FromZip": "",
        "To": HOTLINE_NUMBER,
        "ToCity": "",
        "ToCountry": "GB",
        "ToState": "London",
        "ToZip": "",
    }
    if digits is not None:
        form.update(Digits=digits, FinishedOnKey="", msg="Gather End")
    return form


def new_call_sids(count: int) -> list[str]:
    """``count`` CallSids no earlier request used."""
    return ["CA" + secrets.token_hex(16) for _ in range(count)]


def write_bodies(path: Path, url: str, forms: Sequence[dict[str, str]]) -> Path:
    """One line per request, ``signature<TAB>urlencoded body``, signed for ``url``."""
    validator = RequestValidator(AUTH_TOKEN)
    with path.open("w") as fh:
        for form in forms:
            signature = validator.compute_signature(url, form)
            fh.write(f"{signature}\t{urllib.parse.urlencode(form)}\n")
    return path


# Each wrk thread has its own Lua state: it reads the bodies, pre-formats every request, takes
# every n-th one (so threads never share a CallSid) and counts answers that are not what we expect.
LUA = r"""
local bodies_file, target, nthreads = %(bodies)s, %(target)s, %(threads)d
local threads, next_id = {}, 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  requests_, bad, bad_status, bad_body = {}, 0, 0, ""
  for line in io.lines(bodies_file) do
    local tab = line:find("\t", 1, true)
    requests_[#requests_ + 1] = wrk.format("POST", target, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = line:sub(1, tab - 1),
    }, line:sub(tab + 1))
  end
  cursor = id
end

function request()
  local r = requests_[cursor %% #requests_ + 1]
  cursor = cursor + nthreads
  return r
end

function response(status, headers, body)
  if status ~= 200 or not body:find("<Gather", 1, true) then
    bad = bad + 1
    bad_status = status
    bad_body = body:sub(1, 300)
  end
end

function done(summary, latency, requests)
  local total_bad, status, body = 0, 0, ""
  for _, t in ipairs(threads) do
    total_bad = total_bad + t:get("bad")
    if t:get("bad") > 0 then
      status, body = t:get("bad_status"), t:get("bad_body")
    end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%%d duration_us=%%d bad=%%d errors=%%d last_bad_status=%%d\n",
    summary.requests, summary.duration, total_bad,
    e.connect + e.read + e.write + e.status + e.timeout, status))
  if total_bad > 0 then
    io.write("BENCH_BAD_BODY " .. body:gsub("\n", " ") .. "\n")
  end
end
"""


@dataclass(frozen=True)
class Result:
    """One wrk run against one target."""

    requests: int
    seconds: float

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds


def lua_string(value: str) -> str:
    """``value`` as a Lua string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(
    wrk: str, base: str, target: str, bodies: Path, seconds: float, threads: int, connections: int
) -> Result:
    """Post ``bodies`` to ``base + target`` for ``seconds``; fail on any unexpected answer."""
    script = bodies.with_suffix(".lua")
    script.write_text(
        LUA % {"bodies": lua_string(str(bodies)), "target": lua_string(target), "threads": threads}
    )
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        base + target,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    match = re.search(
        r"BENCH requests=(\d+) duration_us=(\d+) bad=(\d+) errors=(\d+) last_bad_status=(\d+)",
        done.stdout,
    )
    if done.returncode != 0 or match is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    requests, duration_us, bad, errors, bad_status = (int(g) for g in match.groups())
    if bad or errors:
        body = re.search(r"BENCH_BAD_BODY (.*)", done.stdout)
        raise SystemExit(
            f"{base}{target}: {bad} of {requests} answers were not a 200 with a <Gather> "
            f"(last status {bad_status}: {body.group(1) if body else '?'}), {errors} socket "
            "errors or timeouts; the figures would be meaningless.\n" + done.stdout
        )
    if requests == 0:
        raise SystemExit(f"{base}{target}: no request completed\n{done.stdout}")
    return Result(requests, duration_us / 1e6)


# -- the servers ----------------------------------------------------------------------------------


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


@contextlib.contextmanager
def gunicorn(
    name: str, app: str, env: dict[str, str], log: Path, workers: int = WORKERS
) -> Iterator[Server]:
    """Run ``app`` (a gunicorn ``module:factory()``) with the benchmark's settings until exit."""
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
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
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


def ensure_wrk() -> str:
    """The path of wrk, installing the Debian package if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed: installing it with apt-get", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    install = [*sudo, "apt-get", "install", "-y", "wrk"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update"], check=True)
        subprocess.run(install, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is still not on PATH after apt-get install wrk")
    return found


# -- the benchmark --------------------------------------------------------------------------------


def bench(args: argparse.Namespace) -> None:
    """Run both apps, drive them in turns, print each figure and the ratios."""
    from hotline.store.database import upgrade_schema

    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        work = Path(tmp)
        db = work / "hotline.db"
        url = f"sqlite:///{db}"
        upgrade_schema(url)
        env = {
            **os.environ,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "HOTLINE_CONFIG": str(CONFIG),
            "HOTLINE_DATABASE_URL": url,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.pop("HOTLINE_API_TOKEN", None)
        w = args.workers

        def log(name: str) -> Path:
            return work / f"{name}.log"

        with contextlib.ExitStack() as stack:
            hotline = stack.enter_context(
                gunicorn("hotline", "hotline:create_app()", env, log("hotline"), w)
            )
            # The floor checks signatures made for hotline's URL, as every body is signed.
            floor_env = {
                **env,
                "FLOOR_SIGNED_BASE": hotline.base,
                "FLOOR_DATABASE": str(work / "floor.db"),
            }
            bare = stack.enter_context(
                gunicorn("bare flask", "bare_app:create_app()", env, log("bare"), w)
            )
            floor = stack.enter_context(
                gunicorn("floor", "floor_app:create_app()", floor_env, log("floor"), w)
            )
            servers = (hotline, bare, floor)
            for server in servers:
                check_answer(server, VOICE, twilio_form(new_call_sids(1)[0]), hotline.base)
            print(
                f"gunicorn -w {w} on {HOST}; wrk -t{args.threads} -c{args.connections}, "
                f"{args.rounds} round(s) of {args.duration:g} s per target and webhook",
                flush=True,
            )
            totals = _drive(args, wrk, work, servers)
        rows = _count_rows(db)
    hotline_requests = totals[(hotline.name, VOICE)][0] + totals[(hotline.name, MENU)][0]
    print(
        f"store: {rows} call_events rows committed for {hotline_requests} measured hotline "
        "requests (plus warm-up)"
    )
    if rows < hotline_requests:
        raise SystemExit("fewer call_events rows than answered webhooks: the write is missing")
    for target, label in ((VOICE, "POST /voice"), (MENU, "POST /voice/step/main_menu (Digits=1)")):
        h_rate, b_rate, f_rate = (
            totals[(server.name, target)][0] / totals[(server.name, target)][1]
            for server in servers
        )
        print(
            f"{label}: hotline {h_rate:.0f} req/s, bare flask {b_rate:.0f} req/s, "
            f"ratio {h_rate / b_rate:.2f} (floor: signature + one commit {f_rate:.0f} req/s, "
            f"ratio {f_rate / b_rate:.2f})"
        )


def _drive(
    args: argparse.Namespace, wrk: str, work: Path, servers: Sequence[Server]
) -> dict[tuple[str, str], tuple[int, float]]:
    """Warm each server up, then run ``args.rounds`` rounds; hotline comes first in ``servers``."""
    hotline = servers[0]
    totals: dict[tuple[str, str], tuple[int, float]] = {}
    body_count = max(2000, int(args.duration * BODY_RATE))

    def run(server: Server, target: str, bodies: Path, seconds: float, record: bool) -> Result:
        result = run_wrk(wrk, server.base, target, bodies, seconds, args.threads, args.connections)
        if record:
            requests, elapsed = totals.get((server.name, target), (0, 0.0))
            totals[(server.name, target)] = (requests + result.requests, elapsed + result.seconds)
        return result

    # Every body is signed for hotline's URL: the bare app ignores the signature and the floor
    # checks it against that URL, so all get the very same bytes.
    voice_url, menu_url = hotline.base + VOICE, hotline.base + MENU
    warm = new_call_sids(body_count)
    write_bodies(work / "warm-voice.txt", voice_url, [twilio_form(s) for s in warm])
    write_bodies(work / "warm-menu.txt", menu_url, [twilio_form(s, "1") for s in warm])
    for server in servers:
        run(server, VOICE, work / "warm-voice.txt", args.warmup, record=False)
        run(server, MENU, work / "warm-menu.txt", args.warmup, record=False)

    for round_ in range(args.rounds):
        # Rotate who goes first, so a noisy neighbour or a growing database hits all alike.
        order = [*servers[round_ % len(servers) :], *servers[: round_ % len(servers)]]
        sids = new_call_sids(body_count)
        voice = write_bodies(
            work / f"voice-{round_}.txt", voice_url, [twilio_form(s) for s in sids]
        )
        answered = {}
        for server in order:
            result = run(server, VOICE, voice, args.duration, record=True)
            answered[server.name] = result.requests
            print(f"  round {round_ + 1} POST /voice {server.name}: {result.rate:.0f} req/s")
        # The menu step goes to calls the greeting has just started (hotline's existing rows).
        started = sids[: max(1, min(answered[hotline.name], len(sids)))]
        menu = write_bodies(
            work / f"menu-{round_}.txt", menu_url, [twilio_form(s, "1") for s in started]
        )
        for server in order:
            result = run(server, MENU, menu, args.duration, record=True)
            print(f"  round {round_ + 1} POST menu step {server.name}: {result.rate:.0f} req/s")
        if answered[hotline.name] > body_count:
            print(f"  (POST /voice reused CallSids after {body_count} requests)")
    return totals


def _count_rows(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        (count,) = conn.execute("SELECT count(*) FROM call_events").fetchone()
        return int(count)


# -- the profile ----------------------------------------------------------------------------------


def profile(args: argparse.Namespace) -> None:
    """Run hotline's webhooks in-process under cProfile and print the top functions."""
    from bare_app import create_app as create_bare_app
    from floor_app import create_app as create_floor_app

    from hotline import create_app
    from hotline.store.database import upgrade_schema

    n = args.requests
    with tempfile.TemporaryDirectory(prefix="hotline-profile-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'hotline.db'}"
        upgrade_schema(url)
        os.environ.update(
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            HOTLINE_DATABASE_URL=url,
            FLOOR_SIGNED_BASE="http://localhost",
            FLOOR_DATABASE=str(Path(tmp) / "floor.db"),
        )
        app = create_app(CONFIG)
        try:
            hotline, bare = _Timed(app), _Timed(create_bare_app())
            floor = _Timed(create_floor_app())
            sids = [f"CA{i:032x}" for i in range(2 * n + 50)]  # warm-up, timing, profile
            for label, target, digits in (
                ("POST /voice", VOICE, None),
                ("POST /voice/step/main_menu (Digits=1)", MENU, "1"),
            ):
                # The menu step answers the calls the greeting started, as in the benchmark.
                signed = _signed(
                    "http://localhost" + target, [twilio_form(s, digits) for s in sids]
                )
                warm, timed, profiled = signed[:50], signed[50 : n + 50], signed[n + 50 :]
                for client in (hotline, bare, floor):
                    client.post_all(target, warm)
                hotline_us, bare_us = hotline.cost(target, timed), bare.cost(target, timed)
                floor_us = floor.cost(target, timed)
                print(
                    f"\n== {label}: hotline {hotline_us:.0f} µs CPU/request in the app, bare flask "
                    f"{bare_us:.0f} µs (ratio {bare_us / hotline_us:.2f}), floor {floor_us:.0f} µs "
                    f"(ratio {bare_us / floor_us:.2f}); no server, no client"
                )
                profiler = cProfile.Profile()
                profiler.runcall(hotline.post_all, target, profiled)
                print(
                    f"cProfile of {n} requests through Flask's test client (totals over all {n}):"
                )
                pstats.Stats(profiler, stream=sys.stdout).sort_stats(args.sort).print_stats(
                    args.top
                )
        finally:
            app.extensions["hotline.store"].engine.dispose()


Signed = Sequence[tuple[dict[str, str], str]]


def _signed(url: str, forms: Sequence[dict[str, str]]) -> Signed:
    validator = RequestValidator(AUTH_TOKEN)
    return [(form, validator.compute_signature(url, form)) for form in forms]


class _Timed:
    """A test client of ``app`` that also sums the CPU time spent inside the app itself."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()
        self.seconds = 0.0
        inner = app.wsgi_app

        def timed(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            started = time.process_time()
            try:
                return inner(environ, start_response)
            finally:
                self.seconds += time.process_time() - started

        app.wsgi_app = timed  # type: ignore[method-assign]

    def post_all(self, target: str, requests: Signed) -> None:
        """Post each signed form; fail unless every answer is a 200 with a ``<Gather>``."""
        for form, signature in requests:
            answer = self.client.post(target, data=form, headers={"X-Twilio-Signature": signature})
            if answer.status_code != 200 or b"<Gather" not in answer.data:
                raise SystemExit(f"{target}: {answer.status_code} {answer.data[:300]!r}")

    def cost(self, target: str, requests: Signed) -> float:
        """Microseconds of CPU the app spends per request (test client excluded)."""
        self.seconds = 0.0
        self.post_all(target, requests)
        return self.seconds / len(requests) * 1e6


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the benchmark or the profile."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=6, help="turns each target gets")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per run")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers each")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--profile", action="store_true", help="profile in-process instead")
    parser.add_argument("--requests", type=int, default=1000, help="requests to profile")
    parser.add_argument("--top", type=int, default=25, help="functions to print")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(BENCH))
    run: Callable[[argparse.Namespace], None] = profile if args.profile else bench
    run(args)


if __name__ == "__main__":
    main()
