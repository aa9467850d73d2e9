"""Blocking and previs: the production's characters (mask ids and colours), a USD layout per
shot (animated where the shot moves: ``layout.action``), and the previs passes rendered from
each layout into the media store, with framing checks and a contact sheet per scene.

A moving shot's passes are also stored as clips, one lossless Matroska file per pass
(``render.video.ClipWriter``: what the video backends and the checks read), every frame of
the layout at the production's rate, encoded as the frames are drawn. Its render row keeps the clips, their frame count and
rate beside the first frame's passes as PNGs, which is what a still take, the checks and the
boards read."""

from __future__ import annotations

import hashlib
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from soundstage.errors import ProductionError, SoundstageError
from soundstage.generate import clips
from soundstage.layout.action import scene_motion
from soundstage.layout.framing import block_scene, character_colour
from soundstage.plan.model import Shot, scene_code
from soundstage.project import drafts, shotlist
from soundstage.project.production import LAYOUTS_DIR, Context, Progress, no_progress
from soundstage.store.tables import CharacterRow, LayoutRow, RenderRow, ShotRow, utcnow

CLIP_SUFFIX = clips.SUFFIXES["mkv"]  # a moving shot's pass in the media store

if TYPE_CHECKING:
    import numpy as np

    from soundstage.render.clips import ClipRenderer, ShotClip
    from soundstage.render.previs import Passes
    from soundstage.render.video import ClipFiles


@dataclass(slots=True)
class LayoutReport:
    """What ``layout`` wrote."""

    written: list[str] = field(default_factory=list)  # shot codes whose .usda was (re)written
    unchanged: int = 0  # layouts already as the plan asks
    kept_edited: list[str] = field(default_factory=list)  # edited by hand, left alone (no --force)


@dataclass(slots=True)
class PrevisReport:
    """What ``previs`` rendered and found."""

    rendered: list[str] = field(default_factory=list)
    moving: list[str] = field(default_factory=list)  # of those rendered, the shots stored as clips too
    up_to_date: int = 0
    failed: list[str] = field(default_factory=list)  # one line each: why a shot did not render
    framing: list[str] = field(default_factory=list)  # one line each: "CODE: reason"
    contact_sheets: dict[str, Path] = field(default_factory=dict)  # scene number -> PNG in the media store


@dataclass(slots=True)
class _PrevisRun:
    """What every shot of one ``previs`` run shares."""

    renderer: ClipRenderer
    encoder: ThreadPoolExecutor
    ids: dict[str, int]
    size: tuple[int, int]
    force: bool
    report: PrevisReport


def characters(context: Context, names: set[str]) -> dict[str, tuple[int, tuple[float, float, float]]]:
    """Mask id and colour of each named character, giving new characters theirs; both stay the
    same for a character across the whole production."""
    with context.transaction() as session:
        rows = {r.name: r for r in session.scalars(select(CharacterRow))}
        used = {r.mask_id for r in rows.values()}
        for name in sorted(names - set(rows)):
            free = next((i for i in range(1, 256) if i not in used), None)
            if free is None:
                raise ProductionError(f"{context.root}: more than 255 characters; id masks hold 255 at most")
            used.add(free)
            rows[name] = CharacterRow(name=name, mask_id=free, colour=list(character_colour(name, free)))
            session.add(rows[name])
        return {n: (r.mask_id, tuple(r.colour)) for n, r in rows.items() if n in names}  # type: ignore[misc]


def layout_path(context: Context, shot: Shot) -> Path:
    """Where a shot's USD layout lives."""
    return context.root / LAYOUTS_DIR / scene_code(shot.scene) / f"{shot.code}.usda"


