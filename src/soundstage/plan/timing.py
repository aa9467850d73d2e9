"""Screen time of script elements: dialogue at a speaking rate, action as read, pauses for beats.

The estimates are the ones an assistant editor makes with a stopwatch and the page: words over
a words-per-second rate, plus pauses where the writer asks for them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from soundstage.config import Timing
from soundstage.script.model import Element, Kind

_WORD = re.compile(r"[\w']+")
_BEAT = re.compile(r"\b(beat|pause|a moment|silence|long look)\b", re.IGNORECASE)


def words(text: str) -> int:
    """Number of words in ``text``."""
    return len(_WORD.findall(text))


def element_seconds(element: Element, timing: Timing) -> float:
    """Screen time of one element in seconds."""
    if element.kind is Kind.DIALOGUE:
        return words(element.plain) / timing.words_per_second
    if element.kind is Kind.LYRICS:
        return words(element.plain) / timing.lyrics_words_per_second
    if element.kind is Kind.PARENTHETICAL:
        beat = timing.beat_pause_s if _BEAT.search(element.text) else 0.0
        return timing.parenthetical_pause_s + beat
    if element.kind in (Kind.ACTION, Kind.CENTERED):
        beat = timing.beat_pause_s if _BEAT.search(element.text) else 0.0
        return words(element.plain) / timing.action_words_per_second + beat
    return 0.0


def seconds(elements: Iterable[Element], timing: Timing) -> float:
    """Screen time of a run of elements played one after another."""
    return sum(element_seconds(element, timing) for element in elements)


def to_frames(duration_s: float, fps: int, minimum_s: float) -> int:
    """Whole frames for a duration, never below ``minimum_s``; rounds up so a line is never cut."""
    return max(math.ceil(duration_s * fps - 1e-9), math.ceil(minimum_s * fps))
