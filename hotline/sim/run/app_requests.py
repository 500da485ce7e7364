"""Send a script's ``[[requests]]`` to the app's own JSON API, at their second or on their event.

The request goes through the call's transport (in process, or over the socket of a running
server) with the Bearer token the script names or the run's API token; what the app answered is
written to the main call's transcript (``request``) and checked once the session has ended.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext

from hotline.sim.engine.call import CallState
from hotline.sim.engine.simulator import Simulator
from hotline.sim.model import ConnectionFailed, Who
from hotline.sim.run.answers import Answer
from hotline.sim.scripts.app_requests import CALL_PLACEHOLDER
from hotline.sim.scripts.model import AppRequest


def send(
    sim: Simulator,
    request: AppRequest,
    sids: Mapping[str, str],
    main: CallState,
    api_token: str | None,
) -> Answer:
    """Send ``request`` now; ``sids``: the CallSid of each party by name, "" for the main call."""
    try:
        path = _resolved(request.path, sids)
        body = None
        if request.json is not None:
            payload = {
                name: _resolved(value, sids) if isinstance(value, str) else value
                for name, value in request.json.items()
            }
            body = json.dumps(payload).encode()
    except LookupError as missing:
        answer = Answer(request, f"{request.method} {request.path}", 0, str(missing.args[0]))
        main.emit(Who.TWILIO, "request", f"{answer.sent}: {answer.body}")
        return answer
    sent = f"{request.method} {path}"
    token = request.token if request.token is not None else api_token
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    # A running server may call the REST stand-in (served on a port, in another thread) while it
    # answers, as for a webhook: the world lets that thread in for as long as the request is out.
    outside: AbstractContextManager[None] = (
        nullcontext() if sim.transport.shares_clock else main.clock.world.outside()
    )
    try:
        with outside:
            response = sim.transport.request(request.method, sim.url(path), {}, headers, body=body)
    except ConnectionFailed as exc:
        answer = Answer(request, sent, 0, exc.what, main.clock.now)
    else:
        text = response.body.decode("utf-8", errors="replace")
        answer = Answer(request, sent, response.status, text, main.clock.now)
    main.emit(Who.TWILIO, "request", f"{sent} → {answer.status or answer.body}")
    return answer


def _resolved(text: str, sids: Mapping[str, str]) -> str:
    def one(found: re.Match[str]) -> str:
        name = found.group(1) or ""
        if name not in sids:
            raise LookupError(f"no party named {name!r} in this call")
        return sids[name]

    return CALL_PLACEHOLDER.sub(one, text)
