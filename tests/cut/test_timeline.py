"""Assembling the cut, and its OTIO timeline, CMX 3600 EDL, FCP 7 XML and FCPXML read back
with OTIO's own adapters: clips, timecode, notes, names with quotes, and a cut folder that
holds what it refers to and still opens after it is moved."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import opentimelineio as otio
import pytest
from lxml import etree

from soundstage.cut.timeline import (
    GAP_S,
    LEAD_IN_S,
    TAIL_S,
    Cut,
    CutShot,
    Line,
    Note,
    assemble,
    resolve_media_url,
    spoken_lines,
    to_otio,
    write_editorial,
)
from soundstage.errors import CutError
from soundstage.project import Production

from conftest import EXAMPLE

FPS = 24
HOUR = 3600 * FPS  # the program starts at 01:00:00:00
FORMATS = ["otio", "edl", "xml", "fcpxml"]
SHORT = Line("MAISIE", "Out.")
LONG = Line("FUSE", "I was there when the whole pier went dark, lamp after lamp, and nobody came to light them again.")


def _video(timeline: otio.schema.Timeline) -> otio.schema.Track:
    return _tracks(timeline)[0]


def _audio(timeline: otio.schema.Timeline) -> otio.schema.Track:
    return _tracks(timeline)[1]


def _tracks(timeline: otio.schema.Timeline) -> tuple[otio.schema.Track, otio.schema.Track | None]:
    """The picture and the dialogue track. OTIO's FCPXML reader names its tracks by storyline
    lane ("0" the primary, "-1" the connected sound) and calls them all video: an asset without
    child elements is falsy to its ``if asset`` test, so it never sees that one has no video."""
    lanes = {track.name: track for track in timeline.tracks}
    if "0" in lanes:
        return lanes["0"], lanes.get("-1")
    video = next(track for track in timeline.tracks if track.kind == otio.schema.TrackKind.Video)
    audio = [track for track in timeline.tracks if track.kind == otio.schema.TrackKind.Audio]
    return video, audio[0] if audio else None


def _frames(item: otio.core.Item) -> int:
    duration = item.duration()
    assert duration.rate == FPS
    return round(duration.value)


def test_lines_are_placed_in_order_after_a_lead_in(make_shot: Callable[..., CutShot], voices_dir: Path) -> None:
    shots = [make_shot("003_0010", 24), make_shot("003_0020", 240, lines=(SHORT, Line("OSWIN", "Then light them.")))]
    cut = assemble("Pilot", shots, FPS, voices_dir)

    assert cut.lengthened == [] and cut.warnings == []
    assert [s.frames for s in cut.shots] == [24, 240] and cut.starts() == [0, 24] and cut.frames == 264
    first, second = cut.dialogue
    assert (first.shot, first.character, first.text) == ("003_0020", "MAISIE", "Out.")
    assert first.start == 24 + round(LEAD_IN_S * FPS)
    assert second.start == first.start + first.frames + round(GAP_S * FPS)
    assert first.wav.parent == voices_dir and first.wav.is_file()


def test_a_shot_too_short_for_its_lines_is_lengthened(make_shot: Callable[..., CutShot], voices_dir: Path) -> None:
    shots = [make_shot("003_0010", 12, lines=(LONG,)), make_shot("003_0020", 48)]
    cut = assemble("Pilot", shots, FPS, voices_dir)

    (line,) = cut.dialogue
    needed = round(LEAD_IN_S * FPS) + line.frames + round(TAIL_S * FPS)
    assert line.frames > 5 * FPS  # a long line: over five seconds spoken
    assert cut.lengthened == [("003_0010", 12, needed)]
    assert cut.shots[0].frames == needed and cut.starts()[1] == needed
    assert cut.shots[1].frames == 48


def test_without_voices_there_is_no_dialogue_and_nothing_is_lengthened(make_shot: Callable[..., CutShot]) -> None:
    cut = assemble("Pilot", [make_shot("003_0010", 12, lines=(LONG,))], FPS, None)
    assert cut.dialogue == [] and cut.lengthened == [] and cut.shots[0].frames == 12


def test_missing_pictures_become_slates_with_a_warning(make_shot: Callable[..., CutShot], tmp_path: Path) -> None:
    shots = [
        make_shot("003_0010"),
        make_shot("003_0020", take="003_0020/2", image=tmp_path / "gone.png"),
        make_shot("003_0030", take=None, image=None),
    ]
    cut = assemble("Pilot", shots, FPS, None)
    assert [s.image is None for s in cut.shots] == [False, True, True]
    assert cut.warnings == ["003_0020: take 2 media missing; NO TAKE slate", "003_0030: no take; NO TAKE slate"]


def test_notes_outside_their_shot_are_moved_inside_with_a_warning(make_shot: Callable[..., CutShot]) -> None:
    notes = (Note(5, "warmer light", "ana"), Note(30, "hold longer", "ben"))
    cut = assemble("Pilot", [make_shot("003_0010", 24, notes=notes)], FPS, None)
    assert [n.frame for n in cut.shots[0].notes] == [5, 23]
    assert cut.warnings == ["003_0010: note at frame 30 is outside the shot; moved to frame 23"]


def test_an_empty_cut_is_refused() -> None:
    with pytest.raises(CutError, match="no shots"):
        assemble("Pilot", [], FPS, None)


def _cut(make_shot: Callable[..., CutShot], voices_dir: Path, tmp_path: Path) -> Cut:
    shots = [
        make_shot("003_0010", 36, notes=(Note(5, "warmer light", "ana"), Note(20, "lose the prop", "ben"))),
        make_shot("003_0020", 12, lines=(LONG,), move="push-in", status="pending review"),
        make_shot("003_0030", 30, take=None, image=None, status="todo"),
        make_shot("0012A_0040", 40, lines=(SHORT,), notes=(Note(0, "first frame", "cy"),)),
    ]
    return assemble("The Lantern Keepers", shots, FPS, voices_dir)


def test_the_otio_timeline_has_shots_dialogue_and_markers(
    make_shot: Callable[..., CutShot], voices_dir: Path, tmp_path: Path
) -> None:
    cut = _cut(make_shot, voices_dir, tmp_path)
    timeline = to_otio(cut)
    video = _video(timeline)
    assert [clip.name for clip in video] == [s.code for s in cut.shots]
    assert [_frames(clip) for clip in video] == [s.frames for s in cut.shots]
    first = video[0]
    assert first.metadata["soundstage"]["take"] == "003_0010/1"
    assert first.metadata["soundstage"]["status"] == "approved"
    assert first.media_reference.target_url == cut.shots[0].image.resolve().as_uri()  # no folder: absolute
    assert timeline.global_start_time == otio.opentime.RationalTime(HOUR, FPS)
    assert isinstance(video[2].media_reference, otio.schema.GeneratorReference)
    assert [(m.marked_range.start_time.value, m.name) for m in first.markers] == [
        (5, "ana: warmer light"),
        (20, "ben: lose the prop"),
    ]

    (audio,) = [track for track in timeline.tracks if track.kind == otio.schema.TrackKind.Audio]
    placed = [(round(audio.range_of_child_at_index(i).start_time.value), item) for i, item in enumerate(audio)]
    clips = [(start, item) for start, item in placed if isinstance(item, otio.schema.Clip)]
    assert [(start, _frames(item)) for start, item in clips] == [(c.start, c.frames) for c in cut.dialogue]
    assert clips[0][1].media_reference.target_url == cut.dialogue[0].wav.resolve().as_uri()


def _read(path: Path) -> otio.schema.Timeline:
    """An editorial file read back by OTIO's adapter for its kind (the FCPXML one gives the
    event's projects)."""
    read = otio.adapters.read_from_file(str(path))
    return read if isinstance(read, otio.schema.Timeline) else next(iter(read))


