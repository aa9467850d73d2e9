"""Reading and writing Final Draft (.fdx) screenplays."""

from __future__ import annotations

import pytest
from lxml import etree

from soundstage.errors import ScriptError
from soundstage.script.fdx import parse_fdx, split_cue, write_fdx
from soundstage.script.fountain import parse_fountain
from soundstage.script.model import PRINTED, Element, Kind, Scene, Script
from soundstage.script.source import read_text

from conftest import SCREENPLAYS

SAMPLES = sorted(SCREENPLAYS.glob("sample-*.fdx"))


def _sample(n: int) -> Script:
    path = SCREENPLAYS / f"sample-0{n}.fdx"
    return parse_fdx(path.read_bytes(), str(path))


def _document(content: str, title_page: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<FinalDraft DocumentType="Script" Version="5"><Content>{content}</Content>{title_page}</FinalDraft>'
    ).encode()


def _shape(scene: Scene) -> list[tuple[Kind, str, str, tuple[str, ...], bool]]:
    return [(e.kind, e.text, e.character, e.extensions, e.dual) for e in scene.elements]


def test_every_sample_is_found():
    assert [p.name for p in SAMPLES] == [f"sample-0{n}.fdx" for n in range(1, 7)]


@pytest.mark.parametrize(
    ("n", "headings", "saved"),
    [
        (1, ["EXT. LIBRARY - DAY"], [2]),
        (2, ["EXT. INDUSTRIAL PARK - DAY", "INT. OFFICE - NIGHT", "EXT. COURTYARD - DAY"], [2, 2, 2]),
        (3, ["INT. STUDIO APARTMENT - NIGHT"], [2]),
        (4, ["INT. STUDIO APARTMENT - NIGHT", "EXT. PARK - DAY"], [2, 4]),
        (5, ["EXT. APARTMENT - DAY", "EXT. PARK - DAY"], [2, 3]),
        (6, ["INT. STUDIO APARTMENT - NIGHT", "EXT. PARK - DAY", "INT. STUDIO APARTMENT - NEXT DAY"], [2, 3, 2]),
    ],
)
def test_samples_give_their_scenes_and_saved_lengths(n, headings, saved):
    script = _sample(n)
    assert script.format == "fdx"
    assert script.source.endswith(f"sample-0{n}.fdx")
    assert [s.heading for s in script.scenes] == headings
    assert [s.saved_eighths for s in script.scenes] == saved


def test_sample_elements_kinds_speakers_and_lines():
    park = _sample(4).scenes[1]
    assert [(e.kind, e.character) for e in park.elements] == [
        (Kind.ACTION, ""),
        (Kind.CHARACTER, "DOG"),
        (Kind.DIALOGUE, "DOG"),
        (Kind.CHARACTER, "AUTHOR"),
        (Kind.PARENTHETICAL, "AUTHOR"),
        (Kind.DIALOGUE, "AUTHOR"),
        (Kind.CHARACTER, "DOG"),
        (Kind.DIALOGUE, "DOG"),
        (Kind.TRANSITION, ""),
        (Kind.CENTERED, ""),  # Action paragraph with Alignment="Center"
    ]
    assert park.elements[5].text == "You spoke?"
    # Lines are those of the <Paragraph> elements, increasing through the file.
    lines = [park.line] + [e.line for e in park.elements]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    source = (SCREENPLAYS / "sample-04.fdx").read_text().splitlines()
    assert "<Paragraph" in source[park.line - 1]
    assert "<Paragraph" in source[park.elements[5].line - 1]


def test_preamble_and_empty_paragraphs():
    script = _sample(1)
    assert [(e.kind, e.text) for e in script.preamble] == [(Kind.ACTION, "FADE IN:")]
    # The trailing empty General paragraph is dropped.
    assert script.scenes[-1].elements[-1].kind is Kind.TRANSITION
    assert _sample(4).preamble[0].kind is Kind.TRANSITION


