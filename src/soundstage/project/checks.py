"""Intent checks on takes: each take measured against its shot's intent (previs passes, the
bible's references, approved takes of neighbouring shots, other shots' takes), its findings
stored, replacing earlier ones. The worker runs them on every new take; ``soundstage check``
runs them again. A clip take is checked on a sample of its frames against the previs clip's
frames of the same numbers, and over time (checks/temporal.py); its findings name their frames.

What the stored findings say of a take as a whole is its ``Standing``: the review gate, the
board and the disclosure report read that one word. A take whose checks never ran (no
``checked_at``: the worker's checks raised, or the shot had no previs), or one of whose checks
raised, is "not checked", never a pass; approving it needs an override reason, as approving a
failed one does."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Row, delete, select, update
from sqlalchemy.orm import Session

from soundstage.config import BibleEntry
from soundstage.generate import clips
from soundstage.generate.backend import parse_take_name, take_name
from soundstage.plan.model import Shot
from soundstage.project import bible, blocking, shotlist
from soundstage.project.production import Context, Progress, no_progress
from soundstage.store.rows import no_take, shot_row, take_row, take_select
from soundstage.store.tables import FindingRow, RenderRow, ShotRow, TakeRow, utcnow

MP4 = clips.SUFFIXES["mp4"]  # a take that moves

if TYPE_CHECKING:
    from soundstage.checks import Embedder, Finding, ShotIntent, TakeSignature, Verdict
    from soundstage.checks.findings import Judged
    from soundstage.checks.registry import Check


@dataclass(slots=True)
class CheckReport:
    """What ``check`` found: findings per take ("012_0030/2"), and shots it could not check."""

    findings: dict[str, list[Finding]] = field(default_factory=dict)
    not_checked: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ChecksState:
    """What the checks keep while the production is open. Signatures never change (a take's
    picture does not): each is read once, so a worker's checks do not re-read every take for
    every batch."""

    signatures: dict[int, TakeSignature] = field(default_factory=dict)  # take id -> signature
    layouts: dict[int, np.ndarray] = field(default_factory=dict)  # take id -> its signature's layout row
    embedder: Embedder | None = None  # made on first use: a model embedder loads weights
    checks: list[Check] | None = None  # those of [checks] run, loaded on first use


@dataclass(frozen=True, slots=True)
class _TakeRef:
    """What the intent checks need of every take of the production (no recipe, no picture)."""

    id: int
    shot_id: int
    number: int
    approved_by: str
    code: str
    scene_id: int


def check(
    context: Context, codes: Sequence[str] = (), *, jobs: Sequence[int] = (), progress: Progress = no_progress
) -> CheckReport:
    """Run the intent checks on takes and store their findings (replacing earlier ones): every
    take of ``codes`` (every shot when both are empty), or the takes of queue ``jobs`` (the
    worker checks each take it makes). A shot's intent is prepared once for all its takes."""
    # The checks (OpenCV, the embedders) and the renderer's PNG reader load only when takes are checked.
    from soundstage.checks import signature
    from soundstage.checks.registry import checks_for, run_checks

    report = CheckReport()
    state = context.state(ChecksState)
    with context.transaction() as session:
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
                    TakeRow.id, TakeRow.shot_id, TakeRow.number, TakeRow.approved_by, ShotRow.code, ShotRow.scene_id,
                ).join(ShotRow)
            )
        ]  # fmt: skip
        shot_ids = {take.shot_id for take, _ in chosen}
        renders = {r.shot_id: r for r in session.scalars(select(RenderRow).where(RenderRow.shot_id.in_(shot_ids)))}
        missing = [ref.id for ref in everything if ref.id not in state.signatures]
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
        state.signatures[take_id] = _signature(context, kept, output)
    embedder = _embedder(context)
    if state.checks is None:
        state.checks = checks_for(context.settings.checks.run)
    for done, (code, group) in enumerate(groupby(chosen, key=lambda pair: pair[1])):
        takes = [take for take, _ in group]
        shot = shotlist.shot(context, code)
        render = renders.get(takes[0].shot_id)
        if render is None:
            report.not_checked.append(f"{code}: no previs to check against (soundstage previs)")
            continue
        make_intent = _intent_maker(context, shot, takes[0].shot_id, everything, embedder)
        intent = make_intent(*_still_passes(context, render))
        results = []
        for take in takes:
            if context.media.exists(take.output_sha256, MP4):
                # A clip take is checked frame by frame against the previs clip, and in time.
                image, findings = _clip_findings(context, take.output_sha256, render, intent, make_intent)
            else:
                image = _take_picture(context, take.output_sha256)
                findings = run_checks(state.checks, image, intent, context.settings.checks)
            made = signature(image)
            state.signatures[take.id] = made
            results.append((take.id, findings, made.to_dict()))
            report.findings[take_name(code, take.number)] = findings
        _store_findings(context, results)
        progress(done + 1, 0)
    return report


