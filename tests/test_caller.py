"""What the caller gave (keys, speech, confidence) and which option of a shipped step it picks."""

from __future__ import annotations

import pytest

from hotline.config.settings import load_settings
from hotline.ivr.caller_input import Caller, choose_option, speech_hints
from hotline.ivr.flow_file import load_flow
from hotline.ivr.speech import normalise_speech
from tests.conftest import ROOT

SETTINGS = load_settings(ROOT / "config.toml")
FLOW = load_flow(SETTINGS.flows_dir, SETTINGS.flow)
MIN = SETTINGS.min_speech_confidence  # 0.3 in the shipped config


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({}, Caller()),
        ({"Digits": "1"}, Caller(digits="1")),
        ({"Digits": "0123456789*#"}, Caller(digits="0123456789*#")),
        ({"Digits": "1a2 3-#\n"}, Caller(digits="123#")),
        ({"Digits": "\u0661\u0662"}, Caller()),  # Arabic-Indic digits are not phone keys
        ({"Digits": "1" * 40}, Caller(digits="1" * 32)),
        ({"Digits": "x" * 10 + "9" * 40}, Caller(digits="9" * 32)),  # capped after filtering
        ({"SpeechResult": "  yes   please \n"}, Caller(speech="yes please")),
        ({"SpeechResult": "yes\x00please\tnow\r\n"}, Caller(speech="yes please now")),
        ({"SpeechResult": "tak\u00a0poproszę"}, Caller(speech="tak poproszę")),
        ({"SpeechResult": "\x07\x1b"}, Caller()),
        ({"SpeechResult": "w" * 600}, Caller(speech="w" * 500)),
        # capped after the spaces are squeezed: 100 words with wide gaps fit in 500
        ({"SpeechResult": ("a" + " " * 9) * 100}, Caller(speech=" ".join(["a"] * 100))),
        ({"Confidence": "0.87"}, Caller(confidence=0.87)),
        ({"Confidence": " 0.5 "}, Caller(confidence=0.5)),
        ({"Confidence": "1"}, Caller(confidence=1.0)),
        ({"Confidence": ""}, Caller()),
        ({"Confidence": "high"}, Caller()),
        ({"Confidence": "0,87"}, Caller()),  # a decimal comma is not a number here
        ({"Confidence": "nan"}, Caller()),  # NaN would pass every threshold
        ({"Confidence": "inf"}, Caller()),
        ({"Confidence": "1e999"}, Caller()),
        ({"Confidence": "5"}, Caller(confidence=1.0)),
        ({"Confidence": "-1"}, Caller(confidence=0.0)),
        ({"SpeechResult": "a" * 499 + " b"}, Caller(speech="a" * 499)),
        (
            {"Digits": "2", "SpeechResult": "Where is my parcel?", "Confidence": "0.91"},
            Caller(digits="2", speech="Where is my parcel?", confidence=0.91),
        ),
    ],
)
def test_from_form(form: dict[str, str], expected: Caller) -> None:
    assert Caller.from_form(form) == expected


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (Caller(), "silence"),
        (Caller(confidence=0.9), "silence"),
        (Caller(digits="12#"), "digits=12#"),
        (Caller(speech="yes please", confidence=0.87), "speech='yes please' (0.87)"),
        (Caller(speech="tak", confidence=0.5), "speech='tak' (0.50)"),
        (Caller(speech="that's it", confidence=1.0), 'speech="that\'s it" (1.00)'),
        (Caller(digits="1", speech="yes", confidence=0.9), "digits=1 speech='yes' (0.90)"),
    ],
)
def test_describe(caller: Caller, expected: str) -> None:
    assert caller.describe() == expected


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (Caller(digits="601300400#"), "digits=******400#"),
        (Caller(digits="1"), "digits=1"),  # confirming the caller ID: nothing to hide
        (Caller(digits="1234567890123456#"), "digits=*************456#"),
        (Caller(speech="48601300400", confidence=0.8), "speech='********400' (0.80)"),
        (Caller(speech="601 300 400", confidence=0.9), "speech='*** *** 400' (0.90)"),
        (Caller(speech="+48 601-300-400", confidence=0.9), "speech='+** ***-***-400' (0.90)"),
        (Caller(speech="call me back", confidence=0.8), "speech='call me back' (0.80)"),
        (Caller(speech="press 1 2", confidence=0.8), "speech='press 1 2' (0.80)"),
        (Caller(), "silence"),
    ],
)
def test_describe_an_answer_that_may_be_a_phone_number(caller: Caller, expected: str) -> None:
    assert caller.describe(number=True) == expected


