"""Send a script's ``[[rest]]`` requests to the REST stand-in, at their second of the session.

The request goes to the simulator's stand-in for Twilio's REST API, in process, with the
account's credentials, as another system holding them would send it; what it answered is
written to the main call's transcript (``rest``) and checked once the session has ended.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urljoin

from hotline.sim.engine.call import CallState
from hotline.sim.engine.simulator import Simulator
from hotline.sim.model import Who
from hotline.sim.run.answers import Answer
from hotline.sim.scripts.model import RestRequest
from hotline.sim.scripts.rest_requests import PLACEHOLDER
from hotline.twilio_rest.http import InProcessHttpClient

#: Form parameters that name a URL: a path there is made absolute on the app's public URL.
_URL_KEYS = ("Url", "Callback")


def send(sim: Simulator, request: RestRequest, sids: Mapping[str, str], main: CallState) -> Answer:
    """Send ``request`` now; ``sids``: the CallSid of each party by name, "" for the main call."""
    try:
        path = _resolved(sim, request.path, sids)
        data = {
            name: _value(sim, name, _resolved(sim, v, sids)) for name, v in request.data.items()
        }
        form: dict[str, object] = dict(data)
    except LookupError as missing:
        sent = f"{request.method} {request.path}"
        answer = Answer(request, sent, 0, str(missing.args[0]), main.clock.now)
        main.emit(Who.TWILIO, "rest", f"{answer.sent}: {answer.body}")
        return answer
    url = f"https://api.twilio.com/2010-04-01/Accounts/{sim.account_sid}/{path}"
    response = InProcessHttpClient(sim.rest_app).request(
        request.method, url, data=form or None, auth=(sim.account_sid, sim.signer.token)
    )
    sent = f"{request.method} {path}"
    answer = Answer(request, sent, response.status_code, response.text, main.clock.now)
    main.emit(Who.TWILIO, "rest", f"{answer.sent} → {answer.status}", detail=dict(data))
    return answer


def _resolved(sim: Simulator, text: str, sids: Mapping[str, str]) -> str:
    def one(found: re.Match[str]) -> str:
        kind, name = found.group(1), found.group(2)
        if kind == "CallSid":
            if (name or "") not in sids:
                raise LookupError(f"no party named {name!r} in this call")
            return sids[name or ""]
        if kind == "QueueSid":
            for queue in sim.switchboard.queues():
                if queue.friendly_name == name:
                    return queue.sid
            raise LookupError(f"no queue named {name!r} yet")
        for conference in sim.switchboard.conferences():  # newest first
            if conference.friendly_name == name:
                return conference.sid
        raise LookupError(f"no conference named {name!r} yet")

    return PLACEHOLDER.sub(one, text)


def _value(sim: Simulator, name: str, value: str) -> str:
    """A path given for a URL parameter becomes the app's absolute URL (Twilio needs those)."""
    if name.endswith(_URL_KEYS) and value.startswith("/"):
        return urljoin(sim.base_url, value)
    return value
