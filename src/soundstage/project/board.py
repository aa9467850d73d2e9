"""What the review room reads: the shot board (filtered, a page at a time), a shot with its
takes, findings and notes, a shot's drawings, and whether a media object may be shown.

Views are pydantic models shaped as the JSON API answers them (docs/review.md); the API declares
them as its response models and the HTML pages render the same objects, so both always show
the same thing. The board answers in one query whatever its size (the page's shots with their
counts, how many match, and each one's current take with its findings): no query per shot, and
no shot's JSON decoded (subjects and frames are columns of their own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from itertools import groupby
from operator import itemgetter
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from soundstage.checks import Verdict
from soundstage.generate.backend import take_name
from soundstage.generate.clips import take_suffix
from soundstage.project.checks import standing, stored_finding, verdict_of
from soundstage.review.audit import as_utc
from soundstage.review.workflow import Role, Status, allowed_actions
from soundstage.store.rows import shot_row
from soundstage.store.tables import (
    CharacterRow,
    FindingRow,
    NoteRow,
    RenderRow,
    SceneRow,
    ShotRow,
    TakeRow,
    shot_summary,
    subject_names,
)


def iso(at: datetime | None) -> str | None:
    """A stored time as ISO 8601 UTC (SQLite hands times back without their zone)."""
    return as_utc(at).isoformat() if at is not None else None


def media_url(sha256: str, frames: int = 1) -> str:
    """Where the review room serves a take or pass of the media store: a PNG, or the MP4 of a
    take of ``frames`` > 1 (a clip)."""
    return f"/media/{sha256}{take_suffix(frames)}"


def take_frames(recipe: dict[str, Any]) -> int:
    """A take's frames as its stored recipe says (1: a still)."""
    return int(recipe.get("frames") or 1)


def clip_frames(frames: int) -> int:
    """What a view says of a take's length: its frames for a clip, 0 for a still."""
    return frames if frames > 1 else 0


# The frames of a take, read in SQL from its recipe (the board decodes no JSON in Python).
TAKE_FRAMES = func.coalesce(TakeRow.recipe["frames"].as_integer(), 1)


@dataclass(frozen=True, slots=True)
class BoardFilter:
    """Which shots the board shows; None (or "") for any. The API and the pages take the same."""

    scene: str | None = None
    status: str | None = None
    character: str | None = None
    assignee: str | None = None

    def as_form(self) -> dict[str, str]:
        """The filters as the board's filter form shows them."""
        return {
            "scene": self.scene or "",
            "status": self.status or "",
            "character": self.character or "",
            "assignee": self.assignee or "",
        }


class ShotCard(BaseModel):
    """A shot on the board."""

    code: str
    scene: str
    status: str
    assignee: str
    subjects: list[str]
    frames: int
    takes: int
    notes: int
    current_take: str | None  # the approved take, else the newest
    flagged: bool  # the current take failed a check
    image: str | None
    # The current take's checks never ran or one raised: its own verdict, never a pass.
    not_checked: bool = False
    clip_frames: int = 0  # the current take is a clip of this many frames (0: a still)


class Board(BaseModel):
    """A page of the shot board and how many shots match the filters in all."""

    total: int
    shots: list[ShotCard]


class FindingView(BaseModel):
    """One intent check's finding on a take."""

    check: str
    subject: str
    score: float
    verdict: str
    reason: str
    # The frames of a clip take the finding is about, first and last (from 0); None for a still.
    frames: tuple[int, int] | None = None


class NoteView(BaseModel):
    """A note on a shot: words, and a drawing as vector shapes on an integer frame."""

    id: int
    author: str
    role: str
    take: int | None
    frame: int | None
    body: str
    shapes: list[dict[str, Any]]
    created_at: str | None


class TakeView(BaseModel):
    """A take with its recipe, approval and findings."""

    name: str
    number: int
    backend: str
    recipe: dict[str, Any]
    recipe_sha256: str
    approved_by: str
    approved_at: str | None
    override_reason: str
    findings: list[FindingView]
    image: str
    checks: str = ""  # the take's checks in one word: pass, warn, fail or not checked
    clip_frames: int = 0  # a clip take's frames (its image is then an MP4); 0 for a still


class ShotView(BaseModel):
    """A shot with its takes, its notes, and the status actions the caller may take."""

    code: str
    scene: str | None
    status: str
    assignee: str
    subjects: list[str]
    frames: int
    fps: int | float  # 24, or 23.976... for 24000/1001 (a JSON number)
    takes: list[TakeView]
    notes: list[NoteView]
    actions: list[str]


class Annotations(BaseModel):
    """A shot's drawn notes as vector data by integer frame, for export."""

    shot: str
    fps: int | float
    notes: list[NoteView]


