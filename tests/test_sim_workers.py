"""Worker processes for ``-j``: forked when safe, each with its own app, nothing left behind."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest

from hotline.sim.run.connection import Target
from hotline.sim.run.runner import load_scripts, run_calls
from hotline.sim.run.workers import CallWorkers, start_method

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
    # Every temporary folder of this test (this process's and the workers') goes under tmp_path.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    scripts = load_scripts([CALLS / "menu", CALLS / "warehouse"])
    target = Target(config=ROOT / "config.toml")

    alone = run_calls(scripts, target, jobs=1)  # builds this process's app first
    ours = sorted(tmp_path.iterdir())
    with CallWorkers(target, 2) as workers:
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
