"""The production folder, and the facade the CLI (and later the web) call.

Stages are plain functions in their own packages and know nothing of storage; this module
opens a production, runs the stages and persists what they produce, one transaction per
command, so a failed command leaves the production as it was.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from soundstage.config import SETTINGS_FILE, Settings, default_toml, load_settings
from soundstage.errors import ProductionError, ShotError
from soundstage.plan.coverage import cover_scene
from soundstage.plan.model import Shot
from soundstage.script.breakdown import SceneBreakdown, break_down
from soundstage.script.formats import Format, parse_script, read_script, write_script
from soundstage.script.model import Script
from soundstage.script.revisions import KnownScene, body_sha256, match_scenes, number_scenes
from soundstage.store.db import make_engine, session_scope, sqlite_url, upgrade
from soundstage.store.media import MediaStore
from soundstage.store.tables import Draft, SceneRow, ShotRow, utcnow

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


@dataclass(frozen=True, slots=True)
class SceneSheet:
    """A scene's breakdown under its production number."""

    number: str
    breakdown: SceneBreakdown


class Production:
    """An open production folder: settings, database and media store."""

    def __init__(self, root: Path, settings: Settings, engine: Engine) -> None:
        self.root = root
        self.settings = settings
        self.engine = engine
        self.media = MediaStore(root / MEDIA_DIR)
        self._script: Script | None = None

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def init(cls, root: Path, *, database_url: str = "", title: str = "") -> Production:
        """Make a new production folder; on any failure nothing is left behind."""
        if (root / SETTINGS_FILE).exists():
            raise ProductionError(f"{root}: already a production ({SETTINGS_FILE} exists)")
        if root.exists() and not root.is_dir():
            raise ProductionError(f"{root}: exists and is not a folder")
        created = not root.exists()
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / MEDIA_DIR).mkdir(exist_ok=True)
            (root / LAYOUTS_DIR).mkdir(exist_ok=True)
            (root / SETTINGS_FILE).write_text(default_toml(title, database_url), encoding="utf-8")
            return cls.open(root)
        except BaseException:
            if created:
                shutil.rmtree(root, ignore_errors=True)
            else:
                (root / SETTINGS_FILE).unlink(missing_ok=True)
                (root / DATABASE_FILE).unlink(missing_ok=True)
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
        previous = self._latest_script()
        sha = self.media.put_bytes(data, path.suffix.lower())
        with session_scope(self.engine) as session:
            report = self._record_draft(session, script, previous, path.name, sha)
        self._script = script
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
            self._script = parse_script(self.media.path(sha, Path(name).suffix.lower()).read_bytes(), name)
        return self._script

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
        """The breakdown of every scene of the current draft."""
        return [SceneSheet(n, b) for n, b in zip(self.scene_numbers(), break_down(self.script()))]

    # -- the shot list ---------------------------------------------------------------------

    def plan(self, progress: Progress = _no_progress) -> PlanReport:
        """Propose shots for every scene by the coverage rules; artists' edits are kept.

        A shot keeps its row (and so everything attached to it) when the new plan proposes
        the same code; an edited shot the plan no longer proposes is kept aside, not deleted.
        """
        script = self.script()
        sheets = self.breakdown()
        plan, fps = self.settings.plan, self.settings.fps
        report = PlanReport(scenes=len(sheets), shots=0, frames=0)
        with session_scope(self.engine) as session:
            scene_ids = dict(
                session.execute(select(SceneRow.number, SceneRow.id).where(SceneRow.position.is_not(None))).all()
            )
            existing: dict[str, tuple[int, int, dict[str, object]]] = {
                code: (shot_id, scene_id, edits)
                for shot_id, code, scene_id, edits in session.execute(
                    select(ShotRow.id, ShotRow.code, ShotRow.scene_id, ShotRow.edits).where(
                        ShotRow.scene_id.in_(scene_ids.values())
                    )
                ).all()
            }
            # Rows are written in bulk (one INSERT and one UPDATE for the whole plan): the ORM
            # unit of work takes ten times as long on a feature's 1,500 shots.
            inserts: list[dict[str, object]] = []
            updates: list[dict[str, object]] = []
            proposed: set[str] = set()
            previous_location: str | None = None
            for i, (scene, sheet) in enumerate(zip(script.scenes, sheets)):
                shots = cover_scene(scene, sheet.breakdown, sheet.number, previous_location, plan, fps)
                previous_location = sheet.breakdown.location
                for position, shot in enumerate(shots):
                    proposed.add(shot.code)
                    planned = shot.model_dump(mode="json")
                    if shot.code in existing:
                        shot_id, _scene_id, edits = existing[shot.code]
                        updates.append({"id": shot_id, "position": position, "planned": planned, "in_plan": True})
                        if edits:
                            shot = shot.edited(edits)
                            report.kept_edits.append(shot.code)
                    else:
                        inserts.append(
                            {"scene_id": scene_ids[sheet.number], "code": shot.code, "position": position,
                             "planned": planned, "edits": {}, "in_plan": True, "note": ""}
                        )  # fmt: skip
                    report.shots += 1
                    report.frames += shot.frames
                progress(i + 1, len(sheets))
            stale = [(code, row) for code, row in existing.items() if code not in proposed]
            report.orphaned = [code for code, (_id, _scene, edits) in stale if edits]
            set_aside = [{"id": shot_id, "in_plan": False} for _code, (shot_id, _scene, edits) in stale if edits]
            dropped = [shot_id for _code, (shot_id, _scene, edits) in stale if not edits]
            if dropped:
                session.execute(delete(ShotRow).where(ShotRow.id.in_(dropped)))
            if set_aside:
                session.execute(update(ShotRow), set_aside)
            if updates:
                session.execute(update(ShotRow), updates)
            if inserts:
                session.execute(insert(ShotRow), inserts)
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
            return _effective(self._shot_row(session, code))

    def edit_shot(self, code: str, edits: dict[str, object]) -> Shot:
        """Apply an artist's edits to a shot; they survive every re-plan."""
        with session_scope(self.engine) as session:
            row = self._shot_row(session, code)
            merged = {**row.edits, **edits}
            shot = Shot.model_validate(row.planned).edited(merged)
            # Store the validated values (enums as their names in JSON), not the raw input.
            row.edits = {k: v for k, v in shot.model_dump(mode="json").items() if k in merged}
            row.edited_at = utcnow()
            return shot

    def _shot_row(self, session: Session, code: str) -> ShotRow:
        row = session.scalars(select(ShotRow).where(ShotRow.code == code.upper())).first()
        if row is None:
            raise ShotError(f"{self.root}: no shot {code!r} (soundstage shots lists them)")
        return row


def _effective(row: ShotRow) -> Shot:
    shot = Shot.model_validate(row.planned)
    return shot.edited(row.edits) if row.edits else shot


def _usable_number(number: str | None) -> str | None:
    """A script's own scene number if it can make shot codes (digits and letters), else None."""
    if number and re.fullmatch(r"\d{1,4}[A-Z]{0,3}", number.strip().upper()):
        return number.strip().upper()
    return None
