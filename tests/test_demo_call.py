"""The newcomer's demo end to end: ``make run``'s settings, ``hotline call``'s caller, an agent.

A real ``hotline serve`` is started as ``make run`` starts it with no Twilio account (its REST
requests going to ``http://127.0.0.1:PORT``, for the simulator's own account); the caller is
placed as ``hotline call --url ... --rest-port PORT --real-time --dialled
client:demo_agent=answer`` places it (the same ``Target``, connection and simulator), paced at
``PACE`` instead of real time so the test takes seconds. The caller waits in the warehouse queue
while the test, as the agent at the console would, sees them in ``GET /api/queue`` and takes them;
the stand-in that call serves rings the demo agent's Client, which answers, and the caller talks
with the agent in the conference.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hotline.sim.engine.clock import wall_clock
from hotline.sim.engine.simulator import DEFAULT_ACCOUNT_SID, CallResult
from hotline.sim.frontends.phone import REAL_TIME
from hotline.sim.model import CallerInput, Event, InputKind, Prompt
from hotline.sim.run.connection import Target
from hotline.sim.scripts.callees import parse_ring
from hotline.twilio_rest.client import ACCOUNT_SID_ENV
from tests.conftest import API_TOKEN, AUTH_TOKEN
from tests.live_server import free_port, serve_hotline

# 20 virtual seconds a real second (``--real-time`` is REAL_TIME, 1.0): the caller reaches the
# queue in about 2 s.
PACE = 0.05
LONG = 600.0  # the caller never hangs up first: the agent ends the talk
# How long the test waits for the calls (real seconds): a guard, generous on a shared machine.
CALLS_S = 60.0


def always_open_edits() -> dict[str, str]:
    """Config edits opening the hotline whenever the test runs (the server keeps real time).

    Open 00:00-23:59 in a fixed-offset zone where it is about noon now, every day.
    """
    offset = 12 - datetime.now(UTC).hour  # -11..12: Etc/GMT-N is N hours ahead of UTC
    zone = f"Etc/GMT{'-' if offset >= 0 else '+'}{abs(offset)}"
    return {
        'timezone = "Europe/Warsaw"': f'timezone = "{zone}"',
        'opens = "08:00"': 'opens = "00:00"',
        'closes = "21:00"': 'closes = "23:59"',
        "closed_dates = [2026-12-25, 2026-12-26, 2027-01-01]": "closed_dates = []",
    }


@dataclass
class Caller:
    """Presses 2 (warehouse) then 1 (order status) as the README says, then waits."""

    keys: list[str] = field(default_factory=lambda: ["2", "1"])
    events: list[Event] = field(default_factory=list)

    def hear(self, event: Event) -> None:
        self.events.append(event)

    def respond(self, prompt: Prompt) -> CallerInput:
        if self.keys:
            return CallerInput(InputKind.DIGITS, digits=self.keys.pop(0))
        return CallerInput(InputKind.SILENCE)

    def hangs_up_during(self, text: str, elapsed: float) -> bool:
        return False

    def hangs_up_at(self) -> float | None:
        return LONG


def api(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the server's JSON API as the operator (``$HOTLINE_API_TOKEN``)."""
    headers = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=CALLS_S) as response:
        return json.load(response)


def until_waiting(url: str, sid: str) -> dict[str, Any]:
    """Poll ``GET /api/queue`` as the console does until ``sid`` is waiting; return its entry."""
    deadline = wall_clock() + CALLS_S
    while True:
        for entry in api(url, "/api/queue")["callers"]:
            if entry["call"] == sid:
                return dict(entry)
        assert wall_clock() < deadline, "the demo caller never reached the queue"
        time.sleep(0.1)


def test_a_demo_caller_waits_in_the_queue_and_an_agent_takes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert PACE < REAL_TIME  # the same code path, faster
    monkeypatch.delenv(ACCOUNT_SID_ENV, raising=False)  # the phone's default account
    rest_port = free_port()
    env = {"TWILIO_API_URL": f"http://127.0.0.1:{rest_port}", ACCOUNT_SID_ENV: DEFAULT_ACCOUNT_SID}
    with serve_hotline(tmp_path, config_edits=always_open_edits(), env=env) as server:
        # What `hotline call --url URL --rest-port PORT --dialled client:demo_agent=answer` does.
        target = Target(auth_token=AUTH_TOKEN, url=server.url, rest_port=rest_port)
        connection = target.connect(None)
        sim = connection.simulator(target.voice_path, pace=PACE)
        dialled = {"client:demo_agent": (parse_ring("answer"),)}
        session = sim.session(datetime.now().astimezone(), dialled, seed=connection.seed("demo"))
        caller = Caller()
        sid = session.place_call(caller, "+48601100200", "+48221000000", seed=connection.seed("d"))
        results: list[CallResult] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                results.extend(session.run())
            except BaseException as error:  # raised again in the test's thread
                errors.append(error)

        thread = threading.Thread(target=run, name="demo call", daemon=True)
        thread.start()
        try:
            waiting = until_waiting(server.url, sid)
            assert waiting["sub_topic"] == "order_status" and waiting["status"] == "waiting"
            api(server.url, "/api/agents/demo/state", {"state": "available"})
            taken = api(server.url, "/api/agents/demo/take", {})
            assert taken["result"] == "taken" and taken["call"] == sid
        finally:
            session.pace = None  # the rest plays at once
            thread.join(timeout=CALLS_S)
            connection.transport.close()
        assert not thread.is_alive(), "the calls did not end"
        if errors:
            raise errors[0]
        record = api(server.url, f"/api/calls/{sid}")

    buyer = next(result for result in results if result.call_sid == sid)
    assert [(visit.name, visit.result) for visit in buyer.queues] == [("warehouse", "redirected")]
    # The caller joined the agent's conference and stayed until the agent's 30 s of talk ended.
    joined = [e for e in caller.events if e.kind == "conference" and e.text.startswith("joined")]
    left = [e for e in caller.events if e.kind == "conference" and e.text.startswith("left")]
    assert len(joined) == 1 and len(left) == 1
    talked = (left[0].at - joined[0].at).total_seconds()
    assert talked >= parse_ring("answer").talk
    # The agent's call: placed by the app through the stand-in, answered by the Client, which
    # hung up when its talk ended (on that leg the Client is the caller).
    agent_calls = [r for r in session.outbound_results() if r.call_sid == taken["agent_call"]]
    assert [r.ended.value for r in agent_calls] == ["caller-hangup"]  # the agent, after talking
    assert record  # the server kept the call's record
