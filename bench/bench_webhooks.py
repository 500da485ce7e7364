"""Webhook throughput and latency: hotline under gunicorn against three yardsticks, driven by wrk.

``make bench`` starts four apps under the same gunicorn settings (2 sync workers each): hotline
with signature checks on and a fresh SQLite database (every webhook commits its ``call_events``
row before it answers); ``bench/bare_app.py``, which only reads the form and answers fixed
TwiML; ``bench/floor_app.py``, the bare app plus one signature check and one committed row,
the cheapest webhook that is signed and durable; and ``bench/state_floor_app.py``, the floor
plus the store work a call's state needs (a keyed read of the call's latest row, a keyed append
of the next) on hotline's own table. wrk posts the same Twilio-signed bodies to each (a new
CallSid per request; the menu step goes to calls the greeting started), the targets take turns
within each round, and the report gives the per-round ratios (hotline to floor, hotline to bare,
floor to bare; hotline to the state floor, the state floor to the floor) as min–median–max, the
p99 latency at each concurrency, and errors. See ``webhook_results`` for how each figure is
taken, ``webhook_wrk`` for what is posted.

``--profile`` instead runs hotline's webhooks in-process under cProfile (Flask's test client, no
network) and prints where the time goes, next to the bare app's and the floors' cost per request.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from twilio.request_validator import RequestValidator
from webhook_results import (
    BARE,
    FLOOR,
    HOTLINE,
    STATE_FLOOR,
    Run,
    report,
    summary,
    write_json,
)
from webhook_servers import Server, check_answer, gunicorn
from webhook_wrk import (
    AUTH_TOKEN,
    ensure_wrk,
    new_call_sids,
    run_wrk,
    twilio_form,
    write_bodies,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.toml"
WORKERS = 2
VOICE = "/voice"
MENU = "/voice/step/main_menu?attempt=1"
TARGETS = {"voice": VOICE, "menu_step": MENU}
# Distinct signed bodies per second of run: more than any of the apps answers (the bare app some
# 4,000 here), so none is posted a body twice (to hotline and the state floor that is a retry,
# which costs another amount than a new call).
BODY_RATE = 6000


# -- the benchmark --------------------------------------------------------------------------------


def bench(args: argparse.Namespace) -> int:
    """Run the four apps, drive them in turns, print the report; 1 if any answer was wrong."""
    from hotline.store.database import upgrade_schema

    wrk = ensure_wrk()
    started = time.monotonic()
    load = os.getloadavg()
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
        with contextlib.ExitStack() as stack:
            hotline = stack.enter_context(
                gunicorn(HOTLINE, "hotline:create_app()", env, work / "hotline.log", w, ROOT)
            )
            # The floor checks signatures made for hotline's URL, as every body is signed.
            floor_env = {
                **env,
                "FLOOR_SIGNED_BASE": hotline.base,
                "FLOOR_DATABASE": str(work / "floor.db"),
            }
            floor = stack.enter_context(
                gunicorn(FLOOR, "floor_app:create_app()", floor_env, work / "floor.log", w, ROOT)
            )
            # The state floor works on a table of hotline's own shape, made as hotline's is.
            state_db = work / "state_floor.db"
            upgrade_schema(f"sqlite:///{state_db}")
            state_env = {**floor_env, "FLOOR_DATABASE": str(state_db)}
            state_floor = stack.enter_context(
                gunicorn(
                    STATE_FLOOR,
                    "state_floor_app:create_app()",
                    state_env,
                    work / "state_floor.log",
                    w,
                    ROOT,
                )
            )
            bare = stack.enter_context(
                gunicorn(BARE, "bare_app:create_app()", env, work / "bare.log", w, ROOT)
            )
            servers = (hotline, floor, state_floor, bare)
            for server in servers:
                check_answer(server, VOICE, twilio_form(new_call_sids(1)[0]), hotline.base)
            print(
                f"gunicorn -w {w} (sync) on loopback; wrk -t{args.threads} --timeout 15s: "
                f"{args.rounds} round(s) of {args.duration:g} s per target and webhook at "
                f"{args.connections} connections, then {args.latency_rounds} at "
                f"{', '.join(map(str, args.latency_connections))}; load average {load[0]:.1f}",
                flush=True,
            )
            runs = _drive(args, wrk, work, servers, db)
        rows = _count_rows(db)
    measured = sum(r.requests for r in runs if r.server == HOTLINE)
    print(
        f"store: {rows} call_events rows committed for {measured} measured hotline requests "
        f"(plus warm-up); {time.monotonic() - started:.0f} s in all"
    )
    concurrencies = sorted({args.connections, *args.latency_connections})
    doc = summary(
        runs,
        args.connections,
        concurrencies,
        workers=w,
        threads=args.threads,
        rounds=args.rounds,
        duration_s=args.duration,
        latency_rounds=args.latency_rounds,
        cpus=os.cpu_count(),
        load_average_at_start=round(load[0], 2),
    )
    print(report(doc))
    if args.json:
        write_json(Path(args.json), doc)
        print(f"written to {args.json}")
    if rows < measured:
        print("fewer call_events rows than answered webhooks: the write is missing")
        return 1
    wrong = [r for r in runs if r.bad]
    if wrong:
        print(f"{sum(r.bad for r in wrong)} answers were not a 200 with a <Gather>, e.g.:")
        print(f"  {wrong[-1].server} {wrong[-1].endpoint}: {wrong[-1].bad_answer}")
        return 1
    return 0


def _drive(
    args: argparse.Namespace, wrk: str, work: Path, servers: Sequence[Server], db: Path
) -> list[Run]:
    """Warm each server up, then run the rounds; hotline comes first in ``servers``."""
    hotline = servers[0]
    runs: list[Run] = []
    # Every body is signed for hotline's URL: the bare app ignores the signature and the floor
    # checks it against that URL, so all get the very same bytes.
    signed = {endpoint: hotline.base + target for endpoint, target in TARGETS.items()}

    def run(server: Server, endpoint: str, bodies: Path, seconds: float, connections: int) -> Run:
        cpu_before = server.worker_cpu_seconds()
        target = TARGETS[endpoint]
        got = run_wrk(wrk, server.base + target, target, bodies, seconds, args.threads, connections)
        cpu_after = server.worker_cpu_seconds()
        cpu_us = None
        if cpu_before is not None and cpu_after is not None and got.requests:
            cpu_us = (cpu_after - cpu_before) / got.requests * 1e6
        return Run(
            server.name,
            endpoint,
            connections,
            -1,
            got.requests,
            got.seconds,
            got.p99_ms,
            got.errors,
            got.timeouts,
            got.bad,
            cpu_us,
            got.bad_answer,
        )

    def stage(round_: int, connections: int, seconds: float, record: bool) -> None:
        # Rotate who goes first, so a noisy neighbour or a growing database hits all alike.
        turn = round_ % len(servers)
        order = [*servers[turn:], *servers[:turn]]
        sids = new_call_sids(max(2000, int(seconds * BODY_RATE)))
        tag = f"{connections}-{round_}-{'r' if record else 'w'}"
        bodies = write_bodies(
            work / f"voice-{tag}.txt", signed["voice"], [twilio_form(s) for s in sids]
        )
        done = []
        for server in order:
            done.append(run(server, "voice", bodies, seconds, connections))
        # The menu step goes to calls the greeting has just started (hotline's rows).
        started = _started(db, sids)
        if not started:
            raise SystemExit(f"hotline started none of the calls it was sent:\n{_log(hotline)}")
        bodies = write_bodies(
            work / f"menu-{tag}.txt", signed["menu_step"], [twilio_form(s, "1") for s in started]
        )
        for server in order:
            done.append(run(server, "menu_step", bodies, seconds, connections))
        if record:
            runs.extend(Run(**{**r.__dict__, "round": round_}) for r in done)
            _print_stage(round_, connections, done)

    stage(0, args.connections, args.warmup, record=False)
    for round_ in range(args.rounds):
        stage(round_, args.connections, args.duration, record=True)
    for connections in args.latency_connections:
        for round_ in range(args.latency_rounds):
            stage(round_, connections, args.duration, record=True)
    return runs


def _print_stage(round_: int, connections: int, done: Iterable[Run]) -> None:
    for endpoint in TARGETS:
        cells = [
            f"{r.server} {r.rate:.0f}/s p99 {r.p99_ms:.0f} ms"
            + (f" E{r.errors + r.bad}/T{r.timeouts}" if r.errors or r.bad or r.timeouts else "")
            for r in done
            if r.endpoint == endpoint
        ]
        print(f"  c={connections:<3} round {round_ + 1} {endpoint:9}  " + " · ".join(cells))


def _started(db: Path, sids: Sequence[str]) -> list[str]:
    """Those of ``sids`` that hotline has started a call for (its first row is in)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        stored = {sid for (sid,) in conn.execute("SELECT call_sid FROM call_events WHERE seq = 1")}
    return [sid for sid in sids if sid in stored]