def test_starts_new_page_becomes_a_page_break_before_the_next_scene():
    script = _sample(6)
    assert script.scenes[1].elements[-1].kind is Kind.PAGE_BREAK
    assert all(e.kind is not Kind.PAGE_BREAK for e in script.scenes[0].elements + script.scenes[2].elements)


def test_title_page_keys():
    assert _sample(1).title_page == {}
    title_page = _sample(3).title_page
    assert list(title_page) == ["Title", "Credit", "Author", "Copyright", "Draft date", "Contact"]
    assert title_page["Title"] == "_SAMPLE 03_"  # underlined on the page
    assert _sample(3).title == "SAMPLE 03"
    assert title_page["Credit"] == "Written by"
    assert title_page["Author"] == "Jane Doe"
    assert title_page["Draft date"] == "2018-01-01"
    assert title_page["Contact"].split("\n") == [
        "ACME Examples Productions",
        "1234 5th Avenue",
        "Anytown, Planet Earth, 12345-7890",
    ]


def test_scene_number_dual_dialogue_styles_and_extensions():
    data = _document(
        '<Paragraph Type="Scene Heading" Number="12A"><SceneProperties Length="1 3/8"/>'
        "<Text>int. kitchen - night</Text></Paragraph>"
        '<Paragraph Type="Action"><Text>She sees </Text><Text Style="Bold+Underline">the gun</Text>'
        "<Text> and a *star*_mark.</Text></Paragraph>"
        '<Paragraph Type="Shot"><Text>CLOSE ON the gun</Text></Paragraph>'
        '<Paragraph Type="Cast List"><Text>MARA, PIP</Text></Paragraph>'
        "<Paragraph><DualDialogue>"
        '<Paragraph Type="Character"><Text>Mara (V.O.) (cont\'d)</Text></Paragraph>'
        '<Paragraph Type="Dialogue"><Text>Now.</Text></Paragraph>'
        '<Paragraph Type="Character"><Text>PIP</Text></Paragraph>'
        '<Paragraph Type="Parenthetical"><Text>(whispering)</Text></Paragraph>'
        '<Paragraph Type="Dialogue"><Text>Never.</Text></Paragraph>'
        "</DualDialogue></Paragraph>"
        '<Paragraph Type="Lyrics"><Text>La la la</Text></Paragraph>'
    )
    (scene,) = parse_fdx(data, "kitchen.fdx").scenes
    assert (scene.heading, scene.number, scene.saved_eighths) == ("INT. KITCHEN - NIGHT", "12A", 11)
    action, shot, mara, now, pip, whisper, never, lyrics = scene.elements
    assert action.text == "She sees _**the gun**_ and a \\*star\\*\\_mark."
    assert action.plain == "She sees the gun and a *star*_mark."
    assert (shot.kind, shot.text) == (Kind.ACTION, "CLOSE ON THE GUN")  # Shot is AllCaps
    assert (mara.kind, mara.character, mara.extensions) == (Kind.CHARACTER, "MARA", ("V.O.", "CONT'D"))
    assert not mara.dual
    assert (now.character, now.dual) == ("MARA", False)
    assert (pip.character, pip.dual, whisper.dual, never.dual) == ("PIP", True, True, True)
    assert (whisper.kind, never.character) == (Kind.PARENTHETICAL, "PIP")
    assert (lyrics.kind, lyrics.character) == (Kind.LYRICS, "PIP")


def test_styles_open_and_close_where_they_change():
    data = _document(
        '<Paragraph Type="Scene Heading"><Text>INT. HALL - DAY</Text></Paragraph>'
        '<Paragraph Type="Dialogue"><Text Style="Italic">She needs a </Text>'
        '<Text Style="Bold+Italic">special</Text><Text Style="Italic"> man.</Text></Paragraph>'
        '<Paragraph Type="Action"><Text Style="Underline">one</Text><Text> </Text>'
        '<Text Style="Underline">two</Text><Text Style="Bold"> </Text><Text>three</Text></Paragraph>'
    )
    dialogue, action = parse_fdx(data).scenes[0].elements
    assert dialogue.text == "*She needs a **special** man.*"
    assert action.text == "_one_ _two_ three"