def findings(context: Context, reference: str) -> list[Finding]:
    """The stored findings of a take ("012_0030/2"; a bare shot code: its newest take)."""

    code, number = parse_take_name(reference)
    with context.transaction() as session:
        take = take_row(session, shot_row(session, code), number)
        rows = session.scalars(select(FindingRow).where(FindingRow.take_id == take.id).order_by(FindingRow.id))
        return [stored_finding(r) for r in rows]


@dataclass(frozen=True, slots=True)
class Standing:
    """A take's checks in one word, and why approving it needs an override reason (empty: it
    does not). ``verdict`` is not checked, fail, warn or pass (``take_verdict``)."""

    verdict: Verdict
    reasons: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The verdict as people read it: "pass", "warn", "fail" or "not checked"."""
        # The checks package loads OpenCV: only when asked. From the module, not the package: a
        # package's ``from ... import`` runs Python-level import machinery on every call.
        from soundstage.checks.findings import Verdict

        return "not checked" if self.verdict is Verdict.NOT_CHECKED else self.verdict.value

    @property
    def needs_override(self) -> bool:
        """Whether approving the take needs an override reason: it failed, or was not checked."""
        return bool(self.reasons)


def standing(checked_at: datetime | None, found: Iterable[Finding]) -> Standing:
    """What a take's stored findings say of it, given when its checks last ran (None: never)."""
    # The checks package loads OpenCV and the embedders; the board and review need only these.
    # One import from the module (not the package): a playlist's approval calls this once a take.
    from soundstage.checks.findings import Verdict, frames_label, needs_override

    found = list(found)
    verdict = verdict_of(checked_at, found)
    if checked_at is None:
        return Standing(verdict, ("not checked: its checks never ran",))
    reasons = tuple(
        f"{f.check}{f' ({f.subject})' if f.subject else ''}{f' on frames {frames_label(f.frames)}' if f.frames else ''}: "
        f"{f.reason}"
        for f in needs_override(found)
    )
    if verdict is Verdict.NOT_CHECKED and not reasons:
        reasons = ("not checked: no check ran on it",)
    return Standing(verdict, reasons)


def verdict_of(checked_at: datetime | None, found: Iterable[Judged]) -> Verdict:
    """A take's ``standing`` verdict alone, without the reasons, from its findings or their
    stored rows (``FINDING_COLUMNS``): what the board shows of each current take (a thousand
    cards' reasons and ``Finding`` objects were wasted work)."""
    from soundstage.checks.findings import Verdict, take_verdict

    return Verdict.NOT_CHECKED if checked_at is None else take_verdict(found)


def standings(session: Session, take_ids: Iterable[int]) -> dict[int, Standing]:
    """The standing of each of these takes (take id -> standing), in one query."""
    ids = sorted(set(take_ids))
    if not ids:
        return {}
    rows = session.execute(
        # The findings' columns, not ``FindingRow`` objects (as the board reads them).
        select(TakeRow.id, TakeRow.checked_at, FindingRow.id.label("finding_id"), *FINDING_COLUMNS)
        .outerjoin(FindingRow, FindingRow.take_id == TakeRow.id)
        .where(TakeRow.id.in_(ids))
        .order_by(TakeRow.id, FindingRow.id)
    ).all()
    return {
        take_id: standing(group[0].checked_at, [stored_finding(r) for r in group if r.finding_id is not None])
        for take_id, group in ((k, list(g)) for k, g in groupby(rows, key=lambda r: r.id))
    }


def take_with_standing(session: Session, shot: ShotRow, number: int | None) -> tuple[TakeRow, Standing]:
    """Take ``number`` of ``shot`` (its newest when None, as ``take_row``) and its standing, read
    together in one query (an approval's gate: one round trip, not two)."""
    # Not correlated with the outer query over takes: the subquery picks one take id on its own.
    chosen = take_select(shot, number).with_only_columns(TakeRow.id).correlate(None).scalar_subquery()
    rows = session.execute(
        select(TakeRow, FindingRow.id.label("finding_id"), *FINDING_COLUMNS)
        .outerjoin(FindingRow, FindingRow.take_id == TakeRow.id)
        .where(TakeRow.id == chosen)
        .order_by(FindingRow.id)
    ).all()
    if not rows:
        raise no_take(shot, number)
    take = rows[0][0]
    return take, standing(take.checked_at, [stored_finding(r) for r in rows if r.finding_id is not None])


