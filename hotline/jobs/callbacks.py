"""The job ``callbacks``: at each due callback's time the hotline calls the buyer back.

A due request is claimed in one transaction (``hotline.store.callbacks``: of two schedulers, one
claims it), then the call is placed through Twilio's Calls API with hotline's Client, from the
number the buyer had called, its Url the ``/voice/callback/answer`` webhook and its status
callback ``/voice/callback/status`` (for the ``completed`` event, whose CallStatus says busy,
no-answer, failed, canceled or completed), both carrying the callback's id and try, and the
call's SID is recorded in another. A Calls request Twilio refuses is an unanswered try; so is a
claim whose status callback never came within ``CLAIM_LAPSE`` (its scheduler may have died
before recording the call: one more call, rather than a buyer never called). Unanswered tries
go on as ``hotline.messages.callbacks`` says: once more after ``[callbacks] retry_minutes``,
then a thread for the warehouse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from requests import RequestException
from twilio.base.exceptions import TwilioException

from hotline.errors import ConfigError
from hotline.jobs.context import JobContext
from hotline.messages.callbacks import GAVE_UP, RETRYING, settle_unanswered
from hotline.rules.phones import mask, mask_in_text
from hotline.store import callbacks
from hotline.store.callbacks import Claim
from hotline.store.models import CallbackRow

logger = logging.getLogger(__name__)
# Twilio rings for at most its Timeout (60 s by default) and reports the end at once: a try
# still without its status callback after this was lost.
CLAIM_LAPSE = timedelta(minutes=15)
LOST = "lost"  # the last_result of a try whose end was never reported
REFUSED = "refused"  # the last_result of a try Twilio's Calls API did not accept


@dataclass
class CallbackReport:
    """What one run did, callback ids by what became of them."""

    called: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    gave_up: list[int] = field(default_factory=list)


def call_back(context: JobContext, now: datetime) -> CallbackReport:
    """Place every callback due at ``now`` (the job ``callbacks``); safe to run again any time."""
    report = CallbackReport()
    store = context.store
    with store.session() as session:
        due = callbacks.due_ids(session, now)
    for row_id in due:
        with store.session() as session:
            row = session.get(CallbackRow, row_id)
            lapsed = row is not None and row.status == callbacks.CALLING and row.due_at <= now
            attempts = row.attempts if row is not None else 0
            claim = None if lapsed else callbacks.claim(session, row_id, now, CLAIM_LAPSE)
        if lapsed:
            _unanswered(context, row_id, attempts, LOST, now, report)
        elif claim is not None:  # else another run took it meanwhile
            _place(context, claim, now, report)
    return report


def next_due(context: JobContext, now: datetime) -> datetime | None:
    """When this job next has work: the earliest due callback or lapsing claim (``None``: none)."""
    with context.store.session() as session:
        earliest = callbacks.earliest_due(session)
    return None if earliest is None else max(earliest, now)


def _place(context: JobContext, claim: Claim, now: datetime, report: CallbackReport) -> None:
    try:
        sid = _create_call(context, claim)
    except (TwilioException, RequestException, ConfigError) as exc:
        logger.warning(
            "callback %s try %s to %s not placed: %s",
            claim.id,
            claim.attempts,
            mask(claim.phone),
            mask_in_text(exc),
        )
        _unanswered(context, claim.id, claim.attempts, REFUSED, now, report)
        return
    with context.store.session() as session:
        callbacks.placed(session, claim, sid)
    report.called.append(claim.id)
    logger.info("callback %s try %s: calling %s", claim.id, claim.attempts, mask(claim.phone))


def _create_call(context: JobContext, claim: Claim) -> str:
    base = context.settings.public_base_url
    if not base:
        raise ConfigError(
            "callbacks need hotline.public_base_url: Twilio fetches the callback's webhooks there"
        )
    if not claim.hotline_number:
        raise ConfigError("the call that asked for the callback had no number it called")
    query = urlencode({"callback": claim.id, "try": claim.attempts})
    call = context.twilio().calls.create(
        to=claim.phone,
        from_=claim.hotline_number,
        url=f"{base}/voice/callback/answer?{query}",
        method="POST",
        status_callback=f"{base}/voice/callback/status?{query}",
        status_callback_method="POST",
        status_callback_event=["completed"],
    )
    return str(call.sid)


def _unanswered(
    context: JobContext,
    row_id: int,
    attempts: int,
    result: str,
    now: datetime,
    report: CallbackReport,
) -> None:
    settings = context.settings
    retry = timedelta(minutes=settings.jobs.callbacks.retry_minutes)
    with context.store.session() as session:
        row = session.get(CallbackRow, row_id)
        if row is None or row.status != callbacks.CALLING or row.attempts != attempts:
            return
        outcome = settle_unanswered(session, row, result, now, retry, settings.routing)
    if outcome == RETRYING:
        report.retrying.append(row_id)
    elif outcome == GAVE_UP:
        report.gave_up.append(row_id)
