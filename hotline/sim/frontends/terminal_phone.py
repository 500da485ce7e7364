"""The caller's phone at the terminal: what happens printed as it happens, the answers typed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import click
from rich.console import Console
from rich.text import Text

from hotline.sim.model import CallerInput, Event, InputKind, Prompt, Who
from hotline.sim.report.console import describe

_DIGITS = frozenset("0123456789*#")
_STYLES = {Who.APP: "bold cyan", Who.CALLER: "green", Who.CALLEE: "magenta"}


def print_event(console: Console, event: Event, leg: str = "") -> None:
    """One line of a call's transcript, ``leg`` naming the call when it is not the caller's."""
    line = f"{event.at:%H:%M:%S}  {leg + ' ' if leg else ''}{event.who.value:<7} {describe(event)}"
    console.print(Text(line, style=_STYLES.get(event.who, "dim")), soft_wrap=True)


class TerminalPhone:
    """A ``Caller`` played by a person at the terminal."""

    def __init__(self, console: Console, ask: Callable[[str], str] | None = None) -> None:
        self.console = console
        self.ask = ask or ask_at_terminal
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
        self._last_at = event.at
        print_event(self.console, event)

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
            answer = parse_answer(typed)
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


def parse_answer(typed: str) -> CallerInput | None:
    """The caller's input a typed line means (``None``: it means none)."""
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


def ask_at_terminal(question: str) -> str:
    """Read one line typed at the terminal (empty when nothing was typed)."""
    return str(click.prompt(question, default="", show_default=False, prompt_suffix=""))
