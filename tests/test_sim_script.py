"""Call scripts: parsing, errors that name the line, and the scripted caller's checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from hotline.sim.model import (
    CalleeBehaviour,
    CallEnd,
    DialOutcome,
    Event,
    InputKind,
    Prompt,
    QueueBehaviour,
    ScriptError,
    Who,
)
from hotline.sim.scripts.caller import ScriptedCaller
from hotline.sim.scripts.model import Hangup, Hear, Press, Record, Say, Silence
from hotline.sim.scripts.reader import load_script, parse_ring, parse_script

HEADER_TEXT = '[call]\nat = "2026-03-30T10:00:00+02:00"\nfrom = "+48601100200"\nto = "+4822"\n'
FULL = """\
[call]
name = "product question handed to the seller"
at = "2026-03-29T07:59:30+02:00"
from = "+48601100200"
to = "+48221000000"
config = "config.toml"

[dialled]
"+48600300400" = [
  { outcome = "no-answer", after = 20 },
  "answer:1",
]
"+48600999999" = "busy"

[[steps]]
hear = "press  1"
[[steps]]
press = 1
[[steps]]
hear_re = "seller|vendor"
[[steps]]
say = "is it compatible with my phone"
confidence = 0.3
[[steps]]
silence = true
[[steps]]
record = 4.5
transcription = "call me back"
[[steps]]
not_hear = "closed"
[[steps]]
hangup_after = 90

[expect]
ended = "caller-hangup"
bridged = "+48600300400"
queue = false
[[expect.api]]
get = "/api/threads"
contains = ["compatible", "+48600300400"]
lacks = "error"
"""


def test_a_full_script_parses_into_steps_rings_and_checks(tmp_path: Path) -> None:
    (call,) = parse_script(FULL, "full.toml", tmp_path)

    assert call.name == "product question handed to the seller"
    assert call.at == datetime(2026, 3, 29, 7, 59, 30, tzinfo=timezone(timedelta(hours=2)))
    assert (call.from_, call.to) == ("+48601100200", "+48221000000")
    assert call.config == tmp_path / "config.toml"
    assert call.dialled == {
        "+48600300400": (
            CalleeBehaviour(DialOutcome.NO_ANSWER, ring_seconds=20.0),
            CalleeBehaviour(DialOutcome.ANSWER, press="1"),
        ),
        "+48600999999": (CalleeBehaviour(DialOutcome.BUSY),),
    }
    kinds = [type(step) for step in call.steps]
    assert kinds == [Hear, Press, Hear, Say, Silence, Record, Hear, Hangup]
    assert [step.where.line for step in call.steps] == [16, 18, 20, 22, 25, 27, 30, 32]
    press, say, record, hangup = call.steps[1], call.steps[3], call.steps[5], call.steps[7]
    assert isinstance(press, Press) and press.digits == "1"
    assert isinstance(say, Say) and (say.words, say.confidence) == (
        "is it compatible with my phone",
        0.3,
    )
    assert isinstance(record, Record) and (record.seconds, record.transcription) == (
        4.5,
        "call me back",
    )
    assert isinstance(hangup, Hangup) and hangup.at == 90.0
    hear = call.steps[0]
    assert isinstance(hear, Hear) and hear.pattern.search("... PRESS 1 for products")
    assert call.expect.ended == "caller-hangup"
    assert call.expect.bridged == "+48600300400"
    assert call.expect.queue == ""
    (api,) = call.expect.api
    assert (api.path, api.contains, api.lacks, api.status) == (
        "/api/threads",
        ("compatible", "+48600300400"),
        ("error",),
        200,
    )
    assert api.where.line == 38


MULTI = """\
[defaults]
from = "+48601100200"
to = "+48221000000"
timezone = "Europe/Warsaw"

[defaults.dialled]
"+48600300400" = "answer:1"

[[calls]]
name = "just before opening"
at = 2026-03-29T07:59:59

[[calls.steps]]
hear = "closed"

