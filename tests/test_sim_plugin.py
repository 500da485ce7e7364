"""The ``dial`` fixture: call tests written in Python, failing at the line that was wrong."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hotline.sim.frontends.pytest_plugin import PhoneCall
from hotline.sim.model import ExpectationFailed, QueueBehaviour
from hotline.sim.run.runner import Target
from tests.sim_script_apps import API_TOKEN, AUTH_TOKEN, SELLER

Dial = Callable[..., PhoneCall]
AT = "2026-03-30T10:00:00+02:00"


@pytest.fixture
def hotline_sim_target() -> Target:
    """These tests call the sample shop, not hotline."""
    return Target(
        auth_token=AUTH_TOKEN, api_token=API_TOKEN, app="tests.sim_script_apps:create_shop"
    )


def test_a_product_question_reaches_the_seller(dial: Dial) -> None:
    call = dial(at=AT, from_="+48601100200", dialled={SELLER: "answer:1"})

    call.hears("welcome").hears("product question, press 1")
    call.press("1")
    call.hears("connecting you to the seller")
    call.bridged_to(SELLER)
    call.ended("completed")

    assert call.result is not None
    assert call.result.bridged == (SELLER,)
    assert "+48600300400 answers" in call.transcript


def test_a_question_left_for_an_absent_seller_shows_in_the_api(dial: Dial) -> None:
    call = dial(at=AT, dialled={SELLER: ["no-answer:20"]})

    call.press("1")
    call.hears("not available")
    call.says("is it compatible with my phone", confidence=0.4)
    call.hears("sent your question")
    call.not_bridged()

    threads = call.get_json("/api/threads")
    assert threads == [
        {"seller": SELLER, "buyer": "+48601100200", "text": "is it compatible with my phone"}
    ]


def test_a_call_that_asked_nothing_leaves_no_thread(dial: Dial) -> None:
    call = dial(at=AT, dialled={SELLER: "no-answer"})

    call.press("1").silent()
    call.hears("did not hear a question")

    assert call.get_json("/api/threads") == []


def test_an_order_call_waits_in_the_warehouse_queue(dial: Dial) -> None:
    call = dial(at=AT, queues={"warehouse": QueueBehaviour(agent_after=30)})

    call.says("about my order")
    call.hears("hold for the warehouse")
    call.entered_queue("warehouse")


def test_a_wrong_prompt_fails_at_its_line(dial: Dial) -> None:
    call = dial(at=AT)

    with pytest.raises(ExpectationFailed) as caught:
        call.hears("press 7 for the weather")  # the line the failure names

    first = str(caught.value).splitlines()[0]
    assert first.startswith(f"{__file__}:{_line_of('press 7 for the weather')}: ")
    assert first.endswith(
        "expected to hear 'press 7 for the weather', heard: 'Welcome to the test shop."
        " For a product question, press 1. For your order, press 2.'"
    )
    assert "POST /voice → 200" in str(caught.value)  # the transcript comes along


def test_a_wrong_branch_fails_the_outcome_check(dial: Dial) -> None:
    call = dial(at=AT, queues={"warehouse": QueueBehaviour(agent_after=5)})
    call.press("2")

    with pytest.raises(ExpectationFailed, match="expected the call to be bridged to \\+486003"):
        call.bridged_to(SELLER)
    with pytest.raises(ExpectationFailed, match="expected no queue, the caller entered warehouse"):
        call.not_queued()


def test_hanging_up_while_the_app_still_talks(dial: Dial) -> None:
    call = dial(at=AT)

    call.press("2")
    call.hangs_up(after=45)
    call.ended("caller-hangup")

    assert call.result is not None
    assert [visit.result for visit in call.result.queues] == ["hangup"]


def test_hanging_up_at_a_moment_ends_the_call_then(dial: Dial) -> None:
    call = dial(at=AT)

    call.press("2")
    call.hangs_up(after=30)

    assert call.result is not None
    assert (call.result.duration, call.result.reason) == (
        30.0,
        "the caller hung up 30 s into the call",
    )


def test_what_the_seller_heard_in_the_whisper_is_checked(dial: Dial) -> None:
    call = dial(at=AT, dialled={SELLER: "answer:say=yes I'll take it"})
    call.press("1")
    call.bridged_to(SELLER)
    call.callee_hears(SELLER, "a buyer has a product question")

    with pytest.raises(ExpectationFailed) as caught:
        call.callee_hears(SELLER, "waterproof")  # the line the failure names

    first = str(caught.value).splitlines()[0]
    assert first == (
        f"{__file__}:{_line_of('waterproof', 'call.callee_hears')}: expected {SELLER} to hear"
        " 'waterproof', heard: 'A buyer has a product question. Press 1 or say yes to take the"
        " call.'"
    )


def test_the_app_hanging_up_first_fails_the_next_step(dial: Dial) -> None:
    call = dial(at=AT, dialled={SELLER: "answer:1"})
    call.press("1")
    call.hears("goodbye")
    call.press("1")

    with pytest.raises(ExpectationFailed, match="the app ended the call .* before this step"):
        call.hears("anything")


def test_outcome_checks_refuse_unknown_endings(dial: Dial) -> None:
    with pytest.raises(ValueError, match="expected one of completed"):
        dial(at=AT).ended("finished")


def test_a_time_without_an_offset_is_refused(dial: Dial) -> None:
    with pytest.raises(ValueError, match="give a time with an offset"):
        dial(at="2026-03-30T10:00:00")


def _line_of(text: str, method: str = "call.hears") -> int:
    with open(__file__, encoding="utf-8") as source:
        for number, line in enumerate(source, start=1):
            if text in line and method in line:
                return number
    raise AssertionError(f"{text!r} not found")


def test_dial_takes_the_numbers_fallback_url(dial: Dial) -> None:
    call = dial(at=AT, fallback_url="/fallback")

    call.press("9").hears("something went wrong (error 11200)")
    call.ended("completed")

    without = dial(at=AT)
    without.press("9").ended("failed")
    assert "an application error has occurred" in without.transcript
