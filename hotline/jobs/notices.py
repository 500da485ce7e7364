"""What each kind of outbox row says and to whom: a mail to a seller (or customer service), an
SMS to a buyer, or nothing, with the reason.

Everything here is made from the row, the thread and the configuration alone, so every try of a
row makes the same notice: the same Message-ID for a mail, the same text for an SMS (which is how
a retried SMS is recognised among the messages sent, see ``delivery``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy.orm import Session

from hotline.config.settings import Settings
from hotline.messages import outbox
from hotline.messages.conversation import assignee_recipient as outbox_recipient
from hotline.messages.outbox import (
    BUYER,
    DISCUSSION_OPENED_ELSEWHERE,
    LINK_SECRET,
    REMINDER,
    THREAD_ANSWERED,
)
from hotline.messages.threads import buyer_link, reference, unanswered
from hotline.rules.routing import Party
from hotline.store.models import ThreadRow
from hotline.store.outbox import Claim

# Kinds and what they are about. A row's kind is one of them or starts with one: a reminder's is
# reminder_<h>h, and a combined order's seller told of a Discussion (discussion_opened_elsewhere)
# gets that Discussion's subject line, with the order only (see ``_party_mail``).
SELLER_KINDS = {
    "thread_opened": "A new Message Center thread",
    "thread_forwarded": "A Message Center thread forwarded to you",
    "discussion_opened": "A Discussion opened on your order",
    REMINDER: "Reminder: a Message Center thread awaits your response",
    outbox.BUYER_REPLIED: "The buyer wrote again in a Message Center thread",
}
BUYER_KINDS = outbox.BUYER_KINDS
KINDS = (*SELLER_KINDS, *BUYER_KINDS)


@dataclass(frozen=True)
class Mail:
    """A mail to send (``message`` has its Message-ID: the same for every try of the row)."""

    message: EmailMessage


@dataclass(frozen=True)
class Sms:
    """An SMS to send through Twilio's Messages API."""

    to: str
    from_: str
    body: str


@dataclass(frozen=True)
class Nothing:
    """Nobody to send the row to; ``reason`` says why (kept on the row as its last error)."""

    reason: str


Notice = Mail | Sms | Nothing


def notice_for(claim: Claim, session: Session, settings: Settings) -> Notice:
    """The notice of the claimed row (its thread read in ``session``)."""
    thread = session.get(ThreadRow, claim.thread_id) if claim.thread_id is not None else None
    if claim.kind.startswith(BUYER_KINDS):
        return _buyer_sms(claim, thread, settings)
    if claim.kind.startswith(REMINDER):
        stale = _stale_reminder(claim, thread)
        if stale is not None:
            return Nothing(stale)
    return _party_mail(claim, thread, settings)


def reply_link(settings: Settings, thread_id: int, secret: str | None) -> str | None:
    """The buyer's link to a thread: ``public_base_url`` + ``/t/<id>/<secret>`` (``None``
    without a base URL or a secret)."""
    base = settings.public_base_url
    return f"{base}{buyer_link(thread_id, secret)}" if base and secret else None


def needs_link_secret(claim: Claim, settings: Settings) -> bool:
    """Whether the row is a buyer's SMS that is to carry a link whose secret is not issued yet."""
    if not claim.kind.startswith(BUYER_KINDS) or not settings.public_base_url:
        return False
    return LINK_SECRET not in json.loads(claim.payload)


