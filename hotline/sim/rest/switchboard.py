"""What the REST stand-in asks of the simulated phone network, and what it gets back.

The stand-in (``api.py``) speaks Twilio's REST API: paths, form-encoded requests, JSON answers,
error codes. Everything it reads or changes lives in the simulation, behind ``Switchboard``: the
engine's world of calls (``engine/world.py``) implements it, so a REST request made by the app in
the middle of a webhook acts on the live calls at that virtual instant. Records are plain data:
the stand-in renders them in Twilio's JSON shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class RestError(Exception):
    """A request Twilio would refuse: the HTTP status and Twilio's error code and message.

    For example 404 / 20404 (no such resource), 400 / 21220 (the call is not in progress), 400 /
    21205 (a bad Url), 400 / 21201 (a required parameter is missing).
    """

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(what: str) -> RestError:
    """Twilio's answer to a SID, name or path it does not know: 404, error 20404."""
    return RestError(404, 20404, f"The requested resource {what} was not found")


@dataclass(frozen=True)
class CallRecord:
    """A call as the Calls resource shows it."""

    sid: str
    from_: str
    to: str
    status: str  # queued, ringing, in-progress, completed, busy, failed, no-answer, canceled
    direction: str  # inbound, outbound-api, outbound-dial
    created: datetime
    updated: datetime
    parent_call_sid: str | None = None
    start_time: datetime | None = None  # when it was dialled (None while queued)
    end_time: datetime | None = None  # None unless it ended connected
    duration: int | None = None  # seconds connected, once ended (None if it never connected)
    queue_time: int = 0
    answered_by: str | None = None


@dataclass(frozen=True)
class OutboundCall:
    """A Calls create request: whom to call and what to play when they answer."""

    to: str
    from_: str
    url: str | None = None  # absolute
    method: str = "POST"
    twiml: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_event: tuple[str, ...] = ("completed",)
    timeout: float = 60.0
    time_limit: float = 14400.0
    caller_id: str | None = None


@dataclass(frozen=True)
class CallUpdate:
    """A Calls update request: new TwiML (by URL or inline) or a new status."""

    url: str | None = None
    method: str = "POST"
    twiml: str | None = None
    status: str | None = None  # completed or canceled
    status_callback: str | None = None
    status_callback_method: str = "POST"


@dataclass(frozen=True)
class QueueRecord:
    """A queue as the Queues resource shows it."""

    sid: str
    friendly_name: str
    current_size: int
    max_size: int
    average_wait_time: int
    created: datetime
    updated: datetime


@dataclass(frozen=True)
class MemberRecord:
    """A call waiting in a queue, as the Members resource shows it."""

    call_sid: str
    queue_sid: str
    enqueued: datetime
    position: int
    wait_time: int


@dataclass(frozen=True)
class ConferenceRecord:
    """A conference as the Conferences resource shows it."""

    sid: str
    friendly_name: str
    status: str  # init, in-progress, completed
    created: datetime
    updated: datetime
    region: str = "us1"
    reason_conference_ended: str | None = None
    call_sid_ending_conference: str | None = None


@dataclass(frozen=True)
class ParticipantRecord:
    """A call in a conference, as the Participants resource shows it."""

    call_sid: str
    conference_sid: str
    label: str | None
    status: str  # queued, connecting, ringing, connected, complete, failed
    hold: bool
    muted: bool
    coaching: bool
    end_conference_on_exit: bool
    start_conference_on_enter: bool
    created: datetime
    updated: datetime
    call_sid_to_coach: str | None = None


@dataclass(frozen=True)
class NewParticipant:
    """A Participants create request: dial ``to`` into the conference."""

    to: str
    from_: str
    label: str | None = None
    muted: bool = False
    hold: bool = False
    beep: str = "true"
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False
    wait_url: str | None = None
    wait_method: str = "POST"
    timeout: float = 60.0
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_event: tuple[str, ...] = ()
    conference_status_callback: str | None = None
    conference_status_callback_method: str = "POST"
    conference_status_callback_event: tuple[str, ...] = ()
    early_media: bool = True
    coaching: bool = False
    call_sid_to_coach: str | None = None


