"""Checks after a scripted call read from the engine's result alone: limits and what callees heard.

The runner (``runner.py``) runs these after the ``[expect]`` checks it does itself (ending,
bridge, queue, the app's API): a wrong branch is best told by the check it breaks.
"""

from __future__ import annotations

from hotline.sim.caller import Failure
from hotline.sim.engine import CallResult
from hotline.sim.steps import CalleeHeard, CallScript, normalise_heard

_SHOWN_CHARS = 400


def check_result(script: CallScript, result: CallResult) -> Failure | None:
    """Return the first failure: a callee heard the wrong thing, or the call hit the time limit."""
    for check in script.expect.callee_heard:
        failure = _callee_heard(check, result)
        if failure is not None:
            return failure
    return _limit(script, result)


def _limit(script: CallScript, result: CallResult) -> Failure | None:
    """A call cut at the engine's ``max_duration``: nobody on it ended it, so the script is short.

    Twilio would keep such a call going for hours; a script that lets it run until the engine's
    limit almost always misses an agent or a hang-up, so it fails rather than passes quietly.
    """
    if not result.reached_limit:
        return None
    if result.queues and result.queues[-1].result == "hangup":
        hint = "script an agent in [queues] or a hangup"
    else:
        hint = "script a hangup (hangup_after = SECONDS), or the app keeps the call going"
    return Failure(script.where, f"{result.reason}: {hint}", result.finished)


def _callee_heard(check: CalleeHeard, result: CallResult) -> Failure | None:
    heard = normalise_heard(" ".join(result.heard_by(check.number)))
    folded = heard.casefold()
    for text in check.texts:
        if normalise_heard(text).casefold() not in folded:
            shown = heard if len(heard) <= _SHOWN_CHARS else heard[:_SHOWN_CHARS] + "…"
            said = f"heard: {shown!r}" if heard else "heard nothing"
            return Failure(check.where, f"expected {check.number} to hear {text!r}, {said}")
    return None
