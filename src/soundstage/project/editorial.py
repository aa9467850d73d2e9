"""Editorial: the cut (each shot's approved take, else its newest, else a slate) into signed
takes, an OTIO timeline with EDL and FCP XML, the signed animatic and the disclosure report;
the production's signer; and reading a file's content credentials back."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from soundstage import __version__
from soundstage.config import Credentials
from soundstage.errors import CutError, ShotError
from soundstage.files import read_failure, write_atomic
from soundstage.generate import clips
from soundstage.generate.backend import Recipe, take_name
from soundstage.project import checks, drafts, guardrails, shotlist, take_uses, trail
from soundstage.project.production import Context, Progress, console, no_progress
from soundstage.store.tables import NoteRow, ShotRow, TakeRow

if TYPE_CHECKING:
    from soundstage.cut.timeline import CutShot
    from soundstage.provenance.credentials import CredentialReport, Signer, TakeProvenance
    from soundstage.provenance.disclosure import DisclosureRow
    from soundstage.provenance.screenplay import AiText


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
class _CutEntry:
    """A shot as the cut takes it: the cut's view, the take's provenance and the report's row."""

    shot: CutShot
    provenance: TakeProvenance | None
    source: Path | None  # the take's unsigned PNG in the media store
    checks: str = ""  # the take's intent checks in one word (pass, warn, fail, not checked)

    def with_guardrails(self, record: dict[str, Any]) -> _CutEntry:
        """This entry with the take's guardrail record in its provenance."""
        assert self.provenance is not None
        return dataclasses.replace(self, provenance=dataclasses.replace(self.provenance, guardrails=record))

    def row(self, frames: int) -> DisclosureRow:
        """The disclosure report's row for this shot, cut for ``frames`` frames."""
        from soundstage.provenance.disclosure import DisclosureRow  # fpdf (~70 MB): cutting only

        if self.provenance is None:
            return DisclosureRow.slate(self.shot.code, frames)
        return DisclosureRow.of_take(self.provenance, frames, checks=self.checks)


def provider(context: Context) -> str:
    """The provider the production's credentials and disclosure reports name: the
    ``[credentials] organisation``, else the production's title ("" before a title is known:
    never the folder's name)."""
    script = drafts.latest_script(context)
    title = context.settings.title or (script.title if script is not None else "")
    from soundstage.provenance.credentials import provider_of  # c2pa (~50 MB): signing only

    return provider_of(title, context.settings.credentials.organisation)


def signer(context: Context) -> Signer:
    """The production's content-credentials signer. A production whose settings still name the
    default files and has none (made before credentials existed) gets its identity now."""
    from soundstage.provenance.credentials import Signer, make_project_identity  # c2pa (~50 MB): signing only

    settings = context.settings.credentials
    certificate, key = settings.certificate_path(context.root), settings.key_path(context.root)
    defaults = Credentials()
    if (
        (settings.certificate, settings.private_key) == (defaults.certificate, defaults.private_key)
        and not certificate.exists()
        and not key.exists()
    ):
        make_project_identity(certificate.parent, provider(context), passphrase=context.settings.signing_passphrase())
    return Signer.from_files(certificate, key, settings.timestamp_url, passphrase=context.settings.signing_passphrase())


def cut(
    context: Context,
    out: Path,
    *,
    scenes: Sequence[str] = (),
    prores: bool = False,
    name: str = "cut",
    made_by: str = "",
    progress: Progress = no_progress,
) -> CutReport:
    """Cut the episode (or ``scenes``) into ``out``: each shot's approved take, else its newest,
    else a NO TAKE slate, for its planned duration (longer where its scratch dialogue needs it).

    Writes the signed takes (takes/), the OTIO timeline with EDL and FCP XML, the animatic (MP4,
    or ProRes .mov) signed with every take as an ingredient, and the disclosure report (HTML and
    PDF), into a hidden folder beside ``out`` that replaces ``out`` whole at the end
    (cut/swap.py): stopped or failed at any point, the previous cut stays as it was. The
    signing identity is checked before anything is written. ``made_by`` is the
    production's user name of whoever cuts it; the operating-system login and host are recorded
    beside it. The animatic's signed time and the report's time are the cut's one clock reading.
    """
    # The animatic (PyAV, OpenCV), OTIO, c2pa and fpdf load only when something is cut.
    from soundstage.cut.swap import CutFolder, is_cut_entry, recover

    # First, before anything can fail: a cut killed mid-swap put back, a killed cut's half-built
    # folder removed (cut/swap.py), so even a refused cut leaves the folder as its last cut did.
    recover(out)
    signing = signer(context)
    named, login = provider(context), console()
    entries = _cut_entries(context, scenes)
    audit_head = trail.head(context)  # the trail as the cut saw the approvals, carried by its credentials
    ai_text = drafts.ai_text(context)  # read once: the animatic's credentials and the disclosure say the same
    if not entries:
        raise CutError(f"{context.root}: nothing to cut (no planned shots{' in those scenes' if scenes else ''})")
    # The AI rules of [policy] (docs/guardrails.md): refused unless every violation is overridden.
    # Scratch dialogue a voice model makes is a use of the voice performer's voice, checked here.
    spoken = take_uses.speakers(context, [e.shot.code for e in entries])
    cleared = guardrails.clear_release(
        context, [(e.shot.code, e.provenance.take) for e in entries if e.provenance], spoken=spoken
    )
    entries = [e if e.provenance is None else e.with_guardrails(cleared[e.provenance.take]) for e in entries]
    root = context.root.resolve()
    if root.is_relative_to(out.resolve()):
        raise CutError(f"{out}: holds the production; a cut replaces its folder whole: name a folder of its own")
    report = CutReport(cut_id=str(uuid.uuid4()), out=out)
    # The whole cut is written into a hidden folder beside ``out`` and swapped into place at the
    # end, so a failure or a kill at any point leaves the previous cut as it was (cut/swap.py).
    # The cut writes nothing to the database: the swap is its one commit.
    with CutFolder(out, owned=lambda entry: is_cut_entry(entry, name)) as staged:
        _write_cut(
            context, staged.folder, report, entries, spoken, signing,
            name=name, prores=prores, made_by=made_by, login=login, provider=named,
            audit_head=audit_head, ai_text=ai_text, progress=progress,
        )  # fmt: skip
        staged.commit()
    report.outputs = {key: out / path.relative_to(staged.folder) for key, path in report.outputs.items()}
    return report


