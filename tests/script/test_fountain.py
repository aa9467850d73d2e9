"""The Fountain reader and writer: each piece of Fountain 1.1 syntax, then the real screenplays."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundstage.errors import ScriptError
from soundstage.script.fountain import parse_fountain, write_fountain
from soundstage.script.model import SPOKEN, Element, Kind, Scene, Script
from soundstage.script.source import read_text

from conftest import SCREENPLAYS

FOUNTAIN_FILES = sorted(SCREENPLAYS.glob("*.fountain"))


def parse(*lines: str) -> Script:
    return parse_fountain("\n".join(lines), "test.fountain")


def body(script: Script) -> list[Element]:
    return script.preamble + [e for scene in script.scenes for e in scene.elements]


def kinds(elements: list[Element]) -> list[tuple[Kind, str]]:
    return [(e.kind, e.text) for e in elements]


def shape(script: Script) -> tuple[object, ...]:
    """What a round trip must keep."""

    def elements(items: list[Element]) -> list[tuple[object, ...]]:
        return [(e.kind, e.text, e.character, e.extensions, e.dual, e.level) for e in items]

    return (
        script.title_page,
        elements(script.preamble),
        [(s.heading, s.number, elements(s.elements)) for s in script.scenes],
    )


def read(name: str) -> tuple[Script, list[str]]:
    path = SCREENPLAYS / name
    text = read_text(path)
    return parse_fountain(text, str(path)), text.split("\n")


# --- title page -------------------------------------------------------------------------


def test_title_page_inline_and_indented_values() -> None:
    script = parse(
        "Title:",
        "\t_**THE LONG TAKE**_",
        "    a comedy",
        "Credit: written by",
        "Author: Ana Ortiz",
        "Draft date: 2024-05-01",
        "",
        "INT. ATTIC - DAY",
    )
    assert script.title_page == {
        "Title": "_**THE LONG TAKE**_\na comedy",
        "Credit": "written by",
        "Author": "Ana Ortiz",
        "Draft date": "2024-05-01",
    }
    assert script.title == "THE LONG TAKE a comedy"
    assert script.scenes[0].line == 8


def test_no_title_page() -> None:
    script = parse("INT. ATTIC - DAY", "", "Dust everywhere.")
    assert script.title_page == {}
    assert script.scenes[0].elements == [Element(Kind.ACTION, "Dust everywhere.", 3)]


def test_a_bare_fade_in_is_not_a_title_page() -> None:
    script = parse("FADE IN:", "", "INT. ATTIC - DAY")
    assert script.title_page == {}
    assert kinds(script.preamble) == [(Kind.ACTION, "FADE IN:")]


# --- scene headings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "heading",
    [
        "INT. ATTIC - DAY",
        "EXT. ROOF - NIGHT",
        "EST. CITY",
        "INT./EXT. CAR",
        "INT/EXT CAR",
        "I/E CAR",
        "int. attic - day",
    ],
)
def test_scene_heading_prefixes(heading: str) -> None:
    script = parse("Before.", "", heading, "", "After.")
    assert [s.heading for s in script.scenes] == [heading]
    assert kinds(script.preamble) == [(Kind.ACTION, "Before.")]
    assert script.scenes[0].line == 3


def test_heading_needs_a_blank_line_after_it_except_at_the_end() -> None:
    assert parse("INT. ATTIC - DAY", "Dust everywhere.").scenes == []
    assert [s.heading for s in parse("Dust.", "", "INT. ATTIC - DAY").scenes] == ["INT. ATTIC - DAY"]


def test_words_that_only_start_like_a_heading_are_action() -> None:
    script = parse("INTERIOR DESIGN is his passion.", "", "ESTABLISHING SHOT")
    assert script.scenes == []
    assert [e.kind for e in script.preamble] == [Kind.ACTION, Kind.ACTION]


def test_forced_heading_but_not_an_ellipsis() -> None:
    script = parse(".FLASHBACK", "", "...and then silence.")
    assert script.scenes[0].heading == "FLASHBACK"
    assert script.scenes[0].forced
    assert kinds(script.scenes[0].elements) == [(Kind.ACTION, "...and then silence.")]


def test_scene_numbers() -> None:
    script = parse("INT. ATTIC - DAY #12A#", "", "EXT. ROOF - NIGHT #I-1-A#", "", ".DREAM #3#", "", "INT. HALL - DAY")
    assert [(s.heading, s.number) for s in script.scenes] == [
        ("INT. ATTIC - DAY", "12A"),
        ("EXT. ROOF - NIGHT", "I-1-A"),
        ("DREAM", "3"),
        ("INT. HALL - DAY", None),
    ]


# --- action -----------------------------------------------------------------------------


def test_action_keeps_line_breaks_and_indentation() -> None:
    script = parse("INT. ATTIC - DAY", "", "A trunk.", "\tA lid creaks.", "  ", "  Silence.")
    assert kinds(script.scenes[0].elements) == [(Kind.ACTION, "A trunk.\n    A lid creaks.\n\n  Silence.")]


def test_forced_action() -> None:
    script = parse("!INT. IS SHORT FOR INTERIOR", "", "!SCREAMING", "Into the night.")
    assert kinds(script.preamble) == [
        (Kind.ACTION, "INT. IS SHORT FOR INTERIOR"),
        (Kind.ACTION, "SCREAMING\nInto the night."),
    ]
    assert all(e.forced for e in script.preamble)
    assert script.scenes == []


# --- dialogue ---------------------------------------------------------------------------


def test_dialogue_block() -> None:
    script = parse(
        "INT. ATTIC - DAY",
        "",
        "MAYA (V.O.)",
        "(quietly)",
        "I kept everything.",
        "Every letter.",
        "(beat)",
        "Even yours.",
    )
    assert [(e.kind, e.text, e.character) for e in script.scenes[0].elements] == [
        (Kind.CHARACTER, "MAYA (V.O.)", "MAYA"),
        (Kind.PARENTHETICAL, "(quietly)", "MAYA"),
        (Kind.DIALOGUE, "I kept everything.\nEvery letter.", "MAYA"),
        (Kind.PARENTHETICAL, "(beat)", "MAYA"),
        (Kind.DIALOGUE, "Even yours.", "MAYA"),
    ]
    assert [e.line for e in script.scenes[0].elements] == [3, 4, 5, 7, 8]
    assert script.scenes[0].elements[0].extensions == ("V.O.",)


def test_extensions_with_and_without_spaces() -> None:
    script = parse("MAYA (V.O.)(CONT'D)", "Still here.", "", "DR. OKAFOR (O.S.) (cont'd)", "Hello?")
    cues = [e for e in script.preamble if e.kind is Kind.CHARACTER]
    assert [(c.character, c.extensions) for c in cues] == [
        ("MAYA", ("V.O.", "CONT'D")),
        ("DR. OKAFOR", ("O.S.", "cont'd")),
    ]


def test_character_rules() -> None:
    # A cue is uppercase with a letter, after a blank line, with a line after it.
    script = parse(
        "R2D2", "Beep.", "", "1984", "A year.", "", "Maya", "Not a cue.", "", "ALONE", "", "A door.", "NOT A CUE", "X."
    )
    assert [e.kind for e in script.preamble] == [
        Kind.CHARACTER,
        Kind.DIALOGUE,
        Kind.ACTION,
        Kind.ACTION,
        Kind.ACTION,
        Kind.ACTION,
    ]


def test_forced_character_allows_mixed_case() -> None:
    script = parse("@McCLANE", "Yippee.")
    assert [(e.kind, e.character) for e in script.preamble] == [(Kind.CHARACTER, "McCLANE"), (Kind.DIALOGUE, "McCLANE")]
    assert script.preamble[0].forced


def test_two_spaces_keep_dialogue_together() -> None:
    script = parse("MAYA", "First verse.", "  ", "Second verse.")
    assert kinds(script.preamble)[1:] == [(Kind.DIALOGUE, "First verse.\n\nSecond verse.")]


def test_lyrics_inside_and_outside_dialogue() -> None:
    script = parse("MAYA", "~Row, row, row", "  ", "~your boat", "", "~Gently down the stream")
    assert [(e.kind, e.text, e.character) for e in script.preamble] == [
        (Kind.CHARACTER, "MAYA", "MAYA"),
        (Kind.LYRICS, "Row, row, row\n\nyour boat", "MAYA"),
        (Kind.LYRICS, "Gently down the stream", ""),
    ]


def test_dual_dialogue_marks_both_speakers() -> None:
    script = parse("MAYA", "Now!", "", "TOM ^", "(shouting)", "Now!", "", "Quiet.", "", "MAYA", "Again.")
    assert [(e.kind, e.character, e.dual) for e in script.preamble] == [
        (Kind.CHARACTER, "MAYA", True),
        (Kind.DIALOGUE, "MAYA", True),
        (Kind.CHARACTER, "TOM", True),
        (Kind.PARENTHETICAL, "TOM", True),
        (Kind.DIALOGUE, "TOM", True),
        (Kind.ACTION, "", False),
        (Kind.CHARACTER, "MAYA", False),
        (Kind.DIALOGUE, "MAYA", False),
    ]
    assert script.preamble[2].text == "TOM"


def test_indented_dialogue_reads_as_dialogue() -> None:
    script = parse("\t\t\tMAYA", "\t\t(softly)", "\tGo.", "", "\t\t\t\tCUT TO:")
    assert kinds(script.preamble) == [
        (Kind.CHARACTER, "MAYA"),
        (Kind.PARENTHETICAL, "(softly)"),
        (Kind.DIALOGUE, "Go."),
        (Kind.TRANSITION, "CUT TO:"),
    ]


# --- transitions, centered, page breaks --------------------------------------------------


def test_transitions() -> None:
    script = parse("CUT TO:", "", "> FADE TO BLACK.", "", "Cut to:", "", "SMASH CUT TO:", "More action.")
    assert [(e.kind, e.text, e.forced) for e in script.preamble] == [
        (Kind.TRANSITION, "CUT TO:", False),
        (Kind.TRANSITION, "FADE TO BLACK.", True),
        (Kind.ACTION, "Cut to:", False),
        # Uppercase with a line under it: by the rules a character cue, not a transition.
        (Kind.CHARACTER, "SMASH CUT TO:", False),
        (Kind.DIALOGUE, "More action.", False),
    ]


def test_centered_text() -> None:
    script = parse("> THE END <", "", ">Written by<", ">a crew<", "", "!>not centered<")
    assert kinds(script.preamble) == [
        (Kind.CENTERED, "THE END"),
        (Kind.CENTERED, "Written by\na crew"),
        (Kind.ACTION, ">not centered<"),
    ]


def test_page_break_even_right_after_dialogue() -> None:
    script = parse("MAYA", "Goodbye.", "===", "", "INT. ATTIC - DAY", "", "=====")
    assert kinds(script.preamble) == [(Kind.CHARACTER, "MAYA"), (Kind.DIALOGUE, "Goodbye."), (Kind.PAGE_BREAK, "")]
    assert kinds(script.scenes[0].elements) == [(Kind.PAGE_BREAK, "")]
    assert script.preamble[2].line == 3


# --- sections, synopses, notes, boneyard -------------------------------------------------


def test_sections_and_synopses() -> None:
    script = parse("# Act One", "", "## The attic", "= Maya finds the letters.", "", "INT. ATTIC - DAY")
    assert [(e.kind, e.text, e.level) for e in script.preamble] == [
        (Kind.SECTION, "Act One", 1),
        (Kind.SECTION, "The attic", 2),
        (Kind.SYNOPSIS, "Maya finds the letters.", 0),
    ]
    assert [e.line for e in script.preamble] == [1, 3, 4]


def test_notes() -> None:
    script = parse(
        "INT. ATTIC - DAY [[check the set]]",
        "",
        "Maya [[or Tom?]] opens the trunk.",
        "",
        "[[A note on",
        "two lines]]",
        "",
        "[[Not a note",
        "",
        "because a blank line]] came.",
    )
    scene = script.scenes[0]
    assert scene.heading == "INT. ATTIC - DAY"
    assert [(e.kind, e.text, e.line) for e in scene.elements] == [
        (Kind.ACTION, "Maya  opens the trunk.", 3),
        (Kind.NOTE, "A note on\ntwo lines", 5),
        (Kind.ACTION, "[[Not a note", 8),
        (Kind.ACTION, "because a blank line]] came.", 10),
    ]


def test_boneyard_is_removed_and_lines_still_count() -> None:
    script = parse(
        "/* An old opening",
        "",
        "that was cut. */",
        "INT. ATTIC - DAY",
        "",
        "Maya /* quickly */ opens the trunk.",
        "/* a whole line */",
        "It is empty.",
        "",
        "MAYA",
        "Nothing.",
    )
    assert script.scenes[0].line == 4
    assert [(e.kind, e.text, e.line) for e in script.scenes[0].elements] == [
        (Kind.ACTION, "Maya  opens the trunk.\nIt is empty.", 6),
        (Kind.CHARACTER, "MAYA", 10),
        (Kind.DIALOGUE, "Nothing.", 11),
    ]


def test_unclosed_boneyard_is_an_error_at_the_line_it_opens() -> None:
    with pytest.raises(ScriptError) as caught:
        parse("INT. ATTIC - DAY", "", "Maya waits.", "/* and then", "she")
    assert caught.value.line == 4
    assert str(caught.value).startswith("test.fountain:4: ")


# --- text -------------------------------------------------------------------------------


def test_emphasis_is_kept_and_plain_strips_it() -> None:
    script = parse("She is *very* **bold** and _underlined_, 5 \\* 3.")
    action = script.preamble[0]
    assert action.text == "She is *very* **bold** and _underlined_, 5 \\* 3."
    assert action.plain == "She is very bold and underlined, 5 * 3."


def test_windows_line_ends_in_text() -> None:
    text = "INT. ATTIC - DAY\r\n\r\nMAYA\r\nHello.\r\n"
    assert parse_fountain(text) == parse_fountain(text.replace("\r\n", "\n"))


# --- writer -----------------------------------------------------------------------------


def test_writer_forces_what_would_read_otherwise() -> None:
    scene = Scene(
        heading="THE DREAM",
        line=1,
        number="7",
        elements=[
            Element(Kind.ACTION, "INT. IS WHAT THEY CALL IT", 2),
            Element(Kind.ACTION, "LOUD\nnoises.", 3),
            Element(Kind.CHARACTER, "McCLANE", 4, character="McCLANE"),
            Element(Kind.DIALOGUE, "Hi.\n\nBye.", 5, character="McCLANE"),
            Element(Kind.TRANSITION, "FADE OUT.", 6),
            Element(Kind.ACTION, "> not centered <", 7),
            Element(Kind.CENTERED, "THE END", 8),
        ],
    )
    script = Script(title_page={"Title": "Dream\nA short"}, scenes=[scene])
    written = write_fountain(script)
    assert written.split("\n\n") == [
        "Title:\n    Dream\n    A short",
        ".THE DREAM #7#",
        "!INT. IS WHAT THEY CALL IT",
        "!LOUD\nnoises.",
        "@McCLANE\nHi.\n  \nBye.",
        "> FADE OUT.",
        "!> not centered <",
        "> THE END <\n",
    ]
    assert shape(parse_fountain(written)) == shape(script)


def test_writer_marks_the_second_speaker_of_a_dual_pair() -> None:
    elements = [
        Element(Kind.CHARACTER, "MAYA", 1, character="MAYA", dual=True),
        Element(Kind.DIALOGUE, "Now!", 2, character="MAYA", dual=True),
        Element(Kind.CHARACTER, "TOM", 3, character="TOM", dual=True),
        Element(Kind.DIALOGUE, "Now!", 4, character="TOM", dual=True),
    ]
    written = write_fountain(Script(preamble=elements))
    assert written == "MAYA\nNow!\n\nTOM ^\nNow!\n"
    assert shape(parse_fountain(written)) == shape(Script(preamble=elements))


def test_writer_forces_an_opening_that_looks_like_a_title_page() -> None:
    script = Script(preamble=[Element(Kind.ACTION, "Note: this is action.", 1)])
    assert write_fountain(script) == "!Note: this is action.\n"
    assert shape(parse_fountain(write_fountain(script))) == shape(script)


# --- the real screenplays ---------------------------------------------------------------


def test_big_fish() -> None:
    script, lines = read("big_fish.fountain")
    assert len(script.scenes) == 190
    speakers = {e.character for e in body(script) if e.kind is Kind.CHARACTER}
    assert {"EDWARD", "WILL"} <= speakers
    assert script.title == "Big Fish"
    assert script.preamble, "the opening before the first heading is kept"
    # Every heading is its source line (none are forced or numbered in this script).
    assert all(lines[s.line - 1].strip() == s.heading for s in script.scenes)


def test_every_element_starts_on_its_source_line() -> None:
    script, lines = read("big_fish.fountain")
    for element in body(script):
        source = lines[element.line - 1]
        if element.kind is Kind.PAGE_BREAK:
            assert source.startswith("===")
        else:
            assert element.text.split("\n")[0].strip() in source, element
    for element in body(script):
        if element.kind in SPOKEN:
            assert element.character


def test_brick_and_steel() -> None:
    script, lines = read("brick_and_steel.fountain")
    assert list(script.title_page) == ["Title", "Credit", "Author", "Source", "Draft date", "Contact"]
    assert len(script.title_page["Contact"].split("\n")) == 3
    assert len(script.title_page["Title"].split("\n")) == 2
    # One dual pair: the "^" cue and the block just before it.
    cues = [e for e in body(script) if e.kind is Kind.CHARACTER]
    dual = [c for c in cues if c.dual]
    assert len(dual) == 2
    assert lines[dual[1].line - 1].rstrip().endswith("^")
    assert not lines[dual[0].line - 1].rstrip().endswith("^")
    assert all(e.dual for e in body(script) if e.kind in SPOKEN and e.line in range(dual[0].line, dual[1].line + 2))
    assert sum(s.forced for s in script.scenes) == 2
    # The tab-indented block reads as cue, parenthetical, dialogue and transition.
    indented = [e for e in body(script) if lines[e.line - 1].startswith("\t")]
    assert {e.kind for e in indented} == {Kind.CHARACTER, Kind.PARENTHETICAL, Kind.DIALOGUE, Kind.TRANSITION}
    assert [e.kind for e in body(script)].count(Kind.CENTERED) == 3


@pytest.mark.parametrize("n", range(1, 7))
def test_samples(n: int) -> None:
    script, _ = read(f"sample-0{n}.fountain")
    assert script.scenes
    assert all(s.elements for s in script.scenes)
    assert bool(script.title_page) == (n != 1)


def test_sample_page_break_after_dialogue() -> None:
    script, _ = read("sample-06.fountain")
    breaks = [i for i, s in enumerate(script.scenes) if any(e.kind is Kind.PAGE_BREAK for e in s.elements)]
    assert breaks == [1]
    assert script.scenes[1].elements[-2].kind is Kind.DIALOGUE


@pytest.mark.parametrize("path", FOUNTAIN_FILES, ids=lambda p: p.name)
def test_round_trip(path: Path) -> None:
    script = parse_fountain(read_text(path), str(path))
    written = write_fountain(script)
    again = parse_fountain(written)
    assert shape(again) == shape(script)
    assert write_fountain(again) == written
