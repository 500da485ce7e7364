"""``hotline replay`` and ``hotline call``: replay call scripts, or phone the app by hand."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

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
from hotline.sim.report import describe, print_outcome, print_summary, write_json, write_junit
from hotline.sim.runner import CallOutcome, Target, load_scripts, run_calls, wall_clock
from hotline.sim.script import parse_ring
from hotline.sim.steps import CallScript

if TYPE_CHECKING:
    from hotline.sim.coverage import Coverage

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SCRIPTS = Path("tests/calls")
_DIGITS = frozenset("0123456789*#")


class _Unusable(click.ClickException):
    """Bad input to a command (a missing path, a malformed script): exit status 2, no traceback."""

    exit_code = 2


def _target_options(command: F) -> F:
    """The options that say which app to call, shared by ``replay`` and ``call``."""
    options = [
        click.option(
            "--config",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Build hotline from this config file (overrides a script's own config).",
        ),
        click.option("--app", metavar="MODULE:FACTORY", help="Call any WSGI app instead."),
        click.option("--url", metavar="URL", help="Call a running server over HTTP instead."),
        click.option(
            "--base-url",
            metavar="URL",
            help="The public URL the app believes Twilio calls [default: --url or http://localhost].",
        ),
        click.option("--voice-path", default="/voice", show_default=True, help="The Voice URL."),
        click.option(
            "--auth-token",
            envvar="TWILIO_AUTH_TOKEN",
            default=None,
            help="Sign webhooks with this token [env: TWILIO_AUTH_TOKEN].",
        ),
        click.option(
            "--api-token",
            envvar="HOTLINE_API_TOKEN",
            default=None,
            help="Bearer token for [[expect.api]] checks [env: HOTLINE_API_TOKEN].",
        ),
    ]
    for option in reversed(options):
        command = option(command)

    @functools.wraps(command)
    def wrapped(**kwargs: Any) -> Any:
        chosen = [name for name in ("config", "app", "url") if kwargs[name]]
        if len(chosen) > 1:
            raise click.UsageError(
                f"choose one of --config, --app, --url (got {', '.join(chosen)})"
            )
        kwargs["target"] = Target(
            auth_token=kwargs.pop("auth_token"),
            api_token=kwargs.pop("api_token"),
            url=kwargs.pop("url"),
            app=kwargs.pop("app"),
            config=kwargs.pop("config"),
            base_url=kwargs.pop("base_url"),
            voice_path=kwargs.pop("voice_path"),
        )
        return command(**kwargs)

    return wrapped  # type: ignore[return-value]


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_target_options
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, help="Calls run at once.")
@click.option("-k", "match", metavar="TEXT", help="Only calls whose name or file contains TEXT.")
@click.option("-v", "--verbose", is_flag=True, help="Show every call's transcript.")
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False), help="Write JUnit XML.")
@click.option(
    "--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), help="Write JSON."
)
@click.option(
    "--coverage",
    "show_coverage",
    is_flag=True,
    help="Show which steps and branches of hotline's flow the calls reached (not with --app).",
)
def replay(
    paths: tuple[Path, ...],
    target: Target,
    jobs: int,
    match: str | None,
    verbose: bool,
    junit: Path | None,
    json_path: Path | None,
    show_coverage: bool,
) -> None:
    """Replay call scripts (files, or folders of *.toml; default tests/calls) against the app."""
    try:
        target.check()
        scripts = load_scripts(list(paths) or [DEFAULT_SCRIPTS])
    except ScriptError as exc:
        raise _Unusable(str(exc)) from exc
    if match:
        scripts = [s for s in scripts if match.casefold() in s.id.casefold()]
    if not scripts:
        raise _Unusable(
            f"no call scripts found in {', '.join(map(str, paths or [DEFAULT_SCRIPTS]))}"
        )
    coverage = _coverage_of(target, scripts) if show_coverage else None
    console = Console(highlight=False)
    progress = Progress(
        TextColumn("[bold]replaying[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[tally]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        get_time=wall_clock,  # the app's clock is frozen while calls run in this process
    )
    counts = {"passed": 0, "failed": 0}

    def done(outcome: CallOutcome) -> None:
        counts["passed" if outcome.passed else "failed"] += 1
        print_outcome(progress.console, outcome, transcript=verbose)
        tally = f"[green]{counts['passed']} passed[/green], [red]{counts['failed']} failed[/red]"
        progress.update(task, advance=1, tally=tally)

    with progress:
        task = progress.add_task("calls", total=len(scripts), tally="")
        summary = run_calls(scripts, target, jobs, done, trails=coverage is not None)
    if coverage is not None:
        from hotline.sim.coverage import print_coverage

        for outcome in summary.outcomes:
            coverage.add(outcome.script.name, outcome.trail)
        console.print()
        print_coverage(console, coverage)
    if junit is not None:
        write_junit(junit, summary)
    if json_path is not None:
        write_json(json_path, summary, coverage.as_json() if coverage is not None else None)
    print_summary(console, summary)
    if summary.failed:
        raise SystemExit(1)


def _coverage_of(target: Target, scripts: Sequence[CallScript]) -> Coverage:
    """An empty coverage of the flows the calls run on; a flow that cannot load stops here."""
    if target.app:
        raise click.UsageError("--coverage reads hotline's flows: it cannot be used with --app")
    # Imported here: only coverage needs hotline's own flow and config modules.
    from hotline.errors import HotlineError
    from hotline.sim.coverage import Coverage

    coverage = Coverage()
    for config in dict.fromkeys(target.config_for(script) for script in scripts):
        try:
            coverage.include(config)
        except HotlineError as exc:
            raise _Unusable(f"--coverage: {exc}") from exc
    return coverage


@click.command()
@_target_options
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
def call(
    target: Target,
    at_text: str | None,
    from_: str,
    to: str,
    dialled_specs: tuple[str, ...],
    queue_specs: tuple[str, ...],
) -> None:
    """Phone the app from the terminal: hear its prompts; type keys, say WORDS, wait or hangup."""
    at = _parse_at(at_text)
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
    try:
        connection = target.connect(None)
    except ScriptError as exc:
        raise _Unusable(str(exc)) from exc
    try:
        sim = connection.simulator(target.voice_path)
        result = sim.place_call(phone, at, from_, to, dialled, queues)
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
