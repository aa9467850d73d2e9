"""The cut as editorial sees it: shots in order with their takes, scratch dialogue placed in
its shots, review notes as markers; and the OpenTimelineIO timeline, CMX 3600 EDL, FCP 7 XML
and FCPXML made from it.

``assemble`` is the one place where durations are decided: a shot keeps its planned frames
unless the lines it covers, spoken, run longer; then it is lengthened and the change reported.
Everything downstream (the OTIO timeline, the EDL, the XMLs, the animatic) reads the same
``Cut``, on one clock: the first frame of the first shot is ``PROGRAM_START`` (01:00:00:00, the
broadcast convention) in the EDL's record timecode, both XMLs' sequence timecode, the
animatic's timecode track and its burn-in; the head slate runs before it.

The editorial files are written with everything they refer to inside their folder (the
takes, the spoken lines), by references relative to it, so the folder can be moved or sent
whole and still open.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlparse

import opentimelineio as otio

from soundstage.config import frame_rate
from soundstage.cut.dialogue import ScratchVoices, SpokenLine
from soundstage.cut.fcpxml import fcpxml_text
from soundstage.errors import CutError, GenerateError
from soundstage.files import write_atomic
from soundstage.generate import clips
from soundstage.provenance.clock import iso, now, utc
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
# Where the program starts on every clock the cut writes (EDL record, XML sequences, the
# animatic's timecode track and burn-in); the head slate runs in the seconds before it.
PROGRAM_START = "01:00:00:00"
# The folders of a cut that hold what its editorial files refer to.
TAKES_FOLDER = "takes"
DIALOGUE_FOLDER = "dialogue"

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
    size: str = ""  # the shot size (CU, WS...), for the burn-in
    lens_mm: float | None = None  # the shot's lens, for the burn-in
    # The sha256 of the take's picture as made (its media id), which names the shot's segment
    # of the animatic; "" to hash ``image``'s bytes instead. A take signed for the cut differs
    # in bytes from cut to cut (its manifest), not in picture, so the caller passes this.
    picture_sha256: str = ""
    # A take that moves: the frames of its clip (0 for a still), found by ``assemble``. The cut
    # plays them over the shot, trimmed where the shot is shorter, its last frame held where longer.
    clip_frames: int = 0

    @property
    def plays_clip(self) -> bool:
        """Whether the shot plays a clip take rather than holding a still."""
        return self.clip_frames > 0 and self.image is not None


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
    fps: Fraction  # exact: 24, or 24000/1001 for 23.976 (an int is taken as it is)
    shots: list[CutShot]
    dialogue: list[DialogueClip] = field(default_factory=list)
    lengthened: list[tuple[str, int, int]] = field(default_factory=list)  # (code, planned, new frames)
    warnings: list[str] = field(default_factory=list)  # one line each
    # The one clock reading of the cut (UTC, whole seconds): the slate's date, the movie's
    # creation time, the timeline's metadata; the content credentials and the disclosure
    # report take theirs from here too.
    made_at: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        self.fps = Fraction(self.fps)

    @property
    def rate(self) -> float:
        """The rate as OTIO keeps it (a float: 23.976023976... for 24000/1001)."""
        return float(self.fps)

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


def program_start(rate: float | Fraction) -> otio.opentime.RationalTime:
    """``PROGRAM_START`` as a time at ``rate`` frames per second (non-drop timecode: at
    23.976 it counts 24 frames a second)."""
    return otio.opentime.from_timecode(PROGRAM_START, float(rate))


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
    fps: int | Fraction | str,
    voices_dir: Path | None,
    *,
    progress: Progress | None = None,
    made_at: datetime | None = None,
) -> Cut:
    """The cut of ``shots`` in the order given, made at ``made_at`` (now by default).

    With ``voices_dir``, every line is spoken (cached there) and placed in its shot after a
    short lead-in, with a gap between lines; a shot too short for its lines is lengthened.
    Without it there is no scratch dialogue and shots keep their planned frames. A shot whose
    take image is missing becomes a NO TAKE slate, with a warning. ``fps``: an exact rate
    (``config.frame_rate``: 24, "24000/1001", 23.976).
    """
    if not shots:
        raise CutError(f"{title or 'the cut'}: no shots to cut")
    try:
        fps = frame_rate(fps)
    except ValueError as error:
        raise CutError(f"{title or 'the cut'}: frame rate {error}") from None
    spoken = _speak_all(shots, ScratchVoices(voices_dir), progress) if voices_dir is not None else {}
    lead_in, gap, tail = (round(seconds * fps) for seconds in (LEAD_IN_S, GAP_S, TAIL_S))
    cut = Cut(title=title, fps=fps, shots=[], made_at=utc(made_at) if made_at is not None else now())
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
    if clips.file_kind(shot.image) in ("mp4", "mkv"):
        try:
            return replace(shot, clip_frames=clips.clip_length(shot.image, f"{shot.code}: take {number}"))
        except GenerateError:
            return replace(shot, clip_frames=0)  # the animatic slates it as unreadable, and says so
    return replace(shot, clip_frames=0)


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


def to_otio(cut: Cut, *, relative_to: Path | None = None) -> otio.schema.Timeline:
    """The cut as an OTIO timeline at the production's frame rate, starting at
    ``PROGRAM_START``: a video track (one clip per shot, named by its code), a scratch-dialogue
    audio track, and a marker per note.

    Media references are URLs relative to ``relative_to`` (the folder the timeline is written
    to, which must hold every file) or, without it, absolute ``file://`` URLs."""
    rate = cut.rate
    timeline = otio.schema.Timeline(
        name=_one_line(cut.title),
        global_start_time=program_start(rate),
        metadata={"soundstage": {"made_at": iso(cut.made_at)}},
    )
    video = otio.schema.Track(name=VIDEO_TRACK, kind=otio.schema.TrackKind.Video)
    for shot in cut.shots:
        video.extend(_shot_items(shot, rate, relative_to))
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
                    target_url=media_url(line.wav, relative_to), available_range=_range(0, line.frames, rate)
                ),
                source_range=_range(0, line.frames, rate),
                metadata={"soundstage": {"shot": line.shot, "character": line.character, "text": line.text}},
            )
        )
        position = line.start + line.frames
    timeline.tracks.append(video)
    timeline.tracks.append(audio)
    return timeline


