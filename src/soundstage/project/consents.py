"""Recording the guardrails' records, each with its audit event naming the actor and their
role: performers, consents (the separate document stored in the media store by sha256) and
their revocation, suspension and reinstatement, union notices, director consultations, and
producers' written overrides of a violation. ``project.guardrails`` reads them back and checks
the rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from soundstage.errors import GuardrailError, PermissionDenied
from soundstage.guardrails.evaluate import PRODUCER, Override, validate_consent
from soundstage.guardrails.model import (
    Consent,
    ConsentAction,
    DepartmentAIAssignment,
    DirectorConsultation,
    Gives,
    Performer,
    ReplicaKind,
    ReplicaPay,
    Representation,
    ScanNotice,
    Signer,
    Strike,
    UnionNotice,
)
from soundstage.project import drafts
from soundstage.project.guardrails import check, consent_of, pack, project_name, records
from soundstage.project.people import person
from soundstage.project.production import Context, console
from soundstage.project.trail import append_event
from soundstage.review.audit import as_utc
from soundstage.review.workflow import Role
from soundstage.store.rows import shot_row
from soundstage.store.tables import (
    ConsentEventRow,
    ConsentRow,
    ConsultationRow,
    NoticeRow,
    OverrideRow,
    PerformerRow,
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


# -- recording -----------------------------------------------------------------------------------


_E = TypeVar("_E", bound=Enum)


def _choice(kind: type[_E], text: str, what: str) -> _E:
    """``kind(text)``, or one line naming the value and the ones there are (not "is not a valid
    ReplicaKind")."""
    try:
        return kind(text.strip())
    except ValueError:
        raise GuardrailError(f"{what} {text!r}: not one of {', '.join(str(m.value) for m in kind)}") from None


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
    what = f"performer {name}"
    lends = frozenset(_choice(Gives, g, f"{what}: --gives") for g in gives)
    made_as = _choice(ReplicaKind, replica, f"{what}: --replica")
    try:
        performer = Performer(name, synthetic, lends, deceased, made_as, tuple(aliases))
    except ValueError as error:
        raise GuardrailError(f"{what}: {error}") from None
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
    if document.is_dir():
        raise GuardrailError(f"consent for {performer}: document {document} is a folder, not the signed document")
    if not document.is_file():
        raise GuardrailError(f"consent for {performer}: document {document} not found")
    digest = hashlib.sha256(document.read_bytes()).hexdigest()
    what = f"consent for {performer}"
    values = (
        _choice(ReplicaKind, kind, f"{what}: --kind"),
        _choice(Signer, signer, f"{what}: signer"),
        _choice(Representation, representation, f"{what}: --representation"),
    )
    project = project.strip() or project_name(context)  # before the transaction: it reads the title
    limited_to = tuple(s.strip().upper() for s in scenes)
    # A mistyped scene would make a consent that covers nothing, silently: named here instead.
    unknown = sorted(set(limited_to) - set(drafts.scene_numbers(context))) if limited_to else []
    if unknown:
        raise GuardrailError(
            f"consent for {performer}: no scene {unknown[0]} in the current draft (soundstage breakdown lists them)"
        )
    with context.transaction() as session:
        who = actor(session, by, what="record a consent")
        number = (session.scalar(select(func.count()).select_from(ConsentRow)) or 0) + 1
        consent = Consent(
            id=f"C-{number}", performer=performer.strip(), kind=values[0], project=project,
            scope=scope.strip(), signed=signed, document_sha256=digest, expires=expires, signer=values[1],
            real_time=real_time, name_in_prompt=name_in_prompt, representation=values[2],
            replaces_in_person=replaces_in_person, scenes=limited_to, pay_terms=pay_terms,
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
        state, _ = consent_of(row, events).state(now)
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
        return consent_of(row, [*events, event])


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
        for code in consultation.shots:  # a mistyped code logged a consultation about no shot
            shot_row(session, code)
        session.add(
            ConsultationRow(director=consultation.director, at=consultation.at, summary=consultation.summary,
                            shots=list(consultation.shots), recorded_by=who.name)
        )  # fmt: skip
        detail = {"summary": consultation.summary, "shots": list(consultation.shots)}
        append_event(session, who.name, who.role, "director consultation", consultation.director, detail)
    return consultation


def override(context: Context, rule_id: str, subject: str, *, reason: str, by: str, to: str = "") -> list[Override]:
    """A producer lets the open violations of ``rule_id`` on ``subject`` stand, with a written
    reason: each recorded and audited. Refused for anyone but a producer, without a reason,
    for an unknown rule, or when the rule has no open violation there. ``to``: the writer a
    draft goes to, for a send-to-writer rule (its subject is "draft N")."""
    rule_id, subject = rule_id.strip().upper(), subject.strip().upper()
    pack(context).rule(rule_id)  # an unknown rule id: one line naming the packs
    outcome = check(context, to=to)
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


# -- scan notices, replica pay, strikes, crew assignments, writer disclosures ------------------


def _known_performer(session: Session, name: str, what: str) -> PerformerRow:
    found = session.scalars(select(PerformerRow).where(PerformerRow.name == name.strip())).first()
    if found is None:
        raise GuardrailError(f"{what}: unknown performer {name!r} (soundstage performer add)")
    return found


MAX_NOTICE_HOURS = 24 * 366 * 10


def add_scan_notice(
    context: Context,
    performer: str,
    *,
    hours_notice: float,
    reason: str = "",
    notice_at: datetime | None = None,
    engaged_at: datetime | None = None,
    by: str = "",
) -> ScanNotice:
    """Record the notice of a scan given at ``notice_at`` (default now) for a scan
    ``hours_notice`` hours later, with its business reason, audited. The engagement is
    ``engaged_at``, else when the production recorded the performer (the nearest record of
    their engagement it holds)."""
    # NaN compares false with everything, so the range is written to fail it too; ten years of
    # notice is far past any the terms ask for, and keeps the scan's date inside the calendar.
    if not 0 <= hours_notice <= MAX_NOTICE_HOURS:
        raise GuardrailError(
            f"scan notice for {performer}: --hours-notice must be 0 to {MAX_NOTICE_HOURS:,} hours, not {hours_notice}"
        )
    notice_at = notice_at or utcnow()
    with context.transaction() as session:
        who = actor(session, by, what="record a scan notice")
        row = _known_performer(session, performer, "scan notice")
        engaged = engaged_at or min(as_utc(row.recorded_at), notice_at)
        notice = ScanNotice(
            row.name, engaged, notice_at, notice_at + timedelta(hours=hours_notice), business_reason=reason.strip()
        )
        record = {"performer": notice.performer, "engaged_at": notice.engaged_at.isoformat(),
                  "notice_at": notice.notice_at.isoformat(), "scan_at": notice.scan_at.isoformat(),
                  "business_reason": notice.business_reason}  # fmt: skip
        session.add(NoticeRow(kind="scan", record=record, recorded_by=who.name))
        append_event(session, who.name, who.role, "scan notice", notice.performer, record)
    return notice


def add_replica_pay(
    context: Context,
    performer: str,
    *,
    days: int,
    pro_rata: Decimal,
    scale: Decimal,
    principal: bool = False,
    by: str = "",
) -> ReplicaPay:
    """Record a performer's replica pay: the days the producer estimates they would have
    worked at the higher of the pro-rata daily rate and scale, audited."""
    if days <= 0:
        raise GuardrailError(f"replica pay for {performer}: --days must be at least 1")
    if pro_rata < 0 or scale < 0:
        raise GuardrailError(f"replica pay for {performer}: rates must not be negative")
    with context.transaction() as session:
        who = actor(session, by, what="record replica pay")
        row = _known_performer(session, performer, "replica pay")
        pay = ReplicaPay(row.name, days, pro_rata, scale, principal)
        record = {"performer": pay.performer, "days": days, "pro_rata": str(pro_rata), "scale": str(scale),
                  "principal": principal}  # fmt: skip
        session.add(NoticeRow(kind="pay", record=record, recorded_by=who.name))
        append_event(session, who.name, who.role, "replica pay", pay.performer, {**record, "amount": str(pay.amount)})
    return pay


def strike(context: Context, union: str, action: str, *, at: datetime | None = None, by: str = "") -> Strike:
    """Start or end a strike by ``union``, audited. While it is on, the rules that read
    strikes (SAG-PL-1 of the 2026 pack: no replica crosses a picket line) refuse the
    generation, approval and export of its performers' replicas. A performer's own
    suspension of a consent during a strike stays ``consent suspend`` (SAG-ST-1)."""
    union = union.strip().upper()
    if not union:
        raise GuardrailError(f"strike {action}: name the union (e.g. SAG-AFTRA)")
    if action not in ("start", "end"):
        raise GuardrailError(f"strike {union}: unknown action {action!r} (start or end)")
    at = at or utcnow()
    with context.transaction() as session:
        who = actor(session, by, what=f"{action} a strike")
        rows = [
            n
            for n in session.scalars(select(NoticeRow).where(NoticeRow.kind == "strike"))
            if n.record["union"] == union
        ]
        on = [n for n in rows if n.record.get("end") is None]
        if action == "start":
            if on:
                raise GuardrailError(f"strike {union}: already on since {on[0].record['start'][:10]}")
            record = {"union": union, "start": at.isoformat(), "end": None}
            session.add(NoticeRow(kind="strike", record=record, recorded_by=who.name))
        else:
            if not on:
                raise GuardrailError(f"strike {union}: no strike is on")
            record = {**on[0].record, "end": at.isoformat()}
            on[0].record = record  # a new dict, so the JSON column sees the change
        append_event(session, who.name, who.role, f"strike {action}", union, record)
    return _strike(record)


def _strike(record: dict[str, Any]) -> Strike:
    end = record.get("end")
    return Strike(
        record["union"], datetime.fromisoformat(record["start"]), datetime.fromisoformat(end) if end else None
    )


def assign_ai(
    context: Context,
    department: str,
    *,
    notice_given: bool = False,
    consultation: str = "",
    consultation_requested: bool = False,
    no_displacement: bool = False,
    at: datetime | None = None,
    by: str = "",
) -> DepartmentAIAssignment:
    """Assign generative work to a department, with the notice given its crew (now, when
    ``notice_given``), the consultation logged, whether the crew asked for one, and the
    assigner's confirmation that the prompt work displaces no covered role; audited."""
    department = department.strip()
    if not department:
        raise GuardrailError("ai assign: a department is required")
    at = at or utcnow()
    with context.transaction() as session:
        who = actor(session, by, what="assign generative work")
        assignment = DepartmentAIAssignment(
            department, who.name, at, at if notice_given else None, consultation.strip(),
            at if consultation.strip() else None, consultation_requested, no_displacement,
        )  # fmt: skip
        record = {"department": department, "assigned_by": who.name, "assigned_at": at.isoformat(),
                  "notice_at": at.isoformat() if notice_given else None, "consultation": assignment.consultation,
                  "consulted_at": at.isoformat() if assignment.consulted_at else None,
                  "consultation_requested": consultation_requested, "no_displacement": no_displacement}  # fmt: skip
        session.add(NoticeRow(kind="assignment", record=record, recorded_by=who.name))
        append_event(session, who.name, who.role, "ai assign", department, record)
    return assignment
