"""Screen-time estimates from the script."""

import pytest

from soundstage.config import Timing
from soundstage.plan.timing import element_seconds, seconds, to_frames, words
from soundstage.script.model import Element, Kind

T = Timing()


def test_words_counts_contractions_as_one():
    assert words("Don't you dare, Pip -- it's mine.") == 6


def test_dialogue_runs_at_the_speaking_rate():
    line = Element(Kind.DIALOGUE, "one two three four five", 1, character="MARA")
    assert element_seconds(line, T) == pytest.approx(5 / T.words_per_second)


def test_lyrics_are_slower_than_speech():
    text = "la la la la la la"
    sung = element_seconds(Element(Kind.LYRICS, text, 1), T)
    spoken = element_seconds(Element(Kind.DIALOGUE, text, 1), T)
    assert sung > spoken


def test_parenthetical_pauses_and_beats_add_time():
    plain = element_seconds(Element(Kind.PARENTHETICAL, "(smiling)", 1), T)
    beat = element_seconds(Element(Kind.PARENTHETICAL, "(beat)", 1), T)
    assert plain == pytest.approx(T.parenthetical_pause_s)
    assert beat == pytest.approx(T.parenthetical_pause_s + T.beat_pause_s)


def test_emphasis_markers_are_not_words():
    a = element_seconds(Element(Kind.ACTION, "She **runs**.", 1), T)
    b = element_seconds(Element(Kind.ACTION, "She runs.", 1), T)
    assert a == b


def test_transitions_take_no_screen_time():
    assert seconds([Element(Kind.TRANSITION, "CUT TO:", 1)], T) == 0


def test_frames_round_up_and_respect_the_minimum():
    assert to_frames(1.01, 24, 0.5) == 25
    assert to_frames(0.1, 24, 1.0) == 24
    assert to_frames(2.0, 24, 1.0) == 48
