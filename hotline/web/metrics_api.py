"""The figures' JSON API: ``GET /api/metrics/queue?from=&to=`` (the operator's token or any
agent's: the queue's figures are the whole team's) and ``GET /api/metrics/sales-quality?seller=&
from=&to=`` (a seller's own token: their own figures only; the operator's or a warehouse
agent's: any seller's, or without ``seller`` each seller's and the warehouse's alone)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from hotline.agents.figures import read_report, report_as_dict
from hotline.messages.conversation import SELLER
from hotline.messages.quality import quality_report
from hotline.rules.local_periods import SpanError, parse_span, parse_window
from hotline.rules.sales_quality import Window
from hotline.store.database import db_session, get_store
from hotline.web.mc_actors import current_viewer, require_viewer
from hotline.web.security import require_agent_or_operator
from hotline.web.webhook import settings, utc_now

bp = Blueprint("metrics_api", __name__, url_prefix="/api/metrics")


@bp.get("/queue")
@require_agent_or_operator
def queue_metrics() -> Response | tuple[Response, int]:
    """The queue's figures over ``[from, to)``, in all, per local day and per local hour."""
    conf = settings()
    today = utc_now().astimezone(conf.timezone).date()
    try:
        start, end = parse_span(
            request.args.get("from"), request.args.get("to"), conf.timezone, today
        )
    except SpanError as exc:
        return jsonify(error=str(exc)), 400
    report = read_report(get_store(current_app), conf, start, end)
    return jsonify(report_as_dict(report, conf.queue))


@bp.get("/sales-quality")
@require_viewer
def sales_quality_metrics() -> Response | tuple[Response, int]:
    """Timely responses and average response time over ``[from, to)`` (default: the last
    ``sales_quality_window_days``): one seller's, or every seller's and the warehouse's."""
    conf = settings()
    now = utc_now()
    try:
        start, end = parse_window(
            request.args.get("from"),
            request.args.get("to"),
            conf.timezone,
            now,
            conf.routing.sales_quality_window_days,
        )
    except SpanError as exc:
        return jsonify(error=str(exc)), 400
    viewer = current_viewer()
    seller = request.args.get("seller") or None
    if viewer.role == SELLER:
        if seller is not None and seller != viewer.id:
            # As for a thread: another seller's figures do not exist for this one.
            return jsonify(error=f"no seller {seller!r}"), 404
        seller = viewer.id
    known = [s.id for s in conf.sellers]
    if seller is not None and seller not in known:
        return jsonify(error=f"no seller {seller!r}"), 404
    report = quality_report(
        db_session(),
        [seller] if seller is not None else known,
        Window(start, end),
        now,
        conf.routing.response_hours,
        warehouse=seller is None,
    )
    if seller is None:
        return jsonify(report.as_dict())
    return jsonify(
        seller=seller,
        **{"from": start.isoformat(), "to": end.isoformat()},
        **report.sellers[seller].as_dict(),
    )
