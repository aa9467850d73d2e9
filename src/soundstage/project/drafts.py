"""The script: importing drafts (a revision is matched scene by scene), the current draft, its
production scene numbers, its breakdown, and exporting it again.

Scenes keep their production numbers across revisions: a scene the revision still has keeps
its number, a new one gets the next free number (an "A" number between two scenes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from soundstage.errors import ProductionError, ScriptError
from soundstage.project.people import CONSOLE
from soundstage.project.production import Context, console
from soundstage.project.trail import append_event
from soundstage.provenance.screenplay import AiText
from soundstage.reports.sheets import SceneSheet
from soundstage.script.breakdown import break_down
from soundstage.script.formats import Format, parse_script, read_script, write_script
from soundstage.script.model import Script
from soundstage.script.revisions import KnownScene, body_sha256, match_scenes, number_scenes
from soundstage.store.tables import Draft, SceneRow


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
    ai_material: bool = False  # the draft holds AI-generated text
    ai_carried_from: int | None = None  # the earlier draft whose mark it carries (not --ai-material)


@dataclass(slots=True)
class DraftState:
    """The current draft, parsed, and its breakdown: worked out once per open production."""

    script: Script | None = None
    sheets: list[SceneSheet] | None = None


def import_script(context: Context, path: Path, *, ai_material: bool = False) -> ImportReport:
    """Read a screenplay (a first draft or a revision) into the production. ``ai_material``:
    the draft holds AI-generated text (WGA MBA Art. 72: disclosed to a writer before it is
    sent, never source material). Without it, the same file again keeps that file's mark, and
    a revision carries the mark of the draft it follows until someone unmarks it (``soundstage
    script mark --no-ai-material``), so re-importing never drops it silently."""
    script, data = read_script(path, context.settings.max_script_bytes)
    if not script.scenes:
        # Importing it would mark every scene removed; a draft without headings is a mistake.
        raise ScriptError("no scene headings found (INT. / EXT. / a forced '.' heading)", path=path)
    previous = latest_script(context)
    sha = context.media.put_bytes(data, path.suffix.lower())
    with context.transaction() as session:
        report = _record_draft(session, script, previous, path.name, sha)
        _mark_imported(session, report, sha, ai_material)
    state = context.state(DraftState)
    state.script, state.sheets = script, None
    return report


def _mark_imported(session: Session, report: ImportReport, sha: str, ai_material: bool) -> None:
    """Mark the draft just recorded as holding AI-generated material when the import says so;
    else it takes the mark of an earlier import of the same file (marking sets every import
    of a file alike), or, for a new file, of the draft it follows; audited."""
    draft = session.get(Draft, report.draft)
    assert draft is not None
    earlier = session.scalars(select(Draft).where(Draft.id < draft.id).order_by(Draft.id.desc())).all()
    same = [d for d in earlier if d.source_sha256 == sha]
    before = (same or earlier)[:1]
    carried = before[0] if before and before[0].ai_material else None
    if not (ai_material or carried):
        return
    draft.ai_material = report.ai_material = True
    report.ai_carried_from = None if ai_material or carried is None else carried.id
    detail = {"draft": draft.id, "draft_sha256": sha, "ai_material": True, "carried_from": report.ai_carried_from}
    append_event(session, console(), CONSOLE, "draft marked", f"draft {draft.id}", detail)


def _record_draft(session: Session, script: Script, previous: Script | None, name: str, sha: str) -> ImportReport:
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


def script(context: Context) -> Script:
    """The current draft, parsed (once per open production)."""
    found = latest_script(context)
    if found is None:
        raise ProductionError(f"{context.root}: no screenplay yet; run: soundstage import SCRIPT")
    return found


def latest_script(context: Context) -> Script | None:
    """The current draft, or None before the first import."""
    state = context.state(DraftState)
    if state.script is None:
        with context.transaction() as session:
            draft = session.scalars(select(Draft).order_by(Draft.id.desc()).limit(1)).first()
            if draft is None:
                return None
            name, sha = draft.source_name, draft.source_sha256
        with context.media.open(sha, Path(name).suffix.lower()) as source:
            state.script = parse_script(source.read(), name)
    return state.script


def title(context: Context) -> str:
    """The production's title: ``title`` in soundstage.toml, else the script's title page."""
    return context.settings.title or script(context).title


def ai_text(context: Context) -> tuple[AiText, ...]:
    """The current draft (the one a cut is made from) when it holds AI-generated text, as the
    disclosure report and the animatic's credentials name it; empty when it holds none."""
    with context.reading() as session:
        draft = session.scalars(select(Draft).order_by(Draft.id.desc()).limit(1)).first()
        if draft is None or not draft.ai_material:
            return ()
        return (AiText(draft.id, draft.source_sha256),)


def scene_numbers(context: Context) -> list[str]:
    """Production scene numbers of the current draft, in script order."""
    with context.transaction() as session:
        rows = session.scalars(select(SceneRow).where(SceneRow.position.is_not(None)).order_by(SceneRow.position))
        return [r.number for r in rows]


def export_script(context: Context, fmt: Format) -> bytes:
    """The current draft as a Fountain or FDX file, with the production's scene numbers."""
    draft = script(context)
    for scene, number in zip(draft.scenes, scene_numbers(context)):
        scene.number = number
    return write_script(draft, fmt)


def breakdown(context: Context) -> list[SceneSheet]:
    """The breakdown of every scene of the current draft (worked out once per open production)."""
    state = context.state(DraftState)
    if state.sheets is None:
        state.sheets = [SceneSheet(n, b) for n, b in zip(scene_numbers(context), break_down(script(context)))]
    return state.sheets


def _usable_number(number: str | None) -> str | None:
    """A script's own scene number if it can make shot codes (digits and letters), else None."""
    if number and re.fullmatch(r"\d{1,4}[A-Z]{0,3}", number.strip().upper()):
        return number.strip().upper()
    return None
