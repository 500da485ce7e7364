"""A webhook's form, read as Werkzeug reads it, with less work for the fields that need none.

Twilio posts ``application/x-www-form-urlencoded`` bodies of some thirty fields, most of them
plain (``CallStatus=in-progress``, ``CalledCountry=GB``, empty ``FromZip=``). Werkzeug parses
the body with ``urllib.parse.parse_qsl``, which replaces ``+`` and unquotes every name and value.
``parse_urlencoded`` splits the body the same way and gives only the fields holding ``%`` or ``+``
to ``parse_qsl`` (with Werkzeug's arguments), so every field comes out exactly as Werkzeug
would have it: ``tests/test_form.py`` checks that with hypothesis for any body. Every other
request (multipart, another content type, Flask's debug mode) is parsed by Werkzeug itself.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Request

URLENCODED = "application/x-www-form-urlencoded"


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
            fields += parse_qsl(piece, keep_blank_values=True, errors="werkzeug.url_quote")
        else:
            name, _, value = piece.partition("=")  # no "=": a blank value, as parse_qsl has it
            fields.append((name, value))
    return fields


class WebhookRequest(Request):
    """Flask's request, its urlencoded form parsed by ``parse_urlencoded``."""

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        if self.mimetype != URLENCODED or not self.want_form_data_parsed:
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
