"""The Twilio Voice webhooks: parse the form, let a ``Turn`` decide, persist, answer TwiML.

Every view here answers 200 with TwiML, whatever happens: an error is logged with the CallSid and
the caller hears an apology and is sent on a safe path (an agent while open, else goodbye). Only a
bad signature (403: the request did not come from Twilio) or a request no Twilio webhook can be
(a body over ``security.max_request_bytes``: 413, see ``limits``) gets another answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

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
from hotline.web.security import require_twilio_signature

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")
bp.before_request(require_twilio_signature)

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


def _twiml(reply: Reply) -> Response:
    return Response(reply.render(), status=200, mimetype="text/xml")


def _now() -> datetime:
    return datetime.now(UTC)


def _run(
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
    now = _now()
    call: CallState | None = None
    # Each look through Flask's context proxies costs about a microsecond: a few, not a dozen.
    parts = current_app.extensions
    conf, current = parts[SETTINGS], parts[FLOW]
    try:
        with CallWork(get_store(current_app)) as store:
            if not sid:
                raise ValueError("the webhook carries no CallSid")
            if first:
                call = _new_call(conf, current, sid, form.get("From"), form.get("To"), now)
            else:
                call = store.load(sid)
                if call is None:
                    return _unknown_call(sid, safe_path, now)
            base = conf.public_base_url or request.script_root
            turn = Turn(current, conf, parts[DIRECTORY], store, call, now, base)
            work(turn)
            call.updated_at = now
            store.save(call, label, given, " > ".join(turn.trail))
        return _twiml(turn.response)
    except Exception as exc:
        log.exception("webhook %s failed for call %s", request.path, sid or "-")
        if sid:
            record_failure(get_store(current_app), sid, now, label, type(exc).__name__)
        language = call.language if call is not None else None
        return _twiml(apology(language, now, safe_path))


def _unknown_call(sid: str, safe_path: str, now: datetime) -> Response:
    """A webhook of a call the hotline never started: the safe path, and no row invented."""
    # Only the Voice URL starts a call; anything else without a row is a call whose start was
    # lost (or a stray request), and making up its state would send the caller down a wrong path.
    log.warning(
        "webhook %s for call %s, which the hotline never started: answering the safe path",
        request.path,
        sid,
    )
    return _twiml(apology(None, now, safe_path))


def _new_call(
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


def _attempt() -> int:
    # From the raw query string, not ``request.args``: building Werkzeug's MultiDict of the
    # query costs more than the step's decision; the few query strings Gathers post recur.
    return _attempt_in(request.query_string)


@lru_cache(maxsize=256)
def _attempt_in(query: bytes) -> int:
    """The ``attempt`` a step's URL carries (1 to 10; 1 when missing or not a number)."""
    # Read as ``request.args.get`` reads it: UTF-8, blank values kept, the first one wins.
    pairs = parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True)
    given = next((value for name, value in pairs if name == "attempt"), "1")
    try:
        return max(1, min(int(given), 10))
    except ValueError:
        return 1


@bp.post("")
def incoming() -> Response:
    """The number's Voice URL: greet and offer the topic menu."""
    return _run("incoming", lambda turn: turn.enter(turn.flow.start), first=True)


@bp.post("/step/<name>")
def step_answer(name: str) -> Response:
    """A step's Gather posted (or timed out): act on the caller's keys or words."""
    caller = Caller.from_form(request.form)
    return _run(name, lambda turn: turn.answer(name, _attempt(), caller), given=caller.describe())


@bp.post("/step/<name>/dialled")
def dialled(name: str) -> Response:
    """The seller's leg ended: ``DialCallStatus`` decides between done and the fallback."""
    status = request.form.get("DialCallStatus")
    return _run(f"{name}/dialled", lambda turn: turn.dial_result(name, status), given=status)


@bp.post("/whisper")
def whisper() -> Response:
    """The seller picked up: tell them the subject and ask them to press 1 to take the call."""
    return _seller_leg("whisper", _whisper_prompt)


@bp.post("/whisper/answer")
def whisper_answer() -> Response:
    """The seller pressed a key (or not): 1 bridges the call, anything else hangs up their leg."""
    return _seller_leg("whisper/answer", _whisper_decision)


def _seller_leg(label: str, work: Callable[[Turn, Reply], None]) -> Response:
    """Run ``work`` on the buyer's call (named in the URL) while answering the seller's leg."""
    parent_sid = request.args.get("call", "")
    now = _now()
    try:
        with CallWork(get_store(current_app)) as store:
            call = store.load(parent_sid)
            if call is None:
                return _unknown_call(parent_sid or "-", "hangup", now)
            turn = Turn(flow(), settings(), directory(), store, call, now, url_base())
            call.updated_at = now
            leg = Reply()
            work(turn, leg)
            decision = " > ".join(turn.trail) or "asked"
            store.save(call, label, Caller.from_form(request.form).describe(), decision)
        return _twiml(leg)
    except Exception as exc:
        log.exception("webhook %s failed for call %s", request.path, parent_sid or "-")
        if parent_sid:
            record_failure(get_store(current_app), parent_sid, now, label, type(exc).__name__)
        return _twiml(apology(None, now, "hangup"))


