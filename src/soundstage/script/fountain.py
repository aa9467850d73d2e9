"""Fountain screenplays: reading them into the script model and writing the model back.

The reader covers Fountain 1.1 (https://fountain.io/syntax): title page, scene headings
with scene numbers, action, dialogue blocks with extensions and dual dialogue, lyrics,
transitions, centered text, page breaks, sections, synopses, notes and boneyard.

It is written by hand rather than built on screenplain or jouvence because neither reports
the source line of what it parses, and Soundstage needs that line for every element: error
messages point at it, and each shot records the script lines it covers. Both libraries are
also slower on a feature: on the development machine Big Fish takes screenplain about
75 ms, jouvence about 350 ms and this reader about 16 ms. It works line by line with
precompiled patterns, never character by character, and raises nothing but ``ScriptError``.

The writer produces clean Fountain that this reader reads back to the same scenes and
elements, adding forcing marks (``!`` ``@`` ``.`` ``>``) wherever plain text would be read
as something else. Fountain has no escape for ``[[`` and ``/*``, so text containing them
(possible only from another format) is written as is and reads back as a note or boneyard;
a dialogue or parenthetical without a cue, which Fountain cannot express, becomes action.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from soundstage.errors import ScriptError
from soundstage.script.model import SPOKEN, Element, Kind, Scene, Script

# A line of exactly two spaces keeps a paragraph together across an empty line (spec).
_CONNECTOR = "  "
_PAGE_BREAK = re.compile(r"={3,}")
_HEADING = re.compile(r"(?:int\.?/ext|i/e|int|ext|est)[. ]", re.IGNORECASE)
_SCENE_NUMBER = re.compile(r"\s*#([\w.\-]+)#$")
_CENTERED = re.compile(r">(.*)<")
_EXTENSION = re.compile(r"\(([^()]*)\)")
_TITLE_KEY = re.compile(r"([^\W\d_][\w \-]*?)\s*:[ \t]*(.*)")
_HIDDEN_START = re.compile(r"/\*|\[\[")
# A blank line: "\n", whitespace other than the two-space connector, "\n".
_BLANK_IN_NOTE = re.compile(r"\n(?!  \n)[^\S\n]*\n")
# First characters that make a line mean something other than plain text.
_MARKS = ("!", "@", ".", ">", "~", "#", "=")
# Fountain counts a tab as four spaces.
_TAB = "    "

Line = tuple[int, str]  # (1-based source line, text with notes and boneyard removed)


def parse_fountain(text: str, source: str = "") -> Script:
    """Parse Fountain ``text`` into a ``Script``; ``source`` names the file in errors.

    Raises ``ScriptError`` for an unclosed boneyard (``/*`` without ``*/``), which is how a
    truncated file usually shows; everything else is read leniently, as Fountain intends.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    lines, hidden, notes = _hide(text, source)
    script = Script(source=source, format="fountain")
    start = _read_title_page(lines, hidden, script.title_page)
    builder = _Builder(script)
    for paragraph, paragraph_notes in _paragraphs(lines, hidden, notes, start):
        if not paragraph:
            for line, note in paragraph_notes:
                builder.add(Kind.NOTE, note, line)
            continue
        segment: list[Line] = []
        for number, raw in paragraph:
            # A page break ends whatever it follows, even without a blank line.
            if "===" in raw and _PAGE_BREAK.fullmatch(raw.strip()):
                builder.read_segment(segment)
                segment = []
                builder.add(Kind.PAGE_BREAK, "", number)
            else:
                segment.append((number, raw))
        builder.read_segment(segment)
    return script


