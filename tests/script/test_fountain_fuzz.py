"""Property tests for the Fountain reader and writer on generated text.

The reader must take any text without failing other than with ``ScriptError`` and give
every element a line inside the file; the writer must write any script the reader makes so
that the reader reads it back the same.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from soundstage.errors import ScriptError
from soundstage.script.fountain import parse_fountain, write_fountain
from soundstage.script.model import Element, Script

# Lines in the shapes Fountain gives meaning to, written for these tests.
FRAGMENTS = [
    "",
    "",
    "",
    "  ",
    "Title: The Long Take",
    "Draft date: 2024",
    "    indented value",
    "INT. ATTIC - DAY",
    "EXT. ROOF - NIGHT #12A#",
    "int./ext. car - dusk",
    "I/E VAN",
    ".FLASHBACK",
    "...and then",
    "MAYA",
    "MAYA (V.O.)(CONT'D)",
    "TOM ^",
    "@McCLANE",
    "@Tom (o.s.) ^",
    "(quietly)",
    "\t\t(beat)",
    "I kept everything.",
    "\tIndented line.",
    "~Row, row, row",
    "CUT TO:",
    "> FADE OUT.",
    "> THE END <",
    "!> not centered <",
    "!INT. FORCED ACTION",
    "===",
    "# Act One",
    "### Scene group",
    "= A synopsis.",
    "[[a note]]",
    "Inline [[note]] here.",
    "[[a note that",
    "spans lines]]",
    "/* boneyard",
    "boneyard ends */",
    "She is *very* **bold**, _under_ and 5 \\* 3.",
    "FADE IN:",
    "Caf\u00e9 \u00e0 R\u00e9n\u00e9",
    "!",
    ".",
    "@",
    ">",
    "^",
    "~",
    "#",
    "=",
    "(",
    ")",
]
line = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.text(alphabet="aB\u00e9 .:#=!@~>()<^[]/*\t\\_1", max_size=12),
    st.lists(st.sampled_from([*FRAGMENTS, "[[", "]]", "/*", "*/", "a", "B"]), max_size=3).map("".join),
)
fountainish = st.lists(line, max_size=50).map("\n".join)
any_text = st.text(max_size=400)


def elements(script: Script) -> list[Element]:
    return script.preamble + [e for scene in script.scenes for e in scene.elements]


def check_lines(script: Script, text: str) -> None:
    """Every scene and element starts on a line of the file that has something on it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    starts = [s.line for s in script.scenes] + [e.line for e in elements(script)]
    for start in starts:
        assert 1 <= start <= len(lines)
        assert lines[start - 1].strip() or lines[start - 1] == "  "


def parse_or_none(text: str) -> Script | None:
    try:
        return parse_fountain(text, "generated.fountain")
    except ScriptError as error:
        assert error.line is not None and error.path == "generated.fountain"
        return None


def shape(script: Script) -> tuple[object, ...]:
    def items(elements: list[Element]) -> list[tuple[object, ...]]:
        return [(e.kind, e.text, e.character, e.extensions, e.dual, e.level) for e in elements]

    return (
        script.title_page,
        items(script.preamble),
        [(s.heading, s.number, items(s.elements)) for s in script.scenes],
    )


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    script = parse_or_none(text)
    if script is not None:
        check_lines(script, text)


@settings(max_examples=800, deadline=None)
@given(fountainish)
def test_fountainish_text_parses_or_fails_cleanly(text: str) -> None:
    script = parse_or_none(text)
    if script is not None:
        check_lines(script, text)


@settings(max_examples=800, deadline=None)
@given(fountainish)
def test_round_trip(text: str) -> None:
    script = parse_or_none(text)
    assume(script is not None)
    assert script is not None
    # Fountain has no escape for "[[" and "/*": text that keeps them cannot be written back.
    texts = [*script.title_page.values(), *(s.heading for s in script.scenes), *(e.text for e in elements(script))]
    assume(not any("[[" in t or "/*" in t for t in texts))
    written = write_fountain(script)
    again = parse_fountain(written)
    assert shape(again) == shape(script)
    assert write_fountain(again) == written