@dataclass(frozen=True, slots=True)
class BoardOptions:
    """What the board's filter form offers."""

    scenes: list[str]
    characters: list[str]
    assignees: list[str]
    statuses: list[str]


def board(session: Session, filters: BoardFilter = BoardFilter(), *, limit: int = 200, offset: int = 0) -> Board:
    """The shot board: shots in cut order, filtered, one page of them, and how many match."""
    # One statement: the page's shots cut first, each with its counts and its current take's id
    # (lookups by index for the page's shots alone), then those takes with their findings (a row
    # per finding, a shot's rows together) and how many shots match. Three statements cost a
    # round trip each and bound the page's shot ids as an IN list of up to a thousand
    # parameters; that and building each card's override reasons (the board shows only the
    # verdict) were over a third of a 1,000-shot listing's Python time.
    matching = _matching(filters)
    takes = select(func.count(TakeRow.id)).where(TakeRow.shot_id == ShotRow.id).scalar_subquery()
    notes = select(func.count(NoteRow.id)).where(NoteRow.shot_id == ShotRow.id).scalar_subquery()
    page = (
        matching.add_columns(
            ShotRow.id,
            ShotRow.code,
            SceneRow.number,
            ShotRow.status,
            ShotRow.assignee,
            ShotRow.subjects,
            ShotRow.frames,
            takes.label("takes"),
            notes.label("notes"),
            _current_take(ShotRow.id).label("current"),
            SceneRow.position.label("scene_position"),
            ShotRow.position,
        )  # fmt: skip
        # The shot's id last: shots at the same place cut in the same order every time.
        .order_by(SceneRow.position, ShotRow.position, ShotRow.id)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    # A COUNT of its own, computed once (it is not correlated with the page's rows):
    # ``count() over ()`` on the page made the database build every matching row first.
    total = matching.add_columns(func.count()).scalar_subquery()
    # Read by position below (0-12: the shot, its counts and the total, its current take).
    columns = (
        page.c.id, page.c.code, page.c.number, page.c.status, page.c.assignee, page.c.subjects, page.c.frames,
        page.c.takes, page.c.notes, total,
        TakeRow.number, TakeRow.output_sha256, TakeRow.checked_at, TAKE_FRAMES,
        # What a take's verdict reads of its findings (the board shows no reasons).
        FindingRow.verdict, FindingRow.reason,
    )  # fmt: skip
    rows = session.execute(
        select(*columns)
        .select_from(page)
        .outerjoin(TakeRow, TakeRow.id == page.c.current)
        .outerjoin(FindingRow, FindingRow.take_id == TakeRow.id)
        # A shot's rows together; its findings in any order (its verdict is its worst).
        .order_by(page.c.scene_position, page.c.position, page.c.id)
    ).all()
    shots = []
    # Rows by position, not by name: a thousand cards' attribute lookups are measurable.
    for _, group in groupby(rows, key=itemgetter(0)):
        found = list(group)
        _, code, scene, status, assignee, subjects, frames, take_count, note_count, _, number, output, checked_at = (
            found[0][:13]
        )
        if number is None:  # no take yet
            current, verdict, image, length = None, None, None, 0
        else:
            said = [r for r in found if r.verdict is not None]  # None: no finding (an outer join)
            current, verdict = take_name(code, number), verdict_of(checked_at, said)
            length = int(found[0][13] or 1)
            image = media_url(output, length)
        shots.append(
            ShotCard(
                code=code,
                scene=scene,
                status=status,
                assignee=assignee,
                subjects=subject_names(subjects),
                frames=frames,
                takes=take_count,
                notes=note_count,
                current_take=current,
                flagged=verdict is Verdict.FAIL,
                image=image,
                not_checked=verdict is Verdict.NOT_CHECKED,
                clip_frames=clip_frames(length),
            )
        )
    # An empty page (an offset past the end) has no row to carry the count.
    count = rows[0][9] if rows else session.scalar(matching.add_columns(func.count()))
    return Board(total=count or 0, shots=shots)


def _matching(filters: BoardFilter) -> Select[Any]:
    """The shots of the cut that pass the filters, as a query with no columns yet."""
    query = (
        select()
        .select_from(ShotRow)
        .join(SceneRow, SceneRow.id == ShotRow.scene_id)
        .where(SceneRow.position.is_not(None), ShotRow.in_plan.is_(True))
    )
    if filters.scene:
        query = query.where(SceneRow.number == filters.scene.strip().upper())
    if filters.status:
        query = query.where(ShotRow.status == filters.status)
    if filters.assignee:
        query = query.where(ShotRow.assignee == filters.assignee)
    if filters.character:
        # The subjects column holds each name between bars: a whole name matches, never a part.
        query = query.where(ShotRow.subjects.contains(f"|{filters.character.strip().upper()}|", autoescape=True))
    return query


def board_options(session: Session) -> BoardOptions:
    """The scenes, characters, assignees and statuses the board can be filtered by."""
    return BoardOptions(
        scenes=list(
            session.scalars(select(SceneRow.number).where(SceneRow.position.is_not(None)).order_by(SceneRow.position))
        ),
        characters=list(session.scalars(select(CharacterRow.name).order_by(CharacterRow.name))),
        assignees=list(session.scalars(select(ShotRow.assignee).where(ShotRow.assignee != "").distinct())),
        statuses=[s.value for s in Status],
    )


def frames_of(row: Any) -> int:
    """A shot's frames as artists see them (the plan with their edits), from its planned and
    edits columns."""
    return int(shot_summary(row.planned, row.edits)["frames"])


def _current_take(shot_id: Any) -> Any:
    """The id of the take of ``shot_id`` the board shows, as a correlated subquery: its lowest
    approved take, else its newest (highest number). A lookup by the takes' shot index per
    shot of the page: no pass over every take of the production, no GROUP BY joined back."""
    return (
        select(TakeRow.id)
        .where(TakeRow.shot_id == shot_id)
        .order_by(TakeRow.approved_by == "", case((TakeRow.approved_by != "", TakeRow.number), else_=-TakeRow.number))
        .limit(1)
        .scalar_subquery()
    )


def shot_view(session: Session, code: str, role: Role, fps: int | Fraction) -> ShotView:
    """A shot with its takes (recipes, approvals, findings), its notes, and what the caller may do."""
    shot = shot_row(session, code)
    scene = session.scalar(select(SceneRow.number).where(SceneRow.id == shot.scene_id))
    takes = session.scalars(select(TakeRow).where(TakeRow.shot_id == shot.id).order_by(TakeRow.number)).all()
    findings: dict[int, list[FindingRow]] = {}
    if takes:
        query = select(FindingRow).where(FindingRow.take_id.in_([t.id for t in takes])).order_by(FindingRow.id)
        for f in session.scalars(query):
            findings.setdefault(f.take_id, []).append(f)
    numbers = {t.id: t.number for t in takes}
    fields = {**shot.planned, **(shot.edits or {})}
    return ShotView(
        code=shot.code,
        scene=scene,
        status=shot.status,
        assignee=shot.assignee,
        subjects=list(fields.get("subjects", [])),
        frames=int(fields.get("frames", 0)),
        fps=_number(fps),
        takes=[
            TakeView(
                name=take_name(shot.code, t.number),
                number=t.number,
                backend=t.backend,
                recipe=t.recipe,
                recipe_sha256=t.recipe_sha256,
                approved_by=t.approved_by,
                approved_at=iso(t.approved_at),
                override_reason=t.override_reason,
                findings=[
                    FindingView(
                        check=f.check,
                        subject=f.subject,
                        score=f.score,
                        verdict=f.verdict,
                        reason=f.reason,
                        frames=stored_finding(f).frames,
                    )  # fmt: skip
                    for f in findings.get(t.id, [])
                ],
                image=media_url(t.output_sha256, take_frames(t.recipe)),
                clip_frames=clip_frames(take_frames(t.recipe)),
                checks=standing(t.checked_at, map(stored_finding, findings.get(t.id, []))).label,
            )
            for t in takes
        ],
        notes=notes(session, shot.id, numbers),
        actions=[str(a) for a in allowed_actions(role, Status(shot.status))],
    )


def notes(
    session: Session, shot_id: int, numbers: dict[int, int], *, drawn: bool = False, role: str | None = None
) -> list[NoteView]:
    """A shot's notes, oldest first (``numbers``: take id -> take number); only drawings, or only
    one role's notes, when asked."""
    query = select(NoteRow).where(NoteRow.shot_id == shot_id).order_by(NoteRow.id)
    if role is not None:
        query = query.where(NoteRow.role == role)
    listed = [
        NoteView(
            id=n.id,
            author=n.author,
            role=n.role,
            take=numbers.get(n.take_id) if n.take_id is not None else None,
            frame=n.frame,
            body=n.body,
            shapes=n.shapes,
            created_at=iso(n.created_at),
        )
        for n in session.scalars(query)
    ]
    return [n for n in listed if n.shapes] if drawn else listed


def annotations(session: Session, code: str, fps: int | Fraction) -> Annotations:
    """The notes of a shot that carry drawings: vector data by integer frame, for export."""
    shot = shot_row(session, code)
    numbers = dict(session.execute(select(TakeRow.id, TakeRow.number).where(TakeRow.shot_id == shot.id)).all())
    return Annotations(shot=shot.code, fps=_number(fps), notes=notes(session, shot.id, numbers, drawn=True))


def _number(rate: int | Fraction) -> int | float:
    """A frame rate as a JSON number: whole rates stay whole."""
    return int(rate) if rate == int(rate) else float(rate)


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
