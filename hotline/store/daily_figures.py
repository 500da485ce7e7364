"""The days' rolled-up figures (``daily_figures``): written once per (day, kind, subject), read
back for days whose call rows were pruned, and the first day there is anything to roll up.

Works inside the caller's transaction (``Connection``), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hotline.store.models import (
    CallEventRow,
    DailyFiguresRow,
    MessageRow,
    QueueEntryRow,
    TransferRow,
)

QUEUE = "queue"
SALES_QUALITY = "sales_quality"
WAREHOUSE = "warehouse"  # the subject of the warehouse's own sales quality

_FIGURES: Table = DailyFiguresRow.__table__  # type: ignore[assignment]


def seller_subject(seller_id: str) -> str:
    """The subject of a seller's sales-quality row (apart from the warehouse's, whatever ids)."""
    return f"seller:{seller_id}"


def insert_once(
    conn: Connection,
    day: date,
    kind: str,
    subject: str,
    figures: dict[str, Any],
    computed_at: datetime,
) -> bool:
    """Store a day's figures unless they are there already; says whether this call wrote them."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(_FIGURES)
        .execution_options(preserve_rowcount=True)
        .values(day=day, kind=kind, subject=subject, figures=figures, computed_at=computed_at)
        .on_conflict_do_nothing(index_elements=["day", "kind", "subject"])
    )
    return bool(conn.execute(statement).rowcount == 1)


def latest_day(conn: Connection, kind: str) -> date | None:
    """The latest day rolled up for ``kind`` (``None``: none yet)."""
    found: date | None = conn.execute(
        select(func.max(_FIGURES.c.day)).where(_FIGURES.c.kind == kind)
    ).scalar()
    return found


def days_rolled_up(conn: Connection, kind: str, subject: str, first: date, last: date) -> set[date]:
    """The days in ``[first, last]`` that have ``kind``'s roll-up for ``subject``."""
    f = _FIGURES.c
    rows = conn.execute(
        select(f.day).where(f.kind == kind, f.subject == subject, f.day >= first, f.day <= last)
    )
    return {row.day for row in rows}


def pruned(
    conn: Connection, kind: str, subject: str, first: date, last: date
) -> dict[date, dict[str, Any]]:
    """The roll-ups of the days in ``[first, last]`` whose rows were pruned, by day."""
    f = _FIGURES.c
    rows = conn.execute(
        select(f.day, f.figures).where(
            f.kind == kind,
            f.subject == subject,
            f.day >= first,
            f.day <= last,
            f.pruned_at.is_not(None),
        )
    )
    return {row.day: row.figures for row in rows}


def mark_pruned(
    conn: Connection,
    kind: str,
    subject: str,
    figures: dict[date, dict[str, Any]],
    at: datetime,
) -> None:
    """Record the days pruned at ``at``, each with its figures as the rows gave them then."""
    f = _FIGURES.c
    for day, shown in figures.items():
        conn.execute(
            update(_FIGURES)
            .where(f.day == day, f.kind == kind, f.subject == subject)
            .values(figures=shown, pruned_at=at)
        )


def rows_of(conn: Connection, kind: str | None = None) -> list[DailyFiguresRow]:
    """Every roll-up (of ``kind``), by day then subject: for the tests and the command."""
    statement = select(_FIGURES).order_by(_FIGURES.c.day, _FIGURES.c.kind, _FIGURES.c.subject)
    if kind is not None:
        statement = statement.where(_FIGURES.c.kind == kind)
    return [DailyFiguresRow(**row._asdict()) for row in conn.execute(statement)]


def earliest_record(conn: Connection, before: datetime | None = None) -> datetime | None:
    """The earliest time a call, queue entry, transfer or thread message was recorded at."""
    found: list[datetime] = []
    for column in _RECORD_TIMES:
        statement = select(func.min(column))
        if before is not None:
            statement = statement.where(column < before)
        value = conn.execute(statement).scalar()
        if value is not None:
            found.append(value)
    return min(found, default=None)


_RECORD_TIMES: Collection[Any] = (
    CallEventRow.__table__.c.at,
    QueueEntryRow.__table__.c.first_entered_at,
    TransferRow.__table__.c.at,
    MessageRow.__table__.c.created_at,
)
