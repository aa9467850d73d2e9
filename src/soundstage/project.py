"""The production folder, and the facade the CLI (and later the web) call.

Stages are plain functions in their own packages and know nothing of storage; this module
opens a production, runs the stages and persists what they produce, one transaction per
command, so a failed command leaves the production as it was.
"""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
import re
import shutil
import socket
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from soundstage import __version__
from soundstage.checks import (
    CharacterIntent,
    Embedder,
    Finding,
    OtherTakes,
    ShotIntent,
    TakeSignature,
    Verdict,
    check_take,
    embedder_for,
    prepare_intent,
    signature,
)
from soundstage.checks.features import LAYOUT_LENGTH
from soundstage.config import SETTINGS_FILE, BibleEntry, Credentials, Settings, default_toml, load_settings
from soundstage.cut.animatic import write_animatic
from soundstage.cut.timeline import CutShot, Note, assemble, spoken_lines, write_editorial
from soundstage.errors import ConfigError, CutError, ProductionError, ScriptError, ShotError, SoundstageError
from soundstage.files import write_atomic
from soundstage.generate import queue
from soundstage.generate.backend import (
    DEPTH,
    IDS,
    LINEART,
    REFERENCE_PREFIX,
    STORYBOARD,
    STYLE_PREFIX,
    Recipe,
    parse_take_name,
    take_name,
)
from soundstage.generate.metadata import embed_recipe
from soundstage.generate.prompt import compose_negative, compose_prompt
from soundstage.generate.registry import backend_for
from soundstage.generate.worker import LocalExecutor, MediaInputs, WorkReport
from soundstage.layout.framing import block_scene, character_colour
from soundstage.layout.usd import build_layout, export_layout, save_layout
from soundstage.plan.coverage import cover_scene
from soundstage.plan.model import Shot, scene_code
from soundstage.provenance.credentials import (
    Approval,
    Signer,
    TakeProvenance,
    make_project_identity,
    sign_animatic,
    sign_take,
)
from soundstage.provenance.disclosure import Disclosure, DisclosureRow, write_disclosure
from soundstage.render.checks import check_framing
from soundstage.render.previs import PASSES, PrevisRenderer, contact_sheet, load_scene, read_png, to_png
from soundstage.review import records
from soundstage.review.audit import ChainReport, Event
from soundstage.review.audit import verify as verify_chain
from soundstage.review.records import Decision
from soundstage.review.workflow import Action
from soundstage.script.breakdown import SceneBreakdown, break_down
from soundstage.script.formats import Format, parse_script, read_script, write_script
from soundstage.script.model import Script
from soundstage.script.revisions import KnownScene, body_sha256, match_scenes, number_scenes
from soundstage.store.db import make_engine, session_scope, sqlite_url, upgrade
from soundstage.store.media import MediaStore
from soundstage.store.rows import shot_row, take_row
from soundstage.store.tables import (
    CharacterRow,
    Draft,
    FindingRow,
    JobRow,
    LayoutRow,
    NoteRow,
    RenderRow,
    SceneRow,
    ShotRow,
    TakeRow,
    UserRow,
    utcnow,
)

DATABASE_FILE = "soundstage.db"
MEDIA_DIR = "media"
LAYOUTS_DIR = "layouts"
# Progress callbacks get (done, total).
Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    return None


@dataclass(slots=True)
class ImportReport:
    """What a (re-)import did to the production's scenes."""

    draft: int
    title: str
    scenes: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0


@dataclass(slots=True)
class PlanReport:
    """What a (re-)plan did to the shot list."""

    scenes: int
    shots: int
    frames: int
    kept_edits: list[str] = field(default_factory=list)  # shots whose artist edits were re-applied
    orphaned: list[str] = field(default_factory=list)  # edited shots the new plan no longer proposes
    edited_layouts: list[str] = field(default_factory=list)  # layouts edited by hand; layout keeps them


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
    up_to_date: int = 0
    failed: list[str] = field(default_factory=list)  # one line each: why a shot did not render
    framing: list[str] = field(default_factory=list)  # one line each: "CODE: reason"
    contact_sheets: dict[str, Path] = field(default_factory=dict)  # scene number -> PNG in the media store


@dataclass(slots=True)
class CheckReport:
    """What ``check`` found: findings per take ("012_0030/2"), and shots it could not check."""

    findings: dict[str, list[Finding]] = field(default_factory=dict)
    not_checked: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CutReport:
    """What ``cut`` wrote and changed."""

    cut_id: str
    out: Path
    shots: int = 0
    frames: int = 0
    outputs: dict[str, Path] = field(default_factory=dict)  # otio, edl, xml, animatic, disclosure...
    lengthened: list[str] = field(default_factory=list)  # "CODE: planned -> new frames"
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TakeOptions:
    """What an artist asks of new takes (``soundstage take``)."""

    backend: str = ""  # "" for the production's default
    seed: int | None = None  # None: a seed derived from the shot code, recorded like any other
    prompt: str = ""
    negative: str = ""
    strength: float | None = None
    steps: int | None = None
    guidance: float | None = None
    count: int = 1
    requested_by: str = ""


@dataclass(frozen=True, slots=True)
class TakeInfo:
    """A take (or a job that has not become one yet) as ``soundstage takes`` lists it."""

    name: str  # "012_0030/2", or "job 17" before it is done
    state: str
    recipe: Recipe
    path: Path | None
    error: str


@dataclass(frozen=True, slots=True)
class SceneSheet:
    """A scene's breakdown under its production number."""

    number: str
    breakdown: SceneBreakdown


@dataclass(slots=True)
class _PrevisRun:
    """What every shot of one ``previs`` run shares."""

    renderer: PrevisRenderer
    encoder: ThreadPoolExecutor
    ids: dict[str, int]
    size: tuple[int, int]
    burn_in: bool
    force: bool
    report: PrevisReport


