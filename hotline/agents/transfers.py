"""An agent hands a caller on, four ways, each with a summary and recorded in ``transfers``:

- **cold** to a seller: the caller's call is redirected into the IVR's seller handoff
  (``/voice/agent/cold``), the seller hears the summary in the whisper, and the handoff's own
  fallbacks (the seller's number, a thread) apply; its outcome is the handoff's result.
- **queue**: the caller goes back to the queue in the place of their first entry, marked
  transferred with the summary, which the next agent hears (``/voice/agent/requeue``).
- **thread**: a Message Center thread for the seller (or the warehouse) holding the caller's
  question and the summary; the caller hears its reference, then goodbye (``/voice/agent/thread``).
- **warm** to a seller: see ``warm``; the agent stays on the call.

Only the agent talking with the caller may transfer them (the operator acts for that agent).
After cold, queue and thread the agent is in wrap-up: their conference ends as the caller leaves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection
from sqlalchemy.orm import Session
from twilio.rest import Client

from hotline.agents import presence
from hotline.agents.calls import REST_ERRORS, Links, why
from hotline.agents.states import AgentState, Cause
from hotline.config.message_center import MessageCenter
from hotline.config.settings import Seller, Settings
from hotline.errors import HotlineError
from hotline.ivr.flow import Flow
from hotline.messages.threads import open_thread
from hotline.rules.routing import Party
from hotline.store import queue_entries, transfers
from hotline.store.database import Store
from hotline.store.directory import Directory
from hotline.store.models import MessageRow
from hotline.store.queue_entries import QueueEntry
from hotline.store.transfers import Transfer

log = logging.getLogger(__name__)
WAREHOUSE = Party.WAREHOUSE.value
MAX_SUMMARY = 500


class Kind(StrEnum):
    """The ways an agent hands a caller on."""

    WARM = "warm"
    COLD = "cold"
    QUEUE = "queue"
    THREAD = "thread"


class TransferRefused(HotlineError):
    """A transfer that cannot be made: ``status`` is the API's answer, the message says why."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Desk:
    """What a transfer works with: the store, the REST client, the app's settings and links."""

    store: Store
    client: Callable[[], Client]
    settings: Settings
    flow: Flow
    directory: Directory
    links: Links
    now: datetime


def transfer(
    desk: Desk, *, call_sid: str, agent_id: str, kind: Kind, target: str | None, summary: str
) -> Transfer:
    """Hand the caller ``call_sid`` on from ``agent_id`` cold, to the queue or to a thread (warm:
    ``warm.start``); raises ``TransferRefused``."""
    summary = tidy(summary)
    entry = talking_entry(desk, call_sid, agent_id)
    if kind is Kind.WARM:
        raise TransferRefused("a warm transfer is made by hotline.agents.warm", 500)
    if kind is Kind.COLD:
        seller = seller_for(desk, entry, target)
        with desk.store.engine.begin() as conn:
            made = record_for(conn, desk, entry, agent_id, kind, seller.id, summary)
        return _redirect(desk, entry, agent_id, made, "/voice/agent/cold")
    if kind is Kind.QUEUE:
        with desk.store.engine.begin() as conn:
            if not queue_entries.put_back(conn, call_sid, agent_id, summary, desk.now):
                raise TransferRefused(f"caller {call_sid} could not be put back in the queue")
            made = record_for(conn, desk, entry, agent_id, kind, target, summary, "requeued")
        return _redirect(desk, entry, agent_id, made, "/voice/agent/requeue")
    owner = None if target == WAREHOUSE else desk.directory.seller(target or entry.seller_id)
    if target and target != WAREHOUSE and owner is None:
        raise TransferRefused(f"no seller {target} (a thread goes to a seller or 'warehouse')", 400)
    with desk.store.engine.begin() as conn:
        name = owner.id if owner else WAREHOUSE
        made = record_for(conn, desk, entry, agent_id, kind, name, summary)
    # The thread is opened once Twilio has taken the caller: a refused move leaves no thread (nor
    # a notification) for a caller who never heard its reference, so a retry or another way is
    # clean. The caller's own webhook opens it too (whichever comes first; a call has one thread).
    return _redirect(desk, entry, agent_id, made, "/voice/agent/thread")


def tidy(summary: str) -> str:
    """The summary on one line, cut to a length a whisper can read."""
    return " ".join(summary.split())[:MAX_SUMMARY]


def talking_entry(desk: Desk, call_sid: str, agent_id: str) -> QueueEntry:
    """The caller's entry, if ``agent_id`` is talking with them; else a refusal."""
    with desk.store.engine.connect() as conn:
        entry = queue_entries.talking_with(conn, call_sid, agent_id)
    if entry is None:
        raise TransferRefused(f"agent {agent_id} is not talking with caller {call_sid}")
    return entry


