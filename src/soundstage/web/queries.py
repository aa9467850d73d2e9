"""What the review room reads: the shot board, a shot with its takes, findings and notes, the
playlists, and whether a media object may be shown. Plain dicts shaped as the JSON API answers
(docs/review.md), which the HTML pages render too, so both always show the same thing.

The board answers in two queries whatever its size (the shots with their counts, then the
page's takes with a "failed a check" flag): no query per shot.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from soundstage.generate.backend import take_name
from soundstage.review.audit import as_utc
from soundstage.review.workflow import Role, Status, allowed_actions
from soundstage.store.rows import shot_row
from soundstage.store.tables import (
    FindingRow,
    NoteRow,
    PlaylistRow,
    PlaylistTakeRow,
    RenderRow,
    SceneRow,
    ShareRow,
    ShotRow,
    TakeRow,
)


def iso(at: datetime | None) -> str | None:
    """A stored time as ISO 8601 UTC (SQLite hands times back without their zone)."""
    return as_utc(at).isoformat() if at is not None else None


def media_url(sha256: str) -> str:
    """Where the review room serves a PNG of the media store."""
    return f"/media/{sha256}.png"


def board(
    session: Session,
    *,
    scene: str | None = None,
    status: str | None = None,
    character: str | None = None,
    assignee: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> dict[str, Any]:
    """The shot board: shots in cut order, filtered, one page of them, and how many match."""
    takes = select(func.count(TakeRow.id)).where(TakeRow.shot_id == ShotRow.id).scalar_subquery()
    notes = select(func.count(NoteRow.id)).where(NoteRow.shot_id == ShotRow.id).scalar_subquery()
    query = (
        select(
            ShotRow.id,
            ShotRow.code,
            SceneRow.number,
            ShotRow.status,
            ShotRow.assignee,
            ShotRow.planned,
            ShotRow.edits,
            takes.label("takes"),
            notes.label("notes"),
            func.count().over().label("total"),
        )  # fmt: skip
        .join(SceneRow, SceneRow.id == ShotRow.scene_id)
        .where(SceneRow.position.is_not(None), ShotRow.in_plan.is_(True))
        .order_by(SceneRow.position, ShotRow.position)
    )
    if scene:
        query = query.where(SceneRow.number == scene.strip().upper())
    if status:
        query = query.where(ShotRow.status == status)
    if assignee:
        query = query.where(ShotRow.assignee == assignee)
    if character:
        # Subjects live in JSON (the plan, overridden by the artist's edits), which the two
        # databases query differently; the rows are small, so filter them here instead.
        wanted = character.strip().upper()
        rows = [r for r in session.execute(query) if wanted in _fields(r)["subjects"]]
        total, rows = len(rows), rows[offset : offset + limit]
    else:
        rows = session.execute(query.limit(limit).offset(offset)).all()
        total = rows[0].total if rows else _count(session, query)
    current = _current_takes(session, [r.id for r in rows])
    shots = []
    for r in rows:
        fields = _fields(r)
        take = current.get(r.id)
        shots.append(
            {
                "code": r.code,
                "scene": r.number,
                "status": r.status,
                "assignee": r.assignee,
                "subjects": fields["subjects"],
                "frames": fields["frames"],
                "takes": r.takes,
                "notes": r.notes,
                "current_take": take_name(r.code, take[0]) if take else None,
                "flagged": bool(take and take[1]),
                "image": media_url(take[2]) if take else None,
            }
        )
    return {"total": total, "shots": shots}


def _fields(row: Any) -> dict[str, Any]:
    merged = {**row.planned, **(row.edits or {})}
    return {"subjects": list(merged.get("subjects", [])), "frames": int(merged.get("frames", 0))}


def _count(session: Session, query: Any) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def _current_takes(session: Session, shot_ids: list[int]) -> dict[int, tuple[int, bool, str]]:
    """Per shot: (number, failed a check, output) of its approved take, else of its newest."""
    if not shot_ids:
        return {}
    failed = exists().where(FindingRow.take_id == TakeRow.id, FindingRow.verdict == "fail")
    rows = session.execute(
        select(TakeRow.shot_id, TakeRow.number, TakeRow.approved_by, TakeRow.output_sha256, failed.label("failed"))
        .where(TakeRow.shot_id.in_(shot_ids))
        .order_by(TakeRow.shot_id, TakeRow.number)
    )
    current: dict[int, tuple[int, bool, str]] = {}
    approved: set[int] = set()
    for r in rows:
        if r.shot_id in approved:
            continue
        current[r.shot_id] = (r.number, bool(r.failed), r.output_sha256)
        if r.approved_by:
            approved.add(r.shot_id)
    return current


def shot_detail(session: Session, code: str, role: Role, fps: int) -> dict[str, Any]:
    """A shot with its takes (recipes, approvals, findings), its notes, and what the caller may do."""
    shot = shot_row(session, code)
    scene = session.scalar(select(SceneRow.number).where(SceneRow.id == shot.scene_id))
    takes = session.scalars(select(TakeRow).where(TakeRow.shot_id == shot.id).order_by(TakeRow.number)).all()
    findings: dict[int, list[dict[str, Any]]] = {}
    if takes:
        query = select(FindingRow).where(FindingRow.take_id.in_([t.id for t in takes])).order_by(FindingRow.id)
        for f in session.scalars(query):
            findings.setdefault(f.take_id, []).append(
                {"check": f.check, "subject": f.subject, "score": f.score, "verdict": f.verdict, "reason": f.reason}
            )
    numbers = {t.id: t.number for t in takes}
    fields = {**shot.planned, **(shot.edits or {})}
    return {
        "code": shot.code,
        "scene": scene,
        "status": shot.status,
        "assignee": shot.assignee,
        "subjects": list(fields.get("subjects", [])),
        "frames": int(fields.get("frames", 0)),
        "fps": fps,
        "takes": [
            {
                "name": take_name(shot.code, t.number),
                "number": t.number,
                "backend": t.backend,
                "recipe": t.recipe,
                "recipe_sha256": t.recipe_sha256,
                "approved_by": t.approved_by,
                "approved_at": iso(t.approved_at),
                "override_reason": t.override_reason,
                "findings": findings.get(t.id, []),
                "image": media_url(t.output_sha256),
            }
            for t in takes
        ],
        "notes": notes(session, shot.id, numbers),
        "actions": [str(a) for a in allowed_actions(role, Status(shot.status))],
    }


def notes(
    session: Session, shot_id: int, numbers: dict[int, int], *, drawn: bool = False, role: str | None = None
) -> list[dict[str, Any]]:
    """A shot's notes, oldest first (``numbers``: take id -> take number); only drawings, or only
    one role's notes, when asked."""
    query = select(NoteRow).where(NoteRow.shot_id == shot_id).order_by(NoteRow.id)
    if role is not None:
        query = query.where(NoteRow.role == role)
    listed = [
        {
            "id": n.id,
            "author": n.author,
            "role": n.role,
            "take": numbers.get(n.take_id) if n.take_id is not None else None,
            "frame": n.frame,
            "body": n.body,
            "shapes": n.shapes,
            "created_at": iso(n.created_at),
        }
        for n in session.scalars(query)
    ]
    return [n for n in listed if n["shapes"]] if drawn else listed