[[calls]]
name = "seller busy"
at = "2026-03-30 10:00:00"
from = "+48700000000"
[calls.dialled]
"+48600300400" = { rings = ["busy"] }

[[calls.steps]]
press = "1"
[[calls.steps]]
hear = "not available"
"""


def test_several_named_calls_share_defaults() -> None:
    first, second = parse_script(MULTI, "multi.toml")

    assert first.name == "just before opening"
    assert first.at.isoformat() == "2026-03-29T07:59:59+02:00"
    assert first.from_ == "+48601100200"
    assert first.dialled == {"+48600300400": (CalleeBehaviour(DialOutcome.ANSWER, press="1"),)}
    assert [step.where.line for step in first.steps] == [14]
    assert second.at.isoformat() == "2026-03-30T10:00:00+02:00"
    assert second.from_ == "+48700000000"
    assert second.dialled == {"+48600300400": (CalleeBehaviour(DialOutcome.BUSY),)}
    assert [step.where.line for step in second.steps] == [24, 26]
    assert second.id == "multi.toml::seller busy"


def test_a_single_call_is_named_after_its_file(tmp_path: Path) -> None:
    path = tmp_path / "closed_at_night.toml"
    path.write_text('[call]\nat = "2026-03-30T22:00:00+02:00"\nfrom = "+481"\nto = "+482"\n')

    (call,) = load_script(path)

    assert call.name == "closed_at_night"
    assert call.steps == ()
    assert call.where.line == 1


HEADER = '[call]\nat = "2026-03-30T10:00:00+02:00"\nfrom = "+48601100200"\nto = "+48221000000"\n'


SPEAKING_SELLER = """\
[dialled]
"+48600300400" = [
  { outcome = "answer", say = "yes I'll take it", confidence = 0.9 },
  "answer:say=no thanks",
]
[queues]
warehouse = { full = true }
returns = { error = true }
[expect]
callee_heard = { "+48600300400" = "compatible", "+48600300500" = ["order", "1234567"] }
"""


def test_callee_speech_queue_refusals_and_callee_heard_parse() -> None:
    (call,) = parse_script(HEADER + SPEAKING_SELLER, "s.toml")

    assert call.dialled["+48600300400"] == (
        CalleeBehaviour(DialOutcome.ANSWER, say="yes I'll take it", confidence=0.9),
        CalleeBehaviour(DialOutcome.ANSWER, say="no thanks"),
    )
    assert call.queues == {
        "warehouse": QueueBehaviour(refuse="queue-full"),
        "returns": QueueBehaviour(refuse="system-error"),
    }
    assert [(c.number, c.texts, c.where.line) for c in call.expect.callee_heard] == [
        ("+48600300400", ("compatible",), 14),
        ("+48600300500", ("order", "1234567"), 14),
    ]


def test_barge_in_record_endings_and_whisper_hangups_parse() -> None:
    body = (
        '[dialled]\n"+48600300400" = { outcome = "answer", after = 3, hangup = true }\n'
        '[[steps]]\npress = "1"\nbarge_in = true\nafter = 2\n'
        '[[steps]]\nsay = "help"\nbarge_in = true\n'
        '[[steps]]\nrecord = 8\nend = "#"\n'
        "[[steps]]\nrecord = 4\nend = 9\n"
        '[[steps]]\nrecord = 5\nend = "hangup"\n'
        "[[steps]]\nrecord = 6\n"
    )
    (call,) = parse_script(HEADER + body, "s.toml")

    assert call.dialled["+48600300400"] == (
        CalleeBehaviour(DialOutcome.ANSWER, ring_seconds=3, hangs_up_in_whisper=True),
    )
    press, say, *records = call.steps
    assert (press, say) == (
        Press(press.where, "1", 2.0, barge_in=True),
        Say(say.where, "help", barge_in=True),
    )
    assert [(r.seconds, r.end) for r in records if isinstance(r, Record)] == [
        (8, "#"),
        (4, "9"),
        (5, "hangup"),
        (6, "silence"),
    ]
    assert [step.describe() for step in call.steps] == [
        "press '1' (barging in)",
        "say 'help' (barging in)",
        "record 8s, then press '#'",
        "record 4s, then press '9'",
        "record 5s, then hangup",
        "record 6s",
    ]


def test_call_parts_may_live_inside_the_call_table() -> None:
    inside = (
        HEADER
        + '[call.dialled]\n"+48600300400" = "answer:1"\n'
        + "[call.queues]\nwarehouse = { agent_after = 30 }\n"
        + '[[call.steps]]\nhear = "press 1"\n[[call.steps]]\npress = "1"\n'
        + '[call.expect]\nbridged = "+48600300400"\n'
    )
    top = inside.replace("[call.", "[").replace("[[call.", "[[")

    (nested,) = parse_script(inside, "inside.toml")
    (flat,) = parse_script(top, "top.toml")

    assert (
        nested.dialled
        == flat.dialled
        == {"+48600300400": (CalleeBehaviour(DialOutcome.ANSWER, press="1"),)}
    )
    assert nested.queues == flat.queues == {"warehouse": QueueBehaviour(agent_after=30.0)}
    assert [type(step) for step in nested.steps] == [Hear, Press]
    assert [step.where.line for step in nested.steps] == [10, 12]  # lines still named
    assert nested.expect.bridged == flat.expect.bridged == "+48600300400"
    assert nested.expect.places["bridged"].line == 14


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ('[[steps]]\nhear = "a"\n[[steps]]\nprss = "1"\n', 8, "unknown key 'prss' in a step"),
        ('[[steps]]\nhear = "a"\n[[steps]]\npress = "1x"\n', 8, "press: expected keys 0-9"),
        ('[[steps]]\nsay = "hi"\nconfidence = 3\n', 7, "confidence: expected 0.0 to 1.0"),
        ('[[steps]]\nhear = "a"\npress = "1"\n', 5, "exactly one of"),
        ('[[steps]]\nsilence = "yes"\n', 6, "silence: expected true"),
        ('[[steps]]\nhear_re = "(unclosed"\n', 6, "not a valid regular expression"),
        ('[[steps]]\nhear = "a"\nafter = 2\n', 7, "unknown key 'after' in a 'hear' step"),
        ('\n\n[expect]\nended = "hung"\n', 8, "ended: expected one of completed"),
        ('[expect]\n[[expect.api]]\ncontains = "x"\n', 6, "needs 'get'"),
        ('[expect]\n[[expect.api]]\nget = "api/threads"\n', 7, "starting with '/'"),
        (
            '[dialled]\n"+48600300400" = [\n  "answer",\n  "ring twice",\n]\n',
            8,
            "ring 'ring twice'",
        ),
        ('[dialled]\n"+486" = { outcome = "maybe" }\n', 6, "outcome: expected answer"),
        (
            '[dialled]\n"+486" = { outcome = "answer", press = "1", say = "yes" }\n',
            6,
            "presses keys or says words, not both",
        ),
        ('[dialled]\n"+486" = { outcome = "answer", confidence = 0.5 }\n', 6, "goes with say"),
        ('[dialled]\n"+486" = "answer:say="\n', 6, "answer:say=WORDS"),
        (
            '[dialled]\n"+486" = { outcome = "answer", hangup = true, press = "1" }\n',
            6,
            "hangs up in the whisper neither presses nor says",
        ),
        ('[dialled]\n"+486" = { outcome = "busy", hangup = true }\n', 6, "goes with outcome"),
        ('[dialled]\n"+486" = { outcome = "answer", hangup = 2 }\n', 6, "hangup: expected true"),
        ('[[steps]]\npress = "1"\nbarge_in = "yes"\n', 7, "barge_in: expected true"),
        ("[[steps]]\nsilence = true\nbarge_in = true\n", 7, "unknown key 'barge_in' in a 'si"),
        ('[[steps]]\nrecord = 5\nend = "##"\n', 7, 'end: expected "silence", "hangup" or one'),
        ('[[steps]]\nrecord = 5\nend = "hang up"\n', 7, "end: expected"),
        ('[[steps]]\npress = "1"\nend = "#"\n', 7, "unknown key 'end' in a 'press' step"),
        ("[queues]\nwarehouse = { full = 1 }\n", 6, "full: expected true"),
        ("[queues]\nwarehouse = { full = true, error = true }\n", 6, "not both"),
        ("[queues]\nwarehouse = { error = true, agent_after = 5 }\n", 6, "no agent_after"),
        ("[expect]\ncallee_heard = 3\n", 6, "callee_heard must be a table"),
        ('[expect]\ncallee_heard = { "+486" = [] }\n', 6, "give a text or a list"),
        ('[dialled]\n"+486" = "busy"\n[call.dialled]\n"+487" = "busy"\n', 7, "keep one"),
        ("steps = 3\n", 5, "'steps' must be a list"),
        ("spets = 3\n", 5, "unknown key 'spets' in [call]"),
        ("[[steps]]\npress = \n", 6, "not valid TOML"),
    ],
)
def test_script_errors_name_the_file_and_line(body: str, line: int, message: str) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_script(HEADER + body, "calls/bad.toml")

    text = str(caught.value)
    assert text.startswith(f"calls/bad.toml:{line}: "), text
    assert message in text


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[call]\nfrom = "+481"\nto = "+482"\n', 1, "missing 'at'"),
        ('[call]\nfrom = "+481"\nto = "+482"\nat = "tomorrow at 8"\n', 4, "at: expected a time"),
        ('[call]\nfrom = "+481"\nto = "+482"\nat = 2026-03-30T08:00:00\n', 4, "give an offset"),
        ('[call]\nat = 2026-03-30T08:00:00+02:00\nto = "+482"\n', 1, "missing 'from'"),
        ('[call]\nat = 2026-03-30\nfrom = "+481"\nto = "+482"\n', 2, "expected a date and time"),
        ('\n[call]\nat = "2026-03-30T08:00:00"\ntimezone = "Mars/Base"\n', 4, "unknown time zone"),
        ("[call]\nspeed = 2\n", 2, "unknown key 'speed' in [call]"),
        ("colour = 3\n[call]\n", 1, "unknown key 'colour' at the top of the script"),
        ("steps = 3\n" + HEADER, 1, "'steps' must be a list"),
        ('[[steps]]\nhear = "x"\n', 1, "needs a [call] table"),
        (
            '[[calls]]\nname = "a"\nat = 2026-03-30T08:00:00Z\nfrom = "1"\nto = "2"\n'
            '[[calls]]\nname = "a"\nat = 2026-03-30T08:00:00Z\nfrom = "1"\nto = "2"\n',
            7,
            "two calls are named 'a'",
        ),
        (
            '[[calls]]\nname = "a"\nat = 2026-03-30T08:00:00Z\nfrom = "1"\nto = "2"\n'
            '[[calls]]\nname = "b"\nat = 2026-03-30T08:00:00Z\nfrom = "1"\nto = "2"\n'
            '[[calls.steps]]\nhear = "x"\n[[calls.steps]]\npress = "x"\n',
            14,
            "press: expected keys",
        ),
        ('[[calls]]\nat = 2026-03-30T08:00:00Z\nfrom = "1"\nto = "2"\n', 1, "needs a name"),
        (
            '[dialled]\n"+486" = "busy"\n[[calls]]\nname = "a"\n',
            1,
            "[dialled] at the top of a file with [[calls]]: write [calls.dialled] under a call,"
            " or [defaults.dialled] for every call",
        ),
        (
            '[[steps]]\nhear = "x"\n[[calls]]\nname = "a"\n',
            1,
            "write [[calls.steps]] under a call",
        ),
        (
            HEADER_TEXT + '[[steps]]\nhear = "x"\n[[call.steps]]\nhear = "y"\n',
            7,
            "[[steps]] and [[call.steps]] are the same part of the call: keep one",
        ),
        ('[defaults]\nat = "x"\n[[calls]]\nname = "a"\nfrom = "1"\nto = "2"\n', 2, "at: expected"),
        (
            HEADER_TEXT + 'fallback_url = "voice/fallback"\n',
            5,
            'fallback_url: expected a path like "/voice/fallback", an http(s):// URL or false',
        ),
        (HEADER_TEXT + "fallback_url = true\n", 5, "fallback_url: expected a path"),
        (
            HEADER_TEXT + 'voice_url = "https://x.example.com/voice"\n',
            5,
            "voice_url: expected a path like \"/voice\", got 'https://x.example.com/voice'",
        ),
        (
            HEADER_TEXT + 'needs = ["a quiet room"]\n',
            5,
            "needs: unknown need 'a quiet room' (expected: virtual-time, empty-database,"
            " scheduled-work)",
        ),
        (HEADER_TEXT + "needs = 3\n", 5, "needs: expected a non-empty text"),
        (
            '[defaults]\nneeds = "time"\n[[calls]]\nname = "a"\nat = 2026-03-30T08:00:00Z\n'
            'from = "1"\nto = "2"\n',
            2,
            "needs: unknown need",
        ),
    ],
)
def test_call_header_errors_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_script(text, "c.toml")

    assert str(caught.value).startswith(f"c.toml:{line}: "), str(caught.value)
    assert message in str(caught.value)


def test_fallback_url_and_needs_parse_with_defaults() -> None:
    text = (
        '[defaults]\nfrom = "1"\nto = "2"\nat = 2026-03-30T08:00:00Z\n'
        'fallback_url = "/voice/fallback"\nneeds = "virtual-time"\n'
        '[[calls]]\nname = "a"\n'
        '[[calls]]\nname = "b"\nfallback_url = false\nneeds = ["empty-database", "virtual-time"]\n'
        '[[calls]]\nname = "c"\nfallback_url = "https://backup.example.com/twiml"\nneeds = []\n'
    )
    a, b, c = parse_script(text, "c.toml")
    assert (a.fallback_url, a.needs) == ("/voice/fallback", {"virtual-time"})
    assert (b.fallback_url, b.needs) == ("", {"empty-database", "virtual-time"})
    assert (c.fallback_url, c.needs) == ("https://backup.example.com/twiml", frozenset())
    (plain,) = parse_script(HEADER_TEXT, "d.toml")
    assert (plain.fallback_url, plain.needs) == (None, frozenset())


def test_voice_url_parses_with_defaults() -> None:
    text = (
        '[defaults]\nfrom = "1"\nto = "2"\nat = 2026-03-30T08:00:00Z\nvoice_url = "/old"\n'
        '[[calls]]\nname = "a"\n'
        '[[calls]]\nname = "b"\nvoice_url = "/voice"\n'
    )
    a, b = parse_script(text, "c.toml")
    assert (a.voice_url, b.voice_url) == ("/old", "/voice")
    (plain,) = parse_script(HEADER_TEXT, "d.toml")
    assert plain.voice_url is None


def test_an_unreadable_script_is_a_script_error(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="missing.toml: cannot read the script"):
        load_script(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("text", "behaviour"),
    [
        ("answer", CalleeBehaviour(DialOutcome.ANSWER)),
        ("answer:1", CalleeBehaviour(DialOutcome.ANSWER, press="1")),
        (
            "answer:say=yes I'll take it",
            CalleeBehaviour(DialOutcome.ANSWER, say="yes I'll take it"),
        ),
        ("no-answer", CalleeBehaviour(DialOutcome.NO_ANSWER)),
        ("no-answer:20", CalleeBehaviour(DialOutcome.NO_ANSWER, ring_seconds=20.0)),
        ("busy", CalleeBehaviour(DialOutcome.BUSY)),
        (" failed ", CalleeBehaviour(DialOutcome.FAILED)),
        ("answer:hangup", CalleeBehaviour(DialOutcome.ANSWER, hangs_up_in_whisper=True)),
    ],
)
def test_ring_shorthand(text: str, behaviour: CalleeBehaviour) -> None:
    assert parse_ring(text) == behaviour


@pytest.mark.parametrize(
    "text",
    [
        "pick up",
        "busy:3",
        "answer:x",
        "no-answer:-1",
        "no-answer:soon",
        "answer:say=",
        "busy:say=x",
        "busy:hangup",
    ],
)
def test_bad_ring_shorthand_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="expected answer"):
        parse_ring(text)


# --- the scripted caller, fed by hand the way the engine feeds it ---------------------------------

START = datetime(2026, 3, 30, 10, 0, tzinfo=timezone(timedelta(hours=2)))
MENU = Prompt("Gather", frozenset({"dtmf", "speech"}), ())


def _caller(steps: str) -> ScriptedCaller:
    (call,) = parse_script(HEADER + steps, "s.toml")
    return ScriptedCaller(call)


def _app_says(caller: ScriptedCaller, text: str, second: float = 1.0) -> None:
    caller.hear(Event(START + timedelta(seconds=second), Who.APP, "say", text))


def _caller_acts(caller: ScriptedCaller, kind: str, second: float = 2.0) -> None:
    caller.hear(Event(START + timedelta(seconds=second), Who.CALLER, kind, "1"))


def test_hear_steps_are_checked_against_the_prompt_the_action_answers() -> None:
    caller = _caller('[[steps]]\nhear = "press 1"\n[[steps]]\npress = "1"\n')

    answer = caller.respond(MENU)
    _app_says(caller, "Welcome. For a product question, press 1.")
    _caller_acts(caller, "press")
    caller.finish(CallEnd.COMPLETED)

    assert (answer.kind, answer.digits) == (InputKind.DIGITS, "1")
    assert caller.failure is None


def test_a_wrong_prompt_fails_at_the_hear_step_with_what_was_heard() -> None:
    caller = _caller('[[steps]]\nhear = "press 9"\n[[steps]]\npress = "1"\n')

    caller.respond(MENU)
    _app_says(caller, "Welcome.  For a product question,")
    _app_says(caller, "press 1.")
    _caller_acts(caller, "press")

    assert caller.failure is not None
    assert str(caller.failure) == (
        "s.toml:6: expected to hear 'press 9', heard: 'Welcome. For a product question, press 1.'"
    )
    assert caller.hangs_up_during("anything", 3.0) is True
    assert caller.respond(MENU).kind is InputKind.HANGUP


def test_not_hear_fails_when_the_words_were_said() -> None:
    caller = _caller('[[steps]]\nnot_hear = "closed"\n')

    _app_says(caller, "We are CLOSED now.")
    caller.finish(CallEnd.COMPLETED)

    assert caller.failure is not None
    assert (
        caller.failure.message == "expected not to hear 'closed', but heard: 'We are CLOSED now.'"
    )


def test_the_app_hanging_up_before_an_action_fails_at_that_step() -> None:
    caller = _caller('[[steps]]\nhear = "closed"\n[[steps]]\npress = "1"\n')

    _app_says(caller, "We are closed. Goodbye.")
    caller.finish(CallEnd.COMPLETED)

    assert caller.failure is not None
    assert str(caller.failure) == "s.toml:8: the app ended the call before this step: press '1'"


def test_the_script_ending_while_the_app_prompts_hangs_up_without_failing() -> None:
    caller = _caller('[[steps]]\nhear = "welcome"\n')

    answer = caller.respond(MENU)
    _app_says(caller, "Welcome.")
    caller.finish(CallEnd.CALLER_HANGUP)

    assert answer.kind is InputKind.HANGUP
    assert caller.failure is None


def test_pressing_at_a_speech_only_prompt_is_a_script_failure() -> None:
    caller = _caller('[[steps]]\npress = "1"\n')

    answer = caller.respond(Prompt("Gather", frozenset({"speech"}), ()))

    assert answer.kind is InputKind.HANGUP
    assert caller.failure is not None
    assert caller.failure.message == "cannot press '1': the app's <Gather> listens for speech only"


def test_say_gives_speech_with_the_scripted_confidence() -> None:
    caller = _caller('[[steps]]\nsay = "where is my parcel"\nconfidence = 0.2\nafter = 3\n')

    answer = caller.respond(MENU)

    assert (answer.kind, answer.speech, answer.confidence, answer.after) == (
        InputKind.SPEECH,
        "where is my parcel",
        0.2,
        3.0,
    )


def test_barge_in_and_record_endings_reach_the_engine() -> None:
    caller = _caller(
        '[[steps]]\npress = "1"\nbarge_in = true\nafter = 2\n'
        '[[steps]]\nrecord = 8\nend = "#"\n'
        '[[steps]]\nrecord = 5\nend = "hangup"\ntranscription = "bye"\n'
    )
    recording = Prompt("Record", frozenset({"record"}), ())

    pressed = caller.respond(MENU)
    caller.hear(Event(START, Who.CALLER, "press", "1"))
    keyed = caller.respond(recording)
    caller.hear(Event(START, Who.CALLER, "record", ""))
    hung_up = caller.respond(recording)

    assert (pressed.digits, pressed.after, pressed.barge_in) == ("1", 2.0, True)
    assert (keyed.kind, keyed.duration, keyed.digits, keyed.hangs_up) == (
        InputKind.RECORDING,
        8.0,
        "#",
        False,
    )
    assert (hung_up.duration, hung_up.digits, hung_up.hangs_up, hung_up.speech) == (
        5.0,
        "",
        True,
        "bye",
    )


def test_hangup_waits_for_what_comes_before_it() -> None:
    caller = _caller('[[steps]]\nhear = "number is"\n[[steps]]\nhangup = true\n')

    first = caller.hangs_up_during("Your seller's number is 600 300 400.", 5.0)
    _app_says(caller, "Your seller's number is 600 300 400.")
    second = caller.hangs_up_during("Goodbye.", 9.0)
    caller.finish(CallEnd.CALLER_HANGUP)

    assert (first, second) == (False, True)
    assert caller.failure is None


def test_hangup_after_seconds_gives_the_engine_its_moment() -> None:
    caller = _caller("[[steps]]\nhangup_after = 60\n")

    assert caller.hangs_up_at() == 60.0
    assert caller.hangs_up_during("[hold music]", 60.0) is False  # the engine hangs up, not this
    caller.hear(Event(START + timedelta(seconds=60), Who.CALLER, "hangup", "at 60 s"))
    caller.finish(CallEnd.CALLER_HANGUP)

    assert caller.failure is None
    assert caller.hangs_up_at() is None  # the step is done


def test_hangup_after_waits_for_the_steps_before_it() -> None:
    caller = _caller('[[steps]]\npress = "2"\n[[steps]]\nhangup_after = 30\n')

    before = caller.hangs_up_at()
    caller.respond(MENU)
    while_pressing = caller.hangs_up_at()
    _caller_acts(caller, "press")
    after_press = caller.hangs_up_at()

    assert (before, while_pressing, after_press) == (None, None, 30.0)


def test_a_prompt_before_hangup_after_is_met_with_silence() -> None:
    caller = _caller("[[steps]]\nhangup_after = 30\n")

    first = caller.respond(MENU)
    _caller_acts(caller, "silence")  # the prompt timed out before the moment
    second = caller.respond(Prompt("Record", frozenset({"record"}), ()))

    assert (first.kind, second.kind) == (InputKind.SILENCE, InputKind.SILENCE)
    assert caller.hangs_up_at() == 30.0
    caller.finish(CallEnd.COMPLETED)
    assert caller.failure is not None  # the app ended the call first: the step was never played
    assert caller.failure.message.endswith("before this step: hang up 30s into the call")


def test_the_caller_does_not_hang_up_before_its_answer_is_played() -> None:
    caller = _caller('[[steps]]\npress = "2"\n[[steps]]\nhangup = true\n')

    caller.respond(MENU)
    during_menu = caller.hangs_up_during("For your order, press 2.", 1.0)
    _caller_acts(caller, "press")
    after_press = caller.hangs_up_during("Please hold.", 3.0)

    assert (during_menu, after_press) == (False, True)
