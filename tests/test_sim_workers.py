"""Worker processes for ``-j``: forked when safe, each with its own app, nothing left behind."""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.util
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.sim.frontends.replay import replay
from hotline.sim.model import WorkerFailed
from hotline.sim.run.connection import Target
from hotline.sim.run.runner import load_scripts, run_calls
from hotline.sim.run.workers import (
    CallOrder,
    CallWorkers,
    handing_order,
    play_cost,
    start_method,
)
from hotline.sim.scripts.reader import parse_script

ROOT = Path(__file__).resolve().parent.parent
CALLS = ROOT / "tests" / "calls"


def test_workers_are_forked_only_while_no_other_thread_runs() -> None:
    if threading.active_count() == 1:  # the test session itself runs no other thread
        assert start_method().get_start_method() == "fork"

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert start_method().get_start_method() in ("forkserver", "spawn")
    finally:
        stop.set()
        thread.join()


def test_workers_play_every_call_once_like_one_process_on_their_own_apps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # multiprocessing's own folder (one per process, removed as it exits) is made first, where
    # it would be anyway: only what the apps make is looked for under tmp_path.
    multiprocessing.util.get_temp_dir()
    # Every temporary folder of this test (this process's and the workers') goes under tmp_path.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # A session with the scheduler among lone calls: handed out first, so a worker plays it.
    scripts = load_scripts([CALLS / "menu", CALLS / "scheduler" / "thread_notices.toml"])
    scripts += load_scripts([CALLS / "warehouse"])
    target = Target(config=ROOT / "config.toml")

    alone = run_calls(scripts, target, jobs=1)  # builds this process's app first
    ours = sorted(tmp_path.iterdir())
    # Knowing the scripts before the fork, as `hotline replay` does: workers are handed indices.
    with CallWorkers(target, 2, scripts=scripts) as workers:
        parallel = run_calls(scripts, target, jobs=2, workers=workers)
    again = run_calls(scripts, target, jobs=1)  # this process's app and database still work

    assert [o.script.id for o in parallel.outcomes] == [s.id for s in scripts]
    for one, other in zip(alone.outcomes, parallel.outcomes, strict=True):
        assert other.status == one.status == "passed"
        assert one.result is not None and other.result is not None
        assert one.result.transcript == other.result.transcript
    assert again.failed == 0
    # The workers built apps of their own and removed them as they ended: only ours are left.
    assert sorted(tmp_path.iterdir()) == ours
    assert all(path.exists() for path in ours)


def test_workers_can_be_used_only_inside_their_block() -> None:
    workers = CallWorkers(Target(app="tests.sim_script_apps:create_shop"), 2)
    with pytest.raises(RuntimeError, match="outside its `with` block"):
        list(workers.play([]))


def test_calls_are_handed_out_costliest_first_in_script_order_among_equals() -> None:
    scripts = load_scripts([CALLS / "menu", CALLS / "scheduler" / "night.toml"])
    scripts += load_scripts([CALLS / "agents" / "busy_hour.toml"])
    sessions = [index for index, script in enumerate(scripts) if script.needs_session]
    assert len(sessions) == 2 and len(scripts) > 4

    order = handing_order(scripts)

    assert sorted(order) == list(range(len(scripts)))  # every call once
    assert set(order[:2]) == set(sessions)  # the sessions (a night, a busy hour) before any call
    costs = [play_cost(scripts[index]) for index in order]
    assert costs == sorted(costs, reverse=True)
    for earlier, later in zip(order, order[1:], strict=False):
        if play_cost(scripts[earlier]) == play_cost(scripts[later]):
            assert earlier < later
    # A lone call costs its steps; the same steps played as a session cost several times more.
    lone = next(script for script in scripts if not script.needs_session)
    assert play_cost(lone) == 1 + len(lone.steps)


