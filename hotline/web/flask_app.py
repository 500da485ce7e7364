"""The Flask class hotline's app is made of: its request class, its URL rules, its error log."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any

from flask import Flask, request

from hotline.messages.threads import without_link_secrets
from hotline.web.form import WebhookRequest
from hotline.web.routing import LazyBuildRule


class HotlineFlask(Flask):
    """Flask with hotline's form parsing, lazily built URL rules, and no buyer's link secret in
    the log line of an unhandled error."""

    request_class = WebhookRequest
    url_rule_class = LazyBuildRule  # URL builders compiled when first used, not at start-up

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The plain functions Flask has been asked about, held weakly: one made per request
        # (an ``after_this_request`` callback) goes with its request.
        self._plain: weakref.WeakKeyDictionary[Callable[..., Any], bool] = (
            weakref.WeakKeyDictionary()
        )

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's ``ensure_sync``, remembering which functions are plain: a webhook asks it
        four times (two hooks, the view, the teardown), and each answer costs an ``inspect``
        look. ``async`` functions, and callables that cannot be remembered, ask Flask each time."""
        try:
            if self._plain.get(func):
                return func
        except TypeError:  # not hashable, or no weak reference to it
            return super().ensure_sync(func)
        synced = super().ensure_sync(func)
        if synced is func:
            self._plain[func] = True
        return synced

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        """Flask's "Exception on <path>" line, a buyer's link shown as ``/t/<id>/…``."""
        path = without_link_secrets(request.path)
        self.logger.error(f"Exception on {path} [{request.method}]", exc_info=exc_info)
