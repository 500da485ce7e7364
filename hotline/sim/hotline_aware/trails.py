"""The app's own record of a call, its event trail, read through the app's API after the call.

After each call the runner reads ``GET /api/calls/<CallSid>``, whose ``events`` are the app's log
of every webhook: the step it answered (``step``), what the caller gave (``input``) and the steps
the turn entered, in order (``decision``, e.g. ``main_menu<digits=1> > find_order >
confirm_order``). The app stores at most ``DECISION_LIMIT`` characters of a trail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from hotline.sim.engine.transport import Transport
from hotline.sim.model import ConnectionFailed

DECISION_LIMIT = 200  # the app's call_events.decision column keeps this many characters


@dataclass(frozen=True)
class AppEvent:
    """One row of the app's log of a call: the webhook's step, the caller's input, the trail."""

    step: str
    input: str | None
    decision: str


@dataclass(frozen=True)
class CallTrail:
    """What the app recorded of one call (plain data, so worker processes can send it back).

    ``config`` is the hotline config the call ran on (it names the flow); ``problem`` says why
    the record could not be read, when it could not.
    """

    config: Path
    language: str = ""
    events: tuple[AppEvent, ...] = ()
    problem: str = ""


def fetch_trail(
    transport: Transport, base_url: str, api_token: str | None, call_sid: str, config: Path
) -> CallTrail:
    """Read the app's record of call ``call_sid`` through its API (``/api/calls/<sid>``)."""
    if api_token is None:
        return CallTrail(config, problem="reading the app's call log needs HOTLINE_API_TOKEN")
    url = urljoin(base_url, f"/api/calls/{call_sid}")
    try:
        response = transport.request("GET", url, {}, {"Authorization": f"Bearer {api_token}"})
    except ConnectionFailed as exc:  # a server gone meanwhile: this call's coverage is unknown
        return CallTrail(config, problem=f"GET /api/calls/{call_sid}: {exc.what}")
    if response.status == 404:
        return CallTrail(config)  # the app never recorded the call: it reached no step
    try:
        if response.status != 200:
            raise ValueError(f"answered {response.status}")
        body = _json_object(response.body)
        events = tuple(
            AppEvent(str(e["step"]), None if e["input"] is None else str(e["input"]), e["decision"])
            for e in body["events"]
        )
        return CallTrail(config, str(body.get("language") or ""), events)
    except (ValueError, KeyError, TypeError) as exc:
        return CallTrail(config, problem=f"GET /api/calls/{call_sid}: {exc}")


def _json_object(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value
