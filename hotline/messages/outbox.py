"""Outbox rows: the notifications the Message Center leaves for issue 11's sender to deliver.

One row per (kind, thread, message that caused it, recipient): writing the same one again (a
retried request, a second worker) finds the first and writes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.store.models import OutboxRow
from hotline.store.outbox import LINK_SECRET as LINK_SECRET  # the buyer's SMS's link secret

THREAD_OPENED = "thread_opened"  # a new thread for its assignee
DISCUSSION_OPENED = "discussion_opened"  # a new Discussion for its assignee
DISCUSSION_OPENED_ELSEWHERE = "discussion_opened_elsewhere"  # a combined order's seller, told
THREAD_FORWARDED = "thread_forwarded"  # the new assignee of a forwarded thread
THREAD_ANSWERED = "thread_answered"  # the buyer: the seller or warehouse responded
BUYER_REPLIED = "buyer_replied"  # the assignee: the buyer wrote again
BUYER_THREAD_OPENED = "buyer_thread_opened"  # the buyer who called (SMS to their number)
BUYER = "buyer"  # the recipient of what the buyer is told
REMINDER = "reminder"  # the assignee of an unanswered thread: reminder_<h>h, one per point
BUYER_KINDS = (BUYER_THREAD_OPENED, THREAD_ANSWERED)  # an SMS to the buyer, with their link


def reminder_kind(hours: int) -> str:
    """The kind of the reminder ``hours`` after the buyer's first message: ``reminder_12h``."""
    return f"{REMINDER}_{hours}h"


def notify(
    session: Session,
    *,
    kind: str,
    recipient: str,
    thread_id: int,
    message_id: int | None,
    payload: dict[str, object],
    now: datetime,
) -> bool:
    """Queue one notification, once: the same (kind, thread, message, recipient) is written once
    (returns whether this call wrote it)."""
    same = select(OutboxRow.id).where(
        OutboxRow.kind == kind,
        OutboxRow.thread_id == thread_id,
        OutboxRow.recipient == recipient,
        (
            OutboxRow.message_id.is_(None)
            if message_id is None
            else OutboxRow.message_id == message_id
        ),
    )
    if session.scalar(same) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                OutboxRow(
                    kind=kind,
                    recipient=recipient,
                    thread_id=thread_id,
                    message_id=message_id,
                    payload=json.dumps(payload),
                    created_at=now,
                )
            )
            session.flush()
    except IntegrityError:
        # Another worker wrote the same row at the same moment.
        if session.scalar(same) is None:
            raise
        return False
    return True
