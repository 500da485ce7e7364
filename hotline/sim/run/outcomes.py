"""Play one scripted call against the app and record how it went: ``CallOutcome``, ``RunSummary``.

Each call gets a fresh app (the factory is called once per call), so calls never see each
other's side effects and can run in any order or in several processes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from hotline.sim.engine.clock import AppTime, wall_clock
from hotline.sim.engine.scheduled import ScheduledRun
from hotline.sim.engine.simulator import CallResult
from hotline.sim.hotline_aware.trails import CallTrail, fetch_trail
from hotline.sim.model import CallEnd, SimError
from hotline.sim.rest.switchboard import MessageRecord
from hotline.sim.run.connection import Connection, Target
from hotline.sim.run.sessions import LegOutcome, SessionPlay, crash_failure, play_session
from hotline.sim.scripts.caller import Failure, ScriptedCaller
from hotline.sim.scripts.checks import check_outcome, with_hint
from hotline.sim.scripts.model import CallScript


@dataclass(frozen=True)
class CallOutcome:
    """How one scripted call went: the verdict, what went wrong first, and the whole transcript."""

    script: CallScript
    # "passed", "failed" (a check failed), "error" (the call could not be played) or "skipped"
    # (the app cannot give what the call needs: ``reason`` says why)
    status: str
    failure: Failure | None = None
    result: CallResult | None = None
    seconds: float = 0.0  # wall-clock time spent on the call
    trail: CallTrail | None = None  # the app's record of the call, read for ``--coverage``
    # ... and of the session's other calls the app recorded (parties, calls it placed)
    leg_trails: tuple[CallTrail, ...] = ()
    reason: str = ""  # why the call was skipped
    legs: tuple[LegOutcome, ...] = ()  # the session's other calls: parties, calls the app placed
    messages: tuple[MessageRecord, ...] = ()  # what the app sent through the REST API
    scheduled: tuple[ScheduledRun, ...] = ()  # the app's scheduled work done on the clock

    @property
    def passed(self) -> bool:
        """Whether every step and check held."""
        return self.status == "passed"

    @property
    def skipped(self) -> bool:
        """Whether the call was not played (``reason`` says why)."""
        return self.status == "skipped"


@dataclass
class RunSummary:
    """The outcomes of a run, in script order."""

    outcomes: list[CallOutcome] = field(default_factory=list)

    @property
    def passed(self) -> int:
        """How many calls passed."""
        return sum(1 for outcome in self.outcomes if outcome.passed)

    @property
    def skipped(self) -> int:
        """How many calls were skipped (the app cannot give what they need)."""
        return sum(1 for outcome in self.outcomes if outcome.skipped)

    @property
    def failed(self) -> int:
        """How many calls failed or could not be played."""
        return len(self.outcomes) - self.passed - self.skipped

    def line(self) -> str:
        """The summary line: ``N passed, M failed`` (and ``, K skipped`` when some were)."""
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        return f"{self.passed} passed, {self.failed} failed{skipped}"


def run_call(
    script: CallScript,
    target: Target,
    *,
    trail: bool = False,
    app_time: AppTime | None = None,
) -> CallOutcome:
    """Play one scripted call against a fresh app and check everything the script expects.

    With ``trail``, the outcome also carries hotline's own record of the call (for coverage),
    read before the app is reset for the next call. ``app_time``: see ``play_call``.
    """
    started = wall_clock()
    skip = target.skip_reason(script)
    if skip is not None:
        return CallOutcome(script, "skipped", reason=skip)
    try:
        connection = target.connect(script)
    except Exception as exc:  # an app that cannot be built fails its calls, not the whole run
        return CallOutcome(script, "error", _crash(script, exc), None, wall_clock() - started)
    try:
        outcome = play_call(script, connection, target.voice_path, app_time=app_time)
        if trail and outcome.result is not None:
            config = target.config_for(script)

            def read(call_sid: str) -> CallTrail:
                return fetch_trail(
                    connection.transport,
                    connection.base_url,
                    connection.api_token,
                    call_sid,
                    config,
                )

            legs = (read(leg.result.call_sid) for leg in outcome.legs if leg.result is not None)
            outcome = dataclasses.replace(
                outcome,
                trail=read(outcome.result.call_sid),
                # A leg the app kept no step of (an agent's call) reached nothing of the flow.
                leg_trails=tuple(t for t in legs if t.events or t.problem),
            )
        return outcome
    finally:
        connection.transport.close()


def play_call(
    script: CallScript,
    connection: Connection,
    voice_path: str = "/voice",
    *,
    app_time: AppTime | None = None,
) -> CallOutcome:
    """Play one scripted call on an open connection and check everything the script expects.

    ``app_time``: one freeze of the app's clock shared by a run of calls in this process (started
    here if it is not yet; the caller stops it), which spares freezegun's start-up per call.
    """
    started = wall_clock()
    caller = ScriptedCaller(script)
    result: CallResult | None = None
    session: SessionPlay | None = None
    try:
        if app_time is not None and connection.transport.shares_clock and not app_time.active:
            app_time.start(script.at)
        sim = connection.simulator(
            script.voice_url or voice_path,
            app_time,
            fallback_url=script.fallback_url,
            status_callback=script.status_callback,
            voice_method=script.voice_method,
            strict=script.strict,
        )
        if script.needs_session:
            session = play_session(script, sim, caller, connection.seed, connection.api_token)
            result = session.result
        else:  # a lone call: the path every script without parties takes, kept lean
            result = sim.place_call(
                caller,
                script.at,
                script.from_,
                script.to,
                script.dialled,
                script.queues,
                seed=connection.seed(script.id),
            )
        caller.finish(result.ended, with_hint(result.reason))
        failure = caller.failure or check_outcome(script, result, sim, connection.api_token)
        crashed = False
        if session is not None:
            failure, crashed = session.first_failure(failure)
        status = "passed" if failure is None else "error" if crashed else "failed"
    except Exception as exc:  # one crashing call must not stop the others
        failure, status = caller.failure or _crash(script, exc), "error"
        if result is None:
            result = _heard_so_far(script, caller, exc)
    return CallOutcome(
        script,
        status,
        failure,
        result,
        wall_clock() - started,
        legs=session.legs if session is not None else (),
        messages=session.messages if session is not None else (),
        scheduled=session.scheduled if session is not None else (),
    )


def _heard_so_far(script: CallScript, caller: ScriptedCaller, exc: Exception) -> CallResult:
    """What a call came to when the engine stopped without a result: every event until then.

    The engine refuses TwiML it cannot play (``UnsupportedTwiML``) by raising; the report still
    shows the call up to that answer, ending ``failed``.
    """
    events = caller.events
    sids = [e.detail["CallSid"] for e in events if e.kind == "webhook" and "CallSid" in e.detail]
    return CallResult(
        call_sid=sids[0] if sids else "",
        transcript=list(events),
        ended=CallEnd.FAILED,
        reason=f"{type(exc).__name__}: {exc}",
        started=script.at,
        finished=events[-1].at if events else script.at,
        webhooks=sum(1 for e in events if e.kind in ("webhook", "status-callback")),
        error=exc if isinstance(exc, SimError) else None,
    )


def _crash(script: CallScript, exc: Exception) -> Failure:
    return crash_failure(script.where, exc)
