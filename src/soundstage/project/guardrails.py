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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from soundstage import __version__
from soundstage.errors import GuardrailError, PermissionDenied
from soundstage.generate.backend import REFERENCE_PREFIX, Recipe, take_name
from soundstage.guardrails.evaluate import PRODUCER, Outcome, Override, evaluate, validate_consent
from soundstage.guardrails.model import (
    Casting,
    Consent,
    ConsentAction,
    ConsentEvent,
    DirectorConsultation,
    Gives,
    Performer,
    Records,
    Release,
    ReplicaKind,
    Representation,
    ScanNotice,
    Signer,
    TakeUse,
    UnionNotice,
    WriterDisclosure,
)
from soundstage.guardrails.report import compliance_report, write_report
from soundstage.guardrails.rules import Gate, RulePack, load_pack
from soundstage.guardrails.uses import take_use
from soundstage.project import drafts
from soundstage.project.people import person
from soundstage.project.production import Context, console
from soundstage.project.trail import append_event
from soundstage.review.workflow import Role
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

# Who may record consents, notices and consultations: the people who run the production.
# (An override is a producer's alone: guardrails.evaluate.Override refuses anyone else.)
_RECORDERS = frozenset({Role.PRODUCER, Role.SUPERVISOR})
# The role the audit trail gives the person at the production's own console.
_CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who records something, as the audit trail names them."""

    name: str
    role: str


def actor(session: Session, by: str, *, what: str) -> Actor:
    """The person ``by`` (a producer or supervisor of the production), or the console when
    ``by`` is empty; PermissionDenied for another role."""
    if not by:
        return Actor(console(), _CONSOLE)
    found = person(session, by)
    if found.role not in _RECORDERS:
        raise PermissionDenied(f"{found.name} ({found.role}) may not {what}: that needs a producer or supervisor")
    return Actor(found.name, found.role.value)


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


def _consent(row: ConsentRow, events: Sequence[ConsentEventRow]) -> Consent:
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
        events=tuple(ConsentEvent(ConsentAction(e.action), _utc(e.at), e.by, e.reason) for e in events),
    )


def _utc(at: datetime) -> datetime:
    # SQLite hands back naive datetimes for what was stored in UTC.
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
        Casting(name, human=entry.human, voice=entry.voice, likeness=entry.likeness, motion=entry.motion)
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
        consents=tuple(_consent(r, events.get(r.id, [])) for r in consent_rows),
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
            DirectorConsultation(c.director, _utc(c.at), c.summary, tuple(c.shots))
            for c in session.scalars(select(ConsultationRow).order_by(ConsultationRow.id))
        ),
        writer_disclosures=tuple(
            WriterDisclosure(
                d.draft_sha256, d.writer, _utc(d.disclosed_at), _utc(d.acknowledged_at) if d.acknowledged_at else None
            )
            for d in session.scalars(select(DisclosureRecordRow).order_by(DisclosureRecordRow.id))
        ),
    )


def _time(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def overrides(session: Session) -> list[Override]:
    """Every override producers have written."""
    return [
        Override(o.rule_id, o.subject, o.violation, o.by, o.reason, _utc(o.at), o.role, o.performer)
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
    condition it (their likeness and motion performers), the names in its prompt, the
    production's default department. Previs renders the artists' blocking and makes no
    replica (``ai`` False). Scratch dialogue is espeak-ng, which models no one's voice, so no
    take uses a voice yet (a voice-model backend will name its voices here)."""
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
        made_at=_utc(made_at) if made_at else None,
        prompt=recipe.prompt,
        watched=policy.names,
        references=referenced,
        ai=recipe.backend != "previs",
    )


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
    found = []
    for take in takes:
        code, scene = shots[take.shot_id]
        recipe = Recipe.model_validate(take.recipe)
        found.append(use_of(context, records, code, scene, take_name(code, take.number), recipe, take.created_at))
    return found


# -- checks and gates -----------------------------------------------------------------------------