def test_workers_give_the_real_clock_back_after_their_block() -> None:
    scripts = load_scripts([CALLS / "menu" / "main_menu_keys.toml"])
    target = Target(config=ROOT / "config.toml")
    with CallWorkers(target, 2) as workers:  # the scripts not known before: sent to workers
        played = sorted(workers.play(scripts), key=lambda item: item[0])
        assert [outcome.script for _, outcome in played] == scripts
        assert all(outcome.passed for _, outcome in played)
    # The freeze the calls shared (and forked workers inherited) is over: time runs again.
    before = time.time()
    time.sleep(0.01)
    assert time.time() > before


# Takes from the front (F) and the back (B) of an order of 5, and the positions they get.
TAKES = {
    "front only": ("FFFFFF", [0, 1, 2, 3, 4, None]),
    "back only": ("BBBBBB", [4, 3, 2, 1, 0, None]),
    "alternating": ("FBFBFB", [0, 4, 1, 3, 2, None]),
    "the ends meet in the middle": ("FFBBFB", [0, 1, 4, 3, 2, None]),
}


@pytest.mark.parametrize(("takes", "expected"), TAKES.values(), ids=TAKES.keys())
def test_an_order_hands_out_each_position_once_from_either_end(
    takes: str, expected: list[int | None]
) -> None:
    order = CallOrder(multiprocessing.get_context())
    order.reset(5)
    got = [order.take_front() if take == "F" else order.take_back() for take in takes]
    assert got == expected
    order.reset(2)  # a new run: everything to take again
    assert (order.take_back(), order.take_front(), order.take_front()) == (1, 0, None)
    order.reset(3)
    order.close()  # a run given up: nothing more is taken from either end
    assert (order.take_front(), order.take_back()) == (None, None)


def test_workers_play_several_runs_in_one_block() -> None:
    scripts = load_scripts([CALLS / "menu"])
    target = Target(config=ROOT / "config.toml")
    with CallWorkers(target, 2, scripts=scripts) as workers:
        first = sorted(workers.play(scripts), key=lambda item: item[0])
        others = scripts[:3]  # not the scripts the workers were forked with: sent to them
        second = sorted(workers.play(others), key=lambda item: item[0])
    assert [index for index, _ in first] == list(range(len(scripts)))
    assert [outcome.script for _, outcome in first] == scripts
    assert [outcome.script for _, outcome in second] == others
    assert all(outcome.passed for _, outcome in first + second)


def test_a_run_given_up_half_way_leaves_the_next_run_whole() -> None:
    scripts = load_scripts([CALLS / "menu", CALLS / "warehouse", CALLS / "hours"])
    target = Target(config=ROOT / "config.toml")
    with CallWorkers(target, 2, scripts=scripts) as workers:
        given_up = workers.play(scripts)
        next(given_up)  # one outcome, and the rest of that run is never asked for
        time.sleep(0.05)  # the worker is well into that run's other calls
        others = scripts[:8]
        played = sorted(workers.play(others), key=lambda item: item[0])
    assert [index for index, _ in played] == list(range(8))
    assert [outcome.script for _, outcome in played] == others
    assert all(outcome.passed for _, outcome in played)


LINE_CALL = """\
[call]
name = "{name}"
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
"""
# How a worker fails (the app it plays against), and what the process that started it says.
FAILURES = {
    "crash": (
        "create_line_crashing_in_workers",
        "replay worker 1 ended \\(exit code 3\\) before it had played the calls it took",
    ),
    "raise": (
        "create_line_raising_in_workers",
        "replay worker 1 failed:\n(.|\n)*SystemExit: the worker's call broke",
    ),
}


@pytest.mark.parametrize(("factory", "message"), FAILURES.values(), ids=FAILURES.keys())
def test_a_worker_that_fails_is_reported_not_waited_for(factory: str, message: str) -> None:
    scripts = [
        script
        for name in ("first", "second")
        for script in parse_script(LINE_CALL.format(name=name), f"{name}.toml")
    ]
    target = Target(app=f"tests.sim_script_apps:{factory}")
    with pytest.raises(WorkerFailed, match=message):
        run_calls(scripts, target, jobs=2)


