"""A warm transfer's consult: the seller pressed 1 and talks with the agent while the caller is
still held (a held participant hears the hold TwiML and is not heard); then the agent either
brings the caller in (three-way) or hands over and leaves.

- ``complete``: the agent's choice (``POST /api/calls/<CallSid>/transfer/complete``):
  ``connect`` unholds the caller (the agent may hang up later: the seller and the caller talk
  on); ``leave`` unholds the caller, makes the seller's leaving end the call, and ends the
  agent's call (Calls update ``Status=completed``): the agent is in wrap-up.
- ``agent_gone``: the agent hung up (their call's status callback, or their conference's Dial
  action): a caller still held is taken off hold, with the seller.
- ``seller_gone``: the seller hung up (their conference's Dial action): a caller still held is
  back with the agent, and the agent's leaving now ends the call.

The caller is unheld with an announcement (``/voice/agent/unheld``) saying who they are with.
Everything here is idempotent: the caller's hold is read from Twilio (the Participant
resource), so a second click, a retried callback or both people leaving at once unhold once.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from twilio.rest import Client

from hotline.agents import calls, presence
from hotline.agents.calls import AGENT, BUYER, SELLER
from hotline.agents.states import AgentState, Cause
from hotline.agents.transfers import Desk, Kind, TransferRefused, talking_entry
from hotline.store import queue_entries, transfers
from hotline.store.transfers import Transfer

log = logging.getLogger(__name__)
ACCEPTED = "accepted"


class Finish(StrEnum):
    """How the agent ends the consult."""

    CONNECT = "connect"  # bring the caller in: the three of them talk
    LEAVE = "leave"  # hand over: the caller and the seller talk, the agent's call ends


def complete(desk: Desk, *, call_sid: str, agent_id: str, action: Finish) -> Transfer:
    """The agent's choice after the seller took the call; raises ``TransferRefused``."""
    entry = talking_entry(desk, call_sid, agent_id)
    with desk.store.engine.connect() as conn:
        found = transfers.latest_of(conn, call_sid, Kind.WARM.value, entry.claimed_at)
    if found is None or found.outcome != ACCEPTED or entry.conference is None:
        state = f" (it is {found.outcome})" if found is not None else ""
        raise TransferRefused(
            f"caller {call_sid} has no warm transfer accepted by a seller{state}: "
            "nothing to complete"
        )
    client = desk.client()
    try:
        buyer = calls.participant(client, entry.conference, BUYER)
        if buyer is None:
            raise TransferRefused(f"caller {call_sid} is no longer in the call")
        if action is Finish.CONNECT and not buyer.hold:
            raise TransferRefused(f"caller {call_sid} is already talking with the seller")
        if buyer.hold:
            calls.set_hold(client, entry.conference, BUYER, False, announce_url=_told(desk, found))
        if action is Finish.LEAVE:
            _end_on_exit(client, entry.conference, SELLER)
            agent = calls.participant(client, entry.conference, AGENT)
            if agent is not None:
                client.calls(agent.call_sid).update(status="completed")
    except TransferRefused:
        raise
    except calls.RestFailed as exc:
        raise TransferRefused(str(exc), 502) from exc
    except calls.REST_ERRORS as exc:
        raise TransferRefused(f"Twilio refused: {calls.why(exc)}", 502) from exc
    log.info("warm transfer %s: the agent chose %s", found.id, action.value)
    if action is Finish.LEAVE:
        with desk.store.engine.begin() as conn:
            presence.change_in(
                conn,
                agent_id,
                AgentState.WRAP_UP,
                Cause.HOTLINE,
                by="hotline",
                why="handed over to the seller",
                now=desk.now,
                wrap_up_seconds=desk.settings.wrap_up_seconds,
                about_call=call_sid,
            )
    return found


def agent_gone(desk: Desk, call_sid: str) -> None:
    """The agent's call ended: after a seller took the call, the caller is not left on hold."""
    found, conference = _accepted(desk, call_sid)
    if found is None or conference is None:
        return
    try:
        client = desk.client()
        _unhold_if_held(client, conference, _told(desk, found))
        _end_on_exit(client, conference, SELLER)  # the caller is not left alone after the seller
    except calls.REST_ERRORS as exc:
        log.warning("warm transfer %s: the agent left, %s", found.id, calls.why(exc))


def seller_gone(desk: Desk, transfer_id: int) -> None:
    """The seller's call left the conference: a caller still held is back with the agent."""
    with desk.store.engine.connect() as conn:
        found = transfers.get(conn, transfer_id)
    if found is None:
        return
    found, conference = _accepted(desk, found.call_sid)
    if found is None or found.id != transfer_id or conference is None:
        return
    try:
        client = desk.client()
        url = desk.links.url("/voice/agent/unheld", transfer=transfer_id, to=AGENT)
        _unhold_if_held(client, conference, url)
        _end_on_exit(client, conference, AGENT)  # the agent's leaving now ends the call
    except calls.REST_ERRORS as exc:
        log.warning("warm transfer %s: the seller left, %s", transfer_id, calls.why(exc))


def _accepted(desk: Desk, call_sid: str) -> tuple[Transfer | None, str | None]:
    """The call's latest warm transfer if a seller accepted it, and the caller's conference."""
    with desk.store.engine.connect() as conn:
        entry = queue_entries.entry(conn, call_sid)
        if entry is None:
            return None, None
        found = transfers.latest_of(conn, call_sid, Kind.WARM.value, entry.claimed_at)
    if found is None or found.outcome != ACCEPTED:
        return None, None
    return found, entry.conference


def _told(desk: Desk, found: Transfer) -> str:
    """The announcement the caller hears as they are unheld to talk with the seller."""
    return desk.links.url("/voice/agent/unheld", transfer=found.id, to=SELLER)


def _unhold_if_held(client: Client, conference: str, announce_url: str) -> None:
    """Unhold the caller if Twilio has them held (once, whoever asks)."""
    buyer = calls.participant(client, conference, BUYER)
    if buyer is not None and buyer.hold:
        calls.set_hold(client, conference, BUYER, False, announce_url=announce_url)
        log.info("conference %s: the caller is taken off hold", conference)


def _end_on_exit(client: Client, conference: str, label: str) -> None:
    """``label``'s leaving now ends the conference (the caller is never left alone in it)."""
    sid = calls.conference_sid(client, conference)
    if sid is None:
        return
    try:
        client.conferences(sid).participants(label).update(end_conference_on_exit=True)
    except calls.REST_ERRORS as exc:  # gone already: nothing to change
        log.info("conference %s: %s not changed: %s", conference, label, calls.why(exc))
