"""The simulator's world: actors take turns on one virtual clock, in time order."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest

from hotline.sim.engine.clock import wall_clock
from hotline.sim.engine.world import CallClock, World, WorldOver

START = datetime(2026, 3, 30, 10, 0, 0)


class Wake(Exception):
    """Delivered to a sleeping actor by another."""


def test_actors_run_in_virtual_time_order_whatever_order_they_started() -> None:
    world = World(START)
    log: list[tuple[float, str]] = []

    def walker(name: str, steps: list[float]) -> None:
        for step in steps:
            world.sleep_until(world.elapsed + step)
            log.append((world.elapsed, name))

    world.spawn("b", lambda: walker("b", [3, 3, 3]), delay=1.0)
    world.spawn("a", lambda: walker("a", [2, 2, 2]))
    walker("first", [5, 5])
    world.drain()
    assert log == [
        (2.0, "a"),
        (4.0, "b"),  # both due at 4: b asked for it first (at 1 s, a at 2 s)
        (4.0, "a"),
        (5.0, "first"),
        (6.0, "a"),
        (7.0, "b"),
        (10.0, "first"),
        (10.0, "b"),
    ]
    assert world.now == START + timedelta(seconds=10)


def test_an_interrupt_wakes_a_sleeper_at_that_instant() -> None:
    world = World(START)
    seen: list[tuple[str, float]] = []

    def sleeper() -> None:
        try:
            world.sleep_until(100.0)
        except Wake:
            seen.append(("woken", world.elapsed))

    actor = world.spawn("sleeper", sleeper)
    world.sleep_until(7.5)
    world.interrupt(actor, Wake())
    world.sleep_until(8.0)
    world.drain()
    assert seen == [("woken", 7.5)]


def test_drain_ends_waits_nothing_can_end_and_records_errors() -> None:
    world = World(START)

    def forever() -> None:
        world.sleep_until(float("inf"))

    def broken() -> None:
        world.sleep_until(1.0)
        raise ValueError("boom")

    stuck = world.spawn("stuck", forever)
    failing = world.spawn("failing", broken)
    actors = world.drain()
    assert {a.name for a in actors} == {"first", "stuck", "failing"}
    assert not stuck.alive and stuck.error is None  # told WorldOver, a clean end
    assert isinstance(failing.error, ValueError)


def test_abort_stops_every_other_actor_where_it_waits() -> None:
    world = World(START)
    reached: list[str] = []

    def waiter() -> None:
        try:
            world.sleep_until(50.0)
        except WorldOver:
            reached.append("stopped")
            raise
        reached.append("finished")

    world.spawn("waiter", waiter)
    world.sleep_until(1.0)
    world.abort()
    assert reached == ["stopped"]
    assert world.elapsed == 1.0


def test_a_closed_world_lets_other_threads_in_at_once() -> None:
    world = World(START)
    world.sleep_until(3.0)
    entered = threading.Event()

    def outside() -> None:
        with world.entered():
            entered.set()

    world.close()
    thread = threading.Thread(target=outside)
    thread.start()
    thread.join(timeout=10)
    assert entered.is_set()


def test_an_outside_thread_acts_while_the_running_actor_waits_on_io() -> None:
    world = World(START)
    done = threading.Event()

    def outside() -> None:
        with world.entered():
            done.set()

    thread = threading.Thread(target=outside)
    with world.outside():  # as a call waits for an app's HTTP answer
        thread.start()
        assert done.wait(timeout=10)
    thread.join(timeout=10)
    world.close()


def test_a_call_clock_counts_from_the_call_start() -> None:
    world = World(START)
    world.sleep_until(30.0)
    clock = CallClock(world)
    clock.advance(12.0)
    assert (clock.start, clock.elapsed, clock.now) == (
        START + timedelta(seconds=30),
        12.0,
        START + timedelta(seconds=42),
    )
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1)
    world.close()


class Moved(Exception):
    """A second interrupt, delivered at the same instant as ``Wake``."""


def test_two_interrupts_at_the_same_instant_are_both_raised_in_order() -> None:
    world = World(START)
    seen: list[tuple[str, float]] = []

    def sleeper() -> None:
        for _ in range(3):
            try:
                world.sleep_until(world.elapsed + 100.0)
            except (Wake, Moved) as error:
                seen.append((type(error).__name__, world.elapsed))

    actor = world.spawn("sleeper", sleeper)
    world.sleep_until(5.0)
    world.interrupt(actor, Wake())
    world.interrupt(actor, Moved())  # lost before: the second replaced the first
    world.drain()
    assert seen == [("Wake", 5.0), ("Moved", 5.0)]


def test_an_interrupt_for_an_actor_not_started_waits_for_its_start() -> None:
    world = World(START)
    seen: list[tuple[str, float]] = []

    def late() -> None:
        seen.append(("started", world.elapsed))
        try:
            world.sleep_until(world.elapsed + 10.0)
        except Wake:
            seen.append(("woken", world.elapsed))

    actor = world.spawn("late", late, delay=30.0)
    world.sleep_until(2.0)
    world.interrupt(actor, Wake())
    world.drain()
    # Before: started at 2 s (its start moved to the interrupt) and died of Wake unstarted.
    assert seen == [("started", 30.0), ("woken", 30.0)]
    assert actor.error is None


def test_an_interrupt_for_the_first_actor_after_its_part_stops_nobody_early() -> None:
    world = World(START)
    seen: list[float] = []

    def poker() -> None:
        world.sleep_until(5.0)
        world.interrupt(world.first, Wake())  # the first actor is draining by now
        world.sleep_until(20.0)
        seen.append(world.elapsed)

    world.spawn("poker", poker)
    world.drain()
    assert seen == [20.0]  # before: told WorldOver at 5 s


# -- paced: the virtual clock follows the wall clock ------------------------------------------
# Small paces keep these fast; a broken wake-up costs seconds (1000 virtual s at 0.01), not a hang.


def test_paced_a_wait_takes_its_real_time_and_the_clock_lands_on_the_instant_due() -> None:
    world = World(START, pace=0.01)
    seen: list[float] = []
    world.spawn("b", lambda: seen.append(world.elapsed), delay=4.0)
    started = wall_clock()
    world.sleep_until(10.0)
    waited = wall_clock() - started
    world.drain()
    assert seen == [4.0]  # actors still run at the very instant they were due
    assert world.elapsed == 10.0
    assert waited >= 10.0 * 0.01  # a lower bound only: a real wait happened


def test_unpaced_nothing_waits_and_a_pace_must_be_positive() -> None:
    assert World(START).pace is None
    with pytest.raises(ValueError, match="more than 0"):
        World(START, pace=0.0)


def test_paced_an_outside_thread_interrupt_cuts_the_wait_short() -> None:
    world = World(START, pace=0.01)
    seen: list[tuple[str, float]] = []

    def sleeper() -> None:
        try:
            world.sleep_until(1000.0)
        except Wake:
            seen.append(("woken", world.elapsed))

    actor = world.spawn("sleeper", sleeper)

    def outside() -> None:  # a browser's click reaching the REST stand-in, say
        while world.elapsed == 0.0:  # until the sleeper sleeps and the clock follows the wall
            time.sleep(0.001)
        with world.entered():  # in while the world waits (paced, its lock is free)
            world.interrupt(actor, Wake())

    thread = threading.Thread(target=outside)
    thread.start()
    world.drain()  # the sleeper waits in real time, on the first actor's or its own thread
    thread.join(timeout=10)
    world.close()
    assert len(seen) == 1 and seen[0][0] == "woken"
    assert seen[0][1] < 1000.0


def test_paced_an_outside_spawn_runs_at_once_and_unpacing_ends_the_wait() -> None:
    world = World(START, pace=0.01)
    ran: list[float] = []
    first = world.current

    def outside() -> None:
        with world.entered():
            world.spawn("from outside", lambda: world.interrupt(first, Wake()))

    thread = threading.Thread(target=outside)
    thread.start()
    with pytest.raises(Wake):
        world.sleep_until(1000.0)  # 10 real seconds, unless the outside spawn wakes it
    ran.append(world.elapsed)
    thread.join(timeout=10)
    assert ran[0] < 1000.0

    def unpace() -> None:
        world.pace = None  # from another thread, while the world waits

    thread = threading.Thread(target=unpace)
    thread.start()
    world.sleep_until(ran[0] + 1000.0)
    thread.join(timeout=10)
    assert world.elapsed == ran[0] + 1000.0 and world.pace is None
    world.drain()
    world.close()


def test_a_world_runs_on_another_thread_than_the_one_that_made_it() -> None:
    world = World(START, pace=0.001)
    log: list[str] = []

    def run() -> None:
        world.run_here()
        with world.entered():  # the running thread's own requests never wait for the lock
            log.append("entered")
        world.spawn("a", lambda: log.append(f"a at {world.elapsed}"), delay=2.0)
        world.sleep_until(5.0)
        world.drain()
        world.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=10)
    assert log == ["entered", "a at 2.0"]
    assert world.elapsed == 5.0
