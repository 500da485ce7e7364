"""The simulator's virtual clock, and how long each thing on a call takes.

A call starts at a chosen instant and time only moves when something on the call takes time:
speech, audio, pauses, ringing, waiting for input. Nothing reads the wall clock, so the same call
gives the same transcript on every run.

In-process (``WSGITransport``) the app sees the virtual time too: ``shared_with_app()`` starts one
freezegun freeze per call and ``advance()`` moves it. Starting freezegun scans ``sys.modules``
(~10 ms in a full app), so never per request, and a batch of calls can share one ``AppTime``.

Over HTTP (``HTTPTransport``) the app runs elsewhere on its own wall clock and cannot see virtual
time: only the transcript's timestamps and the params the engine sends (``QueueTime``,
``DialCallDuration``, ...) are virtual there; anything the app decides from ``datetime.now()``
(opening hours!) follows the real clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from freezegun import api as freezegun_api
from freezegun import freeze_time


class AppTime:
    """The time this process's code sees: one freezegun freeze, moved to whatever it is told."""

    def __init__(self) -> None:
        self._freezer: Any = None
        self._factory: Any = None

    @property
    def active(self) -> bool:
        """Whether the freeze is on."""
        return self._freezer is not None

    def start(self, at: datetime) -> None:
        """Freeze ``datetime.now()``, ``time.time()`` and friends at ``at``."""
        if self._freezer is not None:
            raise RuntimeError("the app's time is already frozen")
        self._freezer = freeze_time(at)
        self._factory = self._freezer.start()

    def move_to(self, at: datetime) -> None:
        """Move the frozen time to ``at``."""
        self._factory.move_to(at)

    def stop(self) -> None:
        """Give the process its real clock back."""
        if self._freezer is not None:
            freezer, self._freezer, self._factory = self._freezer, None, None
            freezer.stop()


def wall_clock() -> float:
    """Seconds on the real clock (``time.perf_counter``), even while the app's time is frozen."""
    # Looked up on freezegun's module at each call: a freeze patches the names other modules hold.
    return float(freezegun_api.real_perf_counter())


class VirtualClock:
    """A clock that starts at ``start`` and moves only when told to."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._elapsed = 0.0
        self._app: AppTime | None = None  # the app's view of time, while it follows this clock

    @property
    def start(self) -> datetime:
        """The instant the clock started at."""
        return self._start

    @property
    def now(self) -> datetime:
        """The current virtual instant."""
        return self._start + timedelta(seconds=self._elapsed)

    @property
    def elapsed(self) -> float:
        """Seconds since ``start``."""
        return self._elapsed

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (and the app's view of it, if shared)."""
        if seconds < 0:
            raise ValueError(f"the clock cannot go back ({seconds} s)")
        if seconds == 0:
            return
        self._elapsed += seconds
        if self._app is not None:
            self._app.move_to(self.now)

    @contextmanager
    def shared_with_app(self, app_time: AppTime | None = None) -> Iterator[None]:
        """Make ``datetime.now()`` and friends in this process read this clock inside the block.

        With an active ``app_time`` (a batch of calls), that freeze is reused and left on;
        otherwise one is started here and stopped on the way out, errors included.
        """
        borrowed = app_time is not None and app_time.active
        app = app_time if app_time is not None and borrowed else AppTime()
        if borrowed:
            app.move_to(self.now)
        else:
            app.start(self.now)
        self._app = app
        try:
            yield
        finally:
            self._app = None
            if not borrowed:
                app.stop()


@dataclass(frozen=True)
class Timing:
    """How long things take on a simulated call (deterministic estimates, in seconds)."""

    words_per_second: float = 2.5
    min_say: float = 0.5
    play: float = 5.0  # one play of an audio file: the engine never downloads it
    dtmf_tone: float = 0.5  # each character of <Play digits>, a 'w' is Twilio's half-second wait
    speech_end: float = 1.0  # silence that ends speech with speechTimeout="auto"

    def say(self, text: str) -> float:
        """Return how long speaking ``text`` once takes."""
        return max(self.min_say, len(text.split()) / self.words_per_second)

    def speech(self, text: str) -> float:
        """Return how long a person takes to say ``text``."""
        return len(text.split()) / self.words_per_second
