"""Sending a mail: to the SMTP server of ``[mail]``, or (``mode = "folder"``, the default) into a
local folder, one ``.eml`` file per mail, so that ``make run`` needs no mail server.

The SMTP password is read from ``$HOTLINE_MAIL_PASSWORD`` at each login: never from the config
file, never logged. A resent mail keeps its Message-ID (``notices.message_id``); in the folder it
replaces the file of the earlier try.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from hotline.config.jobs import MAIL_PASSWORD_ENV, MailSettings

logger = logging.getLogger(__name__)


class MailError(Exception):
    """The mail was not accepted (the server refused it, could not be reached, or the folder)."""


def send_mail(settings: MailSettings, message: EmailMessage) -> str:
    """Send ``message`` as ``settings`` say; returns where it went (``MailError`` if it did not)."""
    if settings.mode == "folder":
        return _to_folder(settings.folder, message)
    return _to_smtp(settings, message)


def _to_folder(folder: Path, message: EmailMessage) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]", "", str(message["Message-ID"])) or "mail"
    path = folder / f"{name}.eml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(message.as_bytes())
        partial.replace(path)  # whole or not at all, also for a reader watching the folder
    except OSError as exc:
        raise MailError(f"cannot write {path}: {exc.strerror}") from exc
    logger.info(
        'mail to %s written to %s ([mail] mode = "folder": no mail server is used)',
        message["To"],
        path,
    )
    return str(path)


def _to_smtp(settings: MailSettings, message: EmailMessage) -> str:
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                password = os.environ.get(MAIL_PASSWORD_ENV)
                if not password:
                    raise MailError(
                        f"[mail] user is set but ${MAIL_PASSWORD_ENV} is not: cannot log in"
                    )
                smtp.login(settings.user, password)
            refused = smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        raise MailError(f"the SMTP server refused the mail: {exc.smtp_code} {text}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"the SMTP server refused the recipient: {_refusals(exc)}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        where = f"{settings.host}:{settings.port}"
        raise MailError(f"cannot send through the SMTP server {where}: {exc}") from exc
    if refused:
        raise MailError(f"the SMTP server refused a recipient: {refused}")
    return str(message["Message-ID"])


def _refusals(exc: smtplib.SMTPRecipientsRefused) -> str:
    return ", ".join(
        f"{code} {text.decode(errors='replace')}" for code, text in exc.recipients.values()
    )
