"""The shot list: planning every scene by the coverage rules, keeping artists' edits through
every re-plan, listing and editing shots, and noticing layouts edited by hand."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update

from soundstage.plan.coverage import cover_scene
from soundstage.plan.model import Shot
from soundstage.project import drafts
from soundstage.project.production import Context, Progress, no_progress
from soundstage.store.rows import shot_row
from soundstage.store.tables import LayoutRow, SceneRow, ShotRow, shot_summary, utcnow


@dataclass(slots=True)
class PlanReport:
    """What a (re-)plan did to the shot list."""

    scenes: int
    shots: int
    frames: int
    kept_edits: list[str] = field(default_factory=list)  # shots whose artist edits were re-applied
    orphaned: list[str] = field(default_factory=list)  # edited shots the new plan no longer proposes
    edited_layouts: list[str] = field(default_factory=list)  # layouts edited by hand; layout keeps them


def plan(context: Context, progress: Progress = no_progress) -> PlanReport:
    """Propose shots for every scene by the coverage rules; artists' edits are kept.

    An artist's edits follow what the shot covers, not its code: when a revision shifts a
    scene's shots, the edits move to the new shot with the same purpose and description
    (the line or action it covers). A shot keeps its row when the new plan proposes its
    code; an edited shot whose content the plan no longer proposes is kept aside, not deleted.
    """
    script = drafts.script(context)
    sheets = drafts.breakdown(context)
    rules, fps = context.settings.plan, context.settings.fps
    report = PlanReport(scenes=len(sheets), shots=0, frames=0)
    with context.transaction() as session:
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
            shots = cover_scene(scene, sheet.breakdown, sheet.number, previous_location, rules, fps)
            previous_location = sheet.breakdown.location
            edits_for = _follow_edits(shots, [r for r in existing.values() if r.scene_id == scene_ids[sheet.number]])
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
                         "edits": edits, "in_plan": True, **shot_summary(planned, edits)}
                    )  # fmt: skip
                else:
                    inserts.append(
                        {"scene_id": scene_ids[sheet.number], "code": shot.code, "position": position,
                         "planned": planned, "edits": edits, "in_plan": True, "note": "",
                         **shot_summary(planned, edits)}
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
    report.edited_layouts = edited_layouts(context)
    return report


def shots(context: Context, scene: str | None = None) -> list[Shot]:
    """The shot list as artists see it (the plan with their edits), in cut order."""
    with context.transaction() as session:
        query = (
            select(ShotRow)
            .join(SceneRow)
            .where(SceneRow.position.is_not(None), ShotRow.in_plan.is_(True))
            .order_by(SceneRow.position, ShotRow.position)
        )
        if scene is not None:
            query = query.where(SceneRow.number == scene.upper())
        return [effective(r) for r in session.scalars(query)]


def shot(context: Context, code: str) -> Shot:
    """One shot by its code."""
    with context.transaction() as session:
        return effective(shot_row(session, code))


def edit_shot(context: Context, code: str, edits: dict[str, object]) -> Shot:
    """Apply an artist's edits to a shot; they survive every re-plan."""
    with context.transaction() as session:
        row = shot_row(session, code)
        merged = {**row.edits, **edits}
        edited = Shot.model_validate(row.planned).edited(merged)
        # Store the validated values (enums as their names in JSON), not the raw input.
        row.edits = {k: v for k, v in edited.model_dump(mode="json").items() if k in merged}
        row.edited_at = utcnow()
        return edited


def edited_layouts(context: Context) -> list[str]:
    """Shots whose layout file differs from what Soundstage last wrote: edited by hand."""
    with context.transaction() as session:
        rows = session.execute(select(ShotRow.code, LayoutRow.path, LayoutRow.written_sha256).join(LayoutRow)).all()
    return [code for code, path, sha in rows if _file_sha256(context.root / path) not in (sha, None)]


def effective(row: ShotRow) -> Shot:
    """A shot as artists see it: the plan with their edits."""
    planned = Shot.model_validate(row.planned)
    return planned.edited(row.edits) if row.edits else planned


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


def _file_sha256(path: Path) -> str | None:
    """sha256 of a file, or None when it is missing (a deleted layout is rewritten, not kept)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
