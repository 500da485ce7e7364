"""The JSON API (``/api``) of calls, behind ``Authorization: Bearer $HOTLINE_API_TOKEN`` (the
Message Center's threads are ``threads_api``)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import select

from hotline.rules import phones
from hotline.store import transfers
from hotline.store.database import db_session
from hotline.store.models import CallEventRow
from hotline.web.security import require_api_token

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/calls/<sid>")
@require_api_token
def get_call(sid: str) -> Response | tuple[Response, int]:
    """One call: what the hotline learnt and every webhook step it took."""
    rows = select(CallEventRow).where(CallEventRow.call_sid == sid).order_by(CallEventRow.seq)
    events = db_session().scalars(rows).all()
    # The call is its latest row with a state (rows with none are only events of a CallSid the
    # hotline never started, migrated from before the state moved into the rows).
    call = next((e for e in reversed(events) if e.started_at is not None), None)
    if call is None:
        return jsonify(error=f"no call {sid}"), 404
    assert call.started_at is not None
    return jsonify(
        sid=call.call_sid,
        # The API is for the operator's staff, but a number is still shown masked.
        from_number=phones.mask(call.from_number),
        to_number=call.to_number,
        language=call.language,
        started_at=call.started_at.isoformat(),
        step=call.call_step,
        topic=call.topic,
        order=call.order_id,
        seller=call.seller_id,
        question=call.question,
        seller_accepted=call.seller_accepted,
        dial_status=call.dial_status,
        queue_result=call.queue_result,
        thread=call.thread_id,
        outcome=call.outcome,
        transfers=[t.as_dict() for t in transfers.of_call(db_session().connection(), sid)],
        events=[
            {"at": e.at.isoformat(), "step": e.step, "input": e.input, "decision": e.decision}
            for e in events
        ],
    )
