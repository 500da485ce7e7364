"""What a request a script made got back ([[rest]], [[requests]]), and whether it was expected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotline.sim.scripts.caller import Failure
from hotline.sim.scripts.model import AppRequest, RestRequest

_SHOWN = 300


@dataclass(frozen=True)
class Answer:
    """What one request got (``status`` 0: it could not be sent, ``body`` says why)."""

    request: RestRequest | AppRequest
    sent: str  # "POST Calls/CA....json", "POST /api/agents/anna/take"
    status: int
    body: str
    at: datetime | None = None  # the virtual instant it was sent

    def failure(self) -> Failure | None:
        """The request did not get the answer the script expects."""
        wanted = self.request.status
        if self.status and (self.status == wanted or (wanted is None and self.status < 300)):
            return None
        expected = f"expected {wanted}" if wanted is not None else "expected 2xx"
        shown = self.body if len(self.body) <= _SHOWN else self.body[:_SHOWN] + "…"
        got = f"answered {self.status}" if self.status else "was not sent"
        return Failure(self.request.where, f"{self.sent} {got} ({expected}): {shown}", self.at)
