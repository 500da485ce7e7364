"""``hotline call --as-agent ID``: the person at the terminal is the agent, the caller is scripted.

The caller answers the app's prompts with the keys given (``--caller-keys``), then stays silent.
The agent types commands (``hotline_aware.agent_desk``) at moments of the session's clock: at the
start, and after each ``wait``, which lets the call go on until something happens to the caller
(queued, joining or leaving a conference, hanging up) or for the seconds given. The clock stops
while the agent types, so a take or a transfer is sent at the instant the prompt showed. Their
requests go to hotline's JSON API through the call's transport (in process or over HTTP), as a
script's ``[[requests]]``; the agent's phone is a dialled number that answers by itself and
stays until ``hangup``, which ends that leg through the REST stand-in as the phone would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import click
from rich.console import Console
from rich.text import Text

from hotline.sim.engine.call_details import call_details
from hotline.sim.engine.lifecycle import CallResult
from hotline.sim.engine.session import Session
from hotline.sim.engine.simulator import Simulator
from hotline.sim.frontends.terminal_phone import TerminalPhone, print_event
from hotline.sim.hotline_aware.agent_desk import HELP, Act, Command, Unclear, parse
from hotline.sim.model import CalleeBehaviour, DialOutcome, Event, QueueBehaviour
from hotline.sim.run import app_requests, rest_requests
from hotline.sim.scripts.model import Location, RestRequest

#: The agent's phone: it rings this long, answers, and stays on until the agent hangs up (at
#: most Twilio's longest call, 4 h); so for each of the first ``AGENT_CALLS`` times it rings
#: (dialled behaviours are consumed one a ring).
AGENT_RINGS = 2.0
AGENT_STAYS = 4 * 3600.0
AGENT_CALLS = 100
#: ``wait`` with no seconds: what wakes the agent (the caller queued, a call joining or leaving a
#: conference, hanging up), once nothing more has happened for ``SETTLE`` s (the agent joins the
#: caller's conference a whisper after the caller); and for how long at most.
WAKES = frozenset({"enqueue", "conference", "hangup"})
SETTLE = 3.0
LONGEST_WAIT = 600.0
_STEP = 0.5  # how often a wait looks for the caller's events (virtual seconds)
_SHOWN = 600  # characters of the app's answer shown


@dataclass(frozen=True)
class AgentSide:
    """Who the terminal's agent is, and how the scripted caller answers the app's prompts."""

    agent_id: str
    token: str | None  # the agent's own Bearer token (or the operator's)
    operator_token: str | None  # to read the call's record (the operator's to see)
    caller_keys: tuple[str, ...]  # at each prompt: keys, 'say WORDS' or 'wait'


def play_as_agent(
    sim: Simulator,
    console: Console,
    ask: Callable[[str], str],
    side: AgentSide,
    call: tuple[datetime, str, str],
    dialled: Mapping[str, Sequence[CalleeBehaviour]],
    queues: Mapping[str, QueueBehaviour],
    seed: str,
    details: Mapping[str, str],
) -> CallResult:
    """Place the scripted caller's call and let the terminal's agent act on it; its result."""
    at, from_, to = call
    rings = _agent_rings(sim, side)
    answers = CalleeBehaviour(DialOutcome.ANSWER, AGENT_RINGS, talk=AGENT_STAYS)
    phones = {rings: (answers,) * AGENT_CALLS}
    session = sim.session(at, {**phones, **dialled}, queues, seed=seed)
    caller = TerminalPhone(console, ask=_Keys(console, side.caller_keys))
    main_sid = session.place_call(caller, from_, to, seed=seed, params=call_details(details))
    desk = _Desk(sim, session, console, ask, side, rings, main_sid)
    session.at(0.0, desk.run, name=f"agent {side.agent_id} at the terminal")
    return session.run()[0]


def _agent_rings(sim: Simulator, side: AgentSide) -> str:
    """The number or Client the app rings for the agent (their API record), checking the token."""
    headers = {"Authorization": f"Bearer {side.token}"} if side.token else {}
    path = f"/api/agents/{side.agent_id}"
    answer = sim.transport.request("GET", sim.url(path), {}, headers)
    text = answer.body.decode("utf-8", errors="replace")
    if answer.status != 200:
        raise click.ClickException(
            f"GET {path} answered {answer.status}: {text[:_SHOWN]} (check --as-agent and"
            " --agent-token)"
        )
    return str(json.loads(text)["rings"])


def _shown(body: str) -> str:
    """The app's answer, cut short; of a call's record, its transfers (what an agent looks for)."""
    try:
        found = json.loads(body)
    except ValueError:
        found = None
    if isinstance(found, dict) and "transfers" in found:
        body = json.dumps({"transfers": found["transfers"]})
    return body if len(body) <= _SHOWN else body[:_SHOWN] + "…"


class _Keys:
    """The scripted caller's answers, one a prompt, then silence; each shown as it is given."""

    def __init__(self, console: Console, keys: Sequence[str]) -> None:
        self._console = console
        self._keys: Iterator[str] = iter(keys)

    def __call__(self, question: str) -> str:
        answer = next(self._keys, "wait")
        self._console.print(Text(f"{question}{answer}  (the caller)", style="green"))
        return answer


