"""The sales-quality figures as a rich table, for ``hotline metrics sales-quality``."""

from __future__ import annotations

from rich.table import Table

from hotline.messages.quality import QualityReport
from hotline.rules.sales_quality import SalesQuality


def quality_table(report: QualityReport) -> Table:
    """One row per seller asked for, then the warehouse alone (when the report has it)."""
    shown = "%Y-%m-%d %H:%M %Z"
    window = report.window
    table = Table(
        "",
        "timely responses",
        "average response time",
        "threads",
        "timely",
        "late",
        "pending",
        "responses",
        title=f"Sales quality from {window.start:{shown}} to {window.end:{shown}}",
    )
    for seller, figures in report.sellers.items():
        table.add_row(seller, *_cells(figures))
    if report.warehouse is not None:
        table.add_row("the warehouse alone", *_cells(report.warehouse))
    return table


def _cells(figures: SalesQuality) -> list[str]:
    share = figures.timely_responses
    average = figures.average_response_time_s
    return [
        "—" if share is None else f"{share:.1%}",
        "—" if average is None else _duration(average),
        str(figures.threads),
        str(figures.timely),
        str(figures.late),
        str(figures.pending),
        str(figures.responses),
    ]


def _duration(seconds: float) -> str:
    """``4 h 05 min 10 s`` (whole seconds, as the figures count to the second)."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min {secs:02d} s" if hours else f"{minutes} min {secs:02d} s"