@dataclass(frozen=True)
class ParticipantUpdate:
    """A Participants update request; ``None`` leaves a setting as it is."""

    hold: bool | None = None
    hold_url: str | None = None
    hold_method: str = "GET"
    muted: bool | None = None
    announce_url: str | None = None
    announce_method: str = "POST"
    end_conference_on_exit: bool | None = None
    coaching: bool | None = None
    call_sid_to_coach: str | None = None


@dataclass(frozen=True)
class MessageRecord:
    """A message sent through the Messages resource (kept for the script to check)."""

    sid: str
    to: str
    from_: str
    body: str
    status: str  # queued: the simulation never delivers it anywhere
    created: datetime
    messaging_service_sid: str | None = None
    media_url: tuple[str, ...] = field(default_factory=tuple)
    status_callback: str | None = None


class Switchboard(Protocol):
    """The simulated phone network as the REST stand-in sees it.

    Every method runs at the current virtual instant; one that Twilio would refuse raises
    ``RestError``. Lookups of an unknown SID raise 404 / 20404.
    """

    account_sid: str

    def now(self) -> datetime:
        """The current virtual instant."""
        ...

    def new_sid(self, prefix: str) -> str:
        """A fresh SID with ``prefix`` (e.g. "SM"), deterministic within the simulation."""
        ...

    # Calls
    def calls(self) -> Sequence[CallRecord]:
        """Every call of the simulation so far, newest first."""
        ...

    def create_call(self, request: OutboundCall) -> CallRecord:
        """Place an outbound call (answered by a scripted callee) and return it ``queued``."""
        ...

    def update_call(self, sid: str, update: CallUpdate) -> CallRecord:
        """Redirect a live call to new TwiML, or end it (completed / canceled)."""
        ...

    # Queues and their members
    def queues(self) -> Sequence[QueueRecord]:
        """Every queue of the account."""
        ...

    def create_queue(self, friendly_name: str, max_size: int) -> QueueRecord:
        """Create a queue (an existing name is refused as Twilio does)."""
        ...

    def members(self, queue_sid: str) -> Sequence[MemberRecord]:
        """The calls waiting in a queue, front first."""
        ...

    def dequeue(self, queue_sid: str, call_sid: str, url: str, method: str) -> MemberRecord:
        """Take a member (``call_sid`` or "Front") out of the queue and play ``url`` to it."""
        ...

    # Conferences and their participants
    def conferences(self) -> Sequence[ConferenceRecord]:
        """Every conference of the simulation so far, newest first."""
        ...

    def end_conference(self, sid: str) -> ConferenceRecord:
        """End a conference (Status=completed): every participant leaves."""
        ...

    def announce_conference(self, sid: str, url: str, method: str) -> ConferenceRecord:
        """Play ``url``'s TwiML to every participant."""
        ...

    def participants(self, conference_sid: str) -> Sequence[ParticipantRecord]:
        """The participants of a conference, in the order they joined."""
        ...

    def add_participant(self, conference: str, request: NewParticipant) -> ParticipantRecord:
        """Dial ``request.to`` into the conference (by SID or friendly name)."""
        ...

    def update_participant(
        self, conference_sid: str, call_sid: str, update: ParticipantUpdate
    ) -> ParticipantRecord:
        """Hold, unhold, mute, announce to, or change a participant."""
        ...

    def remove_participant(self, conference_sid: str, call_sid: str) -> None:
        """Take a participant out of the conference (its call is hung up)."""
        ...

    # Messages
    def send_message(
        self,
        to: str,
        from_: str,
        body: str,
        *,
        messaging_service_sid: str | None = None,
        media_url: tuple[str, ...] = (),
        status_callback: str | None = None,
    ) -> MessageRecord:
        """Record an SMS the app sends (it goes nowhere: the script checks it)."""
        ...

    def messages(self) -> Sequence[MessageRecord]:
        """Every message sent so far, newest first."""
        ...
