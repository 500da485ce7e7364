"""The warm transfer: the caller held, the seller rung and screened, then joined or not.

1. ``start``: outside the seller's hours nothing happens but the record (``outside_hours``).
   Otherwise the caller (participant ``buyer``) is held with ``/voice/agent/hold`` as the
   hold URL, and the seller is rung (``Calls.create``) with ``/voice/agent/screen``.
2. ``screen``: the seller hears the caller's topic and order and the agent's summary, and
   presses 1 (``screen_answer``): the transfer is ``accepted``, the seller joins the conference
   and talks with the agent while the caller stays held; the agent's leaving no longer ends the
   conference. Then the agent brings the caller in or hands over and leaves (``consult``). Any
   other key, silence, busy, no answer, a failed call: the caller is unheld, back with the agent
   (``give_back``), and hears so (``unheld``).
3. A caller who hangs up while held ends the conference; ``caller_left`` settles the transfer
   and cancels the seller's call still ringing; a seller who had answered hears that the buyer
   is gone.

The transfer's outcome is written once (``store.transfers.settle``): the first of the seller's
key, the seller's call status and the caller's hang-up decides; later ones change nothing.
"""

from __future__ import annotations

import logging

from twilio.rest import Client

from hotline.agents import calls
from hotline.agents.calls import AGENT, BUYER, SELLER
from hotline.agents.transfers import (
    Desk,
    Kind,
    TransferRefused,
    record_for,
    seller_for,
    talking_entry,
    tidy,
)
from hotline.errors import HotlineError
from hotline.ivr.reply import Reply
from hotline.ivr.wording import spell_digits
from hotline.rules.handoff import seller_available
from hotline.rules.phones import mask_in_text
from hotline.store import queue_entries, transfers
from hotline.store.queue_entries import QueueEntry
from hotline.store.transfers import Transfer

log = logging.getLogger(__name__)
NOT_ANSWERED = ("busy", "no-answer", "failed", "canceled")


def start(
    desk: Desk, *, call_sid: str, agent_id: str, target: str | None, summary: str
) -> Transfer:
    """Hold the caller and ring the seller (or record that the seller is outside their hours)."""
    summary = tidy(summary)
    entry = talking_entry(desk, call_sid, agent_id)
    seller = seller_for(desk, entry, target)
    if not seller_available(desk.settings.hours, seller.hours, desk.now):
        with desk.store.engine.begin() as conn:
            return record_for(
                conn, desk, entry, agent_id, Kind.WARM, seller.id, summary, "outside_hours"
            )
    with desk.store.engine.begin() as conn:
        made = record_for(conn, desk, entry, agent_id, Kind.WARM, seller.id, summary)
    hold_url = desk.links.url("/voice/agent/hold", transfer=made.id)
    try:
        client = desk.client()
        held = entry.conference is not None and calls.set_hold(
            client, entry.conference, BUYER, True, hold_url
        )
    except HotlineError as exc:  # refused (not "gone"), unreachable, or no account configured
        give_back(desk, made.id, "failed")  # a 5xx may still have held them: unhold, if it can
        raise TransferRefused(f"Twilio refused to hold the caller: {exc}", 502) from exc
    if not held:
        _settle(desk, made.id, "caller_gone")
        raise TransferRefused(f"caller {entry.call_sid} is no longer in the call")
    try:
        seller_call = client.calls.create(
            to=seller.phone,
            from_=calls.hotline_number(desk.store, entry.call_sid, desk.settings),
            url=desk.links.url("/voice/agent/screen", transfer=made.id),
            method="POST",
            status_callback=desk.links.url("/voice/agent/screen/status", transfer=made.id),
            status_callback_method="POST",
            timeout=desk.settings.dial_timeout,
        )
    except calls.REST_ERRORS as exc:  # refused, or not reached (a network error)
        give_back(desk, made.id, "failed")
        raise TransferRefused(f"Twilio refused to ring the seller: {calls.why(exc)}", 502) from exc
    with desk.store.engine.begin() as conn:
        transfers.set_target_call(conn, made.id, str(seller_call.sid))
    return made


