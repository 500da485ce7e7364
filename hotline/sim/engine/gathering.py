"""Input from whoever is on a leg: ``<Gather>`` (keys or speech) and ``<Record>``."""

from __future__ import annotations

from urllib.parse import urljoin

from hotline.sim.engine import twiml
from hotline.sim.engine.call import API_VERSION, CallState, Leg, Step
from hotline.sim.engine.interrupts import CallOver
from hotline.sim.engine.playback import play_segments, segment
from hotline.sim.engine.twiml import Document, Verb
from hotline.sim.model import CallEnd, CallerInput, ExpectationFailed, InputKind, Prompt


class CalleeHungUp(Exception):
    """The party on a callee's leg (a whisper) hung up: that leg ends, the call goes on."""


def gather(call: CallState, verb: Verb, doc: Document, leg: Leg) -> Step:
    """Play a ``<Gather>``: its nested prompts, then what the leg's actor answers."""
    inputs = frozenset(verb.attrs.get("input", "dtmf").split())
    if not inputs or not inputs <= {"dtmf", "speech"}:
        raise twiml.invalid(verb, "input", "dtmf, speech or 'dtmf speech'")
    num_digits = int(twiml.number(verb, "numDigits", 0)) or None
    finish = verb.attrs.get("finishOnKey", "#")
    timeout = twiml.number(verb, "timeout", 5.0)
    if verb.attrs.get("speechTimeout") == "auto":
        speech_timeout = call.sim.timing.speech_end
    else:
        speech_timeout = twiml.number(verb, "speechTimeout", timeout)
    segments = [segment(child, call.sim.timing) for child in verb.children]
    said = [s.text for s in segments if s.kind == "say"]
    prompt = Prompt(
        "Gather",
        inputs,
        (*leg.heard, *said),
        num_digits=num_digits,
        finish_on_key=finish,
        timeout=timeout,
        language=verb.attrs.get("language", "en-US"),
        hints=verb.attrs.get("hints", ""),
    )
    leg.heard.clear()
    answer = leg.respond(prompt)
    kind = answer.kind
    unheard = (kind is InputKind.DIGITS and "dtmf" not in inputs) or (
        kind is InputKind.SPEECH and "speech" not in inputs
    )
    endless = any(s.loop == 0 for s in segments)
    early = (answer.barge_in and twiml.flag(verb, "bargeIn", True)) or endless
    if kind is InputKind.SILENCE or unheard:
        play_segments(call, segments, leg, remember=False)
    elif early:
        played = play_segments(call, segments, leg, until=answer.after, remember=False)
        call.spend(answer.after - played)
    else:
        play_segments(call, segments, leg, remember=False)
        call.spend(answer.after)

    result: dict[str, str] = {}
    if unheard:
        _ignore(call, leg, answer, inputs, timeout)
    elif kind is InputKind.DIGITS:
        call.emit(leg.actor, "press", answer.digits)
        digits, finished = _collect(answer.digits, num_digits, finish)
        if not finished:
            call.spend(timeout)
        if digits:
            result["Digits"] = digits
    elif kind is InputKind.SPEECH:
        call.emit(leg.actor, "speak", answer.speech)
        call.spend(call.sim.timing.speech(answer.speech) + speech_timeout)
        if answer.speech:
            result["SpeechResult"] = answer.speech
            result["Confidence"] = f"{answer.confidence:g}"
    elif kind is InputKind.SILENCE:
        call.emit(leg.actor, "silence", f"{timeout:g}")
        call.spend(timeout)
    elif kind is InputKind.HANGUP and not leg.is_caller:
        raise CalleeHungUp(f"{leg.party} hung up at a <Gather> (from {doc.url})")
    elif kind is InputKind.HANGUP:
        raise CallOver(CallEnd.CALLER_HANGUP, "the caller hung up at a <Gather>")
    else:
        raise ExpectationFailed(f"answered a <Gather> with {kind.value} (from {doc.url})")
    if not result and not twiml.flag(verb, "actionOnEmptyResult", False):
        return None
    return _post_action(call, verb, doc, leg, result)


def _ignore(
    call: CallState, leg: Leg, answer: CallerInput, inputs: frozenset[str], timeout: float
) -> None:
    """Input the Gather does not listen for: Twilio never hears it, and the Gather times out."""
    waited = min(answer.after, timeout)
    call.spend(waited)
    listens = "keys" if inputs == {"dtmf"} else "speech"
    why = f"the <Gather> listens for {listens} only; it times out after {timeout:g} s"
    if answer.kind is InputKind.DIGITS:
        call.emit(leg.actor, "press", answer.digits, detail={"ignored": why})
    else:
        call.emit(leg.actor, "speak", answer.speech, detail={"ignored": why})
    call.spend(timeout - waited)


