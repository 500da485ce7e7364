"""The outbox's delivery: every due row claimed, sent, and recorded sent, retried or failed.

A row is claimed in one transaction and finished in another (``hotline.store.outbox``), so a
run can be killed anywhere: a row it had claimed stays ``sending`` until its claim lapses
(``[notifications] sending_timeout_seconds``), then the next run reconciles it. An SMS is first
looked up among the messages Twilio has (found: recorded sent, not sent again). A mail cannot be
looked up on the receiving side, so it is sent again **with the same Message-ID**: a mail that
did go out before the crash arrives twice, and the two are the same message to mail clients
and servers that deduplicate by Message-ID.

A buyer's SMS carries the link to their thread (``/t/<id>/<secret>``). Only the secret's hash
is kept on the thread, so a secret that was sent cannot be sent again: a thread opened from a call
gets its secret when it is opened, and any other buyer's SMS gets a new one at its first try,
the thread's earlier link then no longer working (the buyer's newest SMS holds the working one).
The secret waits in the row's payload while the row may be tried again and is scrubbed when it
is sent, failed or skipped.

A failed try is retried after ``[notifications] retry_seconds``, doubled after each further
failure (at most a day), until ``max_tries``; then the row is ``failed``, with the last error.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hotline.config.jobs import NotificationSettings
from hotline.errors import ConfigError
from hotline.jobs.context import JobContext
from hotline.jobs.mail import MailError, send_mail
from hotline.jobs.notices import KINDS, Mail, Nothing, Sms, needs_link_secret, notice_for
from hotline.jobs.sms import SmsError, find_sent, send_sms
from hotline.messages.threads import key_hash
from hotline.rules.phones import mask_in_text
from hotline.store import outbox
from hotline.store.outbox import Claim

logger = logging.getLogger(__name__)
_MAX_DELAY = timedelta(days=1)


@dataclass
class DeliveryReport:
    """What one run did, row ids by what became of them."""

    sent: list[int] = field(default_factory=list)
    found_sent: list[int] = field(default_factory=list)  # reconciled: it had gone out already
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def deliver_outbox(context: JobContext, now: datetime) -> DeliveryReport:
    """Deliver every row due at ``now`` (the job ``outbox``); safe to run again at any time."""
    report = DeliveryReport()
    notifications = context.settings.jobs.notifications
    timeout = timedelta(seconds=notifications.sending_timeout_seconds)
    for row_id in outbox.due_ids(context.store, now, KINDS):
        claim = outbox.claim(context.store, row_id, now, timeout)
        if claim is not None:  # else another run took it meanwhile
            deliver(context, claim, now, report)
    return report


def outbox_next_due(context: JobContext, now: datetime) -> datetime | None:
    """When the outbox next has a row to try: ``now`` when one is due, ``None`` when none waits."""
    return outbox.earliest_due(context.store, now, KINDS)


def deliver(context: JobContext, claim: Claim, now: datetime, report: DeliveryReport) -> None:
    """Send one claimed row and record what became of it."""
    store = context.store
    notice = _notice(context, claim)
    if not isinstance(notice, Nothing) and needs_link_secret(claim, context.settings):
        # The buyer's link is issued at the row's first try and kept in the row for the next
        # ones: every try sends the same text (see ``_send``), and the link in it works.
        secret = secrets.token_urlsafe(24)
        attached = outbox.attach_link_secret(store, claim, secret, key_hash(secret))
        if attached is None:  # another run took the row over meanwhile
            return
        claim = attached
        notice = _notice(context, claim)
    if isinstance(notice, Nothing):
        if outbox.mark_skipped(store, claim, notice.reason):
            report.skipped.append(claim.id)
            logger.warning("outbox row %s (%s) not sent: %s", claim.id, claim.kind, notice.reason)
        return
    try:
        ref, found = _send(context, claim, notice)
    except (MailError, SmsError, ConfigError) as exc:
        _failed_try(context, claim, now, str(exc), report)
        return
    if outbox.mark_sent(store, claim, now, ref):
        (report.found_sent if found else report.sent).append(claim.id)
        how = "found already sent" if found else "sent"
        logger.info("outbox row %s (%s) %s, try %s", claim.id, claim.kind, how, claim.tries)


def _notice(context: JobContext, claim: Claim) -> Mail | Sms | Nothing:
    with Session(context.store.engine.execution_options(hotline_read_only=True)) as session:
        return notice_for(claim, session, context.settings)


def _send(context: JobContext, claim: Claim, notice: Mail | Sms) -> tuple[str, bool]:
    """Send ``notice``; returns the receiving side's id and whether it had been sent already."""
    if isinstance(notice, Mail):
        # A reconciled mail is sent again: the same Message-ID marks it as the same mail.
        return send_mail(context.settings.jobs.mail, notice.message), False
    client = context.twilio()
    if claim.reconcile:
        sid = find_sent(client, notice, claim.created_at)
        if sid is not None:
            return sid, True
    return send_sms(client, notice), False


def _failed_try(
    context: JobContext, claim: Claim, now: datetime, error: str, report: DeliveryReport
) -> None:
    retry_at = retry_time(context.settings.jobs.notifications, claim.tries, now)
    # Twilio's errors name the number ("The 'To' number +48... is not valid"): the row keeps the
    # error as the log shows it (``hotline outbox`` prints it; the recipient is masked there).
    shown = mask_in_text(error)
    if not outbox.mark_failed_try(context.store, claim, shown, retry_at):
        return
    if retry_at is None:
        report.failed.append(claim.id)
        logger.error(
            "outbox row %s (%s) failed after %s tries: %s", claim.id, claim.kind, claim.tries, shown
        )
    else:
        report.retrying.append(claim.id)
        logger.warning(
            "outbox row %s (%s) try %s failed, next at %s: %s",
            claim.id,
            claim.kind,
            claim.tries,
            f"{retry_at:%Y-%m-%d %H:%M:%S}Z",
            shown,
        )


def retry_time(settings: NotificationSettings, tries: int, now: datetime) -> datetime | None:
    """When to try again after ``tries`` failed tries (``None``: no more, it has failed)."""
    if tries >= settings.max_tries:
        return None
    delay: timedelta = timedelta(seconds=settings.retry_seconds) * (2 ** (tries - 1))
    return now + min(delay, _MAX_DELAY)
