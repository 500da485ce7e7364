"""Matching what a caller said against a menu option's phrases (any language, no stemmer)."""

from __future__ import annotations

import os


def normalise_speech(text: str) -> str:
    """Lower-case words without punctuation, for matching what a caller said against phrases."""
    kept = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text.lower())
    return " ".join(kept.split())


def said(phrase: str, heard: str) -> bool:
    """Whether the (normalised) ``phrase`` occurs in the (normalised) words ``heard``.

    Words match loosely enough for inflection ("agent" ~ "agents", "konsultant" ~ "konsultantem",
    "reklamacja" ~ "reklamację") but not for short words ("no" never matches "now").
    """
    return said_at(phrase, heard) is not None


def said_at(phrase: str, heard: str) -> int | None:
    """The word index where ``phrase`` first occurs in ``heard`` (matched as ``said`` does)."""
    wanted, words = phrase.split(), heard.split()
    for start in range(len(words) - len(wanted) + 1):
        if all(_word_matches(w, words[start + i]) for i, w in enumerate(wanted)):
            return start
    return None


def _word_matches(wanted: str, heard: str) -> bool:
    if heard == wanted or (len(wanted) >= 4 and heard.startswith(wanted)):
        return True
    if len(wanted) < 6:
        return False
    common = len(os.path.commonprefix([wanted, heard]))
    return common >= max(5, len(wanted) - 2)
