"""``hotline call``: phone the app from the terminal, a person playing the caller."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import click
from rich.console import Console
from rich.text import Text

from hotline.sim.engine.call_details import CALL_DETAILS
from hotline.sim.frontends.options import Unusable, target_options
from hotline.sim.model import (
    CalleeBehaviour,
    CallerInput,
    Event,
    InputKind,
    Prompt,
    QueueBehaviour,
    ScriptError,
    SimError,
    Who,
)
from hotline.sim.report.console import describe
from hotline.sim.run import rest_wiring
from hotline.sim.run.connection import Target
from hotline.sim.scripts.reader import parse_ring

_DIGITS = frozenset("0123456789*#")
REAL_TIME = 1.0  # --real-time: one real second per virtual second


@click.command()
@target_options
@click.option("--at", "at_text", metavar="TIME", help="When the call happens [default: now].")
@click.option("--from", "from_", default="+48601100200", show_default=True, help="Caller's number.")
@click.option("--to", default="+48221000000", show_default=True, help="The number called.")
@click.option(
    "--dialled",
    "dialled_specs",
    multiple=True,
    metavar="NUMBER=RING[,RING...]",
    help="What NUMBER does on each ring: answer[:KEYS], answer:say=WORDS, no-answer[:SECONDS],"
    " busy or failed.",
)
@click.option(
    "--queue",
    "queue_specs",
    multiple=True,
    metavar="NAME=SECONDS",
    help="An agent takes callers from queue NAME after SECONDS (default: nobody answers).",
)
@click.option(
    "--param",
    "param_specs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A detail Twilio adds to every request of the call: FromCity=WARSAW, FromCountry=PL,"
    " ToCity..., CallerName, ForwardedFrom.",
)
@click.option(
    "--real-time",
    is_flag=True,
    help="Play the call at the wall clock's speed (prompts take their time, a queue's wait is"
    " real): for a person acting on it meanwhile, e.g. an agent in the console taking the caller"
    " [default: as fast as it can].",
)
def call(
    target: Target,
    at_text: str | None,
    from_: str,
    to: str,
    dialled_specs: tuple[str, ...],
    queue_specs: tuple[str, ...],
    param_specs: tuple[str, ...],
    real_time: bool,
) -> None:
    """Phone the app from the terminal: hear its prompts; type keys, say WORDS, wait or hangup."""
    at = _parse_at(at_text)
    details = dict(map(_parse_param, param_specs))
    dialled = {number: rings for number, rings in map(_parse_dialled, dialled_specs)}
    queues = dict(map(_parse_queue, queue_specs))
    console = Console(highlight=False)
    phone = TerminalPhone(console)
    console.print(
        f"Calling {to} from {from_} at {at:%Y-%m-%d %H:%M:%S%z} ({target.describe()}). "
        "At a prompt type keys (1, 12#), 'say WORDS', 'wait' or 'hangup'.",
        style="bold",
        soft_wrap=True,
    )
    if target.rest_port is not None:
        rest = rest_wiring.on_port(target.rest_port)
        console.print(f"Twilio's REST API stood in for at {rest.url} (the app's TWILIO_API_URL)")
    try:
        connection = target.connect(None)
    except ScriptError as exc:
        raise Unusable(str(exc)) from exc
    try:
        sim = connection.simulator(target.voice_path, pace=REAL_TIME if real_time else None)
        seed = connection.seed(f"{from_}|{to}|{at.isoformat()}")
        result = sim.place_call(phone, at, from_, to, dialled, queues, seed=seed, details=details)
    except SimError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.transport.close()
    bridged = ", ".join(result.bridged) or "nobody"
    entered = ", ".join(f"{v.name} ({v.result})" for v in result.queues) or "none"
    console.print(
        f"Call {result.ended.value} after {result.duration:g} s: {result.reason}. "
        f"Bridged to: {bridged}. Queues: {entered}. {result.webhooks} webhooks.",
        style="bold",
        soft_wrap=True,
    )


class TerminalPhone:
    """A ``Caller`` played by a person at the terminal."""

    def __init__(self, console: Console, ask: Callable[[str], str] | None = None) -> None:
        self.console = console
        self.ask = ask or _ask
        self._shown_early: list[str] = []  # prompt texts printed at the prompt, not again later
        self._shown_since_prompt = 0
        self._last_at = datetime.min

    def hear(self, event: Event) -> None:
        """Print what happens as it happens."""
        if event.who is Who.APP and event.kind == "say":
            if self._shown_early and self._shown_early[0] == event.text:
                self._shown_early.pop(0)
                return
            self._shown_since_prompt += 1
        style = {Who.APP: "bold cyan", Who.CALLER: "green", Who.CALLEE: "magenta"}.get(
            event.who, "dim"
        )
        self._last_at = event.at
        line = f"{event.at:%H:%M:%S}  {event.who.value:<7} {describe(event)}"
        self.console.print(Text(line, style=style), soft_wrap=True)

    def respond(self, prompt: Prompt) -> CallerInput:
        """Show the prompt (the engine asks before playing it) and read the tester's answer."""
        early = list(prompt.heard[self._shown_since_prompt :])
        for text in early:
            line = f"{self._last_at:%H:%M:%S}  {'app':<7} says {text!r}"
            self.console.print(Text(line, style="bold cyan"), soft_wrap=True)
        self._shown_early = early
        self._shown_since_prompt = 0
        listens = " or ".join(sorted(prompt.input))
        while True:
            try:
                typed = self.ask(f"[{prompt.verb}: {listens}, timeout {prompt.timeout:g} s] > ")
            except (EOFError, KeyboardInterrupt, click.Abort):
                return CallerInput(InputKind.HANGUP, after=0.0)
            answer = _parse_answer(typed)
            if answer is not None:
                return answer
            self.console.print(
                "Type keys (1, 12#), 'say WORDS', 'wait' or 'hangup'.", style="yellow"
            )

    def hangs_up_during(self, text: str, elapsed: float) -> bool:
        """A person at the terminal hangs up at a prompt, never mid-sentence."""
        return False

    def hangs_up_at(self) -> float | None:
        """A person at the terminal hangs up by typing it, never at a set moment."""
        return None


