"""Matching a caller's words against phrases: normalised, tolerant of inflection."""

from __future__ import annotations

import pytest

from hotline.ivr.speech import normalise_speech, said


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("Where is my PARCEL?!", "where is my parcel"),
        ("  is it   compatible,  with… ", "is it compatible with"),
        ("Zamówienie: GDZIE jest?", "zamówienie gdzie jest"),
        ("it's broken", "it s broken"),
        ("order 1234567", "order 1234567"),
        ("", ""),
        ("?!", ""),
    ],
)
def test_normalise_speech(words: str, expected: str) -> None:
    assert normalise_speech(words) == expected


@pytest.mark.parametrize(
    ("phrase", "heard", "expected"),
    [
        ("agent", "can i speak to one of your agents", True),
        ("konsultant", "chcę rozmawiać z konsultantem", True),
        ("reklamacja", "chcę złożyć reklamację", True),
        ("przesyłka", "nie dostałem przesyłki", True),
        ("where is my", "so where is my parcel", True),
        ("where is my", "where my parcel is", False),
        ("no", "not now", False),
        ("no", "no thanks", True),
        ("status", "the station", False),
        ("cancel", "i cancelled it", True),
        ("return", "", False),
    ],
)
def test_said_tolerates_inflection_but_not_short_prefixes(
    phrase: str, heard: str, expected: bool
) -> None:
    assert said(normalise_speech(phrase), normalise_speech(heard)) is expected
