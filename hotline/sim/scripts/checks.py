"""Checks of a played call against what its script's ``[expect]`` says; the first failure wins.

How the call ended, its bridge and queue and the app's API are checked first, then what the
engine's result alone tells (what callees heard, the time limit): a wrong branch is best told by
the check it breaks.
"""

from __future__ import annotations

import json

from hotline.sim.engine.callees import number_key
from hotline.sim.engine.simulator import CallResult, Simulator
from hotline.sim.model import CallEnd, Who
from hotline.sim.scripts.caller import Failure
from hotline.sim.scripts.model import ApiCheck, CalleeHeard, CallScript, normalise_heard

_SHOWN_CHARS = 400


def check_outcome(
    script: CallScript, result: CallResult, sim: Simulator, api_token: str | None
) -> Failure | None:
    """Return the first way the call differs from what its script expects, or ``None``."""
    expect = script.expect
    place = expect.places
    if result.ended is CallEnd.FAILED and expect.ended != CallEnd.FAILED.value:
        reason = with_hint(result.reason)
        return Failure(script.where, f"the call failed: {reason}", result.finished)
    if expect.ended is not None and result.ended.value != expect.ended:
        return Failure(
            place["ended"],
            f"expected the call to end {expect.ended}, it ended {result.ended.value}"
            f" ({result.reason})",
            result.finished,
        )
    # A caller a queue's agent took is bridged to "queue:NAME" only when it says so: an agent's
    # <Dial><Queue> bridges to the queue's caller, which "queue:support" names.
    wants_queue = (expect.bridged or "").startswith("queue:")
    numbers = [n for n in result.bridged if wants_queue or not n.startswith("queue:")]
    if expect.bridged is not None:
        shown = ", ".join(numbers) or "nobody"
        if expect.bridged == "" and numbers:
            return Failure(place["bridged"], f"expected no bridge, the call was bridged to {shown}")
        wanted = number_key(expect.bridged)
        if expect.bridged and wanted not in {number_key(n) for n in numbers}:
            return Failure(
                place["bridged"],
                f"expected the call to be bridged to {expect.bridged}, it was bridged to {shown}",
            )
    if expect.queue is not None:
        entered = result.entered_queues()
        shown = ", ".join(entered) or "no queue"
        if expect.queue == "" and entered:
            return Failure(place["queue"], f"expected no queue, the caller entered {shown}")
        if expect.queue and expect.queue not in entered:
            return Failure(
                place["queue"], f"expected the caller to enter queue {expect.queue!r}, got {shown}"
            )
    if expect.conference is not None:
        rooms = conferences_joined(result)
        shown = ", ".join(rooms) or "no conference"
        if expect.conference == "" and rooms:
            return Failure(place["conference"], f"expected no conference, the call joined {shown}")
        if expect.conference and expect.conference not in rooms:
            return Failure(
                place["conference"],
                f"expected the call to join conference {expect.conference!r}, it joined {shown}",
            )
    for check in expect.api:
        failure = _check_api(check, result, sim, api_token)
        if failure is not None:
            return failure
    return check_result(script, result)  # what dialled numbers heard; the engine's time limit


def conferences_joined(result: CallResult) -> list[str]:
    """The conferences the call joined (by name), in order, each once."""
    joined = [
        event.text.removeprefix("joined ")
        for event in result.events("conference")
        if event.who is Who.TWILIO and event.text.startswith("joined ")
    ]
    return list(dict.fromkeys(joined))


def with_hint(reason: str) -> str:
    """Return why a call ended, with a hint at the likely cause when there is one."""
    if " answered 403" in reason:
        hint = " (does the app check signatures with another token? set TWILIO_AUTH_TOKEN)"
        return reason + hint
    return reason


def check_result(script: CallScript, result: CallResult) -> Failure | None:
    """Return the first failure: a callee heard the wrong thing, or the call hit the time limit."""
    for check in script.expect.callee_heard:
        failure = _callee_heard(check, result)
        if failure is not None:
            return failure
    failure = _warnings(script, result)
    if failure is not None:
        return failure
    return _limit(script, result)


def _warnings(script: CallScript, result: CallResult) -> Failure | None:
    """The TwiML warnings of the call against ``[expect] warnings``."""
    wanted = script.expect.warnings
    if wanted is None:
        return None
    where = script.expect.places.get("warnings", script.expect.where)
    said = [event.text for event in result.events("warning")]
    shown = "; ".join(dict.fromkeys(said)) or "none"
    if not wanted and said:
        return Failure(where, f"expected no TwiML warnings, got {len(said)}: {shown}")
    folded = [text.casefold() for text in said]
    for text in wanted:
        if not any(text.casefold() in warning for warning in folded):
            return Failure(where, f"expected a TwiML warning about {text!r}, got: {shown}")
    return None


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


def _check_api(
    check: ApiCheck, result: CallResult, sim: Simulator, api_token: str | None
) -> Failure | None:
    where, path = check.where, check.path
    if api_token is None:
        return Failure(where, "checking the app's API needs a token: set HOTLINE_API_TOKEN")
    url = sim.url(path.replace("{CallSid}", result.call_sid))
    headers = {"Authorization": f"Bearer {api_token}"}
    response = sim.transport.request("GET", url, {}, headers)
    if response.status != check.status:
        return Failure(
            where,
            f"GET {path} answered {response.status} (expected {check.status}):"
            f" {response.excerpt()!r}",
        )
    text = response.body.decode("utf-8", errors="replace")
    try:
        # Re-encode JSON so "\u0105" escapes compare as the letters a tester writes.
        text = json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        pass
    folded = text.casefold()
    shown = text if len(text) <= 300 else text[:300] + "…"
    for wanted in check.contains:
        if wanted.casefold() not in folded:
            return Failure(where, f"expected GET {path} to contain {wanted!r}, got: {shown}")
    for unwanted in check.lacks:
        if unwanted.casefold() in folded:
            return Failure(where, f"expected GET {path} not to contain {unwanted!r}, got: {shown}")
    return None