class Production:
    """An open production folder: settings, database and media store."""

    def __init__(self, root: Path, settings: Settings, engine: Engine) -> None:
        self.root = root
        self.settings = settings
        self.engine = engine
        self.media = MediaStore(root / MEDIA_DIR)
        self._script: Script | None = None
        self._sheets: list[SceneSheet] | None = None  # breakdown of the current draft, once per open
        self._bible_images: dict[str, str] = {}  # bible image path -> media sha256
        self._signatures: dict[int, TakeSignature] = {}  # take id -> signature (intent checks)
        self._layouts: dict[int, np.ndarray] = {}  # take id -> its signature's layout row
        self._checks_embedder: Embedder | None = None  # made on first use: a model embedder loads weights

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def init(cls, root: Path, *, database_url: str = "", title: str = "") -> Production:
        """Make a new production folder; on any failure nothing is left behind."""
        if (root / SETTINGS_FILE).exists():
            raise ProductionError(f"{root}: already a production ({SETTINGS_FILE} exists)")
        if root.exists() and not root.is_dir():
            raise ProductionError(f"{root}: exists and is not a folder")
        credentials = root / Path(Credentials().certificate).parent
        made = [p for p in (root, root / MEDIA_DIR, root / LAYOUTS_DIR, credentials) if not p.exists()]
        try:
            for folder in made:
                folder.mkdir(parents=True)
            (root / SETTINGS_FILE).write_text(default_toml(title, database_url), encoding="utf-8")
            # The signing identity of the production's content credentials (a project CA and
            # a signer); studios can point [credentials] at their own certificate instead.
            make_project_identity(credentials, title or root.name)
            return cls.open(root)
        except BaseException:
            # Leave the folder as it was: remove exactly what this call made.
            for name in (SETTINGS_FILE, DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm"):
                (root / name).unlink(missing_ok=True)
            for folder in reversed(made):
                shutil.rmtree(folder, ignore_errors=True)
            raise

    @classmethod
    def open(cls, root: Path) -> Production:
        """Open an existing production, migrating its database to the current schema."""
        if not (root / SETTINGS_FILE).is_file():
            raise ProductionError(f"{root}: not a production (no {SETTINGS_FILE}); run: soundstage init {root}")
        settings = load_settings(root)
        url = settings.database_url or sqlite_url(root / DATABASE_FILE)
        engine = make_engine(url)
        upgrade(engine)
        return cls(root, settings, engine)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Production:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the script ------------------------------------------------------------------------

    def import_script(self, path: Path) -> ImportReport:
        """Read a screenplay (a first draft or a revision) into the production."""
        script, data = read_script(path, self.settings.max_script_bytes)
        if not script.scenes:
            # Importing it would mark every scene removed; a draft without headings is a mistake.
            raise ScriptError("no scene headings found (INT. / EXT. / a forced '.' heading)", path=path)
        previous = self._latest_script()
        sha = self.media.put_bytes(data, path.suffix.lower())
        with session_scope(self.engine) as session:
            report = self._record_draft(session, script, previous, path.name, sha)
        self._script, self._sheets = script, None
        return report

    def _record_draft(
        self, session: Session, script: Script, previous: Script | None, name: str, sha: str
    ) -> ImportReport:
        rows = session.scalars(select(SceneRow)).all()
        current = [r for r in rows if r.position is not None]
        known = [
            KnownScene(r.id, r.number, previous.scenes[r.position].heading, previous.scenes[r.position].body_text())
            for r in current
            if previous is not None and r.position is not None and r.position < len(previous.scenes)
        ]
        matching = match_scenes(known, script.scenes)
        by_id = {r.id: r for r in rows}
        wanted: list[str | None] = []
        for scene, scene_id in zip(script.scenes, matching.matched):
            if scene_id is not None:
                wanted.append(by_id[scene_id].number)
            else:
                wanted.append(_usable_number(scene.number))
        in_draft = {by_id[i].number for i in matching.matched if i is not None}
        numbers = number_scenes(wanted, {r.number for r in rows} - in_draft)

        draft = Draft(
            source_name=name,
            source_sha256=sha,
            format=script.format,
            title=script.title,
            scene_count=len(script.scenes),
        )
        session.add(draft)
        session.flush()
        report = ImportReport(draft=draft.id, title=script.title, scenes=len(script.scenes))
        for row in current:
            row.position = None
        session.flush()
        for position, (scene, scene_id, changed, number) in enumerate(
            zip(script.scenes, matching.matched, matching.changed, numbers)
        ):
            digest = body_sha256(scene)
            if scene_id is None:
                session.add(
                    SceneRow(
                        number=number,
                        position=position,
                        heading=scene.heading,
                        body_sha256=digest,
                        first_draft_id=draft.id,
                        changed_draft_id=draft.id,
                    )
                )
                if previous is not None:
                    report.added.append(number)
                continue
            row = by_id[scene_id]
            row.position, row.heading, row.removed_draft_id = position, scene.heading, None
            if changed or row.body_sha256 != digest:
                row.body_sha256, row.changed_draft_id = digest, draft.id
                report.changed.append(number)
            else:
                report.unchanged += 1
        for scene_id in matching.removed:
            by_id[scene_id].removed_draft_id = draft.id
            report.removed.append(by_id[scene_id].number)
        return report

    def script(self) -> Script:
        """The current draft, parsed (once per open production)."""
        script = self._latest_script()
        if script is None:
            raise ProductionError(f"{self.root}: no screenplay yet; run: soundstage import SCRIPT")
        return script

    def _latest_script(self) -> Script | None:
        if self._script is None:
            with session_scope(self.engine) as session:
                draft = session.scalars(select(Draft).order_by(Draft.id.desc()).limit(1)).first()
                if draft is None:
                    return None
                name, sha = draft.source_name, draft.source_sha256
            with self.media.open(sha, Path(name).suffix.lower()) as source:
                self._script = parse_script(source.read(), name)
        return self._script

    def title(self) -> str:
        """The production's title: ``title`` in soundstage.toml, else the script's title page."""
        return self.settings.title or self.script().title

    def scene_numbers(self) -> list[str]:
        """Production scene numbers of the current draft, in script order."""
        with session_scope(self.engine) as session:
            rows = session.scalars(select(SceneRow).where(SceneRow.position.is_not(None)).order_by(SceneRow.position))
            return [r.number for r in rows]

    def export_script(self, fmt: Format) -> bytes:
        """The current draft as a Fountain or FDX file, with the production's scene numbers."""
        script = self.script()
        for scene, number in zip(script.scenes, self.scene_numbers()):
            scene.number = number
        return write_script(script, fmt)

    def breakdown(self) -> list[SceneSheet]:
        """The breakdown of every scene of the current draft (worked out once per open production)."""
        if self._sheets is None:
            self._sheets = [SceneSheet(n, b) for n, b in zip(self.scene_numbers(), break_down(self.script()))]
        return self._sheets

    # -- the shot list ---------------------------------------------------------------------

    def plan(self, progress: Progress = _no_progress) -> PlanReport:
        """Propose shots for every scene by the coverage rules; artists' edits are kept.

        An artist's edits follow what the shot covers, not its code: when a revision shifts a
        scene's shots, the edits move to the new shot with the same purpose and description
        (the line or action it covers). A shot keeps its row when the new plan proposes its
        code; an edited shot whose content the plan no longer proposes is kept aside, not deleted.
        """
        script = self.script()
        sheets = self.breakdown()
        plan, fps = self.settings.plan, self.settings.fps
        report = PlanReport(scenes=len(sheets), shots=0, frames=0)
        with session_scope(self.engine) as session:
            scene_ids = dict(
                session.execute(select(SceneRow.number, SceneRow.id).where(SceneRow.position.is_not(None))).all()
            )
            existing = {
                row.code: row
                for row in session.execute(
                    select(ShotRow.id, ShotRow.code, ShotRow.scene_id, ShotRow.edits, ShotRow.planned).where(
                        ShotRow.scene_id.in_(scene_ids.values())
                    )
                ).all()
            }
            # Rows are written in bulk (one INSERT and one UPDATE for the whole plan): the ORM
            # unit of work takes ten times as long on a feature's 1,500 shots.
            inserts: list[dict[str, object]] = []
            updates: list[dict[str, object]] = []
            placed: set[str] = set()  # codes of edited rows whose edits found a shot
            previous_location: str | None = None
            for i, (scene, sheet) in enumerate(zip(script.scenes, sheets)):
                shots = cover_scene(scene, sheet.breakdown, sheet.number, previous_location, plan, fps)
                previous_location = sheet.breakdown.location
                edits_for = _follow_edits(
                    shots, [r for r in existing.values() if r.scene_id == scene_ids[sheet.number]]
                )
                for position, shot in enumerate(shots):
                    planned = shot.model_dump(mode="json")
                    source, edits = edits_for.get(shot.code, (None, {}))
                    if source is not None:
                        placed.add(source)
                        report.kept_edits.append(shot.code if source == shot.code else f"{source} -> {shot.code}")
                        shot = shot.edited(edits)
                    if shot.code in existing:
                        updates.append(
                            {"id": existing[shot.code].id, "position": position, "planned": planned,
                             "edits": edits, "in_plan": True}
                        )  # fmt: skip
                    else:
                        inserts.append(
                            {"scene_id": scene_ids[sheet.number], "code": shot.code, "position": position,
                             "planned": planned, "edits": edits, "in_plan": True, "note": ""}
                        )  # fmt: skip
                    report.shots += 1
                    report.frames += shot.frames
                progress(i + 1, len(sheets))
            proposed = {u["id"] for u in updates}
            stale = [r for r in existing.values() if r.id not in proposed]
            kept_aside = [r for r in stale if r.edits and r.code not in placed]
            report.orphaned = [r.code for r in kept_aside]
            dropped = [r.id for r in stale if r not in kept_aside]
            if dropped:
                session.execute(delete(ShotRow).where(ShotRow.id.in_(dropped)))
            if kept_aside:
                session.execute(update(ShotRow), [{"id": r.id, "in_plan": False} for r in kept_aside])
            if updates:
                session.execute(update(ShotRow), updates)
            if inserts:
                session.execute(insert(ShotRow), inserts)
        report.edited_layouts = self.edited_layouts()
        return report

    def shots(self, scene: str | None = None) -> list[Shot]:
        """The shot list as artists see it (the plan with their edits), in cut order."""
        with session_scope(self.engine) as session:
            query = (
                select(ShotRow)
                .join(SceneRow)
                .where(SceneRow.position.is_not(None), ShotRow.in_plan.is_(True))
                .order_by(SceneRow.position, ShotRow.position)
            )
            if scene is not None:
                query = query.where(SceneRow.number == scene.upper())
            return [_effective(r) for r in session.scalars(query)]

    def shot(self, code: str) -> Shot:
        """One shot by its code."""
        with session_scope(self.engine) as session:
            return _effective(shot_row(session, code))

    def edit_shot(self, code: str, edits: dict[str, object]) -> Shot:
        """Apply an artist's edits to a shot; they survive every re-plan."""
        with session_scope(self.engine) as session:
            row = shot_row(session, code)
            merged = {**row.edits, **edits}
            shot = Shot.model_validate(row.planned).edited(merged)
            # Store the validated values (enums as their names in JSON), not the raw input.
            row.edits = {k: v for k, v in shot.model_dump(mode="json").items() if k in merged}
            row.edited_at = utcnow()
            return shot

    # -- blocking and previs -----------------------------------------------------------------

    def characters(self, names: set[str]) -> dict[str, tuple[int, tuple[float, float, float]]]:
        """Mask id and colour of each named character, giving new characters theirs; both stay
        the same for a character across the whole production."""
        with session_scope(self.engine) as session:
            rows = {r.name: r for r in session.scalars(select(CharacterRow))}
            used = {r.mask_id for r in rows.values()}
            for name in sorted(names - set(rows)):
                free = next((i for i in range(1, 256) if i not in used), None)
                if free is None:
                    raise ProductionError(f"{self.root}: more than 255 characters; id masks hold 255 at most")
                used.add(free)
                rows[name] = CharacterRow(name=name, mask_id=free, colour=list(character_colour(name, free)))
                session.add(rows[name])
            return {n: (r.mask_id, tuple(r.colour)) for n, r in rows.items() if n in names}  # type: ignore[misc]

    def layout_path(self, shot: Shot) -> Path:
        """Where a shot's USD layout lives."""
        return self.root / LAYOUTS_DIR / scene_code(shot.scene) / f"{shot.code}.usda"

    def edited_layouts(self) -> list[str]:
        """Shots whose layout file differs from what Soundstage last wrote: edited by hand."""
        with session_scope(self.engine) as session:
            rows = session.execute(select(ShotRow.code, LayoutRow.path, LayoutRow.written_sha256).join(LayoutRow)).all()
        return [code for code, path, sha in rows if _file_sha256(self.root / path) not in (sha, None)]

    def layout(
        self, *, force: bool = False, scene: str | None = None, progress: Progress = _no_progress
    ) -> LayoutReport:
        """Write a USD layout for every shot (or one scene's) from the shot list.

        A layout edited by hand is never overwritten unless ``force``; it is reported instead.
        """
        shots = self.shots(scene)
        sheets = {s.number: s.breakdown for s in self.breakdown()}
        cast = {name for shot in shots for name in shot.subjects}
        cast |= {n for shot in shots for n in (*sheets[shot.scene].speaking, *sheets[shot.scene].non_speaking)}
        characters = self.characters(cast)
        ids = {name: mask for name, (mask, _colour) in characters.items()}
        colours = {name: colour for name, (_mask, colour) in characters.items()}
        edited = set(self.edited_layouts())
        report = LayoutReport()
        by_scene: dict[str, list[Shot]] = {}
        for shot in shots:
            by_scene.setdefault(shot.scene, []).append(shot)
        done = 0
        with session_scope(self.engine) as session:
            shot_ids = dict(session.execute(select(ShotRow.code, ShotRow.id)).all())
            layouts = {r.shot_id: r for r in session.scalars(select(LayoutRow))}
            for number, scene_shots in by_scene.items():
                blockings = block_scene(scene_shots, sheets[number])
                for shot in scene_shots:
                    done += 1
                    path = self.layout_path(shot)
                    if shot.code in edited and not force:
                        report.kept_edited.append(shot.code)
                        continue
                    stage = build_layout(shot, blockings[shot.code], colours, ids)
                    if path.exists() and export_layout(stage) == path.read_bytes():
                        report.unchanged += 1
                        data = path.read_bytes()
                    else:
                        data = save_layout(stage, path)
                        report.written.append(shot.code)
                    row = layouts.get(shot_ids[shot.code])
                    relative = str(path.relative_to(self.root))
                    digest = hashlib.sha256(data).hexdigest()
                    if row is None:
                        session.add(LayoutRow(shot_id=shot_ids[shot.code], path=relative, written_sha256=digest))
                    elif row.written_sha256 != digest or row.path != relative:
                        row.path, row.written_sha256, row.written_at = relative, digest, utcnow()
                    progress(done, len(shots))
        return report

    def previs(
        self,
        *,
        size: tuple[int, int] = (1280, 720),
        burn_in: bool = True,
        force: bool = False,
        scene: str | None = None,
        progress: Progress = _no_progress,
    ) -> PrevisReport:
        """Render every laid-out shot's previs passes into the media store, check the framing,
        and make a contact sheet per scene. A shot whose layout did not change since its last
        render at this size is not rendered again unless ``force``. A shot that fails to render
        is reported and the others go on; its passes never reach the media store half written."""
        shots = [s for s in self.shots(scene) if self.layout_path(s).exists()]
        report = PrevisReport()
        with session_scope(self.engine) as session:
            ids = {r.name: r.mask_id for r in session.scalars(select(CharacterRow))}
            shot_ids = dict(session.execute(select(ShotRow.code, ShotRow.id)).all())
            renders = {r.shot_id: r for r in session.scalars(select(RenderRow))}
        done = 0
        # GL objects are freed by close(), not by the GC. PNG encoding costs twice the render;
        # Pillow releases the GIL while it compresses, so the four passes encode side by side.
        with PrevisRenderer() as renderer, ThreadPoolExecutor(len(PASSES)) as encoder:
            run = _PrevisRun(renderer, encoder, ids, size, burn_in, force, report)
            # Shots come in scene order: each scene's contact sheet is made as the scene ends,
            # so memory holds one scene's frames, not the whole show's.
            for number, scene_shots in groupby(shots, key=lambda s: s.scene):
                frames = []
                for shot in scene_shots:
                    done += 1
                    progress(done, len(shots))
                    shot_id = shot_ids[shot.code]
                    storyboard = self._previs_shot(run, shot, shot_id, renders.get(shot_id))
                    if storyboard is not None:
                        frames.append((shot.code, storyboard))
                if frames:
                    sha = self.media.put_bytes(to_png(contact_sheet(frames)), ".png")
                    report.contact_sheets[number] = self.media.path(sha, ".png")
        return report

    def _previs_shot(self, run: _PrevisRun, shot: Shot, shot_id: int, previous: RenderRow | None) -> np.ndarray | None:
        """Render one shot (or reuse its render when its layout is unchanged); its storyboard."""
        path = self.layout_path(shot)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if (
            previous
            and not run.force
            and (previous.layout_sha256, previous.width, previous.height) == (digest, *run.size)
        ):
            run.report.up_to_date += 1
            run.report.framing += [f"{shot.code}: {issue}" for issue in previous.issues]
            return read_png(self.media.path(previous.storyboard_sha256, ".png"))
        try:
            geometry = load_scene(path)
        except SoundstageError as error:
            run.report.failed.append(str(error))
            return None
        burn = f"{shot.code}  {shot.size.value}  {shot.lens_mm:g}mm" if run.burn_in else None
        passes = run.renderer.render(geometry, width=run.size[0], height=run.size[1], burn_in=burn)
        expected = {name: run.ids[name] for name in shot.subjects if name in run.ids}
        issues = [issue.reason for issue in check_framing(passes, expected, shot.size.value)]
        run.report.framing += [f"{shot.code}: {issue}" for issue in issues]
        pngs = run.encoder.map(to_png, [getattr(passes, name) for name in PASSES])
        stored = {name: self.media.put_bytes(png, ".png") for name, png in zip(PASSES, pngs)}
        with session_scope(self.engine) as session:
            row = session.scalars(select(RenderRow).where(RenderRow.shot_id == shot_id)).first()
            if row is None:
                row = RenderRow(shot_id=shot_id)
                session.add(row)
            row.layout_sha256, row.width, row.height, row.issues = digest, *run.size, issues
            row.storyboard_sha256, row.depth_sha256 = stored["storyboard"], stored["depth"]
            row.lineart_sha256, row.ids_sha256 = stored["lineart"], stored["ids"]
            row.rendered_at = utcnow()
        run.report.rendered.append(shot.code)
        return passes.storyboard

    def storyboard(self, code: str) -> Path | None:
        """The newest storyboard frame of a shot in the media store, if it was rendered."""
        with session_scope(self.engine) as session:
            sha = session.scalars(
                select(RenderRow.storyboard_sha256).join(ShotRow).where(ShotRow.code == code.upper())
            ).first()
        return self.media.path(sha, ".png") if sha else None

    # -- takes -------------------------------------------------------------------------------

    def bible_check(self) -> list[str]:
        """What the production bible lacks, one line each (empty when complete)."""
        bible = self.settings.bible
        problems = []
        if not bible.style:
            problems.append("style: no words for the show's look ([bible] style)")
        if not bible.style_references:
            problems.append("style: no reference images ([bible] style_references)")
        sheets = self.breakdown() if self._latest_script() is not None else []
        cast = dict.fromkeys(n for s in sheets for n in (*s.breakdown.speaking, *s.breakdown.non_speaking))
        places = dict.fromkeys(s.breakdown.location for s in sheets if s.breakdown.location)
        for kind, names, entries in (("character", cast, bible.characters), ("location", places, bible.locations)):
            for name in names:
                entry = entries.get(name)
                if entry is None or not entry.description:
                    problems.append(f'{kind} {name}: no description ([bible.{kind}s."{name}"])')
                if entry is None or not entry.references:
                    problems.append(f"{kind} {name}: no reference images")
        references = [
            *bible.style_references,
            *(r for e in (*bible.characters.values(), *bible.locations.values()) for r in e.references),
        ]
        problems += [f"{ref}: reference image not found" for ref in references if not (self.root / ref).is_file()]
        return problems

    def queue_takes(self, code: str, options: TakeOptions) -> list[int]:
        """Queue ``options.count`` takes of a shot; returns their job ids.

        The recipe is complete when queued (prompt composed, conditioning by content hash,
        the backend's model and weights hash filled in), so a bad option or a missing model
        fails here, in one line, before anything is queued.
        """
        shot = self.shot(code)
        settings = self.settings.generate
        backend = backend_for(options.backend or settings.backend, settings, self.root)
        sheets = self.breakdown()
        position = next(i for i, sheet in enumerate(sheets) if sheet.number == shot.scene)
        scene, breakdown = self.script().scenes[position], sheets[position].breakdown
        with session_scope(self.engine) as session:
            row = shot_row(session, shot.code)
            render = session.scalars(select(RenderRow).where(RenderRow.shot_id == row.id)).first()
            shot_id = row.id
        conditioning = self._references(shot)
        if render is not None:
            conditioning |= {
                STORYBOARD: render.storyboard_sha256, DEPTH: render.depth_sha256,
                LINEART: render.lineart_sha256, IDS: render.ids_sha256,
            }  # fmt: skip
        width, height = (render.width, render.height) if render else (1280, 720)
        base_seed = (
            options.seed if options.seed is not None else int(hashlib.sha256(shot.code.encode()).hexdigest()[:8], 16)
        )
        recipes = []
        for i in range(options.count):
            recipe = Recipe(
                shot=shot.code,
                backend=backend.name,
                prompt=compose_prompt(shot, scene, breakdown, self.settings.bible, options.prompt),
                negative_prompt=compose_negative(self.settings.bible, options.negative),
                seed=base_seed + i,
                steps=options.steps or 0,
                guidance=options.guidance or 0.0,
                strength=options.strength,
                width=width,
                height=height,
                conditioning=conditioning,
                requested_by=options.requested_by,
            )
            recipes.append(backend.prepare(recipe))
        return queue.enqueue(self.engine, shot_id, recipes)

    def _references(self, shot: Shot) -> dict[str, str]:
        """The bible's reference images for a shot's characters and the style, by content hash."""
        bible, refs = self.settings.bible, {}
        for name in shot.subjects:
            for i, path in enumerate(bible.characters[name].references if name in bible.characters else []):
                refs[f"{REFERENCE_PREFIX}{name}" + (f":{i}" if i else "")] = self._bible_image(path)
        for i, path in enumerate(bible.style_references):
            refs[f"{STYLE_PREFIX}{i}"] = self._bible_image(path)
        return refs

    def _bible_image(self, relative: str) -> str:
        """A bible image's hash in the media store; stored (and hashed) once per open production,
        not once per shot that names the character."""
        if relative not in self._bible_images:
            path = self.root / relative
            if not path.is_file():
                raise ConfigError(f"{path}: bible reference image not found (soundstage bible check)")
            self._bible_images[relative] = self.media.put_file(path, ".png")
        return self._bible_images[relative]

    def queue_missing_takes(self, backend: str = "", requested_by: str = "") -> int:
        """Queue one take for every rendered shot that has no take and no job yet; how many."""
        with session_scope(self.engine) as session:
            busy = set(session.scalars(select(TakeRow.shot_id))) | set(session.scalars(select(JobRow.shot_id)))
            rendered = set(session.scalars(select(RenderRow.shot_id)))
            codes = dict(session.execute(select(ShotRow.id, ShotRow.code)).all())
        waiting = [codes[i] for i in sorted(rendered - busy) if i in codes]
        for code in waiting:
            self.queue_takes(code, TakeOptions(backend=backend, requested_by=requested_by))
        return len(waiting)

    def work(self, workers: int | None = None, progress: Progress = _no_progress) -> WorkReport:
        """Run the queue with local worker processes until it is empty."""
        return LocalExecutor().run(self.root, workers or self.settings.generate.workers, progress)

    def takes(self, code: str) -> list[TakeInfo]:
        """A shot's takes, with the jobs still queued, running, failed or cancelled."""
        with session_scope(self.engine) as session:
            row = shot_row(session, code)
            takes = session.scalars(select(TakeRow).where(TakeRow.shot_id == row.id).order_by(TakeRow.number)).all()
            jobs = session.scalars(
                select(JobRow).where(JobRow.shot_id == row.id, JobRow.state != queue.DONE).order_by(JobRow.id)
            ).all()
        listed = [
            TakeInfo(
                f"{row.code}/{t.number}",
                queue.DONE,
                Recipe.model_validate(t.recipe),
                self.media.path(t.output_sha256, ".png"),
                "",
            )
            for t in takes
        ]
        listed += [TakeInfo(f"job {j.id}", j.state, Recipe.model_validate(j.recipe), None, j.error) for j in jobs]
        return listed

    def reproduce(self, reference: str) -> tuple[bool, Path, str]:
        """Run a take's recipe again; whether the bytes match, the take's file, the new hash."""
        code, number = parse_take_name(reference)
        if number is None:
            raise ShotError(f"take {reference!r}: expected SHOT/NUMBER, e.g. 012_0030/2")
        with session_scope(self.engine) as session:
            take = take_row(session, shot_row(session, code), number)
        recipe = Recipe.model_validate(take.recipe)
        backend = backend_for(recipe.backend, self.settings.generate, self.root)
        png = backend.generate([recipe], MediaInputs(self.media), lambda fraction: None)[0]
        again = hashlib.sha256(embed_recipe(png, recipe)).hexdigest()
        return again == take.output_sha256, self.media.path(take.output_sha256, ".png"), again

    # -- intent checks -------------------------------------------------------------------------

    def check(
        self, codes: Sequence[str] = (), *, jobs: Sequence[int] = (), progress: Progress = _no_progress
    ) -> CheckReport:
        """Run the intent checks on takes and store their findings (replacing earlier ones): every
        take of ``codes`` (every shot when both are empty), or the takes of queue ``jobs`` (the
        worker checks each take it makes). A shot's intent is prepared once for all its takes."""
        report = CheckReport()
        with session_scope(self.engine) as session:
            query = select(TakeRow, ShotRow.code).join(ShotRow)
            if jobs:
                query = query.where(TakeRow.job_id.in_(list(jobs)))
            elif codes:
                query = query.where(ShotRow.code.in_([shot_row(session, c).code for c in codes]))
            chosen = session.execute(query.order_by(ShotRow.code, TakeRow.number)).all()
            if not chosen:
                return report
            everything = [
                _TakeRef(*row)
                for row in session.execute(
                    select(
                        TakeRow.id, TakeRow.shot_id, TakeRow.number, TakeRow.approved_by, ShotRow.code,
                        ShotRow.scene_id,
                    ).join(ShotRow)
                )
            ]  # fmt: skip
            shot_ids = {take.shot_id for take, _ in chosen}
            renders = {r.shot_id: r for r in session.scalars(select(RenderRow).where(RenderRow.shot_id.in_(shot_ids)))}
            # Signatures never change (a take's picture does not): each is read once per open
            # production, so a worker's checks do not re-read every take for every batch.
            missing = [ref.id for ref in everything if ref.id not in self._signatures]
            stored = [
                row
                for start in range(0, len(missing), 500)
                for row in session.execute(
                    select(TakeRow.id, TakeRow.signature, TakeRow.output_sha256).where(
                        TakeRow.id.in_(missing[start : start + 500])
                    )
                )
            ]
        # Outside the transaction: a take without a stored signature has its picture read.
        for take_id, kept, output in stored:
            self._signatures[take_id] = self._signature(kept, output)
        embedder = self._embedder()
        for done, (code, group) in enumerate(groupby(chosen, key=lambda pair: pair[1])):
            takes = [take for take, _ in group]
            shot = self.shot(code)
            render = renders.get(takes[0].shot_id)
            if render is None:
                report.not_checked.append(f"{code}: no previs to check against (soundstage previs)")
                continue
            intent = self._intent(shot, render, takes[0].shot_id, everything, embedder)
            results = []
            for take in takes:
                image = read_png(self.media.path(take.output_sha256, ".png"))
                findings = check_take(image, intent, self.settings.checks)
                made = signature(image)
                self._signatures[take.id] = made
                results.append((take.id, findings, made.to_dict()))
                report.findings[take_name(code, take.number)] = findings
            self._store_findings(results)
            progress(done + 1, 0)
        return report

    def findings(self, reference: str) -> list[Finding]:
        """The stored findings of a take ("012_0030/2"; a bare shot code: its newest take)."""
        code, number = parse_take_name(reference)
        with session_scope(self.engine) as session:
            take = take_row(session, shot_row(session, code), number)
            rows = session.scalars(select(FindingRow).where(FindingRow.take_id == take.id).order_by(FindingRow.id))
            return [Finding(r.check, r.subject, r.score, Verdict(r.verdict), r.reason) for r in rows]

    def _embedder(self) -> Embedder:
        if self._checks_embedder is None:
            self._checks_embedder = embedder_for(self.settings.checks, self.root)
        return self._checks_embedder

    def _layout(self, take_id: int) -> np.ndarray:
        """A take's layout thumbnail as a float32 row, converted once per open production."""
        if take_id not in self._layouts:
            self._layouts[take_id] = np.asarray(self._signatures[take_id].layout, np.float32)
        return self._layouts[take_id]

    def _signature(self, stored: dict[str, Any] | list[Any], output_sha256: str) -> TakeSignature:
        """A take's stored signature, or one made now from its picture (takes made before checks,
        or with another signature version)."""
        try:
            if isinstance(stored, dict) and stored:
                return TakeSignature.from_dict(stored)
        except ValueError:
            pass
        return signature(read_png(self.media.path(output_sha256, ".png")))

    def _intent(
        self,
        shot: Shot,
        render: RenderRow,
        shot_id: int,
        everything: Sequence[_TakeRef],
        embedder: Embedder,
    ) -> ShotIntent:
        """What a shot's takes are checked against: its previs passes, its characters' reference
        sheets, the style references, approved takes of its scene's other shots, other shots' takes."""
        scene_id = next(ref.scene_id for ref in everything if ref.shot_id == shot_id)
        ids = self.characters(set(shot.subjects))
        bible = self.settings.bible
        characters = {
            name: CharacterIntent(
                ids[name][0],
                [self._picture(self._bible_image(p)) for p in (bible.characters.get(name) or BibleEntry()).references],
            )
            for name in shot.subjects
        }
        neighbours = [
            (take_name(ref.code, ref.number), self._signatures[ref.id])
            for ref in everything
            if ref.scene_id == scene_id and ref.shot_id != shot_id and ref.approved_by
        ]
        refs = [ref for ref in everything if ref.shot_id != shot_id]
        others = OtherTakes(
            [take_name(ref.code, ref.number) for ref in refs],
            np.stack([self._layout(ref.id) for ref in refs]) if refs else np.zeros((0, LAYOUT_LENGTH), np.float32),
        )
        return prepare_intent(
            read_png(self.media.path(render.lineart_sha256, ".png")),
            read_png(self.media.path(render.depth_sha256, ".png")),
            read_png(self.media.path(render.ids_sha256, ".png")),
            characters,
            [self._picture(self._bible_image(p)) for p in bible.style_references],
            neighbours,
            others,
            embedder,
            storyboard=read_png(self.media.path(render.storyboard_sha256, ".png")),
        )

    def _picture(self, sha256: str) -> np.ndarray:
        """A reference image from the media store, RGB or RGBA (alpha marks a character)."""
        with Image.open(self.media.path(sha256, ".png")) as image:
            return np.asarray(image.convert("RGBA" if "A" in image.getbands() else "RGB"))

    def _store_findings(self, results: Sequence[tuple[int, list[Finding], dict[str, Any]]]) -> None:
        with session_scope(self.engine) as session:
            ids = [take_id for take_id, _, _ in results]
            session.execute(delete(FindingRow).where(FindingRow.take_id.in_(ids)))
            now = utcnow()
            for take_id, findings, sig in results:
                session.execute(update(TakeRow).where(TakeRow.id == take_id).values(checked_at=now, signature=sig))
                session.add_all(
                    FindingRow(take_id=take_id, check=f.check, subject=f.subject, score=float(f.score),
                               verdict=f.verdict.value, reason=f.reason)
                    for f in findings
                )  # fmt: skip

    # -- the cut -------------------------------------------------------------------------------

    def signer(self) -> Signer:
        """The production's content-credentials signer. A production whose settings still name
        the default files and has none (made before credentials existed) gets its identity now."""
        settings = self.settings.credentials
        certificate, key = self.root / settings.certificate, self.root / settings.private_key
        defaults = Credentials()
        if (
            (settings.certificate, settings.private_key) == (defaults.certificate, defaults.private_key)
            and not certificate.exists()
            and not key.exists()
        ):
            make_project_identity(certificate.parent, self.title() or self.root.name)
        return Signer.from_files(certificate, key, settings.timestamp_url)

    def cut(
        self,
        out: Path,
        *,
        scenes: Sequence[str] = (),
        prores: bool = False,
        name: str = "cut",
        progress: Progress = _no_progress,
    ) -> CutReport:
        """Cut the episode (or ``scenes``) into ``out``: each shot's approved take, else its newest,
        else a NO TAKE slate, for its planned duration (longer where its scratch dialogue needs it).

        Writes the signed takes (takes/), the OTIO timeline with EDL and FCP XML, the animatic
        (MP4, or ProRes .mov) signed with every take as an ingredient, and the disclosure report
        (HTML and PDF). The signing identity is checked before anything is written.
        """
        signer = self.signer()
        settings = self.settings.cut
        entries = self._cut_entries(scenes)
        if not entries:
            raise CutError(f"{self.root}: nothing to cut (no planned shots{' in those scenes' if scenes else ''})")
        _check_writable(out)
        cut_id = str(uuid.uuid4())
        report = CutReport(cut_id=cut_id, out=out)
        signed: list[tuple[Path, TakeProvenance]] = []
        shots: list[CutShot] = []
        for entry in entries:
            shot = entry.shot
            if entry.provenance is not None and entry.source is not None and entry.source.exists():
                target = out / "takes" / f"{entry.provenance.take.replace('/', '_t')}.png"
                write_atomic(target, sign_take(entry.source.read_bytes(), entry.provenance, signer), error=CutError)
                signed.append((target, entry.provenance))
                shot = dataclasses.replace(shot, image=target)
            shots.append(shot)
        voices = self.root / "cache" / "voices" if settings.scratch_dialogue else None
        cut = assemble(self.title() or self.root.name, shots, self.settings.fps, voices)
        report.shots, report.frames = len(cut.shots), cut.frames
        report.lengthened = [f"{code}: {old} -> {new} frames" for code, old, new in cut.lengthened]
        report.warnings = list(cut.warnings)
        report.outputs.update(write_editorial(cut, out, name))
        suffix = ".mov" if prores else ".mp4"
        animatic = out / f"{name}{suffix}"
        unsigned = out / f".{name}.unsigned{suffix}"
        try:
            info = write_animatic(
                cut,
                unsigned,
                size=(settings.width, settings.height),
                prores=prores,
                burn_in=settings.burn_in,
                head_slate_s=settings.head_slate_s,
                progress=progress,
            )
            sign_animatic(unsigned, animatic, title=cut.title, cut_id=cut_id, takes=signed, signer=signer)
        finally:
            unsigned.unlink(missing_ok=True)
        report.outputs["animatic"] = animatic
        report.warnings += info.warnings
        report.outputs["takes"] = out / "takes"
        frames = {shot.code: shot.frames for shot in cut.shots}
        disclosure = Disclosure(
            title=cut.title,
            cut_id=cut_id,
            created_at=utcnow(),
            generator=f"Soundstage {__version__}",
            fps=self.settings.fps,
            rows=tuple(e.row(frames[e.shot.code]) for e in entries),
            provider=signer.organisation,
            scratch_dialogue=voices is not None,
        )
        html, pdf = out / f"{name}_disclosure.html", out / f"{name}_disclosure.pdf"
        write_disclosure(disclosure, html, pdf)
        report.outputs["disclosure"], report.outputs["disclosure_pdf"] = html, pdf
        return report

    def _cut_entries(self, scenes: Sequence[str]) -> list[_CutEntry]:
        """Each planned shot with the take the cut uses, its provenance and its notes."""
        wanted = {s.strip().upper() for s in scenes}
        known = set(self.scene_numbers())
        unknown = sorted(wanted - known)
        if unknown:
            raise ShotError(f"{self.root}: no scene {', '.join(unknown)} (scenes: {', '.join(self.scene_numbers())})")
        spoken = spoken_lines(self.script())
        shots = [s for s in self.shots() if not wanted or s.scene.upper() in wanted]
        with session_scope(self.engine) as session:
            rows = {r.code: r for r in session.scalars(select(ShotRow).where(ShotRow.in_plan))}
            takes: dict[int, list[TakeRow]] = {}
            for take in session.scalars(select(TakeRow).order_by(TakeRow.number)):
                takes.setdefault(take.shot_id, []).append(take)
            notes: dict[int, list[NoteRow]] = {}
            for note in session.scalars(select(NoteRow).order_by(NoteRow.id)):
                notes.setdefault(note.shot_id, []).append(note)
        entries = []
        for shot in shots:
            row = rows[shot.code]
            history = takes.get(row.id, [])
            approved = [t for t in history if t.approved_by]
            take = approved[-1] if approved else (history[-1] if history else None)
            provenance, source = None, None
            if take is not None:
                approval = None
                if take.approved_by and take.approved_at is not None:
                    approval = Approval(take.approved_by, take.approved_role, take.approved_at, take.override_reason)
                recipe = Recipe.model_validate(take.recipe)
                name = take_name(shot.code, take.number)
                provenance = TakeProvenance(shot.code, name, recipe, take.recipe_sha256, approval, take.created_at)
                source = self.media.path(take.output_sha256, ".png")
            cut_shot = CutShot(
                code=shot.code,
                scene=shot.scene,
                frames=shot.frames,
                take=provenance.take if provenance else None,
                # The media object itself until it is signed into the cut's takes/ (a missing
                # object stays a path that does not exist: the cut slates it and warns).
                image=source,
                status=row.status,
                move=shot.move.value,
                lines=tuple(spoken[n] for n in shot.lines if n in spoken),
                notes=tuple(
                    Note(n.frame or 0, n.body, n.author)
                    for n in notes.get(row.id, [])
                    if n.body and (n.take_id is None or take is None or n.take_id == take.id)
                ),
                description=shot.description,
            )
            entries.append(_CutEntry(cut_shot, provenance, source))
        return entries

    # -- review -------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, *, by: str = "", password_hash: str = "") -> None:
        """Add a person; ``by`` names a producer, or is empty for the console at the production."""
        with session_scope(self.engine) as session:
            actor = records.person(session, by) if by else _console()
            records.add_user(session, actor, name, role, password_hash)

    def change_role(self, name: str, role: str, *, by: str = "") -> None:
        """Give a person another role (a producer, or the console)."""
        with session_scope(self.engine) as session:
            actor = records.person(session, by) if by else _console()
            records.change_role(session, actor, name, role)

    def users(self) -> list[tuple[str, str, bool]]:
        """(name, role, active) of everyone, by name."""
        with session_scope(self.engine) as session:
            rows = session.execute(select(UserRow.name, UserRow.role, UserRow.active).order_by(UserRow.name))
            return [(name, role, active) for name, role, active in rows]

    def decide(self, reference: str, action: Action, *, by: str, note: str = "", override_reason: str = "") -> Decision:
        """A review decision on a shot ("012_0030") or a take ("012_0030/2"), made by user ``by``
        under the workflow's rules; approving a bare shot code approves its newest take."""
        code, number = parse_take_name(reference)
        with session_scope(self.engine) as session:
            return records.decide(
                session,
                records.person(session, by),
                code,
                action,
                take_number=number,
                note=note,
                override_reason=override_reason,
            )

    def note(self, reference: str, body: str, *, by: str, frame: int | None = None) -> int:
        """A note on a shot or take, at an optional integer frame; returns its id."""
        code, number = parse_take_name(reference)
        with session_scope(self.engine) as session:
            row = records.add_note(
                session, records.person(session, by), code, take_number=number, frame=frame, body=body
            )
            return row.id

    def audit(self) -> tuple[ChainReport, list[Event]]:
        """The audit trail and whether its hash chain is intact."""
        with session_scope(self.engine) as session:
            trail = records.events(session)
        return verify_chain(trail), trail

    # -- review room --
    # Web logins and API tokens (the review room, soundstage.web). Imports are local: this block
    # is the only part of the facade that needs them.

    def set_password(self, name: str, password: str) -> None:
        """Set a person's review-room password (argon2); every session they had open ends."""
        from soundstage.errors import ReviewError
        from soundstage.store.tables import WebSessionRow
        from soundstage.web.credentials import hash_password

        with session_scope(self.engine) as session:
            row = session.scalars(select(UserRow).where(UserRow.name == name)).first()
            if row is None:
                raise ReviewError(f"no user {name!r} in this production (soundstage user add {name} --role ROLE)")
            row.password_hash = hash_password(password, who=name)
            session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))

    def issue_token(self, name: str) -> str:
        """A new API token for an active person, to be shown once: only its sha256 is kept."""
        from soundstage.store.tables import ApiTokenRow
        from soundstage.web.credentials import new_token, token_digest

        token = new_token()
        with session_scope(self.engine) as session:
            records.person(session, name)  # an active user, or one clear line
            user_id = session.scalars(select(UserRow.id).where(UserRow.name == name)).one()
            session.add(ApiTokenRow(user_id=user_id, token_sha256=token_digest(token)))
        return token


