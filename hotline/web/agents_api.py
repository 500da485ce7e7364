"""The agents' JSON API: their states and the queue they take callers from.

``Authorization: Bearer <token>``: the operator's ``$HOTLINE_API_TOKEN`` acts for any agent; an
agent's own token only for themselves (403 otherwise). Errors are JSON with a message.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import Connection

from hotline.agents import consult, presence, taking, transfers, warm
from hotline.agents import queue as agents_queue
from hotline.agents.presence import AgentStatus
from hotline.agents.queue import TakeResult
from hotline.agents.states import AgentState, Cause, Verdict
from hotline.agents.transfers import Kind, TransferRefused
from hotline.config.agents import Agent
from hotline.rules import phones
from hotline.store import queue_entries
from hotline.store import transfers as stored_transfers
from hotline.store.database import Store, get_store
from hotline.web import agent_voice
from hotline.web.security import current_actor, get_guard, require_agent_or_operator
from hotline.web.webhook import directory, flow, settings, utc_now

log = logging.getLogger(__name__)
bp = Blueprint("agents_api", __name__, url_prefix="/api")
_STATES = ", ".join(s.value for s in AgentState)


@bp.get("/agents")
@require_agent_or_operator
def list_agents() -> Response:
    """The agents and their states (an agent sees only themselves)."""
    actor = current_actor()
    agents = [a for a in get_guard().roster.agents.values() if actor.may_act_for(a.id)]
    conf = settings()
    with _reading() as conn:
        found = presence.statuses(conn, [a.id for a in agents], utc_now(), conf.wrap_up_seconds)
    return jsonify(agents=[_agent_view(a, s) for a, s in zip(agents, found, strict=True)])


@bp.get("/agents/<agent_id>")
@require_agent_or_operator
def get_agent(agent_id: str) -> Response | tuple[Response, int]:
    """One agent and their state."""
    agent = agent_for_actor(agent_id)
    if not isinstance(agent, Agent):
        return agent
    with _reading() as conn:
        status = presence.status_of(conn, agent.id, utc_now(), settings().wrap_up_seconds)
        made = _latest_transfer(conn, agent.id, status.call_sid)
    return jsonify({**_agent_view(agent, status), "transfer": made})


@bp.post("/agents/<agent_id>/state")
@require_agent_or_operator
def set_state(agent_id: str) -> Response | tuple[Response, int]:
    """The agent's click: ``{"state": "available"}`` (log in, ready), ``"offline"`` (log off)."""
    agent = agent_for_actor(agent_id)
    if not isinstance(agent, Agent):
        return agent
    body = request.get_json(silent=True)
    wanted = body.get("state") if isinstance(body, dict) else None
    if wanted not in {s.value for s in AgentState}:
        message = f'expected a JSON body like {{"state": "available"}}; states: {_STATES}'
        return jsonify(error=message), 400
    actor = current_actor()
    outcome = presence.change_state(
        _store(),
        agent.id,
        AgentState(wanted),
        Cause.AGENT,
        by=actor.name,
        why=f"set by {'the agent' if actor.agent_id else 'the operator'}",
        now=utc_now(),
        wrap_up_seconds=settings().wrap_up_seconds,
    )
    if outcome.decision.verdict is Verdict.REFUSED:
        return jsonify(error=outcome.decision.reason, agent=_agent_view(agent, outcome.status)), 409
    if outcome.changed:
        log.info("agent %s is %s (set by %s)", agent.id, wanted, actor.name)
    return jsonify(agent=_agent_view(agent, outcome.status), changed=outcome.changed)


@bp.get("/queue")
@require_agent_or_operator
def get_queue() -> Response:
    """The callers waiting for an agent, first entered first, with what the IVR learnt."""
    conf = settings()
    with _reading() as conn:
        callers = agents_queue.as_agents_see_them(conn, conf, flow(), utc_now())
    return jsonify(queue=conf.queue, callers=[c.as_dict() for c in callers])


@bp.post("/agents/<agent_id>/take")
@require_agent_or_operator
def take(agent_id: str) -> Response | tuple[Response, int]:
    """Take the next caller (or ``{"call": CallSid}``): claim them and ring the agent."""
    agent = agent_for_actor(agent_id)
    if not isinstance(agent, Agent):
        return agent
    body = request.get_json(silent=True)
    wanted = body.get("call") if isinstance(body, dict) else None
    if wanted is not None and not isinstance(wanted, str):
        return jsonify(error='expected a JSON body like {"call": "CA..."} or none'), 400
    d = agent_voice.desk()
    ringing = taking.take_and_ring(
        d.store,
        d.client,
        d.settings,
        agent,
        d.links,
        by=current_actor().name,
        now=d.now,
        call_sid=wanted or None,
    )
    result = ringing.take
    if result.result is not TakeResult.TAKEN or result.claim is None:
        return jsonify(error=result.reason, result=result.result.value), 409
    log.info("agent %s takes caller %s", agent.id, result.claim.call_sid)
    return jsonify(
        result=result.result.value, call=result.claim.call_sid, agent_call=ringing.agent_call
    )


