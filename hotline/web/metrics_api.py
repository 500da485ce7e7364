"""The figures' JSON API: ``GET /api/metrics/queue?from=&to=`` (the operator's token or any
agent's: the queue's figures are the whole team's)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from hotline.agents.figures import read_report, report_as_dict
from hotline.rules.local_periods import SpanError, parse_span
from hotline.store.database import get_store
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