def test_split_cue():
    assert split_cue("EDWARD (V.O.)(CONT'D)") == ("EDWARD", ("V.O.", "CONT'D"))
    assert split_cue("YOUNG EDWARD") == ("YOUNG EDWARD", ())
    assert split_cue("DR. (SMITH) JONES") == ("DR. (SMITH) JONES", ())


def test_truncated_sample_is_refused_with_the_line():
    path = SCREENPLAYS / "sample-03.fdx"
    data = path.read_bytes()
    half = data[: len(data) // 2]
    with pytest.raises(ScriptError) as caught:
        parse_fdx(half, str(path))
    error = caught.value
    assert error.path == str(path)
    assert error.line == half.count(b"\n") + 1  # the last, cut-off line
    assert str(error).startswith(f"{path}:{error.line}: not well-formed XML")


def test_empty_input_is_refused():
    with pytest.raises(ScriptError, match=r"^empty\.fdx:1: not well-formed XML: Document is empty$"):
        parse_fdx(b"", "empty.fdx")


def test_xml_that_is_not_final_draft_is_refused():
    with pytest.raises(ScriptError, match=r"^notes\.fdx: not a Final Draft document: the root element is <html>"):
        parse_fdx(b"<html><body>INT. KITCHEN - DAY</body></html>", "notes.fdx")
    with pytest.raises(ScriptError, match="has no <Content>"):
        parse_fdx(b'<FinalDraft DocumentType="Script"/>', "bare.fdx")


@pytest.mark.parametrize("depth", [3, 9])
def test_entity_expansion_is_refused(depth):
    # At depth 9 libxml2 itself stops the amplification; at depth 3 the reader refuses the
    # entity declarations. Either way nothing is expanded and the user gets a ScriptError.
    laughs = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, depth + 1))
    data = (
        f'<?xml version="1.0"?><!DOCTYPE FinalDraft [<!ENTITY lol0 "lol">{laughs}]>'
        f'<FinalDraft DocumentType="Script"><Content><Paragraph Type="Action"><Text>&lol{depth};</Text>'
        "</Paragraph></Content></FinalDraft>"
    ).encode()
    with pytest.raises(ScriptError, match=r"^laughs\.fdx:1: .*(declares XML entities|entity amplification)"):
        parse_fdx(data, "laughs.fdx")


def test_external_entity_is_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE FinalDraft [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        '<FinalDraft><Content><Paragraph Type="Action"><Text>&x;</Text></Paragraph></Content></FinalDraft>'
    ).encode()
    with pytest.raises(ScriptError, match="declares XML entities"):
        parse_fdx(data, "xxe.fdx")


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_samples_round_trip(path):
    script = parse_fdx(path.read_bytes(), str(path))
    written = write_fdx(script)
    etree.fromstring(written)  # well-formed
    again = parse_fdx(written, "again.fdx")
    assert [s.heading for s in again.scenes] == [s.heading for s in script.scenes]
    assert [_shape(s) for s in again.scenes] == [_shape(s) for s in script.scenes]
    assert [(e.kind, e.text) for e in again.preamble] == [(e.kind, e.text) for e in script.preamble]
    assert again.title_page == script.title_page
    # Written lengths come from the pagination model, which reproduces the samples' ones.
    assert [s.saved_eighths for s in again.scenes] == [s.saved_eighths for s in script.scenes]