def record(call: CallState, verb: Verb, doc: Document, leg: Leg) -> Step:
    """Play a ``<Record>``: record what the leg's actor says, post the recording to the action.

    A caller who hangs up while recording still gets their recording posted, as Twilio does:
    the action gets ``Digits=hangup`` (and ``CallStatus=completed``); its answer is ignored.
    """
    timeout = twiml.number(verb, "timeout", 5.0)
    transcribe = twiml.flag(verb, "transcribe", False)
    # Twilio's default is an hour, but two minutes for a recording it transcribes.
    max_length = twiml.number(verb, "maxLength", 120.0 if transcribe else 3600.0)
    finish = verb.attrs.get("finishOnKey", "1234567890*#")
    prompt = Prompt(
        "Record",
        frozenset({"record"}),
        tuple(leg.heard),
        finish_on_key=finish,
        timeout=timeout,
        max_length=max_length,
    )
    leg.heard.clear()
    answer = leg.respond(prompt)
    if answer.kind is InputKind.HANGUP:
        # Nothing recorded: an empty recording, which Twilio does not post.
        raise CallOver(CallEnd.CALLER_HANGUP, "the caller hung up at a <Record>")
    if answer.kind is InputKind.SPEECH:
        spoken = answer.speech
        length = call.sim.timing.speech(spoken)
    elif answer.kind is InputKind.RECORDING:
        spoken, length = answer.speech, answer.duration
    else:
        # Nothing recorded: Twilio skips the action and goes on with the next verb.
        call.emit(leg.actor, "silence", f"{timeout:g}", detail={"verb": "Record"})
        call.spend(answer.after if answer.kind is InputKind.DIGITS else timeout)
        return None
    call.spend(answer.after)
    length = min(length, max_length)
    started = call.clock.elapsed
    recording = _Recording(call, verb, doc, leg, spoken, transcribe)
    try:
        call.spend(length)
        if answer.hangs_up:
            raise CallOver(CallEnd.CALLER_HANGUP, "the caller hung up at the end of a <Record>")
    except CallOver as over:
        recorded = call.clock.elapsed - started
        if over.end is CallEnd.CALLER_HANGUP and recorded > 0:
            leg.status = "completed"
            recording.post(recorded, "hangup", fetch=False)
        raise
    key = answer.digits[:1] if answer.digits[:1] and answer.digits[:1] in finish else ""
    if not key and length < max_length:
        call.spend(timeout)  # the silence that ends the recording
    return recording.post(length, key or ("maxLength" if length >= max_length else ""))


class _Recording:
    """A recording being made by a ``<Record>``: posts it to the action when it ends."""

    def __init__(
        self, call: CallState, verb: Verb, doc: Document, leg: Leg, spoken: str, transcribe: bool
    ) -> None:
        self.call, self.verb, self.doc, self.leg = call, verb, doc, leg
        self.spoken, self.transcribe = spoken, transcribe

    def post(self, seconds: float, ended: str, *, fetch: bool = True) -> Step:
        """Post the recording (``ended``: the key, 'hangup', 'maxLength' or '' for silence).

        ``fetch``: the action's TwiML is played next; without, the call is over and its answer
        is ignored.
        """
        call, verb, leg = self.call, self.verb, self.leg
        detail = {"seconds": f"{seconds:g}"}
        if ended:
            detail["ended"] = ended
        call.emit(leg.actor, "record", self.spoken if self.transcribe else "", detail=detail)
        recording_sid = call.new_sid("RE")
        recording_url = _api_url(call, "Recordings", recording_sid)
        result = {
            "RecordingUrl": recording_url,
            "RecordingSid": recording_sid,
            "RecordingDuration": str(round(seconds)),
        }
        if ended and ended != "maxLength":
            result["Digits"] = ended
        callback = verb.attrs.get("transcribeCallback")
        if self.transcribe and callback:
            transcription_sid = call.new_sid("TR")
            params = leg.request_params(
                {
                    "TranscriptionSid": transcription_sid,
                    "TranscriptionText": self.spoken,
                    "TranscriptionStatus": "completed",
                    "TranscriptionUrl": _api_url(call, "Transcriptions", transcription_sid),
                    "RecordingSid": recording_sid,
                    "RecordingUrl": recording_url,
                }
            )
            call.notify(urljoin(self.doc.url, callback), params, "transcription")
        if fetch:
            return _post_action(call, verb, self.doc, leg, result)
        target = urljoin(self.doc.url, verb.attrs.get("action") or self.doc.url)
        call.requests.post_after_hangup(twiml.method(verb), target, leg.request_params(result))
        return None


def _post_action(
    call: CallState, verb: Verb, doc: Document, leg: Leg, result: dict[str, str]
) -> Step:
    """Post ``result`` to the verb's action (by default the document's own URL)."""
    target = urljoin(doc.url, verb.attrs.get("action") or doc.url)
    return call.fetch(target, twiml.method(verb), leg, result)


def _api_url(call: CallState, resource: str, sid: str) -> str:
    return f"https://api.twilio.com/{API_VERSION}/Accounts/{call.sim.account_sid}/{resource}/{sid}"


def _collect(pressed: str, num_digits: int | None, finish: str) -> tuple[str, bool]:
    """Return the Digits a Gather posts for ``pressed`` keys, and whether the keys ended it."""
    digits = ""
    for key in pressed:
        if finish and key == finish:
            return digits, True
        digits += key
        if num_digits is not None and len(digits) >= num_digits:
            return digits, True
    return digits, False