@bp.post("/calls/<call_sid>/transfer")
@require_agent_or_operator
def transfer(call_sid: str) -> Response | tuple[Response, int]:
    """Hand the caller on: ``{"kind": "warm"|"cold"|"queue"|"thread", "to", "summary"}``."""
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    kind, to, summary = body.get("kind"), body.get("to"), body.get("summary", "")
    if kind not in {k.value for k in Kind} or not isinstance(summary, str):
        message = (
            'expected a JSON body like {"kind": "warm", "to": "acme", "summary": "..."}; '
            f"kinds: {', '.join(k.value for k in Kind)}"
        )
        return jsonify(error=message), 400
    if to is not None and not isinstance(to, str):
        return jsonify(error="\"to\" is a seller's or an agent's id"), 400
    agent_id = _agent_of_call(call_sid)
    if not isinstance(agent_id, str):
        return agent_id
    d = agent_voice.desk()
    try:
        if kind == Kind.WARM.value:
            made = warm.start(d, call_sid=call_sid, agent_id=agent_id, target=to, summary=summary)
        else:
            made = transfers.transfer(
                d, call_sid=call_sid, agent_id=agent_id, kind=Kind(kind), target=to, summary=summary
            )
    except TransferRefused as refused:
        return jsonify(error=str(refused)), refused.status
    return jsonify(transfer=made.as_dict())


@bp.post("/calls/<call_sid>/transfer/complete")
@require_agent_or_operator
def complete_transfer(call_sid: str) -> Response | tuple[Response, int]:
    """After the seller took a warm transfer: ``{"action": "connect"}`` brings the caller in,
    ``{"action": "leave"}`` hands them over and ends the agent's call."""
    body = request.get_json(silent=True)
    action = body.get("action") if isinstance(body, dict) else None
    if action not in {f.value for f in consult.Finish}:
        message = 'expected a JSON body like {"action": "connect"}; actions: connect, leave'
        return jsonify(error=message), 400
    agent_id = _agent_of_call(call_sid)
    if not isinstance(agent_id, str):
        return agent_id
    try:
        found = consult.complete(
            agent_voice.desk(), call_sid=call_sid, agent_id=agent_id, action=consult.Finish(action)
        )
    except TransferRefused as refused:
        return jsonify(error=str(refused)), refused.status
    return jsonify(transfer=found.as_dict(), action=action)


def _agent_of_call(call_sid: str) -> str | tuple[Response, int]:
    """The agent talking with the caller, if the actor may act for them; else the refusal."""
    with _reading() as conn:
        entry = queue_entries.entry(conn, call_sid)
    if entry is None or entry.status != queue_entries.TAKEN or entry.taken_by is None:
        return jsonify(error=f"no agent is talking with caller {call_sid}"), 409
    actor = current_actor()
    if not actor.may_act_for(entry.taken_by):
        message = (
            f"agent {actor.agent_id} may act only for themselves: {entry.taken_by} has this caller"
        )
        return jsonify(error=message), 403
    return entry.taken_by


def _store() -> Store:
    return get_store(current_app)


def _reading() -> Connection:
    """A connection for reading, outside any write lock."""
    return _store().engine.execution_options(hotline_read_only=True).connect()


def agent_for_actor(agent_id: str) -> Agent | tuple[Response, int]:
    """The agent, or the refusal: 403 for another agent's id, 404 for an unknown one."""
    actor = current_actor()
    if not actor.may_act_for(agent_id):
        message = f"agent {actor.agent_id} may act only for themselves, not for {agent_id}"
        return jsonify(error=message), 403
    agent = get_guard().roster.get(agent_id)
    if agent is None:
        return jsonify(error=f"no agent {agent_id}"), 404
    return agent


def _latest_transfer(
    conn: Connection, agent_id: str, call_sid: str | None
) -> dict[str, Any] | None:
    """The agent's latest transfer of the call they are on (the console shows how it went)."""
    if call_sid is None:
        return None
    made = [t for t in stored_transfers.of_call(conn, call_sid) if t.agent_id == agent_id]
    if not made:
        return None
    seller = directory().seller(made[-1].target) if made[-1].target else None
    return {**made[-1].as_dict(), "target_name": seller.name if seller else made[-1].target}


def _agent_view(agent: Agent, status: AgentStatus) -> dict[str, Any]:
    """An agent as the API shows them (a phone number masked)."""
    return {
        "id": agent.id,
        "name": agent.name,
        "rings": phones.mask(agent.phone) if agent.phone else f"client:{agent.client}",
        "state": status.state.value,
        "since": status.since.isoformat() if status.since else None,
        "call": status.call_sid,
    }