def _hide(text: str, source: str) -> tuple[list[str], set[int], dict[int, list[str]]]:
    """Remove boneyard and notes, keeping every line in place so line numbers hold.

    Returns the lines, the indexes of lines that held nothing but hidden text (they vanish:
    neither text nor paragraph breaks), and the notes by the index of the line they open on.
    """
    if "/*" not in text and "[[" not in text:
        return text.split("\n"), set(), {}
    pieces: list[str] = []
    touched: set[int] = set()
    notes: dict[int, list[str]] = {}
    pos = counted_to = line = 0
    # Where the next blank line starts (-1: not looked for yet), and the blank line up to
    # which no "]]" follows: both keep many unclosed "[[" from rescanning the text.
    next_blank = unclosed_until = -1
    while match := _HIDDEN_START.search(text, pos):
        start = match.start()
        line += text.count("\n", counted_to, start)
        counted_to = start
        if match.group() == "/*":
            end = text.find("*/", match.end())
            if end < 0:
                raise ScriptError("boneyard '/*' is never closed with '*/'", path=source or None, line=line + 1)
        else:
            # A note cannot span a blank line; without "]]" before one, "[[" is plain text.
            if next_blank < match.end():
                blank = _BLANK_IN_NOTE.search(text, match.end())
                next_blank = blank.start() if blank else len(text)
            end = -1 if unclosed_until == next_blank else text.find("]]", match.end(), next_blank)
            if end < 0:
                unclosed_until = next_blank
                pieces.append(text[pos : match.end()])
                pos = match.end()
                continue
            inner = text[match.end() : end].split("\n")
            notes.setdefault(line, []).append("\n".join(part.strip() for part in inner).strip())
        stop = end + 2
        breaks = text.count("\n", start, stop)
        pieces.append(text[pos:start])
        pieces.append("\n" * breaks)
        touched.update(range(line, line + breaks + 1))
        pos = stop
    pieces.append(text[pos:])
    lines = "".join(pieces).split("\n")
    return lines, {index for index in touched if not lines[index].strip()}, notes


def _is_blank(raw: str) -> bool:
    return raw != _CONNECTOR and not raw.strip()


def _read_title_page(lines: list[str], hidden: set[int], title_page: dict[str, str]) -> int:
    """Fill ``title_page`` from the first paragraph when it is one; return where the body starts.

    A paragraph counts as a title page when its first line is ``Key: ...`` and some key has
    a value, so that a script opening on a bare ``FADE IN:`` is not mistaken for one.
    """
    start = 0
    while start < len(lines) and start not in hidden and _is_blank(lines[start]):
        start += 1
    end = start
    while end < len(lines) and (end in hidden or not _is_blank(lines[end])):
        end += 1
    entries: list[tuple[str, list[str]]] = []
    for index in range(start, end):
        if index in hidden:
            continue
        raw = lines[index]
        key = None if raw[:1].isspace() else _TITLE_KEY.fullmatch(raw.rstrip())
        if key:
            entries.append((key.group(1), [key.group(2).strip()]))
        elif entries:
            entries[-1][1].append(raw.strip())
        else:
            return 0
    if not any(any(values) for _, values in entries):
        return 0
    for key, values in entries:
        # A key given twice keeps both values.
        title_page[key] = "\n".join(v for v in [title_page.get(key, ""), *values] if v)
    return end


def _paragraphs(
    lines: list[str], hidden: set[int], notes: dict[int, list[str]], start: int
) -> list[tuple[list[Line], list[tuple[int, str]]]]:
    """Split the body into paragraphs at blank lines.

    Each paragraph is its visible lines and the notes that open in it; a paragraph with
    notes and no visible lines is a note paragraph.
    """
    paragraphs: list[tuple[list[Line], list[tuple[int, str]]]] = []
    current: list[Line] = []
    current_notes: list[tuple[int, str]] = []
    for index in range(start, len(lines)):
        raw = lines[index]
        if notes and index in notes:
            current_notes.extend((index + 1, note) for note in notes[index])
        if hidden and index in hidden:
            continue
        if raw.strip() or raw == _CONNECTOR:
            current.append((index + 1, raw))
        elif current or current_notes:
            paragraphs.append((current, current_notes))
            current, current_notes = [], []
    if current or current_notes:
        paragraphs.append((current, current_notes))
    # Inline notes are dropped; a paragraph of stray connectors and notes is a note paragraph.
    read = []
    for paragraph, paragraph_notes in paragraphs:
        if any(raw.strip() for _, raw in paragraph):
            read.append((paragraph, []))
        elif paragraph_notes:
            read.append(([], paragraph_notes))
    return read


def _cue(line: str, *, forced: bool) -> tuple[str, str, tuple[str, ...], bool] | None:
    """(text, name, extensions, dual) of a character cue line, or None when it is not one.

    Unforced cues must be uppercase outside their extensions and hold a cased letter.
    """
    dual = line.endswith("^")
    text = line[:-1].rstrip() if dual else line
    name = text.partition("(")[0].strip()
    if not name:
        return None
    if not forced:
        bare = _EXTENSION.sub("", text)
        if bare.upper() != bare or bare.lower() == bare:
            return None
    extensions = tuple(part.strip() for part in _EXTENSION.findall(text[len(name) :]))
    return text, name, extensions, dual


