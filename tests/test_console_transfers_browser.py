"""The agents' console in Debian's Chromium against calls the simulator plays, paced.

The buyer's call is placed in this process by the simulator, against the very app the browser
talks to (``served_app``), on a background thread; the agent's Twilio Client and the seller's
phone behave as a call script's ``[dialled]`` says, and the app's REST requests (the take's
Calls create, the transfers) reach the simulator's stand-in, as in a replay. The session is
paced (``PACE`` real seconds per virtual second) so the buyer waits in the queue while the
agent signs in, takes them and transfers the call at a browser's speed; once the browser's part
is done the rest of the calls run unpaced to their ends.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from hotline.sim.engine.clock import wall_clock
from hotline.sim.engine.session import Session
from hotline.sim.engine.simulator import CallResult, Simulator
from hotline.sim.engine.transport import WSGITransport
from hotline.sim.model import (
    CalleeBehaviour,
    CallerInput,
    DialOutcome,
    Event,
    InputKind,
    Prompt,
)
from hotline.sim.run.rest_wiring import follow, in_process
from hotline.twilio_rest.client import ACCOUNT_SID_ENV
from hotline.twilio_rest.http import API_URL_VARIABLE
from tests.browser import ServedApp
from tests.conftest import API_TOKEN, AUTH_TOKEN
from tests.test_console_browser import POLLED_MS, sign_in

OPEN = datetime.fromisoformat("2026-11-26T10:00:00+01:00")  # Thursday: the hotline is open
BUYER = "+48601100200"  # their order is Acme's (the shipped directory)
HOTLINE = "+442071000000"
ACME = "+48600300400"
# 20 virtual seconds a real second: the buyer reaches the queue (43 s in) in about 2 s.
PACE = 0.05
LONG = 3000.0  # nobody hangs up while the browser works; unpaced afterwards, it costs nothing
# How long the test waits for the calls (real seconds): generous, as the machine is shared.
CALLS_S = 30.0


@pytest.fixture
def config(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The shipped config, the app built after it reaching the replay's REST stand-in."""
    # Recorded first, so both come back as they were after the test.
    monkeypatch.delenv(API_URL_VARIABLE, raising=False)
    monkeypatch.delenv(ACCOUNT_SID_ENV, raising=False)
    in_process()
    return config


@dataclass
class Buyer:
    """Presses 2 (warehouse) then 1 (order status), waits, and hangs up after ``LONG`` s."""

    keys: list[str] = field(default_factory=lambda: ["2", "1"])

    def hear(self, event: Event) -> None:
        pass

    def respond(self, prompt: Prompt) -> CallerInput:
        if self.keys:
            return CallerInput(InputKind.DIGITS, digits=self.keys.pop(0))
        return CallerInput(InputKind.SILENCE)

    def hangs_up_during(self, text: str, elapsed: float) -> bool:
        return False

    def hangs_up_at(self) -> float | None:
        return LONG


@dataclass
class PacedCall:
    """The buyer's call, played on a background thread; ``finish`` unpaces it and waits."""

    session: Session
    sid: str
    buyer: Buyer
    results: list[CallResult] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self) -> None:
        def run() -> None:
            try:
                self.results.extend(self.session.run())
            except BaseException as error:  # raised again in the test's thread
                self.errors.append(error)

        self.thread = threading.Thread(target=run, name="paced calls", daemon=True)
        self.thread.start()
        # Sign in once the app sees virtual time (the session cookie is stamped with it).
        until(lambda: self.session.world.elapsed > 0 or not self.thread_alive(), "the start")

    def thread_alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def finish(self) -> list[CallResult]:
        if self.session.pace is not None:
            self.session.pace = None  # what is left of the calls runs at once
        assert self.thread is not None
        self.thread.join(timeout=CALLS_S)
        assert not self.thread.is_alive(), "the calls did not end"
        if self.errors:
            raise self.errors[0]
        return self.results


def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (real time; the app's is virtual meanwhile) until ``condition`` holds."""
    deadline = wall_clock() + CALLS_S
    while not condition():
        assert wall_clock() < deadline, f"still waiting for {what}"
        time.sleep(0.05)  # freezegun never patches sleep


@pytest.fixture
def paced_call(served_app: ServedApp) -> Iterator[Callable[[CalleeBehaviour], PacedCall]]:
    """Place the buyer's call, paced, with the agent's Client answering and Acme as given."""
    placed: list[PacedCall] = []

    def place(acme: CalleeBehaviour) -> PacedCall:
        sim = Simulator(WSGITransport(served_app.app), AUTH_TOKEN, base_url=served_app.url)
        follow(sim)  # the app's REST requests act on this simulator's calls
        callees = {
            "client:demo_agent": [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=3, talk=LONG)],
            ACME: [acme],
        }
        session = sim.session(OPEN, callees, pace=PACE)
        buyer = Buyer()
        sid = session.place_call(buyer, BUYER, HOTLINE)
        call = PacedCall(session, sid, buyer)
        placed.append(call)
        call.start()
        return call

    yield place
    for call in placed:  # a failed test leaves no thread playing calls behind
        if call.thread_alive():
            call.session.pace = None
            if call.thread is not None:
                call.thread.join(timeout=CALLS_S)


