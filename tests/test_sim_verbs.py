"""The simulator's verb dispatch (``hotline.sim.engine.verbs``): every supported verb is played."""

from __future__ import annotations

from hotline.sim.engine.twiml_contract import SUPPORTED
from hotline.sim.engine.verbs import HANDLERS


def test_every_verb_a_response_may_hold_has_a_handler() -> None:
    # A verb in SUPPORTED without a handler would pass parsing and then fail mid-call.
    assert set(HANDLERS) == set(SUPPORTED["Response"].children)
