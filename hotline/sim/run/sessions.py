"""Play a script with other parties as one session: its call, each party's, the app's own calls.

All the calls share the session's virtual clock, its dialled numbers and queues, and its network
(a party's ``<Dial><Queue>`` takes the caller waiting in the queue; calls meet in a conference;
what the app sends or places through the REST API lands in the network). Each party plays its
own steps and is checked against its own ``[expect]``; a party's failure names the party. What
the app did through the REST API (messages, calls placed) and the scheduled work its scheduler
did on the session's clock (``scheduler_until``) are checked against the main call's
``[expect]`` once every call has ended.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hotline.sim.engine.lifecycle import CallResult
from hotline.sim.engine.network import Network
from hotline.sim.engine.scheduled import ScheduledRun
from hotline.sim.engine.session import Session
from hotline.sim.engine.simulator import Simulator
from hotline.sim.model import SimError
from hotline.sim.rest.switchboard import MessageRecord
from hotline.sim.run.answers import Answer
from hotline.sim.run.app_requests import send as app_send
from hotline.sim.run.rest_requests import send
from hotline.sim.scripts.caller import Failure, ScriptedCaller
from hotline.sim.scripts.checks import check_outcome, with_hint
from hotline.sim.scripts.model import AppRequest, CallScript, Location, RestRequest
from hotline.sim.scripts.rest_checks import (
    PlacedCall,
    check_messages,
    check_outbound,
    check_scheduled,
)

_NEVER_ENDED = SimError("the call never ended: another call of the session crashed")


@dataclass(frozen=True)
class LegOutcome:
    """Another call of a scripted session and how it went: a party, or a call the app placed."""

    label: str  # "party 'agent'", "call the app placed to +48601100200"
    result: CallResult | None  # None: it crashed (``failure`` says how)
    failure: Failure | None = None


@dataclass(frozen=True)
class SessionPlay:
    """What a session came to: the main call's result, the other calls', the messages sent.

    ``crash``: another call of the session could not be played (its failure); ``rest_failure``:
    the first of the main call's ``[expect]`` checks of messages and placed calls that failed.
    """

    result: CallResult
    legs: tuple[LegOutcome, ...]
    messages: tuple[MessageRecord, ...]
    crash: Failure | None = None
    rest_failure: Failure | None = None
    scheduled: tuple[ScheduledRun, ...] = ()  # the app's scheduled work done on the clock

    def first_failure(self, main: Failure | None) -> tuple[Failure | None, bool]:
        """The failure to report first, given the main call's own, and whether it is a crash.

        A crash comes first (what follows may come from it); then whatever went wrong first on
        the clock, across the calls (a check after a call counts at its end): an agent who
        heard the wrong prompt 30 s in explains the caller the agent never took. The checks of
        what the app did through the REST API come last, made once every call had ended.
        """
        if self.crash is not None:
            return self.crash, True
        found: list[tuple[datetime, int, Failure]] = []
        if main is not None:
            found.append((main.at or self.result.finished, 0, main))
        for order, leg in enumerate(self.legs, 1):
            if leg.failure is not None and leg.result is not None:
                found.append((leg.failure.at or leg.result.finished, order, leg.failure))
        if found:
            return min(found, key=lambda item: (item[0], item[1]))[2], False
        return self.rest_failure, False


def play_session(
    script: CallScript,
    sim: Simulator,
    caller: ScriptedCaller,
    seed_of: Callable[[str], str],
    api_token: str | None,
) -> SessionPlay:
    """Place the script's call and its parties on one clock, play them all, check the parties.

    ``seed_of`` turns a call's id into the seed of its SIDs (salted against a running server).
    A crash of the main call is raised; another call's is the session's ``crash`` (the main
    call's result stands).
    """
    seed = seed_of(script.id)
    session = sim.session(script.at, script.dialled, script.queues, seed=seed)
    main_sid = session.place_call(
        caller, script.from_, script.to, seed=seed, params=script.params or None
    )
    parties = []
    for party in script.parties:
        call = script.party_call(party)
        party_caller = ScriptedCaller(call)
        sid = session.place_call(
            party_caller,
            call.from_,
            call.to,
            after=party.after,
            seed=seed_of(f"{script.id}/{party.name}"),
            voice_url=party.voice_url,
            params=call.params or None,
        )
        parties.append((party, call, party_caller, sid))
    answers: list[Answer] = []
    sids = {"": main_sid, **{party.name: sid for party, _, _, sid in parties}}
    for request in script.rest:

        def make(request: RestRequest = request) -> None:
            answers.append(send(sim, request, sids, session.placed(main_sid)))

        session.at(request.at, make, name=f"REST {request.describe()}")
    asked: list[Answer] = []
    for app_request in script.requests:

        def ask(app_request: AppRequest = app_request) -> None:
            main = session.placed(main_sid)
            asked.append(app_send(sim, app_request, sids, main, api_token))

        label = f"request {app_request.describe()}"
        if app_request.at is not None:
            session.at(app_request.at, ask, name=label)
        elif app_request.on is not None:  # a party the script names (checked when it was read)
            session.when(sids[app_request.party], app_request.on, ask, app_request.after, label)
    no_scheduler = _scheduled_work(script, sim, session)
    network = session.network
    error: Exception | None = None
    try:
        session.run()
    except Exception as exc:  # another call's crash is reported as its own, the main call's raised
        if main_sid not in network.results:
            raise
        error = exc
    # The session raises the first error in the order the calls started: the first party to
    # start that has no result is the one that crashed.
    crashed_sid = next(
        (
            sid
            for party, _, _, sid in sorted(parties, key=lambda p: p[0].after)
            if sid not in network.results
        ),
        None,
    )
    crash: Failure | None = None
    legs: list[LegOutcome] = []
    for party, call, party_caller, sid in parties:
        label = f"party {party.name!r}"
        result = network.results.get(sid)
        failure: Failure | None = None
        if result is None:
            why = error if sid == crashed_sid and error is not None else _NEVER_ENDED
            failure = crash_failure(call.where, why, label)
            crash = crash or failure
        else:
            party_caller.finish(result.ended, with_hint(result.reason))
            found = party_caller.failure or check_outcome(call, result, sim, api_token)
            failure = _named(label, found) if found else None
        legs.append(LegOutcome(label, result, failure))
    placed = placed_calls(network, {main_sid, *(sid for *_, sid in parties)})
    for placed_call, result in placed:
        legs.append(LegOutcome(f"call the app placed to {placed_call.to}", result))
    if error is not None and crash is None:  # a call the app placed crashed
        crash = crash_failure(script.where, error, "a call the app placed")
    messages = tuple(network.sent_messages)
    scheduled = tuple(session.scheduler.runs) if session.scheduler is not None else ()
    refused = [answer.failure() for answer in [*answers, *asked]]
    rest_failure = (
        next((failure for failure in refused if failure is not None), None)
        or check_messages(script.expect.messages, messages)
        or check_outbound(script.expect.outbound, [placed_call for placed_call, _ in placed])
        or no_scheduler
        or check_scheduled(script.expect.scheduled, scheduled, script.expect.where)
    )
    return SessionPlay(
        network.results[main_sid], tuple(legs), messages, crash, rest_failure, scheduled
    )


def _scheduled_work(script: CallScript, sim: Simulator, session: Session) -> Failure | None:
    """Give the session the app's scheduled work when the script runs it; a failure when the
    app offers none (only hotline built by the replay does)."""
    if not script.runs_scheduler:
        return None
    if sim.scheduled_work is None:
        return Failure(
            script.where,
            "the script runs scheduled work (scheduler_until, [expect] scheduled), but the app"
            " offers none to run on the virtual clock (hotline built by the replay does)",
        )
    session.run_scheduled(sim.scheduled_work(), script.scheduler_until)
    return None


def crash_failure(where: Location, exc: Exception, label: str = "") -> Failure:
    """A call that could not be played: the engine's error, or the crash with its traceback."""
    named = f"{label}: " if label else ""
    if isinstance(exc, SimError):
        # The app answered something the engine cannot play, or cannot be reached: no traceback.
        return Failure(where, f"{named}{type(exc).__name__}: {exc}")
    detail = "".join(traceback.format_exception(exc)).rstrip()
    return Failure(where, f"{named}the call crashed: {type(exc).__name__}: {exc}\n{detail}")


def _named(label: str, failure: Failure) -> Failure:
    return Failure(failure.where, f"{label}: {failure.message}", failure.at)


def placed_calls(network: Network, ours: set[str]) -> list[tuple[PlacedCall, CallResult | None]]:
    """The calls the app placed through the REST API, oldest first, with their results."""
    placed = []
    for record in reversed(network.calls()):
        if record.sid in ours or record.direction != "outbound-api":
            continue
        result = network.results.get(record.sid)
        heard = tuple(result.heard()) if result is not None else ()
        call = PlacedCall(record.sid, record.to, record.from_, record.status, heard)
        placed.append((call, result))
    return placed
