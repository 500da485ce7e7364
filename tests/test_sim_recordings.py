"""<Record> as Twilio's page documents it: a caller who hangs up still has the recording posted
(Digits=hangup), maxLength is 120 s when transcribing, and a key ends a recording."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.sim.model import CallEnd, CallerInput, InputKind
from tests.sim_apps import Route, say
from tests.test_sim_engine import ScriptCaller, at, hit, place, twiml

SPOKEN = "please call me back"


def _voicemail(**record: Any) -> dict[str, Route]:
    return {
        # "Leave a message" lasts 1.2 s: the recording starts then.
        "/voice": twiml(
            lambda r: (r.say("Leave a message"), r.record(action="/recorded", **record))
        ),
        "/recorded": say("Thanks for your message"),
        "/transcribed": say("ignored"),
    }


def _recording(seconds: float, **answer: Any) -> CallerInput:
    return CallerInput(InputKind.RECORDING, duration=seconds, speech=SPOKEN, **answer)


@pytest.mark.parametrize(
    ("record", "seconds", "duration"),
    [
        ({"transcribe": True}, 200, "120"),  # Twilio: 120 s for a transcribed recording
        ({}, 200, "200"),  # otherwise an hour
        ({"transcribe": True, "max_length": 300}, 200, "200"),
        ({"transcribe": False}, 4000, "3600"),
    ],
)
def test_max_length_defaults_to_two_minutes_when_transcribing(
    record: dict[str, Any], seconds: float, duration: str
) -> None:
    result, hits = place(_voicemail(**record), _recording(seconds), max_duration=7200)

    assert hit(hits, "/recorded").params["RecordingDuration"] == duration
    cut = float(duration) < seconds
    assert result.events("record")[0].detail.get("ended") == ("maxLength" if cut else None)


def test_the_transcribe_default_is_told_to_the_caller() -> None:
    caller = ScriptCaller([_recording(10)])
    place(_voicemail(transcribe=True), caller=caller)

    assert caller.prompts[0].max_length == 120


def test_a_caller_who_hangs_up_while_recording_still_has_it_posted() -> None:
    routes = _voicemail(transcribe=True, transcribe_callback="/transcribed")
    # Speaks from 2.2 s (one second after the beep) and hangs up at 10 s, mid-message.
    caller = ScriptCaller([_recording(30)], hang_up_at=10)

    result, hits = place(routes, caller=caller)

    posted = hit(hits, "/recorded")
    assert posted.now == at(10)
    assert {k: posted.params[k] for k in ("Digits", "CallStatus", "RecordingDuration")} == {
        "Digits": "hangup",
        "CallStatus": "completed",
        "RecordingDuration": "8",
    }
    assert hit(hits, "/transcribed").params["RecordingSid"] == posted.params["RecordingSid"]
    assert result.ended is CallEnd.CALLER_HANGUP
    assert "Thanks for your message" not in result.heard()  # the call is over: answer ignored
    assert result.events("record")[0].detail == {"seconds": "7.8", "ended": "hangup"}


def test_a_caller_who_hangs_up_when_done_speaking_skips_the_silence() -> None:
    result, hits = place(_voicemail(), _recording(12, hangs_up=True))

    posted = hit(hits, "/recorded")
    assert (posted.now, posted.params["Digits"], posted.params["RecordingDuration"]) == (
        at(1.2 + 1 + 12),
        "hangup",
        "12",
    )
    assert (result.ended, result.reason) == (
        CallEnd.CALLER_HANGUP,
        "the caller hung up at the end of a <Record>",
    )


def test_a_hang_up_before_a_word_is_recorded_posts_nothing() -> None:
    # The caller waits a second after the beep; gone at 1.8 s, the recording is empty, and Twilio
    # does not post an empty recording.
    result, hits = place(_voicemail(), caller=ScriptCaller([_recording(10)], hang_up_at=1.8))

    assert [h.path for h in hits] == ["/voice"]
    assert result.ended is CallEnd.CALLER_HANGUP


@pytest.mark.parametrize(
    ("finish", "key", "digits", "posted_at"),
    [
        ("#", "#", "#", 1.2 + 1 + 6),  # the key ends it at once
        ("*#", "*", "*", 1.2 + 1 + 6),
        ("*", "#", None, 1.2 + 1 + 6 + 5),  # a key it does not finish on: silence ends it
    ],
)
def test_a_key_ends_the_recording(
    finish: str, key: str, digits: str | None, posted_at: float
) -> None:
    result, hits = place(_voicemail(finish_on_key=finish), _recording(6, digits=key))

    posted = hit(hits, "/recorded")
    assert (posted.params.get("Digits"), posted.now) == (digits, at(posted_at))
    assert result.events("record")[0].detail.get("ended") == digits
