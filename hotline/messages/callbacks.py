"""A callback nobody answered: tried once more later, then a thread for the warehouse holding it.

Called with the callback's try still ``calling`` (a status callback saying busy or no-answer, a
Calls request Twilio refused, a claim whose status callback never came); the change is
conditional on that try, so a repeated report of it changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hotline.config.message_center import MessageCenter
from hotline.messages.threads import open_thread
from hotline.rules import callbacks as rules
from hotline.rules.routing import Party
from hotline.store import callbacks
from hotline.store.models import CallbackRow

RETRYING, GAVE_UP, STALE = "retrying", "gave_up", "stale"
QUESTION = "(the buyer asked to be called back when the hotline opens)"


def settle_unanswered(
    session: Session,
    row: CallbackRow,
    result: str,
    now: datetime,
    retry: timedelta,
    routing: MessageCenter,
) -> str:
    """After try ``row.attempts`` went unanswered (``result``): retry, or the warehouse's thread.

    Returns ``retrying``, ``gave_up`` or ``stale`` (the try was settled already).
    """
    after = rules.after_unanswered(row.attempts, now, retry)
    if after.retry_at is not None:
        done = callbacks.mark_retry(session, row, result, after.retry_at, now)
        return RETRYING if done else STALE
    thread = open_thread(
        session,
        call_sid=row.call_sid,  # one thread per request, whoever reports the last try
        party=Party.WAREHOUSE,
        seller_id=row.seller_id,
        order_id=row.order_id,
        topic=routing.topic_for_call(row.topic),
        buyer_phone=row.phone,
        question=QUESTION,
        now=now,
        summary=summary(row, result),
        response_hours=routing.response_hours,
    )
    done = callbacks.mark_unanswered(session, row, result, thread.id, now)
    return GAVE_UP if done else STALE


def summary(row: CallbackRow, result: str) -> str:
    """The thread's system message: the callback not answered, and what it was about."""
    topic = (row.topic or "agent").replace("_", " ")
    calls = f"{row.attempts} call" + ("" if row.attempts == 1 else "s")
    parts = [f"Callback not answered ({calls}, the last: {result}) about {topic}"]
    if row.order_id:
        parts.append(f"order {row.order_id}")
    return "; ".join(parts) + ". Please contact the buyer."
