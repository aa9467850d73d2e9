"""The guardrails in the production: performers, consents (their documents in the media store
by hash) and the other records the AI terms ask for, stored and audited; and the gates that
check the rule packs of ``[policy]`` before a take is approved, before the cut and before an
export, over what the takes use of people (project/take_uses.py).

The rules themselves are the pure ``soundstage.guardrails`` package: this module reads the
tables into its records and uses, and writes what people record (each with its audit event,
naming the actor and their role). Records are read anew for every check (only the parsed rule
packs are kept, until a pack file changes), so a revocation takes effect on the very next
approval or export.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from soundstage import __version__
from soundstage.errors import GuardrailError
from soundstage.generate.backend import Recipe, take_name
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
    UnionNotice,
    WriterDisclosure,
)
from soundstage.guardrails.model import Draft as MarkedDraft
from soundstage.guardrails.rules import Gate, RulePack, load_pack
from soundstage.project import drafts
from soundstage.project.production import Context
from soundstage.project.take_uses import (
    dialogue_uses,
    shot_scenes,
    speakers,
    standing_takes,
    standing_use,
    use_of,
    uses,
)
from soundstage.review.audit import as_utc
from soundstage.store.tables import (
    ConsentEventRow,
    ConsentRow,
    ConsultationRow,
    DisclosureRecordRow,
    NoticeRow,
    OverrideRow,
    PerformerRow,
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


# The tables the rules read (records and overrides). Most productions record few of them (none
# until the AI terms are in use), so a check first asks which hold any row, in one query, and
# reads only those: each empty table would otherwise cost a round trip of its own on PostgreSQL.
_RECORD_TABLES: tuple[type[Any], ...] = (
    ConsentRow, ConsentEventRow, NoticeRow, PerformerRow, ConsultationRow, DisclosureRecordRow, DraftRow, OverrideRow,
)  # fmt: skip


def holding(session: Session) -> frozenset[str]:
    """The names of the record tables (``_RECORD_TABLES``) that hold any row now, in one query."""
    found = session.execute(
        select(*(select(table.id).exists().label(table.__tablename__) for table in _RECORD_TABLES))
    ).one()
    return frozenset(name for name, held in found._mapping.items() if held)


def _rows(session: Session, table: type[Any], held: frozenset[str] | None) -> list[Any]:
    """Every row of ``table`` in id order; none without a query when ``held`` says it is empty."""
    if held is not None and table.__tablename__ not in held:
        return []
    return list(session.scalars(select(table).order_by(table.id)))


def records(context: Context, session: Session, held: frozenset[str] | None = None) -> Records:
    """Everything the production has recorded that the rules read, with each consent's
    document hashed from the media store now. ``held``: the tables ``holding`` found rows in
    (asked now when None); the others are not read."""
    held = holding(session) if held is None else held
    consent_rows: list[ConsentRow] = _rows(session, ConsentRow, held)
    events: dict[int, list[ConsentEventRow]] = {}
    for event in _rows(session, ConsentEventRow, held):
        events.setdefault(event.consent_id, []).append(event)
    notices: list[NoticeRow] = _rows(session, NoticeRow, held)
    return Records(
        performers=tuple(_performer(r) for r in _rows(session, PerformerRow, held)),
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
            for c in _rows(session, ConsultationRow, held)
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
            for d in _rows(session, DisclosureRecordRow, held)
        ),
        drafts=tuple(
            MarkedDraft(d.id, d.source_sha256, d.title, d.ai_material) for d in _rows(session, DraftRow, held)
        ),
    )


def _time(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def overrides(session: Session, held: frozenset[str] | None = None) -> list[Override]:
    """Every override producers have written (``held``: as ``records``; None reads the table)."""
    return [
        Override(o.rule_id, o.subject, o.violation, o.by, o.reason, as_utc(o.at), o.role, o.performer)
        for o in _rows(session, OverrideRow, held)
    ]


def pack(context: Context) -> RulePack:
    """The rule packs ``[policy]`` selects (studio folders first, then the built-in ones)."""
    return load_pack(context.settings.policy, context.root)


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
        scenes = dict(shot_scenes(session).values())
        written = overrides(session)
        sends = [_send(row, to) for row in session.scalars(select(DraftRow).order_by(DraftRow.id))] if to else []
    used += dialogue_uses(context, found, speakers(context, codes), scenes)
    return evaluate(
        event, used, found, context.settings.policy, pack(context), utcnow(), drafts=sends,
        release=_release(context),
        overrides=written,
    )  # fmt: skip


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
    every violation the approve gate finds is overridden; the take's guardrail record.

    The records are read now, in the approval's transaction (a revocation counts at once): one
    query for which record tables hold rows, then one for each that does. The shot's scene is
    its own (not every shot's), loaded with the shot when the caller asked for it."""
    held = holding(session)
    found = records(context, session, held)
    use = [standing_use(context, found, shot.code, shot.scene.number, take)]
    outcome = evaluate(
        Gate.APPROVE, use, found, context.settings.policy, pack(context), utcnow(), overrides=overrides(session, held)
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
        scenes = dict(shot_scenes(session).values())
        shots = {code: shot_id for shot_id, (code, _) in shot_scenes(session).items()}
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
