"""The session's scheduler actor: an app's timed work run on the virtual clock, woken by what
happens on the calls, never polling, and stopped at the script's horizon."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from twilio.twiml.voice_response import VoiceResponse

from hotline.sim.engine.scheduled import ScheduledUntil, ScheduledWorkStuck
from hotline.sim.engine.simulator import Simulator
from hotline.sim.engine.transport import WSGITransport
from tests.sim_apps import AUTH_TOKEN, Route, twiml_app
from tests.test_sim_engine import ScriptCaller

AT = datetime(2026, 11, 26, 21, 0, 0)
BUYER = "+48601100200"
HOTLINE = "+48221000000"


@dataclass
class Work:
    """Timed work kept in a list: each item is done once, at or after its instant."""

    due: list[datetime] = field(default_factory=list)
    done: list[tuple[datetime, datetime]] = field(default_factory=list)  # (due, done at)
    asked: int = 0
    runs: int = 0
    stuck: bool = False  # an item that running never takes away

    def next_due(self, now: datetime) -> datetime | None:
        self.asked += 1
        return max(min(self.due), now) if self.due else None

    def run_due(self, now: datetime) -> list[str]:
        self.runs += 1
        if self.stuck:
            return []
        ready = sorted(at for at in self.due if at <= now)
        for at in ready:
            self.due.remove(at)
            self.done.append((at, now))
        return [f"work: {len(ready)} done"] if ready else []


def _routes(work: Work, later: list[timedelta], pause: int = 100) -> dict[str, Route]:
    def voice(_params: dict[str, str]) -> VoiceResponse:
        # What the app's webhook writes: work due ``later`` after the request.
        work.due.extend(AT + offset for offset in later)
        response = VoiceResponse()
        response.pause(length=pause)
        response.say("Goodbye.")
        return response

    return {"/voice": voice}


def _without_scheduler() -> tuple[datetime, list[str]]:
    sim = Simulator(WSGITransport(twiml_app(_routes(Work(), []))), AUTH_TOKEN)
    result = sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE)
    return result.finished, result.heard()


def _run(
    work: Work, later: list[timedelta], horizon: ScheduledUntil | None = None, pause: int = 100
) -> tuple[Simulator, datetime, float]:
    sim = Simulator(WSGITransport(twiml_app(_routes(work, later, pause))), AUTH_TOKEN)
    session = sim.session(AT)
    session.place_call(ScriptCaller(), BUYER, HOTLINE)
    session.run_scheduled(work, horizon)
    [result] = session.run()
    assert session.scheduler is not None
    return sim, result.finished, session.world.elapsed


def test_work_due_at_once_runs_at_the_instant_of_the_webhook_that_wrote_it() -> None:
    work = Work()
    _run(work, [timedelta(0)])
    assert work.done == [(AT, AT)]


def test_the_actor_sleeps_until_next_due_and_runs_it_at_that_virtual_instant() -> None:
    work = Work()
    _, finished, _ = _run(work, [timedelta(seconds=30), timedelta(seconds=61.5)])
    assert work.done == [
        (AT + timedelta(seconds=30), AT + timedelta(seconds=30)),
        (AT + timedelta(seconds=61.5), AT + timedelta(seconds=61.5)),
    ]
    assert finished == _without_scheduler()[0]  # the call itself is as it would be


def test_nothing_due_runs_nothing_and_the_calls_are_unchanged() -> None:
    work = Work()
    _, finished, elapsed = _run(work, [])
    assert (work.runs, work.done) == (0, [])
    assert 0 < work.asked < 10  # asked when something happened, not every virtual second
    assert finished == _without_scheduler()[0] == AT + timedelta(seconds=elapsed)


def test_woken_many_times_at_one_instant_it_runs_the_work_once() -> None:
    work = Work()
    # The caller's webhook, the call's end and more all wake it; the items due at 100.5 s (the
    # call's end) are done in one run.
    _run(work, [timedelta(seconds=100.5), timedelta(seconds=100.5)])
    assert work.done == [(AT + timedelta(seconds=100.5), AT + timedelta(seconds=100.5))] * 2
    assert work.runs == 1


def test_by_default_work_due_after_the_calls_is_left_and_the_session_ends_with_them() -> None:
    work = Work()
    _, _, elapsed = _run(work, [timedelta(hours=1)])
    assert work.done == [] and work.runs == 0
    assert elapsed == 100.5  # the clock did not run on to the work: the call ended at 100.5 s


def test_a_horizon_after_the_calls_runs_the_work_until_then_and_stops() -> None:
    work = Work()
    horizon = ScheduledUntil(after=timedelta(hours=12))
    _, _, elapsed = _run(work, [timedelta(hours=1), timedelta(hours=13)], horizon)
    assert work.done == [(AT + timedelta(hours=1), AT + timedelta(hours=1))]
    assert work.due == [AT + timedelta(hours=13)]  # beyond the horizon: left, not run
    assert elapsed == 3600  # the clock stopped at the last work, not at the horizon


def test_a_horizon_at_an_instant_includes_work_due_exactly_then() -> None:
    work = Work()
    until = AT + timedelta(hours=11)
    _run(work, [timedelta(hours=11), timedelta(hours=11, seconds=1)], ScheduledUntil(until=until))
    assert work.done == [(until, until)]


def test_work_that_never_gets_done_fails_the_session_instead_of_spinning() -> None:
    work = Work(stuck=True)
    with pytest.raises(ScheduledWorkStuck, match="after 20 runs"):
        _run(work, [timedelta(seconds=5)])


def test_horizons_describe_themselves() -> None:
    assert ScheduledUntil().describe() == "while calls are in progress"
    assert ScheduledUntil(after=timedelta(hours=12)).describe() == "12:00:00 after the calls"
    until = datetime(2026, 11, 27, 8, 30)
    assert ScheduledUntil(until=until).end(AT) == until
    assert ScheduledUntil(until=AT - timedelta(hours=1)).end(AT) == AT
