"""A worker killed between an agent's click and Twilio's webhook for it loses nothing.

Real ``hotline serve`` (gunicorn, two workers) on a SQLite file, and a stand-in for Twilio's REST
API on a real loopback socket. The agent's take is clicked; then every worker is killed with
SIGKILL (so surely the one that served the click), gunicorn starts new ones, and Twilio's webhook
for the agent's answer reaches a worker that never saw the click: the claim, the conference
name and the agent ringing are all in the store, and the call goes on. The same for a transfer
into a thread: the caller's webhook after the kill opens nothing twice and says the reference.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from hotline.store import agent_states, queue_entries, transfers
from hotline.store.database import make_engine
from hotline.store.queue_entries import CallerContext
from tests.conftest import AUTH_TOKEN, HOTLINE_NUMBER
from tests.live_server import LiveServer, serve_hotline
from tests.test_agent_calls import ACCOUNT, TwilioRecorder

DEMO = {"Authorization": "Bearer demo-agent-token", "Content-Type": "application/json"}
CALLER = "CA" + "1" * 32
AGENT_CALL = "CA" + "9" * 32  # the SID the stand-in gives every call the hotline places
NOTES = text("SELECT body FROM thread_messages WHERE kind = 'note'")
GUARD_S = 60  # how long new workers may take to boot before the test fails: not a measurement


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        """The stand-in's requests are asserted, not printed."""


@pytest.fixture
def rest() -> Iterator[tuple[TwilioRecorder, str]]:
    """The REST stand-in, listening on a loopback port in a thread of this process."""
    recorder = TwilioRecorder()
    server: WSGIServer = make_server("127.0.0.1", 0, recorder, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _api(server: LiveServer, path: str, body: dict[str, Any]) -> Any:
    request = Request(server.url + path, json.dumps(body).encode(), DEMO, method="POST")
    with urlopen(request, timeout=30) as answer:
        return json.load(answer)


def _webhook(server: LiveServer, url: str, sid: str, **form: str) -> ET.Element:
    """POST Twilio's webhook ``url`` (the path and query the app gave) to ``server``, signed."""
    parts = urlsplit(url)
    full = server.url + parts.path + (f"?{parts.query}" if parts.query else "")
    data = {"CallSid": sid, "AccountSid": ACCOUNT, "CallStatus": "in-progress", **form}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(full, data)
    body = urlencode(data).encode()
    headers = {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    with urlopen(Request(full, body, headers, method="POST"), timeout=30) as answer:
        assert answer.status == 200
        return ET.fromstring(answer.read())


def _kill_every_worker(server: LiveServer) -> None:
    """SIGKILL every worker (the one that served the click among them); wait for new ones."""
    deadline = time.monotonic() + GUARD_S
    while len(server.workers()) < 2:  # on a loaded machine the second may still be booting
        assert time.monotonic() < deadline, f"only one worker:\n{server.log()}"
        time.sleep(0.05)
    killed = set(server.workers())
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + GUARD_S
    while killed & set(server.workers()) or len(server.workers()) < 2:  # reaped, and replaced
        assert time.monotonic() < deadline, f"no new workers:\n{server.log()}"
        time.sleep(0.05)
    with urlopen(server.url + "/healthz", timeout=GUARD_S) as answer:  # a new worker answers
        assert answer.status == 200


def test_an_agents_take_and_transfer_survive_a_killed_worker(
    tmp_path: Path, rest: tuple[TwilioRecorder, str]
) -> None:
    recorder, rest_url = rest
    env = {"TWILIO_API_URL": rest_url, "TWILIO_ACCOUNT_SID": ACCOUNT}
    with serve_hotline(tmp_path, workers=2, env=env) as server:
        engine = make_engine(f"sqlite:///{server.database}")
        try:
            _webhook(server, "/voice", CALLER, From="+48601100200", To=HOTLINE_NUMBER)
            with engine.begin() as conn:  # the caller, queued as the IVR's enqueue step does
                context = CallerContext(
                    from_number="+48601100200", topic="order_status", question="Where is it?"
                )
                queue_entries.enter(conn, CALLER, "warehouse", context, datetime.now(UTC))
            _api(server, "/api/agents/demo/state", {"state": "available"})
            taken = _api(server, "/api/agents/demo/take", {})
            assert taken["call"] == CALLER  # the click: the caller claimed, the agent rung
            answer_url = recorder.posts("/Calls.json")[-1]["Url"][0]

            _kill_every_worker(server)

            with engine.connect() as conn:  # what the new worker will find
                entry = queue_entries.entry(conn, CALLER)
                ringing = agent_states.read(conn, "demo")
            assert entry is not None and entry.status == "ringing" and entry.taken_by == "demo"
            assert entry.conference is not None and entry.conference.startswith("hl-")
            assert ringing is not None and ringing.state == "ringing"

            twiml = _webhook(server, answer_url, AGENT_CALL, From="client:demo_agent")
            conference = twiml.find("Dial/Conference")
            assert conference is not None and conference.text == entry.conference
            assert "order" in " ".join(s.text or "" for s in twiml.iter("Say")).lower()
            moved = recorder.posts(f"/Members/{CALLER}.json")
            assert len(moved) == 1 and "/voice/agent/join" in moved[0]["Url"][0]
            with engine.connect() as conn:
                entry = queue_entries.entry(conn, CALLER)
                talking = agent_states.read(conn, "demo")
            assert entry is not None and (entry.status, entry.taken_by) == ("taken", "demo")
            assert talking is not None and talking.state == "on_call"

            # The transfer: clicked, every worker killed, the caller's webhook served anew.
            body = {"kind": "thread", "summary": "Parcel late, wants a date"}
            _api(server, f"/api/calls/{CALLER}/transfer", body)
            redirect_url = recorder.posts(f"/Calls/{CALLER}.json")[-1]["Url"][0]

            _kill_every_worker(server)

            said = _webhook(server, redirect_url, CALLER, From="+48601100200")
            words = " ".join(s.text or "" for s in said.iter("Say"))
            assert "reference" in words.lower() and said.find("Hangup") is not None
            with engine.connect() as conn:
                (made,) = transfers.of_call(conn, CALLER)
                notes = conn.execute(NOTES).all()
            assert (made.kind, made.outcome) == ("thread", "thread_opened")
            assert notes == [("Parcel late, wants a date",)]
        finally:
            engine.dispose()
