"""The cut as editorial sees it: shots in order with their takes, scratch dialogue placed in
its shots, review notes as markers; and the OpenTimelineIO timeline, CMX 3600 EDL and FCP 7
XML made from it.

``assemble`` is the one place where durations are decided: a shot keeps its planned frames
unless the lines it covers, spoken, run longer; then it is lengthened and the change reported.
Everything downstream (the OTIO timeline, the EDL, the animatic) reads the same ``Cut``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import opentimelineio as otio

from soundstage.cut.dialogue import ScratchVoices, SpokenLine
from soundstage.errors import CutError
from soundstage.files import write_atomic
from soundstage.script.model import Kind, Script

# Where lines sit in their shot: a breath before the first, between lines, after the last.
LEAD_IN_S = 0.25
GAP_S = 0.25
TAIL_S = 0.5
NO_TAKE = "NO TAKE"
VIDEO_TRACK = "Video"
DIALOGUE_TRACK = "Scratch dialogue"
# CMX 3600 reel names are at most 8 characters; "AX" is the conventional name for a source
# without a reel, "BL" is black (what an EDL can say about a shot with no picture).
REEL_LENGTH = 8

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of dialogue a shot covers, in the order it is spoken."""

    character: str
    text: str


@dataclass(frozen=True, slots=True)
class Note:
    """A review note at a frame of its shot (0 is the shot's first frame)."""

    frame: int
    text: str
    author: str


