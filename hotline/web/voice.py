"""The Twilio Voice webhooks, one view each: what the step is, and what the caller gave.

Each view hands its work to ``webhook.run`` (or ``webhook.seller_leg``), which loads the call,
commits the step and answers 200 with TwiML whatever happens. Only a bad signature (403: the
request did not come from Twilio) or a request no Twilio webhook can be (a body over
``security.max_request_bytes``: 413, see ``limits``) gets another answer.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, request

from hotline.config.settings import Settings
from hotline.ivr.caller_input import Caller
from hotline.ivr.flow import Flow
from hotline.ivr.reply import Reply
from hotline.ivr.steps import Turn
from hotline.rules import phones
from hotline.store import transfers
from hotline.store.directory import Directory
from hotline.web.security import require_twilio_signature
from hotline.web.webhook import (
    DIRECTORY,
    FLOW,
    SETTINGS,
    apology,
    flow,
    run,
    seller_leg,
    twiml,
    utc_now,
)

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")
bp.before_request(require_twilio_signature)


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
    return run("incoming", lambda turn: turn.enter(turn.flow.start), first=True)


@bp.post("/step/<name>")
def step_answer(name: str) -> Response:
    """A step's Gather posted (or timed out): act on the caller's keys or words."""
    caller = Caller.from_form(request.form)
    step = flow().steps.get(name)
    given = caller.describe(number=step is not None and step.asks_for_a_number)
    return run(name, lambda turn: turn.answer(name, _attempt(), caller), given=given)


@bp.post("/step/<name>/dialled")
def dialled(name: str) -> Response:
    """The seller's leg ended: ``DialCallStatus`` decides between done and the fallback."""
    status = request.form.get("DialCallStatus")
    return run(f"{name}/dialled", lambda turn: turn.dial_result(name, status), given=status)


@bp.post("/whisper")
def whisper() -> Response:
    """The seller picked up: tell them the subject and ask them to press 1 to take the call."""
    return seller_leg("whisper", _whisper_prompt)


@bp.post("/whisper/answer")
def whisper_answer() -> Response:
    """The seller pressed a key (or not): 1 bridges the call, anything else hangs up their leg."""
    return seller_leg("whisper/answer", _whisper_decision)


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
    # A caller an agent transferred cold: the seller hears the agent's summary too.
    cold = transfers.pending_of(turn.store.session().connection(), turn.call.sid, "cold")
    if cold is not None and cold.summary:
        gather.say(
            turn.prompt("whisper_summary", summary=cold.summary),
            voice=language.voice,
            language=language.say_language,
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

    return run("queue/wait", work, safe_path="hold")


@bp.post("/queue/done")
def queue_done() -> Response:
    """The caller left the queue: record ``QueueResult``; unless bridged, say goodbye."""
    step_name = request.args.get("step") or None
    result = (request.form.get("QueueResult") or "error").strip()[:32]
    # After an agent talked with the caller, an error (or a call queued by /voice/fallback, which
    # has no row) must not end with an apology: just hang up.
    safe_path = "hangup" if result == "bridged" else "goodbye"
    return run(
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

    return run("status", work, safe_path="goodbye")


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
    return twiml(apology(None, utc_now(), "agent"))


def _printable(value: str | None, longest: int) -> str:
    """``value`` fit for one log line: control characters replaced, cut at ``longest``."""
    if not value:
        return "-"
    return "".join(c if c.isprintable() else "?" for c in value[:longest])


def init_app(app: Flask, conf: Settings, current: Flow) -> None:
    """Register the webhooks (unknown /voice URLs still answer TwiML: see ``http_errors``)."""
    app.extensions[SETTINGS] = conf
    app.extensions[FLOW] = current
    app.extensions[DIRECTORY] = Directory.from_settings(conf)
    app.register_blueprint(bp)