def _write_cut(
    context: Context,
    out: Path,
    report: CutReport,
    entries: list[_CutEntry],
    spoken: dict[str, list[str]],
    signing: Signer,
    *,
    name: str,
    prores: bool,
    made_by: str,
    login: str,
    provider: str,
    audit_head: tuple[int, str] | None,
    ai_text: Sequence[AiText],
    progress: Progress,
) -> None:
    """Write the cut of ``entries`` into the folder ``out`` (the hidden one ``cut`` swaps into
    place), filling in ``report``."""
    from soundstage.cut.animatic import write_animatic
    from soundstage.cut.timeline import assemble, write_editorial
    from soundstage.provenance.credentials import media_type, sign_animatic, sign_take
    from soundstage.provenance.disclosure import Disclosure, write_disclosure

    settings = context.settings.cut
    cut_id = report.cut_id
    signed: list[tuple[Path, TakeProvenance]] = []
    shots: list[CutShot] = []
    for entry in entries:
        shot = entry.shot
        if entry.provenance is not None and entry.source is not None and entry.source.exists():
            suffix = entry.source.suffix  # .png for a still take, .mp4 for a clip
            target = out / "takes" / f"{entry.provenance.take.replace('/', '_t')}{suffix}"
            try:
                media = entry.source.read_bytes()
            except OSError as failure:  # a folder, or a file the media store lost its read access to
                raise CutError(
                    f"{entry.source}: cannot read take {entry.provenance.take}'s media: {read_failure(failure)}"
                ) from None
            signed_take = sign_take(media, entry.provenance, signing, mime=media_type(entry.source))
            write_atomic(target, signed_take, error=CutError)
            signed.append((target, entry.provenance))
            shot = dataclasses.replace(shot, image=target)
        shots.append(shot)
    voices = context.root / "cache" / "voices" if settings.scratch_dialogue else None
    assembled = assemble(drafts.title(context) or context.root.name, shots, context.settings.fps, voices)
    report.shots, report.frames = len(assembled.shots), assembled.frames
    report.lengthened = [f"{code}: {old} -> {new} frames" for code, old, new in assembled.lengthened]
    report.warnings = list(assembled.warnings)
    for character in take_uses.voice_modelled(context, [c for names in spoken.values() for c in names]):
        model = context.settings.bible.characters[character].voice_model
        report.warnings.append(
            f"{character}: Soundstage has no voice-model speaker yet, so espeak-ng spoke the lines; they were "
            f"checked as use of {model}"
        )
    report.outputs.update(write_editorial(assembled, out, name, size=(settings.width, settings.height)))
    suffix = ".mov" if prores else ".mp4"
    animatic = out / f"{name}{suffix}"
    unsigned = out / f".{name}.unsigned{suffix}"
    try:
        info = write_animatic(
            assembled,
            unsigned,
            size=(settings.width, settings.height),
            prores=prores,
            burn_in=settings.burn_in,
            head_slate_s=settings.head_slate_s,
            progress=progress,
            # The production's segment cache (docs/cut.md, "Re-cuts"): a re-cut encodes only the
            # shots that changed, and what a stopped cut encoded is kept for the next one.
            segment_cache=context.root / "cache" / "segments",
            workers=os.cpu_count() or 1,
        )
        sign_animatic(
            unsigned,
            animatic,
            title=assembled.title,
            cut_id=cut_id,
            takes=signed,
            signer=signing,
            audit_head=audit_head,
            provider=provider,
            made_by=made_by,
            made_by_login=login,
            signed_at=assembled.made_at,
            ai_text=ai_text,
        )
    except CutError as error:
        # The movie is made under a hidden name and signed into its own: the user's is the latter.
        error.args = (str(error).replace(str(unsigned), str(animatic)),)
        raise
    finally:
        unsigned.unlink(missing_ok=True)
    report.outputs["animatic"] = animatic
    report.warnings += info.warnings
    report.outputs["takes"] = out / "takes"
    frames = {shot.code: shot.frames for shot in assembled.shots}
    disclosure = Disclosure(
        title=assembled.title,
        cut_id=cut_id,
        created_at=assembled.made_at,
        generator=f"Soundstage {__version__}",
        fps=context.settings.fps,
        rows=tuple(e.row(frames[e.shot.code]) for e in entries),
        provider=provider,
        scratch_dialogue=voices is not None,
        made_by=made_by,
        made_by_login=login,
        ai_text=ai_text,
    )
    html, pdf = out / f"{name}_disclosure.html", out / f"{name}_disclosure.pdf"
    write_disclosure(disclosure, html, pdf)
    report.outputs["disclosure"], report.outputs["disclosure_pdf"] = html, pdf