def _parse_answer(typed: str) -> CallerInput | None:
    text = typed.strip()
    word, _, rest = text.partition(" ")
    if text in ("", "wait", "silence"):
        return CallerInput(InputKind.SILENCE)
    if text in ("hangup", "hang up", "bye", "q"):
        return CallerInput(InputKind.HANGUP, after=0.0)
    if word == "say" and rest.strip():
        # At a <Record> the engine takes speech as the recording (its transcription).
        return CallerInput(InputKind.SPEECH, speech=rest.strip())
    if set(text) <= _DIGITS:
        return CallerInput(InputKind.DIGITS, digits=text)
    return None


def _ask(question: str) -> str:
    return str(click.prompt(question, default="", show_default=False, prompt_suffix=""))


def _parse_at(text: str | None) -> datetime:
    if text is None:
        return datetime.now().astimezone()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        message = f"{text!r}: expected a time like 2026-03-30T10:00:00+02:00"
        raise click.BadParameter(message, param_hint="--at") from None
    return at if at.tzinfo else at.astimezone()


def _parse_dialled(spec: str) -> tuple[str, tuple[CalleeBehaviour, ...]]:
    number, sep, rings = spec.partition("=")
    if not sep or not number.strip() or not rings.strip():
        raise click.BadParameter(
            f"{spec!r}: expected NUMBER=RING[,RING...]", param_hint="--dialled"
        )
    try:
        return number.strip(), tuple(parse_ring(ring) for ring in rings.split(","))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--dialled") from exc


def _parse_queue(spec: str) -> tuple[str, QueueBehaviour]:
    name, sep, seconds = spec.partition("=")
    try:
        after = float(seconds)
    except ValueError:
        after = -1.0
    if not sep or not name.strip() or after < 0:
        raise click.BadParameter(f"{spec!r}: expected NAME=SECONDS", param_hint="--queue")
    return name.strip(), QueueBehaviour(agent_after=after)


def _parse_param(spec: str) -> tuple[str, str]:
    name, sep, value = spec.partition("=")
    if not sep or name.strip() not in CALL_DETAILS:
        raise click.BadParameter(
            f"{spec!r}: expected NAME=VALUE, NAME one of {', '.join(CALL_DETAILS)}",
            param_hint="--param",
        )
    return name.strip(), value
