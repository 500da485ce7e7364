"""Checks of what the app did through Twilio's REST API during a session: messages, calls placed,
and the scheduled work its scheduler did on the session's clock.

``[[expect.messages]]`` and ``[[expect.outbound]]`` are checked against the session's network
once every call has ended: each check names the fields a message (or call) must have and how
many must match; a failure lists what the app did send (or place) instead. ``scheduled`` texts
are each looked for in the lines of the scheduled work done.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotline.sim.engine.callees import number_key
from hotline.sim.engine.scheduled import ScheduledRun
from hotline.sim.rest.switchboard import MessageRecord
from hotline.sim.scripts.caller import Failure
from hotline.sim.scripts.model import Location, MessageCheck, OutboundCheck, normalise_heard

_SHOWN_CHARS = 120  # of each message body or call transcript in a failure
_SHOWN_ITEMS = 5  # messages or calls listed in a failure


@dataclass(frozen=True)
class PlacedCall:
    """A call the app placed through the REST API, as the checks see it once it has ended."""

    sid: str
    to: str
    from_: str
    status: str  # its final status: completed, busy, no-answer, failed, canceled
    heard: tuple[str, ...]  # what the app said on it, to the person called


def check_messages(
    checks: Iterable[MessageCheck], messages: Sequence[MessageRecord]
) -> Failure | None:
    """Return the first message check the sent ``messages`` (oldest first) do not meet."""
    for check in checks:
        found = [m for m in messages if _message_matches(check, m)]
        problem = _count_problem(check.count, len(found))
        if problem is not None:
            sent = [_show_message(m) for m in messages]
            what = _describe("message", check.count, check.to, check.from_, _containing(check.body))
            return Failure(check.where, f"expected {what}, {problem}{_listing(sent, 'sent')}")
    return None


def check_outbound(checks: Iterable[OutboundCheck], placed: Sequence[PlacedCall]) -> Failure | None:
    """Return the first outbound-call check the ``placed`` calls (oldest first) do not meet."""
    for check in checks:
        found = [call for call in placed if _call_matches(check, call)]
        problem = _count_problem(check.count, len(found))
        if problem is not None:
            shown = [_show_call(call) for call in placed]
            said = f" ending {check.status}" if check.status else ""
            if check.heard:
                said += " on which the app said " + " and ".join(map(repr, check.heard))
            what = _describe("call", check.count, check.to, check.from_, said)
            return Failure(check.where, f"expected {what}, {problem}{_listing(shown, 'placed')}")
    return None


def _message_matches(check: MessageCheck, message: MessageRecord) -> bool:
    return (
        _same_number(check.to, message.to)
        and _same_number(check.from_, message.from_)
        and _contains_all(message.body, check.body)
    )


def _call_matches(check: OutboundCheck, call: PlacedCall) -> bool:
    return (
        _same_number(check.to, call.to)
        and _same_number(check.from_, call.from_)
        and (check.status is None or check.status == call.status)
        and _contains_all(" ".join(call.heard), check.heard)
    )


def _same_number(wanted: str | None, actual: str) -> bool:
    return wanted is None or number_key(wanted) == number_key(actual)


def _contains_all(text: str, wanted: tuple[str, ...]) -> bool:
    folded = normalise_heard(text).casefold()
    return all(normalise_heard(part).casefold() in folded for part in wanted)


def _count_problem(count: int | None, found: int) -> str | None:
    """What is wrong with ``found`` matches for a check wanting ``count`` (None: at least one)."""
    if count is None:
        return None if found else "found none"
    if found == count:
        return None
    return f"found {found}"


def _describe(noun: str, count: int | None, to: str | None, from_: str | None, rest: str) -> str:
    if count == 0:
        amount = f"no {noun}"
    elif count is None:
        amount = f"a {noun}"
    else:
        amount = f"{count} {noun}{'' if count == 1 else 's'}"
    said = amount + (f" to {to}" if to else "") + (f" from {from_}" if from_ else "")
    return said + rest


def _containing(body: tuple[str, ...]) -> str:
    return " containing " + " and ".join(map(repr, body)) if body else ""


def _listing(items: list[str], verb: str) -> str:
    if not items:
        return f" (the app {verb} none)"
    shown = "; ".join(items[:_SHOWN_ITEMS])
    more = f"; and {len(items) - _SHOWN_ITEMS} more" if len(items) > _SHOWN_ITEMS else ""
    return f" (the app {verb} {len(items)}: {shown}{more})"


def _show_message(message: MessageRecord) -> str:
    return f"to {message.to} from {message.from_}: {_cut(message.body)!r}"


def _show_call(call: PlacedCall) -> str:
    heard = normalise_heard(" ".join(call.heard))
    said = f", heard {_cut(heard)!r}" if heard else ", heard nothing"
    return f"to {call.to} from {call.from_} ({call.status}{said})"


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def check_scheduled(
    expected: Sequence[str], runs: Sequence[ScheduledRun], where: Location
) -> Failure | None:
    """The first of ``expected`` found in no line of the scheduled work done (``runs``)."""
    lines = [f"{run.at:%H:%M:%S} {line}" for run in runs for line in run.lines]
    for text in expected:
        if not any(text in line for line in lines):
            done = _listing(lines, "did") if lines else " (no scheduled work was done)"
            return Failure(where, f"expected scheduled work with {text!r}{done}")
    return None