def check(context: Context, codes: Sequence[str] = (), *, event: Gate | None = None) -> Outcome:
    """Check the takes that stand for ``codes`` (or every shot) against every rule (or those
    gating ``event``), with the producers' overrides; nothing is written."""
    with context.reading() as session:
        found = records(context, session)
        takes = standing_takes(session, codes)
        return evaluate(
            event, uses(context, session, found, takes), found, context.settings.policy, pack(context), utcnow(),
            release=_release(context), overrides=overrides(session),
        )  # fmt: skip


def _release(context: Context) -> Release:
    """What an export sends out: the production's work, where ``[policy]`` distributes it."""
    return Release(project_name(context), territories=tuple(context.settings.policy.territories))


def clear_approval(context: Context, session: Session, shot: ShotRow, take: TakeRow) -> dict[str, Any]:
    """Refuse (GuardrailRefusal: the rule id and its reason) the approval of ``take`` unless
    every violation the approve gate finds is overridden; the take's guardrail record."""
    found = records(context, session)
    use = uses(context, session, found, [take])
    outcome = evaluate(
        Gate.APPROVE, use, found, context.settings.policy, pack(context), utcnow(), overrides=overrides(session)
    )
    outcome.refuse(f"approve {take_name(shot.code, take.number)}")
    return outcome.shot(shot.code).assertion()


def clear_release(context: Context, takes: Sequence[tuple[str, str]], *, what: str) -> dict[str, dict[str, Any]]:
    """Refuse the cut or an export of ``takes`` ((shot code, take name) pairs) unless every
    violation the cut and export gates find is overridden; each take's guardrail record (for
    its credentials and the disclosure report), by take name."""
    with context.reading() as session:
        found = records(context, session)
        shots = {code: shot_id for shot_id, (code, _) in _scenes(session).items()}
        rows: list[TakeRow] = []
        for code, name in takes:
            number = int(name.rsplit("/", 1)[1])
            rows.extend(
                session.scalars(select(TakeRow).where(TakeRow.shot_id == shots[code], TakeRow.number == number))
            )
        used = uses(context, session, found, rows)
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


# -- recording -----------------------------------------------------------------------------------


def add_performer(
    context: Context,
    name: str,
    *,
    synthetic: bool = False,
    gives: Sequence[str] = (),
    deceased: bool = False,
    replica: str = ReplicaKind.EMPLOYMENT.value,
    aliases: Sequence[str] = (),
    by: str = "",
) -> Performer:
    """Record a performer (a real person, or a synthetic performer), audited."""
    name = name.strip()
    if not name:
        raise GuardrailError("performer add: a performer needs a name")
    try:
        performer = Performer(
            name, synthetic, frozenset(Gives(g) for g in gives), deceased, ReplicaKind(replica), tuple(aliases)
        )
    except ValueError as error:
        raise GuardrailError(f"performer {name}: {error}") from None
    with context.transaction() as session:
        who = actor(session, by, what="add a performer")
        if session.scalars(select(PerformerRow).where(PerformerRow.name == name)).first() is not None:
            raise GuardrailError(f"performer {name}: already recorded")
        session.add(
            PerformerRow(
                name=name, synthetic=synthetic, gives=sorted(performer.gives), deceased=deceased,
                replica=performer.replica.value, aliases=list(aliases),
            )
        )  # fmt: skip
        detail = {"synthetic": synthetic, "gives": sorted(performer.gives), "deceased": deceased, "replica": replica}
        append_event(session, who.name, who.role, "performer add", name, detail)
    return performer


