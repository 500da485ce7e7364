"""The simulator engine plays TwiML as Twilio does, on a virtual clock, against sample apps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from twilio.twiml.voice_response import Dial, VoiceResponse

from hotline.sim.engine.simulator import CallResult, Simulator
from hotline.sim.engine.transport import WSGITransport
from hotline.sim.engine.twiml_contract import SUPPORTED, supported_table
from hotline.sim.model import (
    CalleeBehaviour,
    CallEnd,
    CallerInput,
    DialOutcome,
    Event,
    InputKind,
    Prompt,
    QueueBehaviour,
    RunawayCall,
    UnsupportedTwiML,
    WebhookFailed,
    Who,
)
from tests.sim_apps import AUTH_TOKEN, Hit, Route, hits_of, say, twiml_app

AT = datetime(2001, 3, 5, 10, 0, 0)
BUYER = "+48601100200"
HOTLINE = "+48221000000"
SELLER = "+48600300400"
OTHER = "+48600300500"


@dataclass
class ScriptCaller:
    """A caller answering prompts from a list, hanging up on ``hang_up_on`` or at ``hang_up_at``."""

    answers: list[CallerInput] = field(default_factory=list)
    hang_up_on: str | None = None
    hang_up_at: float | None = None
    events: list[Event] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)

    def hear(self, event: Event) -> None:
        self.events.append(event)

    def respond(self, prompt: Prompt) -> CallerInput:
        self.prompts.append(prompt)
        return self.answers.pop(0) if self.answers else CallerInput(InputKind.HANGUP)

    def hangs_up_during(self, text: str, elapsed: float) -> bool:
        return self.hang_up_on is not None and self.hang_up_on in text

    def hangs_up_at(self) -> float | None:
        return self.hang_up_at


def place(
    routes: Mapping[str, Route],
    *answers: CallerInput,
    caller: ScriptCaller | None = None,
    callees: Mapping[str, Sequence[CalleeBehaviour]] | None = None,
    queues: Mapping[str, QueueBehaviour] | None = None,
    token: str = AUTH_TOKEN,
    **options: Any,
) -> tuple[CallResult, list[Hit]]:
    """Place one call from BUYER to HOTLINE at AT against a fresh app serving ``routes``."""
    app = twiml_app(routes)
    sim = Simulator(WSGITransport(app), token, **options)
    caller = caller or ScriptCaller(list(answers))
    result = sim.place_call(caller, AT, BUYER, HOTLINE, callees=callees, queues=queues)
    return result, hits_of(app)


def twiml(build: Any) -> Route:
    """A route answering the VoiceResponse ``build(response)`` fills in."""

    def route(_params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        build(response)
        return response

    return route


def raw(body: str, status: int = 200) -> Route:
    """A route answering ``body`` as is."""
    return lambda _params: (body, status)


def at(seconds: float) -> datetime:
    return AT + timedelta(seconds=seconds)


def hit(hits: list[Hit], path: str) -> Hit:
    found = [h for h in hits if h.path == path]
    assert found, f"no request to {path}: {[h.path for h in hits]}"
    return found[0]


def digits(keys: str, **kw: Any) -> CallerInput:
    return CallerInput(InputKind.DIGITS, digits=keys, **kw)


SILENCE = CallerInput(InputKind.SILENCE)


# -- Say, Play, Pause and the clock ---------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "seconds", "heard"),
    [
        (lambda r: r.say("one two three four five"), 2.0, [("say", "one two three four five")]),
        (
            lambda r: r.say("one two three four five", loop=2),
            4.0,
            [("say", "one two three four five")] * 2,
        ),
        (lambda r: r.say("Hi"), 0.5, [("say", "Hi")]),
        (
            lambda r: r.play("https://cdn.example/a.mp3"),
            5.0,
            [("play", "https://cdn.example/a.mp3")],
        ),
        (
            lambda r: r.play("https://cdn.example/a.mp3", loop=3),
            15.0,
            [("play", "https://cdn.example/a.mp3")] * 3,
        ),
        (lambda r: r.play(digits="ww12"), 2.0, [("play", "digits:ww12")]),
        (lambda r: r.pause(), 1.0, [("pause", "1")]),
        (lambda r: r.pause(length=3), 3.0, [("pause", "3")]),
    ],
)
def test_speaking_verbs_take_time_and_are_heard(
    build: Any, seconds: float, heard: list[tuple[str, str]]
) -> None:
    result, _ = place({"/voice": twiml(build)})
    assert result.ended is CallEnd.COMPLETED
    assert result.duration == pytest.approx(seconds)
    assert [(e.kind, e.text) for e in result.transcript if e.who is Who.APP] == heard


def test_say_flattens_ssml_to_the_words_heard() -> None:
    def build(r: VoiceResponse) -> None:
        spoken = r.say("Your code is")
        spoken.say_as("123", interpret_as="digits")
        spoken.break_(time="1s")
        spoken.sub("WWW", alias="World Wide Web")

    result, _ = place({"/voice": twiml(build)})
    assert result.heard() == ["Your code is 123 World Wide Web"]
    assert result.duration == pytest.approx(7 / 2.5)


def test_the_app_sees_the_virtual_clock_as_the_call_moves() -> None:
    routes = {
        "/voice": twiml(
            lambda r: (r.say("one two three four five"), r.pause(length=3), r.redirect("/later"))
        ),
        "/later": say("Still here"),
    }
    result, hits = place(routes)
    assert [h.now for h in hits] == [at(0), at(5)]
    assert result.finished == at(5 + 0.8)
    assert datetime.now() > AT + timedelta(days=365)  # freezegun is stopped after the call


def test_a_call_replayed_gives_the_same_transcript() -> None:
    routes = {
        "/voice": twiml(lambda r: r.gather(action="/menu", num_digits=1).say("Press a key")),
        "/menu": twiml(lambda r: r.dial(SELLER, action="/done")),
        "/done": say("Bye"),
    }
    callees = {SELLER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=4, talk=12)]}
    first, _ = place(routes, digits("1"), callees=callees)
    second, _ = place(routes, digits("1"), callees=callees)
    assert first.transcript == second.transcript
    assert first.call_sid == second.call_sid
    assert first.call_sid.startswith("CA") and len(first.call_sid) == 34
    assert first.webhooks == second.webhooks == 3


def test_seed_changes_the_sids() -> None:
    app = twiml_app({"/voice": say("Hi")})
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    one = sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE, seed="a")
    two = sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE, seed="b")
    assert one.call_sid != two.call_sid


def test_standard_params_on_every_request() -> None:
    routes = {"/voice": twiml(lambda r: r.redirect("/next")), "/next": say("Hi")}
    result, hits = place(routes)
    first, second = hits
    expected = {
        "CallSid": result.call_sid,
        "From": BUYER,
        "To": HOTLINE,
        "Caller": BUYER,
        "Called": HOTLINE,
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    assert expected.items() <= first.params.items()
    assert first.params["AccountSid"].startswith("AC") and len(first.params["AccountSid"]) == 34
    assert (first.params["CallStatus"], second.params["CallStatus"]) == ("ringing", "in-progress")


def test_caller_hanging_up_during_a_say() -> None:
    routes = {"/voice": say("Welcome to the menu of options", "Never heard")}
    result, _ = place(routes, caller=ScriptCaller(hang_up_on="menu"))
    assert result.ended is CallEnd.CALLER_HANGUP
    assert result.heard() == ["Welcome to the menu of options"]
    assert result.duration == pytest.approx(6 / 2.5 / 2)


def test_an_endless_loop_stops_at_max_duration() -> None:
    result, _ = place(
        {"/voice": twiml(lambda r: r.play("https://cdn.example/a.mp3", loop=0))}, max_duration=60
    )
    assert result.ended is CallEnd.CALLER_HANGUP
    assert "max_duration" in result.reason
    assert result.duration == 60


# -- Gather ---------------------------------------------------------------------------------


def _menu(**gather: Any) -> dict[str, Route]:
    def voice(r: VoiceResponse) -> None:
        r.gather(action="/next", **gather).say("Press one")
        r.say("No input")

    return {"/voice": twiml(voice), "/next": say("Thanks")}


@pytest.mark.parametrize(
    ("gather", "answer", "posted"),
    [
        ({}, digits("12#"), {"Digits": "12"}),
        ({"num_digits": 1}, digits("34"), {"Digits": "3"}),
        ({"finish_on_key": "*"}, digits("5*"), {"Digits": "5"}),
        (
            {"input": "speech"},
            CallerInput(InputKind.SPEECH, speech="order status", confidence=0.8),
            {"SpeechResult": "order status", "Confidence": "0.8"},
        ),
        ({"input": "dtmf speech"}, digits("2#"), {"Digits": "2"}),
        ({"action_on_empty_result": True}, SILENCE, {}),
    ],
)
def test_gather_posts_the_input_to_its_action(
    gather: dict[str, Any], answer: CallerInput, posted: dict[str, str]
) -> None:
    result, hits = place(_menu(**gather), answer)
    sent = hit(hits, "/next").params
    assert {k: sent[k] for k in ("Digits", "SpeechResult", "Confidence") if k in sent} == posted
    assert result.heard() == ["Press one", "Thanks"]


@pytest.mark.parametrize(
    ("gather", "answer"),
    [({}, SILENCE), ({"input": "speech"}, digits("1#")), ({}, digits("#"))],
)
def test_gather_without_input_goes_on_with_the_next_verb(
    gather: dict[str, Any], answer: CallerInput
) -> None:
    result, hits = place(_menu(**gather), answer)
    assert [h.path for h in hits] == ["/voice"]
    assert result.heard() == ["Press one", "No input"]


def test_gather_without_action_posts_to_the_current_document() -> None:
    def voice(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        if "Digits" in params:
            response.say(f"You pressed {params['Digits']}")
        else:
            response.gather(num_digits=1).say("Press a key")
        return response

    result, hits = place({"/voice": voice}, digits("7"))
    assert [(h.path, h.params.get("Digits")) for h in hits] == [("/voice", None), ("/voice", "7")]
    assert result.heard() == ["Press a key", "You pressed 7"]


@pytest.mark.parametrize(
    ("gather", "answer", "posted_at"),
    [
        ({}, digits("12#"), 0.8 + 1.0),  # prompt, then the caller's one second
        ({}, digits("12"), 0.8 + 1.0 + 5.0),  # no finishOnKey: the timeout ends it
        ({"timeout": 2}, digits("12"), 0.8 + 1.0 + 2.0),
        ({}, digits("1#", after=3.0), 0.8 + 3.0),
        ({}, digits("1#", after=0.3, barge_in=True), 0.3),
        ({"barge_in": False}, digits("1#", after=0.3, barge_in=True), 0.8 + 0.3),
        (
            {"input": "speech", "speech_timeout": "auto"},
            CallerInput(InputKind.SPEECH, speech="order status"),
            0.8 + 1.0 + 0.8 + 1.0,
        ),
        (
            {"input": "speech", "speech_timeout": 3},
            CallerInput(InputKind.SPEECH, speech="order status"),
            0.8 + 1.0 + 0.8 + 3.0,
        ),
        ({"action_on_empty_result": True}, SILENCE, 0.8 + 5.0),
    ],
)
def test_gather_timing(gather: dict[str, Any], answer: CallerInput, posted_at: float) -> None:
    _, hits = place(_menu(**gather), answer)
    assert hit(hits, "/next").now == at(posted_at)


def test_barge_in_cuts_the_prompt_short() -> None:
    result, _ = place(_menu(), digits("1#", after=0.3, barge_in=True))
    prompt = result.events("say")[0]
    assert (prompt.text, prompt.detail["interrupted"]) == ("Press one", "0.3")


def test_the_prompt_tells_the_caller_what_was_said_and_asked() -> None:
    def voice(r: VoiceResponse) -> None:
        r.say("Welcome")
        r.gather(
            action="/next",
            num_digits=2,
            timeout=7,
            input="dtmf speech",
            language="pl-PL",
            hints="paczka",
        ).say("Choose")

    caller = ScriptCaller([digits("12")])
    place({"/voice": twiml(voice), "/next": say("Ok")}, caller=caller)
    (prompt,) = caller.prompts
    assert prompt == Prompt(
        "Gather",
        frozenset({"dtmf", "speech"}),
        ("Welcome", "Choose"),
        num_digits=2,
        finish_on_key="#",
        timeout=7.0,
        language="pl-PL",
        hints="paczka",
    )


def test_hanging_up_at_a_gather_ends_the_call() -> None:
    result, hits = place(_menu(), CallerInput(InputKind.HANGUP))
    assert result.ended is CallEnd.CALLER_HANGUP
    assert [h.path for h in hits] == ["/voice"]


# -- Dial -----------------------------------------------------------------------------------


def _dial_routes(**dial: Any) -> dict[str, Route]:
    return {
        "/voice": twiml(lambda r: r.dial(SELLER, action="/dialed", timeout=20, **dial)),
        "/dialed": say("Dial over"),
    }


@pytest.mark.parametrize(
    ("behaviours", "status", "bridged", "ended_at"),
    [
        ([CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=5, talk=30)], "completed", "true", 35),
        ([CalleeBehaviour(DialOutcome.BUSY, ring_seconds=3)], "busy", "false", 3),
        ([CalleeBehaviour(DialOutcome.NO_ANSWER, ring_seconds=5)], "no-answer", "false", 20),
        ([CalleeBehaviour(DialOutcome.FAILED, ring_seconds=1)], "failed", "false", 1),
        ([CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=25)], "no-answer", "false", 20),
        ([], "no-answer", "false", 20),
    ],
)
def test_dial_posts_the_callee_outcome(
    behaviours: list[CalleeBehaviour], status: str, bridged: str, ended_at: float
) -> None:
    result, hits = place(_dial_routes(), callees={SELLER: behaviours})
    sent = hit(hits, "/dialed")
    assert (sent.params["DialCallStatus"], sent.params["DialBridged"]) == (status, bridged)
    assert (
        sent.params["DialCallSid"].startswith("CA")
        and sent.params["DialCallSid"] != result.call_sid
    )
    assert sent.now == at(ended_at)
    assert result.bridged == ((SELLER,) if bridged == "true" else ())


def test_dial_duration_and_time_limit() -> None:
    callees = {SELLER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=2, talk=100)]}
    _, hits = place(_dial_routes(time_limit=10), callees=callees)
    assert hit(hits, "/dialed").params["DialCallDuration"] == "10"
    assert hit(hits, "/dialed").now == at(12)


def test_a_number_without_behaviour_gets_a_recorded_default() -> None:
    result, _ = place(_dial_routes())
    (default,) = result.events("default")
    assert default.text == f"no behaviour scripted for {SELLER}: no-answer for 20 s"


def test_dial_without_action_goes_on_with_the_next_verb() -> None:
    routes = {"/voice": twiml(lambda r: (r.dial(SELLER, timeout=10), r.say("After the dial")))}
    result, hits = place(
        routes, callees={SELLER: [CalleeBehaviour(DialOutcome.BUSY, ring_seconds=2)]}
    )
    assert result.heard() == ["After the dial"]
    assert len(hits) == 1


def test_behaviours_are_consumed_one_per_ring() -> None:
    def voice(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        response.dial(SELLER, action="/voice", timeout=10) if params.get(
            "DialCallStatus"
        ) != "completed" else response.say("Connected")
        return response

    callees = {
        SELLER: [
            CalleeBehaviour(DialOutcome.NO_ANSWER),
            CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=1, talk=5),
        ]
    }
    result, hits = place({"/voice": voice}, callees=callees)
    assert [h.params.get("DialCallStatus") for h in hits] == [None, "no-answer", "completed"]
    assert result.unused_callees == {}


def test_the_first_of_several_numbers_to_answer_is_bridged() -> None:
    def voice(r: VoiceResponse) -> None:
        dial = Dial(action="/dialed", timeout=20)
        dial.number(SELLER)
        dial.number("+48 600-300-500")
        r.append(dial)

    callees = {
        SELLER: [CalleeBehaviour(DialOutcome.BUSY, ring_seconds=1)],
        OTHER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=4, talk=6)],
    }
    result, hits = place({"/voice": twiml(voice), "/dialed": say("Done")}, callees=callees)
    assert result.bridged == ("+48 600-300-500",)
    assert hit(hits, "/dialed").now == at(10)


def _whisper_routes() -> dict[str, Route]:
    def voice(r: VoiceResponse) -> None:
        dial = Dial(action="/dialed", timeout=20, caller_id=HOTLINE)
        dial.number(SELLER, url="/whisper")
        r.append(dial)

    def whisper(r: VoiceResponse) -> None:
        r.gather(num_digits=1, action="/screen", timeout=3).say("Press 1 to take the call")
        r.hangup()

    def screen(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        if params.get("Digits") != "1":
            response.hangup()
        return response

    return {
        "/voice": twiml(voice),
        "/whisper": twiml(whisper),
        "/screen": screen,
        "/dialed": say("Over"),
    }


@pytest.mark.parametrize(
    ("press", "status", "bridged"),
    [("1", "completed", "true"), ("", "completed", "false"), ("2", "completed", "false")],
)
def test_whisper_on_the_callee_leg_decides_the_bridge(
    press: str, status: str, bridged: str
) -> None:
    callees = {SELLER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=2, press=press, talk=10)]}
    result, hits = place(_whisper_routes(), callees=callees)
    dialed = hit(hits, "/dialed").params
    assert (dialed["DialCallStatus"], dialed["DialBridged"]) == (status, bridged)
    whisper = hit(hits, "/whisper").params
    assert whisper["ParentCallSid"] == result.call_sid
    assert whisper["CallSid"] == dialed["DialCallSid"] != result.call_sid
    assert (whisper["Direction"], whisper["From"], whisper["To"], whisper["CallStatus"]) == (
        "outbound-dial",
        HOTLINE,
        SELLER,
        "in-progress",
    )
    assert result.bridged == ((SELLER,) if bridged == "true" else ())
    assert result.reason == "end of TwiML from http://localhost/dialed"
    spoken = [(e.who, e.text) for e in result.events("say")]
    assert spoken[0] == (Who.CALLEE, "Press 1 to take the call")
    assert result.heard() == ["Over"]  # the caller never hears the whisper


def _speech_whisper_routes(listens: str) -> dict[str, Route]:
    routes = _whisper_routes()
    routes["/whisper"] = twiml(
        lambda r: (
            r.gather(input=listens, num_digits=1, action="/screen", timeout=3).say(
                "Say yes or press 1 to take the call"
            ),
            r.hangup(),
        )
    )

    def screen(params: dict[str, str]) -> VoiceResponse:
        response = VoiceResponse()
        if params.get("Digits") != "1" and "yes" not in params.get("SpeechResult", ""):
            response.hangup()
        return response

    routes["/screen"] = screen
    return routes


@pytest.mark.parametrize(
    ("listens", "behaviour", "posted", "ignored"),
    [
        (
            "speech",
            CalleeBehaviour(
                DialOutcome.ANSWER, ring_seconds=2, say="yes I'll take it", confidence=0.9
            ),
            {"SpeechResult": "yes I'll take it", "Confidence": "0.9"},
            None,
        ),
        (
            "dtmf speech",
            CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=2, say="yes"),
            {"SpeechResult": "yes", "Confidence": "0.92"},
            None,
        ),
        (
            "dtmf",
            CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=2, say="yes"),
            None,
            ("speak", "the <Gather> listens for keys only; it times out after 3 s"),
        ),
        (
            "speech",
            CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=2, press="1"),
            None,
            ("press", "the <Gather> listens for speech only; it times out after 3 s"),
        ),
    ],
)
def test_a_dialled_party_speaks_at_the_whisper_gather(
    listens: str,
    behaviour: CalleeBehaviour,
    posted: dict[str, str] | None,
    ignored: tuple[str, str] | None,
) -> None:
    result, hits = place(_speech_whisper_routes(listens), callees={SELLER: [behaviour]})
    dialed = hit(hits, "/dialed").params
    if posted is not None:
        screen = hit(hits, "/screen").params
        assert {k: screen[k] for k in ("SpeechResult", "Confidence", "Digits") if k in screen} == (
            posted
        )
        assert (dialed["DialBridged"], result.bridged) == ("true", (SELLER,))
        return
    # Input the Gather does not listen for is never heard: it times out, the whisper hangs up.
    assert "/screen" not in [h.path for h in hits]
    assert (dialed["DialCallStatus"], dialed["DialBridged"]) == ("completed", "false")
    kind, why = ignored or ("", "")
    (event,) = result.events(kind)
    assert (event.who, event.detail["ignored"]) == (Who.CALLEE, why)
    prompt_ends = 2 + 9 / 2.5  # the ring, then the whole whisper prompt (input never cuts it)
    assert hit(hits, "/dialed").now == at(prompt_ends + 3)  # then the Gather's whole timeout


def test_what_a_dialled_party_heard_is_kept_per_number() -> None:
    callees = {SELLER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=2, press="1", talk=5)]}
    result, _ = place(_whisper_routes(), callees=callees)

    assert result.heard_by(SELLER) == ["Press 1 to take the call"]
    assert result.heard_by("+48 600-300-400") == ["Press 1 to take the call"]
    assert result.heard_by(OTHER) == []
    assert "Press 1 to take the call" not in result.heard()


def test_a_dialled_party_presses_or_speaks_not_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        CalleeBehaviour(DialOutcome.ANSWER, press="1", say="yes")


def test_dial_queue_bridges_a_waiting_caller() -> None:
    def voice(r: VoiceResponse) -> None:
        dial = Dial(action="/after")
        dial.queue("support", url="/about")
        r.append(dial)

    routes = {
        "/voice": twiml(voice),
        "/about": say("An agent is taking your call"),
        "/after": say("Next"),
    }
    callees = {"support": [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=4, talk=20)]}
    result, hits = place(routes, callees=callees)
    about = hit(hits, "/about").params
    after = hit(hits, "/after").params
    assert about["DequeingCallSid"] == result.call_sid
    assert (after["DialCallStatus"], after["QueueSid"]) == ("completed", about["QueueSid"])
    assert result.bridged == ("queue:support",)


# -- Enqueue --------------------------------------------------------------------------------


def _queue_routes(wait: Route | None = None) -> dict[str, Route]:
    routes = {
        "/voice": twiml(
            lambda r: r.enqueue("support", wait_url="/wait" if wait else None, action="/left")
        ),
        "/left": say("Thanks for waiting"),
    }
    if wait:
        routes["/wait"] = wait
    return routes


def test_enqueue_wait_loop_params_and_bridge() -> None:
    wait = twiml(lambda r: (r.say("Please hold"), r.pause(length=9)))
    queues = {"support": QueueBehaviour(agent_after=25, talk=60, ahead=2, avg_wait=40)}
    result, hits = place(_queue_routes(wait), queues=queues)
    waits = [h for h in hits if h.path == "/wait"]
    assert [(h.params["QueueTime"], h.now) for h in waits] == [
        ("0", at(0)),
        ("9", at(9.8)),
        ("19", at(19.6)),
    ]
    assert {
        (h.params["QueuePosition"], h.params["CurrentQueueSize"], h.params["AvgQueueTime"])
        for h in waits
    } == {("3", "3", "40")}
    left = hit(hits, "/left")
    assert (left.params["QueueResult"], left.params["QueueTime"], left.now) == (
        "bridged",
        "25",
        at(85),
    )
    assert left.params["QueueSid"] == waits[0].params["QueueSid"]
    (visit,) = result.queues
    assert (visit.name, visit.result, visit.seconds) == ("support", "bridged", 25)
    assert result.bridged == ("queue:support",)


@pytest.mark.parametrize(
    ("wait", "caller", "result_param", "ended"),
    [
        (
            twiml(lambda r: (r.say("Please hold"), r.leave())),
            ScriptCaller(),
            "leave",
            CallEnd.COMPLETED,
        ),
        (
            twiml(lambda r: r.say("Please hold")),
            ScriptCaller(hang_up_on="hold"),
            "hangup",
            CallEnd.CALLER_HANGUP,
        ),
        (None, ScriptCaller(hang_up_on="hold music"), "hangup", CallEnd.CALLER_HANGUP),
    ],
)
def test_leaving_a_queue(
    wait: Route | None, caller: ScriptCaller, result_param: str, ended: CallEnd
) -> None:
    result, hits = place(_queue_routes(wait), caller=caller)
    left = hit(hits, "/left").params
    assert left["QueueResult"] == result_param
    assert result.ended is ended
    assert result.queues[0].result == result_param
    assert (
        result.events("default")[0].text
        == "no behaviour scripted for queue support: nobody answers"
    )


def test_hold_music_plays_until_the_agent_answers() -> None:
    queues = {"support": QueueBehaviour(agent_after=12, talk=3)}
    result, hits = place(_queue_routes(), queues=queues)
    assert [e.text for e in result.events("play")] == ["[hold music]"] * 3
    assert hit(hits, "/left").now == at(15)


def test_a_gather_in_wait_music_keeps_the_caller_in_the_queue() -> None:
    # Twilio's <Enqueue> page: a Redirect (or, here, a Gather action) leads to more wait TwiML,
    # and the waitUrl is requested again once there is none left.
    routes = _queue_routes(
        twiml(lambda r: r.gather(num_digits=1, action="/out").say("Press 1 to hear our hours"))
    )
    routes["/out"] = say("We are open from eight to nine")
    queues = {"support": QueueBehaviour(agent_after=30, talk=10)}
    result, hits = place(routes, digits("1"), *[SILENCE] * 5, queues=queues)
    assert [h.path for h in hits][:5] == ["/voice", "/wait", "/out", "/wait", "/wait"]
    assert (hit(hits, "/out").params["Digits"], hit(hits, "/out").now) == ("1", at(3.4))
    assert hit(hits, "/left").params["QueueResult"] == "bridged"
    assert "We are open from eight to nine" in result.heard()
    assert [(v.name, v.result, v.seconds) for v in result.queues] == [("support", "bridged", 30)]


@pytest.mark.parametrize("refusal", ["queue-full", "system-error"])
def test_a_queue_that_refuses_the_caller_ends_the_enqueue_at_once(refusal: str) -> None:
    wait = twiml(lambda r: r.say("Please hold"))
    queues = {"support": QueueBehaviour(refuse=refusal)}
    result, hits = place(_queue_routes(wait), queues=queues)

    left = hit(hits, "/left")
    assert (left.params["QueueResult"], left.params["QueueTime"], left.now) == (refusal, "0", at(0))
    assert "/wait" not in [h.path for h in hits]
    assert [(v.name, v.result) for v in result.queues] == [("support", refusal)]
    assert result.entered_queues() == []  # refused: the caller never waited in it
    assert result.heard() == ["Thanks for waiting"]


def test_a_refused_enqueue_without_action_goes_on_with_the_next_verb() -> None:
    routes = {"/voice": twiml(lambda r: (r.enqueue("support"), r.say("All agents are busy")))}
    result, _ = place(routes, queues={"support": QueueBehaviour(refuse="queue-full")})
    assert result.heard() == ["All agents are busy"]
    assert result.ended is CallEnd.COMPLETED


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ({"refuse": "closed"}, "refuse: expected one of queue-full, system-error"),
        ({"refuse": "queue-full", "agent_after": 5}, "has no agent_after"),
    ],
)
def test_queue_refusals_are_checked(behaviour: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QueueBehaviour(**behaviour)


def test_repeated_wait_loops_fold_in_the_transcript() -> None:
    from hotline.sim.report.folding import fold_transcript

    wait = twiml(lambda r: (r.say("Please hold"), r.play("https://cdn.example/hold.mp3")))
    queues = {"support": QueueBehaviour(agent_after=60)}
    result, hits = place(_queue_routes(wait), queues=queues)

    folds = fold_transcript(result.transcript)
    loops = [f for f in folds if f.repeats > 1]
    assert len([h for h in hits if h.path == "/wait"]) == 11  # 5.8 s a pass, cut at 60 s
    (loop,) = loops
    assert [(e.kind, e.text) for e in loop.events] == [
        ("webhook", "POST 200"),
        ("say", "Please hold"),
        ("play", "https://cdn.example/hold.mp3"),
    ]
    assert loop.repeats == 11  # the last pass, cut short by the agent, is the same loop
    assert loop.last.detail["interrupted"] == "1.2"
    assert sum(len(f.events) * f.repeats for f in folds) == len(result.transcript)


# -- the caller hanging up at a moment, and the engine's limit ------------------------------


def _long_say(r: VoiceResponse) -> None:
    r.say(" ".join(["word"] * 100))  # 40 s


def _ringing(r: VoiceResponse) -> None:
    r.dial(SELLER, timeout=60, action="/after")


def _queued(r: VoiceResponse) -> None:
    r.enqueue("support", action="/after")


def _gathering(r: VoiceResponse) -> None:
    r.gather(timeout=60, action="/after").say("Press a key")


@pytest.mark.parametrize(
    ("build", "answer"),
    [(_long_say, None), (_ringing, None), (_queued, None), (_gathering, SILENCE)],
    ids=["during a say", "while a dial rings", "waiting in a queue", "at a gather's wait"],
)
def test_the_caller_hangs_up_at_exactly_the_moment(build: Any, answer: CallerInput | None) -> None:
    caller = ScriptCaller([answer] if answer else [], hang_up_at=30)
    routes = {"/voice": twiml(build), "/after": say("After"), "/status": say()}
    result, hits = place(routes, caller=caller, status_callback="/status")

    assert result.ended is CallEnd.CALLER_HANGUP
    assert result.duration == 30.0
    assert result.reason == "the caller hung up 30 s into the call"
    final = [h for h in hits if h.path == "/status"][-1]
    assert (final.params["CallStatus"], final.params["CallDuration"], final.now) == (
        "completed",
        "30",
        at(30),
    )
    assert "After" not in result.heard()


def test_a_part_cut_by_the_hang_up_says_how_much_was_heard() -> None:
    result, _ = place({"/voice": twiml(_long_say)}, caller=ScriptCaller(hang_up_at=12.5))
    (spoken,) = result.events("say")
    assert spoken.detail["interrupted"] == "12.5"
    assert result.finished == at(12.5)


def test_a_moment_already_past_hangs_up_at_once() -> None:
    routes = {"/voice": twiml(lambda r: (r.say("Hi"), r.say("Never heard")))}
    result, _ = place(routes, caller=ScriptCaller(hang_up_at=0))
    assert result.heard() == []
    assert (result.ended, result.duration) == (CallEnd.CALLER_HANGUP, 0)


def test_waiting_in_a_queue_until_the_limit_says_so() -> None:
    result, hits = place(_queue_routes(), max_duration=60)
    assert result.reached_limit
    assert result.reason == "the caller waited in queue 'support' until the call limit (60 s)"
    assert hit(hits, "/left").params["QueueResult"] == "hangup"
    assert result.duration == 60


def test_an_endless_loop_reaches_the_limit_too() -> None:
    result, _ = place(
        {"/voice": twiml(lambda r: r.play("https://cdn.example/a.mp3", loop=0))}, max_duration=60
    )
    assert result.reached_limit
    ok, _ = place({"/voice": say("Hi")})
    assert not ok.reached_limit


# -- Record, Redirect, Hangup, Reject ------------------------------------------------------


def _record_routes(**record: Any) -> dict[str, Route]:
    return {
        "/voice": twiml(
            lambda r: (r.say("Leave a message"), r.record(**record), r.say("Nothing recorded"))
        ),
        "/recorded": say("Got it"),
        "/transcribed": say("ignored"),
    }


@pytest.mark.parametrize(
    ("record", "answer", "posted", "posted_at"),
    [
        (
            {"max_length": 20},
            CallerInput(InputKind.RECORDING, duration=8, digits="#"),
            {"RecordingDuration": "8", "Digits": "#"},
            1.2 + 1 + 8,
        ),
        (
            {"max_length": 20},
            CallerInput(InputKind.RECORDING, duration=8),
            {"RecordingDuration": "8"},
            1.2 + 1 + 8 + 5,
        ),
        (
            {"max_length": 20},
            CallerInput(InputKind.RECORDING, duration=30),
            {"RecordingDuration": "20"},
            1.2 + 1 + 20,
        ),
        (
            {"timeout": 2},
            CallerInput(InputKind.SPEECH, speech="my parcel is late"),
            {"RecordingDuration": "2"},
            1.2 + 1 + 1.6 + 2,
        ),
    ],
)
def test_record_posts_the_recording(
    record: dict[str, Any], answer: CallerInput, posted: dict[str, str], posted_at: float
) -> None:
    _, hits = place(_record_routes(action="/recorded", **record), answer)
    sent = hit(hits, "/recorded")
    assert {
        k: sent.params[k] for k in ("RecordingDuration", "Digits") if k in sent.params
    } == posted
    assert sent.params["RecordingUrl"].startswith("https://api.twilio.com/2010-04-01/Accounts/AC")
    assert sent.params["RecordingUrl"].endswith(sent.params["RecordingSid"])
    assert sent.now == at(posted_at)


def test_record_transcription_goes_to_the_transcribe_callback() -> None:
    answer = CallerInput(InputKind.RECORDING, duration=6, speech="my parcel is late", digits="#")
    result, hits = place(
        _record_routes(action="/recorded", transcribe=True, transcribe_callback="/transcribed"),
        answer,
    )
    sent = hit(hits, "/transcribed").params
    assert (sent["TranscriptionText"], sent["TranscriptionStatus"]) == (
        "my parcel is late",
        "completed",
    )
    assert sent["RecordingSid"] == hit(hits, "/recorded").params["RecordingSid"]
    assert result.events("record")[0].text == "my parcel is late"
    assert result.heard() == ["Leave a message", "Got it"]  # the callback's TwiML is not played


def test_record_without_audio_goes_on_and_without_action_posts_to_the_document() -> None:
    result, hits = place(_record_routes(), SILENCE)
    assert result.heard() == ["Leave a message", "Nothing recorded"]
    assert len(hits) == 1
    _, hits = place(
        {"/voice": twiml(lambda r: r.record())},
        CallerInput(InputKind.RECORDING, duration=3, digits="#"),
        CallerInput(InputKind.HANGUP),
    )
    assert [(h.path, h.params.get("RecordingDuration")) for h in hits] == [
        ("/voice", None),
        ("/voice", "3"),
    ]


@pytest.mark.parametrize(
    ("start", "target", "method", "landed"),
    [
        ("/voice", "/menu", "GET", "/menu"),
        ("/voice", "/menu?step=2", "POST", "/menu"),
        ("/ivr/start", "menu", "POST", "/ivr/menu"),
    ],
)
def test_redirect_follows_relative_urls_with_its_method(
    start: str, target: str, method: str, landed: str
) -> None:
    routes = {
        "/voice": twiml(lambda r: r.redirect(start)),
        "/ivr/start": twiml(lambda r: r.redirect(target, method=method)),
        start: twiml(lambda r: r.redirect(target, method=method)),
        landed: say("Menu"),
    }
    result, hits = place(routes)
    last = hits[-1]
    assert (last.method, last.path, last.params["CallSid"]) == (method, landed, result.call_sid)
    assert result.heard() == ["Menu"]


@pytest.mark.parametrize(
    ("build", "ended", "final_status"),
    [
        (lambda r: (r.say("Bye"), r.hangup(), r.say("never")), CallEnd.COMPLETED, "completed"),
        (lambda r: (r.say("Bye"),), CallEnd.COMPLETED, "completed"),
        (lambda r: (r.reject(reason="busy"), r.say("never")), CallEnd.REJECTED, "busy"),
        (lambda r: (r.reject(),), CallEnd.REJECTED, "no-answer"),
    ],
)
def test_how_the_app_ends_the_call(build: Any, ended: CallEnd, final_status: str) -> None:
    routes = {"/voice": twiml(build), "/status": say()}
    result, hits = place(routes, status_callback="/status")
    assert result.ended is ended
    assert "never" not in result.heard()
    statuses = [h.params["CallStatus"] for h in hits if h.path == "/status"]
    answered = ["in-progress"] if ended is CallEnd.COMPLETED else []
    assert statuses == ["initiated", "ringing", *answered, final_status]


def test_status_callback_reports_the_duration() -> None:
    routes = {"/voice": say("one two three four five"), "/status": say()}
    _, hits = place(routes, status_callback="/status", status_callback_events=["completed"])
    (final,) = [h for h in hits if h.path == "/status"]
    assert (final.params["CallStatus"], final.params["CallDuration"], final.now) == (
        "completed",
        "2",
        at(2),
    )


def test_cookies_are_kept_for_the_call() -> None:
    routes = {
        "/voice": twiml(lambda r: r.redirect("/set-cookie")),
        "/set-cookie": twiml(lambda r: r.redirect("/next")),
        "/next": say("Hi"),
    }
    _, hits = place(routes)
    assert [h.cookie for h in hits] == ["", "", "session=abc123"]


# -- what the engine refuses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("<Response><Sms>hi</Sms></Response>", "<Sms>"),
        ("<Response><Connect/></Response>", "<Connect>"),
        ("<Response><Dial><Application>AP123</Application></Dial></Response>", "<Application>"),
        (
            "<Response><Gather><Dial>+48600300400</Dial></Gather></Response>",
            "<Dial> inside <Gather>",
        ),
        ("<Response><Say>hi <audio src='x'/></Say></Response>", "<audio>"),
        ("<Response><Leave/></Response>", "<Leave>"),
        ("<Response><say>hi</say></Response>", "<say>"),
    ],
)
def test_unsupported_twiml_is_an_error_naming_it(body: str, named: str) -> None:
    with pytest.raises(UnsupportedTwiML, match=named):
        place({"/voice": raw(body)})
    assert datetime.now() > AT + timedelta(days=365)  # freezegun stopped on the error too


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("boom", 500, "answered 500: 'boom'"),
        ("Forbidden", 403, "answered 403"),
        ("not xml", 200, "did not answer XML"),
        ("<Foo/>", 200, "not a TwiML <Response>"),
        ('<Response><Pause length="soon"/></Response>', 200, "not a number"),
    ],
)
def test_a_failing_webhook_fails_the_call(body: str, status: int, message: str) -> None:
    result, _ = place(
        {
            "/voice": twiml(lambda r: (r.say("Hello"), r.redirect("/broken"))),
            "/broken": raw(body, status),
        }
    )
    assert result.ended is CallEnd.FAILED
    assert isinstance(result.error, WebhookFailed)
    assert message in str(result.error) and "/broken" in str(result.error)
    assert result.events("error")[0].text == str(result.error)
    with pytest.raises(WebhookFailed):
        result.raise_for_error()


def test_requests_are_signed_and_the_app_rejects_a_wrong_token() -> None:
    ok, _ = place({"/voice": say("Hi")})
    assert ok.ended is CallEnd.COMPLETED
    bad, hits = place({"/voice": say("Hi")}, token="not-the-token")
    assert bad.ended is CallEnd.FAILED
    assert "answered 403" in str(bad.error)
    assert hits == []  # refused before the route ran


def test_a_redirect_loop_is_a_runaway_call() -> None:
    result, hits = place({"/voice": twiml(lambda r: r.redirect("/voice"))}, max_webhooks=20)
    assert result.ended is CallEnd.FAILED
    assert isinstance(result.error, RunawayCall)
    assert len(hits) == 20


def test_supported_table_covers_every_element() -> None:
    table = supported_table()
    for name in SUPPORTED:
        assert f"| `{name}` |" in table
    assert "`numDigits`" in table and "`waitUrl`" in table


def test_get_json_reads_the_app_api() -> None:
    app: Flask = twiml_app({"/voice": say("Hi")})
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE)
    assert sim.get_json("/api/now")["hits"] == 1


def test_a_dial_in_a_whisper_is_refused() -> None:
    routes = _whisper_routes()
    routes["/whisper"] = twiml(lambda r: r.dial(OTHER))
    with pytest.raises(UnsupportedTwiML, match="<Dial> is not supported in a <Number url> whisper"):
        place(routes, callees={SELLER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=1)]})
