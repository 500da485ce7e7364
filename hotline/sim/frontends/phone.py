"""``hotline call``: phone the app from the terminal, a person playing the caller (or, with
``--as-agent``, the agent who takes a scripted caller: ``agent_phone``)."""

from __future__ import annotations

from datetime import datetime

import click
from rich.console import Console

from hotline.sim.engine.call_details import CALL_DETAILS
from hotline.sim.frontends.agent_phone import AgentSide, play_as_agent
from hotline.sim.frontends.options import Unusable, target_options
from hotline.sim.frontends.terminal_phone import TerminalPhone, ask_at_terminal, parse_answer
from hotline.sim.model import (
    CalleeBehaviour,
    QueueBehaviour,
    ScriptError,
    SimError,
)
from hotline.sim.run import rest_wiring
from hotline.sim.run.connection import Target
from hotline.sim.scripts.reader import parse_ring

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
@click.option(
    "--as-agent",
    "agent_id",
    metavar="AGENT",
    help="Play agent AGENT instead of the caller: the caller presses --caller-keys, you type"
    " the agent's commands (available, take, warm/cold/thread/requeue with a summary, hangup,"
    " ready; 'help' lists them), sent to the app's JSON API; your phone answers by itself.",
)
@click.option(
    "--agent-token",
    envvar="HOTLINE_AGENT_TOKEN",
    default=None,
    help="With --as-agent: the agent's own token [env: HOTLINE_AGENT_TOKEN; default: the"
    " operator's --api-token].",
)
@click.option(
    "--caller-keys",
    default="2,1",
    show_default=True,
    metavar="ANSWER[,ANSWER...]",
    help="With --as-agent: the caller's answer at each prompt in turn (keys, 'say WORDS' or"
    " 'wait'), then silence. The default reaches the warehouse agents' queue.",
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
    agent_id: str | None,
    agent_token: str | None,
    caller_keys: str,
) -> None:
    """Phone the app from the terminal: hear its prompts; type keys, say WORDS, wait or hangup
    (or, with --as-agent, be the agent who takes the caller)."""
    at = _parse_at(at_text)
    details = dict(map(_parse_param, param_specs))
    dialled = {number: rings for number, rings in map(_parse_dialled, dialled_specs)}
    queues = dict(map(_parse_queue, queue_specs))
    side = _agent_side(agent_id, (agent_token or target.api_token, target.api_token), caller_keys)
    console = Console(highlight=False)
    phone = TerminalPhone(console)
    how = (
        f"The caller answers {', '.join(side.caller_keys)}; you are agent {side.agent_id}."
        if side is not None
        else "At a prompt type keys (1, 12#), 'say WORDS', 'wait' or 'hangup'."
    )
    console.print(
        f"Calling {to} from {from_} at {at:%Y-%m-%d %H:%M:%S%z} ({target.describe()}). {how}",
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
        if side is not None:
            call_of = (at, from_, to)
            result = play_as_agent(
                sim, console, ask_at_terminal, side, call_of, dialled, queues, seed, details
            )
        else:
            result = sim.place_call(
                phone, at, from_, to, dialled, queues, seed=seed, details=details
            )
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


def _agent_side(
    agent_id: str | None, tokens: tuple[str | None, str | None], keys: str
) -> AgentSide | None:
    """``--as-agent``'s agent and the caller's scripted answers (``None``: the caller is you)."""
    if agent_id is None:
        return None
    answers = tuple(answer.strip() for answer in keys.split(","))
    bad = [answer for answer in answers if parse_answer(answer) is None]
    if bad or not answers:
        raise click.BadParameter(
            f"{bad[0] if bad else keys!r}: expected keys (1, 12#), 'say WORDS' or 'wait'",
            param_hint="--caller-keys",
        )
    return AgentSide(agent_id.strip(), tokens[0], tokens[1], answers)


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