def test_written_document_keeps_numbers_dual_dialogue_emphasis_and_page_breaks():
    scene = Scene(
        heading="INT. KITCHEN - NIGHT",
        line=1,
        number="4B",
        elements=[
            Element(Kind.ACTION, "Mara lifts **the** *lid* _slowly_ and ***stops***; 2 \\* 3 = 6.", 2),
            Element(Kind.CHARACTER, "MARA (O.S.)", 3, character="MARA", extensions=("O.S.",)),
            Element(Kind.DIALOGUE, "Now.", 4, character="MARA"),
            Element(Kind.CHARACTER, "PIP", 5, character="PIP", dual=True),
            Element(Kind.PARENTHETICAL, "(quietly)", 6, character="PIP", dual=True),
            Element(Kind.DIALOGUE, "Never.", 7, character="PIP", dual=True),
            Element(Kind.NOTE, "fix this", 8),
            Element(Kind.PAGE_BREAK, "", 9),
            Element(Kind.CENTERED, "THE END", 10),
        ],
    )
    script = Script(title_page={"Title": "Lids", "Author": "Ann Lee", "Contact": "1 Road\nTown"}, scenes=[scene])
    written = write_fdx(script)
    root = etree.fromstring(written)
    assert root.tag == "FinalDraft" and root.get("DocumentType") == "Script"
    heading = root.find("Content/Paragraph")
    assert heading.get("Number") == "4B" and heading.find("SceneProperties").get("Length") == "2/8"
    assert len(root.findall("Content/Paragraph/DualDialogue/Paragraph")) == 5
    assert root.find(".//Text[@Style='Bold+Italic']").text == "stops"

    again = parse_fdx(written)
    (read,) = again.scenes
    assert read.number == "4B"
    scene.elements.remove(scene.elements[6])  # the note, which Final Draft content has no room for
    assert _shape(read) == _shape(scene)
    assert again.title_page == {"Title": "Lids", "Author": "Ann Lee", "Contact": "1 Road\nTown"}


def test_an_unclosed_emphasis_marker_is_written_as_text():
    scene = Scene("INT. HALL - DAY", 1, [Element(Kind.ACTION, "Rated 5* by **critics**.", 2)])
    root = etree.fromstring(write_fdx(Script(scenes=[scene])))
    runs = [(t.text, t.get("Style")) for t in root.iterfind("Content/Paragraph[2]/Text")]
    assert runs == [("Rated 5* by ", None), ("critics", "Bold"), (".", None)]


def test_a_feature_round_trips_through_final_draft():
    path = SCREENPLAYS / "big_fish.fountain"
    script = parse_fountain(read_text(path), str(path))
    again = parse_fdx(write_fdx(script), "big_fish.fdx")

    def printed(scene: Scene) -> list[tuple[Kind, str, str, tuple[str, ...], bool]]:
        return [(e.kind, e.text, e.character, e.extensions, e.dual) for e in scene.elements if e.kind in PRINTED]

    assert len(again.scenes) == 190
    assert [s.heading for s in again.scenes] == [s.heading for s in script.scenes]
    assert [printed(s) for s in again.scenes] == [printed(s) for s in script.scenes]


def test_title_page_notes_come_back_as_notes():
    # Big Fish's title page has Notes ("FINAL PRODUCTION DRAFT ...") that read like a draft date.
    path = SCREENPLAYS / "big_fish.fountain"
    script = parse_fountain(read_text(path), str(path))
    assert "Notes" in script.title_page and "Draft date" not in script.title_page
    assert parse_fdx(write_fdx(script)).title_page == script.title_page

    title_page = {
        "Title": "Lids",
        "Author": "Ann Lee",
        "Draft date": "First draft",  # no date in it: would read as a contact
        "Contact": "Notes: call after six\nann@example.com",  # starts like another key
        "Notes": "Revised 2019 from the stage play",
    }
    written = write_fdx(Script(title_page=title_page, scenes=[]))
    assert parse_fdx(written).title_page == title_page
    # Blocks Final Draft would tell apart anyway are written as they are, without a label.
    lines = [t.text for t in etree.fromstring(written).iterfind("TitlePage/Content/Paragraph/Text")]
    assert "Ann Lee" in lines and "Notes: Revised 2019 from the stage play" in lines
