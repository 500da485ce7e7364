"""Waiting in a queue as Twilio's <Enqueue> page documents it: multi-document wait flows, a
silent or audio waitUrl, and TaskRouter's workflowSid with a <Task>."""

from __future__ import annotations

import pytest
from flask import Flask, Response
from twilio.twiml.voice_response import Enqueue, VoiceResponse

from hotline.sim.engine.simulator import CallResult, Simulator
from hotline.sim.engine.transport import WSGITransport
from hotline.sim.model import CallEnd, QueueBehaviour
from tests.sim_apps import AUTH_TOKEN, Route, say
from tests.test_sim_engine import AT, BUYER, HOTLINE, SILENCE, ScriptCaller, at, hit, place, twiml

WORKFLOW = "WW0123456789abcdef0123456789abcdef"


def _queue(wait_url: str | None, **enqueue: str) -> dict[str, Route]:
    def voice(r: VoiceResponse) -> None:
        r.enqueue("support", wait_url=wait_url, action="/left", **enqueue)

    return {"/voice": twiml(voice), "/left": say("Thanks for waiting")}


def test_a_redirect_in_wait_twiml_keeps_the_caller_in_the_queue() -> None:
    routes = _queue("/wait")
    routes["/wait"] = twiml(lambda r: (r.say("Please hold"), r.redirect("/wait/more")))
    routes["/wait/more"] = twiml(lambda r: r.pause(length=6))
    queues = {"support": QueueBehaviour(agent_after=20, talk=5)}

    result, hits = place(routes, queues=queues)

    paths = [h.path for h in hits]
    assert paths == ["/voice", *["/wait", "/wait/more"] * 3, "/left"]  # 6.8 s a round
    assert [h.params["QueueTime"] for h in hits if h.path == "/wait"] == ["0", "6", "13"]
    # Twilio documents the queue's parameters for the waitUrl request only.
    assert "QueueTime" not in hit(hits, "/wait/more").params
    left = hit(hits, "/left")
    assert (left.params["QueueResult"], left.params["QueueTime"], left.now) == (
        "bridged",
        "20",
        at(25),
    )
    assert [(v.result, v.seconds) for v in result.queues] == [("bridged", 20)]


def test_leave_in_a_redirected_wait_document_still_leaves() -> None:
    routes = _queue("/wait")
    routes["/wait"] = twiml(lambda r: r.redirect("/wait/out"))
    routes["/wait/out"] = twiml(lambda r: (r.say("Goodbye from the queue"), r.leave()))

    result, hits = place(routes)

    assert hit(hits, "/left").params["QueueResult"] == "leave"
    assert result.heard() == ["Goodbye from the queue", "Thanks for waiting"]


def test_an_empty_wait_url_plays_nothing_and_requests_nothing() -> None:
    queues = {"support": QueueBehaviour(agent_after=12, talk=3)}
    result, hits = place(_queue(""), queues=queues)

    assert [h.path for h in hits] == ["/voice", "/left"]
    assert [e.text for e in result.events("play")] == ["[silence]"] * 3
    assert hit(hits, "/left").now == at(15)


def test_a_caller_may_hang_up_in_the_silence() -> None:
    result, hits = place(_queue(""), caller=ScriptCaller(hang_up_on="[silence]"))

    assert hit(hits, "/left").params["QueueResult"] == "hangup"
    assert (result.ended, result.duration) == (CallEnd.CALLER_HANGUP, 2.5)


def _audio_app(content_type: str) -> Flask:
    app = Flask("audio_wait")

    @app.post("/voice")
    def voice() -> Response:
        response = VoiceResponse()
        response.enqueue("support", wait_url="/hold.wav", wait_url_method="GET")
        response.say("Back from the queue")
        return Response(str(response), mimetype="application/xml")

    @app.get("/hold.wav")
    def hold() -> Response:
        return Response(b"RIFF....WAVE", headers={"Content-Type": content_type})

    return app


def _call_audio_app(content_type: str, queues: dict[str, QueueBehaviour]) -> CallResult:
    sim = Simulator(WSGITransport(_audio_app(content_type)), AUTH_TOKEN)
    return sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE, queues=queues)


@pytest.mark.parametrize(
    "content_type", ["audio/mpeg", "audio/x-wav", "audio/wav; charset=binary", "AUDIO/ULAW"]
)
def test_a_wait_url_answering_audio_is_played_and_requested_again(content_type: str) -> None:
    queues = {"support": QueueBehaviour(agent_after=12, talk=3)}
    result = _call_audio_app(content_type, queues)

    plays = result.events("play")
    assert [e.text for e in plays] == ["http://localhost/hold.wav"] * 3
    assert plays[-1].detail["interrupted"] == "2"
    requests = [e for e in result.events("webhook") if "/hold.wav" in e.url]
    assert [e.text for e in requests] == ["GET 200"] * 3
    assert result.heard() == ["Back from the queue"]


def test_a_wait_url_answering_other_content_is_not_twiml() -> None:
    result = _call_audio_app("video/mp4", {})

    assert result.ended is CallEnd.FAILED
    assert "did not answer XML" in str(result.error)


def _taskrouter(task: str | None, name: str | None = None, **attrs: str) -> dict[str, Route]:
    def voice(r: VoiceResponse) -> None:
        enqueue = Enqueue(name, workflow_sid=WORKFLOW, action="/left")
        if task is not None:
            enqueue.task(task, **attrs)
        r.append(enqueue)

    return {"/voice": twiml(voice), "/left": say("Thanks for waiting")}


def test_a_taskrouter_call_waits_in_the_queue_named_after_the_workflow() -> None:
    queues = {WORKFLOW: QueueBehaviour(agent_after=15, talk=10)}
    routes = _taskrouter('{"selected_product": "router"}', priority="5", timeout="200")

    result, hits = place(routes, queues=queues)

    (entered,) = result.events("enqueue")
    assert entered.text == WORKFLOW
    assert entered.detail["workflowSid"] == WORKFLOW
    assert entered.detail["task"] == '{"selected_product": "router"}'
    assert result.entered_queues() == [WORKFLOW]
    assert result.bridged == (f"queue:{WORKFLOW}",)
    left = hit(hits, "/left").params
    assert (left["QueueResult"], left["QueueTime"]) == ("bridged", "15")
    assert not result.events("default")  # the script answered the workflow's queue


def test_a_queue_name_next_to_a_workflow_is_not_where_taskrouter_waits() -> None:
    result, _ = place(_taskrouter(None, name="sales"), SILENCE)

    assert result.entered_queues() == [WORKFLOW]


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        (_taskrouter("account 12345"), "<Task> is not a JSON object: 'account 12345'"),
        (_taskrouter("[1, 2]"), "<Task> is not a JSON object"),
        (_taskrouter("{}", priority="high"), "<Task priority='high'> is not a number"),
        (
            {"/voice": twiml(lambda r: r.append(Enqueue()))},
            "<Enqueue> without a queue name or workflowSid",
        ),
    ],
)
def test_taskrouter_twiml_twilio_would_refuse_fails_the_call(
    routes: dict[str, Route], message: str
) -> None:
    result, _ = place(routes)

    assert result.ended is CallEnd.FAILED
    assert message in str(result.error)