def _cut_entries(context: Context, scenes: Sequence[str]) -> list[_CutEntry]:
    """Each planned shot with the take the cut uses, its provenance and its notes."""
    from soundstage.cut.timeline import CutShot, Note, spoken_lines  # OTIO: cutting only
    from soundstage.provenance.credentials import Approval, TakeProvenance

    wanted = {s.strip().upper() for s in scenes}
    numbers = drafts.scene_numbers(context)
    unknown = sorted(wanted - set(numbers))
    if unknown:
        raise ShotError(f"{context.root}: no scene {', '.join(unknown)} (scenes: {', '.join(numbers)})")
    spoken = spoken_lines(drafts.script(context))
    shots = [s for s in shotlist.shots(context) if not wanted or s.scene.upper() in wanted]
    with context.transaction() as session:
        rows = {r.code: r for r in session.scalars(select(ShotRow).where(ShotRow.in_plan))}
        takes: dict[int, list[TakeRow]] = {}
        for take in session.scalars(select(TakeRow).order_by(TakeRow.number)):
            takes.setdefault(take.shot_id, []).append(take)
        notes: dict[int, list[NoteRow]] = {}
        for note in session.scalars(select(NoteRow).order_by(NoteRow.id)):
            notes.setdefault(note.shot_id, []).append(note)
        chosen = {shot_id: _cut_take(history) for shot_id, history in takes.items()}
        gates = checks.standings(session, [take.id for take in chosen.values()])
    entries = []
    for shot in shots:
        row = rows[shot.code]
        take = chosen.get(row.id)
        provenance, source = None, None
        if take is not None:
            approval = None
            if take.approved_by and take.approved_at is not None:
                approval = Approval(take.approved_by, take.approved_role, take.approved_at, take.override_reason)
            recipe = Recipe.model_validate(take.recipe)
            name = take_name(shot.code, take.number)
            provenance = TakeProvenance(
                shot.code,
                name,
                recipe,
                take.recipe_sha256,
                approval,
                take.created_at,
                requested_by=take.requested_by,
                requested_by_login=take.requested_by_login,
            )
            source = context.media.path(take.output_sha256, clips.take_suffix(recipe.frames))
        cut_shot = CutShot(
            code=shot.code,
            scene=shot.scene,
            frames=shot.frames,
            take=provenance.take if provenance else None,
            # The media object itself until it is signed into the cut's takes/ (a missing object
            # stays a path that does not exist: the cut slates it and warns).
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
            size=shot.size.value,
            lens_mm=shot.lens_mm,
            # The take's media id names its segment of the animatic (its signed copy's bytes
            # differ from cut to cut); for a clip take it is the clip's sha256.
            picture_sha256=take.output_sha256 if take is not None else "",
        )
        entries.append(_CutEntry(cut_shot, provenance, source, gates[take.id].label if take is not None else ""))
    return entries


def _cut_take(history: list[TakeRow]) -> TakeRow:
    """The take the cut uses of a shot's takes (oldest first): the approved one, else the newest."""
    approved = [t for t in history if t.approved_by]
    return approved[-1] if approved else history[-1]


def verify(file: Path, production_root: Path | None = None, trust: Path | None = None) -> CredentialReport:
    """A file's content credentials: valid or not, what made it, from which takes, who approved
    each. Trusted: ``trust`` (CA certificates, PEM), else the production's credentials/ca.pem."""
    from soundstage.provenance.credentials import read_credentials  # c2pa: reading credentials only

    if trust is None and production_root is not None:
        candidate = production_root / "credentials" / "ca.pem"
        trust = candidate if candidate.exists() else None
    return read_credentials(file, trust_anchors=trust)
