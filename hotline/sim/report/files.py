"""A replay's report as files for CI: JSON (every call, its transcript, coverage) and JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from hotline.sim.engine.lifecycle import CallResult
from hotline.sim.model import Event
from hotline.sim.report.console import transcript_lines
from hotline.sim.run.outcomes import CallOutcome, RunSummary
from hotline.sim.scripts.caller import Failure


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


def _call_json(outcome: CallOutcome) -> dict[str, Any]:
    script, result, failure = outcome.script, outcome.result, outcome.failure
    call: dict[str, Any] = {
        "name": script.name,
        "file": script.where.file,
        "line": script.where.line,
        "status": outcome.status,
        "failure": _failure_json(failure),
        "skipped": outcome.reason or None,
        "seconds": round(outcome.seconds, 4),
    }
    if result is not None:
        call.update(_result_json(result))
    if outcome.legs:
        call["legs"] = [
            {
                "label": leg.label,
                "failure": _failure_json(leg.failure),
                **(_result_json(leg.result) if leg.result is not None else {}),
            }
            for leg in outcome.legs
        ]
    if outcome.messages:
        call["messages"] = [
            {
                "sid": message.sid,
                "to": message.to,
                "from": message.from_,
                "body": message.body,
                "created": message.created.isoformat(),
            }
            for message in outcome.messages
        ]
    if outcome.scheduled:
        call["scheduled"] = [
            {"at": run.at.isoformat(), "lines": list(run.lines)} for run in outcome.scheduled
        ]
    return call


def _failure_json(failure: Failure | None) -> dict[str, Any] | None:
    if failure is None:
        return None
    return {"file": failure.where.file, "line": failure.where.line, "message": failure.message}


def _result_json(result: CallResult) -> dict[str, Any]:
    return {
        "call_sid": result.call_sid,
        "started": result.started.isoformat(),
        "ended": result.ended.value,
        "reason": result.reason,
        "duration": result.duration,
        "webhooks": result.webhooks,
        "bridged": list(result.bridged),
        "queues": [
            {"name": v.name, "result": v.result, "seconds": v.seconds} for v in result.queues
        ],
        "warnings": [event.text for event in result.events("warning")],
        "transcript": [_event_json(event) for event in result.transcript],
    }


def _event_json(event: Event) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "who": event.who.value,
        "kind": event.kind,
        "text": event.text,
        "url": event.url,
        "detail": dict(event.detail),
    }
