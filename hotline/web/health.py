"""``GET /healthz`` for load balancers: 200 when this worker can serve calls, else 503 and why.

No token and no signature: a load balancer probes it. So the answer says what is wrong in
general words only (no path, no URL); the log has the details.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from hotline.errors import StoreError
from hotline.ivr.flow import Flow
from hotline.store.database import Store, get_store, head_revision
from hotline.web.webhook import FLOW

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers at the newest schema (still the file opened) and the flow
    is loaded; 503 with the problems otherwise."""
    problems: list[str] = []
    revision = _database(get_store(current_app), problems)
    current: Flow | None = current_app.extensions.get(FLOW)
    if current is None or current.start not in current.steps:
        problems.append("no call flow is loaded")
    elif not problems:
        return jsonify(status="ok", schema=revision, flow=current.name), 200
    return jsonify(status="unavailable", problems=problems), 503


def _database(store: Store, problems: list[str]) -> str | None:
    """The database's schema revision; what is wrong with the database goes into ``problems``."""
    try:
        revision = store.schema_revision()
    except StoreError:
        # The store refuses its file: it logged the path and what to do, once, at ERROR.
        lost = store.file.problem if store.file is not None else None
        problems.append(f"the database file {lost}" if lost else "the database cannot be opened")
        return None
    except SQLAlchemyError as exc:
        log.warning("health check: the database %s does not answer: %s", store.name, exc)
        problems.append("the database does not answer")
        return None
    if revision != head_revision():
        problems.append(
            f"the database is at schema {revision or 'none'}, not {head_revision()}: "
            "run `hotline db upgrade`"
        )
    return revision
