"""The Flask class hotline's app is made of: its request class, its URL rules, its error log."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from flask import Flask, request

from hotline.messages.threads import without_link_secrets
from hotline.web.form import WebhookRequest
from hotline.web.routing import LazyBuildRule

_SYNCED_KEPT = 1024


class HotlineFlask(Flask):
    """Flask with hotline's form parsing, lazily built URL rules, and no buyer's link secret in
    the log line of an unhandled error."""

    request_class = WebhookRequest
    url_rule_class = LazyBuildRule  # URL builders compiled when first used, not at start-up

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synced: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's ``ensure_sync``, its answer kept per function: a webhook asks it four times
        (two hooks, the view, the teardown), and each answer costs an ``inspect`` look."""
        synced = self._synced.get(func)
        if synced is None:
            synced = super().ensure_sync(func)
            if len(self._synced) < _SYNCED_KEPT:  # the app's hooks and views: a few dozen
                self._synced[func] = synced
        return synced

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        """Flask's "Exception on <path>" line, a buyer's link shown as ``/t/<id>/…``."""
        path = without_link_secrets(request.path)
        self.logger.error(f"Exception on {path} [{request.method}]", exc_info=exc_info)
