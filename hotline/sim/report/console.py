"""Reports of replayed calls: readable transcripts, the summary line, JSON and JUnit XML files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.text import Text

from hotline.sim.model import Event, Who
from hotline.sim.report.folding import fold_transcript
from hotline.sim.run.outcomes import CallOutcome, RunSummary
from hotline.sim.scripts.caller import Failure

# Params every webhook carries; the transcript shows only the others (Digits, DialCallStatus...).
_STANDARD_PARAMS = frozenset(
    {"CallSid", "AccountSid", "From", "To", "Caller", "Called", "Direction", "ApiVersion"}
    | {"CallStatus", "ParentCallSid"}
)
_STYLE = {Who.APP: "cyan", Who.CALLER: "green", Who.CALLEE: "magenta", Who.TWILIO: "dim"}
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
    """The call's transcript as (text, rich style) lines, the failure shown where it happened."""
    events = list(outcome.result.transcript) if outcome.result else []
    failure = outcome.failure
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


def describe(event: Event) -> str:
    """One event in words: what was said, pressed or posted, and where."""
    kind, text = event.kind, event.text
    if kind == "webhook" or kind == "status-callback":
        method, _, status = text.partition(" ")
        params = "  ".join(
            f"{k}={v!r}"
            for k, v in event.detail.items()
            if k not in _STANDARD_PARAMS and not k.endswith("Sid")
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
    }
    return simple.get(kind, f"{kind}: {text}")


def write_json(path: Path, summary: RunSummary, coverage: dict[str, Any] | None = None) -> None:
    """Write the run as JSON: the counts, each call with its verdict and transcript, coverage."""
    document: dict[str, Any] = {
        "summary": {
            "total": len(summary.outcomes),
            "passed": summary.passed,
            "failed": summary.failed,
            "skipped": summary.skipped,
        },
        "calls": [_call_json(outcome) for outcome in summary.outcomes],
    }
    if coverage is not None:
        document["coverage"] = coverage
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_junit(path: Path, summary: RunSummary) -> None:
    """Write the run as JUnit XML, one testcase per call (CI servers show these natively)."""
    outcomes = summary.outcomes
    errors = sum(1 for outcome in outcomes if outcome.status == "error")
    suite = ET.Element(
        "testsuite",
        name="hotline replay",
        tests=str(len(outcomes)),
        failures=str(summary.failed - errors),
        errors=str(errors),
        skipped=str(summary.skipped),
        time=f"{sum(outcome.seconds for outcome in outcomes):.3f}",
    )
    for outcome in outcomes:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=outcome.script.where.file,
            name=outcome.script.name,
            file=outcome.script.where.file,
            line=str(outcome.script.where.line),
            time=f"{outcome.seconds:.3f}",
        )
        if outcome.skipped:
            ET.SubElement(case, "skipped", message=outcome.reason)
            continue
        if outcome.failure is not None:
            tag = "error" if outcome.status == "error" else "failure"
            element = ET.SubElement(case, tag, message=str(outcome.failure).splitlines()[0])
            element.text = str(outcome.failure)
        output = ET.SubElement(case, "system-out")
        output.text = "\n".join(line for line, _ in transcript_lines(outcome))
    suites = ET.Element("testsuites")
    suites.append(suite)
    tree = ET.ElementTree(suites)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


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


def _call_json(outcome: CallOutcome) -> dict[str, Any]:
    script, result, failure = outcome.script, outcome.result, outcome.failure
    call: dict[str, Any] = {
        "name": script.name,
        "file": script.where.file,
        "line": script.where.line,
        "status": outcome.status,
        "failure": None,
        "skipped": outcome.reason or None,
        "seconds": round(outcome.seconds, 4),
    }
    if failure is not None:
        call["failure"] = {
            "file": failure.where.file,
            "line": failure.where.line,
            "message": failure.message,
        }
    if result is not None:
        call.update(
            {
                "call_sid": result.call_sid,
                "started": result.started.isoformat(),
                "ended": result.ended.value,
                "reason": result.reason,
                "duration": result.duration,
                "webhooks": result.webhooks,
                "bridged": list(result.bridged),
                "queues": [
                    {"name": v.name, "result": v.result, "seconds": v.seconds}
                    for v in result.queues
                ],
                "warnings": [event.text for event in result.events("warning")],
                "transcript": [_event_json(event) for event in result.transcript],
            }
        )
    return call


def _event_json(event: Event) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "who": event.who.value,
        "kind": event.kind,
        "text": event.text,
        "url": event.url,
        "detail": dict(event.detail),
    }


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
