"""The webhook form parser: exactly Werkzeug's form for any urlencoded body, and a real request."""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

from hotline.web.form import URLENCODED, WebhookRequest, parse_urlencoded

# Bodies made of what matters to the parser: separators, escapes (good, broken, of bytes that
# are not UTF-8), plus signs, letters, and non-ASCII text; also raw bytes that are not UTF-8.
_PIECES = st.sampled_from(
    ["&", "=", "+", "%", "%2B", "%20", "%3D", "%26", "%e2%82%ac", "%ff", "%G1", "%4", "a", "Z", "0"]
)
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
_BODIES = st.one_of(
    st.lists(st.one_of(_PIECES, _TEXT), max_size=30).map(lambda parts: "".join(parts).encode()),
    st.binary(max_size=40),
)


def werkzeug_form(body: bytes) -> list[tuple[str, list[str]]]:
    """The form Werkzeug's own parser reads from ``body``: each name and its values, in order."""
    _, form, _ = FormDataParser().parse(io.BytesIO(body), URLENCODED, len(body), {})
    return list(form.lists())


def our_form(body: bytes) -> list[tuple[str, list[str]]]:
    """The form a ``WebhookRequest`` holds for ``body`` (the same storage class)."""
    return list(ImmutableMultiDict(parse_urlencoded(body) or ()).lists())


@given(_BODIES)
def test_any_body_parses_as_werkzeug_parses_it(body: bytes) -> None:
    assert our_form(body) == werkzeug_form(body)


@given(st.lists(st.tuples(_TEXT, _TEXT), max_size=8))
def test_any_encoded_form_parses_as_werkzeug_parses_it(fields: list[tuple[str, str]]) -> None:
    body = urlencode(fields).encode()
    assert parse_urlencoded(body) == fields
    assert our_form(body) == werkzeug_form(body)


def test_a_twilio_form_keeps_its_order_blanks_and_plus_signs() -> None:
    body = b"CallSid=CA1&Called=%2B442071000000&CalledZip=&msg=Gather+End&Digits=1&Digits=2"
    assert parse_urlencoded(body) == [
        ("CallSid", "CA1"),
        ("Called", "+442071000000"),
        ("CalledZip", ""),
        ("msg", "Gather End"),
        ("Digits", "1"),
        ("Digits", "2"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"From=%2B48601300400&To=%2B442071000000", id="short fields, recalled"),
        pytest.param(
            b"SpeechResult=" + b"my+order+number+is+%C5%BC%C3%B3%C5%82w+" * 4 + b"&Digits=1",
            id="a long field, decoded each time",
        ),
        pytest.param(b"x=%ff%2B+" * 3, id="broken escapes, repeated"),
    ],
)
def test_a_body_parses_the_same_when_its_fields_recur(body: bytes) -> None:
    first = parse_urlencoded(body)

    # The second time the short escaped fields come from the process's recalled decodes.
    assert parse_urlencoded(body) == first
    assert our_form(body) == werkzeug_form(body)


def _request_forms(body: bytes, content_type: str) -> tuple[object, object]:
    """The form of a request with ``body``: as ``WebhookRequest`` and as Werkzeug reads it."""

    def environ() -> dict[str, object]:
        builder = EnvironBuilder(method="POST", data=body, content_type=content_type)
        return builder.get_environ()  # type: ignore[return-value]

    with Flask(__name__).test_request_context():
        ours = WebhookRequest(environ()).form  # type: ignore[arg-type]
    theirs = WerkzeugRequest(environ()).form  # type: ignore[arg-type]
    return ours, theirs


@given(_BODIES)
def test_a_request_has_the_form_werkzeug_would_give_it(body: bytes) -> None:
    ours, theirs = _request_forms(body, URLENCODED)
    assert type(ours) is type(theirs)
    assert list(ours.lists()) == list(theirs.lists())  # type: ignore[attr-defined]


