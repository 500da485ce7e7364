"""Flow coverage of a replay: real calls to hotline mark the steps and branches they went along."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.ivr.flow_file import load_flow
from hotline.sim.frontends.replay import replay
from hotline.sim.hotline_aware.coverage import (
    DECISION_LIMIT,
    AppEvent,
    CallTrail,
    Coverage,
    Edge,
    FlowCoverage,
    collect,
)
from hotline.sim.report.coverage import coverage_json
from hotline.sim.run.runner import Target, load_scripts, run_call, run_calls
from hotline.sim.scripts.reader import parse_script
from tests.conftest import API_TOKEN, AUTH_TOKEN

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.toml"
HOTLINE = Target(config=CONFIG)
FLOW = ROOT / "flows" / "hotline.toml"
HEADER = """\
[call]
at = "{at}"
from = "+48601100200"
to = "+442071000000"
"""
OPEN, CLOSED = "2026-03-30T10:00:00+02:00", "2026-03-30T22:00:00+02:00"
AGENT_AT_NIGHT = """\
[[steps]]
press = "0"
[[steps]]
hear = "closed"
[[steps]]
press = "2"
[[steps]]
hear = "goodbye"
"""
CLOSED_MENU_EXHAUSTED = """\
[[steps]]
press = "0"
[[steps]]
press = "9"
[[steps]]
press = "9"
[[steps]]
press = "9"
[[steps]]
hear = "goodbye"
"""
SPOKEN_CANCELLATION = """\
[queues]
warehouse = { agent_after = 10 }
[[steps]]
say = "where is my parcel"
[[steps]]
hear = "cancellation or return, press 3"
[[steps]]
say = "i want to cancel it"
[[steps]]
hear = "please hold"
"""
SELLER_TAKES_IT = """\
[dialled]
"+48600300400" = "answer:1"
[[steps]]
press = "1"
[[steps]]
press = "1"
[[steps]]
say = "is it compatible with my phone"
[expect]
bridged = "+48600300400"
"""


@pytest.fixture(autouse=True)
def _tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("HOTLINE_API_TOKEN", API_TOKEN)


def _covered(*calls: tuple[str, str]) -> FlowCoverage:
    """Replay each (time, steps) call against hotline and add up their coverage."""
    coverage = Coverage()
    for at, body in calls:
        (script,) = parse_script(HEADER.format(at=at) + body, "call.toml")
        outcome = run_call(script, HOTLINE, trail=True)
        assert outcome.status == "passed", outcome.failure
        coverage.add(script.name, outcome.trail)
    assert not coverage.unread
    (entry,) = coverage.flows.values()
    return entry


def test_a_call_marks_the_steps_and_branches_it_went_along_and_no_others() -> None:
    entry = _covered((CLOSED, AGENT_AT_NIGHT))

    assert {name for name in entry.flow.steps if entry.step_calls[name]} == {
        "main_menu",
        "agent",
        "warehouse_closed",
        "goodbye",
    }
    assert {edge for edge in entry.edges if entry.edge_calls[edge]} == {
        Edge("main_menu", "key 0", "agent"),
        Edge("agent", "no", "warehouse_closed"),
        Edge("warehouse_closed", "key 2", "goodbye"),
    }
    assert entry.edge_calls[Edge("agent", "yes", "warehouse_queue")] == 0
    assert entry.step_calls["warehouse_queue"] == 0


def test_a_script_with_a_party_counts_the_main_call_only() -> None:
    # A second buyer calls 5 s later and exhausts the closed menu: hotline answers both calls
    # in one session, and the coverage is the main call's, as for a lone call.
    party = '[[parties]]\nname = "second buyer"\nafter = 5\nfrom = "+48601100201"\n'
    party += CLOSED_MENU_EXHAUSTED.replace("[[steps]]", "[[parties.steps]]")
    entry = _covered((CLOSED, AGENT_AT_NIGHT + party))

    assert {edge for edge in entry.edges if entry.edge_calls[edge]} == {
        Edge("main_menu", "key 0", "agent"),
        Edge("agent", "no", "warehouse_closed"),
        Edge("warehouse_closed", "key 2", "goodbye"),
    }
    assert entry.calls == 1


def test_two_branches_to_the_same_step_are_told_apart() -> None:
    # warehouse_closed goes to goodbye by key 2 and when its tries are exhausted.
    entry = _covered((CLOSED, CLOSED_MENU_EXHAUSTED))

    assert entry.edge_calls[Edge("warehouse_closed", "on_exhausted", "goodbye")] == 1
    assert entry.edge_calls[Edge("warehouse_closed", "key 2", "goodbye")] == 0


def test_spoken_choices_count_for_the_key_they_mean() -> None:
    # All four warehouse options lead to warehouse_order: only the words say which was taken.
    entry = _covered((OPEN, SPOKEN_CANCELLATION))

    assert entry.edge_calls[Edge("main_menu", "key 2", "warehouse_menu")] == 1
    assert entry.edge_calls[Edge("warehouse_menu", "key 3", "warehouse_order")] == 1
    for key in "124":
        assert entry.edge_calls[Edge("warehouse_menu", f"key {key}", "warehouse_order")] == 0
    assert entry.edge_calls[Edge("warehouse_order", "matched/unmatched", "warehouse_open")] == 1
    assert entry.edge_calls[Edge("warehouse_open", "yes", "warehouse_queue")] == 1


def test_the_seller_taking_the_call_in_the_whisper_is_a_branch() -> None:
    entry = _covered((OPEN, SELLER_TAKES_IT))

    assert entry.edge_calls[Edge("find_order", "matched", "confirm_order")] == 1
    assert entry.edge_calls[Edge("seller_open", "yes", "handoff")] == 1
    assert entry.edge_calls[Edge("handoff", "key 1", "goodbye")] == 1
    assert entry.edge_calls[Edge("handoff", "on_success", "goodbye")] == 1
    assert entry.edge_calls[Edge("handoff", "on_failure", "seller_fallback")] == 0


def test_calls_add_up() -> None:
    entry = _covered((CLOSED, AGENT_AT_NIGHT), (CLOSED, CLOSED_MENU_EXHAUSTED))

    assert entry.calls == 2
    assert entry.step_calls["warehouse_closed"] == 2
    assert entry.edge_calls[Edge("main_menu", "key 0", "agent")] == 2


# --- reading the app's log ---------------------------------------------------------------------


def _trace(*events: tuple[str, str | None, str]) -> FlowCoverage:
    coverage = Coverage()
    trail = CallTrail(CONFIG, "en", tuple(AppEvent(*event) for event in events))
    coverage.add("call", trail)
    return coverage.flows[load_flow(FLOW.parent, "hotline").path]


def test_retries_and_the_repeat_key_are_not_branches() -> None:
    entry = _trace(
        ("incoming", None, "main_menu"),
        ("main_menu", "digits=*", "main_menu<digits=*> > main_menu"),
        ("main_menu", "digits=7", "main_menu<digits=7> > main_menu#2"),
        ("main_menu", "digits=1", "main_menu<digits=1> > find_order > enter_order"),
    )

    assert {edge for edge in entry.edges if entry.edge_calls[edge]} == {
        Edge("main_menu", "key 1", "find_order"),
        Edge("find_order", "unmatched", "enter_order"),
    }


def test_speech_containing_the_separator_is_read_whole() -> None:
    spoken = "speech='a > b' (0.92)"
    entry = _trace(
        ("incoming", None, "main_menu"),
        ("main_menu", "digits=1", "main_menu<digits=1> > find_order > confirm_order"),
        ("confirm_order", "digits=1", "confirm_order<digits=1> > ask_question"),
        ("ask_question", spoken, f"ask_question<{spoken}> > seller_open > seller_fallback"),
    )

    assert entry.edge_calls[Edge("ask_question", "next", "seller_open")] == 1
    assert entry.edge_calls[Edge("seller_open", "no", "seller_fallback")] == 1


def test_a_trail_cut_by_the_app_is_counted_and_its_broken_end_ignored() -> None:
    long = "speech='" + "x" * 150 + "' (0.92)"
    decision = f"ask_question<{long}> > seller_open > seller_fallback"[:DECISION_LIMIT]
    entry = _trace(("ask_question", long, decision))

    assert entry.cut == 1
    assert entry.step_calls["ask_question"] == 1
    assert entry.step_calls["seller_open"] == 1
    assert entry.step_calls["seller_fallback"] == 0  # cut in half: "seller_fa..."


def test_a_call_without_a_record_is_listed_not_counted() -> None:
    coverage = Coverage()
    coverage.include(CONFIG)
    coverage.add("a", CallTrail(CONFIG, problem="reading the app's call log needs a token"))
    coverage.add("b", None)

    assert [name for name, _ in coverage.unread] == ["a", "b"]
    assert coverage.line() == "coverage: 0/21 steps, 0/44 branches"


# --- the replay command ------------------------------------------------------------------------


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    folder = tmp_path / "calls"
    folder.mkdir()
    config = f'config = "{CONFIG}"\n'
    (folder / "night.toml").write_text(HEADER.format(at=CLOSED) + config + AGENT_AT_NIGHT)
    (folder / "seller.toml").write_text(HEADER.format(at=OPEN) + config + SELLER_TAKES_IT)
    return folder


def test_replay_coverage_prints_the_table_and_the_summary_line(scripts: Path) -> None:
    result = CliRunner().invoke(replay, ["--coverage", str(scripts)], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "coverage: 9/21 steps, 10/44 branches" in lines
    rows = {line.split("│")[1].strip(): line.split("│")[3:] for line in lines if "│" in line}
    assert rows["enter_order"][0].strip() == "never"
    assert rows["confirm_order"][0].strip() == "1"
    main_menu_missed = rows["main_menu"][1]
    assert "key 2 → warehouse_menu" in main_menu_missed
    assert "key 0" not in main_menu_missed and "key 1" not in main_menu_missed


def test_replay_coverage_is_the_same_in_processes_and_goes_into_json(
    scripts: Path, tmp_path: Path
) -> None:
    report = tmp_path / "run.json"
    result = CliRunner().invoke(
        replay, ["--coverage", "-j", "2", "--json", str(report), str(scripts)]
    )

    assert result.exit_code == 0, result.output
    coverage = json.loads(report.read_text())["coverage"]
    assert coverage["summary"] == {
        "steps_reached": 9,
        "steps": 21,
        "branches_taken": 10,
        "branches": 44,
    }
    (flow,) = coverage["flows"]
    taken = {(b["from"], b["label"]) for b in flow["branch_list"] if b["calls"]}
    assert ("agent", "no") in taken and ("agent", "yes") not in taken


def test_collect_adds_up_outcomes_from_every_process(scripts: Path) -> None:
    calls = load_scripts([scripts])

    alone = collect(
        (o.script.name, o.trail) for o in run_calls(calls, HOTLINE, 1, trails=True).outcomes
    )
    parallel = collect(
        (o.script.name, o.trail) for o in run_calls(calls, HOTLINE, 2, trails=True).outcomes
    )

    assert coverage_json(alone) == coverage_json(parallel)
    assert alone.line() == "coverage: 9/21 steps, 10/44 branches"


def test_replay_coverage_refuses_another_app(scripts: Path) -> None:
    result = CliRunner().invoke(
        replay, ["--coverage", "--app", "tests.sim_script_apps:create_shop", str(scripts)]
    )

    assert result.exit_code == 2
    assert "--coverage reads hotline's flows" in result.output


def test_a_trail_from_a_server_gone_away_says_why() -> None:
    import socket

    from hotline.sim.engine.http_transport import HTTPTransport
    from hotline.sim.hotline_aware.trails import fetch_trail

    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        down = f"http://127.0.0.1:{placeholder.getsockname()[1]}"
    transport = HTTPTransport(down)
    try:
        trail = fetch_trail(transport, down, API_TOKEN, "CA1", CONFIG)
    finally:
        transport.close()

    assert trail.problem == "GET /api/calls/CA1: connection refused"
    assert trail.events == ()


def test_one_flow_file_reached_through_two_configs_is_one_flow(tmp_path: Path) -> None:
    # tests/configs/agents.toml reaches flows/ as "../../flows": still the same flow file.
    root = Path(__file__).resolve().parent.parent
    text = (root / "config.toml").read_text(encoding="utf-8")
    beside = tmp_path / "config.toml"
    beside.write_text(text.replace('flows_dir = "flows"', f'flows_dir = "{root}/flows"'))
    deeper = tmp_path / "a" / "config.toml"
    deeper.parent.mkdir()
    deeper.write_text(text.replace('flows_dir = "flows"', f'flows_dir = "{root}/tests/../flows"'))
    coverage = Coverage()
    coverage.include(beside)
    coverage.include(deeper)
    (entry,) = coverage.flows.values()
    assert entry.flow.path == root / "flows" / "hotline.toml"


def test_a_sessions_other_calls_count_too_and_an_agents_call_does_not() -> None:
    """A party goes through the flow as the main call does: its steps count. A call the app
    placed to an agent keeps no step of the flow, so it adds no call to the coverage."""
    (night,) = load_scripts([ROOT / "tests" / "calls" / "scheduler" / "night.toml"])
    outcome = run_call(night, HOTLINE, trail=True)
    assert outcome.status == "passed", outcome.failure
    party, callback = outcome.leg_trails  # the Greenleaf buyer; the callback the app placed
    assert party.problem == "" and "confirm_order" in {e.step for e in party.events}
    # The callback goes on from the offer's "answered" link (the offer was in the main call).
    coverage = Coverage()
    coverage.add(night.name, callback)
    (entry,) = coverage.flows.values()
    taken = [tuple(edge) for edge, n in entry.edge_calls.items() if n]
    assert ("callback_offer", "answered", "warehouse_queue") in taken
    (taken,) = load_scripts([ROOT / "tests" / "calls" / "agents" / "take.toml"])
    outcome = run_call(taken, HOTLINE, trail=True)
    assert outcome.status == "passed", outcome.failure
    assert outcome.legs and outcome.leg_trails == ()  # the agent's call: nothing of the flow
