"""The REST stand-in's view of the simulator: whichever session is playing, entered safely.

An app builds its twilio ``Client`` once, while the simulator plays one session after another:
``SessionSwitchboard`` is the one ``Switchboard`` the stand-in is given, and it forwards every
request to the network of the session playing now (or the last one played, so an app can still
read the calls of a session that has ended). Each request enters the session's world first: from
the call's own thread (an in-process app answering a webhook) it simply runs; from another thread
(the stand-in served on a port, for an app in another process) it waits until the calls are
paused on that app's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from hotline.sim.engine.network import Network
from hotline.sim.rest.switchboard import (
    CallRecord,
    CallUpdate,
    ConferenceRecord,
    MemberRecord,
    MessageRecord,
    NewParticipant,
    OutboundCall,
    ParticipantRecord,
    ParticipantUpdate,
    QueueRecord,
    RestError,
)

_T = TypeVar("_T")


class SessionSwitchboard:
    """A ``Switchboard`` that is always the current session's network."""

    def __init__(self, account_sid: str) -> None:
        self.account_sid = account_sid
        self.network: Network | None = None

    def _on(self, act: Callable[[Network], _T]) -> _T:
        network = self.network
        if network is None:
            raise RestError(404, 20404, "no call has been placed in this simulation yet")
        with network.world.entered():
            done = act(network)
            network.touched()  # the app acted through the REST API: its work may have changed
            return done

    def now(self) -> datetime:
        """The current virtual instant."""
        return self._on(lambda n: n.now())

    def new_sid(self, prefix: str) -> str:
        """A fresh SID with ``prefix``."""
        return self._on(lambda n: n.new_sid(prefix))

    def calls(self) -> Sequence[CallRecord]:
        """Every call of the session, newest first."""
        return self._on(lambda n: n.calls())

    def create_call(self, request: OutboundCall) -> CallRecord:
        """Place an outbound call."""
        return self._on(lambda n: n.create_call(request))

    def update_call(self, sid: str, update: CallUpdate) -> CallRecord:
        """Redirect or end a live call."""
        return self._on(lambda n: n.update_call(sid, update))

    def queues(self) -> Sequence[QueueRecord]:
        """Every queue of the account."""
        return self._on(lambda n: n.queues())

    def create_queue(self, friendly_name: str, max_size: int) -> QueueRecord:
        """Make a queue."""
        return self._on(lambda n: n.create_queue(friendly_name, max_size))

    def members(self, queue_sid: str) -> Sequence[MemberRecord]:
        """The calls waiting in a queue, front first."""
        return self._on(lambda n: n.members(queue_sid))

    def dequeue(self, queue_sid: str, call_sid: str, url: str, method: str) -> MemberRecord:
        """Take a member out of its queue to play ``url``."""
        return self._on(lambda n: n.dequeue(queue_sid, call_sid, url, method))

    def conferences(self) -> Sequence[ConferenceRecord]:
        """Every conference of the session, newest first."""
        return self._on(lambda n: n.conferences())

    def end_conference(self, sid: str) -> ConferenceRecord:
        """End a conference."""
        return self._on(lambda n: n.end_conference(sid))

    def announce_conference(self, sid: str, url: str, method: str) -> ConferenceRecord:
        """Play ``url`` to every participant."""
        return self._on(lambda n: n.announce_conference(sid, url, method))

    def participants(self, conference_sid: str) -> Sequence[ParticipantRecord]:
        """The participants of a conference."""
        return self._on(lambda n: n.participants(conference_sid))

    def add_participant(self, conference: str, request: NewParticipant) -> ParticipantRecord:
        """Dial someone into a conference."""
        return self._on(lambda n: n.add_participant(conference, request))

    def update_participant(
        self, conference_sid: str, call_sid: str, update: ParticipantUpdate
    ) -> ParticipantRecord:
        """Hold, mute, announce to or change a participant."""
        return self._on(lambda n: n.update_participant(conference_sid, call_sid, update))

    def remove_participant(self, conference_sid: str, call_sid: str) -> None:
        """Take a participant out of its conference."""
        self._on(lambda n: n.remove_participant(conference_sid, call_sid))

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
        """Keep a message the app sends."""
        return self._on(
            lambda n: n.send_message(
                to,
                from_,
                body,
                messaging_service_sid=messaging_service_sid,
                media_url=media_url,
                status_callback=status_callback,
            )
        )

    def messages(self) -> Sequence[MessageRecord]:
        """Every message sent in the session, newest first."""
        return self._on(lambda n: n.messages())
