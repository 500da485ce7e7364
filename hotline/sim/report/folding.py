"""Fold a transcript's repeats for reading: hold music looping, a queue's waitUrl cycle, a retry.

A call waiting in a queue for an hour posts the waitUrl hundreds of times; its transcript is the
same few lines again and again (only ``QueueTime`` and the clock move). ``fold_transcript`` keeps
one pass of such a block and how many times it ran, so a report shows it once with ``×N``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from hotline.sim.model import Event, Who

# Params that change on every pass of a wait loop without making it a different pass.
_VOLATILE = frozenset({"QueueTime", "Timestamp", "SequenceNumber", "interrupted"})
# A lone event folds only when it is sound the caller hears (hold music, a looping prompt).
_SOUNDS = frozenset({"play", "say", "pause"})
_LONGEST_BLOCK = 8  # events in one pass of a loop worth folding (a waitUrl document's worth)
_LEAST_PASSES = 3  # a block of several events folds from this many passes on


@dataclass(frozen=True)
class Fold:
    """One pass of a block of events, how many passes ran in a row, and the last event of them."""

    events: tuple[Event, ...]
    repeats: int
    last: Event


def fold_transcript(events: Sequence[Event]) -> list[Fold]:
    """Return ``events`` with each run of a repeated block folded into one ``Fold``.

    Blocks with the caller's (or a callee's) own actions never fold: each is a step the script
    took, and a tester reads them one by one.
    """
    keys = [_key(event) for event in events]
    folds: list[Fold] = []
    start = 0
    while start < len(events):
        size, passes = _longest_run(events, keys, start)
        end = start + size * passes
        folds.append(Fold(tuple(events[start : start + size]), passes, events[end - 1]))
        start = end
    return folds


def _longest_run(events: Sequence[Event], keys: list[Hashable], start: int) -> tuple[int, int]:
    """The block size and passes covering the most events from ``start`` (1, 1: no repeat)."""
    best = (1, 1)
    for size in range(1, _LONGEST_BLOCK + 1):
        if start + 2 * size > len(events):
            break
        block = keys[start : start + size]
        if not _foldable(events[start : start + size]):
            continue
        passes = 1
        while keys[start + passes * size : start + (passes + 1) * size] == block:
            passes += 1
        least = 2 if size == 1 else _LEAST_PASSES
        if passes >= least and size * passes > best[0] * best[1]:
            best = (size, passes)
    return best


def _foldable(block: Sequence[Event]) -> bool:
    if len(block) == 1:
        return block[0].kind in _SOUNDS
    return all(event.who in (Who.APP, Who.TWILIO) for event in block)


def _key(event: Event) -> Hashable:
    """What makes two events the same line of a loop: all but the clock and volatile params."""
    detail = tuple(sorted((k, v) for k, v in event.detail.items() if k not in _VOLATILE))
    return (event.who, event.kind, event.text, urlsplit(event.url).path, detail)