def _is_transition(line: str) -> bool:
    return line.endswith("TO:") and line.upper() == line


def _is_heading(line: str) -> bool:
    return _HEADING.match(line) is not None


class _Builder:
    """Appends elements to the preamble, then to each scene as headings arrive."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.elements = script.preamble

    def add(self, kind: Kind, text: str, line: int, **fields: Any) -> None:
        self.elements.append(Element(kind, text, line, **fields))

    def read_segment(self, segment: list[Line]) -> None:
        """Read lines that follow a blank line (or a line-level element) as paragraphs."""
        start = 0
        while start < len(segment):
            start = self._read_first(segment, start)

    def _read_first(self, segment: list[Line], start: int) -> int:
        """Read the element(s) opening at ``segment[start]``; return where the rest begins.

        Sections, synopses and forced headings and transitions take one line and leave the
        rest to be read as if a blank line followed them; anything else takes the rest.
        """
        number, raw = segment[start]
        first = raw.strip()
        mark = first[:1]
        if mark == "#":
            title = first.lstrip("#")
            self.add(Kind.SECTION, title.strip(), number, level=len(first) - len(title))
            return start + 1
        if mark == "=":
            self.add(Kind.SYNOPSIS, first[1:].strip(), number)
            return start + 1
        if mark == "." and not first.startswith("..") and first[1:].strip():
            self._scene(first[1:].strip(), number, forced=True)
            return start + 1
        if mark == ">" and not (len(first) > 1 and first.endswith("<")) and first[1:].strip():
            self.add(Kind.TRANSITION, first[1:].strip(), number, forced=True)
            return start + 1
        lines = segment[start:]
        if mark == "~":
            self._lyrics(lines)
        elif mark == "@" and (cue := _cue(first[1:].strip(), forced=True)):
            self._dialogue(number, cue, lines[1:], forced=True)
        elif mark in _MARKS:
            self._action(lines)
        elif len(lines) == 1 and _is_heading(first):
            self._scene(first, number, forced=False)
        elif len(lines) == 1 and _is_transition(first):
            self.add(Kind.TRANSITION, first, number)
        elif len(lines) > 1 and lines[1][1].strip() and (cue := _cue(first, forced=False)):
            self._dialogue(number, cue, lines[1:], forced=False)
        else:
            self._action(lines)
        return len(segment)

    def _scene(self, heading: str, line: int, *, forced: bool) -> None:
        number = None
        if found := _SCENE_NUMBER.search(heading):
            number = found.group(1)
            heading = heading[: found.start()].rstrip()
        scene = Scene(heading=heading, line=line, number=number, forced=forced)
        self.script.scenes.append(scene)
        self.elements = scene.elements

    def _action(self, segment: list[Line]) -> None:
        """Action lines, with runs of ``>centered<`` lines as CENTERED elements between them."""
        kind: Kind | None = None
        texts: list[str] = []
        start = 0
        forced = False
        for number, raw in segment:
            stripped = raw.strip()
            centered = None if stripped[:1] == "!" else _CENTERED.fullmatch(stripped)
            line_kind = Kind.CENTERED if centered else Kind.ACTION
            if line_kind is not kind:
                self._add_action(kind, texts, start, forced)
                kind, texts, start, forced = line_kind, [], number, stripped[:1] == "!"
            if centered:
                texts.append(centered.group(1).strip())
            else:
                # Action keeps its indentation (spec); a leading "!" only forces the line.
                text = raw.replace("!", "", 1) if stripped[:1] == "!" else raw
                texts.append(text.replace("\t", _TAB).rstrip())
        self._add_action(kind, texts, start, forced)

    def _add_action(self, kind: Kind | None, texts: list[str], line: int, forced: bool) -> None:
        # A bare "!" forces nothing worth keeping: an action with no text says nothing.
        if kind is Kind.CENTERED or (kind is Kind.ACTION and any(texts)):
            self.add(kind, "\n".join(texts), line, forced=forced)

    def _lyrics(self, segment: list[Line]) -> None:
        texts = [raw.strip().removeprefix("~").strip() for _, raw in segment]
        self.add(Kind.LYRICS, "\n".join(texts), segment[0][0], forced=True)

    def _dialogue(
        self, line: int, cue: tuple[str, str, tuple[str, ...], bool], body: list[Line], *, forced: bool
    ) -> None:
        text, name, extensions, dual = cue
        if dual:
            self._pair_with_previous_block()
        self.add(Kind.CHARACTER, text, line, character=name, extensions=extensions, dual=dual, forced=forced)
        kind: Kind | None = None
        texts: list[str] = []
        start = 0
        for number, raw in body:
            stripped = raw.strip()
            if raw == _CONNECTOR and kind is Kind.LYRICS:
                # An empty line inside a song (dialogue takes one as an empty dialogue line).
                texts.append("")
                continue
            if stripped.startswith("(") and stripped.endswith(")"):
                line_kind = Kind.PARENTHETICAL
            elif stripped.startswith("~"):
                line_kind, stripped = Kind.LYRICS, stripped[1:].strip()
            else:
                line_kind = Kind.DIALOGUE
            if kind is not None and (line_kind is not kind or line_kind is Kind.PARENTHETICAL):
                self.add(kind, "\n".join(texts), start, character=name, dual=dual)
                kind = None
            if kind is None:
                kind, texts, start = line_kind, [], number
            texts.append(stripped)
        if kind is not None:
            self.add(kind, "\n".join(texts), start, character=name, dual=dual)

    def _pair_with_previous_block(self) -> None:
        """Mark the dialogue block just before a ``^`` cue dual: it is the pair's first speaker."""
        index = len(self.elements) - 1
        while index >= 0 and self.elements[index].kind in SPOKEN:
            index -= 1
        if index < 0 or self.elements[index].kind is not Kind.CHARACTER:
            return
        name = self.elements[index].character
        if all(e.character == name for e in self.elements[index + 1 :]):
            self.elements[index:] = [replace(e, dual=True) for e in self.elements[index:]]