# What a stored finding is read from, as plain columns: what the board and the gates select
# instead of whole ``FindingRow`` objects (building ORM objects was most of the board's current
# takes' time).
FINDING_COLUMNS = (
    FindingRow.check,
    FindingRow.subject,
    FindingRow.score,
    FindingRow.verdict,
    FindingRow.reason,
    FindingRow.first_frame,
    FindingRow.last_frame,
)


def stored_finding(row: FindingRow | Row[Any]) -> Finding:
    """A finding as it was stored, from its ``FindingRow`` or a row of ``FINDING_COLUMNS``."""
    # The checks package loads OpenCV: only when read. From the module, not the package: a
    # package's ``from ... import`` runs Python-level import machinery on every call.
    from soundstage.checks.findings import Finding, Verdict

    frames = None if row.first_frame is None or row.last_frame is None else (row.first_frame, row.last_frame)
    return Finding(row.check, row.subject, row.score, Verdict(row.verdict), row.reason, frames)


def _embedder(context: Context) -> Embedder:
    from soundstage.checks import embedder_for  # the checks package loads OpenCV and the embedders

    state = context.state(ChecksState)
    if state.embedder is None:
        state.embedder = embedder_for(context.settings.checks, context.root)
    return state.embedder


def _layout(state: ChecksState, take_id: int) -> np.ndarray:
    """A take's layout thumbnail as a float32 row, converted once per open production."""
    if take_id not in state.layouts:
        state.layouts[take_id] = np.asarray(state.signatures[take_id].layout, np.float32)
    return state.layouts[take_id]


def _signature(context: Context, stored: dict[str, Any] | list[Any], output_sha256: str) -> TakeSignature:
    """A take's stored signature, or one made now from its picture (takes made before checks, or
    with another signature version)."""
    from soundstage.checks import TakeSignature, signature  # OpenCV and the embedders: checking only

    try:
        if isinstance(stored, dict) and stored:
            return TakeSignature.from_dict(stored)
    except ValueError:
        pass
    return signature(_take_picture(context, output_sha256))


def _take_picture(context: Context, output_sha256: str) -> np.ndarray:
    """What the checks read of a take: a still's PNG, or a clip's first frame (an ``.mp4``
    take), which is the frame the render's still passes show."""
    suffix = MP4 if context.media.exists(output_sha256, MP4) else ".png"
    return clips.first_frame(context.media.path(output_sha256, suffix), f"take {output_sha256[:12]}")


# The passes a shot's intent is prepared from: line art, depth, ids, storyboard.
_PASSES = ("lineart", "depth", "ids", "storyboard")
IntentMaker = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], "ShotIntent"]


def _intent_maker(
    context: Context, shot: Shot, shot_id: int, everything: Sequence[_TakeRef], embedder: Embedder
) -> IntentMaker:
    """What a shot's takes are checked against: its characters' reference sheets, the style
    references, approved takes of its scene's other shots, other shots' takes, read once; with
    the previs passes of a frame (line art, depth, ids, storyboard) they make that frame's intent."""
    from soundstage.checks import CharacterIntent, OtherTakes, prepare_intent  # checking only (OpenCV)
    from soundstage.checks.features import LAYOUT_LENGTH

    state = context.state(ChecksState)
    scene_id = next(ref.scene_id for ref in everything if ref.shot_id == shot_id)
    ids = blocking.characters(context, set(shot.subjects))
    book = context.settings.bible

    def pictures(paths: Sequence[str]) -> list[np.ndarray]:
        return [bible.picture(context, bible.bible_image(context, p)) for p in paths]

    characters = {
        name: CharacterIntent(ids[name][0], pictures((book.characters.get(name) or BibleEntry()).references))
        for name in shot.subjects
    }
    neighbours = [
        (take_name(ref.code, ref.number), state.signatures[ref.id])
        for ref in everything
        if ref.scene_id == scene_id and ref.shot_id != shot_id and ref.approved_by
    ]
    refs = [ref for ref in everything if ref.shot_id != shot_id]
    others = OtherTakes(
        [take_name(ref.code, ref.number) for ref in refs],
        np.stack([_layout(state, ref.id) for ref in refs]) if refs else np.zeros((0, LAYOUT_LENGTH), np.float32),
    )
    styles = pictures(book.style_references)

    def make(lineart: np.ndarray, depth: np.ndarray, ids: np.ndarray, storyboard: np.ndarray) -> ShotIntent:
        return prepare_intent(
            lineart, depth, ids, characters, styles, neighbours, others, embedder, storyboard=storyboard
        )

    return make