def hold(desk: Desk, transfer_id: int) -> Reply:
    """What the held caller hears: a word of why, then the hold music."""
    _, entry = _find(desk, transfer_id)
    reply = Reply()
    words = calls.words(desk.flow, entry, desk.settings, "transfer_hold")
    reply.say(words, **calls.say(desk.flow, entry, desk.settings))
    reply.play(desk.settings.hold_music_url)
    return reply


def screen(desk: Desk, transfer_id: int) -> Reply:
    """The seller picked up: the caller's subject and the agent's summary; 1 takes the call."""
    found, entry = _find(desk, transfer_id)
    reply = Reply()
    attrs = calls.say(desk.flow, entry, desk.settings)
    if found is None or entry is None or not found.pending:
        reply.say(calls.words(desk.flow, entry, desk.settings, "seller_screen_gone"), **attrs)
        reply.hangup()
        return reply
    action = desk.links.url("/voice/agent/screen/answer", transfer=transfer_id)
    gather = reply.gather(
        input="dtmf",
        num_digits=1,
        timeout=desk.settings.whisper_timeout,
        action=action,
        method="POST",
    )
    topic = calls.topic_words(desk.flow, entry, desk.settings)
    gather.say(calls.words(desk.flow, entry, desk.settings, "seller_screen", topic=topic), **attrs)
    if entry.order_id:
        seller = desk.directory.seller(found.target)
        order = calls.words(
            desk.flow,
            entry,
            desk.settings,
            "agent_whisper_order",
            order=spell_digits(entry.order_id),
            seller=seller.name if seller else "",
        )
        gather.say(order, **attrs)
    summary = found.summary or "-"
    gather.say(
        calls.words(desk.flow, entry, desk.settings, "seller_screen_summary", summary=summary),
        **attrs,
    )
    reply.redirect(action, method="POST")  # no key: declined
    return reply


def screen_answer(desk: Desk, transfer_id: int, digits: str) -> Reply:
    """The seller's key: 1 joins them to the caller; anything else gives the caller back."""
    found, entry = _find(desk, transfer_id)
    reply = Reply()
    attrs = calls.say(desk.flow, entry, desk.settings)
    if digits != "1":
        give_back(desk, transfer_id, "declined")
        reply.say(calls.words(desk.flow, entry, desk.settings, "goodbye"), **attrs)
        reply.hangup()
        return reply
    if found is None or entry is None or entry.conference is None:
        reply.hangup()
        return reply
    # A retry of the seller's 1 (Twilio retries a webhook it got no answer to) finds the
    # transfer accepted by the first: it gets the same conference, and the REST updates again
    # (each idempotent), in case the first was cut short before making them.
    if not _settle(desk, transfer_id, "accepted") and _outcome(desk, transfer_id) != "accepted":
        reply.say(calls.words(desk.flow, entry, desk.settings, "seller_screen_gone"), **attrs)
        reply.hangup()
        return reply
    # The caller stays held: the agent and the seller talk first (``consult``).
    _let_agent_leave(desk.client(), entry.conference)
    done = desk.links.url("/voice/agent/screen/done", transfer=transfer_id)
    dial = reply.dial(action=done, method="POST")
    dial.conference(
        entry.conference,
        participant_label=SELLER,
        beep=False,
        start_conference_on_enter=True,
        # Leaving during the consult gives the caller back to the agent (``consult.seller_gone``);
        # once the agent has gone, the seller's leaving ends the call (``consult``).
        end_conference_on_exit=False,
    )
    return reply


def unheld(desk: Desk, transfer_id: int, to: str) -> Reply:
    """What the caller hears as they are taken off hold: who they are with now."""
    _, entry = _find(desk, transfer_id)
    reply = Reply()
    name = "transfer_with_seller" if to == SELLER else "transfer_back"
    reply.say(
        calls.words(desk.flow, entry, desk.settings, name),
        **calls.say(desk.flow, entry, desk.settings),
    )
    return reply


