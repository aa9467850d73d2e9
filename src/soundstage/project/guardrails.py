"""The guardrails in the production: performers, consents (their documents in the media store
by hash) and the other records the AI terms ask for, stored and audited; what a take uses of
people, worked out from its recipe; and the gates that check the rule packs of ``[policy]``
before a take is approved, before the cut and before an export.

The rules themselves are the pure ``soundstage.guardrails`` package: this module reads the
tables into its records and uses, and writes what people record (each with its audit event,
naming the actor and their role). Nothing is cached between checks, so a revocation takes
effect on the very next approval or export.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from soundstage import __version__
from soundstage.errors import GuardrailError
from soundstage.generate.backend import REFERENCE_PREFIX, Recipe, take_name
from soundstage.guardrails.evaluate import Outcome, Override, evaluate
from soundstage.guardrails.model import (
    Casting,
    Consent,
    ConsentAction,
    ConsentEvent,
    DepartmentAIAssignment,
    DirectorConsultation,
    DraftSend,
    Gives,
    Performer,
    Records,
    Release,
    ReplicaKind,
    ReplicaPay,
    Representation,
    ScanNotice,
    Signer,
    Strike,
    TakeUse,
    UnionNotice,
    WriterDisclosure,
)
from soundstage.guardrails.model import Draft as MarkedDraft
from soundstage.guardrails.rules import Gate, RulePack, load_pack
from soundstage.guardrails.uses import take_use
from soundstage.project import drafts, shotlist
from soundstage.project.production import Context
from soundstage.script.model import Kind
from soundstage.store.tables import (
    ConsentEventRow,
    ConsentRow,
    ConsultationRow,
    DisclosureRecordRow,
    NoticeRow,
    OverrideRow,
    PerformerRow,
    SceneRow,
    ShotRow,
    TakeRow,
    utcnow,
)
from soundstage.store.tables import Draft as DraftRow


def project_name(context: Context) -> str:
    """The project name consents are written for: ``[policy] project``, else the title."""
    return context.settings.policy.project or drafts.title(context) or context.root.name


# -- reading the records ---------------------------------------------------------------------


def _performer(row: PerformerRow) -> Performer:
    return Performer(
        name=row.name,
        synthetic=row.synthetic,
        gives=frozenset(Gives(g) for g in row.gives),
        deceased=row.deceased,
        replica=ReplicaKind(row.replica),
        aliases=tuple(row.aliases),
    )


def consent_of(row: ConsentRow, events: Sequence[ConsentEventRow]) -> Consent:
    return Consent(
        id=row.consent_id,
        performer=row.performer,
        kind=ReplicaKind(row.kind),
        project=row.project,
        scope=row.scope,
        signed=date.fromisoformat(row.signed),
        document_sha256=row.document_sha256,
        expires=date.fromisoformat(row.expires) if row.expires else None,
        signer=Signer(row.signer),
        real_time=row.real_time,
        name_in_prompt=row.name_in_prompt,
        representation=Representation(row.representation),
        replaces_in_person=row.replaces_in_person,
        scenes=tuple(row.scenes),
        pay_terms=row.pay_terms,
        events=tuple(ConsentEvent(ConsentAction(e.action), as_utc(e.at), e.by, e.reason) for e in events),
    )


def as_utc(at: datetime) -> datetime:
    """``at`` in UTC: SQLite hands back naive datetimes for what was stored in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _document_now(context: Context, row: ConsentRow) -> str | None:
    """The sha256 of a consent's document as the media store holds it now (None: missing)."""
    if not context.media.exists(row.document_sha256, row.document_suffix):
        return None
    with context.media.open(row.document_sha256, row.document_suffix) as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def casting(context: Context) -> tuple[Casting, ...]:
    """The bible's characters as cast (voice, likeness, motion performers; human or not)."""
    return tuple(
        Casting(
            name,
            human=entry.human,
            voice=entry.voice,
            likeness=entry.likeness,
            motion=entry.motion,
            voice_model=entry.voice_model,
            models=tuple(entry.models),
        )  # fmt: skip
        for name, entry in context.settings.bible.characters.items()
    )