def layout(
    context: Context, *, force: bool = False, scene: str | None = None, progress: Progress = no_progress
) -> LayoutReport:
    """Write a USD layout for every shot (or one scene's) from the shot list.

    A layout edited by hand is never overwritten unless ``force``; it is reported instead.
    """
    from soundstage.layout.usd import build_layout, export_layout, save_layout  # usd-core (~80 MB): layout only

    shots = shotlist.shots(context, scene)
    sheets = {s.number: s.breakdown for s in drafts.breakdown(context)}
    scenes = dict(zip(sheets, drafts.script(context).scenes, strict=True))
    cast = {name for shot in shots for name in shot.subjects}
    cast |= {n for shot in shots for n in (*sheets[shot.scene].speaking, *sheets[shot.scene].non_speaking)}
    known = characters(context, cast)
    ids = {name: mask for name, (mask, _colour) in known.items()}
    colours = {name: colour for name, (_mask, colour) in known.items()}
    edited = set(shotlist.edited_layouts(context))
    report = LayoutReport()
    by_scene: dict[str, list[Shot]] = {}
    for shot in shots:
        by_scene.setdefault(shot.scene, []).append(shot)
    done = 0
    with context.transaction() as session:
        shot_ids = dict(session.execute(select(ShotRow.code, ShotRow.id)).all())
        layouts = {r.shot_id: r for r in session.scalars(select(LayoutRow))}
        for number, scene_shots in by_scene.items():
            blockings = block_scene(scene_shots, sheets[number])
            # What moves, read from the action lines; a shot where nothing moves is written
            # exactly as before (no time samples).
            motions = scene_motion(
                scene_shots,
                scenes[number],
                sheets[number],
                blockings,
                context.settings.fps,
                context.settings.plan.timing,
            )
            for shot in scene_shots:
                done += 1
                path = layout_path(context, shot)
                if shot.code in edited and not force:
                    report.kept_edited.append(shot.code)
                    continue
                stage = build_layout(shot, blockings[shot.code], colours, ids, motion=motions[shot.code])
                if path.exists() and export_layout(stage) == path.read_bytes():
                    report.unchanged += 1
                    data = path.read_bytes()
                else:
                    data = save_layout(stage, path)
                    report.written.append(shot.code)
                row = layouts.get(shot_ids[shot.code])
                relative = str(path.relative_to(context.root))
                digest = hashlib.sha256(data).hexdigest()
                if row is None:
                    session.add(LayoutRow(shot_id=shot_ids[shot.code], path=relative, written_sha256=digest))
                elif row.written_sha256 != digest or row.path != relative:
                    row.path, row.written_sha256, row.written_at = relative, digest, utcnow()
                progress(done, len(shots))
    return report


def previs(
    context: Context,
    *,
    size: tuple[int, int] = (1280, 720),
    force: bool = False,
    scene: str | None = None,
    progress: Progress = no_progress,
) -> PrevisReport:
    """Render every laid-out shot's previs passes into the media store, check the framing, and
    make a contact sheet per scene. A moving shot's passes are clips as well (every frame of
    its layout); a static shot's are one frame. A shot whose layout did not change since its
    last render at this size is not rendered again unless ``force``. A shot that fails to
    render is reported and the others go on; its passes never reach the media store half
    written. The passes carry no burn-in: the animatic draws the shot's code, size and lens
    once, over the take."""
    from soundstage.render.clips import ClipRenderer  # GL, usd-core: here only
    from soundstage.render.previs import PASSES, contact_sheet, to_png

    shots = [s for s in shotlist.shots(context, scene) if layout_path(context, s).exists()]
    report = PrevisReport()
    with context.transaction() as session:
        ids = {r.name: r.mask_id for r in session.scalars(select(CharacterRow))}
        shot_ids = dict(session.execute(select(ShotRow.code, ShotRow.id)).all())
        renders = {r.shot_id: r for r in session.scalars(select(RenderRow))}
    done = 0
    # GL objects are freed by close(), not by the GC. PNG and FFV1 encoding cost more than the
    # render; Pillow and FFmpeg release the GIL while they compress, so the four passes encode
    # side by side.
    with ClipRenderer() as renderer, ThreadPoolExecutor(len(PASSES)) as encoder:
        run = _PrevisRun(renderer, encoder, ids, size, force, report)
        # Shots come in scene order: each scene's contact sheet is made as the scene ends, so
        # memory holds one scene's frames, not the whole show's.
        for number, scene_shots in groupby(shots, key=lambda s: s.scene):
            frames = []
            for shot in scene_shots:
                done += 1
                progress(done, len(shots))
                shot_id = shot_ids[shot.code]
                storyboard = _previs_shot(context, run, shot, shot_id, renders.get(shot_id))
                if storyboard is not None:
                    frames.append((shot.code, storyboard))
            if frames:
                sha = context.media.put_bytes(to_png(contact_sheet(frames)), ".png")
                report.contact_sheets[number] = context.media.path(sha, ".png")
    return report


