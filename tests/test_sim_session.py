"""Several calls on one virtual clock: a queued caller and the agent who dials the queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from twilio.twiml.voice_response import Dial, VoiceResponse

from hotline.sim.engine.simulator import Simulator
from hotline.sim.engine.transport import WSGITransport
from hotline.sim.model import CallEnd, Who
from tests.sim_apps import AUTH_TOKEN, Route, hits_of, twiml_app
from tests.test_sim_engine import ScriptCaller, twiml

AT = datetime(2001, 3, 5, 10, 0, 0)
BUYER = "+48601100200"
AGENT = "+48601999000"
HOTLINE = "+48221000000"


def _queue_routes() -> dict[str, Route]:
    def agent(r: VoiceResponse) -> None:
        dial = Dial(action="/agent-done", timeout=40)
        dial.queue("support", url="/announce")
        r.append(dial)

    return {
        "/voice": twiml(lambda r: r.enqueue("support", wait_url="/wait", action="/queue-done")),
        "/wait": twiml(lambda r: r.say("Please wait for the next agent.")),
        "/announce": twiml(lambda r: r.say("An agent is taking your call.")),
        "/queue-done": twiml(lambda r: r.say("Thank you for waiting.")),
        "/agent": twiml(agent),
        "/agent-done": twiml(lambda r: r.say("Call over.")),
    }


def test_an_agents_dial_queue_takes_the_waiting_caller_and_both_talk() -> None:
    app = twiml_app(_queue_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    buyer = ScriptCaller(hang_up_at=100.0)  # seconds into the buyer's call
    agent = ScriptCaller()
    buyer_sid = session.place_call(buyer, BUYER, HOTLINE)
    agent_sid = session.place_call(agent, AGENT, HOTLINE, after=30.0, voice_url="/agent")
    caller_result, agent_result = session.run()

    assert caller_result.call_sid == buyer_sid
    assert agent_result.call_sid == agent_sid
    assert caller_result.ended is CallEnd.CALLER_HANGUP
    assert caller_result.duration == 100.0
    # The caller heard the wait music until the agent dialled the queue 30 s in, then the
    # announcement, then talked to the agent until hanging up.
    heard = caller_result.heard()
    assert heard[0] == "Please wait for the next agent."
    assert "An agent is taking your call." in heard
    assert caller_result.queues[0].result == "bridged"
    assert caller_result.queues[0].seconds == 30.0
    assert caller_result.bridged == (AGENT,)
    # The agent's Dial ended when the caller hung up: 70 s of talk, posted to its action.
    posted = [h for h in hits_of(app) if h.path == "/agent-done"]
    assert len(posted) == 1
    assert posted[0].params["DialCallStatus"] == "completed"
    assert posted[0].params["DialCallSid"] == buyer_sid
    assert posted[0].params["DialCallDuration"] == "70"
    assert agent_result.heard() == ["Call over."]
    assert agent_result.bridged == ("queue:support",)
    # The Queue url was requested on the caller's call, naming the agent's call.
    announce = [h for h in hits_of(app) if h.path == "/announce"][0]
    assert announce.params["CallSid"] == buyer_sid
    assert announce.params["DequeingCallSid"] == agent_sid
    assert announce.params["QueueTime"] == "30"
    # The Enqueue action is posted when the caller hangs up: QueueResult bridged, 30 s waited.
    done = [h for h in hits_of(app) if h.path == "/queue-done"]
    assert [h.params["QueueResult"] for h in done] == ["bridged"]
    assert done[0].params["QueueTime"] == "30"
    caller_events = [(e.who, e.kind) for e in caller_result.transcript]
    assert (Who.TWILIO, "bridge") in caller_events


def test_an_agent_dialling_an_empty_queue_waits_for_the_next_caller() -> None:
    app = twiml_app(_queue_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    session.place_call(ScriptCaller(), AGENT, HOTLINE, voice_url="/agent")
    session.place_call(ScriptCaller(hang_up_at=20.0), BUYER, HOTLINE, after=10.0)
    agent_result, caller_result = session.run()
    posted = [h for h in hits_of(app) if h.path == "/agent-done"][0]
    assert posted.params["DialCallStatus"] == "completed"
    assert posted.params["DialCallDuration"] == "20"
    assert caller_result.queues[0].seconds == 0.0  # the agent was already waiting
    assert agent_result.heard() == ["Call over."]
    assert (caller_result.finished - AT).total_seconds() == 30.0  # joined at 10 s, hung up 20 s in


def test_an_agent_dialling_a_queue_nobody_joins_gets_no_answer_at_the_timeout() -> None:
    app = twiml_app(_queue_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    session.place_call(ScriptCaller(), AGENT, HOTLINE, voice_url="/agent")
    (agent_result,) = session.run()
    posted = [h for h in hits_of(app) if h.path == "/agent-done"][0]
    assert posted.params["DialCallStatus"] == "no-answer"
    assert agent_result.duration == 40.0 + 0.8  # the Dial timeout, then "Call over." (2 words)


def test_two_agents_never_take_the_same_caller() -> None:
    app = twiml_app(_queue_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    session.place_call(ScriptCaller(hang_up_at=60.0), BUYER, HOTLINE)
    session.place_call(ScriptCaller(), AGENT, HOTLINE, after=5.0, voice_url="/agent")
    session.place_call(ScriptCaller(), "+48601999001", HOTLINE, after=5.0, voice_url="/agent")
    _, first, second = session.run()
    statuses = sorted(h.params["DialCallStatus"] for h in hits_of(app) if h.path == "/agent-done")
    assert statuses == ["completed", "no-answer"]
    assert {first.bridged, second.bridged} == {("queue:support",), ()}


# -- the network as the REST API reaches it (rest.switchboard.Switchboard) --------------------

from hotline.sim.model import CalleeBehaviour, DialOutcome, QueueBehaviour  # noqa: E402
from hotline.sim.rest.switchboard import CallUpdate, OutboundCall, RestError  # noqa: E402


def _redirect_routes() -> dict[str, Route]:
    routes = _queue_routes()
    routes["/moved"] = twiml(lambda r: r.say("You were moved to the seller."))
    return routes


def test_a_rest_update_takes_a_queued_caller_to_new_twiml_at_that_second() -> None:
    app = twiml_app(_redirect_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    sid = session.place_call(ScriptCaller(), BUYER, HOTLINE)
    update = CallUpdate(url="http://localhost/moved")
    session.at(20.0, lambda: session.network.update_call(sid, update))
    (result,) = session.run()
    assert result.queues[0].result == "redirected"
    assert result.queues[0].seconds == 20.0
    done = [h for h in hits_of(app) if h.path == "/queue-done"]
    assert [h.params["QueueResult"] for h in done] == ["redirected"]
    moved = [h for h in hits_of(app) if h.path == "/moved"]
    assert len(moved) == 1
    assert moved[0].now == datetime(2001, 3, 5, 10, 0, 20)
    assert result.heard()[-1] == "You were moved to the seller."
    assert "Thank you for waiting." not in result.heard()  # the action's answer is ignored


def test_a_rest_update_with_inline_twiml_and_one_that_hangs_up() -> None:
    app = twiml_app(_redirect_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    first = session.place_call(ScriptCaller(), BUYER, HOTLINE)
    second = session.place_call(ScriptCaller(), "+48601100201", HOTLINE)
    inline = CallUpdate(twiml="<Response><Say>Goodbye from the REST API.</Say></Response>")
    session.at(10.0, lambda: session.network.update_call(first, inline))
    session.at(
        12.0, lambda: session.network.update_call(second, CallUpdate(status="completed")) and None
    )
    one, two = session.run()
    assert one.heard()[-1] == "Goodbye from the REST API."
    assert one.duration == 10.0 + 2.0  # five words
    assert two.ended is CallEnd.COMPLETED
    assert two.duration == 12.0
    assert "Status=completed" in two.reason


def test_rest_updates_of_unknown_or_finished_calls_are_refused() -> None:
    app = twiml_app(_redirect_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    sid = session.place_call(ScriptCaller(hang_up_at=5.0), BUYER, HOTLINE)
    session.run()
    errors = []
    for target in ("CA" + "0" * 32, sid):
        try:
            session.network.update_call(target, CallUpdate(url="http://localhost/moved"))
        except RestError as error:
            errors.append((error.status, error.code))
    assert errors == [(404, 20404), (400, 21220)]
    record = session.network.calls()[0]
    assert (record.sid, record.status, record.duration) == (sid, "completed", 5)


def test_a_queue_member_update_dequeues_the_caller_to_the_url() -> None:
    app = twiml_app(_redirect_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    session.place_call(ScriptCaller(), BUYER, HOTLINE)
    seen = []

    def dequeue_front() -> None:
        (queue,) = session.network.queues()
        seen.append([(m.position, m.wait_time) for m in session.network.members(queue.sid)])
        session.network.dequeue(queue.sid, "Front", "http://localhost/moved", "POST")

    session.at(15.0, dequeue_front)
    (result,) = session.run()
    assert seen == [[(1, 15)]]
    assert result.queues[0].result == "redirected"
    assert result.heard()[-1] == "You were moved to the seller."


def test_an_outbound_call_is_answered_by_the_scripted_callee() -> None:
    routes = _redirect_routes()
    routes["/outbound"] = twiml(lambda r: r.say("This is the hotline calling you back."))
    app = twiml_app(routes)
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    callees = {
        BUYER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=4.0, talk=30.0)],
        "+48601100299": [CalleeBehaviour(DialOutcome.BUSY, ring_seconds=2.0)],
    }
    session = sim.session(AT, callees=callees)
    created = []

    def call_back() -> None:
        for to in (BUYER, "+48601100299"):
            request = OutboundCall(
                to=to,
                from_=HOTLINE,
                url="http://localhost/outbound",
                status_callback="http://localhost/status",
                status_callback_event=("initiated", "ringing", "answered", "completed"),
            )
            created.append(session.network.create_call(request))

    session.at(60.0, call_back)
    session.run()
    assert [r.status for r in created] == ["queued", "queued"]
    answered, busy = session.outbound_results()
    assert answered.heard() == ["This is the hotline calling you back."]
    assert answered.started == datetime(2001, 3, 5, 10, 1, 0)
    outbound = [h for h in hits_of(app) if h.path == "/outbound"][0]
    assert outbound.params["Direction"] == "outbound-api"
    assert outbound.params["To"] == BUYER
    assert outbound.now == datetime(2001, 3, 5, 10, 1, 4)
    statuses = [
        (h.params["To"], h.params["CallStatus"]) for h in hits_of(app) if h.path == "/status"
    ]
    assert statuses == [
        (BUYER, "initiated"),
        (BUYER, "ringing"),
        ("+48601100299", "initiated"),
        ("+48601100299", "ringing"),
        ("+48601100299", "busy"),
        (BUYER, "in-progress"),
        (BUYER, "completed"),
    ]
    records = {r.to: r for r in session.network.calls()}
    assert records["+48601100299"].status == "busy"
    assert records[BUYER].status == "completed"


# -- conferences ------------------------------------------------------------------------------

from twilio.twiml.voice_response import Conference as ConferenceNoun  # noqa: E402

from hotline.sim.rest.switchboard import NewParticipant, ParticipantUpdate, Switchboard  # noqa: E402

SELLER = "+48600300400"


def _conference_routes(**buyer: Any) -> dict[str, Route]:
    def join(r: VoiceResponse, action: str, **attrs: Any) -> None:
        dial = Dial(action=action)
        dial.append(ConferenceNoun("room-1", **attrs))
        r.append(dial)

    return {
        "/voice": twiml(
            lambda r: join(
                r,
                "/after",
                wait_url="/conf-wait",
                status_callback="/conf-events",
                status_callback_event="start end join leave hold",
                participant_label="buyer",
                **buyer,
            )
        ),
        "/agent": twiml(lambda r: join(r, "/agent-after", end_conference_on_exit=True)),
        "/conf-wait": twiml(lambda r: r.say("Please hold, an agent will join you.")),
        "/hold": twiml(lambda r: r.say("You are on hold.")),
        "/after": twiml(lambda r: r.say("The conference is over. Goodbye.")),
        "/agent-after": twiml(lambda r: r.say("Agent done.")),
    }


def _who(params: dict[str, str]) -> str:
    return params.get("ParticipantLabel", params.get("CallSid", ""))[:5]


def _events(app: Flask) -> list[str]:
    return [
        f"{h.params['StatusCallbackEvent']}:{_who(h.params)}"
        for h in hits_of(app)
        if h.path == "/conf-events"
    ]


def test_a_conference_waits_for_a_second_participant_and_ends_when_the_moderator_leaves() -> None:
    app = twiml_app(_conference_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    buyer_sid = session.place_call(ScriptCaller(), BUYER, HOTLINE)
    agent_sid = session.place_call(
        ScriptCaller(hang_up_at=30.0), AGENT, HOTLINE, after=20.0, voice_url="/agent"
    )
    buyer, agent = session.run()
    # Alone in the room the buyer hears the waitUrl, over and over, until the agent joins at 20 s.
    heard = buyer.heard()
    assert heard[0] == "Please hold, an agent will join you."
    assert heard[-1] == "The conference is over. Goodbye."
    # The agent came with endConferenceOnExit: hanging up 30 s in (50 s) ends it for the buyer.
    after = [h for h in hits_of(app) if h.path == "/after"][0]
    assert after.now == datetime(2001, 3, 5, 10, 0, 50)
    assert after.params["DialCallStatus"] == "completed"
    assert after.params["DialCallDuration"] == "50"
    assert agent.ended is CallEnd.CALLER_HANGUP
    assert _events(app) == [
        "participant-join:buyer",
        f"participant-join:{agent_sid[:5]}",
        "conference-start:",
        f"participant-leave:{agent_sid[:5]}",
        "conference-end:",
        "participant-leave:buyer",
    ]
    end = [h for h in hits_of(app) if h.path == "/conf-events"][4]
    assert end.params["ReasonConferenceEnded"] == "participant-with-end-conference-on-exit-left"
    assert end.params["CallSidEndingConference"] == agent_sid
    records = session.network.conferences()
    assert [(r.friendly_name, r.status) for r in records] == [("room-1", "completed")]
    assert buyer_sid in {e.detail.get("CallSid") for e in buyer.transcript if e.detail}


def test_rest_holds_adds_and_ends_a_conference_at_the_given_seconds() -> None:
    app = twiml_app(_conference_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    callees = {SELLER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=3.0, talk=600.0)]}
    session = sim.session(AT, callees=callees)
    board: Switchboard = session.network  # the engine is the REST stand-in's switchboard
    buyer_sid = session.place_call(ScriptCaller(), BUYER, HOTLINE)
    seen: dict[str, object] = {}

    def room_sid() -> str:
        return board.conferences()[0].sid

    def add_seller() -> None:
        request = NewParticipant(to=SELLER, from_=HOTLINE, label="seller")
        seen["added"] = board.add_participant("room-1", request)

    def hold_buyer() -> None:
        hold = ParticipantUpdate(hold=True, hold_url="http://localhost/hold", hold_method="POST")
        board.update_participant(room_sid(), buyer_sid, hold)
        seen["held"] = [(p.label, p.hold) for p in board.participants(room_sid())]

    def unhold_buyer() -> None:
        board.update_participant(room_sid(), "buyer", ParticipantUpdate(hold=False))

    session.at(10.0, add_seller)
    session.at(30.0, hold_buyer)
    session.at(45.0, unhold_buyer)
    session.at(60.0, lambda: board.end_conference(room_sid()))
    (buyer,) = session.run()
    (seller,) = session.outbound_results()
    assert seen["held"] == [("buyer", True), ("seller", False)]
    assert buyer.heard().count("You are on hold.") >= 1
    hold_hits = [h for h in hits_of(app) if h.path == "/hold"]
    assert hold_hits[0].now == datetime(2001, 3, 5, 10, 0, 30)
    assert all(h.now < datetime(2001, 3, 5, 10, 0, 45) for h in hold_hits)
    assert buyer.heard()[-1] == "The conference is over. Goodbye."
    assert [h.now for h in hits_of(app) if h.path == "/after"] == [datetime(2001, 3, 5, 10, 1, 0)]
    assert seller.started == datetime(2001, 3, 5, 10, 0, 10)
    assert seller.finished == datetime(2001, 3, 5, 10, 1, 0)  # its TwiML ended with the room
    assert _events(app) == [
        "participant-join:buyer",
        "participant-join:selle",
        "conference-start:",
        "participant-hold:buyer",
        "participant-unhold:buyer",
        "conference-end:",
        "participant-leave:buyer",
        "participant-leave:selle",
    ]


# -- clients and SIP ----------------------------------------------------------------------------

from twilio.twiml.voice_response import Client as ClientNoun  # noqa: E402


def test_dial_rings_clients_and_sip_addresses_as_scripted_callees() -> None:
    def dial_all(r: VoiceResponse) -> None:
        dial = Dial(action="/dialled", timeout=20)
        client = ClientNoun(url="/whisper")
        client.identity("alice")
        client.parameter(name="order", value="1234567")
        dial.append(client)
        dial.sip("sip:desk@pbx.example.com")
        r.append(dial)

    routes = {
        "/voice": twiml(dial_all),
        "/whisper": twiml(lambda r: r.say("A buyer for you.")),
        "/dialled": twiml(lambda r: r.say("Done.")),
    }
    app = twiml_app(routes)
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    callees = {
        "client:alice": [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=4.0, talk=10.0)],
        "sip:desk@pbx.example.com": [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=2.0)],
    }
    sip_first = sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE, callees=callees)
    assert sip_first.bridged == ("sip:desk@pbx.example.com",)
    rings = {e.text: e.detail for e in sip_first.events("ring")}
    assert rings["client:alice"]["Parameter order"] == "1234567"
    callees["sip:desk@pbx.example.com"] = [CalleeBehaviour(DialOutcome.BUSY, ring_seconds=1.0)]
    client_next = sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE, callees=callees, seed="2")
    assert client_next.bridged == ("client:alice",)
    assert client_next.heard_by("client:alice") == ["A buyer for you."]
    whisper = [h for h in hits_of(app) if h.path == "/whisper"][0]
    assert whisper.params["To"] == "client:alice"
    assert whisper.params["Direction"] == "outbound-dial"


def test_a_call_from_a_client_carries_its_custom_parameters() -> None:
    app = twiml_app({"/voice": twiml(lambda r: r.say("Hello agent."))})
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    session.place_call(
        ScriptCaller(), "client:alice", "queue-support", params={"agent": "a1", "mode": "take"}
    )
    session.run()
    (voice,) = hits_of(app)
    assert voice.params["From"] == "client:alice"
    assert voice.params["Caller"] == "client:alice"
    assert (voice.params["agent"], voice.params["mode"]) == ("a1", "take")


def test_conference_beeps_silent_waits_announcements_mutes_and_removals() -> None:
    def join(r: VoiceResponse, **attrs: Any) -> None:
        dial = Dial(action="/after")
        dial.append(ConferenceNoun("room-2", **attrs))
        r.append(dial)

    routes = {
        "/voice": twiml(
            lambda r: join(
                r,
                wait_url="",
                beep="onEnter",
                status_callback="/conf-events",
                status_callback_event="join leave mute",
                participant_label="buyer",
            )
        ),
        "/agent": twiml(lambda r: join(r, muted=True, participant_label="agent")),
        "/news": twiml(lambda r: r.say("The shop closes at nine.")),
        "/after": twiml(lambda r: r.say("Bye.")),
    }
    app = twiml_app(routes)
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    board: Switchboard = sim.switchboard
    session.place_call(ScriptCaller(hang_up_at=60.0), BUYER, HOTLINE)
    session.place_call(ScriptCaller(), AGENT, HOTLINE, after=10.0, voice_url="/agent")
    seen: list[object] = []

    def announce() -> None:
        room = board.conferences()[0].sid
        seen.append([(p.label, p.muted) for p in board.participants(room)])
        board.announce_conference(room, "http://localhost/news", "POST")

    def unmute_then_remove() -> None:
        room = board.conferences()[0].sid
        board.update_participant(room, "agent", ParticipantUpdate(muted=False))
        board.remove_participant(room, "agent")

    session.at(20.0, announce)
    session.at(40.0, unmute_then_remove)
    buyer, agent = session.run()
    # waitUrl="" is silence: alone, the buyer hears nothing; then the agent's arrival and
    # departure (beep="true" by default). The buyer's own beep="onEnter" had nobody to reach.
    beeps = [(e.text, e.at) for e in buyer.events("play")]
    assert beeps == [
        ("[beep]", at) for at in (datetime(2001, 3, 5, 10, 0, 10), datetime(2001, 3, 5, 10, 0, 40))
    ]
    assert [e.text for e in agent.events("play")] == []
    assert buyer.heard()[:1] == ["The shop closes at nine."]
    assert agent.heard()[:1] == ["The shop closes at nine."]
    news = [h.now for h in hits_of(app) if h.path == "/news"]
    assert news == [datetime(2001, 3, 5, 10, 0, 20)] * 2
    assert seen == [[("buyer", False), ("agent", True)]]
    # Removing the agent hangs their call up at 40 s; the buyer stays until hanging up at 60 s.
    assert agent.ended is CallEnd.COMPLETED
    assert agent.finished == datetime(2001, 3, 5, 10, 0, 40)
    assert "removed from the conference" in agent.reason
    assert [h.params["StatusCallbackEvent"] for h in hits_of(app) if h.path == "/conf-events"] == [
        "participant-join",
        "participant-join",
        "participant-unmute",
        "participant-leave",
        "participant-leave",
    ]
    assert buyer.finished == datetime(2001, 3, 5, 10, 1, 0)


# -- two things happening to a call at the same virtual second --------------------------------


def test_a_caller_hung_up_through_rest_as_an_agent_dials_is_not_taken() -> None:
    app = twiml_app(_queue_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    buyer = session.place_call(ScriptCaller(), BUYER, HOTLINE)
    hang_up = CallUpdate(status="completed")
    session.at(20.0, lambda: session.network.update_call(buyer, hang_up) and None)
    session.place_call(ScriptCaller(), AGENT, HOTLINE, after=20.0, voice_url="/agent")
    buyer_result, agent_result = session.run()
    # The hang-up came first: the agent finds nobody waiting, the buyer never talks to them.
    assert buyer_result.duration == 20.0
    assert buyer_result.bridged == ()
    assert [v.result for v in buyer_result.queues] == ["hangup"]
    posted = [h for h in hits_of(app) if h.path == "/agent-done"]
    assert [h.params["DialCallStatus"] for h in posted] == ["no-answer"]
    assert agent_result.bridged == ()


def test_a_caller_dequeued_then_hung_up_at_the_same_second_frees_the_agent() -> None:
    app = twiml_app(_queue_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    buyer = session.place_call(ScriptCaller(), BUYER, HOTLINE)
    session.place_call(ScriptCaller(), AGENT, HOTLINE, after=20.0, voice_url="/agent")
    hang_up = CallUpdate(status="completed")
    session.at(20.0, lambda: session.network.update_call(buyer, hang_up) and None)
    buyer_result, agent_result = session.run()
    # The agent took the buyer first; the hang-up still ends the buyer's call, and the agent's
    # Dial with it (before, the hang-up was lost and the two talked until the max duration).
    assert buyer_result.duration == 20.0
    assert "Status=completed" in buyer_result.reason
    posted = [h for h in hits_of(app) if h.path == "/agent-done"]
    assert [(h.params["DialCallStatus"], h.params["DialCallDuration"]) for h in posted] == [
        ("completed", "0")
    ]
    assert agent_result.duration < 25.0


def test_a_call_created_through_rest_can_be_canceled_at_once() -> None:
    routes = _redirect_routes()
    routes["/outbound"] = twiml(lambda r: r.say("This is the hotline calling you back."))
    app = twiml_app(routes)
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    callees = {BUYER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=4.0, talk=30.0)]}
    session = sim.session(AT, callees=callees)
    seen = []

    def call_and_cancel() -> None:
        request = OutboundCall(to=BUYER, from_=HOTLINE, url="http://localhost/outbound")
        created = session.network.create_call(request)
        # Before: 400 / 21220 (the queued call had no turn yet, so it looked over).
        seen.append(session.network.update_call(created.sid, CallUpdate(status="canceled")))

    session.at(10.0, call_and_cancel)
    session.run()
    assert [r.status for r in seen] == ["queued"]
    (result,) = session.outbound_results()
    assert result.duration == 0.0
    assert session.network.calls()[0].status == "canceled"
    assert not [h for h in hits_of(app) if h.path == "/outbound"]


def test_a_call_placed_later_is_not_in_the_calls_resource_before_it_rings() -> None:
    app = twiml_app(_redirect_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    session.place_call(ScriptCaller(hang_up_at=5.0), BUYER, HOTLINE)
    later = session.place_call(ScriptCaller(hang_up_at=5.0), AGENT, HOTLINE, after=30.0)
    listed: list[list[str]] = []
    errors: list[tuple[int, int]] = []

    def look() -> None:
        listed.append([record.sid for record in session.network.calls()])
        try:
            session.network.update_call(later, CallUpdate(url="http://localhost/moved"))
        except RestError as error:
            errors.append((error.status, error.code))

    session.at(10.0, look)
    session.run()
    # Before: listed as ringing, created 20 s in the future, and refused as "not in-progress".
    assert len(listed[0]) == 1 and later not in listed[0]
    assert errors == [(404, 20404)]


def test_a_redirect_right_after_a_hang_up_is_refused() -> None:
    app = twiml_app(_redirect_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    sid = session.place_call(ScriptCaller(), BUYER, HOTLINE)
    errors: list[tuple[int, int]] = []

    def hang_up_then_move() -> None:
        session.network.update_call(sid, CallUpdate(status="completed"))
        try:
            session.network.update_call(sid, CallUpdate(url="http://localhost/moved"))
        except RestError as error:
            errors.append((error.status, error.code))

    session.at(10.0, hang_up_then_move)
    (result,) = session.run()
    # Before: the redirect replaced the hang-up, and the call went on to the new TwiML.
    assert errors == [(400, 21220)]
    assert result.duration == 10.0
    assert not [h for h in hits_of(app) if h.path == "/moved"]


def test_an_agent_moved_through_rest_mid_talk_posts_its_dial_action_and_frees_the_caller() -> None:
    app = twiml_app(_redirect_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    session.place_call(ScriptCaller(), BUYER, HOTLINE)
    agent = session.place_call(ScriptCaller(), AGENT, HOTLINE, after=30.0, voice_url="/agent")
    move = CallUpdate(url="http://localhost/moved")
    session.at(45.0, lambda: session.network.update_call(agent, move) and None)
    buyer_result, agent_result = session.run()
    # Twilio requests the Dial action when the call is moved to new TwiML (answer ignored).
    posted = [h for h in hits_of(app) if h.path == "/agent-done"]
    assert [(h.params["DialCallStatus"], h.params["DialCallDuration"]) for h in posted] == [
        ("completed", "15")
    ]
    assert posted[0].now == datetime(2001, 3, 5, 10, 0, 45)
    assert agent_result.heard() == ["You were moved to the seller."]
    # The caller's talk ended with the agent's move: its Enqueue action says bridged.
    assert buyer_result.queues[0].result == "bridged"
    assert buyer_result.heard()[-1] == "Thank you for waiting."


def test_a_caller_moved_through_rest_while_bridged_posts_redirected_from_bridged() -> None:
    app = twiml_app(_redirect_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    buyer = session.place_call(ScriptCaller(), BUYER, HOTLINE)
    session.place_call(ScriptCaller(), AGENT, HOTLINE, after=30.0, voice_url="/agent")
    move = CallUpdate(url="http://localhost/moved")
    session.at(50.0, lambda: session.network.update_call(buyer, move) and None)
    buyer_result, agent_result = session.run()
    # Twilio's QueueResult for a queued, then bridged call transferred out; before, the action
    # was never posted and the stay in the queue was not recorded.
    done = [h for h in hits_of(app) if h.path == "/queue-done"]
    assert [(h.params["QueueResult"], h.params["QueueTime"]) for h in done] == [
        ("redirected-from-bridged", "30")
    ]
    assert [v.result for v in buyer_result.queues] == ["redirected-from-bridged"]
    assert buyer_result.heard()[-1] == "You were moved to the seller."
    assert "Thank you for waiting." not in buyer_result.heard()
    posted = [h for h in hits_of(app) if h.path == "/agent-done"]
    assert [h.params["DialCallDuration"] for h in posted] == ["20"]
    assert agent_result.heard() == ["Call over."]


def test_the_calls_resource_times_and_durations_follow_twilios_call_resource() -> None:
    routes = _redirect_routes()
    routes["/outbound"] = twiml(lambda r: r.say("This is the hotline calling you back."))
    app = twiml_app(routes)
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    callees = {
        BUYER: [CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=4.0, talk=30.0)],
        "+48601100299": [CalleeBehaviour(DialOutcome.BUSY, ring_seconds=2.0)],
    }
    session = sim.session(AT, callees=callees)
    queued = []

    def call_back() -> None:
        for to in (BUYER, "+48601100299"):
            request = OutboundCall(to=to, from_=HOTLINE, url="http://localhost/outbound")
            queued.append(session.network.create_call(request))

    session.at(60.0, call_back)
    session.run()
    dialled = datetime(2001, 3, 5, 10, 1, 0)
    assert [(r.status, r.start_time) for r in queued] == [("queued", None), ("queued", None)]
    records = {r.to: r for r in session.network.calls()}
    answered, busy = records[BUYER], records["+48601100299"]
    # start_time: when it was dialled (before: when answered); duration: seconds connected.
    assert (answered.start_time, answered.duration) == (dialled, 3)  # 4 s ringing, 7 words
    assert answered.end_time == datetime(2001, 3, 5, 10, 1, 6, 800000)
    # "empty for busy, failed, unanswered": before, 0 s and an end_time.
    assert (busy.status, busy.start_time, busy.end_time, busy.duration) == (
        "busy",
        dialled,
        None,
        None,
    )


def test_the_wait_url_hears_the_callers_place_in_the_shared_queue() -> None:
    app = twiml_app(_queue_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    session = sim.session(AT)
    first = session.place_call(ScriptCaller(hang_up_at=30.0), BUYER, HOTLINE)
    second = session.place_call(ScriptCaller(hang_up_at=10.0), "+48601100201", HOTLINE, after=5.0)
    session.run()
    waits = [h.params for h in hits_of(app) if h.path == "/wait"]
    places = {(p["CallSid"], p["QueuePosition"], p["CurrentQueueSize"]) for p in waits}
    # Before: every caller was told position 1 of 1, whoever waited in front of them.
    assert (second, "2", "2") in places
    assert (first, "1", "1") in places


def test_a_scripted_queue_agent_bridge_posts_the_enqueue_action_when_the_caller_hangs_up() -> None:
    # Twilio requests the action "once the bridged parties disconnect", whoever hangs up first.
    app = twiml_app(_queue_routes())
    sim = Simulator(WSGITransport(app), AUTH_TOKEN)
    queues = {"support": QueueBehaviour(agent_after=10.0, talk=60.0)}
    result = sim.place_call(ScriptCaller(hang_up_at=30.0), AT, BUYER, HOTLINE, queues=queues)
    assert result.ended is CallEnd.CALLER_HANGUP
    done = [h for h in hits_of(app) if h.path == "/queue-done"]
    assert [(h.params["QueueResult"], h.params["CallStatus"]) for h in done] == [
        ("bridged", "completed")
    ]
    assert done[0].now == datetime(2001, 3, 5, 10, 0, 30)