def _whisper_prompt(turn: Turn, leg: Reply) -> None:
    step = turn.flow.step(request.args.get("step", ""))
    role = (
        "whisper"
        if turn.call.question or "whisper_no_question" not in step.prompts
        else ("whisper_no_question")
    )
    language = turn.language()
    hints = turn.hints(step)
    gather = leg.gather(
        input="dtmf speech",
        num_digits=1,
        hints=hints or None,
        language=language.say_language,
        timeout=turn.settings.whisper_timeout,
        action=turn.url("/voice/whisper/answer", call=turn.call.sid, step=step.name),
        method="POST",
    )
    gather.say(
        turn.prompt(step.prompts[role]), voice=language.voice, language=language.say_language
    )
    leg.hangup()  # no key: hang up the seller's leg, so a voicemail never "answers"


def _whisper_decision(turn: Turn, leg: Reply) -> None:
    step = turn.flow.step(request.args.get("step", ""))
    if turn.choose(step, Caller.from_form(request.form), whole_reply=True) is not None:
        turn.call.seller_accepted = True
        turn.trail.append("seller accepted")
        return  # an empty document ends the whisper and bridges the legs
    turn.trail.append("seller declined")
    leg.hangup()


@bp.post("/queue/wait")
def queue_wait() -> Response:
    """While the caller waits for an agent: their position, then hold music (Twilio loops this)."""
    step_name = request.args.get("step", "")
    position = request.form.get("QueuePosition", "").strip()

    def work(turn: Turn) -> None:
        step = turn.flow.steps.get(step_name)
        if step is not None and position.isdigit():
            turn.say(turn.prompt(step.prompts["wait"], position=position))
        turn.response.play(turn.settings.hold_music_url)
        turn.trail.append(f"waiting at {position or '?'}")

    return _run("queue/wait", work, safe_path="hold")


@bp.post("/queue/done")
def queue_done() -> Response:
    """The caller left the queue: record ``QueueResult``; unless bridged, say goodbye."""
    step_name = request.args.get("step") or None
    result = (request.form.get("QueueResult") or "error").strip()[:32]
    # After an agent talked with the caller, an error (or a call queued by /voice/fallback, which
    # has no row) must not end with an apology: just hang up.
    safe_path = "hangup" if result == "bridged" else "goodbye"
    return _run(
        "queue/done", lambda turn: turn.queue_result(step_name, result), safe_path, given=result
    )


@bp.post("/status")
def status_callback() -> Response:
    """Twilio's call status callback: record how the call ended."""
    status = (request.form.get("CallStatus") or "").strip()[:32]

    def work(turn: Turn) -> None:
        turn.trail.append(f"status {status}")
        if status in ("completed", "busy", "failed", "no-answer", "canceled"):
            turn.call.outcome = turn.call.outcome or f"ended:{status}"

    return _run("status", work, safe_path="goodbye")


@bp.post("/fallback")
def fallback() -> Response:
    """The number's Voice Fallback URL: a webhook failed; sorry, then an agent while open."""
    # Twilio asks this when a webhook of ours failed (a worker died, a timeout, a 5xx), and the
    # store may be why: nothing here touches the database; the hours come from the settings.
    form = request.form
    log.error(
        "Twilio fell back to /voice/fallback for call %s from %s: error %s at %s",
        _printable(form.get("CallSid"), 64),
        phones.mask(form.get("From")),
        _printable(form.get("ErrorCode"), 16),
        _printable(form.get("ErrorUrl"), 500),
    )
    return _twiml(apology(None, _now(), "agent"))


def _printable(value: str | None, longest: int) -> str:
    """``value`` fit for one log line: control characters replaced, cut at ``longest``."""
    if not value:
        return "-"
    return "".join(c if c.isprintable() else "?" for c in value[:longest])


def init_app(app: Flask, conf: Settings, current: Flow) -> None:
    """Register the webhooks; unknown /voice URLs and stray errors still answer TwiML."""
    app.extensions[SETTINGS] = conf
    app.extensions[FLOW] = current
    app.extensions[DIRECTORY] = Directory.from_settings(conf)
    app.register_blueprint(bp)

    @app.errorhandler(HTTPException)
    def _voice_http_error(exc: HTTPException) -> Response | HTTPException:
        if request.path.startswith("/voice") and exc.code in (404, 405, 400):
            log.warning("webhook %s answered %s: %s", request.path, exc.code, exc.description)
            return _twiml(apology(None, _now(), "goodbye"))
        return exc