def transfers(served_app: ServedApp, sid: str) -> list[dict[str, Any]]:
    """The call's record as ``GET /api/calls/<sid>`` shows it: its transfers."""
    answer = served_app.app.test_client().get(
        f"/api/calls/{sid}", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = json.loads(answer.text).get("transfers", [])
    return found


def take_the_caller(page: Page, served_app: ServedApp, sid: str) -> None:
    """Sign in, be available, see the caller arrive without a reload, take them, answer."""
    sign_in(page, served_app)
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    page.get_by_role("button", name="Available", exact=True).click()
    expect(page.locator("#state")).to_have_text("available")
    card = page.locator(f'li.caller[data-call="{sid}"]')
    expect(card).to_be_visible(timeout=POLLED_MS)  # the buyer pressed 2, 1 and waits
    card.get_by_role("button", name="Take this caller").click()
    # The Client rings, answers (3 s), hears the whisper: the agent is on the buyer's call.
    expect(page.locator("#state")).to_have_text("on call", timeout=POLLED_MS)
    expect(page.get_by_role("heading", name="Transfer my call")).to_be_visible()
    assert page.evaluate("window.sameDocument") is True


def transfer(page: Page, kind: str, to: str, summary: str) -> None:
    """Fill the transfer form with the keyboard's help and send it."""
    page.get_by_label("Kind").select_option(kind)
    page.get_by_label("To (seller or agent id)").fill(to)
    page.get_by_label("Summary").fill(summary)
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(rf"^Transfer \({kind}\): done"), timeout=POLLED_MS
    )


def test_the_agent_takes_a_caller_and_transfers_warm_to_the_seller_who_presses_1(
    page: Page, served_app: ServedApp, paced_call: Callable[[CalleeBehaviour], PacedCall]
) -> None:
    call = paced_call(CalleeBehaviour(DialOutcome.ANSWER, press="1", talk=LONG))
    take_the_caller(page, served_app, call.sid)
    transfer(page, "warm", "acme", "Asks whether the charger fits model X")
    until(
        lambda: any(t.get("outcome") == "accepted" for t in transfers(served_app, call.sid)),
        "the seller to accept",
    )
    # The agent and Acme talk, the caller on hold; then the agent brings the caller in (Enter).
    status = page.locator("#warm-status")
    expect(status).to_have_text(
        "Acme Electronics took the call: you are talking with them, the caller is on hold.",
        timeout=POLLED_MS,
    )
    page.get_by_role("button", name="Bring the caller in").press("Enter")
    expect(page.get_by_role("status")).to_contain_text(
        "Bring the caller in: done", timeout=POLLED_MS
    )
    expect(status).to_have_text("Acme Electronics and the caller are on the call.")
    expect(page.get_by_role("button", name="Hand over and leave")).to_be_hidden()
    (record,) = transfers(served_app, call.sid)
    assert (record["kind"], record["target"], record["agent"]) == ("warm", "acme", "demo")
    assert record["summary"] == "Asks whether the charger fits model X"
    assert record["outcome"] == "accepted"

    (buyer,) = call.finish()
    heard = buyer.heard()
    assert "Please hold while I speak with the seller." in heard
    assert "Thank you for holding. You are now connected with the seller." in heard
    agent, seller = call.session.outbound_results()  # in placing order
    # The caller's number matched their one order: the agent hears it too.
    assert agent.heard()[0] == (
        "A caller about the order status. Order 1 2 3 4 5 6 7 from Acme Electronics."
    )
    assert seller.heard()[-1] == (
        "The agent says: Asks whether the charger fits model X. Press 1 to take the call."
    )


def test_a_declined_warm_transfer_then_a_thread_are_both_on_the_record(
    page: Page, served_app: ServedApp, paced_call: Callable[[CalleeBehaviour], PacedCall]
) -> None:
    call = paced_call(CalleeBehaviour(DialOutcome.ANSWER, press="2"))
    take_the_caller(page, served_app, call.sid)
    transfer(page, "warm", "acme", "Asks about the warranty")
    until(
        lambda: any(t.get("outcome") == "declined" for t in transfers(served_app, call.sid)),
        "the seller to decline",
    )
    # The buyer is back with the agent, who still has the call and opens a thread instead.
    expect(page.locator("#warm-status")).to_have_text(
        "Acme Electronics declined: the caller is back with you.", timeout=POLLED_MS
    )
    expect(page.get_by_role("button", name="Bring the caller in")).to_be_hidden()
    expect(page.locator("#state")).to_have_text("on call")
    transfer(page, "thread", "acme", "Wants the manual in Polish")
    until(
        lambda: len(transfers(served_app, call.sid)) == 2,
        "the thread to be on the record",
    )
    (buyer,) = call.finish()
    warm, thread = transfers(served_app, call.sid)
    assert (warm["kind"], warm["outcome"]) == ("warm", "declined")
    assert (thread["kind"], thread["outcome"]) == ("thread", "thread_opened")
    assert thread["summary"] == "Wants the manual in Polish"
    assert "Thank you for holding. You are back with the agent." in buyer.heard()
    assert any("Message Center, reference" in said for said in buyer.heard())
    assert buyer.heard()[-1] == "Thank you for calling. Goodbye."
    assert buyer.ended.value == "completed"