def chosen_key(
    step: str, caller: Caller, language: str = "en", least: float = MIN, whole: bool = False
) -> str | None:
    """The key of the option of shipped step ``step`` that ``caller`` picks (None: no option)."""
    option = choose_option(FLOW.step(step), caller, language, least, whole_reply=whole)
    return None if option is None else option.key


@pytest.mark.parametrize(
    ("step", "digits", "expected"),
    [
        ("main_menu", "1", "1"),
        ("main_menu", "2", "2"),
        ("main_menu", "0", "0"),
        ("main_menu", "12", "1"),  # the first key counts
        ("main_menu", "3", None),
        ("main_menu", "*", None),  # the repeat key, not an option
        ("main_menu", "#", None),
        ("confirm_order", "2", "2"),
        ("warehouse_menu", "4", "4"),
        ("handoff", "1", "1"),
        ("handoff", "2", None),
    ],
)
@pytest.mark.parametrize("language", ["en", "pl", "de"])
def test_keys_pick_their_option_in_any_language(
    step: str, digits: str, language: str, expected: str | None
) -> None:
    assert chosen_key(step, Caller(digits=digits), language) == expected
    assert chosen_key(step, Caller(digits=digits), language, whole=True) == expected


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (Caller(digits="9", speech="agent", confidence=0.9), None),  # keys win over words
        (Caller(digits="2", speech="agent", confidence=0.9), "2"),
        (Caller(digits="0", speech="hello", confidence=0.0), "0"),  # keys need no confidence
    ],
)
def test_keys_win_over_speech(caller: Caller, expected: str | None) -> None:
    assert chosen_key("main_menu", caller) == expected


# (step, language, what was said, key of the option picked or None), heard with confidence 0.9
SPOKEN = [
    ("main_menu", "en", "agent", "0"),
    ("main_menu", "en", "I want to talk to an agent", "0"),
    ("main_menu", "en", "Where is my parcel?", "2"),
    ("main_menu", "en", "My invoice, please", "1"),
    ("main_menu", "en", "Hello?", None),
    ("main_menu", "en", "...", None),
    ("main_menu", "en", "", None),
    # the phrase said first wins
    ("main_menu", "en", "My product arrived broken", "1"),
    ("main_menu", "en", "It arrived broken", "2"),
    ("confirm_order", "en", "Yes", "1"),
    ("confirm_order", "en", "No", "2"),
    ("confirm_order", "en", "No, that's not right", "2"),
    ("confirm_order", "en", "That's not correct", "2"),
    ("confirm_order", "en", "Correct, not another one", "1"),
    ("confirm_order", "en", "Yes, that's the one", "1"),
    ("confirm_order", "en", "I know", None),  # "no" is not a prefix match of a longer word
    ("confirm_order", "en", "now", None),
    ("warehouse_closed", "en", "No, goodbye", "2"),
    ("warehouse_closed", "en", "Yes, leave a message. No, thanks", "1"),
    # a key said aloud: Twilio writes "one" as "1."
    ("main_menu", "en", "1.", "1"),
    ("main_menu", "en", "0", "0"),
    ("main_menu", "en", "7.", None),
    ("confirm_order", "en", "2.", "2"),
    ("confirm_order", "pl", "2.", "2"),
    ("main_menu", "en", "One.", None),  # a number in words is neither a key nor a phrase
    # Polish phrases, inflected as callers say them
    ("main_menu", "pl", "Chcę złożyć reklamację", "1"),
    ("main_menu", "pl", "Gdzie jest moja paczka?", "2"),
    ("main_menu", "pl", "Poproszę z konsultantem", "0"),
    ("confirm_order", "pl", "Tak, zgadza się", "1"),
    ("confirm_order", "pl", "Nie, inne zamówienie", "2"),
    ("confirm_order", "pl", "Nie, to nie tak", "2"),
    ("confirm_order", "pl", "Tak, nie inne", "1"),
    # only the call's language counts
    ("main_menu", "pl", "agent", None),
    ("main_menu", "en", "konsultant", None),
    ("confirm_order", "en", "tak", None),
    ("main_menu", "de", "agent", None),
]


@pytest.mark.parametrize(("step", "language", "speech", "expected"), SPOKEN)
def test_speech_picks_the_phrase_said_first(
    step: str, language: str, speech: str, expected: str | None
) -> None:
    assert chosen_key(step, Caller(speech=speech, confidence=0.9), language) == expected


