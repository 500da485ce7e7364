"""The requests of one call: signed like Twilio's, counted, with the call's cookies kept.

``Webhooks.fetch`` gets TwiML and, where Twilio would, follows a failure with one request to
the number's Voice Fallback URL (``fallback.py`` says when and with what); a failed request is
never sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from http.cookies import CookieError, SimpleCookie
from typing import Protocol
from urllib.parse import urlsplit

from hotline.sim.engine import twiml
from hotline.sim.engine.clock import Timing
from hotline.sim.engine.fallback import fallback_params, falls_back, second_failure
from hotline.sim.engine.signing import Signer
from hotline.sim.engine.transport import Transport, WebhookResponse, form_encode
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.model import ConnectionFailed, ErrorStatus, RunawayCall, WebhookFailed, Who

#: Writes one event to the call's transcript: who, kind, text, url, detail.
Emit = Callable[..., None]

#: The audio types Twilio plays (its ``<Play>`` list); an ``<Enqueue waitUrl>`` may answer one.
AUDIO_TYPES = frozenset(
    {
        "audio/mpeg",
        "audio/wav",
        "audio/wave",
        "audio/x-wav",
        "audio/aiff",
        "audio/x-aifc",
        "audio/x-aiff",
        "audio/x-gsm",
        "audio/gsm",
        "audio/ulaw",
    }
)


class CallSettings(Protocol):
    """What a call reads from the ``Simulator`` that placed it."""

    transport: Transport
    signer: Signer
    account_sid: str
    timing: Timing
    max_duration: float
    max_webhooks: int
    fallback_url: str | None  # the number's Voice Fallback URL (absolute), if it has one
    fallback_method: str


class Webhooks:
    """Sends a call's requests to the app and records each in its transcript (``emit``)."""

    def __init__(
        self,
        sim: CallSettings,
        emit: Emit,
        outside: Callable[[], AbstractContextManager[None]] | None = None,
    ) -> None:
        self.sim = sim
        self.emit = emit
        self._outside = outside  # lets other threads act on the calls while a request is out
        self.sent = 0
        self.cookies: dict[str, str] = {}

    def fetch(
        self,
        method: str,
        url: str,
        params: dict[str, str],
        *,
        fallback: bool = False,
        audio: bool = False,
    ) -> Document:
        """Request TwiML and parse it; with ``fallback``, a failure goes to the fallback URL.

        ``fallback``: the request is for the caller's leg, which the number's Voice Fallback URL
        serves as on Twilio (once, with ErrorCode and ErrorUrl added). ``audio``: an answer in
        one of ``AUDIO_TYPES`` is played as a ``<Play>`` of the URL (an ``<Enqueue waitUrl>``).
        """
        try:
            return self._fetch(method, url, params, audio)
        except WebhookFailed as failure:
            fallback_url = self.sim.fallback_url if fallback else None
            if fallback_url is None or not falls_back(failure, url, fallback_url):
                raise
            detail = {"ErrorCode": failure.error_code, "ErrorUrl": url, "fallback": fallback_url}
            self.emit(Who.TWILIO, "fallback", str(failure), url=url, detail=detail)
            try:
                return self._fetch(
                    self.sim.fallback_method, fallback_url, fallback_params(params, failure, url)
                )
            except WebhookFailed as second:
                raise second_failure(failure, second) from second

    def _fetch(
        self, method: str, url: str, params: dict[str, str], audio: bool = False
    ) -> Document:
        response = self.post(method, url, params)
        if not 200 <= response.status < 300:
            raise ErrorStatus(f"{method} {url} answered {response.status}: {response.excerpt()!r}")
        if audio and _is_audio(response):
            return Document(url, (Verb("Play", {}, url, source=url),))
        return twiml.parse(response.body, url)

    def post(
        self, method: str, url: str, params: dict[str, str], kind: str = "webhook"
    ) -> WebhookResponse:
        """Sign and send one request, record it, keep its cookies (Twilio keeps them per call)."""
        self.sent += 1
        if kind == "webhook" and self.sent > self.sim.max_webhooks:
            raise RunawayCall(
                f"the call posted more than {self.sim.max_webhooks} webhooks without ending"
                f" (last: {url})"
            )
        if method == "GET":
            # Twilio sends GET params in the query string and signs the whole URL with them.
            url = f"{url}{'&' if urlsplit(url).query else '?'}{form_encode(params)}"
            headers = self.sim.signer.headers(url, {})
            body: Mapping[str, str] = {}
        else:
            headers = self.sim.signer.headers(url, params)
            body = params
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            if self._outside is None:
                response = self.sim.transport.request(method, url, body, headers)
            else:
                with self._outside():
                    response = self.sim.transport.request(method, url, body, headers)
        except ConnectionFailed as exc:
            self.emit(Who.TWILIO, kind, f"{method} {exc.what}", url=url, detail=params)
            raise
        self.emit(Who.TWILIO, kind, f"{method} {response.status}", url=url, detail=params)
        for line in response.header_values("Set-Cookie"):
            self._keep_cookie(line)
        return response

    def notify(self, url: str, params: dict[str, str], what: str) -> None:
        """Post a fire-and-forget callback: Twilio ignores its answer, so a failure only shows."""
        try:
            response = self.post("POST", url, params, kind="status-callback")
        except ConnectionFailed as exc:
            self.emit(Who.TWILIO, "error", f"{what} callback got no answer: {exc.what}", url=url)
            return
        if not 200 <= response.status < 300:
            self.emit(Who.TWILIO, "error", f"{what} callback answered {response.status}", url=url)

    def post_after_hangup(self, method: str, url: str, params: dict[str, str]) -> None:
        """Post an action requested after the caller hung up: Twilio ignores its answer.

        The call is over, so even no answer at all only shows in the transcript.
        """
        try:
            self.post(method, url, params)
        except ConnectionFailed:
            pass  # ``post`` wrote what went wrong; nothing is left to fail

    def _keep_cookie(self, line: str) -> None:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(line)
        except CookieError:
            return  # a cookie Python cannot parse is one Twilio would not send back either
        for name, morsel in jar.items():
            if morsel.value and morsel["max-age"] != "0":
                self.cookies[name] = morsel.value
            else:
                self.cookies.pop(name, None)


def _is_audio(response: WebhookResponse) -> bool:
    content_type = (response.header("Content-Type") or "").partition(";")[0]
    return content_type.strip().lower() in AUDIO_TYPES