def _still_passes(context: Context, render: RenderRow) -> tuple[np.ndarray, ...]:
    """A render's still passes (its first frame), in ``_PASSES`` order."""
    from soundstage.render.previs import read_png  # with the renderer: checking only

    return tuple(read_png(context.media.path(getattr(render, f"{name}_sha256"), ".png")) for name in _PASSES)


def _clip_findings(
    context: Context, output_sha256: str, render: RenderRow, still: ShotIntent, make_intent: IntentMaker
) -> tuple[np.ndarray, list[Finding]]:
    """A clip take's first frame (its signature's picture) and its findings: the checks of
    ``[checks] run`` on every ``clip_every``-th frame and the last, each against the intent of
    the previs clip's frame of that number (the still's, held, for a shot without previs clips),
    merged into frame ranges, then the checks in time (checks/temporal.py). Frames past the end
    of the previs clip are not checked."""
    from soundstage.checks.registry import run_checks
    from soundstage.checks.temporal import ClipSample, check_clip, frame_tone, sampled_frames

    settings = context.settings.checks
    state = context.state(ChecksState)
    every = settings.clip_every
    moving = bool(render.clips)
    end = render.frames if moving else None
    what = f"take {output_sha256[:12]}"
    tones, kept = [], {}
    # One pass over the take: every frame's tone, every n-th frame kept, and the last.
    for number, frame in enumerate(clips.each_frame(context.media.path(output_sha256, MP4).read_bytes(), what)):
        if end is not None and number >= end:
            break
        tones.append(frame_tone(frame))
        if number % every == 0:
            kept[number] = frame
        last = frame
    kept[len(tones) - 1] = last
    numbers = sampled_frames(len(tones), every)
    if moving:
        passes, blocked_tones = _pass_frames(context, render, numbers)
        storyboard = passes["storyboard"]
    else:
        still_storyboard = _still_passes(context, render)[-1]
        storyboard = {n: still_storyboard for n in numbers}
        blocked_tones = [frame_tone(still_storyboard)] * len(tones)
    samples = [
        ClipSample(
            n,
            kept[n],
            storyboard[n],
            make_intent(*(passes[name][n] for name in _PASSES)) if moving else still,
        )
        for n in numbers
    ]
    found = check_clip(
        samples,
        np.array(tones, np.float32),
        np.array(blocked_tones, np.float32),
        settings,
        lambda image, intent: run_checks(state.checks or [], image, intent, settings),
    )
    return kept[0], found


def _each(context: Context, sha256: str, name: str, count: int) -> Iterator[np.ndarray]:
    """The first ``count`` frames of a previs pass clip, one by one; grey passes (line art, ids)
    as one channel, as their stills are."""
    data = context.media.path(sha256, blocking.CLIP_SUFFIX).read_bytes()
    for number, frame in enumerate(clips.each_frame(data, f"the {name} pass clip")):
        if number >= count:
            return
        yield frame[..., 0] if name in ("lineart", "ids") and frame.ndim == 3 else frame


def _pass_frames(
    context: Context, render: RenderRow, numbers: Sequence[int]
) -> tuple[dict[str, dict[int, np.ndarray]], list[np.ndarray]]:
    """The frames ``numbers`` of each previs pass clip of a render (pass -> frame -> pixels),
    and the tone of every storyboard frame up to the last of them (the flicker check's), each
    clip decoded once."""
    from soundstage.checks.temporal import frame_tone

    wanted, count = set(numbers), max(numbers) + 1
    passes: dict[str, dict[int, np.ndarray]] = {name: {} for name in _PASSES}
    tones = []
    for name in _PASSES:
        for n, frame in enumerate(_each(context, render.clips[name], name, count)):
            if name == "storyboard":
                tones.append(frame_tone(frame))
            if n in wanted:
                passes[name][n] = frame
    return passes, tones


def _store_findings(context: Context, results: Sequence[tuple[int, list[Finding], dict[str, Any]]]) -> None:
    with context.transaction() as session:
        ids = [take_id for take_id, _, _ in results]
        session.execute(delete(FindingRow).where(FindingRow.take_id.in_(ids)))
        now = utcnow()
        for take_id, found, sig in results:
            session.execute(update(TakeRow).where(TakeRow.id == take_id).values(checked_at=now, signature=sig))
            session.add_all(
                FindingRow(take_id=take_id, check=f.check, subject=f.subject, score=float(f.score),
                           verdict=f.verdict.value, reason=f.reason,
                           first_frame=f.frames[0] if f.frames else None, last_frame=f.frames[1] if f.frames else None)
                for f in found
            )  # fmt: skip
