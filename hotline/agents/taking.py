"""An agent takes a caller: the claim, the agent's phone rung through the REST API, the agent
answering (a whisper of the caller's context, then a conference the caller is moved into), and
Twilio's callbacks about the agent's call.

1. ``take_and_ring``: ``queue.take`` claims a caller and puts the agent to ringing; the claim
   gets an opaque conference name; ``Calls.create`` rings the agent (phone or ``client:``) with
   ``/voice/agent/answer`` as its URL and ``/voice/agent/status`` as its status callback. A
   failed request gives the caller back to the queue and the agent back to available.
2. ``answered`` (the agent picked up): the claim becomes the caller taken, the agent on a call;
   the caller is moved out of the queue (Queues Members update) to ``/voice/agent/join``, which
   puts them in the conference. A caller who left meanwhile: the agent hears so and is
   available again. A retried webhook answers the same TwiML and moves nobody twice.
3. ``agent_status`` (the agent's call ended, or was never answered): a claim still ringing goes
   back to waiting and the agent to available; an agent on the call goes to wrap-up.
4. ``agent_left`` (the agent's conference ended): the agent goes to wrap-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection
from twilio.rest import Client

from hotline.agents import calls, presence
from hotline.agents import queue as agents_queue
from hotline.agents.calls import AGENT, BUYER, Links
from hotline.agents.queue import Take, TakeResult
from hotline.agents.states import AgentState, Cause
from hotline.config.agents import Agent
from hotline.config.settings import Settings
from hotline.ivr.flow import Flow
from hotline.ivr.reply import Reply
from hotline.rules.phones import mask_in_text
from hotline.store import queue_entries
from hotline.store.database import Store
from hotline.store.directory import Directory
from hotline.store.queue_entries import Claim, QueueEntry

log = logging.getLogger(__name__)
NOT_ANSWERED = ("busy", "no-answer", "failed", "canceled")


@dataclass(frozen=True)
class Ringing:
    """What a take came to: the take, and when the agent is being rung, their call's SID."""

    take: Take
    agent_call: str | None = None
    conference: str | None = None


def take_and_ring(
    store: Store,
    client: Callable[[], Client],
    settings: Settings,
    agent: Agent,
    links: Links,
    *,
    by: str,
    now: datetime,
    call_sid: str | None = None,
) -> Ringing:
    """Claim a caller for ``agent`` and ring the agent; undone when Twilio refuses the call."""
    take = agents_queue.take(
        store,
        agent.id,
        queue=settings.queue,
        now=now,
        wrap_up_seconds=settings.wrap_up_seconds,
        by=by,
        call_sid=call_sid,
    )
    if take.result is not TakeResult.TAKEN or take.claim is None:
        return Ringing(take)
    claim = take.claim
    conference = calls.new_conference_name()
    with store.engine.begin() as conn:
        queue_entries.set_conference(conn, claim, conference)
    query: dict[str, str | int] = {
        "entry": claim.entry_id,
        "claim": claim.number,
        "agent": agent.id,
    }
    try:
        created = client().calls.create(
            to=agent.rings,
            from_=calls.hotline_number(store, claim.call_sid, settings),
            url=links.url("/voice/agent/answer", **query),
            method="POST",
            status_callback=links.url("/voice/agent/status", **query),
            status_callback_method="POST",
            timeout=settings.dial_timeout,
        )
    except calls.REST_ERRORS as exc:
        log.error(
            "ringing agent %s for caller %s failed: %s", agent.id, claim.call_sid, mask_in_text(exc)
        )
        _give_up(store, claim, settings, now, why=f"ringing failed: {mask_in_text(exc)}")
        failed = Take(TakeResult.AGENT_NOT_AVAILABLE, reason=f"could not ring {agent.id}: {exc}")
        return Ringing(failed)
    log.info("ringing agent %s for caller %s (call %s)", agent.id, claim.call_sid, created.sid)
    return Ringing(take, str(created.sid), conference)


def answered(
    store: Store,
    client: Callable[[], Client],
    settings: Settings,
    flow: Flow,
    directory: Directory,
    links: Links,
    claim: Claim,
    now: datetime,
) -> Reply:
    """The agent picked up: the whisper and the conference, and the caller moved into it."""
    with store.engine.begin() as conn:
        connected = queue_entries.connect(conn, claim, now)
        entry = queue_entries.entry(conn, claim.call_sid)
        again = (  # a retry of this webhook: the claim was connected by the first one
            not connected
            and entry is not None
            and entry.id == claim.entry_id
            and entry.claims == claim.number
            and entry.status == queue_entries.TAKEN
            and entry.taken_by == claim.agent_id
        )
        if connected:
            _agent_to(conn, claim, AgentState.ON_CALL, settings, now, "answered")
    if entry is None or entry.conference is None or not (connected or again):
        return _caller_gone(store, claim, settings, flow, entry, now, AgentState.AVAILABLE)
    if connected and not _move_caller(client, settings, entry, links):
        return _caller_gone(store, claim, settings, flow, entry, now, AgentState.WRAP_UP)
    reply = Reply()
    whisper = calls.caller_words(flow, entry, directory.seller(entry.seller_id), settings)
    reply.say(whisper, **calls.say(flow, entry, settings))
    dial = reply.dial(
        action=links.url("/voice/agent/left", entry=entry.id, agent=claim.agent_id),
        method="POST",
    )
    dial.conference(
        entry.conference,
        participant_label=AGENT,
        beep=False,
        start_conference_on_enter=True,
        end_conference_on_exit=True,  # the agent hanging up ends the call (unless handed on)
    )
    return reply