def media_url(path: Path, relative_to: Path | None = None) -> str:
    """The URL an editorial file uses for ``path``: relative to ``relative_to`` (percent-encoded,
    "/"-separated, as RFC 3986 writes a relative reference), else an absolute ``file://`` URL.
    CutError when ``path`` is not inside ``relative_to``."""
    if relative_to is None:
        return path.resolve().as_uri()
    try:
        relative = path.resolve().relative_to(relative_to.resolve())
    except ValueError:
        raise CutError(f"{path}: outside the cut folder {relative_to}; it cannot be referred to from there") from None
    return quote(PurePosixPath(*relative.parts).as_posix())


def resolve_media_url(url: str, folder: Path) -> Path:
    """The file a media reference ``url`` of an editorial file in ``folder`` names: a relative
    URL is resolved against the folder, a ``file://`` URL is its path."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme:
        raise CutError(f"{url}: not a file reference")
    return folder / Path(unquote(parsed.path))


def _shot_items(shot: CutShot, rate: float, relative_to: Path | None) -> list[otio.schema.Clip]:
    """A shot on the video track: one clip, and for a clip take shorter than the shot a second
    one after it, its last frame held (``hold_clip``)."""
    clip = _shot_clip(shot, rate, relative_to)
    if not shot.plays_clip or shot.clip_frames >= shot.frames:
        return [clip]
    return [clip, hold_clip(clip, shot, rate)]


def hold_clip(clip: otio.schema.Clip, shot: CutShot, rate: float) -> otio.schema.Clip:
    """The rest of a shot whose clip take ends before it: the clip's last frame, frozen (OTIO's
    FreezeFrame effect, which the EDL writes as an M2 line at speed 0), as the animatic holds it.
    The shot's notes past the clip's end sit on it, at their frame of the shot."""
    last, rest = shot.clip_frames - 1, shot.frames - shot.clip_frames
    hold = otio.schema.Clip(
        name=f"{shot.code} hold",
        media_reference=clip.media_reference.clone(),
        source_range=_range(last, rest, rate),
        metadata={"soundstage": {**clip.metadata["soundstage"], "hold": True}, "cmx_3600": clip.metadata["cmx_3600"]},
    )
    hold.effects.append(otio.schema.FreezeFrame())
    for marker in list(clip.markers):
        frame = round(marker.marked_range.start_time.value)
        if frame >= shot.clip_frames:
            clip.markers.remove(marker)
            marker.marked_range = _range(last + frame - shot.clip_frames, 0, rate)
            hold.markers.append(marker)
    return hold


def _shot_clip(shot: CutShot, rate: float, relative_to: Path | None) -> otio.schema.Clip:
    """One shot's clip: the take's still or clip, or a generator standing in for the missing
    picture. A clip take's reference is the clip with its own frames available; the shot plays
    its first frames (all of them when the shot is longer, and ``hold_clip`` holds the last)."""
    available = _range(0, shot.frames, rate)
    if shot.image is not None:
        if shot.plays_clip:
            available = _range(0, shot.clip_frames, rate)
        reference: otio.core.MediaReference = otio.schema.ExternalReference(
            target_url=media_url(shot.image, relative_to), available_range=available
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
        source_range=_range(0, min(shot.frames, shot.clip_frames) if shot.plays_clip else shot.frames, rate),
        metadata={
            "soundstage": {
                "shot": shot.code, "scene": shot.scene, "take": shot.take, "status": shot.status,
                "move": shot.move, "description": shot.description,
                **({"clip_frames": shot.clip_frames} if shot.plays_clip else {}),
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


def _range(start: int, frames: int, rate: float) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(otio.opentime.RationalTime(start, rate), otio.opentime.RationalTime(frames, rate))


def _one_line(text: str) -> str:
    """Names on one line: an EDL comment ends at the line break."""
    return " ".join(text.split())


# -- the cut folder ------------------------------------------------------------------------


def collect_media(cut: Cut, out_dir: Path) -> Cut:
    """The cut with every file it refers to inside ``out_dir``: take images found elsewhere are
    copied into ``takes/`` and spoken lines into ``dialogue/`` (each written atomically, a
    file already there with the same bytes left alone), so the folder is whole on its own."""
    placed: dict[Path, Path] = {}

    def inside(path: Path, folder: str) -> Path:
        source = path.resolve()
        if source.is_relative_to(out_dir.resolve()):
            return path
        if source not in placed:
            placed[source] = _copy_into(source, out_dir / folder, set(placed.values()))
        return placed[source]

    shots = [replace(s, image=inside(s.image, TAKES_FOLDER)) if s.image is not None else s for s in cut.shots]
    dialogue = [replace(line, wav=inside(line.wav, DIALOGUE_FOLDER)) for line in cut.dialogue]
    return replace(cut, shots=shots, dialogue=dialogue)


def _copy_into(source: Path, folder: Path, taken: set[Path]) -> Path:
    """Copy ``source`` into ``folder`` under its own name (with a hash of its bytes added when
    another file took that name in this cut); returns the copy."""
    try:
        data = source.read_bytes()
    except OSError as failure:
        raise CutError(f"{source}: cannot read it into the cut: {failure.strerror or failure}") from None
    target = folder / source.name
    if target in taken:
        target = folder / f"{source.stem}_{hashlib.sha256(data).hexdigest()[:12]}{source.suffix}"
    if not (target.is_file() and target.read_bytes() == data):
        write_atomic(target, data, what="cut's copy", error=CutError)
    return target


# -- writing -------------------------------------------------------------------------------


def edl_text(timeline: otio.schema.Timeline) -> str:
    """The CMX 3600 EDL of ``timeline``'s picture track (otio-cmx3600-adapter), with the
    frame-code mode line it leaves out and the record timecode on the timeline's clock.

    The adapter writes record timecode from zero and ignores the timeline's start, so the
    picture is written after a gap as long as that start (a gap gives no event); its reader
    takes the first record timecode as the start again."""
    edl = timeline.deepcopy()
    start = edl.global_start_time
    if start is not None and start.value > 0:
        for track in edl.video_tracks():
            track.insert(0, otio.schema.Gap(source_range=otio.opentime.TimeRange(duration=start)))
    text = otio.adapters.write_to_string(edl, "cmx_3600")
    # Every rate is written as non-drop timecode (23.976 and 29.97 too, counting 24 and 30
    # frames a second); a drop-frame cut (29.97 DF) would say DROP FRAME here.
    fcm = "FCM: NON-DROP FRAME"
    head, _, body = text.partition("\n\n")
    return f"{head}\n{fcm}\n\n{body}" if head.startswith("TITLE:") else f"{fcm}\n\n{text}"


def write_editorial(cut: Cut, out_dir: Path, name: str, *, size: tuple[int, int] = (1280, 720)) -> dict[str, Path]:
    """``name.otio``, ``name.edl`` (CMX 3600, the video track), ``name.xml`` (FCP 7) and
    ``name.fcpxml`` (Final Cut Pro X, DaVinci Resolve) in ``out_dir``, each written atomically,
    with the takes and spoken lines they refer to copied in (``collect_media``) and referred to
    relatively; returns them by format ("otio", "edl", "xml", "fcpxml"). ``size`` is the
    picture size the FCPXML's sequence format names."""
    cut = collect_media(cut, out_dir)
    timeline = to_otio(cut, relative_to=out_dir)
    writers: list[tuple[str, str, str, Callable[[], str]]] = [
        # A copy each: the adapters write their own metadata onto the clips as they go.
        ("otio", ".otio", "OTIO timeline", lambda: otio.adapters.write_to_string(timeline.deepcopy(), "otio_json")),
        ("edl", ".edl", "EDL", lambda: edl_text(timeline)),
        ("xml", ".xml", "FCP XML", lambda: otio.adapters.write_to_string(timeline.deepcopy(), "fcp_xml")),
        ("fcpxml", ".fcpxml", "FCPXML", lambda: fcpxml_text(timeline, size)),
    ]
    written = {}
    for key, suffix, what, write in writers:
        try:
            text = write()
        except otio.exceptions.OTIOError as error:
            raise CutError(f"{cut.title}: cannot write the {what}: {error}") from None
        path = out_dir / f"{name}{suffix}"
        write_atomic(path, text.encode(), what=what, error=CutError)
        written[key] = path
    return written
