"""The night of a callback in the simulator, in process: the buyer asks at 22:30, the job places
the call at 08:00 through the REST stand-in, the simulator rings the buyer (scripted to answer),
and the hotline's answer puts them in the agents' queue, where a scripted agent takes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from hotline import create_app
from hotline.jobs.callbacks import call_back
from hotline.jobs.context import JobContext
from hotline.sim.engine.simulator import DEFAULT_ACCOUNT_SID, Simulator
from hotline.sim.engine.transport import WSGITransport
from hotline.sim.model import CalleeBehaviour, CallerInput, DialOutcome, InputKind, QueueBehaviour
from hotline.store.database import get_store
from hotline.store.models import CallbackRow, QueueEntryRow
from hotline.twilio_rest.http import register_in_process, unregister_in_process
from hotline.web.webhook import SETTINGS
from tests.conftest import AUTH_TOKEN, HOTLINE_NUMBER
from tests.test_sim_engine import ScriptCaller

BUYER = "+48601100200"
ASKED = datetime(2026, 11, 26, 21, 30)  # UTC, the simulator's clock: 22:30 in Warsaw
DUE = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # 08:00 in Warsaw
NIGHT = (DUE.replace(tzinfo=None) - ASKED).total_seconds()


def _keys(*presses: str) -> list[CallerInput]:
    return [CallerInput(InputKind.DIGITS, digits=keys) for keys in presses]


def test_the_buyer_answers_the_callback_and_an_agent_takes_them(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config["hotline"]["public_base_url"] = "http://localhost"  # where the simulator signs for
    app = create_app(config)
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_API_URL", register_in_process("callback-night", sim.rest_app))
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", DEFAULT_ACCOUNT_SID)
    context = JobContext(app.extensions[SETTINGS], get_store(app))
    session = sim.session(
        ASKED,
        callees={BUYER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=6, talk=300)]},
        queues={"warehouse": QueueBehaviour(agent_after=15, talk=40)},
    )
    session.place_call(ScriptCaller(_keys("0", "3", "1")), BUYER, HOTLINE_NUMBER)
    reports = []
    session.at(NIGHT, lambda: reports.append(call_back(context, DUE)), "the job callbacks")
    try:
        (asking,) = session.run()
        (callback,) = session.outbound_results()
    finally:
        unregister_in_process("callback-night")

    assert "Thank you. We will call you back tomorrow at 08:00." in asking.heard()
    assert [r.called for r in reports] == [[1]]
    assert callback.heard()[:2] == [
        "This is the marketplace hotline calling you back about a question for an agent.",
        "Please hold. An agent will be with you shortly.",
    ]
    assert [(visit.result, visit.seconds) for visit in callback.queues] == [("bridged", 15)]
    assert callback.started == DUE.replace(tzinfo=None)
    with get_store(app).session() as db:
        row = db.scalars(select(CallbackRow)).one()
        entry = db.scalars(select(QueueEntryRow)).one()
        assert (row.status, row.attempts, row.call_ref) == ("answered", 1, callback.call_sid)
        assert (entry.call_sid, entry.from_number, entry.topic) == (
            callback.call_sid,
            BUYER,
            "agent",
        )
    app.extensions["hotline.store"].engine.dispose()
