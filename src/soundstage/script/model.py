"""The screenplay as Soundstage holds it: a title page, a preamble and numbered scenes.

Both readers (Fountain and Final Draft) produce this model and both writers consume it,
so every later stage (breakdown, plan, layout) sees one shape whatever the source format.
Elements are a flat sequence, as in a screenplay file; a dialogue block is a CHARACTER cue
followed by its PARENTHETICAL, DIALOGUE and LYRICS elements, each carrying the speaker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal


class Kind(StrEnum):
    """The kinds of screenplay element (Fountain 1.1 and Final Draft paragraph types)."""

    ACTION = "action"
    CHARACTER = "character"
    PARENTHETICAL = "parenthetical"
    DIALOGUE = "dialogue"
    LYRICS = "lyrics"
    TRANSITION = "transition"
    CENTERED = "centered"
    PAGE_BREAK = "page_break"
    SECTION = "section"
    SYNOPSIS = "synopsis"
    NOTE = "note"


# Kinds that are part of a dialogue block and carry the speaker in ``Element.character``.
SPOKEN = frozenset({Kind.PARENTHETICAL, Kind.DIALOGUE, Kind.LYRICS})
# Kinds that are printed on the page (and so take page space); the rest are writer's aids.
PRINTED = frozenset(
    {Kind.ACTION, Kind.CHARACTER, Kind.PARENTHETICAL, Kind.DIALOGUE, Kind.LYRICS, Kind.TRANSITION, Kind.CENTERED}
)

# Emphasis is a pair of markers around non-space text; a lone "*" (as in "2 * 3") is text.
_STARS = re.compile(r"(?<!\\)(\*{1,3})(?=\S)(.+?)(?<=\S)(?<!\\)\1")
_UNDERLINE = re.compile(r"(?<![\\\w])_(?=\S)(.+?)(?<=\S)(?<!\\)_(?!\w)")  # not inside snake_case


def plain_text(text: str) -> str:
    """Text without Fountain emphasis markers (``*italic*``, ``**bold**``, ``_underline_``)."""
    if "*" not in text and "_" not in text and "\\" not in text:
        return text  # the common case, and this runs for every element of a feature
    previous = None
    while previous != text:  # nested emphasis (**bold *and italic***) unwraps level by level
        previous = text
        text = _UNDERLINE.sub(r"\1", _STARS.sub(r"\2", text))
    return text.replace("\\*", "*").replace("\\_", "_")


@dataclass(frozen=True, slots=True)
class Element:
    """One paragraph of a screenplay.

    ``text`` is as written, emphasis markers kept and notes and boneyard removed; multi-line
    paragraphs keep their line breaks. ``line`` is the 1-based line of the source file where
    the element starts (for FDX, the line of its ``<Paragraph>``).
    """

    kind: Kind
    text: str
    line: int
    # CHARACTER: the cue name without extensions; SPOKEN kinds: the speaker's name.
    character: str = ""
    # CHARACTER: extensions in order as written, e.g. ("V.O.", "CONT'D").
    extensions: tuple[str, ...] = ()
    # CHARACTER (and its SPOKEN elements): one of the two speeches of a dual-dialogue pair;
    # both cues carry it, as in Final Draft (Fountain marks only the second, with ``^``).
    dual: bool = False
    # SECTION: depth (number of ``#``).
    level: int = 0
    # Written with a forcing mark (``@`` ``>`` ``!`` ``.`` ``~``) so a writer can round-trip it.
    forced: bool = False

    @property
    def plain(self) -> str:
        """The text without emphasis markers."""
        return plain_text(self.text)


@dataclass(slots=True)
class Scene:
    """A scene: its heading and the elements up to the next heading."""

    heading: str
    line: int
    elements: list[Element] = field(default_factory=list)
    # The scene number as written (``#12A#`` in Fountain, ``Number=`` in FDX), else None.
    number: str | None = None
    # The length the source application saved, in page eighths (FDX ``SceneProperties Length``).
    saved_eighths: int | None = None
    forced: bool = False

    def printed(self) -> Iterator[Element]:
        """The elements that appear on the page."""
        return (e for e in self.elements if e.kind in PRINTED)

    def body_text(self) -> str:
        """All printed text of the scene, for similarity matching between drafts."""
        return "\n".join(e.plain for e in self.printed())


@dataclass(slots=True)
class Script:
    """A whole screenplay."""

    # Title page keys as written (Title, Credit, Author, Source, Draft date, Contact, ...) in
    # file order; multi-line values are joined with "\n".
    title_page: dict[str, str] = field(default_factory=dict)
    # Elements before the first scene heading (FADE IN:, a cold-open action line, ...).
    preamble: list[Element] = field(default_factory=list)
    scenes: list[Scene] = field(default_factory=list)
    # Where it was read from, for error messages and reports.
    source: str = ""
    format: Literal["fountain", "fdx"] = "fountain"

    @property
    def title(self) -> str:
        """The title from the title page, without emphasis, on one line."""
        raw = self.title_page.get("Title", "") or self.title_page.get("title", "")
        return " ".join(plain_text(raw).split())
