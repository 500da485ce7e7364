"""The tests a flow's branch steps make: pure decisions on the hours, the seller and the call."""

from __future__ import annotations

from datetime import datetime

from hotline.config.settings import Seller
from hotline.errors import FlowError
from hotline.rules import handoff
from hotline.rules.hours import Schedule, is_open


def branch_holds(
    test: str, *, hours: Schedule, seller: Seller | None, question: str | None, now: datetime
) -> bool:
    """Whether branch test ``test`` holds at ``now`` for a call with this seller and question."""
    if test == "hotline_open":
        return is_open(hours, now)
    if test == "seller_available":
        return seller is not None and handoff.seller_available(hours, seller.hours, now)
    if test == "has_question":
        return bool(question)
    raise FlowError(f"unknown branch test {test!r}")
