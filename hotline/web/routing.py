"""URL rules that compile their URL builders when first asked to build a URL, not when added.

Werkzeug compiles two Python functions for every rule as it is added to the app's map (building
the URL with and without unknown query arguments): for hotline's ~60 rules that was about 13 ms of
an app's 22 ms start. Most rules are only ever matched against requests (every Twilio webhook,
every API call); ``url_for`` builds a few. ``LazyBuildRule`` compiles a builder the first time it
is used, with Werkzeug's own compiler, and keeps it, so what is built is exactly what Werkzeug
builds. That start-up counts wherever apps are built often: every worker of ``hotline replay -j``
builds its own, the tests build hundreds, gunicorn builds one per worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

Builder = Callable[..., tuple[str, str]]


class LazyBuildRule(Rule):
    """A Werkzeug ``Rule`` whose URL builders are compiled on first use (see the module)."""

    def _compile_builder(self, append_unknown: bool = True) -> Builder:
        # ``compile()`` binds what this returns to the rule and stores it as ``_build`` or
        # ``_build_unknown``; the stand-in replaces itself there with the compiled builder.
        name = "_build_unknown" if append_unknown else "_build"

        def build_first(rule: LazyBuildRule, **values: Any) -> tuple[str, str]:
            compiled: Builder = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            setattr(rule, name, compiled)
            return compiled(**values)

        return build_first
