"""gunicorn's log for ``hotline serve``: no buyer's link secret, no phone number in access lines.

A buyer's page is reached by a link holding a secret (``/t/<id>/<secret>``): whoever has the link
can read and write the thread, which is why the store keeps only the secret's hash. gunicorn's
access log would print it whole: in the request line of every visit, and in the Referer of any
request a page makes from there. And a phone number can come in a query string (a Voice URL set
to GET in Twilio's console: ``From=%2B48...``, answered 405). This logger gives every value an
access line can show (the request line, the path, the query, headers, environ) with each link's
secret replaced by "…" and each number masked as in hotline's own log lines. Imported by
``hotline serve`` only (it imports gunicorn).
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger, SafeAtoms

from hotline.messages.threads import without_link_secrets
from hotline.rules.phones import mask_in_text


class _HiddenAtoms(SafeAtoms):  # type: ignore[misc]
    """gunicorn's access-line values, each one the line's format shows hidden as it is read
    (the default format reads nine of some forty: the request line and Referer among them)."""

    def __getitem__(self, name: str) -> Any:
        value = super().__getitem__(name)
        return mask_in_text(without_link_secrets(value)) if isinstance(value, str) else value


class AccessLog(Logger):  # type: ignore[misc]
    """gunicorn's own logger, link secrets and phone numbers left out of its access lines."""

    atoms_wrapper_class = _HiddenAtoms