def records(context: Context, session: Session) -> Records:
    """Everything the production has recorded that the rules read, with each consent's
    document hashed from the media store now."""
    consent_rows = list(session.scalars(select(ConsentRow).order_by(ConsentRow.id)))
    events: dict[int, list[ConsentEventRow]] = {}
    for event in session.scalars(select(ConsentEventRow).order_by(ConsentEventRow.id)):
        events.setdefault(event.consent_id, []).append(event)
    notices = list(session.scalars(select(NoticeRow).order_by(NoticeRow.id)))
    return Records(
        performers=tuple(_performer(r) for r in session.scalars(select(PerformerRow).order_by(PerformerRow.id))),
        casting=casting(context),
        consents=tuple(consent_of(r, events.get(r.id, [])) for r in consent_rows),
        documents={r.consent_id: _document_now(context, r) for r in consent_rows},
        scan_notices=tuple(
            ScanNotice(**{k: _time(v) if k.endswith("_at") else v for k, v in n.record.items()})
            for n in notices
            if n.kind == "scan"
        ),
        union_notices=tuple(
            UnionNotice(**{k: _time(v) if k.endswith("_at") else v for k, v in n.record.items()})
            for n in notices
            if n.kind == "union"
        ),
        consultations=tuple(
            DirectorConsultation(c.director, as_utc(c.at), c.summary, tuple(c.shots))
            for c in session.scalars(select(ConsultationRow).order_by(ConsultationRow.id))
        ),
        assignments=tuple(
            DepartmentAIAssignment(**{k: _time(v) if k.endswith("_at") else v for k, v in n.record.items()})
            for n in notices
            if n.kind == "assignment"
        ),
        pay=tuple(
            ReplicaPay(
                n.record["performer"],
                int(n.record["days"]),
                Decimal(n.record["pro_rata"]),
                Decimal(n.record["scale"]),
                bool(n.record["principal"]),
            )  # fmt: skip
            for n in notices
            if n.kind == "pay"
        ),
        strikes=tuple(
            Strike(n.record["union"], _time(n.record["start"]), _time(n.record["end"]))
            for n in notices
            if n.kind == "strike"
        ),
        writer_disclosures=tuple(
            WriterDisclosure(
                d.draft_sha256,
                d.writer,
                as_utc(d.disclosed_at),
                as_utc(d.acknowledged_at) if d.acknowledged_at else None,
            )
            for d in session.scalars(select(DisclosureRecordRow).order_by(DisclosureRecordRow.id))
        ),
        drafts=tuple(
            MarkedDraft(d.source_sha256, d.title, d.ai_material)
            for d in session.scalars(select(DraftRow).order_by(DraftRow.id))
        ),
    )


