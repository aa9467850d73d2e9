"""Page eighths from the pagination model."""

from __future__ import annotations

import pytest

from soundstage.script.eighths import (
    format_eighths,
    lines_to_eighths,
    page_eighths,
    parse_eighths,
    scene_lines,
    wrapped_lines,
)
from soundstage.script.fdx import parse_fdx
from soundstage.script.model import Element, Kind, Scene, Script

from conftest import SCREENPLAYS

HEADING = "INT. KITCHEN - DAY"


def _scene(*elements: Element) -> Scene:
    return Scene(heading=HEADING, line=1, elements=list(elements))


def _action(text: str) -> Element:
    return Element(Kind.ACTION, text, 2)


def test_wrapping_counts_lines_per_column_width():
    assert wrapped_lines("", 60) == 1
    assert wrapped_lines("x" * 60, 60) == 1
    assert wrapped_lines("x" * 30 + " " + "x" * 30, 60) == 2
    assert wrapped_lines("one\ntwo\n\nfour", 60) == 4
    assert wrapped_lines("x" * 25, 10) == 3  # a word longer than the line is broken
    assert wrapped_lines("ab " + "x" * 25, 10) == 4


def test_heading_alone_is_three_lines_and_one_eighth():
    # Two blank lines before the heading, then the heading.
    scene = _scene()
    assert scene_lines(scene) == 3
    assert page_eighths(Script(scenes=[scene])) == [1]


def test_elements_take_their_blank_lines_and_widths():
    dialogue = "word " * 14  # 70 characters: 2 lines at 37, 2 at 60
    scene = _scene(
        _action(dialogue),  # 1 blank + 2 lines
        Element(Kind.CHARACTER, "MARA", 3, character="MARA"),  # 1 blank + 1
        Element(Kind.PARENTHETICAL, "(to herself, very quietly now)", 4, character="MARA"),  # 0 + 2 at 20
        Element(Kind.DIALOGUE, dialogue, 5, character="MARA"),  # 0 + 2
        Element(Kind.TRANSITION, "SMASH CUT TO:", 6),  # 1 + 1
        Element(Kind.NOTE, "not printed", 7),
        Element(Kind.SECTION, "Act one", 8, level=1),
    )
    assert scene_lines(scene) == 3 + 3 + 2 + 2 + 2 + 2


def test_page_break_drops_the_blank_lines_before_the_next_element():
    before = _scene(_action("a"), _action("b"))
    after = _scene(_action("a"), Element(Kind.PAGE_BREAK, "", 3), _action("b"))
    assert scene_lines(after) == scene_lines(before) - 1


def test_emphasis_markers_take_no_room():
    assert scene_lines(_scene(_action("**" + "x" * 59 + "**"))) == scene_lines(_scene(_action("x" * 59)))


@pytest.mark.parametrize(
    ("lines", "eighths"),
    [(0, 1), (1, 1), (6, 1), (7, 2), (13, 2), (14, 3), (54, 8), (55, 8), (56, 9), (110, 16), (111, 17)],
)
def test_lines_become_eighths_rounding_up(lines, eighths):
    assert lines_to_eighths(lines) == eighths


@pytest.mark.parametrize(("action_lines", "lines", "eighths"), [(1, 5, 1), (51, 55, 8), (52, 56, 9)])
def test_scene_of_a_page(action_lines, lines, eighths):
    # Heading: 2 blank lines + 1; action: 1 blank line + its own.
    scene = _scene(_action("\n".join(["x"] * action_lines)))
    assert scene_lines(scene) == lines
    assert page_eighths(Script(scenes=[scene])) == [eighths]


@pytest.mark.parametrize(
    ("eighths", "text"),
    [(1, "1/8"), (4, "4/8"), (8, "1"), (11, "1 3/8"), (16, "2"), (0, "0")],
)
def test_format_and_parse(eighths, text):
    assert format_eighths(eighths) == text
    assert parse_eighths(text) == eighths


@pytest.mark.parametrize("text", ["", "abc", "3/4", "1 9", "-1/8"])
def test_parse_rejects_what_is_not_a_length(text):
    assert parse_eighths(text) is None


def test_model_reproduces_the_saved_lengths_of_the_samples():
    for path in sorted(SCREENPLAYS.glob("sample-*.fdx")):
        script = parse_fdx(path.read_bytes(), str(path))
        assert page_eighths(script) == [s.saved_eighths for s in script.scenes], path.name
