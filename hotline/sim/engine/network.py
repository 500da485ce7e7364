"""The simulated phone network of one session: its calls, queues, conferences and messages.

Every call placed in a session (by a caller, by the REST API) is registered here, so that one
call can reach another: an agent's ``<Dial><Queue>`` takes the caller waiting at the front of a
queue, and a REST request redirects or hangs up a live call at the instant it is made. The
``Network`` is the engine's side of ``hotline.sim.rest.switchboard.Switchboard``: this module
holds its calls (and the Calls resource) and the messages sent; it is made of the account's
queues (``live_queues.py``) and conferences (``live_conferences.py``), on ``account.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta

from hotline.sim.engine.call import CallState
from hotline.sim.engine.callees import CalleeBook
from hotline.sim.engine.interrupts import CallOver, Redirected
from hotline.sim.engine.lifecycle import CallResult
from hotline.sim.engine.live_conferences import LiveConferences
from hotline.sim.engine.live_queues import LiveQueues
from hotline.sim.engine.world import World
from hotline.sim.model import CallEnd, Event, QueueBehaviour, Transcript
from hotline.sim.rest.switchboard import (
    CallRecord,
    CallUpdate,
    MessageRecord,
    OutboundCall,
    RestError,
    not_found,
)

_ENDING = ("completed", "canceled")
#: The events after which the app may have new work: it answered a request, or a call ended.
_APP_TURNS = frozenset({"webhook", "status-callback", "fallback", "hangup", "end"})
#: The final statuses of a call that never connected.
_UNCONNECTED = ("busy", "failed", "no-answer", "canceled")


class Network(LiveQueues, LiveConferences):
    """Every call, queue, conference and message of one session (the engine's ``Switchboard``)."""

    def __init__(
        self,
        world: World,
        account_sid: str,
        book: CalleeBook,
        queue_behaviours: Mapping[str, QueueBehaviour],
        seed: str,
        base_url: str,
    ) -> None:
        super().__init__(world, account_sid, seed)
        self.book = book
        self.queue_behaviours = queue_behaviours
        self.base_url = base_url
        self._calls: dict[str, CallState] = {}
        self.results: dict[str, CallResult] = {}
        self.sent_messages: list[MessageRecord] = []
        #: Told when the app may have changed what it has to do: a request it answered, a REST
        #: request it made, a call ending (the session's scheduler, when it has one).
        self.watchers: list[Callable[[], None]] = []

    # -- the registry ---------------------------------------------------------------------

    def register(self, call: CallState) -> None:
        """Count ``call`` as one of the network's calls, reachable by its SID."""
        self._calls[call.sid] = call
        if self.watchers:
            call.listeners.append(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind in _APP_TURNS:
            self.touched()

    def touched(self) -> None:
        """Something happened the app may have acted on: tell the watchers."""
        for watcher in self.watchers:
            watcher()

    def calls_in_progress(self) -> bool:
        """Whether a call of the network has not ended yet."""
        return any(sid not in self.results for sid in self._calls)

    def transcript(self, sid: str) -> Transcript:
        """What has happened on the call ``sid`` so far (its transcript, as it grows)."""
        return self._call(sid).transcript

    def _call(self, sid: str) -> CallState:
        call = self._calls.get(sid)
        if call is None:
            raise not_found(f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json")
        return call

    # -- Calls ----------------------------------------------------------------------------

    def record_of(self, call: CallState) -> CallRecord:
        """The call as the Calls resource shows it now."""
        # Twilio's Call resource: start_time is "empty if the call has not yet been dialed";
        # end_time "empty if the call did not complete successfully"; duration, the seconds it
        # was connected, "empty for busy, failed, unanswered, or ongoing calls".
        start = call.clock.start
        status = call.final_status or call.main.status
        ended = duration = None
        if call.ended_at is not None and status not in _UNCONNECTED:
            ended = start + timedelta(seconds=call.ended_at)
            since = call.answered_at if call.answered_at is not None else call.ended_at
            duration = round(call.ended_at - since)
        return CallRecord(
            sid=call.sid,
            from_=call.main.params["From"],
            to=call.main.params["To"],
            status=status,
            direction=call.direction,
            created=start,
            updated=self.now(),
            parent_call_sid=call.main.params.get("ParentCallSid"),
            start_time=None if status == "queued" else start,
            end_time=ended,
            duration=duration,
        )

    def calls(self) -> Sequence[CallRecord]:
        """Every call so far, newest first."""
        return [self.record_of(call) for call in reversed(self._calls.values())]

    def create_call(self, request: OutboundCall) -> CallRecord:
        """Place an outbound call; its callee's scripted behaviour says what happens."""
        return self.record_of(self.place_call(request))

    def update_call(self, sid: str, update: CallUpdate) -> CallRecord:
        """Redirect a live call to new TwiML, or end it, at this instant."""
        call = self._call(sid)
        status = call.final_status or call.main.status
        if call.final_status or call.actor is None or _hanging_up(call):
            raise RestError(400, 21220, "Call is not in-progress. Cannot redirect.")
        if update.status in _ENDING:
            if update.status == "completed" or status in ("queued", "ringing"):
                why = f"ended through the REST API (Status={update.status})"
                self.world.interrupt(call.actor, CallOver(CallEnd.COMPLETED, why))
            return self.record_of(call)
        if update.url is None and update.twiml is None:
            return self.record_of(call)
        twiml = update.twiml.encode() if update.twiml is not None else None
        redirect = Redirected(update.url, update.method, twiml, base=self.base_url)
        self.world.interrupt(call.actor, redirect)
        return self.record_of(call)

    # -- Messages -------------------------------------------------------------------------

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
        """Keep the message for the script to check: the simulation delivers it nowhere."""
        message = MessageRecord(
            sid=self.new_sid("SM"),
            to=to,
            from_=from_,
            body=body,
            status="queued",
            created=self.now(),
            messaging_service_sid=messaging_service_sid,
            media_url=media_url,
            status_callback=status_callback,
        )
        self.sent_messages.append(message)
        return message

    def messages(self) -> Sequence[MessageRecord]:
        """Every message sent so far, newest first."""
        return list(reversed(self.sent_messages))


def _hanging_up(call: CallState) -> bool:
    """Whether ``call`` was hung up at this very instant (it ends at its next turn)."""
    return call.actor is not None and any(isinstance(e, CallOver) for e in call.actor.pending)
