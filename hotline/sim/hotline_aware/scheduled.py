"""hotline's scheduled jobs as the simulator's ``ScheduledWork``: ``run_due`` on the virtual clock.

The replay builds hotline in process (``target.py``); its scheduler's jobs (``hotline.jobs``)
run here with a ``JobContext`` of that app's settings and store, and the app's own twilio Client,
which reaches the replay's REST stand-in (``$TWILIO_API_URL``), so an SMS the outbox sends is a
Message of the session. Each run that did something is told as one line per job, numbers masked
as in hotline's logs: ``outbox: 1 sent (sms to +48******200), 1 sent (mail to seller acme)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config.settings import Settings
from hotline.jobs.context import JobContext
from hotline.jobs.delivery import DeliveryReport
from hotline.jobs.notices import BUYER_KINDS
from hotline.jobs.registry import next_due, run_due
from hotline.rules.phones import mask, mask_in_text
from hotline.store.database import Store
from hotline.store.models import OutboxRow


class HotlineScheduledWork:
    """hotline's jobs on one app's store; the simulator's scheduler actor drives them."""

    def __init__(self, settings: Settings, store: Store, twilio: Any) -> None:
        self.context = JobContext(settings, store, twilio_factory=twilio)

    def next_due(self, now: datetime) -> datetime | None:
        """When a job next has work (``registry.next_due``)."""
        return next_due(self.context, now)

    def run_due(self, now: datetime) -> list[str]:
        """Run every job's due work at ``now``; a line for each job that did something."""
        lines = []
        for name, report in run_due(self.context, now).items():
            said = self._describe(report)
            if said:
                lines.append(f"{name}: {said}")
        return lines

    def _describe(self, report: Any) -> str:
        if isinstance(report, DeliveryReport):
            return self._delivery(report)
        return describe_counts(report)

    def _delivery(self, report: DeliveryReport) -> str:
        ids = [*report.sent, *report.found_sent, *report.retrying, *report.failed, *report.skipped]
        if not ids:
            return ""
        with Session(self.context.store.engine) as session:
            found = session.scalars(select(OutboxRow).where(OutboxRow.id.in_(ids)))
            rows = {row.id: row for row in found}
        parts = []
        for what, row_ids in (
            ("sent", report.sent),
            ("found sent already", report.found_sent),
            ("to retry", report.retrying),
            ("failed", report.failed),
            ("skipped", report.skipped),
        ):
            if row_ids:
                shown = ", ".join(_row(rows[i], what) for i in row_ids if i in rows)
                parts.append(f"{len(row_ids)} {what} ({shown})")
        return ", ".join(parts)


def _row(row: OutboxRow, what: str) -> str:
    if row.kind.startswith(BUYER_KINDS):
        said = f"sms to {mask(row.recipient)}"
    else:
        said = f"mail to {'seller ' if row.recipient != 'warehouse' else ''}{row.recipient}"
    if what in ("skipped", "failed", "to retry") and row.last_error:
        said += f": {mask_in_text(row.last_error)}"
    return said


def describe_counts(report: Any) -> str:
    """A job's report in words: each non-empty count (``2 reminded, 1 overdue``); "" for none."""
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        fields = dataclasses.fields(report)
        items: Mapping[str, Any] = {f.name: getattr(report, f.name) for f in fields}
    elif isinstance(report, Mapping):
        items = report
    else:
        return "" if not report else mask_in_text(report)
    parts = []
    for name, value in items.items():
        count = len(value) if isinstance(value, list | tuple | set | frozenset) else value
        if isinstance(count, int) and not isinstance(count, bool) and count:
            parts.append(f"{count} {name.replace('_', ' ')}")
    return ", ".join(parts)
