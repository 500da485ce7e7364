"""The requests of one call: signed like Twilio's, counted, with the call's cookies kept.

``Webhooks.fetch`` gets TwiML and, where Twilio would, follows a failure with one request to
the number's Voice Fallback URL (``fallback.py`` says when and with what); a failed request is
never sent again.

Redirects are followed as Twilio documents (error 11216): 301, 302, 303 and 307 only, each hop a
request of its own, signed over the URL it goes to. Twilio behaves "like a web browser" here, so
the method changes as a browser's does: a 303, and a 301 or 302 answering a POST, become a GET
of the ``Location`` (no body, no params added), a 307 repeats the method and the params. Any
other 3xx (308 included), or one without a ``Location``, fails the request (11216), and so does
the ``MAX_REDIRECTS + 1``-th redirect in a row (11215). A relative ``Location`` is resolved
against the URL that answered it, and the TwiML fetched is the final URL's (relative URLs in it
resolve against that one, as in a browser).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from http.cookies import CookieError, SimpleCookie
from typing import Protocol
from urllib.parse import urljoin, urlsplit

from hotline.sim.engine import twiml
from hotline.sim.engine.clock import Timing
from hotline.sim.engine.fallback import fallback_params, falls_back, second_failure
from hotline.sim.engine.signing import Signer
from hotline.sim.engine.transport import Transport, WebhookResponse, form_encode
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.model import (
    ConnectionFailed,
    ErrorStatus,
    RedirectFailed,
    RunawayCall,
    WebhookFailed,
    Who,
)

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
#: The 3xx answers Twilio follows; any other 3xx is an invalid redirect (error 11216).
FOLLOWED_REDIRECTS = frozenset({301, 302, 303, 307})
#: Redirects followed in a row before the request fails with 11215 ("HTTP too many redirects").
#: Twilio documents the error, not the number; 10 is the simulator's choice (docs/simulator.md).
MAX_REDIRECTS = 10


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
    strict: bool  # refuse TwiML attributes the engine does not play, instead of a warning


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
        last_method, last, response = self._exchange(method, url, params, "webhook")
        if 300 <= response.status < 400:
            raise _redirect_failure(f"{method} {url}", f"{last_method} {last}", response)
        if not 200 <= response.status < 300:
            raise ErrorStatus(
                f"{last_method} {last} answered {response.status}: {response.excerpt()!r}"
            )
        if audio and _is_audio(response):
            return Document(last, (Verb("Play", {}, last, source=last),))
        document = twiml.parse(response.body, last, strict=self.sim.strict)
        for warning in document.warnings:
            # As Twilio's debugger logs a 12200 each time it meets the document.
            self.emit(Who.TWILIO, "warning", warning.message(), url=last, detail=warning.detail())
        return document

    def post(
        self, method: str, url: str, params: dict[str, str], kind: str = "webhook"
    ) -> WebhookResponse:
        """Sign and send one request, following redirects as Twilio does; record each hop.

        The answer is the last hop's: a 3xx when the redirect is one Twilio does not follow.
        """
        return self._exchange(method, url, params, kind)[2]

    def _exchange(
        self, method: str, url: str, params: dict[str, str], kind: str
    ) -> tuple[str, str, WebhookResponse]:
        """Send a request and the redirects it leads to; return the last hop and its answer."""
        response = self._send(method, url, params, kind)
        for _hop in range(MAX_REDIRECTS):
            location = response.header("Location")
            if response.status not in FOLLOWED_REDIRECTS or not location:
                break
            target = urljoin(url, location)
            if response.status != 307 or method == "GET":
                # As a browser does: a 303, and a 301/302 after a POST, become a GET of the
                # Location as written; a 307 repeats the POST. A GET's params were in its URL.
                method, params = "GET", {}
            detail = {"status": str(response.status), "method": method}
            self.emit(Who.TWILIO, "http-redirect", target, url=url, detail=detail)
            url = target
            response = self._send(method, url, params, kind)
        return method, url, response

    def _send(self, method: str, url: str, params: dict[str, str], kind: str) -> WebhookResponse:
        """Sign and send one request, record it, keep its cookies (Twilio keeps them per call)."""
        self.sent += 1
        if kind == "webhook" and self.sent > self.sim.max_webhooks:
            raise RunawayCall(
                f"the call posted more than {self.sim.max_webhooks} webhooks without ending"
                f" (last: {url})"
            )
        if method == "GET":
            # Twilio sends GET params in the query string and signs the whole URL with them.
            if params:
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
            self._app_crashed(exc.app_errors, url)
            raise
        self.emit(Who.TWILIO, kind, f"{method} {response.status}", url=url, detail=params)
        self._app_crashed(response.app_errors, url)
        for line in response.header_values("Set-Cookie"):
            self._keep_cookie(line)
        return response

    def _app_crashed(self, app_errors: str, url: str) -> None:
        """Show what an in-process app raised on this request, where the report shows the call."""
        if app_errors:
            lines = app_errors.strip().splitlines()
            detail = {"traceback": app_errors}
            self.emit(Who.APP, "app-error", lines[-1] if lines else "", url=url, detail=detail)

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


def _redirect_failure(first: str, last: str, response: WebhookResponse) -> RedirectFailed:
    """The error of a request whose redirects Twilio stops following (11216 or 11215).

    ``first`` and ``last``: the first and the last request sent ("POST http://...").
    """
    status, location = response.status, response.header("Location")
    if status in FOLLOWED_REDIRECTS and location:
        return RedirectFailed(
            f"{first} was redirected more than {MAX_REDIRECTS} times in a row"
            f" (the last, {last}, answered {status} to {location})",
            "11215",
        )
    if status in FOLLOWED_REDIRECTS:
        why = f"answered {status} without a Location header"
    else:
        why = f"answered {status}, a redirect Twilio does not follow (only 301, 302, 303 and 307)"
    return RedirectFailed(f"{last} {why}", "11216")
