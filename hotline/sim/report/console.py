"""Reports of replayed calls in the terminal: readable transcripts (with the other calls of a
session under the main one) and the summary line; the files for CI are in ``files.py``."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from rich.console import Console
from rich.text import Text

from hotline.sim.model import Event, Who
from hotline.sim.report.folding import fold_transcript
from hotline.sim.run.outcomes import CallOutcome, RunSummary
from hotline.sim.run.sessions import LegOutcome
from hotline.sim.scripts.caller import Failure

# Params every webhook carries; the transcript shows only the others (Digits, DialCallStatus...).
_STANDARD_PARAMS = frozenset(
    {"CallSid", "AccountSid", "From", "To", "Caller", "Called", "Direction", "ApiVersion"}
    | {"CallStatus", "ParentCallSid"}
)
_STYLE = {
    Who.APP: "cyan",
    Who.CALLER: "green",
    Who.CALLEE: "magenta",
    Who.TWILIO: "dim",
    Who.SCHEDULER: "yellow",
}
_LEG_INDENT = "  "  # a party's lines, under the main call's
_MARK = {
    "passed": ("✓", "green"),
    "failed": ("✗", "red"),
    "error": ("!", "red"),
    "skipped": ("-", "yellow"),
}


def print_outcome(console: Console, outcome: CallOutcome, *, transcript: bool) -> None:
    """Print one call: a header line, its transcript if asked (always when it failed)."""
    mark, style = _MARK[outcome.status]
    script = outcome.script
    header = Text()
    header.append(f"{mark} {outcome.status.upper()} ", style=f"bold {style}")
    header.append(script.name, style="bold")
    header.append(f"  {script.where}", style="dim")
    result = outcome.result
    if result is not None:
        header.append(
            f"  {result.started:%a %Y-%m-%d %H:%M:%S%z} · {result.duration:g} s on the call"
            f" · {result.webhooks} webhooks",
            style="dim",
        )
    if outcome.scheduled:  # the app's scheduled work ran in the session (-v shows each line)
        runs = len(outcome.scheduled)
        header.append(f" · {runs} scheduled run{'s' if runs != 1 else ''}", style="dim")
    if outcome.skipped:
        header.append(f"  skipped: {outcome.reason}", style=style)
    # soft_wrap: a transcript line stays one line, however narrow the terminal or CI log.
    console.print(header, highlight=False, soft_wrap=True)
    if outcome.skipped:
        return
    if transcript or not outcome.passed:
        for line, line_style in transcript_lines(outcome):
            console.print(Text("    " + line, style=line_style), highlight=False, soft_wrap=True)
    else:  # a call that passed still shows what of its TwiML the simulator did not play
        for line in warning_lines(outcome):
            console.print(Text("    " + line, style="yellow"), highlight=False, soft_wrap=True)


def warning_lines(outcome: CallOutcome) -> list[str]:
    """The call's TwiML warnings, each distinct one once (with how often it came)."""
    events = outcome.result.events("warning") if outcome.result else []
    counts: dict[tuple[str, str], int] = {}
    for event in events:
        key = (event.text, event.url)
        counts[key] = counts.get(key, 0) + 1
    return [
        f"⚠ {text} (in {_path(url)})" + (f"  (×{count})" if count > 1 else "")
        for (text, url), count in counts.items()
    ]


def transcript_lines(outcome: CallOutcome) -> list[tuple[str, str]]:
    """The call's transcript as (text, rich style) lines, the failure shown where it happened.

    The session's other calls (its parties, the calls the app placed) follow, each under a
    header line, indented, with its own failure.
    """
    events = list(outcome.result.transcript) if outcome.result else []
    if outcome.scheduled:  # the app's scheduled work, among the call's events by its time
        events = sorted([*events, *scheduled_events(outcome)], key=lambda event: event.at)
    failure = outcome.failure
    if any(leg.failure is not None and leg.failure == failure for leg in outcome.legs):
        failure = None  # a party's: shown in the party's transcript
    lines = _event_lines(events, failure)
    for leg in outcome.legs:
        lines.append(_leg_header(leg))
        leg_events = list(leg.result.transcript) if leg.result else []
        lines.extend(
            (_LEG_INDENT + text, style) for text, style in _event_lines(leg_events, leg.failure)
        )
    return lines


def scheduled_events(outcome: CallOutcome) -> list[Event]:
    """The scheduled work done in the call's session, as transcript events (one per line)."""
    return [
        Event(run.at, Who.SCHEDULER, "scheduled", line)
        for run in outcome.scheduled
        for line in run.lines
    ]