def add_consent(
    context: Context,
    performer: str,
    *,
    kind: str,
    scope: str,
    signed: date,
    document: Path,
    project: str = "",
    expires: date | None = None,
    signer: str = Signer.SELF.value,
    real_time: bool | None = None,
    name_in_prompt: bool = False,
    representation: str = Representation.NONE.value,
    replaces_in_person: bool = True,
    scenes: Sequence[str] = (),
    pay_terms: str = "",
    by: str = "",
) -> Consent:
    """Record a performer's signed consent; its separate document goes into the media store
    by sha256. Refused in one line, with nothing written, for an unknown performer, no scope,
    a future signing date, an expiry before signing, or a missing document."""
    if not document.is_file():
        raise GuardrailError(f"consent for {performer}: document {document} not found")
    digest = hashlib.sha256(document.read_bytes()).hexdigest()
    try:
        values = (ReplicaKind(kind), Signer(signer), Representation(representation))
    except ValueError as error:
        raise GuardrailError(f"consent for {performer}: {error}") from None
    project = project.strip() or project_name(context)  # before the transaction: it reads the title
    with context.transaction() as session:
        who = actor(session, by, what="record a consent")
        number = (session.scalar(select(func.count()).select_from(ConsentRow)) or 0) + 1
        consent = Consent(
            id=f"C-{number}", performer=performer.strip(), kind=values[0], project=project,
            scope=scope.strip(), signed=signed, document_sha256=digest, expires=expires, signer=values[1],
            real_time=real_time, name_in_prompt=name_in_prompt, representation=values[2],
            replaces_in_person=replaces_in_person, scenes=tuple(s.strip().upper() for s in scenes), pay_terms=pay_terms,
        )  # fmt: skip
        validate_consent(consent, records(context, session), utcnow().date())
        suffix = document.suffix.lower()[:16]
        stored = context.media.put_file(document, suffix)
        assert stored == digest, "the document changed while it was read"
        session.add(
            ConsentRow(
                consent_id=consent.id, performer=consent.performer, kind=consent.kind.value, project=consent.project,
                scope=consent.scope, signed=signed.isoformat(), expires=expires.isoformat() if expires else None,
                document_sha256=digest, document_suffix=suffix, signer=consent.signer.value, real_time=real_time,
                name_in_prompt=name_in_prompt, representation=consent.representation.value,
                replaces_in_person=replaces_in_person, scenes=list(consent.scenes), pay_terms=pay_terms,
                recorded_by=who.name,
            )
        )  # fmt: skip
        detail = {
            "consent": consent.id, "kind": consent.kind.value, "project": consent.project,
            "document_sha256": digest, "signed": signed.isoformat(),
            "expires": expires.isoformat() if expires else None,
        }  # fmt: skip
        append_event(session, who.name, who.role, "consent add", consent.performer, detail)
    return consent


def consent_event(context: Context, consent_id: str, action: str, *, reason: str = "", by: str = "") -> Consent:
    """Revoke, suspend or reinstate a consent, audited; a revoked consent stays revoked."""
    try:
        kind = ConsentAction(action)
    except ValueError:
        raise GuardrailError(f"consent {consent_id}: unknown action {action!r}") from None
    with context.transaction() as session:
        who = actor(session, by, what=f"{kind} a consent")
        row = session.scalars(select(ConsentRow).where(ConsentRow.consent_id == consent_id.strip().upper())).first()
        if row is None:
            raise GuardrailError(f"no consent {consent_id} (soundstage guardrails report lists them)")
        events = list(session.scalars(select(ConsentEventRow).where(ConsentEventRow.consent_id == row.id)))
        now = utcnow()
        state, _ = _consent(row, events).state(now)
        if state == "revoked":
            raise GuardrailError(f"consent {row.consent_id}: revoked already; a new consent is needed")
        if kind is ConsentAction.REINSTATE and state != "suspended":
            raise GuardrailError(f"consent {row.consent_id}: not suspended, nothing to reinstate")
        if kind is ConsentAction.SUSPEND and state == "suspended":
            raise GuardrailError(f"consent {row.consent_id}: suspended already")
        event = ConsentEventRow(consent_id=row.id, action=kind.value, at=now, by=who.name, reason=reason.strip())
        session.add(event)
        session.flush()
        detail = {"consent": row.consent_id, "reason": reason.strip()}
        append_event(session, who.name, who.role, f"consent {kind.value}", row.performer, detail)
        return _consent(row, [*events, event])