def annotations(session: Session, code: str, fps: int) -> dict[str, Any]:
    """The notes of a shot that carry drawings: vector data by integer frame, for export."""
    shot = shot_row(session, code)
    numbers = dict(session.execute(select(TakeRow.id, TakeRow.number).where(TakeRow.shot_id == shot.id)).all())
    return {"shot": shot.code, "fps": fps, "notes": notes(session, shot.id, numbers, drawn=True)}


def playlists(session: Session) -> list[dict[str, Any]]:
    """Every playlist, newest first, with how many takes it holds."""
    count = select(func.count(PlaylistTakeRow.id)).where(PlaylistTakeRow.playlist_id == PlaylistRow.id)
    rows = session.execute(
        select(PlaylistRow, count.scalar_subquery().label("takes")).order_by(PlaylistRow.id.desc())
    ).all()
    return [{**_playlist_head(p), "takes": n} for p, n in rows]


def playlist(session: Session, playlist_id: int) -> dict[str, Any] | None:
    """A playlist with its takes in order (each with its shot's status, image and frames); None
    if there is no such playlist."""
    row = session.get(PlaylistRow, playlist_id)
    if row is None:
        return None
    takes = session.execute(
        select(
            ShotRow.code,
            ShotRow.status,
            ShotRow.planned,
            ShotRow.edits,
            TakeRow.number,
            TakeRow.output_sha256,
            TakeRow.approved_by,
        )  # fmt: skip
        .join(TakeRow, TakeRow.shot_id == ShotRow.id)
        .join(PlaylistTakeRow, PlaylistTakeRow.take_id == TakeRow.id)
        .where(PlaylistTakeRow.playlist_id == playlist_id)
        .order_by(PlaylistTakeRow.position)
    )
    return {
        **_playlist_head(row),
        "takes": [
            {
                "name": take_name(t.code, t.number),
                "shot": t.code,
                "number": t.number,
                "status": t.status,
                "image": media_url(t.output_sha256),
                "frames": _fields(t)["frames"],
                "approved_by": t.approved_by,
            }
            for t in takes
        ],
    }


def _playlist_head(row: PlaylistRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "created_by": row.created_by, "created_at": iso(row.created_at)}


def crew_may_see(session: Session, sha256: str) -> bool:
    """Whether a media object is a take's image or a previs pass (what crew pages show)."""
    take = select(TakeRow.id).where(TakeRow.output_sha256 == sha256).exists()
    render = (
        select(RenderRow.id)
        .where(
            or_(
                RenderRow.storyboard_sha256 == sha256,
                RenderRow.depth_sha256 == sha256,
                RenderRow.lineart_sha256 == sha256,
                RenderRow.ids_sha256 == sha256,
            )
        )
        .exists()
    )
    return bool(session.scalar(select(or_(take, render))))


def guest_may_see(session: Session, share_id: int, sha256: str) -> bool:
    """Whether a media object is the image of a take in the playlist a client link shares."""
    query = (
        select(TakeRow.id)
        .join(PlaylistTakeRow, PlaylistTakeRow.take_id == TakeRow.id)
        .join(ShareRow, ShareRow.playlist_id == PlaylistTakeRow.playlist_id)
        .where(ShareRow.id == share_id, TakeRow.output_sha256 == sha256)
        .exists()
    )
    return bool(session.scalar(select(query)))
