"""Sign simulated webhooks as Twilio does: ``X-Twilio-Signature`` over the URL and POST params."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


class Signer:
    """Computes ``X-Twilio-Signature`` for one auth token (the validator is built once, reused)."""

    def __init__(self, auth_token: str) -> None:
        self.token = auth_token
        self._validator = RequestValidator(auth_token)

    def signature(self, url: str, params: Mapping[str, str]) -> str:
        """Return the signature of a request to ``url`` (query string included) carrying ``params``.

        For a GET, Twilio puts the params in the URL and signs the URL alone: pass ``{}``.
        """
        signature: str = self._validator.compute_signature(url, params)
        return signature

    def headers(self, url: str, params: Mapping[str, str]) -> dict[str, str]:
        """Return the headers Twilio adds to a webhook request (only the signature matters here)."""
        return {SIGNATURE_HEADER: self.signature(url, params)}
