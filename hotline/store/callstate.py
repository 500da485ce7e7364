"""What the hotline knows about a call, as plain data: the decisions read it, the store keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class CallState:
    """What the hotline knows about a call (its latest ``call_events`` row), as mutable data."""

    sid: str
    language: str
    started_at: datetime
    updated_at: datetime
    step: str
    from_number: str | None = None
    to_number: str | None = None
    topic: str | None = None
    order_id: str | None = None
    seller_id: str | None = None
    question: str | None = None
    seller_accepted: bool = False
    dial_status: str | None = None
    queue_result: str | None = None
    thread_id: int | None = None
    outcome: str | None = None