def screen_status(desk: Desk, transfer_id: int, status: str) -> str:
    """The seller's call ended: not answered (or hung up at the screen) gives the caller back."""
    outcome = status if status in NOT_ANSWERED else "declined"
    return outcome if give_back(desk, transfer_id, outcome) else "settled before"


def give_back(desk: Desk, transfer_id: int, outcome: str) -> bool:
    """Settle the transfer as ``outcome`` and unhold the caller; ``False``: settled before."""
    if not _settle(desk, transfer_id, outcome):
        return False
    _, entry = _find(desk, transfer_id)
    if entry is not None and entry.conference is not None:
        back = desk.links.url("/voice/agent/unheld", transfer=transfer_id, to=AGENT)
        try:
            _unhold(desk.client(), entry.conference, back)
        except HotlineError as exc:  # no account configured: logged, the outcome stands
            log.warning("warm transfer %s: the caller not unheld: %s", transfer_id, exc)
    log.info("warm transfer %s: %s, the caller is back with the agent", transfer_id, outcome)
    return True


def caller_left(desk: Desk, call_sid: str) -> None:
    """The caller hung up (their conference ended): a warm transfer still pending is over, and
    the seller's call, if it still rings, is canceled (answered, the screening says so)."""
    with desk.store.engine.begin() as conn:
        pending = transfers.pending_of(conn, call_sid, Kind.WARM.value)
        if pending is None or not transfers.settle(conn, pending.id, "caller_hung_up", desk.now):
            return
    if pending.target_call is not None:
        _cancel(desk.client(), pending.target_call)


def _cancel(client: Client, call_sid: str) -> None:
    """Stop the call ``call_sid`` if it is still ringing (Calls update ``Status=canceled``).

    Twilio cancels only a call ``queued`` or ``ringing``; one already answered (the seller at the
    screening) or over refuses it, which is fine: the screening tells the seller the buyer left.
    """
    try:
        client.calls(call_sid).update(status="canceled")
        log.info("warm transfer: the caller left, seller's call %s canceled", call_sid)
    except calls.REST_ERRORS as exc:
        log.info(
            "seller's call %s not canceled (answered or over): %s", call_sid, mask_in_text(exc)
        )


def _unhold(client: Client, conference: str, announce_url: str) -> None:
    """Take the caller off hold; Twilio refusing is logged (``set_hold``): nothing more to do."""
    try:
        calls.set_hold(client, conference, BUYER, False, announce_url=announce_url)
    except calls.RestFailed:
        pass


def _let_agent_leave(client: Client, conference: str) -> None:
    """The agent's leaving no longer ends the conference: the seller and the caller talk on."""
    try:
        sid = calls.conference_sid(client, conference)
        if sid is not None:
            client.conferences(sid).participants(AGENT).update(end_conference_on_exit=False)
    except calls.REST_ERRORS as exc:
        log.warning(
            "letting the agent leave conference %s failed: %s", conference, mask_in_text(exc)
        )


def _settle(desk: Desk, transfer_id: int, outcome: str) -> bool:
    with desk.store.engine.begin() as conn:
        return transfers.settle(conn, transfer_id, outcome, desk.now)


def _outcome(desk: Desk, transfer_id: int) -> str | None:
    """The transfer's outcome as stored now."""
    found, _ = _find(desk, transfer_id)
    return found.outcome if found is not None else None


def _find(desk: Desk, transfer_id: int) -> tuple[Transfer | None, QueueEntry | None]:
    """The transfer and its caller's queue entry."""
    with desk.store.engine.connect() as conn:
        found = transfers.get(conn, transfer_id)
        entry = queue_entries.entry(conn, found.call_sid) if found is not None else None
    return found, entry