@dataclass(frozen=True, slots=True)
class _TakeRef:
    """What the intent checks need of every take of the production (no recipe, no picture)."""

    id: int
    shot_id: int
    number: int
    approved_by: str
    code: str
    scene_id: int


@dataclass(frozen=True, slots=True)
class _CutEntry:
    """A shot as the cut takes it: the cut's view, the take's provenance and the report's row."""

    shot: CutShot
    provenance: TakeProvenance | None
    source: Path | None  # the take's unsigned PNG in the media store

    def row(self, frames: int) -> DisclosureRow:
        """The disclosure report's row for this shot, cut for ``frames`` frames."""
        if self.provenance is None:
            return DisclosureRow.slate(self.shot.code, frames)
        return DisclosureRow.of_take(self.provenance, frames)


def _check_writable(folder: Path) -> None:
    """Fail before any work when ``folder`` cannot be made or written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".soundstage-probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as failure:
        raise CutError(f"{folder}: cannot write the cut there: {failure.strerror or failure}") from None


def _console() -> str:
    """The person at the production's own console, as the trail names them."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _follow_edits(shots: list[Shot], rows: list[Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Where each edited shot's edits go in a new plan of its scene: {new code: (old code, edits)}.

    A shot is recognised by its purpose and description (the speaker and the first words of
    the line, or the action, it covers). Edits whose shot is not found stay on their code if
    the plan still has it; otherwise the caller keeps that shot aside.
    """
    by_content = {(s.purpose.value, s.description): s.code for s in shots}
    codes = {s.code for s in shots}
    moved: dict[str, tuple[str, dict[str, Any]]] = {}
    unmatched = []
    for row in rows:
        if not row.edits:
            continue
        target = by_content.get((row.planned["purpose"], row.planned["description"]))
        if target is not None and target not in moved:
            moved[target] = (row.code, row.edits)
        else:
            unmatched.append(row)
    for row in unmatched:
        if row.code in codes and row.code not in moved:
            moved[row.code] = (row.code, row.edits)
    return moved


def _effective(row: ShotRow) -> Shot:
    shot = Shot.model_validate(row.planned)
    return shot.edited(row.edits) if row.edits else shot


def _usable_number(number: str | None) -> str | None:
    """A script's own scene number if it can make shot codes (digits and letters), else None."""
    if number and re.fullmatch(r"\d{1,4}[A-Z]{0,3}", number.strip().upper()):
        return number.strip().upper()
    return None


def _file_sha256(path: Path) -> str | None:
    """sha256 of a file, or None when it is missing (a deleted layout is rewritten, not kept)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