def _event_lines(events: list[Event], failure: Failure | None) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    placed = failure is None
    for fold in fold_transcript(events):
        first = fold.events[0]
        if not placed and failure is not None and failure.at is not None and first.at > failure.at:
            lines.extend(_failure_lines(failure))
            placed = True
        for event in fold.events:
            text = f"{_clock(event.at)}  {event.who.value:<7} {describe(event)}"
            if fold.repeats > 1 and len(fold.events) == 1:
                text += f"  (×{fold.repeats})"
            lines.append((text, _STYLE[event.who]))
            if event.kind == "app-error":  # the app's traceback, where the call met it
                shown = event.detail.get("traceback", "").rstrip().splitlines()
                lines.extend((f"{'':<20}{line}", "red") for line in shown)
        if fold.repeats > 1 and len(fold.events) > 1:
            again = f"↑ the {len(fold.events)} lines above ×{fold.repeats} in all, to here"
            lines.append((f"{_clock(fold.last.at)}  {'':<7} {again}", "dim"))
    if not placed and failure is not None:
        lines.extend(_failure_lines(failure))
    return lines


def _leg_header(leg: LegOutcome) -> tuple[str, str]:
    mark, style = ("✗", "bold red") if leg.failure is not None else ("─", "bold")
    result = leg.result
    if result is None:
        return f"{mark} {leg.label}: it crashed", style
    return (
        f"{mark} {leg.label}  {result.call_sid}  from {_clock(result.started)}"
        f" · {result.duration:g} s on the call · ended {result.ended.value}",
        style,
    )


def describe(event: Event) -> str:
    """One event in words: what was said, pressed or posted, and where."""
    kind, text = event.kind, event.text
    if kind == "webhook" or kind == "status-callback":
        method, _, status = text.partition(" ")
        params = "  ".join(
            f"{k}={v!r}"
            for k, v in event.detail.items()
            # A status callback's CallStatus is its news (completed, busy...): shown.
            if (k not in _STANDARD_PARAMS or (k == "CallStatus" and kind != "webhook"))
            and not k.endswith("Sid")
        )
        what = "" if kind == "webhook" else "status callback "
        return f"{what}{method} {_path(event.url)} → {status}" + (f"  {params}" if params else "")
    if kind == "fallback":
        code, fallback = event.detail.get("ErrorCode", "?"), _path(event.detail.get("fallback", ""))
        return f"requests the Voice Fallback URL {fallback} (ErrorCode {code}): {text}"
    if kind == "say":
        cut = event.detail.get("interrupted")
        party = event.detail.get("party")  # a whisper: the dialled number hears it
        said = f"{party} hears {text!r}" if party else f"says {text!r}"
        return said + (f" (cut off after {cut} s)" if cut else "")
    if kind == "speak":
        ignored = event.detail.get("ignored")
        return f"says {text!r}" + (f" (ignored: {ignored})" if ignored else "")
    if kind == "press":
        ignored = event.detail.get("ignored")
        return f"presses {text}" + (f" (ignored: {ignored})" if ignored else "")
    simple = {
        "play": f"plays {text}",
        "pause": f"pauses {text} s",
        "silence": f"stays silent ({text} s)",
        "record": f"records {event.detail.get('seconds', '?')} s"
        + (f" (ended by {event.detail['ended']})" if event.detail.get("ended") else "")
        + (f": {text!r}" if text else ""),
        "hangup": f"hangs up: {text}",
        "redirect": f"redirects to {_path(text)}",
        "http-redirect": f"follows the {event.detail.get('status', '3xx')} redirect:"
        f" {event.detail.get('method', '')} {_path(text)}",
        "dial": f"dials {text}",
        "ring": f"{text} rings ({event.detail.get('outcome', '?')})",
        "answer": f"{text} answers",
        "bridge": f"connected to {text}",
        "no-bridge": f"nobody connected: {text}",
        "enqueue": f"enters queue {text}"
        + (" (TaskRouter's workflow)" if event.detail.get("workflowSid") else ""),
        "dequeue": f"leaves queue {event.detail.get('queue', '')}: {text}",
        "end": f"call ended: {text}" + _reason(event),
        "warning": f"warning {event.detail.get('ErrorCode', '')}: {text}",
        "app-error": f"raised {text}",
        "scheduled": text,
    }
    return simple.get(kind, f"{kind}: {text}")


def print_summary(console: Console, summary: RunSummary) -> None:
    """Print the list of failed calls, then ``N passed, M failed``."""
    failed = [o for o in summary.outcomes if not o.passed and not o.skipped]
    if failed:
        console.print()
        for outcome in failed:
            first = str(outcome.failure).splitlines()[0] if outcome.failure else outcome.status
            line = Text("✗", style="red").append(f" {outcome.script.name}: {first}")
            console.print(line, highlight=False, soft_wrap=True)  # Text: "[queues]" is no markup
    style = "bold red" if failed else "bold yellow" if summary.skipped else "bold green"
    console.print(Text(summary.line(), style=style))


def _failure_lines(failure: Failure) -> list[tuple[str, str]]:
    first, *rest = str(failure).splitlines()
    return [(f"✗ {first}", "bold red"), *((f"  {line}", "red") for line in rest)]


def _clock(at: datetime) -> str:
    return f"{at:%H:%M:%S}.{at.microsecond // 100_000}"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "") if parts.path else url


def _reason(event: Event) -> str:
    reason = event.detail.get("reason", "")
    return f" ({reason})" if reason else ""