def test_other_bodies_are_left_to_werkzeug() -> None:
    ours, theirs = _request_forms(b'{"CallSid": "CA1"}', "application/json")
    assert ours == theirs == {}
    builder = EnvironBuilder(method="POST", data={"CallSid": "CA1", "Digits": "1"}, path="/x")
    environ = builder.get_environ()  # multipart/form-data
    app = Flask(__name__)
    with app.test_request_context():
        assert WebhookRequest(environ).form.to_dict() == {"CallSid": "CA1", "Digits": "1"}


BODY = b"CallSid=CA1&From=%2B48601300400&Digits=1"


def _environ(body: bytes, **overrides: object) -> dict[str, object]:
    builder = EnvironBuilder(method="POST", data=body, content_type=URLENCODED)
    environ: dict[str, object] = builder.get_environ()  # type: ignore[assignment]
    environ.update(overrides)
    return environ


def _outcome(
    request_class: type[WerkzeugRequest],
    environ: dict[str, object],
    limit: int | None,
    before: Callable[[WerkzeugRequest], object] | None,
) -> tuple[object, ...]:
    """What reading the form of a request does: its fields and what is left to read, or the
    HTTP error it raises."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = limit
    environ = {**environ, "wsgi.input": io.BytesIO(environ["wsgi.input"].getvalue())}  # type: ignore[attr-defined]
    with app.test_request_context():
        request = request_class(environ)  # type: ignore[arg-type]
        if limit is not None:
            request.max_content_length = limit  # type: ignore[misc]
        try:
            if before is not None:
                before(request)
            return (list(request.form.lists()), request.get_data())
        except HTTPException as exc:
            return (type(exc).__name__, exc.code)


FIELDS = [("CallSid", ["CA1"]), ("From", ["+48601300400"]), ("Digits", ["1"])]
CHUNKED = {k: v for k, v in _environ(BODY).items() if k != "CONTENT_LENGTH"}


@pytest.mark.parametrize(
    ("environ", "limit", "before", "expected"),
    [
        pytest.param(_environ(BODY), None, None, (FIELDS, b""), id="declared length"),
        pytest.param(_environ(BODY), len(BODY), None, (FIELDS, b""), id="exactly at the limit"),
        pytest.param(
            _environ(BODY), len(BODY) - 1, None, ("RequestEntityTooLarge", 413), id="over the limit"
        ),
        pytest.param(
            _environ(BODY, CONTENT_LENGTH=str(len(BODY) + 5)),
            None,
            None,
            ("ClientDisconnected", 400),
            id="shorter than declared",
        ),
        pytest.param(_environ(b"", CONTENT_LENGTH="0"), None, None, ([], b""), id="empty"),
        pytest.param(
            _environ(BODY, CONTENT_TYPE=URLENCODED + "; charset=UTF-8"),
            None,
            None,
            (FIELDS, b""),
            id="with a charset",
        ),
        pytest.param(
            {**CHUNKED, "wsgi.input_terminated": True},
            None,
            None,
            (FIELDS, b""),
            id="chunked, ended by the server",
        ),
        pytest.param(
            _environ(BODY, **{"wsgi.input_terminated": True}),
            None,
            None,
            (FIELDS, b""),
            id="declared and ended by the server, as gunicorn has it",
        ),
        pytest.param(
            _environ(BODY), None, lambda r: r.get_data(cache=True), (FIELDS, BODY), id="read before"
        ),
        pytest.param(
            _environ(BODY),
            None,
            lambda r: r.get_data(cache=False),
            ([], b""),
            id="read away before",
        ),
        pytest.param(
            _environ(BODY),
            None,
            lambda r: r.stream.read(12),
            (FIELDS[1:], b""),
            id="partly read before",
        ),
    ],
)
def test_reading_the_body_goes_as_werkzeug_goes(
    environ: dict[str, object],
    limit: int | None,
    before: Callable[[WerkzeugRequest], object] | None,
    expected: tuple[object, ...],
) -> None:
    ours = _outcome(WebhookRequest, environ, limit, before)

    assert ours == expected
    assert ours == _outcome(WerkzeugRequest, environ, limit, before)