def add_union_notice(
    context: Context,
    performer: str,
    *,
    character: str = "",
    justification: str = "",
    sent_at: datetime | None = None,
    by: str = "",
) -> UnionNotice:
    """Record the notice to the union that a synthetic performer plays a role, audited."""
    notice = UnionNotice(
        performer.strip(), sent_at or utcnow(), character.strip().upper(), justification=justification.strip()
    )
    with context.transaction() as session:
        who = actor(session, by, what="record a union notice")
        known = session.scalars(select(PerformerRow).where(PerformerRow.name == notice.performer)).first()
        if known is None:
            raise GuardrailError(f"union notice: unknown performer {performer!r} (soundstage performer add)")
        record = {"performer": notice.performer, "sent_at": notice.sent_at.isoformat(), "character": notice.character,
                  "union": notice.union, "status": notice.status, "justification": notice.justification}  # fmt: skip
        session.add(NoticeRow(kind="union", record=record, recorded_by=who.name))
        append_event(session, who.name, who.role, "union notice", notice.performer, record)
    return notice


def add_consultation(
    context: Context,
    director: str,
    summary: str,
    *,
    shots: Sequence[str] = (),
    at: datetime | None = None,
    by: str = "",
) -> DirectorConsultation:
    """Log a consultation with the director on generative AI (for ``shots``, or all), audited."""
    if not summary.strip():
        raise GuardrailError(f"consultation with {director}: a summary of what was discussed is required")
    consultation = DirectorConsultation(
        director.strip(), at or utcnow(), summary.strip(), tuple(s.upper() for s in shots)
    )
    with context.transaction() as session:
        who = actor(session, by, what="log a consultation")
        session.add(
            ConsultationRow(director=consultation.director, at=consultation.at, summary=consultation.summary,
                            shots=list(consultation.shots), recorded_by=who.name)
        )  # fmt: skip
        detail = {"summary": consultation.summary, "shots": list(consultation.shots)}
        append_event(session, who.name, who.role, "director consultation", consultation.director, detail)
    return consultation


def override(context: Context, rule_id: str, subject: str, *, reason: str, by: str) -> list[Override]:
    """A producer lets the open violations of ``rule_id`` on ``subject`` stand, with a written
    reason: each recorded and audited. Refused for anyone but a producer, without a reason,
    for an unknown rule, or when the rule has no open violation there."""
    rule_id, subject = rule_id.strip().upper(), subject.strip().upper()
    pack(context).rule(rule_id)  # an unknown rule id: one line naming the packs
    outcome = check(context)
    matching = [v for v in outcome.open if v.rule_id == rule_id and v.subject.upper() == subject]
    with context.transaction() as session:
        decider = person(session, by) if by else None
        if decider is None or decider.role is not Role.PRODUCER:
            who = f"{decider.name} is {decider.role}" if decider else "no producer named (--as)"
            raise PermissionDenied(
                f"override of {rule_id} on {subject}: only a producer may override a guardrail ({who})"
            )
        if not matching:
            raise GuardrailError(
                f"override of {rule_id} on {subject}: no open violation of {rule_id} there (soundstage guardrails check)"
            )
        now = utcnow()
        made = [v.overridden_by(decider.name, reason=reason, at=now, role=PRODUCER) for v in matching]
        for o in made:
            session.add(
                OverrideRow(rule_id=o.rule_id, subject=o.subject, performer=o.performer, violation=o.violation,
                            by=o.by, role=o.role, reason=o.reason, at=o.at)
            )  # fmt: skip
            detail = {"rule": o.rule_id, "violation": o.violation, "reason": o.reason}
            append_event(session, o.by, o.role, "guardrail override", o.subject, detail)
    return made


def report(context: Context, folder: Path) -> tuple[Path, Path]:
    """Write the production's compliance report (compliance.html and compliance.pdf)."""
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
