"""The queue figures as terminal tables (``hotline metrics queue``): per day, per hour, the
transfers by kind."""

from __future__ import annotations

from datetime import datetime

from rich.table import Table

from hotline.rules.queue_figures import PeriodFigures, QueueFigures, QueueReport, TransferFigures

_COLUMNS = ("offered", "answered", "abandoned", "left", "waiting", "ASA", "SL", "aband.", "AHT")


def queue_tables(report: QueueReport, queue: str) -> list[str | Table]:
    """What the command prints: a heading, the days (and the total), the busy hours, transfers."""
    heading = (
        f"queue {queue}: {_moment(report.start)} to {_moment(report.end)} "
        f"({report.start.tzinfo}); service level: answered within "
        f"{report.service_level_seconds} s"
    )
    days = Table("day", *_COLUMNS, title="per day")
    for day in report.days:
        days.add_row(f"{day.period.start:%Y-%m-%d %a}", *_cells(day.figures))
    days.add_section()
    days.add_row("total", *_cells(report.total))
    busy = [h for h in report.hours if h.figures.offered or _transfers_made(h.figures)]
    hours = Table("hour", *_COLUMNS, title="per hour (hours with calls or transfers)")
    for hour in busy:
        hours.add_row(_hour(hour), *_cells(hour.figures))
    transfers = Table(
        "transfer", "made", "with outcome", "succeeded", "success", "outcomes", title="transfers"
    )
    for kind in report.total.transfers:
        transfers.add_row(*_transfer_cells(kind))
    shown: list[str | Table] = [heading, days]
    shown.append(hours if busy else "no calls in any hour")
    shown.append(transfers)
    return shown


def _cells(figures: QueueFigures) -> list[str]:
    return [
        str(figures.offered),
        str(figures.answered),
        str(figures.abandoned),
        str(figures.left_otherwise),
        str(figures.waiting),
        _seconds(figures.average_speed_of_answer),
        _percent(figures.service_level),
        _percent(figures.abandonment_rate),
        _seconds(figures.average_handle_time),
    ]


def _transfer_cells(kind: TransferFigures) -> list[str]:
    outcomes = ", ".join(f"{name} {n}" for name, n in kind.outcomes.items()) or "-"
    return [
        kind.kind,
        str(kind.made),
        str(kind.decided),
        str(kind.succeeded),
        _percent(kind.success_rate),
        outcomes,
    ]


def _transfers_made(figures: QueueFigures) -> int:
    return sum(t.made for t in figures.transfers)


def _hour(hour: PeriodFigures) -> str:
    # The offset tells apart the two 02:00 hours of the night the clocks go back.
    return f"{hour.period.start:%Y-%m-%d %H:%M %z}"


def _moment(instant: datetime) -> str:
    return instant.isoformat(" ", "minutes")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"