def seller_for(desk: Desk, entry: QueueEntry, target: str | None) -> Seller:
    """The seller ``target`` names (default: the caller's order's seller), or a refusal."""
    seller = desk.directory.seller(target or entry.seller_id)
    if seller is None:
        wanted = f"no seller {target}" if target else "the caller has no seller (no order)"
        raise TransferRefused(f"{wanted}: name one in 'to'", 400)
    return seller


def record_for(
    conn: Connection,
    desk: Desk,
    entry: QueueEntry,
    agent_id: str,
    kind: Kind,
    target: str | None,
    summary: str,
    outcome: str = transfers.PENDING,
) -> Transfer:
    """Record the transfer (see ``store.transfers.record``); refused while the caller is being
    handed on already (a second click, a second tab: the caller is moved once)."""
    # In the transfer's own write transaction, so two requests at once cannot both pass.
    before = transfers.under_way(conn, entry.call_sid, entry.claimed_at)
    if before is not None:
        raise TransferRefused(
            f"caller {entry.call_sid} is already being handed on ({before.kind} transfer "
            f"{before.id}: {before.outcome})"
        )
    status = presence.status_of(conn, agent_id, desk.now, desk.settings.wrap_up_seconds)
    if status.state is not AgentState.ON_CALL or status.call_sid != entry.call_sid:
        raise TransferRefused(
            f"caller {entry.call_sid} was already handed on: agent {agent_id} is "
            f"{status.state.value.replace('_', ' ')}"
        )
    made = transfers.record(
        conn,
        call_sid=entry.call_sid,
        agent_id=agent_id,
        kind=kind.value,
        target=target,
        summary=summary,
        now=desk.now,
        outcome=outcome,
    )
    log.info("agent %s: %s transfer of %s to %s", agent_id, kind, entry.call_sid, target or "-")
    return made


def _redirect(
    desk: Desk, entry: QueueEntry, agent_id: str, made: Transfer, path: str, **query: int
) -> Transfer:
    """Send the caller to ``path`` (REST Calls update); the agent is done with them."""
    try:
        desk.client().calls(entry.call_sid).update(
            url=desk.links.url(path, transfer=made.id, **query), method="POST"
        )
    except REST_ERRORS as exc:  # refused, or not reached (a network error)
        with desk.store.engine.begin() as conn:
            transfers.refused(conn, made.id, desk.now)
            if made.kind == Kind.QUEUE.value:  # still in the agent's conference, not the queue
                queue_entries.undo_put_back(conn, entry)
        raise TransferRefused(f"Twilio refused to move the caller: {why(exc)}", 502) from exc
    with desk.store.engine.begin() as conn:
        if made.kind == Kind.THREAD.value:
            with Session(bind=conn) as session:
                open_transfer_thread(
                    session, desk.directory, desk.settings.routing, entry, made, desk.now
                )
            transfers.settle(conn, made.id, transfers.THREAD_OPENED, desk.now)
        presence.change_in(
            conn,
            agent_id,
            AgentState.WRAP_UP,
            Cause.HOTLINE,
            by="hotline",
            why=f"{made.kind} transfer",
            now=desk.now,
            wrap_up_seconds=desk.settings.wrap_up_seconds,
            about_call=entry.call_sid,
        )
        found = transfers.get(conn, made.id)
    return found or made


def open_transfer_thread(
    session: Session,
    directory: Directory,
    routing: MessageCenter,
    entry: QueueEntry,
    made: Transfer,
    now: datetime,
) -> int:
    """The caller's thread for the thread transfer ``made`` (opened now, or the one the call
    already has), holding the caller's question and the agent's summary as a note, once."""
    seller = None if made.target in (None, WAREHOUSE) else directory.seller(made.target)
    thread = open_thread(
        session,
        call_sid=entry.call_sid,
        party=Party.SELLER if seller else Party.WAREHOUSE,
        # The order's seller whoever answers: a warehouse thread counts for them too.
        seller_id=seller.id if seller else entry.seller_id,
        order_id=entry.order_id,
        topic=routing.topic_for_call(entry.topic),
        buyer_phone=entry.from_number,
        question=entry.question or "",
        now=now,
        summary=f"Opened from a phone call by agent {made.agent_id}'s transfer.",
        response_hours=routing.response_hours,
    )
    noted = any(m.kind == "note" and m.body == made.summary for m in thread.messages)
    if made.summary and not noted:
        # The agent's summary is the warehouse's note: the seller sees it, the buyer never.
        thread.messages.append(
            MessageRow(
                author="warehouse",
                author_id=made.agent_id,
                kind="note",
                body=made.summary,
                created_at=now,
            )
        )
    session.flush()
    return int(thread.id)
