"""The webhooks of the hotline's callbacks (``/voice/callback/...``), the calls the scheduler
places to buyers who asked outside the hours (``hotline.jobs.callbacks``).

``answer`` is the outbound call's Url: the buyer picked up, hears who calls and why (the flow's
``callback_offer`` step's ``greeting``) and is put in the agents' queue with the topic of the
call that asked, as the IVR's ``enqueue`` step puts callers (the call gets its own record, so
the queue's webhooks serve it like any other). ``status`` is its status callback: a final
CallStatus of busy, no-answer, failed or canceled is an unanswered try (tried once more after
``[callbacks] retry_minutes``, then a thread for the warehouse). Both carry the callback's id
and try number, so a report of an earlier try, or a retry of one, changes nothing.

Signed by Twilio (checked as for ``/voice``); TwiML whatever happens, never a 5xx.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.orm import Session

from hotline.ivr.flow import CALLBACK_OFFER
from hotline.ivr.reply import Reply
from hotline.ivr.steps import Turn
from hotline.messages.callbacks import settle_unanswered
from hotline.rules import callbacks as rules
from hotline.store import callbacks
from hotline.store.callstate import CallState
from hotline.store.callstore import CallWork, record_failure
from hotline.store.database import get_store
from hotline.store.models import CallbackRow
from hotline.web.security import require_twilio_signature
from hotline.web.webhook import apology, directory, flow, settings, twiml, url_base, utc_now

log = logging.getLogger(__name__)
bp = Blueprint("callback_voice", __name__, url_prefix="/voice/callback")
bp.before_request(require_twilio_signature)


def _wanted() -> tuple[int, int] | None:
    """The callback id and try number the URL carries (``None`` when they are not numbers)."""
    try:
        return int(request.args.get("callback", "")), int(request.args.get("try", ""))
    except ValueError:
        return None


def _current_try(session: Session, wanted: tuple[int, int] | None) -> CallbackRow | None:
    """The callback the URL names, if the URL's try is still its latest one."""
    if wanted is None:
        return None
    row = session.get(CallbackRow, wanted[0])
    if row is None or row.attempts != wanted[1]:
        return None
    return row


@bp.post("/answer")
def answer() -> Response:
    """The buyer answered the callback: who calls and why, then the agents' queue."""
    sid = request.form.get("CallSid", "").strip()[:64]
    now = utc_now()
    current = flow()
    try:
        with CallWork(get_store(current_app)) as work:
            session = work.session()
            row = _current_try(session, _wanted())
            step = next((s for s in current.steps.values() if s.kind == CALLBACK_OFFER), None)
            if not sid or row is None or step is None or row.status == callbacks.CANCELLED:
                log.warning("callback answer for call %s matches no callback try", sid or "-")
                return twiml(_goodbye(row.language if row is not None else None))
            if row.status == callbacks.CALLING:
                callbacks.mark_answered(session, row, now, sid)
            call = work.load(sid) or _call_of(row, sid, now, current.start)
            turn = Turn(current, settings(), directory(), work, call, now, url_base())
            turn.greet_callback(step)
            call.updated_at = now
            work.save(call, "callback/answer", None, " > ".join(turn.trail))
        return twiml(turn.response)
    except Exception as exc:
        log.exception("webhook %s failed for call %s", request.path, sid or "-")
        if sid:
            record_failure(get_store(current_app), sid, now, "callback/answer", type(exc).__name__)
        return twiml(apology(None, now, "agent"))


def _call_of(row: CallbackRow, sid: str, now: datetime, start: str) -> CallState:
    """The callback call's record: the buyer as the caller, what the asking call had learnt."""
    return CallState(
        sid=sid,
        language=row.language,
        started_at=now,
        updated_at=now,
        step=start,
        from_number=row.phone,
        to_number=row.hotline_number,
        topic=row.topic,
        order_id=row.order_id,
        seller_id=row.seller_id,
    )


def _goodbye(language: str | None) -> Reply:
    current = flow()
    lang = current.languages.get(language or "") or next(iter(current.languages.values()))
    reply = Reply()
    reply.say(lang.prompts["goodbye"], voice=lang.voice, language=lang.say_language)
    reply.hangup()
    return reply


@bp.post("/status")
def status() -> Response:
    """The callback's status callback: an unanswered try is retried later, then a thread."""
    sid = request.form.get("CallSid", "").strip()[:64]
    call_status = (request.form.get("CallStatus") or "").strip()[:32]
    now = utc_now()
    conf = settings()
    try:
        with get_store(current_app).session() as session:
            row = _current_try(session, _wanted())
            if row is None or row.status != callbacks.CALLING:
                outcome = "not the current try"
            elif call_status in rules.UNANSWERED:
                retry = timedelta(minutes=conf.jobs.callbacks.retry_minutes)
                outcome = settle_unanswered(session, row, call_status, now, retry, conf.routing)
            elif call_status == "completed":  # answered, though its answer webhook never came
                outcome = "answered" if callbacks.mark_answered(session, row, now, sid) else "-"
            else:
                outcome = "not final"
            log.info("callback status %s for call %s: %s", call_status or "-", sid or "-", outcome)
    except Exception:
        log.exception("webhook %s failed for call %s", request.path, sid or "-")
    return twiml(Reply())  # Twilio reads nothing from a status callback's answer


def init_app(app: Flask) -> None:
    """Register the callback webhooks."""
    app.register_blueprint(bp)
