"""gunicorn's log for ``hotline serve``: no buyer's link secret, no phone number in its lines.

A buyer's page is reached by a link holding a secret (``/t/<id>/<secret>``): whoever has the link
can read and write the thread, which is why the store keeps only the secret's hash. gunicorn's
access log would print it whole: in the request line of every visit, and in the Referer of any
request a page makes from there. And a phone number can come in a URL's query (a Voice URL set
to GET in Twilio's console: ``From=%2B48...``, which the caller hears the apology for). This
logger shows every value of an access line with each link's secret replaced by "…", and the
values that hold a URL (the request line, path, query, Referer) with each number masked as in
hotline's own log lines; a request that fails inside gunicorn is logged the same way. Imported
by ``hotline serve`` only (it imports gunicorn).
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger, SafeAtoms

from hotline.messages.threads import without_link_secrets
from hotline.rules.phones import mask_in_text

# The atoms (gunicorn's names; headers and environ lower-cased) that hold a URL or part of one.
# Only these get their numbers masked: a body's size, a pid or a build number in a User-Agent
# are numbers too, and not phone numbers.
_URL_ATOMS = frozenset(
    {
        "r",
        "U",
        "q",
        "f",
        "{referer}i",
        "{raw_uri}e",
        "{path_info}e",
        "{query_string}e",
        "{http_referer}e",
    }
)


def _hidden(value: str) -> str:
    """A URL's text as hotline logs it: no link secret, numbers masked."""
    return mask_in_text(without_link_secrets(value))


class _HiddenAtoms(SafeAtoms):  # type: ignore[misc]
    """gunicorn's access-line values, each one the line's format shows hidden as it is read
    (the default format reads nine of some forty: the request line and Referer among them)."""

    def __getitem__(self, name: str) -> Any:
        value = super().__getitem__(name)
        if not isinstance(value, str):
            return value
        if (name.lower() if name.startswith("{") else name) in _URL_ATOMS:
            return _hidden(value)
        return without_link_secrets(value)


class AccessLog(Logger):  # type: ignore[misc]
    """gunicorn's own logger, link secrets and phone numbers left out of its lines."""

    atoms_wrapper_class = _HiddenAtoms

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        """gunicorn's "Error handling request <uri>" and the like, the URI hidden."""
        shown = tuple(_hidden(a) if isinstance(a, str) else a for a in args)
        super().exception(msg, *shown, **kwargs)