@pytest.mark.parametrize("fmt", FORMATS)
def test_editorial_files_read_back_with_clips_in_order(
    fmt: str, make_shot: Callable[..., CutShot], voices_dir: Path, tmp_path: Path
) -> None:
    cut = _cut(make_shot, voices_dir, tmp_path)
    out = tmp_path / "out"
    written = write_editorial(cut, out, "pilot")
    assert sorted(written) == sorted(FORMATS)
    assert written[fmt] == out / f"pilot.{fmt}"
    names = sorted(p.name for p in out.iterdir())
    assert names == ["dialogue", "pilot.edl", "pilot.fcpxml", "pilot.otio", "pilot.xml", "takes"]

    timeline = _read(written[fmt])
    video = _video(timeline)
    # FCPXML's program start comes back as a gap of its length before the first shot (the
    # reader does not read the sequence's tcStart); a shot without a picture is a gap there.
    offset = HOUR if fmt == "fcpxml" else 0
    clips = [item for item in video if isinstance(item, otio.schema.Clip)]
    codes = ["003_0010", "003_0020", "003_0030", "0012A_0040"]
    pictured = [i for i, s in enumerate(cut.shots) if fmt != "fcpxml" or s.image is not None]
    # Shot codes (the long one too: an EDL reel holds 8 characters, its clip name more),
    # durations and order as cut; so the record in and out of every event are right.
    assert [c.name for c in clips] == [codes[i] for i in pictured]
    assert [_frames(c) for c in clips] == [cut.shots[i].frames for i in pictured]
    starts = [round(video.range_of_child(c).start_time.value) - offset for c in clips]
    assert starts == [cut.starts()[i] for i in pictured]
    # Review notes come back as markers at their frames.
    markers = [[round(m.marked_range.start_time.value) for m in c.markers] for c in clips]
    assert markers == [[5, 20], [], [], [0]][: len(clips)] if fmt != "fcpxml" else [[5, 20], [], [0]]
    names = [m.name.lower() for m in clips[0].markers]
    assert names == ["ana: warmer light", "ben: lose the prop"]
    if fmt != "edl":  # an EDL is the picture track alone
        audio = _audio(timeline)
        lines = [item for item in audio if isinstance(item, otio.schema.Clip)]
        placed = [round(audio.range_of_child(c).start_time.value) - offset for c in lines]
        assert placed == [c.start for c in cut.dialogue]
        assert [_frames(c) for c in lines] == [c.frames for c in cut.dialogue]


