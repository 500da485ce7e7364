"""gunicorn's log for ``hotline serve``, with no buyer's link secret in its access lines.

A buyer's page is reached by a link holding a secret (``/t/<id>/<secret>``): whoever has the link
can read and write the thread, which is why the store keeps only the secret's hash. gunicorn's
access log would print it whole: in the request line of every visit, and in the Referer of any
request a page makes from there. This logger gives every value an access line can show (the
request line, the path, the query, headers, environ) with each link's secret replaced by "…".
Imported by ``hotline serve`` only (it imports gunicorn).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from hotline.messages.threads import without_link_secrets


class AccessLog(Logger):  # type: ignore[misc]
    """gunicorn's own logger, the secrets of buyers' links left out of its access lines."""

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta
    ) -> dict[str, Any]:
        """The values gunicorn formats an access line from, link secrets replaced."""
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {
            name: without_link_secrets(value) if isinstance(value, str) else value
            for name, value in atoms.items()
        }
