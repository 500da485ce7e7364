"""What breaks into the TwiML a call plays, from outside the verb playing it.

The call ends (``CallOver``), its queue's scripted agent picks up (``AgentAnswered``), a REST
update gives it new TwiML (``Redirected``), or the other side of its bridge or its conference
changes (``PartyLeft``). Each is raised into the call where it is, and caught by the code that
knows what comes next (the queue it waits in, its bridge, its conference, the call's run).
``bridge.Dequeued`` (another call's ``<Dial><Queue>`` took the caller) is with the bridge it
brings the caller to.
"""

from __future__ import annotations

from hotline.sim.model import CallEnd


class CallOver(Exception):
    """The call ended in the middle of something (caller hung up, max duration, <Hangup>).

    ``limit``: the call was cut at the engine's ``max_duration``, not ended by anyone on it.
    """

    def __init__(self, end: CallEnd, reason: str, *, limit: bool = False) -> None:
        super().__init__(reason)
        self.end = end
        self.reason = reason
        self.limit = limit


class AgentAnswered(Exception):
    """The queue's agent picked up while the caller was listening to the wait music."""


class Redirected(Exception):
    """The call was given new TwiML from outside (a REST update): drop what it plays, play that.

    ``url`` (fetched with ``method``) or ``twiml`` (a document given inline); ``queue_result`` is
    what an ``<Enqueue>`` the call was waiting in posts to its action.
    """

    def __init__(
        self,
        url: str | None = None,
        method: str = "POST",
        twiml: bytes | None = None,
        *,
        why: str = "the call was updated through the REST API",
        queue_result: str = "redirected",
        base: str = "",
    ) -> None:
        super().__init__(why)
        self.base = base  # what relative URLs in inline TwiML resolve against
        self.url = url
        self.method = method
        self.twiml = twiml
        self.why = why
        self.queue_result = queue_result


class PartyLeft(Exception):
    """The other side of a bridge (or the room a leg talks in) changed: look again."""
