"""The Flask class hotline's app is made of: its request class, its URL rules, its error log."""

from __future__ import annotations

from types import TracebackType

from flask import Flask, request

from hotline.messages.threads import without_link_secrets
from hotline.web.form import WebhookRequest
from hotline.web.routing import LazyBuildRule


class HotlineFlask(Flask):
    """Flask with hotline's form parsing, lazily built URL rules, and no buyer's link secret in
    the log line of an unhandled error."""

    request_class = WebhookRequest
    url_rule_class = LazyBuildRule  # URL builders compiled when first used, not at start-up

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        """Flask's "Exception on <path>" line, a buyer's link shown as ``/t/<id>/…``."""
        path = without_link_secrets(request.path)
        self.logger.error(f"Exception on {path} [{request.method}]", exc_info=exc_info)