def test_every_file_is_on_one_clock_from_the_program_start(
    make_shot: Callable[..., CutShot], voices_dir: Path, tmp_path: Path
) -> None:
    cut = _cut(make_shot, voices_dir, tmp_path)
    written = write_editorial(cut, tmp_path / "out", "pilot")
    timecode = otio.opentime.to_timecode
    ends = [start + shot.frames for start, shot in zip(cut.starts(), cut.shots)]
    edl = written["edl"].read_text()
    # The EDL says its frame-code mode under the title, and its record timecode starts at the
    # program start, the first frame of the first shot.
    assert edl.splitlines()[:2] == ["TITLE: The Lantern Keepers", "FCM: NON-DROP FRAME"]
    events = [line.split() for line in edl.splitlines() if line[:3].isdigit()]
    assert [(e[-2], e[-1]) for e in events] == [
        (
            timecode(otio.opentime.RationalTime(HOUR + a, FPS), FPS),
            timecode(otio.opentime.RationalTime(HOUR + b, FPS), FPS),
        )
        for a, b in zip(cut.starts(), ends)
    ]
    assert _read(written["edl"]).tracks[0].source_range.start_time.value == -HOUR  # the reader's own record start
    # FCP 7 XML: the sequence's timecode; the OTIO timeline: its global start time.
    assert _read(written["xml"]).global_start_time == otio.opentime.RationalTime(HOUR, FPS)
    assert _read(written["otio"]).global_start_time == otio.opentime.RationalTime(HOUR, FPS)
    sequence = etree.parse(str(written["fcpxml"])).find(".//sequence")
    assert (sequence.get("tcStart"), sequence.get("tcFormat")) == (f"{HOUR}/24s", "NDF")
    offsets = [clip.get("offset") for clip in sequence.find("spine")]
    assert offsets == [f"{HOUR + start}/24s" for start in cut.starts()]


def test_a_moved_cut_folder_still_finds_every_file(
    make_shot: Callable[..., CutShot], voices_dir: Path, tmp_path: Path
) -> None:
    cut = _cut(make_shot, voices_dir, tmp_path)
    written = write_editorial(cut, tmp_path / "out", "pilot")
    # The takes and the spoken lines were copied in: the folder holds all it refers to.
    assert sorted(p.name for p in (tmp_path / "out" / "takes").iterdir()) == sorted(
        s.image.name for s in cut.shots if s.image is not None
    )
    assert len(list((tmp_path / "out" / "dialogue").iterdir())) == len({c.wav for c in cut.dialogue})
    moved = shutil.move(tmp_path / "out", tmp_path / "sent" / "pilot cut")
    for source in (voices_dir, *(s.image for s in cut.shots if s.image is not None)):
        if source.is_file():
            source.rename(source.with_suffix(".gone"))  # nothing outside the folder is used
    for fmt in ("otio", "xml", "fcpxml"):
        timeline = _read(Path(moved) / written[fmt].name)
        references = [
            clip.media_reference.target_url
            for clip in timeline.find_clips()
            if isinstance(clip.media_reference, otio.schema.ExternalReference)
        ]
        assert len(references) == 3 + len(cut.dialogue), fmt  # three stills, every line
        for url in references:
            assert "://" not in url and not url.startswith("/"), (fmt, url)
            assert resolve_media_url(url, Path(moved)).is_file(), (fmt, url)


