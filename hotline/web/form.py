"""A webhook's form, read as Werkzeug reads it, with less work for the fields that need none.

Twilio posts ``application/x-www-form-urlencoded`` bodies of some thirty fields, most of them
plain (``CallStatus=in-progress``, ``CalledCountry=GB``, empty ``FromZip=``). Werkzeug parses
the body with ``urllib.parse.parse_qsl``, which replaces ``+`` and unquotes every name and value.
``parse_urlencoded`` splits the body the same way and decodes only the fields holding ``%`` or
``+``, as ``parse_qsl`` decodes each field (``+`` to a space, then ``unquote`` with Werkzeug's
arguments) without its per-call set-up, so every field comes out exactly as Werkzeug would have
it: ``tests/test_form.py`` checks that with hypothesis for any body. The short escaped fields
recur (the numbers), so their decodes are kept and recalled. Every other request
(multipart, another content type, Flask's debug mode) is parsed by Werkzeug itself.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import unquote

from flask import Request

URLENCODED = "application/x-www-form-urlencoded"
_ERRORS = "werkzeug.url_quote"  # how Werkzeug has undecodable escapes kept (its codec handler)
# Escaped fields up to this long are decoded once per process and then recalled: they recur
# (the hotline's own number in every webhook, the caller's in each of their call's webhooks).
_RECALLED_FIELD = 64


def parse_urlencoded(body: bytes) -> list[tuple[str, str]] | None:
    """The fields of an urlencoded ``body`` as Werkzeug reads them, in order; ``None`` when
    Werkzeug would read no form at all (a body that is not UTF-8)."""
    try:
        text = body.decode()
    except UnicodeDecodeError:  # Werkzeug's parser is silent: the form is empty
        return None
    fields: list[tuple[str, str]] = []
    for piece in text.split("&"):
        if not piece:
            continue  # parse_qsl skips empty pieces
        if "%" in piece or "+" in piece:
            # A Twilio form has five or so (the numbers' "%2B", "Gather+End").
            fields.append(
                _decoded_recalled(piece) if len(piece) <= _RECALLED_FIELD else _decoded(piece)
            )
        else:
            name, _, value = piece.partition("=")  # no "=": a blank value, as parse_qsl has it
            fields.append((name, value))
    return fields


def _decoded(piece: str) -> tuple[str, str]:
    """One ``name=value`` piece decoded as parse_qsl decodes it (``+`` to a space, then
    ``unquote`` with Werkzeug's arguments), without parse_qsl's set-up per call."""
    name, _, value = piece.partition("=")
    return (
        unquote(name.replace("+", " "), errors=_ERRORS),
        unquote(value.replace("+", " "), errors=_ERRORS),
    )


# About 1.5 µs a field decoded, against 0.2 recalled; the cache holds at most this many.
_decoded_recalled = lru_cache(maxsize=1024)(_decoded)


class WebhookRequest(Request):
    """Flask's request, its urlencoded form parsed by ``parse_urlencoded``."""

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        environ = self.environ
        # Twilio's own content type, compared whole before the header is parsed at all.
        if environ.get("CONTENT_TYPE") != URLENCODED and (
            self.mimetype != URLENCODED or not self.want_form_data_parsed
        ):
            super()._load_form_data()
            return
        from flask import current_app

        if current_app and current_app.debug:  # Flask's debug checks of forms stay as they are
            super()._load_form_data()
            return
        # The stream Werkzeug would read (limited to MAX_CONTENT_LENGTH: 413 past it).
        stream = self._get_stream_for_parsing()
        fields = parse_urlencoded(stream.read())
        storage = self.parameter_storage_class
        d = self.__dict__
        d["stream"], d["form"], d["files"] = stream, storage(fields or ()), storage()
