"""The TwiML contract: every element the engine plays, with what it does offline.

``SUPPORTED`` holds, for each element, every attribute Twilio documents for it (with what the
engine does with it, or ``unplayed`` for one it does not play: a warning, ``twiml_warnings.py``),
the children it allows and what its text means; ``SSML_TAGS`` the tags allowed inside ``<Say>``.
The parser (``twiml.py``) refuses anything else. ``supported_table()`` renders the contract as
markdown for the docs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ElementSupport:
    """What the engine does with one TwiML element: its attributes, children and text."""

    attributes: Mapping[str, str]  # attribute name -> what the engine does with it
    children: tuple[str, ...] = ()
    text: str = ""  # what the element's text means ("" = no text expected)
    # documented attributes the engine does not play -> what they do on Twilio (a warning)
    unplayed: Mapping[str, str] = field(default_factory=dict)


_SPOKEN = ("Say", "Play", "Pause")

#: Answering-machine detection, documented for <Number> and <Sip>, is not played.
_MACHINE_DETECTION = {
    name: "detects an answering machine and sends AnsweredBy"
    for name in (
        "machineDetection",
        "machineDetectionTimeout",
        "machineDetectionSpeechThreshold",
        "machineDetectionSpeechEndThreshold",
        "machineDetectionSilenceTimeout",
        "amdStatusCallback",
        "amdStatusCallbackMethod",
    )
}

#: Every TwiML element the engine plays. Attributes marked "accepted" change nothing offline.
#: Each has every attribute Twilio documents (its docs and the twilio package's VoiceResponse).
SUPPORTED: dict[str, ElementSupport] = {
    "Response": ElementSupport(
        {},
        children=(
            "Say",
            "Play",
            "Pause",
            "Gather",
            "Dial",
            "Record",
            "Enqueue",
            "Leave",
            "Redirect",
            "Hangup",
            "Reject",
        ),
    ),
    "Say": ElementSupport(
        {
            "loop": "repeats the text (0 = until the caller hangs up or acts)",
            "voice": "accepted (recorded in the transcript)",
            "language": "accepted (recorded in the transcript)",
        },
        text="the words heard; SSML children are flattened to the words they speak",
    ),
    "Play": ElementSupport(
        {
            "loop": "repeats the audio (0 = until the caller hangs up or acts)",
            "digits": "plays DTMF tones instead of a URL ('w' waits half a second)",
        },
        text="the audio URL (never downloaded; each play lasts `Timing.play` seconds)",
    ),
    "Pause": ElementSupport({"length": "seconds of silence (default 1)"}),
    "Gather": ElementSupport(
        {
            "action": "URL posted with the input (default: the current document URL)",
            "method": "GET or POST (default POST)",
            "input": "dtmf, speech or 'dtmf speech' (default dtmf); other input is ignored",
            "numDigits": "ends the Gather once that many keys are pressed",
            "finishOnKey": "key that ends the input, not sent in Digits (default #, '' = none)",
            "timeout": "seconds of silence before giving up (default 5)",
            "speechTimeout": "seconds of silence ending speech, 'auto' = 1 s (default: timeout)",
            "actionOnEmptyResult": "true: post to action even without input (default false)",
            "bargeIn": "false: input during the nested prompt is not heard (default true)",
            "language": "accepted (passed to the caller in the Prompt)",
            "hints": "accepted (passed to the caller in the Prompt)",
            "speechModel": "accepted",
            "enhanced": "accepted",
            "profanityFilter": "accepted",
            "maxSpeechTime": "accepted (a scripted phrase is never cut)",
            "partialResultCallback": "accepted (nothing posted: the caller's words arrive whole)",
            "partialResultCallbackMethod": "accepted",
            "debug": "accepted",
        },
        children=_SPOKEN,
    ),
    "Dial": ElementSupport(
        {
            "action": "URL posted with DialCallStatus, DialCallSid, DialCallDuration, DialBridged"
            " (none: next verb)",
            "method": "GET or POST (default POST)",
            "timeout": "seconds to ring before no-answer (default 30)",
            "timeLimit": "caps the bridged talk time (default 14400)",
            "callerId": "the From of the dialled leg (default: the caller's number)",
            "answerOnBridge": "accepted",
            "ringTone": "accepted",
            "hangupOnStar": "accepted (a scripted caller presses no keys while bridged)",
            "record": "accepted (nothing is recorded: no RecordingUrl on the action)",
            "recordingStatusCallback": "accepted (not posted: nothing is recorded)",
            "recordingStatusCallbackMethod": "accepted",
            "recordingStatusCallbackEvent": "accepted",
            "recordingTrack": "accepted",
            "recordingConfigurationId": "accepted",
            "trim": "accepted",
            "referUrl": "accepted (SIP REFER does not happen offline)",
            "referMethod": "accepted",
            "events": "accepted",
            "passports": "accepted",
        },
        children=("Number", "Client", "Sip", "Queue", "Conference"),
        text="a phone number to dial (or use Number / Queue nouns)",
        unplayed={"sequential": "rings the Numbers one after another, not at once"},
    ),
    "Number": ElementSupport(
        {
            "url": "whisper: TwiML run on the callee's leg before bridging; a Hangup or Reject"
            " there refuses the call",
            "method": "GET or POST for url (default POST)",
            "sendDigits": "accepted",
            "statusCallback": "accepted (the dialled leg's progress is not posted offline)",
            "statusCallbackEvent": "accepted",
            "statusCallbackMethod": "accepted",
            "byoc": "accepted",
        },
        text="the phone number; several Numbers ring at once, the first to accept wins",
        unplayed=_MACHINE_DETECTION,
    ),
    "Client": ElementSupport(
        {
            "url": "whisper: TwiML run on the client's leg before bridging, as for <Number>",
            "method": "GET or POST for url (default POST)",
            "statusCallback": "accepted",
            "statusCallbackEvent": "accepted",
            "statusCallbackMethod": "accepted",
        },
        children=("Identity", "Parameter"),
        text="the client identity dialled (or an <Identity>); rings as 'client:<identity>'",
    ),
    "Identity": ElementSupport({}, text="the client identity dialled"),
    "Parameter": ElementSupport(
        {"name": "the custom parameter's name", "value": "its value"},
        text="(custom parameters reach the client's device: the transcript's ring shows them)",
    ),
    "Sip": ElementSupport(
        {
            "url": "whisper: TwiML run on the SIP leg before bridging, as for <Number>",
            "method": "GET or POST for url (default POST)",
            "username": "accepted",
            "password": "accepted",
            "statusCallback": "accepted",
            "statusCallbackEvent": "accepted",
            "statusCallbackMethod": "accepted",
        },
        text="the SIP URI dialled (sip:alice@example.com); rings as that URI",
        unplayed=_MACHINE_DETECTION,
    ),
    "Queue": ElementSupport(
        {
            "url": "TwiML played to the dequeued caller before bridging (Say, Play, Pause)",
            "method": "GET or POST for url (default POST)",
            "reservationSid": "accepted (TaskRouter)",
            "postWorkActivitySid": "accepted (TaskRouter)",
        },
        text="the queue to take a caller from (its callee behaviours say when one is waiting)",
    ),
    "Conference": ElementSupport(
        {
            "startConferenceOnEnter": "the conference starts (audio is mixed) once two are in and"
            " one came with true (default true)",
            "endConferenceOnExit": "true: the conference ends when this participant leaves",
            "waitUrl": "TwiML (Say, Play, Pause, Redirect) played while the conference has not"
            " started; '' = silence (default: hold music)",
            "waitMethod": "GET or POST for waitUrl (default POST)",
            "muted": "the participant joins muted (shown in the Participants resource)",
            "beep": "true, false, onEnter, onExit: the others hear [beep] as someone comes or goes",
            "participantLabel": "a label the Participants resource can be addressed by",
            "statusCallback": "URL posted Twilio's conference events (the first participant"
            " naming one sets it)",
            "statusCallbackEvent": "start, end, join, leave, mute, hold (speaker: accepted)",
            "statusCallbackMethod": "accepted (always POST)",
            "coach": "the CallSid this participant coaches (shown in the Participants resource)",
            "maxParticipants": "accepted",
            "record": "accepted",
            "recordingStatusCallback": "accepted",
            "recordingStatusCallbackEvent": "accepted",
            "recordingStatusCallbackMethod": "accepted",
            "region": "accepted",
            "trim": "accepted",
            "jitterBufferSize": "accepted",
            "recordingConfigurationId": "accepted",
            "eventCallbackUrl": "accepted",
        },
        text="the conference's name (the same name in the account is the same room)",
    ),
    "Record": ElementSupport(
        {
            "action": "URL posted with RecordingUrl, RecordingSid, RecordingDuration, Digits"
            " (the key that ended it, or 'hangup'; default: the current document URL)",
            "method": "GET or POST (default POST)",
            "timeout": "seconds of silence that end the recording (default 5)",
            "maxLength": "longest recording in seconds (default 3600; 120 with transcribe)",
            "finishOnKey": "keys that end the recording (default 1234567890*#)",
            "transcribe": "true: the caller's words are transcribed",
            "transcribeCallback": "URL posted with TranscriptionText (response ignored)",
            "playBeep": "accepted",
            "trim": "accepted",
            "recordingStatusCallback": "accepted (not posted; the action has the recording)",
            "recordingStatusCallbackMethod": "accepted",
            "recordingStatusCallbackEvent": "accepted",
            "recordingConfigurationId": "accepted",
        },
    ),
    "Enqueue": ElementSupport(
        {
            "action": "URL posted with QueueResult, QueueSid, QueueTime when the caller leaves"
            " the queue (none: next verb)",
            "method": "GET or POST (default POST)",
            "waitUrl": "TwiML played while waiting (a Redirect or Gather action leads to more),"
            " requested again once it runs out, with QueuePosition, QueueSid, QueueTime,"
            " AvgQueueTime, CurrentQueueSize, MaxQueueSize; an audio answer (audio/mpeg,"
            " audio/wav...) is played; '' = silence",
            "waitUrlMethod": "GET or POST (default POST)",
            "workflowSid": "TaskRouter: the caller waits in the queue named after the workflow"
            " (TaskRouter's assignment is not simulated)",
            "maxQueueSize": "accepted (a full queue is scripted: [queues] full = true)",
        },
        children=("Task",),
        text="the queue name (none needed with workflowSid)",
    ),
    "Task": ElementSupport(
        {"priority": "accepted (a number)", "timeout": "accepted (a number)"},
        text="the TaskRouter task's attributes: a JSON object (recorded in the transcript)",
    ),
    "Leave": ElementSupport({}, text="(in waitUrl TwiML) leaves the queue: QueueResult=leave"),
    "Redirect": ElementSupport(
        {"method": "GET or POST (default POST)"}, text="the URL whose TwiML replaces this one"
    ),
    "Hangup": ElementSupport({}),
    "Reject": ElementSupport({"reason": "rejected or busy (default rejected)"}),
}

#: SSML tags allowed inside <Say>; their attributes only shape the voice, so they are not checked.
SSML_TAGS = frozenset(
    {"break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub", "w"}
)


def supported_table() -> str:
    """Render ``SUPPORTED`` as a markdown table (one row per element)."""
    rows = [
        "| Element | Attributes and what the simulator does | Children | Text |",
        "| --- | --- | --- | --- |",
    ]
    for name, support in SUPPORTED.items():
        lines = [f"`{attr}`: {effect}" for attr, effect in support.attributes.items()]
        unplayed: dict[str, list[str]] = {}  # effect -> attributes (one line for a family)
        for attr, effect in support.unplayed.items():
            unplayed.setdefault(effect, []).append(f"`{attr}`")
        for effect, names in unplayed.items():
            lines.append(f"{', '.join(names)}: not played, a warning (on Twilio it {effect})")
        attributes = "<br>".join(lines)
        children = ", ".join(f"`{child}`" for child in support.children)
        if name == "Say":
            children = "SSML: " + ", ".join(f"`{tag}`" for tag in sorted(SSML_TAGS))
        rows.append(
            f"| `{name}` | {attributes or '—'} | {children or '—'} | {support.text or '—'} |"
        )
    return "\n".join(rows)
