"""``frontends.terminal_phone``: what a line typed at the caller's prompt means."""

from __future__ import annotations

import pytest

from hotline.sim.frontends.terminal_phone import parse_answer
from hotline.sim.model import CallerInput, InputKind


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("1", CallerInput(InputKind.DIGITS, digits="1")),
        (" 12# ", CallerInput(InputKind.DIGITS, digits="12#")),
        ("say is it open", CallerInput(InputKind.SPEECH, speech="is it open")),
        ("wait", CallerInput(InputKind.SILENCE)),
        ("", CallerInput(InputKind.SILENCE)),
        ("hangup", CallerInput(InputKind.HANGUP, after=0.0)),
        ("q", CallerInput(InputKind.HANGUP, after=0.0)),
        ("say", None),
        ("12a", None),
    ],
)
def test_a_typed_line_is_the_callers_input(typed: str, meant: CallerInput | None) -> None:
    assert parse_answer(typed) == meant