def _buyer_sms(claim: Claim, thread: ThreadRow | None, settings: Settings) -> Notice:
    sender = settings.jobs.sms.from_number
    if sender is None:
        return Nothing("no SMS sender: set [sms] from to the number SMS are sent from")
    thread_id = thread.id if thread is not None else claim.thread_id
    if thread_id is None:
        return Nothing("the row names no thread")
    to = claim.recipient
    if to == BUYER:  # the thread's buyer, whose number the thread keeps
        to = thread.buyer_phone if thread is not None and thread.buyer_phone else ""
        if not to:
            return Nothing(f"thread {reference(thread_id)} has no buyer's phone number")
    order = thread.order_id if thread is not None else None
    about = f"about order {order} " if order else ""
    if claim.kind.startswith(THREAD_ANSWERED):
        body = f"Your question {about}has a response in thread {reference(thread_id)}."
    elif order:
        body = f"Your question about order {order} is in thread {reference(thread_id)}."
    else:
        body = f"Your question is in Message Center thread {reference(thread_id)}."
    link = reply_link(settings, thread_id, json.loads(claim.payload).get(LINK_SECRET))
    if link:
        body += f" Read and reply: {link}"
    return Sms(to=to, from_=sender, body=body)


def _stale_reminder(claim: Claim, thread: ThreadRow | None) -> str | None:
    """Why a reminder is no longer worth sending: the thread was answered, or it is no longer
    its recipient's (forwarded since it was written)."""
    if thread is None:
        return "the row names no thread"
    if thread.answered_at is not None or not unanswered(thread):
        return f"thread {reference(thread.id)} has been answered since"
    if outbox_recipient(thread) != claim.recipient:
        return f"thread {reference(thread.id)} has been forwarded since"
    return None


def _party_mail(claim: Claim, thread: ThreadRow | None, settings: Settings) -> Notice:
    mail = settings.jobs.mail
    if claim.recipient == Party.WAREHOUSE.value:
        if mail.warehouse is None:
            return Nothing("no address for the warehouse: set [mail] warehouse")
        to, name = mail.warehouse, "Customer service"
    else:
        seller = next((s for s in settings.sellers if s.id == claim.recipient), None)
        if seller is None:
            return Nothing(f"no seller {claim.recipient!r} in the configuration")
        if seller.email is None:
            return Nothing(f"seller {seller.id!r} has no email in [[sellers]]")
        to, name = seller.email, seller.name
    about = next(text for kind, text in SELLER_KINDS.items() if claim.kind.startswith(kind))
    payload = json.loads(claim.payload)
    lines = [f"Hello {name},", "", f"{about}."]
    elsewhere = claim.kind == DISCUSSION_OPENED_ELSEWHERE
    if elsewhere:
        # Told only that a Discussion was opened on their order: not which, nor what it says.
        lines += ["", f"Order: {payload.get('order') or '-'}"]
        thread = None
    if claim.kind.startswith(REMINDER) and payload.get("mark"):
        lines += [
            "",
            f"The buyer's first message was {payload.get('hours')} hours ago; "
            f"a response is due by {payload['mark']}.",
        ]
    if thread is not None:
        lines += [
            "",
            f"Thread: {reference(thread.id)}",
            f"Order: {thread.order_id or '-'}",
            f"Topic: {thread.topic or '-'}",
        ]
        said = [m.body for m in thread.messages if m.author == BUYER and m.kind == "message"]
        if said and claim.kind == outbox.BUYER_REPLIED:
            lines += ["", "The buyer wrote:", said[-1]]
        elif said:  # a Discussion opens with the hotline's message: the buyer's is after it
            lines += ["", "The buyer's question:", said[0]]
    if payload.get("note"):
        lines += ["", "Note:", str(payload["note"])]
    if thread is not None and outbox_recipient(thread) != claim.recipient:
        lines += ["", f"The {thread.party} answers it; you can follow it in the Message Center."]
    elif not elsewhere:
        lines += ["", "Please answer it in the Message Center."]
    lines += ["", "-- the hotline"]
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = to
    subject = f"{about}: {reference(thread.id)}" if thread is not None else about
    message["Subject"] = subject
    message["Date"] = format_datetime(claim.created_at)
    message["Message-ID"] = message_id(claim, mail.sender)
    message.set_content("\n".join(lines))
    return Mail(message)


def message_id(claim: Claim, sender: str) -> str:
    """The row's Message-ID: made from the row alone, so a resent mail keeps it (RFC 5322)."""
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<outbox-{claim.id}-{claim.created_at:%Y%m%d%H%M%S}@{domain}>"
