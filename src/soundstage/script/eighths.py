"""Page eighths: how long each scene runs on the page, by the standard pagination model.

Schedules and budgets measure scenes in eighths of a page. The model is the one Final
Draft's default template prints: US Letter, Courier 12 pt (10 characters and 6 lines to
the inch), 55 lines per page, each element word-wrapped to its own column width and
preceded by its blank lines (two before a scene heading, one before action, cues and
transitions, none before a parenthetical or dialogue line in a dialogue block). A scene's
lines, its heading's blank lines included, are turned into eighths rounding up.

Simplifications, on purpose: a scene counts its own lines only, so one that crosses a page
break is not padded to the bottom of the page; an explicit page break (``===``) only drops
the blank lines before the element that starts the new page; (MORE)/(CONT'D) lines at a
page break in dialogue are not counted.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from soundstage.script.model import Kind, Scene, Script, plain_text

LINES_PER_PAGE = 55
EIGHTHS_PER_PAGE = 8


class _Column(NamedTuple):
    width: int  # characters per line (10 to the inch)
    space_before: int  # blank lines before the element


# Widths from Final Draft's default template (its ElementSettings indents, in inches):
# action and heading 1.25"-7.25", cue from 3.75" to 7.25", parenthetical 3.25"-5.25",
# dialogue 2.56"-6.25", transition 5.25"-6.75"; at 10 characters to the inch, rounded to
# whole characters as Final Draft fills them. Dialogue's 3.69" is 37 characters, not 36:
# with 36, one dialogue line in the samples wraps where Final Draft did not, and that
# scene's saved length is missed (benchmarks/eighths_vs_fdx.py: 11 of 12 instead of 12).
_HEADING = _Column(60, 2)
_COLUMNS = {
    Kind.ACTION: _Column(60, 1),
    Kind.CENTERED: _Column(60, 1),
    Kind.CHARACTER: _Column(35, 1),
    Kind.PARENTHETICAL: _Column(20, 0),
    Kind.DIALOGUE: _Column(37, 0),
    Kind.LYRICS: _Column(37, 0),
    Kind.TRANSITION: _Column(15, 1),
}

_EIGHTHS = re.compile(r"^\s*(?:(\d+)(?:\s+(\d+)\s*/\s*8)?|(\d+)\s*/\s*8)\s*$")


def wrapped_lines(text: str, width: int) -> int:
    """How many lines ``text`` takes when word-wrapped to ``width`` characters (at least 1).

    Counted by hand rather than with ``textwrap``: only the count is needed, and finding
    each line's last space with ``str.rfind`` is many times faster than building the
    wrapped strings, which matters when a feature's every paragraph is measured.
    """
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        start, end = 0, len(paragraph)
        while end - start > width:
            cut = paragraph.rfind(" ", start, start + width + 1)
            if cut <= start:
                # A word longer than the line is broken across lines, as a word processor does.
                start += width
            else:
                start = cut + 1
                while start < end and paragraph[start] == " ":
                    start += 1
            lines += start < end
    return lines


def _printed(text: str) -> str:
    # Most paragraphs have no emphasis; skipping the regular expression for them halves the
    # time to measure a feature.
    return plain_text(text) if "*" in text or "_" in text else text


def scene_lines(scene: Scene) -> int:
    """Lines the scene takes on the page: its heading, its printed elements and their blank lines."""
    lines = _HEADING.space_before + wrapped_lines(_printed(scene.heading), _HEADING.width)
    top_of_page = False
    for element in scene.elements:
        if element.kind is Kind.PAGE_BREAK:
            top_of_page = True
            continue
        column = _COLUMNS.get(element.kind)
        if column is None:  # sections, synopses and notes are not printed
            continue
        space = 0 if top_of_page else column.space_before
        lines += space + wrapped_lines(_printed(element.text), column.width)
        top_of_page = False
    return lines


def lines_to_eighths(lines: int) -> int:
    """Page eighths for ``lines`` printed lines, never less than one eighth.

    Rounded up: a scene that runs into an eighth of the page occupies that eighth. On the
    Final Draft samples in the shared screenplays rounding up reproduces all 12 saved
    lengths and rounding to nearest only 9 (short scenes of 8 to 13 lines are saved as
    2/8, which nearest rounding makes 1/8 or 2/8); see benchmarks/eighths_vs_fdx.py.
    """
    return max(1, math.ceil(lines * EIGHTHS_PER_PAGE / LINES_PER_PAGE))


def page_eighths(script: Script) -> list[int]:
    """The length of every scene of ``script`` in page eighths, in scene order."""
    return [lines_to_eighths(scene_lines(scene)) for scene in script.scenes]


def format_eighths(eighths: int) -> str:
    """Eighths as a schedule writes them: 11 -> "1 3/8", 4 -> "4/8", 16 -> "2"."""
    pages, rest = divmod(eighths, EIGHTHS_PER_PAGE)
    if not rest:
        return str(pages)
    return f"{pages} {rest}/8" if pages else f"{rest}/8"


def parse_eighths(text: str) -> int | None:
    """The inverse of ``format_eighths``: "1 3/8" -> 11; None for text that is not a length."""
    match = _EIGHTHS.match(text)
    if match is None:
        return None
    pages, rest, only_eighths = match.groups()
    if only_eighths is not None:
        return int(only_eighths)
    return int(pages) * EIGHTHS_PER_PAGE + int(rest or 0)
