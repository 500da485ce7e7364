"""What the agents' calls share: the app's absolute webhook URLs, finding a queue's and a
conference's SID by name through the REST API, and the words spoken on those calls.

TwiML that the REST API pushes onto a call must name absolute URLs (Twilio has no request to
resolve a relative one against), so every URL here is built on the app's public base URL.
The participants of an agent's conference carry labels, so a hold or an unhold names them
without knowing their CallSids: the caller is ``buyer``, the agent ``agent``, a seller ``seller``.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from hotline.config.settings import Seller, Settings
from hotline.errors import HotlineError
from hotline.ivr.flow import Flow
from hotline.ivr.wording import spell_digits
from hotline.rules.phones import mask_in_text
from hotline.store.callstore import CallWork
from hotline.store.database import Store
from hotline.store.queue_entries import QueueEntry

log = logging.getLogger(__name__)

BUYER, AGENT, SELLER = "buyer", "agent", "seller"  # participant labels in an agent's conference


class RestFailed(HotlineError):
    """A request to Twilio's REST API failed (refused, unreachable, or no account configured)."""


#: What a REST request through the Client may raise: Twilio's answer (``TwilioException``), no
#: account configured (``HotlineError``), or Twilio not reached at all: requests' errors (a
#: refused connection, a timeout, DNS) are ``OSError``s, and none of them is a ``TwilioException``.
REST_ERRORS: tuple[type[Exception], ...] = (TwilioException, HotlineError, OSError)


def why(exc: Exception) -> str:
    """A REST failure in a few words, phone numbers masked (an agent reads it in the console)."""
    if isinstance(exc, OSError):  # requests' own text is a page of pool and socket details
        return f"Twilio's REST API could not be reached ({type(exc).__name__})"
    return mask_in_text(exc)


@dataclass(frozen=True)
class Links:
    """Absolute URLs of this app's webhooks, on ``base`` (e.g. ``https://hotline.example.com``)."""

    base: str

    def url(self, path: str, **query: str | int) -> str:
        """``path`` under the base, with ``query``."""
        return self.base.rstrip("/") + path + ("?" + urlencode(query) if query else "")


def hotline_number(store: Store, call_sid: str, settings: Settings) -> str:
    """The number the caller called (the agents' and sellers' calls come from it)."""
    with CallWork(store) as work:
        call = work.load(call_sid)
    if call is not None and call.to_number:
        return call.to_number
    return next(iter(settings.number_languages), "")


def new_conference_name() -> str:
    """An opaque conference name: no phone or order number in it, never guessed."""
    return f"hl-{secrets.token_hex(8)}"


def queue_sid(client: Client, name: str) -> str | None:
    """The SID of the account's queue named ``name`` (``<Enqueue>`` makes it on first use)."""
    for queue in client.queues.stream():
        if queue.friendly_name == name:
            return str(queue.sid)
    return None


def conference_sid(client: Client, name: str) -> str | None:
    """The SID of the conference ``name`` while it is in progress."""
    for conference in client.conferences.stream(friendly_name=name, status="in-progress"):
        return str(conference.sid)
    return None


def set_hold(
    client: Client,
    conference: str,
    label: str,
    hold: bool,
    hold_url: str = "",
    announce_url: str = "",
) -> bool:
    """Hold (or unhold) the participant ``label`` of the conference named ``conference``;
    ``announce_url``: TwiML the participant hears as they are unheld (Participant ``AnnounceUrl``).

    ``False`` when the conference or the participant is gone (the caller hung up meanwhile);
    ``RestFailed`` when Twilio refused otherwise or could not be reached (the caller may still
    be there: that is not their hanging up).
    """
    try:
        sid = conference_sid(client, conference)
        if sid is None:
            return False
        participant = client.conferences(sid).participants(label)
        if hold:
            participant.update(hold=True, hold_url=hold_url, hold_method="POST")
        elif announce_url:
            participant.update(hold=False, announce_url=announce_url, announce_method="POST")
        else:
            participant.update(hold=False)
        return True
    except TwilioRestException as exc:
        if exc.status == 404:  # Twilio's answer for a participant no longer in the conference
            log.info("%s is no longer in conference %s", label, conference)
            return False
        raise _failed(hold, label, conference, exc) from exc
    except REST_ERRORS as exc:
        raise _failed(hold, label, conference, exc) from exc


@dataclass(frozen=True)
class InConference:
    """A participant of a conference as Twilio has them now."""

    call_sid: str
    hold: bool


def participant(client: Client, conference: str, label: str) -> InConference | None:
    """The participant ``label`` of the conference named ``conference``; ``None`` when they or
    the conference are gone. Other failures raise (``REST_ERRORS``)."""
    sid = conference_sid(client, conference)
    if sid is None:
        return None
    try:
        found = client.conferences(sid).participants(label).fetch()
    except TwilioRestException as exc:
        if exc.status == 404:
            return None
        raise
    return InConference(str(found.call_sid), bool(found.hold))


def _failed(hold: bool, label: str, conference: str, exc: Exception) -> RestFailed:
    what = why(exc)
    log.warning("hold=%s of %s in conference %s failed: %s", hold, label, conference, what)
    return RestFailed(f"Twilio refused to {'hold' if hold else 'unhold'} the {label}: {what}")


def caller_words(flow: Flow, entry: QueueEntry, seller: Seller | None, settings: Settings) -> str:
    """What the agent hears of the caller as they answer: topic, order, question, a summary."""
    language = _language(flow, entry, settings)
    parts = [flow.prompt(language, "agent_whisper", topic=topic_words(flow, entry, settings))]
    if entry.order_id:
        parts.append(
            flow.prompt(
                language,
                "agent_whisper_order",
                order=spell_digits(entry.order_id),
                seller=seller.name if seller else "",
            )
        )
    if entry.question:
        question = entry.question.rstrip(" .?!")
        parts.append(flow.prompt(language, "agent_whisper_question", question=question))
    if entry.transferred and entry.last_summary:
        parts.append(flow.prompt(language, "agent_whisper_summary", summary=entry.last_summary))
    return " ".join(parts)


def topic_words(flow: Flow, entry: QueueEntry, settings: Settings) -> str:
    """The caller's topic in words, in their language."""
    lang = flow.languages[_language(flow, entry, settings)]
    return lang.topics.get(entry.topic or "", entry.topic or "") or lang.topics.get("agent", "")


def words(
    flow: Flow, entry: QueueEntry | None, settings: Settings, name: str, **values: str
) -> str:
    """Prompt ``name`` in the caller's language (the hotline's when unknown)."""
    return flow.prompt(_language(flow, entry, settings), name, **values)


def say(flow: Flow, entry: QueueEntry | None, settings: Settings) -> dict[str, str | None]:
    """The ``<Say>`` attributes (voice, language) of the caller's language."""
    lang = flow.languages[_language(flow, entry, settings)]
    return {"voice": lang.voice, "language": lang.say_language}


def _language(flow: Flow, entry: QueueEntry | None, settings: Settings) -> str:
    code = entry.language if entry is not None and entry.language else settings.language
    return code if code in flow.languages else next(iter(flow.languages))
