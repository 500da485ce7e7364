"""Replies: recorded verbs render as twilio's VoiceResponse would; the render cache never mixes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from twilio.twiml.voice_response import VoiceResponse

from hotline.ivr.reply import Reply, _render

# A parsed element as comparable data: tag, attributes, text, children (in order).
Tree = tuple[str, dict[str, str], str | None, list["Tree"]]
# Makes the same calls on a ``Reply`` or on a ``VoiceResponse`` (both take twilio's arguments).
Build = Callable[[Any], None]


def tree(element: ET.Element) -> Tree:
    """``element`` and everything under it as plain data."""
    return (element.tag, dict(element.attrib), element.text, [tree(child) for child in element])


def parse(document: str) -> ET.Element:
    """A rendered TwiML document, parsed (its root must be ``<Response>``)."""
    root = ET.fromstring(document)
    assert root.tag == "Response"
    return root


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """Each test starts (and leaves) the render cache empty, so hit counts are its own."""
    _render.cache_clear()
    yield
    _render.cache_clear()


def menu(response: Any) -> None:
    gather = response.gather(
        input="dtmf speech",
        action="/voice/step/menu?attempt=1",
        method="POST",
        timeout=5,
        language="en-GB",
        num_digits=1,
        speech_timeout="auto",
        hints="order, delivery",
    )
    gather.say("Press 1 for your order.", voice="Polly.Amy", language="en-GB")
    gather.say("Press 2 for anything else.", voice="Polly.Amy", language="en-GB")
    response.redirect("/voice/step/menu?attempt=1", method="POST")


def dial_seller(response: Any) -> None:
    response.say("Connecting you to the seller.", voice="Polly.Amy")
    dial = response.dial(
        action="/voice/step/seller/dialled", method="POST", timeout=20, caller_id="+442071000000"
    )
    dial.number("+48601100200", url="/voice/whisper?call=CA1&step=seller", method="POST")


def queue(response: Any) -> None:
    response.say("Please hold.")
    response.enqueue(
        "support",
        action="/voice/queue/done?step=agent",
        method="POST",
        wait_url="/voice/queue/wait?step=agent",
        wait_url_method="POST",
    )


def hold_music_then_goodbye(response: Any) -> None:
    response.play("https://example.com/hold.mp3", loop=2)
    response.say("Goodbye.")
    response.hangup()


def whisper(response: Any) -> None:
    gather = response.gather(input="dtmf speech", num_digits=1, action="/voice/whisper/answer")
    gather.say("A buyer is calling about order 1234567. Press 1 to accept.")
    response.hangup()


def empty_gather_then_dial(response: Any) -> None:
    response.gather(finish_on_key="#")
    response.dial(timeout=10).number("+48601100200")


CASES: list[tuple[Build, list[str]]] = [
    (menu, ["Gather", "Redirect"]),
    (dial_seller, ["Say", "Dial"]),
    (queue, ["Say", "Enqueue"]),
    (hold_music_then_goodbye, ["Play", "Say", "Hangup"]),
    (whisper, ["Gather", "Hangup"]),
    (empty_gather_then_dial, ["Gather", "Dial"]),
]


@pytest.mark.parametrize(("build", "verbs"), CASES, ids=[build.__name__ for build, _ in CASES])
def test_render_is_what_voice_response_writes(build: Build, verbs: list[str]) -> None:
    reply = Reply()
    build(reply)
    direct = VoiceResponse()
    build(direct)

    rendered = parse(reply.render())

    assert [child.tag for child in rendered] == verbs
    assert tree(rendered) == tree(parse(str(direct)))


def test_snake_case_arguments_become_twiml_attributes() -> None:
    reply = Reply()
    menu(reply)
    dial_seller(reply)
    queue(reply)

    root = parse(reply.render())

    gather = root.find("Gather")
    assert gather is not None
    assert gather.attrib["numDigits"] == "1"
    assert gather.attrib["speechTimeout"] == "auto"
    assert [say.text for say in gather.findall("Say")] == [
        "Press 1 for your order.",
        "Press 2 for anything else.",
    ]
    number = root.find("Dial/Number")
    assert number is not None
    assert number.text == "+48601100200"
    assert number.attrib == {"url": "/voice/whisper?call=CA1&step=seller", "method": "POST"}
    dial = root.find("Dial")
    assert dial is not None
    assert dial.attrib["callerId"] == "+442071000000"
    enqueue = root.find("Enqueue")
    assert enqueue is not None
    assert enqueue.text == "support"
    assert enqueue.attrib["waitUrl"] == "/voice/queue/wait?step=agent"
    assert enqueue.attrib["waitUrlMethod"] == "POST"


def test_attributes_given_as_none_are_left_out() -> None:
    reply = Reply()
    gather = reply.gather(
        input="speech", action="/voice/step/thread", num_digits=None, hints=None, timeout=None
    )
    gather.say("Tell us your question.", voice=None, language="en-GB")
    reply.dial(caller_id=None).number("+48601100200", url=None)

    root = parse(reply.render())

    assert tree(root) == (
        "Response",
        {},
        None,
        [
            (
                "Gather",
                {"input": "speech", "action": "/voice/step/thread"},
                None,
                [("Say", {"language": "en-GB"}, "Tell us your question.", [])],
            ),
            ("Dial", {}, None, [("Number", {}, "+48601100200", [])]),
        ],
    )


def test_replies_differing_only_by_none_attributes_share_one_render() -> None:
    bare = Reply()
    bare.gather(action="/next").say("Hello.")
    bare.redirect("/next")
    with_nones = Reply()
    with_nones.gather(action="/next", hints=None, num_digits=None).say("Hello.", voice=None)
    with_nones.redirect("/next", method=None)

    first = bare.render()
    before = _render.cache_info()
    second = with_nones.render()
    after = _render.cache_info()

    assert second == first
    assert after.hits == before.hits + 1
    assert after.misses == before.misses
    assert after.currsize == 1


def _said(document: str) -> list[str | None]:
    return [say.text for say in parse(document).iter("Say")]


@pytest.mark.parametrize(
    ("build_a", "build_b"),
    [
        pytest.param(lambda r: r.say("Press 1."), lambda r: r.say("Press 2."), id="different text"),
        pytest.param(
            lambda r: r.say("Hi.", voice="Polly.Amy"),
            lambda r: r.say("Hi.", voice="Polly.Ewa"),
            id="different attribute",
        ),
        pytest.param(
            lambda r: r.gather(action="/a").say("Hi."),
            lambda r: (r.gather(action="/a"), r.say("Hi.")),
            id="nested or after",
        ),
        pytest.param(
            lambda r: (r.say("One."), r.say("Two.")),
            lambda r: (r.say("Two."), r.say("One.")),
            id="order",
        ),
        pytest.param(
            lambda r: r.dial().number("+48601100200"),
            lambda r: r.dial().number("+48601100201"),
            id="nested number",
        ),
    ],
)
def test_different_replies_never_share_a_render(build_a: Build, build_b: Build) -> None:
    a, b = Reply(), Reply()
    build_a(a)
    build_b(b)
    direct_a, direct_b = VoiceResponse(), VoiceResponse()
    build_a(direct_a)
    build_b(direct_b)

    # Interleaved, so a render served from the wrong cache entry would show.
    first_a, first_b, again_a, again_b = a.render(), b.render(), a.render(), b.render()

    assert first_a != first_b
    assert tree(parse(first_a)) == tree(parse(again_a)) == tree(parse(str(direct_a)))
    assert tree(parse(first_b)) == tree(parse(again_b)) == tree(parse(str(direct_b)))
    assert _render.cache_info().currsize == 2


@pytest.mark.parametrize(
    ("first", "second"),
    [(True, 1), (1, True), (5, 5.0), (5.0, 5)],
    ids=["True then 1", "1 then True", "5 then 5.0", "5.0 then 5"],
)
def test_equal_but_differently_written_values_render_as_written(first: Any, second: Any) -> None:
    a, b = Reply(), Reply()
    a.gather(timeout=first)
    b.gather(timeout=second)
    direct = VoiceResponse()
    direct.gather(timeout=second)

    a.render()

    assert tree(parse(b.render())) == tree(parse(str(direct)))


def test_empty_reply_is_falsy_and_renders_an_empty_response() -> None:
    reply = Reply()

    assert not reply
    assert reply.verbs() == ()
    root = parse(reply.render())
    assert list(root) == []
    assert root.attrib == {}
    assert not (root.text or "").strip()


@pytest.mark.parametrize(
    "add",
    [
        pytest.param(lambda r: r.hangup(), id="hangup"),
        pytest.param(lambda r: r.gather(), id="empty gather"),
        pytest.param(lambda r: r.dial(), id="empty dial"),
    ],
)
def test_a_reply_with_any_verb_is_truthy(add: Build) -> None:
    reply = Reply()
    add(reply)

    assert reply
    assert len(parse(reply.render())) == 1


@pytest.mark.parametrize(
    "text",
    [
        "1 < 2 & 3 > 2",
        "He said \"yes\" and 'no'",
        "</Say><Hangup/><Say>",
        "]]> &amp; &lt;",
        "Zażółć gęślą jaźń — ok?",
    ],
)
def test_special_characters_in_text_come_back_intact(text: str) -> None:
    reply = Reply()
    reply.say(text)
    gather = reply.gather(action=f"/voice?q={text}")
    gather.say(text)
    reply.redirect(f"/voice/step?a=1&b={text}")

    root = parse(reply.render())

    assert [child.tag for child in root] == ["Say", "Gather", "Redirect"]
    assert _said(reply.render()) == [text, text]
    assert root[1].attrib["action"] == f"/voice?q={text}"
    assert root[2].text == f"/voice/step?a=1&b={text}"
