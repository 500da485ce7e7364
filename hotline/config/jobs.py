"""The scheduler's configuration: ``[scheduler]``, ``[notifications]``, ``[mail]``, ``[sms]``,
``[callbacks]``.

The mail password is never in the file: it comes from ``$HOTLINE_MAIL_PASSWORD`` when the mail is
sent (``hotline.jobs.mail``), so it is in no settings object and no log either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from hotline.config import values
from hotline.config.reader import Section

MAIL_PASSWORD_ENV = "HOTLINE_MAIL_PASSWORD"
MAIL_MODES = ("folder", "smtp")
# Enough of an address to catch a typo (a missing @, a space); the SMTP server judges the rest.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class SchedulerSettings:
    """``[scheduler]``: how long a leader's hold lasts, how often each job looks for work."""

    lease_seconds: int = 30
    outbox_every_seconds: int = 10
    # The local time of day at which the day before is rolled up (``hotline.jobs.rollup``).
    rollup_at: time = time(0, 10)
    wrap_up_every_seconds: int = 15  # how often agents' wrap-ups that are over are ended
    reminders_every_seconds: int = 60


@dataclass(frozen=True)
class NotificationSettings:
    """``[notifications]``: tries before a notification is failed, the first retry's delay."""

    max_tries: int = 5
    retry_seconds: int = 60  # doubled after each failed try, at most a day
    # A row left "sending" this long (the sender was killed mid-send) is looked at again.
    sending_timeout_seconds: int = 300
    # Hours after the buyer's first message when an unanswered thread's assignee is reminded.
    reminder_hours: tuple[int, ...] = (12, 20)


@dataclass(frozen=True)
class MailSettings:
    """``[mail]``: where sellers' mail goes: a local folder (the default) or an SMTP server."""

    mode: str = "folder"
    folder: Path = Path("instance/mail")
    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    user: str = ""
    sender: str = "hotline@localhost"
    warehouse: str | None = None  # customer service's address, for the warehouse's threads
    timeout_seconds: int = 30


@dataclass(frozen=True)
class SmsSettings:
    """``[sms]``: the number buyers' SMS are sent from (``None``: no SMS is sent)."""

    from_number: str | None = None


@dataclass(frozen=True)
class CallbackSettings:
    """``[callbacks]``: how often due callbacks are looked for, the delay before the second try."""

    every_seconds: int = 30
    retry_minutes: int = 10


@dataclass(frozen=True)
class JobSettings:
    """Everything the scheduler process reads from the configuration."""

    scheduler: SchedulerSettings = SchedulerSettings()
    notifications: NotificationSettings = NotificationSettings()
    mail: MailSettings = MailSettings()
    sms: SmsSettings = SmsSettings()
    callbacks: CallbackSettings = CallbackSettings()


def job_settings(
    root: Section, base_dir: Path, region: str, response_hours: int = 24
) -> JobSettings:
    """Read and check the scheduler's tables (each key's error names it); reminders fall
    before ``response_hours`` (``message_center.response_hours``)."""
    scheduler = root.table("scheduler")
    notifications = root.table("notifications")
    mail = root.table("mail")
    sms = root.table("sms")
    callbacks = root.table("callbacks")
    mode = mail.text("mode", "folder")
    if mode not in MAIL_MODES:
        raise mail.fail("mode", '"folder" (write mails to mail.folder) or "smtp"', mode)
    sender = mail.text("sender", "hotline@localhost")
    if not _EMAIL.fullmatch(sender) and sender != "hotline@localhost":
        raise mail.fail("sender", "an email address like hotline@example.com", sender)
    warehouse = mail.text("warehouse", "")
    if warehouse and not _EMAIL.fullmatch(warehouse):
        raise mail.fail("warehouse", "an email address (or empty: no mail)", warehouse)
    host = mail.text("host", "localhost")
    if mode == "smtp" and not host:
        raise mail.fail("host", "the SMTP server's host name", host)
    from_number = values.phone(sms, "from", region) if sms.data.get("from") else None
    sms.raw("from", None)
    settings = JobSettings(
        scheduler=SchedulerSettings(
            lease_seconds=scheduler.integer("lease_seconds", 30, 5, 3600),
            outbox_every_seconds=scheduler.integer("outbox_every_seconds", 10, 1, 3600),
            rollup_at=scheduler.clock_time("rollup_at", time(0, 10)),
            wrap_up_every_seconds=scheduler.integer("wrap_up_every_seconds", 15, 1, 3600),
            reminders_every_seconds=scheduler.integer("reminders_every_seconds", 60, 1, 3600),
        ),
        notifications=NotificationSettings(
            max_tries=notifications.integer("max_tries", 5, 1, 100),
            retry_seconds=notifications.integer("retry_seconds", 60, 1, 86400),
            sending_timeout_seconds=notifications.integer(
                "sending_timeout_seconds", 300, 60, 86400
            ),
            reminder_hours=reminder_hours(notifications, response_hours),
        ),
        mail=MailSettings(
            mode=mode,
            folder=base_dir / mail.text("folder", "instance/mail"),
            host=host,
            port=mail.integer("port", 587, 1, 65535),
            starttls=mail.boolean("starttls", True),
            user=mail.text("user", ""),
            sender=sender,
            warehouse=warehouse or None,
            timeout_seconds=mail.integer("timeout_seconds", 30, 1, 600),
        ),
        sms=SmsSettings(from_number=from_number),
        callbacks=CallbackSettings(
            every_seconds=callbacks.integer("every_seconds", 30, 1, 3600),
            retry_minutes=callbacks.integer("retry_minutes", 10, 1, 24 * 60),
        ),
    )
    for section in (scheduler, notifications, mail, sms, callbacks):
        section.finish()
    if settings.notifications.sending_timeout_seconds < 2 * settings.mail.timeout_seconds:
        # A claim must outlast a send that is still waiting on the server, or a second sender
        # would take the row over while the first may yet succeed.
        raise notifications.fail(
            "sending_timeout_seconds",
            f"at least twice mail.timeout_seconds ({2 * settings.mail.timeout_seconds})",
            settings.notifications.sending_timeout_seconds,
        )
    return settings


def reminder_hours(section: Section, response_hours: int) -> tuple[int, ...]:
    """``reminder_hours``: whole hours, each after 0 and before the 24 h mark, ascending."""
    value = section.raw("reminder_hours", [12, 20])
    expected = (
        f"a list of whole hours, ascending, each above 0 and below "
        f"message_center.response_hours ({response_hours}), e.g. [12, 20]"
    )
    if not isinstance(value, list) or not all(
        isinstance(h, int) and not isinstance(h, bool) and 0 < h < response_hours for h in value
    ):
        raise section.fail("reminder_hours", expected, value)
    if any(a >= b for a, b in zip(value, value[1:], strict=False)):
        raise section.fail("reminder_hours", expected, value)
    return tuple(value)


def seller_email(section: Section) -> str | None:
    """A seller's ``email`` (optional: without one the seller gets no mail)."""
    value = section.text("email", "")
    if value and not _EMAIL.fullmatch(value):
        raise section.fail("email", "an email address like orders@acme.example", value)
    return value or None
