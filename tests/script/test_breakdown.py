"""Scene breakdown: headings, cast, props and sounds, on snippets and on a feature."""

from __future__ import annotations

import pytest

from soundstage.script.breakdown import break_down, parse_heading
from soundstage.script.fountain import parse_fountain
from soundstage.script.model import Element, Kind, Scene, Script
from soundstage.script.source import read_text

from conftest import SCREENPLAYS


@pytest.fixture(scope="module")
def big_fish() -> Script:
    path = SCREENPLAYS / "big_fish.fountain"
    return parse_fountain(read_text(path), str(path))


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("INT. KITCHEN - NIGHT", ("INT", "KITCHEN", "NIGHT")),
        ("INT.  WILL'S BEDROOM - NIGHT (1973)", ("INT", "WILL'S BEDROOM", "NIGHT")),
        ("EXT. APPROACHING THE HOUSE", ("EXT", "APPROACHING THE HOUSE", "")),
        ("INT./EXT. CAR - MOVING - DAY", ("INT/EXT", "CAR - MOVING", "DAY")),
        ("EXT/INT. BARN - ANOTHER DAY", ("INT/EXT", "BARN", "ANOTHER DAY")),
        ("I/E VAN - DAWN", ("INT/EXT", "VAN", "DAWN")),
        ("EST. CITY SKYLINE - DUSK", ("EXT", "CITY SKYLINE", "DUSK")),
        ("int. hall - moments later", ("INT", "hall", "MOMENTS LATER")),
        ("EXT. FIELD - [THE NEXT] MORNING", ("EXT", "FIELD", "MORNING")),
        ("EXT. ROAD - DAY / DRIVING", ("EXT", "ROAD", "DAY")),
        ("INT. STUDY - NIGHT [CONTINUOUS]", ("INT", "STUDY", "NIGHT")),
        ("INT. OFFICE — CONTINUOUS", ("INT", "OFFICE", "CONTINUOUS")),
        ("EXT. SHORE - PRE-DAWN", ("EXT", "SHORE", "PRE-DAWN")),
        (".FLASHBACK", ("", "FLASHBACK", "")),
        ("FLASHBACK", ("", "FLASHBACK", "")),
        ("INTERCUT - SAME", ("", "INTERCUT", "SAME")),
        ("EXT. HOUSE - THE DOORWAY", ("EXT", "HOUSE - THE DOORWAY", "")),
        ("EXT. BY THE RIVER - NIGHT - CONTINUOUS", ("EXT", "BY THE RIVER", "NIGHT - CONTINUOUS")),
        ("INT. CAR - NIGHT - [THE STORM]", ("INT", "CAR", "NIGHT")),
        (".LATER", ("", "", "LATER")),
    ],
)
def test_parse_heading(heading, expected):
    assert parse_heading(heading) == expected


def _script(*scenes: list[Element]) -> Script:
    return Script(scenes=[Scene(heading="INT. HALL - DAY", line=1, elements=e) for e in scenes])


def _action(text: str) -> Element:
    return Element(Kind.ACTION, text, 2)


def _says(name: str, line: str, *extensions: str) -> list[Element]:
    cue = " ".join([name, *(f"({e})" for e in extensions)])
    return [
        Element(Kind.CHARACTER, cue, 3, character=name, extensions=extensions),
        Element(Kind.DIALOGUE, line, 4, character=name),
    ]


def test_speaking_characters_in_order_of_first_line_without_extensions():
    (sheet,) = break_down(_script([*_says("EDWARD", "Hi.", "V.O."), *_says("WILL", "Dad."), *_says("EDWARD", "Son.")]))
    assert sheet.speaking == ("EDWARD", "WILL")
    assert (sheet.int_ext, sheet.location, sheet.time_of_day) == ("INT", "HALL", "DAY")


def test_people_props_and_sounds_in_action():
    (sheet, later) = break_down(
        _script(
            [
                _action(
                    "PIP HOLLOWAY, AGE 9, listens as her grandfather OSWIN GREY, 70's, reads. "
                    "Pip sits with the other HARBOUR GUIDES. Her mother JUNO smiles. A DOORBELL RINGS. "
                    "Oswin holds up a BRASS KEY. The door SLAMS."
                ),
                _action("CLOSE ON the KEY. ANGLE ON PIP."),
                _action("BZZZZ. The phone is NOT for her. A clock goes TICK-TOCK."),
                *_says("OSWIN", "Brass."),
            ],
            _says("JUNO", "Pip?"),
        )
    )
    assert sheet.speaking == ("OSWIN",)
    # OSWIN GREY speaks here (as OSWIN); JUNO speaks in a later scene, so she is a person.
    assert sheet.non_speaking == ("PIP HOLLOWAY", "HARBOUR GUIDES", "JUNO")
    assert sheet.props == ("BRASS KEY",)  # the KEY in the close-up is the same key
    assert sheet.sounds == ("DOORBELL RINGS", "SLAMS", "BZZZZ", "TICK-TOCK")
    assert later.speaking == ("JUNO",)


def test_shots_written_in_capitals_give_only_sounds():
    (sheet,) = break_down(_script([_action("ON PIP AND JUNO"), _action("THE HARBOUR."), _action("THUNDER CRASHES.")]))
    assert (sheet.non_speaking, sheet.props, sheet.sounds) == ((), (), ("THUNDER CRASHES",))


def test_person_words_make_people_and_the_rest_props():
    (sheet,) = break_down(_script([_action("Two TEENAGE GIRLS pass a MAILBOX. MR. SOGGY waves a LANTERN.")]))
    assert sheet.non_speaking == ("TEENAGE GIRLS", "MR. SOGGY")
    assert sheet.props == ("MAILBOX", "LANTERN")


def test_big_fish_breakdown(big_fish):
    sheets = break_down(big_fish)
    assert len(sheets) == 190
    assert [s.index for s in sheets] == list(range(190))
    assert all(s.eighths >= 1 for s in sheets)
    speakers = {name for s in sheets for name in s.speaking}
    assert "EDWARD" in speakers
    assert all("(" not in name for name in speakers)

    bedroom = next(s for s in sheets if "WILL'S BEDROOM" in s.heading)
    assert (bedroom.int_ext, bedroom.location, bedroom.time_of_day) == ("INT", "WILL'S BEDROOM", "NIGHT")
    assert bedroom.speaking == ("EDWARD",)
    assert "WILL BLOOM" in bedroom.non_speaking
    assert not any(name.startswith("EDWARD") for name in bedroom.non_speaking)  # he speaks, as EDWARD

    campfire = next(s for s in sheets if "CAMPFIRE" in s.heading)
    assert (campfire.int_ext, campfire.time_of_day) == ("EXT", "NIGHT")
    assert "INDIAN GUIDES" in campfire.non_speaking

    assert sum(s.int_ext == "INT" for s in sheets) > 80
    assert sum(s.int_ext == "EXT" for s in sheets) > 80
    assert sum(s.time_of_day == "DAY" for s in sheets) > 90


def test_sound_verbs_with_a_silent_e_are_sounds_in_every_form():
    script = parse_fountain(
        "INT. WORKSHOP - NIGHT\n\nA kettle starts WHISTLING. The shutters are RATTLING. A clock CHIMED.\n"
    )
    sheet = break_down(script)[0]
    assert {"WHISTLING", "RATTLING", "CHIMED"} <= set(sheet.sounds)
    assert not {"WHISTLING", "RATTLING", "CHIMED"} & set(sheet.props)