def test_names_with_quotes_and_apostrophes_read_back(
    make_shot: Callable[..., CutShot], voices_dir: Path, tmp_path: Path
) -> None:
    quoted = 'Maisie\'s "lamp"'
    spoken_text = 'It\'s "out", Fuse.'
    note = 'keep the "glow" it\'s got'
    line = Line("MAISIE", spoken_text)
    shot = make_shot("003_0010", 48, lines=(line,), notes=(Note(3, note, "ana"),))
    title = 'Maisie\'s "Lamp"'
    cut = assemble(title, [replace(shot, description=quoted), make_shot("003_0020", 24)], FPS, voices_dir)
    written = write_editorial(cut, tmp_path / "out", "pilot")
    for fmt in FORMATS:
        timeline = _read(written[fmt])
        assert timeline.name == title, fmt
        first = next(iter(_video(timeline).find_clips()))
        marker = first.markers[0].name
        # The EDL writes its locators in capitals, as EDLs do.
        assert (
            (marker.lower() if fmt == "edl" else marker) == f"ana: {note}".lower() if fmt == "edl" else f"ana: {note}"
        )
        if fmt != "edl":  # an EDL is the picture track alone
            (spoken,) = [c for c in _audio(timeline).find_clips() if c.name.startswith("MAISIE")]
            assert spoken.name == f"MAISIE: {spoken_text}", fmt
    timeline = _read(written["otio"])
    assert timeline.video_tracks()[0][0].metadata["soundstage"]["description"] == quoted
    assert etree.parse(str(written["fcpxml"])).find(".//spine/clip/note").text == quoted


def test_the_cut_keeps_one_clock_reading_in_utc(make_shot: Callable[..., CutShot], tmp_path: Path) -> None:
    local = datetime(2026, 3, 4, 16, 30, 15, 900_000, tzinfo=timezone(timedelta(hours=1)))
    cut = assemble("Pilot", [make_shot("003_0010")], FPS, None, made_at=local)
    assert cut.made_at == datetime(2026, 3, 4, 15, 30, 15, tzinfo=UTC)
    timeline = to_otio(cut)
    assert timeline.metadata["soundstage"]["made_at"] == "2026-03-04T15:30:15+00:00"
    naive = assemble("Pilot", [make_shot("003_0020")], FPS, None, made_at=datetime(2026, 3, 4, 15, 30))
    assert naive.made_at.tzinfo is UTC  # a time without a zone is the store's: UTC


def test_editorial_into_an_unwritable_folder_is_one_line(make_shot: Callable[..., CutShot], tmp_path: Path) -> None:
    cut = assemble("Pilot", [make_shot("003_0010")], FPS, None)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(CutError) as error:
        write_editorial(cut, blocker / "out", "pilot")
    assert str(blocker / "out") in str(error.value) and "cannot write" in str(error.value)
    assert "\n" not in str(error.value)


def test_a_shots_dialogue_comes_from_the_lines_it_covers(tmp_path: Path) -> None:
    with Production.init(tmp_path / "pilot") as production:
        production.import_script(EXAMPLE)
        production.plan()
        spoken = spoken_lines(production.script())
        shots = production.shots()
    cast = {line.character for line in spoken.values()}
    assert cast >= {"MAISIE", "FUSE", "OSWIN", "JUNO"}
    assert all(line.text and "\n" not in line.text and "*" not in line.text for line in spoken.values())
    speeches = [shot for shot in shots if shot.description.split(":")[0] in cast]
    assert len(speeches) > 20
    for shot in speeches:
        # The plan describes a speech by its speaker and first words; the lines it covers say them.
        lines = [spoken[number] for number in shot.lines if number in spoken]
        speaker, _, words = shot.description.partition(": ")
        assert lines and lines[0].character == speaker
        assert lines[0].text.startswith(words.rstrip(".…").split()[0])