def write_fountain(script: Script) -> str:
    """Write ``script`` as Fountain that ``parse_fountain`` reads back to the same script.

    Title page first, then the preamble and the scenes, one blank line between paragraphs.
    """
    paragraphs: list[str] = []
    title_page = _write_title_page(script.title_page)
    if title_page:
        paragraphs.append(title_page)
    # Without a title page, a first paragraph that looks like "Key: value" must be forced.
    opening = not title_page
    parts: list[tuple[Scene | None, list[Element]]] = [(None, script.preamble)]
    for scene, elements in parts + [(scene, scene.elements) for scene in script.scenes]:
        if scene is not None:
            paragraphs.append(_write_heading(scene, opening=opening))
            opening = False
        for paragraph in _write_elements(elements, opening=opening):
            paragraphs.append(paragraph)
            opening = False
    return "\n\n".join(paragraphs) + "\n"


def _write_title_page(title_page: dict[str, str]) -> str:
    if not any(value.strip() for value in title_page.values()):
        return ""  # the reader would take a page of bare keys for action
    lines = []
    for key, value in title_page.items():
        values = [v.strip() for v in value.split("\n") if v.strip()]
        if len(values) == 1:
            lines.append(f"{key}: {values[0]}")
        else:
            lines.append(f"{key}:")
            lines.extend(_TAB + v for v in values)
    return "\n".join(lines)


def _looks_like_title_key(line: str) -> bool:
    return _TITLE_KEY.fullmatch(line) is not None


def _write_heading(scene: Scene, *, opening: bool) -> str:
    heading = scene.heading.strip()
    natural = _is_heading(heading) and not (opening and _looks_like_title_key(heading))
    number = f" #{scene.number}#" if scene.number else ""
    if natural and not scene.forced:
        return heading + number
    # ".." would read as an ellipsis, so a heading that starts with "." is set off by a space.
    return (". " if heading.startswith(".") else ".") + heading + number


def _write_elements(elements: list[Element], *, opening: bool) -> list[str]:
    """Paragraphs for a scene's (or the preamble's) elements, dialogue blocks kept whole."""
    units: list[list[Element]] = []
    for element in elements:
        block = units[-1] if units else None
        if (
            element.kind in SPOKEN
            and block
            and block[0].kind is Kind.CHARACTER
            and element.character == block[0].character
        ):
            block.append(element)
        else:
            units.append([element])
    paragraphs = []
    for unit, caret in zip(units, _carets(units)):
        if unit[0].kind is Kind.CHARACTER:
            paragraph = _write_block(unit, caret=caret, opening=opening)
        else:
            paragraph = _write_element(unit[0], opening=opening)
        if paragraph:
            paragraphs.append(paragraph)
            opening = False
    return paragraphs


