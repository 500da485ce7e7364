"""The simulator's world: actors take turns on one virtual clock, in time order."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

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
