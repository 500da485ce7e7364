"""The simulator engine: place a call against any Twilio voice app and play its TwiML like Twilio.

``Simulator.place_call`` posts the signed voice webhook, interprets the TwiML answered (see
``twiml_contract.SUPPORTED``), asks the ``Caller`` for input at each Gather and Record, rings
dialled numbers as their ``CalleeBehaviour`` says (running ``<Number url>`` whispers on the
callee's own leg), holds queued callers per ``QueueBehaviour``, and returns a ``CallResult`` with
the whole ``Transcript``. Time is virtual (``clock.py``); every SID is derived from a seed, so a
call replayed with the same inputs gives the same transcript.

This module holds the ``Simulator``; the rest is split by concern: ``lifecycle.py`` (a call's
run from first ring to end), ``call.py`` (a call's running state and its legs), ``interrupts.py``
(what breaks into a call), ``webhooks.py`` (the requests it posts), ``verbs.py`` (which function
plays each verb; Say, Play, Pause, Redirect, Hangup, Reject), ``playback.py`` (what a listener
hears), ``gathering.py`` (Gather, Record), ``dialing.py`` (Dial to numbers, clients, SIP,
whispers), ``dial_queue.py`` (Dial to a Queue), ``conferencing.py`` (Dial to a Conference),
``queueing.py`` (Enqueue, waitUrl, Leave) and ``status_callbacks.py`` (the events posted to the
number's status callback). Several calls on one clock: ``session.py``, ``network.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from hotline.sim.engine.call import API_VERSION, QueueVisit
from hotline.sim.engine.call_details import call_details
from hotline.sim.engine.clock import AppTime, Timing
from hotline.sim.engine.lifecycle import CallResult
from hotline.sim.engine.rest_link import SessionSwitchboard
from hotline.sim.engine.scheduled import ScheduledWork
from hotline.sim.engine.session import Session
from hotline.sim.engine.signing import Signer
from hotline.sim.engine.status_callbacks import STATUS_CALLBACK_EVENTS
from hotline.sim.engine.transport import Transport, WSGIApp
from hotline.sim.model import CalleeBehaviour, Caller, QueueBehaviour
from hotline.sim.rest.api import create_rest_app

__all__ = [
    "API_VERSION",
    "DEFAULT_ACCOUNT_SID",
    "STATUS_CALLBACK_EVENTS",
    "CallResult",
    "QueueVisit",
    "Simulator",
]

DEFAULT_ACCOUNT_SID = "AC" + hashlib.sha1(b"hotline.sim account").hexdigest()[:32]


class Simulator:
    """Plays calls against one Twilio voice app reached through ``transport``.

    ``base_url`` is the public URL the app believes Twilio calls (requests are signed with it);
    ``voice_url`` is the number's Voice URL, relative to it, requested with ``voice_method``
    (the number's setting: GET puts the params in the query string), and ``fallback_url`` its Voice
    Fallback URL (requested with ``fallback_method`` when fetching TwiML for the caller fails;
    see ``fallback.py``). An attribute the engine does not play is a ``warning`` event, as
    Twilio's 12200 is; ``strict`` refuses it (``UnsupportedTwiML``). A ``status_callback`` URL
    receives the call's ``status_callback_events``. A call is cut short (as a caller hang-up)
    once it lasts ``max_duration`` virtual seconds, and fails with ``RunawayCall`` past
    ``max_webhooks``. ``pace`` (real seconds per virtual second) paces every session: the
    virtual clock then follows the wall clock, for a person or a browser acting on the calls
    meanwhile (``world.py``); ``None``, the default, runs as fast as it can.
    """

    def __init__(
        self,
        transport: Transport,
        auth_token: str,
        voice_url: str = "/voice",
        base_url: str = "http://localhost",
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        timing: Timing | None = None,
        status_callback: str | None = None,
        status_callback_events: Sequence[str] = STATUS_CALLBACK_EVENTS,
        max_duration: float = 3600.0,
        max_webhooks: int = 1000,
        fallback_url: str | None = None,
        fallback_method: str = "POST",
        voice_method: str = "POST",
        strict: bool = False,
        pace: float | None = None,
    ) -> None:
        unknown = set(status_callback_events) - set(STATUS_CALLBACK_EVENTS)
        if unknown:
            raise ValueError(f"unknown status callback events: {sorted(unknown)}")
        self.transport = transport
        self.signer = Signer(auth_token)
        self.base_url = base_url
        self.voice_url = urljoin(base_url, voice_url)
        self.account_sid = account_sid
        self.timing = timing or Timing()
        self.status_callback = urljoin(base_url, status_callback) if status_callback else None
        self.status_callback_events = frozenset(status_callback_events)
        self.max_duration = max_duration
        self.max_webhooks = max_webhooks
        self.fallback_url = urljoin(base_url, fallback_url) if fallback_url else None
        if fallback_method not in ("GET", "POST"):
            raise ValueError(f"fallback_method: GET or POST, got {fallback_method!r}")
        self.fallback_method = fallback_method
        if voice_method not in ("GET", "POST"):
            raise ValueError(f"voice_method: GET or POST, got {voice_method!r}")
        self.voice_method = voice_method
        self.strict = strict
        if pace is not None and not pace > 0:
            raise ValueError(f"pace: real seconds per virtual second, more than 0 (got {pace})")
        self.pace = pace
        self.app_time = AppTime()
        #: What the REST stand-in acts on: the session playing now (``rest_link.py``).
        self.switchboard = SessionSwitchboard(account_sid)
        self._rest_app: WSGIApp | None = None
        #: The app's timed work, for sessions that run it on their clock (``scheduled.py``): set
        #: when the app offers it (hotline built in process); ``None``: it has none here.
        self.scheduled_work: Callable[[], ScheduledWork] | None = None

    @contextmanager
    def batch(self) -> Iterator[Simulator]:
        """Share one freezegun freeze among the calls placed inside the block (in-process only).

        Starting freezegun costs ~10 ms in a full app: a runner replaying many calls should place
        them inside one ``batch()``. Between calls the app's time stays where the last call ended.
        """
        if not self.transport.shares_clock or self.app_time.active:
            yield self
            return
        self.app_time.start(datetime.now())  # any instant: each call moves it
        try:
            yield self
        finally:
            self.app_time.stop()

    @property
    def rest_app(self) -> WSGIApp:
        """The stand-in for Twilio's REST API over this simulator's calls (a WSGI app).

        Give the app under test a twilio ``Client`` whose HTTP client reaches it: in process,
        ``register_in_process(name, sim.rest_app)`` and ``InProcessHttpClient(name)``; over a
        port, ``RestServer(sim.rest_app)`` (see ``hotline.sim.rest``).
        """
        if self._rest_app is None:
            self._rest_app = create_rest_app(self.switchboard, self.signer.token)
        return self._rest_app

    def url(self, path: str) -> str:
        """Return ``path`` made absolute against the app's public base URL."""
        return urljoin(self.base_url, path)

    def get_json(self, path: str, headers: Mapping[str, str] | None = None) -> Any:
        """GET one of the app's JSON endpoints (for checking outcomes after a call)."""
        return self.transport.get_json(self.url(path), headers)

    def place_call(
        self,
        caller: Caller,
        at: datetime,
        from_: str,
        to: str,
        callees: Mapping[str, Sequence[CalleeBehaviour]] | None = None,
        queues: Mapping[str, QueueBehaviour] | None = None,
        *,
        seed: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> CallResult:
        """Place one inbound call from ``from_`` to ``to`` at virtual time ``at`` and play it out.

        SIDs derive from ``seed`` (default: from, to and ``at``): give each call in a batch its own
        seed if the app stores calls by CallSid. ``details``: what Twilio adds to every request
        of the caller's leg (``FromCity``..., see ``call_details.CALL_DETAILS``).
        ``UnsupportedTwiML`` and ``ExpectationFailed`` are raised; a failing webhook ends the
        call as FAILED with ``CallResult.error`` set.
        """
        session = self.session(at, callees, queues, seed=seed)
        session.place_call(caller, from_, to, seed=seed, params=call_details(details or {}))
        return session.run()[0]

    def session(
        self,
        at: datetime,
        callees: Mapping[str, Sequence[CalleeBehaviour]] | None = None,
        queues: Mapping[str, QueueBehaviour] | None = None,
        *,
        seed: str | None = None,
        pace: float | None = None,
    ) -> Session:
        """Open a session: several calls and timed actions on one clock starting at ``at``.

        ``callees`` and ``queues`` are shared by every call of the session (and by the outbound
        calls the app places through the REST API). ``pace``: this session's, else the
        simulator's.
        """
        return Session(self, at, callees, queues, seed, pace if pace is not None else self.pace)