def _carets(units: list[list[Element]]) -> list[bool]:
    """Which dialogue blocks get the ``^`` mark.

    The reader marks a ``^`` block and the block just before it dual, so a dual pair is
    written with the mark on its second block only; a dual block with no dual partner
    beside it carries the mark itself.
    """
    carets = []
    waiting = False  # the previous unit opens a dual pair and waits for its partner
    for index, unit in enumerate(units):
        caret = False
        if unit[0].kind is Kind.CHARACTER and unit[0].dual:
            following = units[index + 1][0] if index + 1 < len(units) else None
            if waiting:
                caret, waiting = True, False
            elif following is not None and following.kind is Kind.CHARACTER and following.dual:
                waiting = True
            else:
                caret = True
        else:
            waiting = False
        carets.append(caret)
    return carets


def _write_block(block: list[Element], *, caret: bool, opening: bool) -> str:
    cue, spoken = block[0], block[1:]
    body: list[str] = []
    for element in spoken:
        if element.kind is Kind.PARENTHETICAL:
            body.append(_one_line(element.text))
        elif element.kind is Kind.LYRICS:
            body.extend("~" + line.strip() for line in element.text.split("\n"))
        else:
            body.extend(line.strip() or _CONNECTOR for line in element.text.split("\n"))
    text = cue.text.strip() or " ".join([cue.character, *(f"({x})" for x in cue.extensions)])
    # "@" for a cue the reader would not take as one: mixed case, a leading mark, no
    # dialogue after it, or a first line that would read as a title page key.
    plain = (
        not cue.forced
        and bool(body)
        and bool(body[0].strip())
        and text[:1] not in _MARKS
        and _cue(text, forced=False) is not None
        and not (opening and _looks_like_title_key(text))
    )
    return "\n".join([("" if plain else "@") + text + (" ^" if caret else ""), *body])


def _write_element(element: Element, *, opening: bool) -> str:
    text = element.text
    if element.kind is Kind.ACTION:
        return _write_action(element, opening=opening)
    if element.kind is Kind.CENTERED:
        return "\n".join(f"> {line.strip()} <" for line in text.split("\n"))
    if element.kind is Kind.TRANSITION:
        line = _one_line(text)
        if not line:
            return ""  # Fountain has no empty transition; ">" alone is action
        natural = (
            _is_transition(line)
            and line[:1] not in _MARKS
            and not _is_heading(line)
            and not (opening and _looks_like_title_key(line))
        )
        return line if natural and not element.forced else "> " + line
    if element.kind is Kind.PAGE_BREAK:
        return "==="
    if element.kind is Kind.SECTION:
        return "#" * max(element.level, 1) + " " + _one_line(text)
    if element.kind is Kind.SYNOPSIS:
        return "= " + _one_line(text)
    if element.kind is Kind.NOTE:
        return "[[" + "\n".join(line.strip() or _CONNECTOR for line in text.split("\n")) + "]]"
    if element.kind is Kind.LYRICS:
        return "\n".join("~" + line.strip() for line in text.split("\n"))
    # Dialogue or a parenthetical without a cue (possible from FDX): Fountain has only action.
    return _write_action(replace(element, kind=Kind.ACTION), opening=opening)


def _one_line(text: str) -> str:
    """Text for a one-line element; Fountain cannot break these across lines."""
    return " ".join(line.strip() for line in text.strip().split("\n"))


def _write_action(element: Element, *, opening: bool) -> str:
    lines = [line.replace("\t", _TAB).rstrip() for line in element.text.split("\n")]
    if not any(lines):
        return ""
    first = lines[0].strip()
    force_first = (
        element.forced
        or first[:1] in _MARKS
        or (len(lines) == 1 and (_is_heading(first) or _is_transition(first)))
        or (len(lines) > 1 and bool(lines[1].strip()) and _cue(first, forced=False) is not None)
        or (opening and _looks_like_title_key(lines[0]))
    )
    written = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        # Inside a paragraph only "!", centered text and page breaks mean something.
        force = (
            force_first
            if index == 0
            else (stripped[:1] == "!" or bool(_CENTERED.fullmatch(stripped) or _PAGE_BREAK.fullmatch(stripped)))
        )
        written.append(("!" if force else "") + (line or _CONNECTOR))
    return "\n".join(written)