def _count_rows(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        (count,) = conn.execute("SELECT count(*) FROM call_events").fetchone()
        return int(count)


def _log(server: Server) -> str:
    return server.log.read_text()[-3000:]


# -- the profile ----------------------------------------------------------------------------------


def profile(args: argparse.Namespace) -> None:
    """Run hotline's webhooks in-process under cProfile and print the top functions."""
    from bare_app import create_app as create_bare_app
    from floor_app import create_app as create_floor_app
    from state_floor_app import create_app as create_state_floor_app

    from hotline import create_app
    from hotline.store.database import upgrade_schema

    n = args.requests
    with tempfile.TemporaryDirectory(prefix="hotline-profile-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'hotline.db'}"
        upgrade_schema(url)
        state_db = Path(tmp) / "state_floor.db"
        upgrade_schema(f"sqlite:///{state_db}")
        os.environ.update(
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            HOTLINE_DATABASE_URL=url,
            FLOOR_SIGNED_BASE="http://localhost",
            FLOOR_DATABASE=str(state_db),
        )
        state_floor = _Timed(create_state_floor_app())
        os.environ["FLOOR_DATABASE"] = str(Path(tmp) / "floor.db")
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
                for client in (hotline, bare, floor, state_floor):
                    client.post_all(target, warm)
                hotline_us, bare_us = hotline.cost(target, timed), bare.cost(target, timed)
                floor_us, state_us = floor.cost(target, timed), state_floor.cost(target, timed)
                print(
                    f"\n== {label}: CPU µs per request in the app (no server, no client): "
                    f"hotline {hotline_us:.0f}, floor {floor_us:.0f}, state floor {state_us:.0f}, "
                    f"bare {bare_us:.0f}; as ratios of requests/s: hotline/floor "
                    f"{floor_us / hotline_us:.2f}, hotline/state floor "
                    f"{state_us / hotline_us:.2f}, hotline/bare {bare_us / hotline_us:.2f}, "
                    f"floor/bare {bare_us / floor_us:.2f}"
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


def _connections(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the benchmark or the profile."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="throughput rounds per target")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per run")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers each")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--connections", type=int, default=16, help="wrk connections of the throughput rounds"
    )
    parser.add_argument(
        "--latency-connections",
        type=_connections,
        default=[64, 256],
        metavar="N,N",
        help="further concurrencies whose p99 is measured (default 64,256; empty: none)",
    )
    parser.add_argument(
        "--latency-rounds", type=int, default=2, help="rounds at each further concurrency"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--profile", action="store_true", help="profile in-process instead")
    parser.add_argument("--requests", type=int, default=1000, help="requests to profile")
    parser.add_argument("--top", type=int, default=25, help="functions to print")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args)
        return 0
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