def _previs_shot(
    context: Context, run: _PrevisRun, shot: Shot, shot_id: int, previous: RenderRow | None
) -> np.ndarray | None:
    """Render one shot (or reuse its render when its layout is unchanged); its first storyboard frame."""
    from soundstage.render.checks import check_framing  # OpenCV and the renderer: previs only
    from soundstage.render.clips import ShotClip
    from soundstage.render.previs import PASSES, read_png, to_png

    path = layout_path(context, shot)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if previous and not run.force and (previous.layout_sha256, previous.width, previous.height) == (digest, *run.size):
        run.report.up_to_date += 1
        run.report.framing += [f"{shot.code}: {issue}" for issue in previous.issues]
        return read_png(context.media.path(previous.storyboard_sha256, ".png"))
    try:
        layout = ShotClip(path)
        # Stored passes are the picture alone: burn-ins are one layer, drawn once by the
        # animatic (cut/animatic.py), so a take made from these carries none into the cut.
        with tempfile.TemporaryDirectory(prefix="soundstage-previs-") as folder:
            first, last, count, clip_files = _render_frames(run, layout, shot.code, Path(folder))
            clip_shas = None
            if clip_files is not None:
                clip_shas = {n: context.media.put_file(p, CLIP_SUFFIX) for n, p in clip_files.paths.items()}
    except SoundstageError as error:
        run.report.failed.append(str(error))
        return None
    # The framing is checked where the blocking lands: a camera move ends on the planned
    # frame and an entrance on the character's mark (for a still, the one frame).
    expected = {name: run.ids[name] for name in shot.subjects if name in run.ids}
    issues = [issue.reason for issue in check_framing(last, expected, shot.size.value)]
    run.report.framing += [f"{shot.code}: {issue}" for issue in issues]
    pngs = run.encoder.map(to_png, [getattr(first, name) for name in PASSES])
    stored = {name: context.media.put_bytes(png, ".png") for name, png in zip(PASSES, pngs, strict=True)}
    if clip_shas is not None:
        run.report.moving.append(shot.code)
    with context.transaction() as session:
        row = session.scalars(select(RenderRow).where(RenderRow.shot_id == shot_id)).first()
        if row is None:
            row = RenderRow(shot_id=shot_id)
            session.add(row)
        row.layout_sha256, row.width, row.height, row.issues = digest, *run.size, issues
        row.storyboard_sha256, row.depth_sha256 = stored["storyboard"], stored["depth"]
        row.lineart_sha256, row.ids_sha256 = stored["lineart"], stored["ids"]
        row.frames, row.fps, row.clips = count, _rate_text(layout.timing.rate), clip_shas
        row.rendered_at = utcnow()
    run.report.rendered.append(shot.code)
    return first.storyboard


def _render_frames(
    run: _PrevisRun, layout: ShotClip, code: str, folder: Path
) -> tuple[Passes, Passes, int, ClipFiles | None]:
    """Render every frame of ``layout``: (first frame's passes, last frame's, frame count, and
    for a moving shot its clips, written into ``folder``). The frames stream into the clip
    encoders as they are drawn (a thread per pass, a short queue), so memory holds a few
    frames, not the shot: at 1280x720 a frame's four passes are 6.5 MB."""
    from soundstage.render.video import ClipWriter  # with the renderer: previs only

    frames = run.renderer.frames(layout, width=run.size[0], height=run.size[1], burn_in=None)
    if layout.timing.static:
        (only,) = list(frames)
        return only, only, 1, None
    seen: list[Passes] = []  # the first frame and the newest
    with ClipWriter(folder, code, run.size, layout.timing.rate, layout.timing.frames) as writer:
        for passes in frames:
            seen[1:] = [passes]
            writer.add(passes)
        files = writer.close()  # a RenderError unless every frame was written
    return seen[0], seen[-1], files.frames, files


def _rate_text(rate: Fraction) -> str:
    """A rate as the recipe writes it: "24", "24000/1001"."""
    return str(Fraction(rate))


@dataclass(frozen=True, slots=True)
class PassClips:
    """A moving shot's previs passes as clips in the media store."""

    frames: int
    fps: Fraction
    shas: dict[str, str]  # pass name -> sha256 of its .mkv
    paths: dict[str, Path]


def pass_clips(context: Context, code: str) -> PassClips | None:
    """The clips of a shot's newest previs render, or None for a still (or no render)."""
    with context.reading() as session:
        row = session.scalars(select(RenderRow).join(ShotRow).where(ShotRow.code == code.upper())).first()
        if row is None or not row.clips:
            return None
        shas = dict(row.clips)
        return PassClips(
            row.frames, Fraction(row.fps), shas, {n: context.media.path(s, CLIP_SUFFIX) for n, s in shas.items()}
        )


def storyboard(context: Context, code: str) -> Path | None:
    """The newest storyboard frame of a shot in the media store, if it was rendered."""
    with context.transaction() as session:
        sha = session.scalars(
            select(RenderRow.storyboard_sha256).join(ShotRow).where(ShotRow.code == code.upper())
        ).first()
    return context.media.path(sha, ".png") if sha else None
