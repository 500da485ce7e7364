"""Twilio's Voice Fallback URL: what Twilio does when it cannot get TwiML it can play.

As Twilio documents it ("Availability and Reliability"; errors 11200, 11205, 12100): when a
request for the call's TwiML fails (the app answers a status other than 2xx, the connection is
refused, closed or reset, no answer comes within 15 s, or the answer is not a TwiML document),
Twilio requests the number's Voice Fallback URL at once, with the failed request's parameters
plus ``ErrorCode`` and ``ErrorUrl`` (the URL that failed), and plays the TwiML it answers as if
nothing had happened. The failed request is never sent again. Without a fallback URL, or when
the fallback fails too, the caller hears Twilio's "an application error has occurred" and the
call ends. The fallback belongs to the number called, so it serves the caller's leg only (not
a dialled party's whisper); status callbacks never use it.
"""

from __future__ import annotations

from collections.abc import Mapping

from hotline.sim.model import WebhookFailed

#: What Twilio tells the caller when no TwiML can be had (its recorded message, in words).
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."


def falls_back(failure: WebhookFailed, url: str, fallback_url: str | None) -> bool:
    """Whether Twilio requests ``fallback_url`` after ``failure`` requesting ``url``."""
    # A failure while playing a document (an attribute out of range) is no fetch failure; and
    # the fallback's own failure is final.
    return fallback_url is not None and bool(failure.error_code) and url != fallback_url


def fallback_params(params: Mapping[str, str], failure: WebhookFailed, url: str) -> dict[str, str]:
    """The fallback request's parameters: the failed request's, with ErrorCode and ErrorUrl."""
    return {**params, "ErrorCode": failure.error_code, "ErrorUrl": url}


def second_failure(first: WebhookFailed, second: WebhookFailed) -> WebhookFailed:
    """The error of a call whose fallback failed too: both failures, in order."""
    return WebhookFailed(
        f"{first} (ErrorCode {first.error_code}); the Voice Fallback URL failed too:"
        f" {second} (ErrorCode {second.error_code or 'none'})"
    )


def failed_ending(failure: WebhookFailed, fallback_url: str | None) -> str:
    """Why the call ended, in words: the failure, and what Twilio does about it."""
    said = f"Twilio tells the caller {APPLICATION_ERROR!r} and hangs up"
    if not failure.error_code:
        return f"{failure}; {said}"
    if fallback_url is None:
        return f"{failure} (ErrorCode {failure.error_code}); no Voice Fallback URL: {said}"
    return f"{failure}; {said}"
