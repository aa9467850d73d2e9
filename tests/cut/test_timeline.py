"""Assembling the cut, and its OTIO timeline, CMX 3600 EDL and FCP 7 XML read back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import opentimelineio as otio
import pytest

from soundstage.cut.timeline import (
    GAP_S,
    LEAD_IN_S,
    TAIL_S,
    Cut,
    CutShot,
    Line,
    Note,
    assemble,
    spoken_lines,
    to_otio,
    write_editorial,
)
from soundstage.errors import CutError
from soundstage.project import Production

from conftest import EXAMPLE

FPS = 24
SHORT = Line("MAISIE", "Out.")
LONG = Line("FUSE", "I was there when the whole pier went dark, lamp after lamp, and nobody came to light them again.")


def _video(timeline: otio.schema.Timeline) -> otio.schema.Track:
    return next(track for track in timeline.tracks if track.kind == otio.schema.TrackKind.Video)


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
    assert first.media_reference.target_url == cut.shots[0].image.resolve().as_uri()
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


@pytest.mark.parametrize("fmt", ["otio", "edl", "xml"])
def test_editorial_files_read_back_with_clips_in_order(
    fmt: str, make_shot: Callable[..., CutShot], voices_dir: Path, tmp_path: Path
) -> None:
    cut = _cut(make_shot, voices_dir, tmp_path)
    written = write_editorial(cut, tmp_path / "out", "pilot")
    assert sorted(written) == ["edl", "otio", "xml"]
    assert written[fmt] == tmp_path / "out" / f"pilot.{fmt}"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["pilot.edl", "pilot.otio", "pilot.xml"]

    timeline = otio.adapters.read_from_file(str(written[fmt]))
    video = _video(timeline)
    clips = [item for item in video if isinstance(item, otio.schema.Clip)]
    # Shot codes (the long one too: an EDL reel holds 8 characters, its clip name more),
    # durations and order as cut; so the record in and out of every event are right.
    assert [c.name for c in clips] == ["003_0010", "003_0020", "003_0030", "0012A_0040"]
    assert [_frames(c) for c in clips] == [s.frames for s in cut.shots]
    starts = [round(video.range_of_child(c).start_time.value) for c in clips]
    assert starts == cut.starts()
    # Review notes come back as markers at their frames.
    markers = [[round(m.marked_range.start_time.value) for m in c.markers] for c in clips]
    assert markers == [[5, 20], [], [], [0]]
    names = [m.name.lower() for m in clips[0].markers]
    assert names == ["ana: warmer light", "ben: lose the prop"]
    if fmt != "edl":  # an EDL is the picture track alone
        (audio,) = [track for track in timeline.tracks if track.kind == otio.schema.TrackKind.Audio]
        lines = [item for item in audio if isinstance(item, otio.schema.Clip)]
        assert [round(audio.range_of_child(c).start_time.value) for c in lines] == [c.start for c in cut.dialogue]


def test_editorial_into_an_unwritable_folder_is_one_line(make_shot: Callable[..., CutShot], tmp_path: Path) -> None:
    cut = assemble("Pilot", [make_shot("003_0010")], FPS, None)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(CutError) as error:
        write_editorial(cut, blocker / "out", "pilot")
    assert str(blocker / "out" / "pilot.otio") in str(error.value) and "\n" not in str(error.value)


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
