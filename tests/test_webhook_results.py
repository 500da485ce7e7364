"""``make bench``'s figures: per-round ratios, p99 by concurrency, and the JSON it writes."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load(name: str) -> ModuleType:
    """A module of ``bench/`` (not a package: ``make bench`` runs it as a script)."""
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


results = _load("webhook_results")
Run = results.Run

# Requests per second by (server, endpoint), per round: round 2 is twice as fast for everyone.
RATES = {
    ("hotline", "voice"): 800,
    ("floor", "voice"): 1000,
    ("state_floor", "voice"): 900,
    ("bare", "voice"): 2000,
    ("hotline", "menu_step"): 600,
    ("floor", "menu_step"): 1000,
    ("state_floor", "menu_step"): 750,
    ("bare", "menu_step"): 1500,
}


def fake_runs() -> list[Any]:
    """Two throughput rounds at 16 connections and one run each at 64 and 256."""
    runs = []
    for (server, endpoint), rate in RATES.items():
        for round_, speed in ((0, 1), (1, 2)):
            runs.append(Run(server, endpoint, 16, round_, rate * speed * 3, 3.0, 10.0 + round_))
        runs.append(Run(server, endpoint, 64, 0, rate * 3, 3.0, 40.0, cpu_us=500.0))
        runs.append(Run(server, endpoint, 256, 0, rate * 3, 3.0, 150.0, errors=2, timeouts=1))
    # A round where hotline alone was slowed down: its ratios for that round only.
    runs.append(Run("hotline", "voice", 16, 2, 400 * 3, 3.0, 30.0, bad=1, bad_answer="500"))
    runs.append(Run("floor", "voice", 16, 2, 1000 * 3, 3.0, 12.0))
    runs.append(Run("state_floor", "voice", 16, 2, 900 * 3, 3.0, 12.0))
    runs.append(Run("bare", "voice", 16, 2, 2000 * 3, 3.0, 8.0))
    return runs


def test_the_json_has_each_endpoints_ratios_and_p99_by_concurrency() -> None:
    doc = results.summary(fake_runs(), 16, [16, 64, 256], rounds=3, workers=2)
    assert doc["settings"] == {"connections": 16, "rounds": 3, "workers": 2}
    voice, menu = doc["voice"], doc["menu_step"]
    assert voice["ratio_to_floor"] == {"min": 0.4, "median": 0.8, "max": 0.8, "runs": 3}
    assert voice["ratio_to_bare"] == {"min": 0.2, "median": 0.4, "max": 0.4, "runs": 3}
    assert voice["floor_ratio_to_bare"] == {"min": 0.5, "median": 0.5, "max": 0.5, "runs": 3}
    assert menu["ratio_to_floor"] == {"min": 0.6, "median": 0.6, "max": 0.6, "runs": 2}
    assert menu["ratio_to_bare"]["median"] == 0.4
    # The state floor: hotline against it, and it against the floor, round by round.
    assert voice["ratio_to_state_floor"] == {"min": 0.444, "median": 0.889, "max": 0.889, "runs": 3}
    assert voice["state_floor_ratio_to_floor"]["median"] == 0.9
    assert menu["ratio_to_state_floor"]["median"] == 0.8
    assert menu["state_floor_ratio_to_floor"]["median"] == 0.75
    assert voice["state_floor_p99_ms"]["64"]["median"] == 40.0
    assert voice["requests_per_s"]["state_floor"]["median"] == 900
    assert set(voice["p99_ms"]) == {"16", "64", "256"}
    assert voice["p99_ms"]["16"] == {
        "min": 10.0,
        "median": 11.0,
        "max": 30.0,
        "runs": 3,
        "errors": 1,  # the bad answer
        "timeouts": 0,
    }
    assert voice["p99_ms"]["256"]["errors"] == 2 and voice["p99_ms"]["256"]["timeouts"] == 1
    assert voice["floor_p99_ms"]["64"]["median"] == 40.0
    assert voice["bare_p99_ms"]["256"]["median"] == 150.0
    assert voice["requests_per_s"]["hotline"]["median"] == 800
    assert voice["cpu_us_per_request"]["hotline"] is None  # measured only at 64 here


def test_a_concurrency_never_run_and_a_missing_server_are_said_so() -> None:
    runs = [r for r in fake_runs() if r.server != "floor"]
    doc = results.summary(runs, 16, [16, 512])
    assert doc["voice"]["ratio_to_floor"] is None
    assert doc["voice"]["state_floor_ratio_to_floor"] is None
    assert doc["voice"]["ratio_to_state_floor"]["median"] == 0.889
    assert doc["voice"]["ratio_to_bare"]["median"] == 0.4
    assert doc["voice"]["p99_ms"]["512"] == {"runs": 0, "errors": 0, "timeouts": 0}
    text = results.report(doc)
    assert "512" in text and "-" in text


def test_the_json_file_reads_back_as_written(tmp_path: Path) -> None:
    doc = results.summary(fake_runs(), 16, [16, 64, 256], rounds=3)
    path = tmp_path / "bench.json"
    results.write_json(path, doc)
    assert json.loads(path.read_text()) == doc


def test_the_report_prints_ratios_and_latencies() -> None:
    text = results.report(results.summary(fake_runs(), 16, [16, 64, 256], rounds=3))
    assert "min–median–max of the per-round ratios over 3 rounds" in text
    voice_line = next(line for line in text.splitlines() if line.startswith("  POST /voice  "))
    assert "0.40–0.80–0.80" in voice_line and "0.20–0.40–0.40" in voice_line
    assert "0.50–0.50–0.50" in voice_line
    hotline_p99 = next(line for line in text.splitlines() if "POST /voice hotline" in line)
    assert "11 [10–30] E1/T0" in hotline_p99 and "150 [150–150] E2/T1" in hotline_p99
    lines = text.splitlines()
    state = lines.index(next(line for line in lines if line.startswith("Against the state floor")))
    menu_line = next(line for line in lines[state:] if line.startswith("  menu step  "))
    assert "0.80–0.80–0.80" in menu_line and "0.75–0.75–0.75" in menu_line
    assert any(line.startswith("  menu step state floor") for line in lines)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([3.0, 1.0, 2.0], (1.0, 2.0, 3.0)), ([1.0, 4.0], (1.0, 2.5, 4.0)), ([], None)],
)
def test_a_spread_is_min_median_max(values: list[float], expected: Any) -> None:
    spread = results.Spread.of(values)
    assert (spread and (spread.min, spread.median, spread.max)) == expected