@pytest.mark.parametrize(
    ("speech", "confidence", "least", "expected"),
    [
        ("agent", 0.29, 0.3, None),
        ("agent", 0.3, 0.3, "0"),  # the minimum itself is enough
        ("agent", 0.31, 0.3, "0"),
        ("agent", 0.0, 0.0, "0"),
        ("agent", 0.79, 0.8, None),
        ("agent", 0.8, 0.8, "0"),
        ("1.", 0.2, 0.3, None),  # a key said aloud is speech: it needs the confidence too
        ("1.", 0.3, 0.3, "1"),
    ],
)
def test_speech_needs_the_minimum_confidence(
    speech: str, confidence: float, least: float, expected: str | None
) -> None:
    caller = Caller(speech=speech, confidence=confidence)
    assert chosen_key("main_menu", caller, least=least) == expected


# The seller's whisper (whole reply): one of the phrases exactly, heard with at least 0.6.
# (language, what was said, confidence, minimum confidence, picked as a whole reply, picked if not)
WHISPER = [
    ("en", "Yes.", 0.9, MIN, "1", "1"),
    ("en", "Yes, please!", 0.9, MIN, "1", "1"),
    ("en", "Yes, I'll take it.", 0.9, MIN, "1", "1"),
    ("en", "I accept", 0.9, MIN, "1", "1"),
    ("en", "Yes, hello, who is it?", 0.9, MIN, None, "1"),
    ("en", "Hi, you have reached Acme, leave a message, yes", 0.95, MIN, None, "1"),
    ("en", "Hello?", 0.9, MIN, None, None),
    ("en", "Yes", 0.59, MIN, None, "1"),
    ("en", "Yes", 0.6, MIN, "1", "1"),
    ("en", "Yes", 0.2, MIN, None, None),
    ("en", "Yes", 0.7, 0.8, None, None),  # a minimum above 0.6 still counts
    ("en", "Yes", 0.8, 0.8, "1", "1"),
    ("en", "1.", 0.9, MIN, "1", "1"),
    ("en", "1.", 0.5, MIN, None, "1"),
    ("pl", "Tak, poproszę.", 0.9, MIN, "1", "1"),
    ("pl", "Tak, odbieram", 0.9, MIN, "1", "1"),
    ("pl", "Przyjmuję", 0.9, MIN, "1", "1"),
    ("pl", "Tak, słucham?", 0.9, MIN, None, "1"),
    ("pl", "Yes", 0.9, MIN, None, None),
]


@pytest.mark.parametrize(("language", "speech", "confidence", "least", "whole", "partial"), WHISPER)
def test_whole_reply_needs_a_whole_phrase_heard_surely(
    language: str,
    speech: str,
    confidence: float,
    least: float,
    whole: str | None,
    partial: str | None,
) -> None:
    caller = Caller(speech=speech, confidence=confidence)
    assert chosen_key("handoff", caller, language, least, whole=True) == whole
    assert chosen_key("handoff", caller, language, least, whole=False) == partial


def test_whole_reply_defaults_to_off() -> None:
    caller = Caller(speech="Yes, hello, who is it?", confidence=0.9)
    option = choose_option(FLOW.step("handoff"), caller, "en", MIN)
    assert option is not None and option.key == "1"


@pytest.mark.parametrize(
    ("step", "language", "expected"),
    [
        ("seller_number", "en", "again, repeat"),
        ("seller_number", "pl", "jeszcze raz, powtórz"),
        (
            "seller_fallback",
            "en",
            "number, phone, call the seller, message, thread, write, leave, question",
        ),
        (
            "seller_fallback",
            "pl",
            "numer, telefon, zadzwonię, wiadomość, wątek, napisać, zostawić, pytanie",
        ),
        ("seller_fallback", "de", ""),
        ("ask_question", "en", ""),  # a step without options
    ],
)
def test_speech_hints(step: str, language: str, expected: str) -> None:
    assert speech_hints(FLOW.step(step), language) == expected


@pytest.mark.parametrize("language", sorted(FLOW.languages))
@pytest.mark.parametrize("step", sorted(n for n, s in FLOW.steps.items() if s.options))
def test_speech_hints_list_every_phrase_in_order(step: str, language: str) -> None:
    options = FLOW.step(step).options
    phrases = [p for option in options for p in option.phrases[language]]
    assert phrases  # every option of the shipped flow has phrases in every language
    hints = speech_hints(FLOW.step(step), language).split(", ")
    # The same phrases, as written in the flow (Twilio recognises "I'll", not "i ll").
    assert [normalise_speech(hint) for hint in hints] == phrases


def test_speech_hints_keep_the_phrases_as_written() -> None:
    assert "i'll take it" in speech_hints(FLOW.step("handoff"), "en").split(", ")
