"""Hang-ups during a <Dial>: the caller's, while it rings, in a whisper or talking (Twilio still
requests the action), and a dialled party's during the whisper (the Dial goes on)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from twilio.twiml.voice_response import Dial, VoiceResponse

from hotline.sim.engine.simulator import Simulator
from hotline.sim.engine.transport import WebhookResponse, WSGITransport
from hotline.sim.model import CalleeBehaviour, CallEnd, ConnectionFailed, DialOutcome, Who
from tests.sim_apps import AUTH_TOKEN, Route, say, twiml_app
from tests.test_sim_engine import (
    AT,
    BUYER,
    HOTLINE,
    OTHER,
    SELLER,
    ScriptCaller,
    at,
    hit,
    place,
    twiml,
)

ANSWERS = CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=4, press="1", talk=100)


def _routes(whisper: bool = False, **dial: Any) -> dict[str, Route]:
    def voice(r: VoiceResponse) -> None:
        node = Dial(action="/dialed", timeout=20, **dial)
        node.number(SELLER, url="/whisper" if whisper else None)
        r.append(node)

    return {
        "/voice": twiml(voice),
        # 2 s to say, then the seller has 3 s to press a key.
        "/whisper": twiml(
            lambda r: r.gather(num_digits=1, timeout=3, action="/take").say("Take the call?")
        ),
        "/take": twiml(lambda r: None),
        "/dialed": say("The dial is over"),
    }


@pytest.mark.parametrize(
    ("whisper", "callee", "hang_up_at", "posted"),
    [
        # Ringing: the dialled legs are cancelled before anyone answers.
        (False, ANSWERS, 3, {"DialCallStatus": "canceled", "DialBridged": "false", "Dur": "0"}),
        (False, None, 15, {"DialCallStatus": "canceled", "DialBridged": "false", "Dur": "0"}),
        # In the whisper: the seller's leg was answered (4 s), not yet bridged.
        (True, ANSWERS, 6, {"DialCallStatus": "completed", "DialBridged": "false", "Dur": "2"}),
        # Talking: bridged at 4 s without a whisper, 7.2 s after one (1.2 s prompt, 1 s, key).
        (False, ANSWERS, 50, {"DialCallStatus": "completed", "DialBridged": "true", "Dur": "46"}),
        (True, ANSWERS, 50, {"DialCallStatus": "completed", "DialBridged": "true", "Dur": "46"}),
    ],
)
def test_the_dial_action_is_requested_when_the_caller_hangs_up(
    whisper: bool, callee: CalleeBehaviour | None, hang_up_at: float, posted: dict[str, str]
) -> None:
    callees = {SELLER: [callee]} if callee else {}
    caller = ScriptCaller(hang_up_at=hang_up_at)

    result, hits = place(_routes(whisper), caller=caller, callees=callees)

    sent = hit(hits, "/dialed")
    assert sent.now == at(hang_up_at)
    assert {
        "DialCallStatus": sent.params["DialCallStatus"],
        "DialBridged": sent.params["DialBridged"],
        "Dur": sent.params["DialCallDuration"],
    } == posted
    assert sent.params["CallStatus"] == "completed"
    assert sent.params["DialCallSid"].startswith("CA")
    assert sent.params["DialCallSid"] != result.call_sid
    assert (result.ended, result.duration) == (CallEnd.CALLER_HANGUP, hang_up_at)
    assert "The dial is over" not in result.heard()  # the call is over: the answer is ignored
    assert hits[-1].path == "/dialed"


def test_a_cancelled_dial_says_so_in_the_transcript() -> None:
    result, _ = place(_routes(), caller=ScriptCaller(hang_up_at=3), callees={SELLER: [ANSWERS]})

    assert [e.text for e in result.events("no-bridge")] == ["canceled"]
    assert [e.kind for e in result.transcript[-3:]] == ["webhook", "hangup", "end"]


class _ActionUnreachable(WSGITransport):
    """The app, except that its Dial action gets no answer at all (the connection is refused)."""

    def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes | None = None,
    ) -> WebhookResponse:
        if url.endswith("/dialed"):
            raise ConnectionFailed(f"{method} {url}: connection refused", "connection refused")
        return super().request(method, url, params, headers, body=body)


def test_an_action_after_the_hang_up_that_gets_no_answer_changes_nothing() -> None:
    sim = Simulator(_ActionUnreachable(twiml_app(_routes())), AUTH_TOKEN)

    result = sim.place_call(ScriptCaller(hang_up_at=3), AT, BUYER, HOTLINE)

    assert (result.ended, result.error) == (CallEnd.CALLER_HANGUP, None)
    (posted,) = [e for e in result.events("webhook") if e.url.endswith("/dialed")]
    assert posted.text == "POST connection refused"


def test_without_an_action_nothing_is_requested() -> None:
    routes = {"/voice": twiml(lambda r: (r.dial(SELLER, timeout=20), r.say("Next")))}

    result, hits = place(routes, caller=ScriptCaller(hang_up_at=10))

    assert [h.path for h in hits] == ["/voice"]
    assert result.ended is CallEnd.CALLER_HANGUP


def test_hanging_up_while_dialling_a_queue_cancels_it() -> None:
    def voice(r: VoiceResponse) -> None:
        dial = Dial(action="/dialed", timeout=30)
        dial.queue("support")
        r.append(dial)

    routes = {"/voice": twiml(voice), "/dialed": say("Over")}
    _, hits = place(routes, caller=ScriptCaller(hang_up_at=12))

    sent = hit(hits, "/dialed").params
    assert (sent["DialCallStatus"], sent["DialBridged"], sent["QueueSid"][:2]) == (
        "canceled",
        "false",
        "QU",
    )


# -- a dialled party hanging up in the whisper -----------------------------------------------


def _two_phones(whisper: Route) -> dict[str, Route]:
    def voice(r: VoiceResponse) -> None:
        dial = Dial(action="/dialed", timeout=20)
        dial.number(SELLER, url="/whisper")
        dial.number(OTHER, url="/whisper")
        r.append(dial)

    return {
        "/voice": twiml(voice),
        "/whisper": whisper,
        "/take": twiml(lambda r: None),
        "/dialed": say("Over"),
    }


GATHERING = twiml(
    lambda r: (r.gather(num_digits=1, timeout=3, action="/take").say("Take it?"), r.hangup())
)
SAYING = twiml(lambda r: r.say("A customer is on the line"))
HANGS_UP = CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=2, hangs_up_in_whisper=True)


@pytest.mark.parametrize(
    ("whisper", "hung_up_at"),
    [
        (GATHERING, 2 + 0.8 + 1),  # at its prompt, once heard (the input's one second after)
        (SAYING, 2 + 2.4),  # a whisper that asks nothing: as it ends, before the bridge
    ],
)
def test_a_callee_hanging_up_in_the_whisper_leaves_the_dial_ringing_the_others(
    whisper: Route, hung_up_at: float
) -> None:
    other = CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=8, press="1", talk=10)

    result, hits = place(_two_phones(whisper), callees={SELLER: [HANGS_UP], OTHER: [other]})

    (hangup,) = [e for e in result.events("hangup") if "whisper" in e.text]
    assert (hangup.who, hangup.text, hangup.at) == (
        Who.CALLEE,
        f"{SELLER} hung up during the whisper",
        at(hung_up_at),
    )
    assert result.bridged == (OTHER,)
    assert hit(hits, "/dialed").params["DialBridged"] == "true"
    assert result.heard_by(SELLER)  # they heard the whisper before hanging up


def test_a_callee_hanging_up_in_the_whisper_is_a_completed_unbridged_dial() -> None:
    callees = {SELLER: [HANGS_UP], OTHER: [CalleeBehaviour(DialOutcome.BUSY)]}

    result, hits = place(_two_phones(GATHERING), callees=callees)

    sent = hit(hits, "/dialed")
    assert (sent.params["DialCallStatus"], sent.params["DialBridged"]) == ("completed", "false")
    assert result.bridged == ()
    assert result.ended is CallEnd.COMPLETED  # the caller's call goes on with the action
    assert result.heard() == ["Over"]


def test_a_callee_who_hangs_up_neither_presses_nor_says() -> None:
    with pytest.raises(ValueError, match="neither presses nor says"):
        CalleeBehaviour(DialOutcome.ANSWER, press="1", hangs_up_in_whisper=True)