@dataclass(frozen=True, slots=True)
class CutShot:
    """One shot as it goes into the cut: its take (if any), review status and lines."""

    code: str
    scene: str
    frames: int
    take: str | None  # "012_0030/2", or None when the shot has no take
    image: Path | None  # the take's PNG; None (or a missing file) gives a NO TAKE slate
    status: str  # e.g. "approved", "pending review", "todo"
    move: str  # the camera move (plan.model.Move value)
    lines: tuple[Line, ...] = ()
    notes: tuple[Note, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class DialogueClip:
    """A spoken line on the cut's timeline."""

    shot: str
    character: str
    text: str
    wav: Path
    start: int  # frame on the timeline (0 is the first frame of the first shot)
    frames: int


@dataclass(slots=True)
class Cut:
    """The assembled cut: shots with their final durations, in order, and what was changed."""

    title: str
    fps: int
    shots: list[CutShot]
    dialogue: list[DialogueClip] = field(default_factory=list)
    lengthened: list[tuple[str, int, int]] = field(default_factory=list)  # (code, planned, new frames)
    warnings: list[str] = field(default_factory=list)  # one line each

    @property
    def frames(self) -> int:
        """The cut's length in frames."""
        return sum(shot.frames for shot in self.shots)

    def starts(self) -> list[int]:
        """The timeline frame where each shot starts."""
        starts, position = [], 0
        for shot in self.shots:
            starts.append(position)
            position += shot.frames
        return starts


def spoken_lines(script: Script) -> dict[int, Line]:
    """The script's dialogue (and lyrics) by source line, as Lines of plain text on one line.
    A shot's ``lines`` (the source lines it covers) pick its own out of this."""
    return {
        element.line: Line(element.character, " ".join(element.plain.split()))
        for scene in script.scenes
        for element in scene.elements
        if element.kind in (Kind.DIALOGUE, Kind.LYRICS)
    }


def assemble(
    title: str,
    shots: Sequence[CutShot],
    fps: int,
    voices_dir: Path | None,
    *,
    progress: Progress | None = None,
) -> Cut:
    """The cut of ``shots`` in the order given.

    With ``voices_dir``, every line is spoken (cached there) and placed in its shot after a
    short lead-in, with a gap between lines; a shot too short for its lines is lengthened.
    Without it there is no scratch dialogue and shots keep their planned frames. A shot whose
    take image is missing becomes a NO TAKE slate, with a warning.
    """
    if not shots:
        raise CutError(f"{title or 'the cut'}: no shots to cut")
    if fps <= 0:
        raise CutError(f"{title or 'the cut'}: frame rate must be positive, got {fps}")
    spoken = _speak_all(shots, ScratchVoices(voices_dir), progress) if voices_dir is not None else {}
    lead_in, gap, tail = (round(seconds * fps) for seconds in (LEAD_IN_S, GAP_S, TAIL_S))
    cut = Cut(title=title, fps=fps, shots=[])
    start = 0
    for shot in shots:
        if shot.frames <= 0:
            raise CutError(f"{shot.code}: a shot needs at least one frame, has {shot.frames}")
        shot = _checked_picture(shot, cut.warnings)
        position = lead_in
        for line in shot.lines:
            said = spoken.get((line.character, line.text))
            if said is None or said.samples == 0:
                continue  # no voices, a blank line, or punctuation that espeak-ng says nothing for
            length = said.frames(fps)
            cut.dialogue.append(DialogueClip(shot.code, line.character, line.text, said.path, start + position, length))
            position += length + gap
        needed = position - gap + tail if position > lead_in else 0
        if needed > shot.frames:
            cut.lengthened.append((shot.code, shot.frames, needed))
            shot = replace(shot, frames=needed)
        shot = _checked_notes(shot, cut.warnings)
        cut.shots.append(shot)
        start += shot.frames
    return cut


def _speak_all(
    shots: Sequence[CutShot], voices: ScratchVoices, progress: Progress | None
) -> dict[tuple[str, str], SpokenLine]:
    """Every distinct (character, text) of the cut, spoken; blank lines are left out."""
    wanted = list(dict.fromkeys((line.character, line.text) for s in shots for line in s.lines if line.text.strip()))
    spoken: dict[tuple[str, str], SpokenLine] = {}
    # espeak-ng is a process per line: threads keep every core speaking while Python waits.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for done, (key, said) in enumerate(zip(wanted, pool.map(lambda k: voices.line(*k), wanted)), 1):
            spoken[key] = said
            if progress is not None:
                progress(done, len(wanted))
    return spoken


def _checked_picture(shot: CutShot, warnings: list[str]) -> CutShot:
    """The shot with ``image`` None (and a warning) when there is no picture to show."""
    if shot.take is None:
        warnings.append(f"{shot.code}: no take; {NO_TAKE} slate")
        return replace(shot, image=None)
    number = shot.take.rpartition("/")[2]
    if shot.image is None or not shot.image.is_file():
        warnings.append(f"{shot.code}: take {number} media missing; {NO_TAKE} slate")
        return replace(shot, image=None)
    return shot


def _checked_notes(shot: CutShot, warnings: list[str]) -> CutShot:
    """Notes past either end of the shot are moved to its first or last frame, with a warning."""
    notes = []
    for note in shot.notes:
        frame = min(max(note.frame, 0), shot.frames - 1)
        if frame != note.frame:
            warnings.append(f"{shot.code}: note at frame {note.frame} is outside the shot; moved to frame {frame}")
        notes.append(replace(note, frame=frame))
    return replace(shot, notes=tuple(notes))


# -- OpenTimelineIO ------------------------------------------------------------------------


def to_otio(cut: Cut) -> otio.schema.Timeline:
    """The cut as an OTIO timeline at the production's frame rate: a video track (one clip
    per shot, named by its code), a scratch-dialogue audio track, and a marker per note."""
    rate = cut.fps
    timeline = otio.schema.Timeline(name=cut.title, global_start_time=otio.opentime.RationalTime(0, rate))
    video = otio.schema.Track(name=VIDEO_TRACK, kind=otio.schema.TrackKind.Video)
    for shot in cut.shots:
        video.append(_shot_clip(shot, rate))
    audio = otio.schema.Track(name=DIALOGUE_TRACK, kind=otio.schema.TrackKind.Audio)
    position = 0
    for line in sorted(cut.dialogue, key=lambda clip: clip.start):
        if line.start < position:
            raise CutError(f"{line.shot}: line of {line.character} overlaps the line before it")
        if line.start > position:
            audio.append(otio.schema.Gap(source_range=_range(0, line.start - position, rate)))
        audio.append(
            otio.schema.Clip(
                name=_one_line(f"{line.character}: {line.text}"),
                media_reference=otio.schema.ExternalReference(
                    target_url=line.wav.resolve().as_uri(), available_range=_range(0, line.frames, rate)
                ),
                source_range=_range(0, line.frames, rate),
                metadata={"soundstage": {"shot": line.shot, "character": line.character, "text": line.text}},
            )
        )
        position = line.start + line.frames
    timeline.tracks.append(video)
    timeline.tracks.append(audio)
    return timeline


def _shot_clip(shot: CutShot, rate: int) -> otio.schema.Clip:
    """One shot's clip: the take's still, or a generator standing in for the missing picture."""
    available = _range(0, shot.frames, rate)
    if shot.image is not None:
        reference: otio.core.MediaReference = otio.schema.ExternalReference(
            target_url=shot.image.resolve().as_uri(), available_range=available
        )
        compact = shot.code.replace("_", "")
        reel = compact if len(compact) <= REEL_LENGTH else "AX"
    else:
        # A slug: the placeholder every editing system has. FCP XML writes a generator only
        # with its effect described in the reference's fcp_xml metadata.
        reference = otio.schema.GeneratorReference(
            name=NO_TAKE,
            generator_kind="slug",
            available_range=available,
            parameters={"text": NO_TAKE},
            metadata={"fcp_xml": {"effecttype": "generator", "mediatype": "video", "effectcategory": "Matte"}},
        )
        reel = "BL"
    clip = otio.schema.Clip(
        name=shot.code,
        media_reference=reference,
        source_range=available,
        metadata={
            "soundstage": {
                "shot": shot.code, "scene": shot.scene, "take": shot.take, "status": shot.status,
                "move": shot.move, "description": shot.description,
            },
            "cmx_3600": {"reel": reel},
        },
    )  # fmt: skip
    for note in shot.notes:
        clip.markers.append(
            otio.schema.Marker(
                name=_one_line(f"{note.author}: {note.text}" if note.author else note.text),
                marked_range=_range(note.frame, 0, rate),
                color=otio.schema.MarkerColor.RED,
                metadata={"soundstage": {"author": note.author, "text": note.text}},
            )
        )
    return clip


def _range(start: int, frames: int, rate: int) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(otio.opentime.RationalTime(start, rate), otio.opentime.RationalTime(frames, rate))


def _one_line(text: str) -> str:
    """Names on one line: an EDL comment ends at the line break."""
    return " ".join(text.split())


def write_editorial(cut: Cut, out_dir: Path, name: str) -> dict[str, Path]:
    """``name.otio``, ``name.edl`` (CMX 3600, the video track) and ``name.xml`` (FCP 7) in
    ``out_dir``, each written atomically; returns them by format ("otio", "edl", "xml")."""
    timeline = to_otio(cut)
    written = {}
    for key, adapter, suffix, what in (
        ("otio", "otio_json", ".otio", "OTIO timeline"),
        ("edl", "cmx_3600", ".edl", "EDL"),
        ("xml", "fcp_xml", ".xml", "FCP XML"),
    ):
        try:
            # A copy each: the adapters write their own metadata onto the clips as they go.
            text = otio.adapters.write_to_string(timeline.deepcopy(), adapter)
        except otio.exceptions.OTIOError as error:
            raise CutError(f"{cut.title}: cannot write the {what}: {error}") from None
        path = out_dir / f"{name}{suffix}"
        write_atomic(path, text.encode(), what=what, error=CutError)
        written[key] = path
    return written
