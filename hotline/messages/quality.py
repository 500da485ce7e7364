"""Sales quality from the store: each seller's and the warehouse's figures over a window,
computed by ``hotline.rules.sales_quality`` from the messages' times (never from counters)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hotline.messages.activity import ThreadActivity, load_activity
from hotline.rules.sales_quality import SalesQuality, Thread, ThreadMessage, Window, sales_quality


@dataclass(frozen=True)
class QualityReport:
    """The figures of some sellers (in the order asked) and, when asked, the warehouse alone."""

    window: Window
    sellers: dict[str, SalesQuality]
    warehouse: SalesQuality | None

    def as_dict(self) -> dict[str, object]:
        """The report as the API shows it."""
        shown: dict[str, object] = {
            "from": self.window.start.isoformat(),
            "to": self.window.end.isoformat(),
            "sellers": {s: figures.as_dict() for s, figures in self.sellers.items()},
        }
        if self.warehouse is not None:
            shown["warehouse"] = self.warehouse.as_dict()
        return shown


def seller_quality(
    session: Session, seller_id: str, window: Window, now: datetime, response_hours: int
) -> SalesQuality:
    """The figures of ``seller_id``'s orders' threads, whoever is assigned to them now."""
    activity = load_activity(session, since=window.start, until=window.end, seller_id=seller_id)
    return sales_quality(_threads(activity), window, now, response_hours)


def warehouse_quality(
    session: Session, window: Window, now: datetime, response_hours: int
) -> SalesQuality:
    """The figures of the threads assigned to the warehouse now (the warehouse alone)."""
    activity = load_activity(session, since=window.start, until=window.end, warehouse=True)
    return sales_quality(_threads(activity), window, now, response_hours)


def quality_report(
    session: Session,
    sellers: Iterable[str],
    window: Window,
    now: datetime,
    response_hours: int,
    *,
    warehouse: bool,
) -> QualityReport:
    """Each of ``sellers``' figures, and (``warehouse``) the warehouse's alone."""
    return QualityReport(
        window,
        {s: seller_quality(session, s, window, now, response_hours) for s in sellers},
        warehouse_quality(session, window, now, response_hours) if warehouse else None,
    )


def _threads(activity: Iterable[ThreadActivity]) -> list[Thread]:
    return [
        Thread(
            seller_id=t.seller_id,
            assigned=t.assigned,
            kind=t.kind,
            messages=tuple(ThreadMessage(m.author, m.at, m.kind) for m in t.messages),
        )
        for t in activity
    ]