def _time(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def overrides(session: Session) -> list[Override]:
    """Every override producers have written."""
    return [
        Override(o.rule_id, o.subject, o.violation, o.by, o.reason, as_utc(o.at), o.role, o.performer)
        for o in session.scalars(select(OverrideRow).order_by(OverrideRow.id))
    ]


def pack(context: Context) -> RulePack:
    """The rule packs ``[policy]`` selects (studio folders first, then the built-in ones)."""
    return load_pack(context.settings.policy, context.root)


# -- what a take uses ----------------------------------------------------------------------------


def use_of(
    context: Context, records: Records, shot: str, scene: str, take: str, recipe: Recipe, made_at: datetime | None
) -> TakeUse:
    """What a take uses of people, from its recipe: the characters whose reference sheets
    condition it (their likeness and motion performers), the bible's character models its
    backend loads (its model, or a model file its options name: a LoRA), the names in its
    prompt, the production's default department. Previs renders the artists' blocking and
    makes no replica (``ai`` False). A take makes no sound: scratch dialogue is the cut's
    (``dialogue_uses``)."""
    policy = context.settings.policy
    referenced = [
        key.removeprefix(REFERENCE_PREFIX).split(":")[0]
        for key in recipe.conditioning
        if key.startswith(REFERENCE_PREFIX)
    ]
    return take_use(
        shot,
        records,
        take=take,
        scene=scene,
        department=policy.default_department,
        made_at=as_utc(made_at) if made_at else None,
        prompt=recipe.prompt,
        watched=policy.names,
        references=referenced,
        loaded=_loaded(recipe),
        ai=recipe.backend != "previs",
    )


def _loaded(recipe: Recipe) -> list[str]:
    """The model names a take's backend loads: its model and every text its options hold
    (a LoRA file, an adapter's hub id), however deep."""
    names, pending = [recipe.model], list(recipe.options.values())
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            names.append(value)
        elif isinstance(value, list | tuple):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
    return names


def voice_modelled(context: Context, characters: Sequence[str]) -> list[str]:
    """The characters of ``characters`` whose scratch dialogue the bible has a voice model
    speak (``voice_model``), each once."""
    bible = context.settings.bible.characters
    return [c for c in dict.fromkeys(c.upper() for c in characters) if c in bible and bible[c].voice_model]


def dialogue_uses(
    context: Context, records: Records, spoken: Mapping[str, Sequence[str]], scenes: Mapping[str, str]
) -> list[TakeUse]:
    """What the cut's scratch dialogue uses of people, shot by shot (``spoken``: shot code ->
    the characters whose lines it speaks): lines made by a voice model use the voice
    performer's voice, now (the cut makes them). espeak-ng's lines use nobody."""
    found = []
    for code, characters in spoken.items():
        voiced = voice_modelled(context, characters)
        if voiced:
            found.append(
                take_use(
                    code,
                    records,
                    scene=scenes.get(code, ""),
                    department=context.settings.policy.default_department,
                    voiced=voiced,
                    creative=False,
                )  # fmt: skip
            )
    return found


def _scenes(session: Session) -> dict[int, tuple[str, str]]:
    """shot id -> (code, scene number)."""
    rows = session.execute(select(ShotRow.id, ShotRow.code, SceneRow.number).join(SceneRow))
    return {shot_id: (code, number) for shot_id, code, number in rows}


def standing_takes(session: Session, codes: Sequence[str] = ()) -> list[TakeRow]:
    """The take that stands for each shot (``codes``, or every shot): its approved take, else
    its newest, as the cut takes them."""
    wanted = {c.strip().upper() for c in codes}
    shots = _scenes(session)
    unknown = sorted(wanted - {code for code, _ in shots.values()})
    if unknown:
        raise GuardrailError(f"no shot {', '.join(unknown)} in this production")
    standing: dict[int, TakeRow] = {}
    for take in session.scalars(select(TakeRow).order_by(TakeRow.number)):
        code = shots.get(take.shot_id, ("", ""))[0]
        if wanted and code not in wanted:
            continue
        current = standing.get(take.shot_id)
        if current is None or not current.approved_by or take.approved_by:
            standing[take.shot_id] = take
    return list(standing.values())


def uses(context: Context, session: Session, records: Records, takes: Sequence[TakeRow]) -> list[TakeUse]:
    """The uses of ``takes``."""
    shots = _scenes(session)
    return [_take_use(context, records, *shots[take.shot_id], take) for take in takes]


def _take_use(context: Context, records: Records, code: str, scene: str, take: TakeRow) -> TakeUse:
    return use_of(context, records, code, scene, take_name(code, take.number), Recipe(**take.recipe), take.created_at)


# -- checks and gates -----------------------------------------------------------------------------


def check(context: Context, codes: Sequence[str] = (), *, event: Gate | None = None, to: str = "") -> Outcome:
    """Check the takes that stand for ``codes`` (or every shot), and the scratch dialogue the
    cut would make for them (``dialogue_uses``), against every rule (or those gating
    ``event``), with the producers' overrides; ``to``: also every draft as sent to that writer
    (the send-to-writer rules need the writer). Nothing is written."""
    with context.reading() as session:
        found = records(context, session)
        takes = standing_takes(session, codes)
        used = uses(context, session, found, takes)
        scenes = dict(_scenes(session).values())
        written = overrides(session)
        sends = [_send(row, to) for row in session.scalars(select(DraftRow).order_by(DraftRow.id))] if to else []
    used += dialogue_uses(context, found, speakers(context, codes), scenes)
    return evaluate(
        event, used, found, context.settings.policy, pack(context), utcnow(), drafts=sends,
        release=_release(context),
        overrides=written,
    )  # fmt: skip


def speakers(context: Context, codes: Sequence[str] = ()) -> dict[str, list[str]]:
    """Shot code -> the characters whose lines the cut speaks in it, for ``codes`` (or every
    shot): nothing while ``[cut] scratch_dialogue`` is off, or while no character of the bible
    has a voice model (then no line is anybody's voice and the script need not be read)."""
    characters = context.settings.bible.characters.values()
    if not context.settings.cut.scratch_dialogue or not any(entry.voice_model for entry in characters):
        return {}
    script = drafts.latest_script(context)
    if script is None:
        return {}
    speaking = {
        element.line: element.character
        for scene in script.scenes
        for element in scene.elements
        if element.kind in (Kind.DIALOGUE, Kind.LYRICS)
    }
    wanted = {c.strip().upper() for c in codes}
    return {
        shot.code: [speaking[n] for n in shot.lines if n in speaking]
        for shot in shotlist.shots(context)
        if not wanted or shot.code in wanted
    }


def _send(row: DraftRow, writer: str) -> DraftSend:
    """A draft as sent to ``writer``; its subject in a violation is "draft N"."""
    return DraftSend(row.source_sha256, f"draft {row.id}", writer.strip(), row.ai_material)


def clear_send(context: Context, writer: str) -> None:
    """Refuse sending the current draft to ``writer`` (GuardrailRefusal: the rule id and its
    reason) unless every violation the send-to-writer gate finds is overridden. A draft that
    holds AI-generated material needs the writer named, where a send-to-writer rule binds."""
    with context.reading() as session:
        found = records(context, session)
        row = session.scalars(select(DraftRow).order_by(DraftRow.id.desc()).limit(1)).first()
        written = overrides(session)
    rules = pack(context)
    if row is None:
        return  # nothing imported: the export says so itself
    if not writer.strip():
        if row.ai_material and rules.gating(Gate.SEND_TO_WRITER):
            raise GuardrailError(
                f"export script: draft {row.id} holds AI-generated material; name the writer it goes to"
                " with --to WRITER (the disclosure to them is checked first)"
            )
        return
    outcome = evaluate(
        Gate.SEND_TO_WRITER, (), found, context.settings.policy, rules, utcnow(), drafts=[_send(row, writer)],
        overrides=written,
    )  # fmt: skip
    outcome.refuse(f"send draft {row.id} to {writer.strip()}")


def _release(context: Context) -> Release:
    """What an export sends out: the production's work, where ``[policy]`` distributes it."""
    return Release(project_name(context), territories=tuple(context.settings.policy.territories))


def clear_approval(context: Context, session: Session, shot: ShotRow, take: TakeRow) -> dict[str, Any]:
    """Refuse (GuardrailRefusal: the rule id and its reason) the approval of ``take`` unless
    every violation the approve gate finds is overridden; the take's guardrail record."""
    found = records(context, session)
    scene = session.scalars(select(SceneRow.number).where(SceneRow.id == shot.scene_id)).one()  # not every shot's
    use = [_take_use(context, found, shot.code, scene, take)]
    outcome = evaluate(
        Gate.APPROVE, use, found, context.settings.policy, pack(context), utcnow(), overrides=overrides(session)
    )
    outcome.refuse(f"approve {take_name(shot.code, take.number)}")
    return outcome.shot(shot.code).assertion()


def clear_generation(context: Context, shot: str, scene: str, recipes: Sequence[Recipe]) -> None:
    """Refuse queueing takes of ``shot`` from ``recipes`` (GuardrailRefusal: the rule id and
    its reason) unless every violation the generate gate finds is overridden."""
    with context.reading() as session:
        found = records(context, session)
        written = overrides(session)
    used = [use_of(context, found, shot, scene, "", recipe, None) for recipe in recipes]
    outcome = evaluate(Gate.GENERATE, used, found, context.settings.policy, pack(context), utcnow(), overrides=written)
    outcome.refuse(f"queue a take of {shot}")


def clear_release(
    context: Context,
    takes: Sequence[tuple[str, str]],
    *,
    what: str = "make the cut",
    spoken: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Refuse the cut or an export of ``takes`` ((shot code, take name) pairs) unless every
    violation the cut and export gates find is overridden; each take's guardrail record (for
    its credentials and the disclosure report), by take name. ``spoken`` (shot code -> the
    characters whose lines the cut speaks) adds the uses of its scratch dialogue
    (``dialogue_uses``)."""
    with context.reading() as session:
        found = records(context, session)
        scenes = dict(_scenes(session).values())
        shots = {code: shot_id for shot_id, (code, _) in _scenes(session).items()}
        rows: list[TakeRow] = []
        for code, name in takes:
            number = int(name.rsplit("/", 1)[1])
            rows.extend(
                session.scalars(select(TakeRow).where(TakeRow.shot_id == shots[code], TakeRow.number == number))
            )
        used = uses(context, session, found, rows) + dialogue_uses(context, found, spoken or {}, scenes)
        written = overrides(session)
    policy, rules, now = context.settings.policy, pack(context), utcnow()
    outcomes = [
        evaluate(gate, used, found, policy, rules, now, release=_release(context), overrides=written)
        for gate in (Gate.CUT, Gate.EXPORT)
    ]
    # One outcome of both gates: the cut writes what leaves (animatic, EDL, XML, signed takes).
    violations = tuple(dict.fromkeys(v for o in outcomes for v in o.violations))
    relied = {code: tuple(dict.fromkeys(c for o in outcomes for c in o.relied.get(code, ()))) for code, _ in takes}
    checked = tuple(dict.fromkeys(r for o in outcomes for r in o.checked))
    merged = Outcome(Gate.EXPORT, now, violations, relied, checked, outcomes[0].packs)
    merged.refuse(what)
    return {name: merged.shot(code).assertion() for code, name in takes}


def report(context: Context, folder: Path) -> tuple[Path, Path]:
    """Write the production's compliance report (compliance.html and compliance.pdf)."""
    from soundstage.guardrails.report import compliance_report, write_report  # fpdf (~35 MB): the report only

    with context.reading() as session:
        found = records(context, session)
        used = uses(context, session, found, standing_takes(session))
        written = overrides(session)
    rules = pack(context)
    outcome = evaluate(
        None, used, found, context.settings.policy, rules, utcnow(), release=_release(context), overrides=written
    )
    made = compliance_report(
        project_name(context),
        found,
        used,
        outcome,
        rules,
        context.settings.policy,
        generator=f"Soundstage {__version__}",
    )
    return write_report(made, folder)