def test_workers_started_by_a_fork_server_play_the_calls_too() -> None:
    # Another thread runs (as a progress display's would): the workers are not forked from here
    # but started by a fork server, and get the scripts and the order of the run sent to them.
    scripts = load_scripts([CALLS / "menu"])
    target = Target(config=ROOT / "config.toml")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with CallWorkers(target, 3, scripts=scripts) as workers:
            assert start_method().get_start_method() == "forkserver"
            played = sorted(workers.play(scripts), key=lambda item: item[0])
    finally:
        stop.set()
        thread.join()
    assert [outcome.script for _, outcome in played] == scripts
    assert all(outcome.passed for _, outcome in played)


# A replaying process that starts two workers, says their process ids and waits.
STARTS_WORKERS = """
import multiprocessing, sys, time
from pathlib import Path
from hotline.sim.model import WorkerFailed
from hotline.sim.run.connection import Target
from hotline.sim.run.runner import load_scripts
from hotline.sim.run.workers import CallWorkers
scripts = load_scripts([Path(sys.argv[1])])
with CallWorkers(Target(config=Path(sys.argv[2])), 3, scripts=scripts):
    print(*(worker.pid for worker in multiprocessing.active_children()), flush=True)
    time.sleep(600)
"""


def _running(pid: int) -> bool:
    """Whether process ``pid`` still runs (an ended one its parent has not reaped does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_workers_end_when_the_process_that_started_them_is_killed(tmp_path: Path) -> None:
    workers: list[int] = []
    with subprocess.Popen(
        [sys.executable, "-c", STARTS_WORKERS, str(CALLS / "menu"), str(ROOT / "config.toml")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # what the killed process leaves behind
    ) as replaying:
        try:
            assert replaying.stdout is not None
            workers = [int(pid) for pid in replaying.stdout.readline().split()]
            assert len(workers) == 2 and all(_running(pid) for pid in workers)
            replaying.kill()  # no clean-up of its own, no word to the workers
            replaying.wait()
            # Each worker notices, though the other's copy of its command pipe keeps it open.
            patience = time.monotonic() + 60
            while any(_running(pid) for pid in workers) and time.monotonic() < patience:
                time.sleep(0.05)
            assert not any(_running(pid) for pid in workers)
        finally:
            replaying.kill()
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def test_hotline_replay_says_a_worker_crashed_without_a_traceback(tmp_path: Path) -> None:
    for name in ("first", "second"):
        (tmp_path / f"{name}.toml").write_text(LINE_CALL.format(name=name))
    app = "tests.sim_script_apps:create_line_crashing_in_workers"

    result = CliRunner().invoke(replay, ["--app", app, "-j", "2", str(tmp_path)])

    assert result.exit_code == 1
    assert "Error: the replay stopped: replay worker 1 ended (exit code 3)" in result.output
    assert "Traceback" not in result.output


def test_ctrl_c_stops_a_parallel_replay_at_once_and_quietly(tmp_path: Path) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the replaying process and workers.
    with subprocess.Popen(
        [str(Path(sys.executable).with_name("hotline")), "replay", str(CALLS), "-j", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        start_new_session=True,
    ) as replaying:
        try:
            assert replaying.stdout is not None
            replaying.stdout.readline()  # the first call played: the workers are at work
            os.killpg(replaying.pid, signal.SIGINT)
            out, err = replaying.communicate(timeout=120)  # every process of it has ended
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(replaying.pid, signal.SIGKILL)
    assert replaying.returncode == 1
    assert err.strip() == "aborted"  # no worker's traceback
    assert " passed, " not in out  # given up, not finished
    assert list(tmp_path.iterdir()) == []  # every process removed what it made