def join(settings: Settings, flow: Flow, entry: QueueEntry | None, links: Links) -> Reply:
    """The caller's TwiML once moved out of the queue: the agent's conference."""
    reply = Reply()
    if entry is None or entry.conference is None:
        reply.say(calls.words(flow, entry, settings, "apology"), **calls.say(flow, entry, settings))
        reply.hangup()
        return reply
    dial = reply.dial(action=links.url("/voice/agent/after", entry=entry.id), method="POST")
    dial.conference(
        entry.conference,
        participant_label=BUYER,
        beep=False,
        start_conference_on_enter=True,
        end_conference_on_exit=True,  # the caller hanging up ends it for the agent too
    )
    return reply


def agent_status(store: Store, settings: Settings, claim: Claim, status: str, now: datetime) -> str:
    """Twilio's last word on the agent's call: what became of the agent, in words for the log."""
    with store.engine.begin() as conn:
        if queue_entries.release(conn, claim):  # never answered (or hung up during the whisper)
            _agent_to(conn, claim, AgentState.AVAILABLE, settings, now, f"call {status}")
            return "released"
        if status in NOT_ANSWERED:
            _agent_to(conn, claim, AgentState.AVAILABLE, settings, now, f"call {status}")
            return "not answered"
        _agent_to(conn, claim, AgentState.WRAP_UP, settings, now, f"call {status}")
    return "ended"


def agent_left(
    store: Store, settings: Settings, flow: Flow, entry_id: int, agent_id: str, now: datetime
) -> Reply:
    """The agent's conference ended (the caller hung up, or was handed on): wrap-up."""
    with store.engine.begin() as conn:
        entry = queue_entries.entry_by_id(conn, entry_id)
        if entry is not None:
            presence.change_in(
                conn,
                agent_id,
                AgentState.WRAP_UP,
                Cause.TWILIO,
                by="twilio",
                why="the conference ended",
                now=now,
                wrap_up_seconds=settings.wrap_up_seconds,
                about_call=entry.call_sid,
            )
    reply = Reply()
    reply.say(
        calls.words(flow, entry, settings, "agent_call_over"), **calls.say(flow, entry, settings)
    )
    reply.hangup()
    return reply


def _move_caller(
    client: Callable[[], Client], settings: Settings, entry: QueueEntry, links: Links
) -> bool:
    """Move the caller out of the queue into the conference; ``False``: they are not in it."""
    try:
        rest = client()
        sid = calls.queue_sid(rest, settings.queue)
        if sid is None:
            return False
        rest.queues(sid).members(entry.call_sid).update(
            url=links.url("/voice/agent/join", entry=entry.id), method="POST"
        )
        return True
    except calls.REST_ERRORS as exc:
        log.warning("moving caller %s to the agent failed: %s", entry.call_sid, mask_in_text(exc))
        return False


def _caller_gone(
    store: Store,
    claim: Claim,
    settings: Settings,
    flow: Flow,
    entry: QueueEntry | None,
    now: datetime,
    state: AgentState,
) -> Reply:
    """The caller left before the agent answered: the agent hears so, and is free again."""
    with store.engine.begin() as conn:
        queue_entries.release(conn, claim)
        _agent_to(conn, claim, state, settings, now, "the caller had gone")
    reply = Reply()
    reply.say(
        calls.words(flow, entry, settings, "agent_caller_gone"), **calls.say(flow, entry, settings)
    )
    reply.hangup()
    return reply


def _give_up(store: Store, claim: Claim, settings: Settings, now: datetime, why: str) -> None:
    with store.engine.begin() as conn:
        queue_entries.release(conn, claim)
        presence.change_in(
            conn,
            claim.agent_id,
            AgentState.AVAILABLE,
            Cause.HOTLINE,
            by="hotline",
            why=why,
            now=now,
            wrap_up_seconds=settings.wrap_up_seconds,
            about_call=claim.call_sid,
        )


def _agent_to(
    conn: Connection, claim: Claim, state: AgentState, settings: Settings, now: datetime, why: str
) -> None:
    """Move the claiming agent by Twilio's callback, if their state is about this caller."""
    presence.change_in(
        conn,
        claim.agent_id,
        state,
        Cause.TWILIO,
        by="twilio",
        why=why,
        now=now,
        wrap_up_seconds=settings.wrap_up_seconds,
        about_call=claim.call_sid,
    )
