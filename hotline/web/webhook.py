"""One webhook's turn on the store: the app's parts, the call loaded (or started by the Voice
URL), the step's work, its record committed before the answer, and the apology when anything fails.

The views in ``voice.py`` say what each webhook does; this module makes every one of them answer
200 with TwiML whatever happens: an error is logged with the CallSid and the caller hears an
apology and is sent on a safe path (an agent while open, else goodbye).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Response, current_app, request

from hotline.config.settings import Settings
from hotline.ivr.caller_input import Caller
from hotline.ivr.flow import Flow
from hotline.ivr.reply import Reply
from hotline.ivr.steps import Turn
from hotline.rules import phones
from hotline.rules.hours import is_open
from hotline.store.callstate import CallState
from hotline.store.callstore import CallWork, record_failure
from hotline.store.database import get_store
from hotline.store.directory import Directory

log = logging.getLogger(__name__)

SETTINGS = "hotline.settings"
FLOW = "hotline.flow"
DIRECTORY = "hotline.directory"


def settings() -> Settings:
    """The current app's settings."""
    value: Settings = current_app.extensions[SETTINGS]
    return value


def flow() -> Flow:
    """The current app's flow."""
    value: Flow = current_app.extensions[FLOW]
    return value


def directory() -> Directory:
    """The current app's directory of sellers and orders."""
    value: Directory = current_app.extensions[DIRECTORY]
    return value


def url_base() -> str:
    """What the webhook URLs we hand Twilio start with: the public base URL, else the path prefix
    (a root path alone would drop a prefix the proxy adds, e.g. /hotline)."""
    return settings().public_base_url or request.script_root


def twiml(reply: Reply) -> Response:
    """``reply`` as Twilio takes it: 200, text/xml."""
    return Response(reply.render(), status=200, mimetype="text/xml")


def utc_now() -> datetime:
    """The time now, in UTC (frozen by freezegun in tests and replays)."""
    return datetime.now(UTC)


def run(
    label: str,
    work: Callable[[Turn], None],
    safe_path: str = "agent",
    given: str | None = None,
    first: bool = False,
) -> Response:
    """Load the call, let ``work`` fill the TwiML, record the step, commit, answer.

    ``first`` is the Voice URL, the only webhook that starts a call (a retry of it finds its row
    and leaves it be); any other webhook of a call with no row gets the safe path.
    """
    form = request.form
    sid = form.get("CallSid", "").strip()[:64]
    now = utc_now()
    call: CallState | None = None
    # Each look through Flask's context proxies costs about a microsecond: a few, not a dozen.
    parts = current_app.extensions
    conf, current = parts[SETTINGS], parts[FLOW]
    try:
        with CallWork(get_store(current_app)) as store:
            if not sid:
                raise ValueError("the webhook carries no CallSid")
            if first:
                call = new_call(conf, current, sid, form.get("From"), form.get("To"), now)
                if call.from_number:
                    # The buyer calls again before their callback: it is cancelled, silently
                    # (this call is their chance to be helped; they may ask for another).
                    store.cancel_callbacks_on_save(call.from_number, now)
            else:
                call = store.load(sid)
                if call is None:
                    return unknown_call(sid, safe_path, now)
            base = conf.public_base_url or request.script_root
            turn = Turn(current, conf, parts[DIRECTORY], store, call, now, base)
            work(turn)
            call.updated_at = now
            store.save(call, label, given, " > ".join(turn.trail))
        return twiml(turn.response)
    except Exception as exc:
        log.exception("webhook %s failed for call %s", request.path, sid or "-")
        if sid:
            record_failure(get_store(current_app), sid, now, label, type(exc).__name__)
        language = call.language if call is not None else None
        return twiml(apology(language, now, safe_path))


def unknown_call(sid: str, safe_path: str, now: datetime) -> Response:
    """A webhook of a call the hotline never started: the safe path, and no row invented."""
    # Only the Voice URL starts a call; anything else without a row is a call whose start was
    # lost (or a stray request), and making up its state would send the caller down a wrong path.
    log.warning(
        "webhook %s for call %s, which the hotline never started: answering the safe path",
        request.path,
        sid,
    )
    return twiml(apology(None, now, safe_path))


def new_call(
    conf: Settings, current: Flow, sid: str, from_: str | None, to: str | None, now: datetime
) -> CallState:
    language = conf.language_for(to)
    call = CallState(
        sid=sid,
        from_number=phones.normalise_or_none(from_ or "", conf.default_region),
        to_number=phones.normalise_or_none(to or "", conf.default_region),
        language=language if language in current.languages else next(iter(current.languages)),
        started_at=now,
        updated_at=now,
        step=current.start,
    )
    if log.isEnabledFor(logging.INFO):
        log.info("call %s from %s to %s", sid, phones.mask(call.from_number), call.to_number or "-")
    return call


def apology(language: str | None, now: datetime, safe_path: str = "agent") -> Reply:
    """The safe answer to any failure: sorry, then an agent while open (else goodbye)."""
    conf, current = settings(), flow()
    code = language or ""
    if code not in current.languages:
        code = conf.language_for(request.form.get("To"))
    lang = current.languages.get(code) or next(iter(current.languages.values()))
    response = Reply()
    if safe_path == "hold":  # inside a queue's wait loop only Say/Play/Pause/Hangup/... are allowed
        response.play(conf.hold_music_url)
        return response
    if safe_path == "hangup":  # a seller's whisper leg (never bridge), or after an agent talked
        response.hangup()
        return response
    response.say(lang.prompts["apology"], voice=lang.voice, language=lang.say_language)
    if safe_path == "agent" and is_open(conf.hours, now):
        response.enqueue(
            conf.queue,
            action=url_base() + "/voice/queue/done",
            method="POST",
            wait_url=url_base() + "/voice/queue/wait",
            wait_url_method="POST",
        )
    else:
        response.say(lang.prompts["goodbye"], voice=lang.voice, language=lang.say_language)
        response.hangup()
    return response


def seller_leg(label: str, work: Callable[[Turn, Reply], None]) -> Response:
    """Run ``work`` on the buyer's call (named in the URL) while answering the seller's leg."""
    parent_sid = request.args.get("call", "")
    now = utc_now()
    try:
        with CallWork(get_store(current_app)) as store:
            call = store.load(parent_sid)
            if call is None:
                return unknown_call(parent_sid or "-", "hangup", now)
            turn = Turn(flow(), settings(), directory(), store, call, now, url_base())
            call.updated_at = now
            leg = Reply()
            work(turn, leg)
            decision = " > ".join(turn.trail) or "asked"
            store.save(call, label, Caller.from_form(request.form).describe(), decision)
        return twiml(leg)
    except Exception as exc:
        log.exception("webhook %s failed for call %s", request.path, parent_sid or "-")
        if parent_sid:
            record_failure(get_store(current_app), parent_sid, now, label, type(exc).__name__)
        return twiml(apology(None, now, "hangup"))
