"""The direct signature equals RequestValidator's, and the guard accepts exactly what it did."""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlparse

import pytest
from flask import Request
from hypothesis import example, given, settings
from hypothesis import strategies as st
from twilio.request_validator import (
    RequestValidator,
    add_port,
    get_signature_algorithm,
    remove_port,
)
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder

from hotline.config.settings import load_settings
from hotline.web.security import SIGNATURE_SETTINGS_HEADER, Guard, _SignedParams
from hotline.web.signature import twilio_signature
from tests.conftest import shipped_config

AUTH_TOKEN = "auth-token-ünïcode"
SHARED_KEY = "shared-key-secret"
ALGORITHMS = [None, "HMAC_SHA1", "HMAC_SHA256", "hmac_sha256", "Hmac_Sha1"]

# Any text a form or URL may carry (surrogates cannot be sent; NUL is refused by werkzeug).
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
names = st.sampled_from(["CallSid", "Digits", "From", "SpeechResult", "To", "a", "A", "Ä"]) | text
# Pairs, so a name may repeat (as ?a=1&a=2 or a form posting one field twice would).
pairs = st.lists(st.tuples(names, text), max_size=10)
hosts = st.sampled_from(["example.com", "hotline.example.org", "127.0.0.1", "xn--bcher-kva.ch"])
ports = st.none() | st.sampled_from([80, 443, 8443]) | st.integers(1, 65535)
paths = st.lists(text, max_size=4).map(lambda parts: "/" + "/".join(parts))
# What a request line can carry: Werkzeug's test client reads a path beginning "//" as a host
# (and fails on a host label over 63 characters), which no request to the hotline has.
request_paths = paths.map(lambda path: "/" + path.lstrip("/"))


@st.composite
def urls(draw: st.DrawFn) -> str:
    """A URL as Twilio requests it: any scheme, host, port, percent-encoded path and query."""
    scheme = draw(st.sampled_from(["http", "https"]))
    port = draw(ports)
    netloc = draw(hosts) + (f":{port}" if port is not None else "")
    query = draw(st.none() | pairs.map(urlencode))
    return f"{scheme}://{netloc}{quote(draw(paths))}" + (f"?{query}" if query is not None else "")


@settings(max_examples=400, deadline=None)
@given(
    token=text,
    url=urls() | text,
    form=pairs.map(MultiDict),
    algorithm=st.sampled_from(ALGORITHMS),
)
@example(token="t", url="https://example.com:443/voice", form=MultiDict(), algorithm=None)
@example(
    token="t",
    url="https://example.com/voice?attempt=1&attempt=2",
    form=MultiDict([("Digits", "1"), ("Digits", "2"), ("Ünï", "çödé")]),
    algorithm="HMAC_SHA256",
)
def test_the_direct_signature_is_request_validators(
    token: str, url: str, form: MultiDict[str, str], algorithm: str | None
) -> None:
    flat = form.to_dict(flat=True)  # one value per name, as the guard reads the form
    validator = RequestValidator(token)
    expected = validator.compute_signature(url, _SignedParams(flat), algorithm)
    assert twilio_signature(validator.token, url, flat, algorithm) == expected
    assert validator.compute_signature(url, flat, algorithm) == expected


@pytest.mark.parametrize("algorithm", ["HMAC_MD5", "sha1", ""])
def test_an_unknown_algorithm_is_refused_like_request_validator(algorithm: str) -> None:
    if algorithm == "":  # empty means the default, for both
        assert twilio_signature(b"t", "https://x/voice", {}, algorithm) == (
            RequestValidator("t").compute_signature("https://x/voice", {}, algorithm)
        )
        return
    with pytest.raises(ValueError, match="Unsupported"):
        RequestValidator("t").compute_signature("https://x/voice", {}, algorithm)
    with pytest.raises(ValueError, match="Unsupported"):
        twilio_signature(b"t", "https://x/voice", {}, algorithm)


# -- the guard's decision -------------------------------------------------------------------------

GUARD = Guard(load_settings(shipped_config()), AUTH_TOKEN, None, SHARED_KEY)


def accepted_before(req: Request) -> bool:
    """The guard's decision as it was made with ``RequestValidator`` alone."""
    signature = req.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    signed_with = req.headers.get(SIGNATURE_SETTINGS_HEADER)
    validator, algorithm = RequestValidator(AUTH_TOKEN), None
    if signed_with:
        validator = RequestValidator(SHARED_KEY)
        algorithm = get_signature_algorithm(signed_with)
    params = _SignedParams(req.form.to_dict(flat=True))
    url = GUARD.public_url(req)
    try:
        computed = validator.compute_signature(url, params, algorithm)
    except ValueError:
        return False
    return computed == signature or bool(validator.validate(url, params, signature, algorithm))


SIGNERS = st.sampled_from(["exact", "with port", "without port", "other token", "garbage"])
SETTINGS_HEADERS = st.sampled_from(
    [
        None,
        "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256",
        "key=webhooks_sharedkey_1,algorithm=HMAC_SHA1",
        "key=webhooks_sharedkey_1",
        "key=webhooks_sharedkey_1,algorithm=HMAC_MD5",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from(
        [
            "https://example.com",
            "https://example.com:443",
            "http://example.com:80",
            "http://127.0.0.1:5000",
            "https://hotline.example.org:8443",
        ]
    ),
    path=request_paths,
    query=pairs.map(urlencode),
    form=pairs,
    signer=SIGNERS,
    signed_with=SETTINGS_HEADERS,
    garbage=text,
)
def test_the_guard_accepts_exactly_what_request_validator_accepted(
    base: str,
    path: str,
    query: str,
    form: list[tuple[str, str]],
    signer: str,
    signed_with: str | None,
    garbage: str,
) -> None:
    def request(signature: str | None = None) -> Request:
        headers = {SIGNATURE_SETTINGS_HEADER: signed_with} if signed_with else {}
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        builder = EnvironBuilder(
            quote(path),
            base_url=base,
            query_string=query,
            method="POST",
            data=MultiDict(form),
            headers=headers,
        )
        return Request(builder.get_environ())

    unsigned = request()
    url = GUARD.public_url(unsigned)
    params = unsigned.form.to_dict(flat=True)
    algorithm = get_signature_algorithm(signed_with) if signed_with else None
    if signer == "garbage":
        # A header value is latin-1 text without line breaks.
        signature = garbage.encode("latin-1", "replace").decode("latin-1")
        signature = signature.replace("\r", " ").replace("\n", " ")
    else:
        secret = SHARED_KEY if signed_with else AUTH_TOKEN
        key = "another token" if signer == "other token" else secret
        signed_url = {
            "with port": add_port(urlparse(url)),
            "without port": remove_port(urlparse(url)),
        }.get(signer, url)
        # Twilio never names an algorithm it cannot compute; sign those with SHA-1.
        known = algorithm if algorithm in ("HMAC_SHA1", "HMAC_SHA256") else None
        signature = RequestValidator(key).compute_signature(signed_url, params, known)
    before = accepted_before(request(signature))
    assert GUARD.signature_ok(request(signature)) == before
    if signer in ("exact", "with port", "without port") and algorithm != "HMAC_MD5":
        assert before  # every signature Twilio could make for this URL is accepted
