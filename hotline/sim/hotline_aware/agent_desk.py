"""The agent's commands of ``hotline call --as-agent``: a line typed at the terminal becomes a
request to hotline's own JSON API, the same ``AppRequest`` a script's ``[[requests]]`` sends.

Hanging up is not the app's to do: ``hangup`` ends the agent's own leg through the REST stand-in,
as their phone would, and ``wait`` lets the call go on; the front end (``frontends/agent_phone``)
plays those. Only this module knows the paths of hotline's API.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hotline.sim.scripts.model import AppRequest, Location

HELP = """\
Commands (the clock stops while you type; `wait` lets the call go on):
  available | offline | ready     set your state (ready: end wrap-up, available again)
  take [CallSid]                  take the next caller (or that one)
  warm SELLER SUMMARY...          hold the caller, ring the seller, who hears SUMMARY
  connect | leave                 after the seller's 1: bring the caller in, or hand over
  cold SELLER SUMMARY...          send the caller to the seller's handoff with SUMMARY
  thread SELLER|warehouse SUMMARY...  leave the caller's question in a Message Center thread
  requeue SUMMARY...              put the caller back in the queue, keeping their place
  hangup                          hang up your phone (the call with the caller ends)
  status | queue | call           show your state, the queue, the caller's call and transfers
  wait [SECONDS]                  let the call go on until something happens to the caller
                                  (queued, in or out of a conference, hung up), or SECONDS
  help                            this list
  quit                            hang up everything and stop"""

_TRANSFER_KINDS = {"warm": "warm", "cold": "cold", "thread": "thread", "requeue": "queue"}
_STATES = {"available": "available", "offline": "offline", "ready": "available"}
_COMPLETIONS = {"connect": "connect", "leave": "leave"}  # a warm transfer's, after the seller's 1
_LOOKS = {"status": "/api/agents/{agent}", "queue": "/api/queue", "call": "/api/calls/{CallSid}"}


class Act(StrEnum):
    """What a command does besides a request to the app."""

    REQUEST = "request"  # ``request`` to the app's API
    HANGUP = "hangup"  # end the agent's leg (REST Calls update)
    WAIT = "wait"
    HELP = "help"
    QUIT = "quit"


@dataclass(frozen=True)
class Command:
    """One typed line, understood: what to do, and the request or the seconds it needs."""

    act: Act
    request: AppRequest | None = None
    seconds: float | None = None


class Unclear(ValueError):
    """A line that is no command; the message says what was expected."""


def parse(
    line: str, agent_id: str, tokens: tuple[str | None, str | None], where: Location
) -> Command:
    """The command ``line`` types, the agent ``agent_id`` acting with ``tokens``: theirs, and
    one to read the caller's call with (the operator's: an agent's token does not)."""
    word, _, rest = line.strip().partition(" ")
    word, rest = word.lower(), rest.strip()

    def request(method: str, path: str, json: dict[str, object] | None = None) -> Command:
        token = tokens[1] if path.startswith("/api/calls/") and method == "GET" else tokens[0]
        made = AppRequest(where, method, path, json=json, token=token)
        return Command(Act.REQUEST, made)

    if word in _STATES and not rest:
        return request("POST", f"/api/agents/{agent_id}/state", {"state": _STATES[word]})
    if word == "take":
        return request("POST", f"/api/agents/{agent_id}/take", {"call": rest} if rest else None)
    if word in _TRANSFER_KINDS:
        return request("POST", "/api/calls/{CallSid}/transfer", _transfer(word, rest))
    if word in _COMPLETIONS and not rest:
        body: dict[str, object] = {"action": _COMPLETIONS[word]}
        return request("POST", "/api/calls/{CallSid}/transfer/complete", body)
    if word in _LOOKS and not rest:
        return request("GET", _LOOKS[word].replace("{agent}", agent_id))
    if word in ("hangup", "hang") and rest in ("", "up"):
        return Command(Act.HANGUP)
    if word in ("wait", ""):
        return Command(Act.WAIT, seconds=_seconds(rest))
    if word in ("help", "?"):
        return Command(Act.HELP)
    if word in ("quit", "q", "exit"):
        return Command(Act.QUIT)
    raise Unclear(f"{line.strip()!r} is no command: type 'help' for the list")


def _transfer(word: str, rest: str) -> dict[str, object]:
    kind = _TRANSFER_KINDS[word]
    if kind == "queue":
        target, summary = None, rest
    else:
        target, _, summary = rest.partition(" ")
        if not target:
            raise Unclear(f"{word} needs whom to: {word} SELLER SUMMARY...")
    if not summary.strip():
        raise Unclear(f"{word} needs a summary for whoever gets the caller next")
    body: dict[str, object] = {"kind": kind, "summary": summary.strip()}
    if target:
        body["to"] = target
    return body


def _seconds(text: str) -> float | None:
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise Unclear(f"wait takes a number of seconds, got {text!r}")
    return seconds