@dataclass
class _Desk:
    """The agent at the terminal: an action of the session, typing commands between waits."""

    sim: Simulator
    session: Session
    console: Console
    ask: Callable[[str], str]
    side: AgentSide
    rings: str
    main_sid: str
    _turns: int = 0  # the caller's events that wake a wait, so far
    _shown: dict[str, int] = field(default_factory=dict)  # events shown of each app's call
    _conferenced: dict[str, bool] = field(default_factory=dict)  # the agent's calls: in one now?
    _typed: int = 0

    def run(self) -> None:
        """Read and do commands until the caller's call is over or the agent quits."""
        self.session.placed(self.main_sid).listeners.append(self._heard)
        self.console.print(
            f"You are agent {self.side.agent_id} (your phone: {self.rings}, it answers by"
            " itself). Type 'help' for the commands.",
            style="bold",
        )
        while not self._over():
            self._show_app_calls()
            try:
                line = self.ask(f"[agent {self.side.agent_id} at {self._elapsed():g} s] > ")
            except (EOFError, KeyboardInterrupt, click.Abort):
                line = "quit"
            self._typed += 1
            try:
                command = parse(line, self.side.agent_id, self._tokens(), self._where())
            except Unclear as exc:
                self.console.print(str(exc), style="yellow")
                continue
            if not self._do(command):
                return
        self._show_app_calls()
        self.console.print("The caller's call is over.", style="bold")

    def _do(self, command: Command) -> bool:
        """Do one command; ``False``: the agent quits."""
        if command.act is Act.REQUEST and command.request is not None:
            main = self.session.placed(self.main_sid)
            sids = {"": self.main_sid}
            answer = app_requests.send(self.sim, command.request, sids, main, None)
            shown = _shown(answer.body)
            style = "green" if 0 < answer.status < 300 else "red"
            line = Text(f"  {answer.status or 'not sent'} {shown}", style=style)
            self.console.print(line, soft_wrap=True)
        elif command.act is Act.HANGUP:
            self._hang_up(self._agent_leg(), "you have no call to hang up")
        elif command.act is Act.WAIT:
            self._wait(command.seconds)
        elif command.act is Act.HELP:
            self.console.print(HELP)
        elif command.act is Act.QUIT:
            self._hang_up(self._agent_leg(), None)
            if not self._over():
                self._hang_up(self.main_sid, None)
            return False
        return True

    def _wait(self, seconds: float | None) -> None:
        world = self.session.world
        until = world.elapsed + (seconds if seconds is not None else LONGEST_WAIT)
        turns, woken = self._turns, None
        while world.elapsed < until and not self._over():
            if seconds is None and self._turns != turns:
                turns, woken = self._turns, world.elapsed
            if woken is not None and world.elapsed >= woken + SETTLE and not self._joining():
                return
            world.sleep_until(min(until, world.elapsed + _STEP))
            self._show_app_calls()

    def _hang_up(self, sid: str | None, nothing: str | None) -> None:
        """End the call ``sid`` as its phone would (REST Calls update ``Status=completed``)."""
        if sid is None:
            if nothing:
                self.console.print(nothing, style="yellow")
            return
        request = RestRequest(
            self._where(), self._elapsed(), "POST", f"Calls/{sid}.json", {"Status": "completed"}
        )
        main = self.session.placed(self.main_sid)
        answer = rest_requests.send(self.sim, request, {"": self.main_sid}, main)
        self.console.print(Text(f"  hung up: {answer.status}", style="green"))

    def _agent_leg(self) -> str | None:
        """The agent's call in progress (the app rang them), if any."""
        for record in self.session.network.calls():  # newest first
            if record.to == self.rings and record.status == "in-progress":
                return record.sid
        return None

    def _show_app_calls(self) -> None:
        """Print what happened on the calls the app placed (the agent's, a seller's) since last."""
        for record in reversed(self.session.network.calls()):
            if record.direction != "outbound-api":
                continue
            events = self.session.network.transcript(record.sid)
            who = "you" if record.to == self.rings else record.to
            for event in events[self._shown.get(record.sid, 0) :]:
                print_event(self.console, event, f"[{who}]")
                self._heard(event)
                if record.to == self.rings and event.kind == "conference":
                    self._conferenced[record.sid] = event.text.startswith("joined")
            self._shown[record.sid] = len(events)

    def _heard(self, event: Event) -> None:
        if event.kind in WAKES:
            self._turns += 1

    def _joining(self) -> bool:
        """Whether the agent's answered call is still on its way into the conference (the
        caller's details are being said to them): a wait lasts until they are in it."""
        leg = self._agent_leg()
        return leg is not None and leg not in self._conferenced

    def _tokens(self) -> tuple[str | None, str | None]:
        return self.side.token, self.side.operator_token or self.side.token

    def _over(self) -> bool:
        return self.main_sid in self.session.network.results

    def _elapsed(self) -> float:
        return round(self.session.world.elapsed, 1)

    def _where(self) -> Location:
        return Location("terminal", self._typed)
