"""Checking uses against the rules: the violations an event would commit, the overrides that
producers wrote for them, and what each shot relies on (for its credentials and the
disclosure report).

``evaluate`` runs every rule the event gates over what the event uses and returns an
``Outcome``; ``check`` is its list of violations. A rule's scope picks the items it applies to
(a performer's use in a take, a name in a prompt, an alteration, a take, a department, a draft,
a release); its requirement decides whether each item holds, and the reason template says why
not in one line. Consents are checked for validity wherever a rule needs one: the scope text,
the signing date against the use, expiry, revocation and suspension at ``as_of``, the project,
the scenes, and the document's hash as the caller reads it now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from soundstage.errors import GuardrailError, GuardrailRefusal
from soundstage.guardrails.model import (
    Alteration,
    Consent,
    ConsentState,
    DepartmentAIAssignment,
    DraftSend,
    Gives,
    Performer,
    PerformerUse,
    Policy,
    Records,
    Release,
    ReplicaKind,
    Representation,
    Signer,
    TakeUse,
)
from soundstage.guardrails.rules import Gate, Requirement, Rule, RulePack
from soundstage.guardrails.uses import human_role

PRODUCER = "producer"


@dataclass(frozen=True)
class Override:
    """A producer's written decision to let one violation stand: which rule, subject and
    performer, the violation's reason as it was shown (an override covers that violation
    only: if the cause changes, say a consent is revoked afterwards, the new violation needs
    a new decision), who decided, in which role, why, and when."""

    rule_id: str
    subject: str
    violation: str
    by: str
    reason: str
    at: datetime
    role: str = PRODUCER
    performer: str = ""

    def __post_init__(self) -> None:
        what = f"override of {self.rule_id} on {self.subject}"
        if self.role != PRODUCER:
            raise GuardrailError(f"{what}: only a producer may override a guardrail ({self.by} is {self.role})")
        if not self.violation.strip():
            raise GuardrailError(f"{what}: name the violation it overrides, as the check shows it")
        if not self.by.strip():
            raise GuardrailError(f"{what}: name the producer who decides")
        if not self.reason.strip():
            raise GuardrailError(f"{what}: a written reason is required")
        if self.at.tzinfo is None:
            raise GuardrailError(f"{what}: the time must carry a timezone")

    def covers(self, violation: Violation) -> bool:
        """Whether this override is for ``violation``."""
        return (self.rule_id, self.subject, self.performer, self.violation) == (
            violation.rule_id,
            violation.subject,
            violation.performer,
            violation.reason,
        )

    def as_credential(self) -> dict[str, str]:
        """The override as a take's credentials and the disclosure report carry it: the rule,
        who decided and why; never the performer or the violation text (personal details)."""
        return {
            "rule": self.rule_id,
            "by": self.by,
            "role": self.role,
            "at": self.at.isoformat(),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Violation:
    """A rule an event would break: the rule id, the subject (a shot code, a department, a
    draft, a release), the performer concerned where there is one, the take, the one-line
    reason, the producer's override if one covers it, and the events the rule gates (in the
    order of ``Gate``)."""

    rule_id: str
    subject: str
    reason: str
    performer: str = ""
    take: str = ""
    override: Override | None = None
    gates: tuple[Gate, ...] = ()

    @property
    def open(self) -> bool:
        """Whether nobody has overridden it."""
        return self.override is None

    def __str__(self) -> str:
        text = f"{self.rule_id} {self.subject}: {self.reason}"
        if self.override is not None:
            text += f' (overridden by {self.override.by}: "{self.override.reason}")'
        return text

    def line(self) -> str:
        """The violation as ``soundstage guardrails check`` lists it: the rule id, the events it
        gates, the subject and the reason, e.g. "SAG-DR-3 [approve] 1A: Replica use of ..."."""
        text = f"{self.rule_id} [{', '.join(self.gates)}] {self.subject}: {self.reason}"
        if self.override is not None:
            text += f' (overridden by {self.override.by}: "{self.override.reason}")'
        return text

    def overridden_by(self, by: str, *, reason: str, at: datetime, role: str = PRODUCER) -> Override:
        """The override of this violation that ``by`` writes (GuardrailError unless a
        producer with a written reason)."""
        return Override(self.rule_id, self.subject, self.reason, by, reason, at, role, self.performer)


@dataclass(frozen=True)
class ShotCompliance:
    """What a shot's credentials and the disclosure report say about the AI terms: the
    consents it relies on, by document sha256 only; the rules checked (ids, with the packs
    they come from); and the overrides of its violations."""

    shot: str
    consents: tuple[str, ...]
    rules: tuple[str, ...]
    packs: tuple[str, ...]
    overrides: tuple[Override, ...]
    open: tuple[str, ...]  # rule ids with violations nobody overrode

    def assertion(self) -> dict[str, Any]:
        """The shot's guardrail record as JSON for an assertion (org.soundstage.guardrails)."""
        return {
            "consents": [{"document_sha256": sha} for sha in self.consents],
            "rules_checked": list(self.rules),
            "packs": list(self.packs),
            "overrides": [o.as_credential() for o in self.overrides],
            "open_violations": list(self.open),
        }


@dataclass(frozen=True)
class Outcome:
    """Everything one check found: the violations (overridden ones carry their override),
    the consents each shot relies on, and the rules that were checked."""

    event: Gate | None
    as_of: datetime
    violations: tuple[Violation, ...]
    relied: dict[str, tuple[Consent, ...]]
    checked: tuple[str, ...]
    packs: tuple[str, ...]

    @property
    def open(self) -> tuple[Violation, ...]:
        """The violations nobody overrode."""
        return tuple(v for v in self.violations if v.open)

    @property
    def overridden(self) -> tuple[Violation, ...]:
        """The violations a producer overrode."""
        return tuple(v for v in self.violations if not v.open)

    def shot(self, shot: str) -> ShotCompliance:
        """The guardrail record of ``shot``."""
        mine = [v for v in self.violations if v.subject == shot]
        return ShotCompliance(
            shot=shot,
            consents=tuple(dict.fromkeys(c.document_sha256 for c in self.relied.get(shot, ()))),
            rules=self.checked,
            packs=self.packs,
            overrides=tuple(v.override for v in mine if v.override is not None),
            open=tuple(dict.fromkeys(v.rule_id for v in mine if v.open)),
        )

    def refuse(self, what: str) -> None:
        """Raise GuardrailRefusal if any violation is open: "cannot WHAT: RULE SUBJECT:
        reason (and N more)"."""
        refusal(what, self.open)


def refusal(what: str, violations: Sequence[Violation]) -> None:
    """Raise GuardrailRefusal naming the first open violation, if there is one."""
    open_ = [v for v in violations if v.open]
    if open_:
        more = f" (and {len(open_) - 1} more: soundstage guardrails check)" if len(open_) > 1 else ""
        raise GuardrailRefusal(f"cannot {what}: {open_[0]}{more}", tuple(open_))


# -- the evaluation ----------------------------------------------------------------------------


@dataclass
class _Context:
    event: Gate | None
    uses: Sequence[TakeUse]
    drafts: Sequence[DraftSend]
    release: Release | None
    records: Records
    policy: Policy
    pack: RulePack
    as_of: datetime
    relied: dict[str, list[Consent]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.exemptions = [rule for rule in self.pack.rules if rule.exempt]

    @property
    def territories(self) -> tuple[str, ...]:
        return self.release.territories if self.release is not None else ()

    def rely(self, shot: str, consent: Consent) -> None:
        self.relied.setdefault(shot, []).append(consent)


@dataclass(frozen=True)
class _Item:
    """One thing a rule applies to: its subject, the performer and take concerned, the facts
    its scope is matched against, and the fields its reason template is filled with."""

    subject: str
    facts: dict[str, Any]
    fields: dict[str, str]
    performer: str = ""
    take: str = ""
    payload: Any = None


# A requirement's check: the problem with an item ("" when the requirement holds).
_Check = Callable[[Rule, _Item, _Context], str]


def evaluate(
    event: Gate | str | None,
    uses: Sequence[TakeUse],
    records: Records,
    policy: Policy,
    pack: RulePack,
    as_of: datetime,
    *,
    drafts: Sequence[DraftSend] = (),
    release: Release | None = None,
    overrides: Sequence[Override] = (),
) -> Outcome:
    """Check ``event`` (None: every rule, as ``soundstage guardrails check``) over the takes
    it uses, the drafts it sends and the release it makes, against ``records`` at ``as_of``.
    Overrides made by then cover the violations they name; an override naming a rule the
    packs do not hold is one GuardrailError line."""
    if as_of.tzinfo is None:
        raise GuardrailError("the time of a guardrails check must carry a timezone")
    gate = _gate(event)
    for override in overrides:
        pack.rule(override.rule_id)
    ctx = _Context(gate, uses, drafts, release, records, policy, pack, as_of)
    found: dict[tuple[str, str, str, str], Violation] = {}
    for rule in pack.gating(gate):
        if rule.exempt:
            continue
        level, check = _CHECKS[rule.requires]
        for item in level(rule, ctx):
            if not rule.scope.matches(item.facts) or _exempted(rule, item, ctx):
                continue
            detail = check(rule, item, ctx)
            if not detail:
                continue
            reason = rule.reason_for(**item.fields, **_rule_fields(rule), detail=detail)
            gates = tuple(g for g in Gate if g in rule.gates)
            violation = Violation(rule.id, item.subject, reason, item.performer, item.take, gates=gates)
            key = (rule.id, item.subject, item.performer, reason)
            if key not in found:
                cover = next((o for o in overrides if o.at <= as_of and o.covers(violation)), None)
                found[key] = replace(violation, override=cover)
    checked = tuple(rule.id for rule in pack.gating(gate) if not rule.exempt)
    relied = {shot: tuple(dict.fromkeys(consents)) for shot, consents in ctx.relied.items()}
    return Outcome(gate, as_of, tuple(found.values()), relied, checked, tuple(p.key for p in pack.packs))


def check(
    event: Gate | str | None,
    uses: Sequence[TakeUse],
    records: Records,
    policy: Policy,
    pack: RulePack,
    as_of: datetime,
    *,
    drafts: Sequence[DraftSend] = (),
    release: Release | None = None,
    overrides: Sequence[Override] = (),
) -> list[Violation]:
    """The violations of ``event`` (see ``evaluate``); overridden ones carry their override."""
    outcome = evaluate(event, uses, records, policy, pack, as_of, drafts=drafts, release=release, overrides=overrides)
    return list(outcome.violations)


def _gate(event: Gate | str | None) -> Gate | None:
    if event is None or isinstance(event, Gate):
        return event
    try:
        return Gate(event)
    except ValueError:
        raise GuardrailError(f"unknown event {event!r}; events: {', '.join(Gate)}") from None


def _rule_fields(rule: Rule) -> dict[str, str]:
    """The fields a reason template takes from the rule's own parameters."""
    if rule.requires == Requirement.SCAN_NOTICE:
        return {"required": f"{rule.params.min_hours:g}"}
    if rule.requires == Requirement.NO_STRIKE:
        return {"union": rule.params.union}
    if rule.requires == Requirement.DIRECTOR_CONSULTATION:
        return {"role": rule.params.role}
    return {}


def _exempted(rule: Rule, item: _Item, ctx: _Context) -> bool:
    """Whether an exemption rule of the same requirement covers this item at this event."""
    return any(
        other.requires == rule.requires
        and (other.gates_event(ctx.event) if ctx.event is not None else bool(other.gates & rule.gates))
        and other.scope.matches(item.facts)
        for other in ctx.exemptions
    )


# -- the items each kind of rule applies to ------------------------------------------------------


def _needed_kind(use: PerformerUse, performer: Performer | None) -> ReplicaKind:
    """The consent kind a use needs: a voice consent for a voice, else the kind of replica the
    production holds of the performer."""
    if use.gives == Gives.VOICE:
        return ReplicaKind.VOICE
    return performer.replica if performer is not None else ReplicaKind.EMPLOYMENT


def _performer_items(synthetic: bool) -> Callable[[Rule, _Context], Iterator[_Item]]:
    """Each performer's use in each AI take: real performers (``synthetic`` False: consent,
    pay, notices to them) or synthetic ones (union notices). A performer without a record
    counts as real. A take made without AI (previs from the artists' blocking) makes no
    replica of anyone."""

    def items(rule: Rule, ctx: _Context) -> Iterator[_Item]:
        for take in ctx.uses:
            if not take.ai:
                continue
            for use in take.performers:
                performer = ctx.records.performer(use.performer)
                if (performer is not None and performer.synthetic) != synthetic:
                    continue
                kind = _needed_kind(use, performer)
                yield _Item(
                    subject=take.shot,
                    facts={
                        "replica": kind,
                        "gives": use.gives,
                        "output": set(take.outputs),
                        "deceased": performer is not None and performer.deceased,
                        "human_role": human_role(use, ctx.records),
                        "featured": use.featured,
                        "real_time": take.real_time,
                        "territory": ctx.territories,
                    },
                    fields={
                        "subject": take.shot,
                        "performer": use.performer,
                        "character": use.character or "an unnamed role",
                        "kind": str(kind),
                    },
                    performer=use.performer,
                    take=take.take,
                    payload=(take, use, kind),
                )

    return items


def _name_items(rule: Rule, ctx: _Context) -> Iterator[_Item]:
    for take in ctx.uses:
        if not take.ai:
            continue  # no model reads a previs take's prompt
        for name in take.named:
            yield _Item(
                take.shot,
                {"output": set(take.outputs), "territory": ctx.territories},
                {"subject": take.shot, "performer": name},
                name,
                take.take,
                (take, name),
            )


def _alteration_items(rule: Rule, ctx: _Context) -> Iterator[_Item]:
    for take in ctx.uses:
        for alteration in take.alterations:
            yield _Item(
                take.shot,
                {"territory": ctx.territories},
                {"subject": take.shot, "performer": alteration.performer, "purpose": str(alteration.purpose)},
                alteration.performer,
                take.take,
                (take, alteration),
            )


def _take_items(rule: Rule, ctx: _Context) -> Iterator[_Item]:
    for take in ctx.uses:
        if take.ai:
            facts = {"output": set(take.outputs), "territory": ctx.territories}
            yield _Item(take.shot, facts, {"subject": take.shot}, "", take.take, take)


def _department_items(rule: Rule, ctx: _Context) -> Iterator[_Item]:
    """The departments doing generative work: those of the AI takes and, for a check of
    every rule, those the policy lists."""
    departments: dict[str, list[TakeUse]] = {}
    for take in ctx.uses:
        if take.ai:
            departments.setdefault(take.department or ctx.policy.default_department, []).append(take)
    if ctx.event is None:
        for department in ctx.policy.genai_departments:
            departments.setdefault(department, [])
    for department, takes in departments.items():
        subject = department or "(no department)"
        yield _Item(
            subject,
            {"department": department, "territory": ctx.territories},
            {"subject": subject, "department": subject},
            "",
            takes[0].take if takes else "",
            (department, takes),
        )


def _draft_items(rule: Rule, ctx: _Context) -> Iterator[_Item]:
    for send in ctx.drafts:
        yield _Item(
            send.title,
            {"territory": ctx.territories},
            {"subject": send.title, "writer": send.writer, "title": send.title},
            "",
            "",
            send,
        )


def _release_items(rule: Rule, ctx: _Context) -> Iterator[_Item]:
    release = ctx.release
    if release is not None:
        facts = {"purpose": release.purpose, "territory": release.territories}
        yield _Item(release.name, facts, {"subject": release.name, "release": release.name}, "", "", release)


def _credit_items(rule: Rule, ctx: _Context) -> Iterator[_Item]:
    release = ctx.release
    if release is not None:
        for material in release.source_material:
            facts = {"purpose": release.purpose, "territory": release.territories}
            yield _Item(material.title, facts, {"subject": material.title, "title": material.title}, "", "", material)


# -- consents --------------------------------------------------------------------------------------


def _use_date(take: TakeUse, ctx: _Context) -> date:
    return (take.made_at or ctx.as_of).date()


def _problems(consent: Consent, ctx: _Context, use_date: date, scene: str, params: Any) -> list[str]:
    """Why ``consent`` does not hold for a use on ``use_date`` in ``scene`` at ``ctx.as_of``."""
    problems = []
    if consent.project != ctx.policy.project:
        problems.append(f"is for project {consent.project!r}, not {ctx.policy.project!r}")
    if not consent.scope.strip():
        problems.append("has no scope (no description of the use)")
    if consent.signed > use_date:
        problems.append(f"was signed {consent.signed}, after the use on {use_date}")
    if consent.expires is not None and consent.expires < ctx.as_of.date():
        problems.append(f"expired on {consent.expires}")
    state, event = consent.state(ctx.as_of)
    if state is not ConsentState.ACTIVE and event is not None:
        why = f" ({event.reason})" if event.reason else ""
        verb = "was revoked on" if state is ConsentState.REVOKED else "is suspended since"
        problems.append(f"{verb} {event.at:%Y-%m-%d} by {event.by}{why}")
    now = ctx.records.documents.get(consent.id)
    if now is None:
        problems.append("has no signed document in the media store")
    elif now != consent.document_sha256:
        problems.append(f"document changed: sha256 {consent.document_sha256[:12]} recorded, {now[:12]} now")
    if consent.scenes and scene and scene not in consent.scenes:
        problems.append(f"covers scenes {', '.join(consent.scenes)}, not scene {scene}")
    signers = getattr(params, "signers", None)
    if signers and consent.signer not in signers:
        wanted = " or ".join(sorted(signers))
        problems.append(
            f"is signed by the {'performer' if consent.signer == Signer.SELF else consent.signer}, not the {wanted}"
        )
    if getattr(params, "name_in_prompt", False) and not consent.name_in_prompt:
        problems.append("does not allow prompts to name the performer")
    if getattr(params, "real_time", False) and consent.real_time is not True:
        problems.append("does not allow real-time use")
    if getattr(params, "real_time_stated", False) and consent.real_time is None:
        problems.append("does not say whether real-time use is allowed")
    return problems


def _consent_for(
    performer: str, kinds: frozenset[ReplicaKind] | None, take: TakeUse, ctx: _Context, params: Any
) -> tuple[Consent | None, str]:
    """The consent a use relies on and "", or None and why no consent holds."""
    consents = ctx.records.consents_of(performer)
    candidates = [c for c in consents if kinds is None or c.kind in kinds]
    wanted = f"{'/'.join(sorted(kinds))} " if kinds else ""
    if not candidates:
        others = sorted({str(c.kind) for c in consents})
        only = f" (only {', '.join(others)})" if others else ""
        return None, f"no {wanted}consent is recorded{only}"
    checked = [(c, _problems(c, ctx, _use_date(take, ctx), take.scene, params)) for c in candidates]
    for consent, problems in checked:
        if not problems:
            return consent, ""
    # Explain with this project's newest consent (candidates are newest first).
    consent, problems = min(checked, key=lambda cp: cp[0].project != ctx.policy.project)
    return None, f"consent {consent.id} " + "; ".join(problems)


def _check_consent(rule: Rule, item: _Item, ctx: _Context) -> str:
    take, use, kind = item.payload
    consent, why = _consent_for(use.performer, frozenset({kind}), take, ctx, rule.params)
    if consent is not None:
        ctx.rely(take.shot, consent)
    return why


def _check_not_suspended(rule: Rule, item: _Item, ctx: _Context) -> str:
    take, use, kind = item.payload
    consent, _ = _consent_for(use.performer, frozenset({kind}), take, ctx, rule.params)
    if consent is not None:
        return ""
    for candidate in ctx.records.consents_of(use.performer):
        state, event = candidate.state(ctx.as_of)
        if candidate.kind == kind and candidate.project == ctx.policy.project and state is ConsentState.SUSPENDED:
            why = f" ({event.reason})" if event is not None and event.reason else ""
            since = f" since {event.at:%Y-%m-%d}" if event is not None else ""
            return f"consent {candidate.id} suspended{since}{why}"
    return ""


def _check_no_strike(rule: Rule, item: _Item, ctx: _Context) -> str:
    take, _, _ = item.payload
    union = rule.params.union
    for strike in ctx.records.strikes:
        for moment in dict.fromkeys((take.made_at or ctx.as_of, ctx.as_of)):
            if strike.union == union and strike.on(moment):
                return f"{union} is on strike since {strike.start:%Y-%m-%d}"
    return ""


def _check_enforceable(rule: Rule, item: _Item, ctx: _Context) -> str:
    take, use, kind = item.payload
    consent, _ = _consent_for(use.performer, frozenset({kind}), take, ctx, rule.params)
    candidates = [consent] if consent is not None else ctx.records.consents_of(use.performer)
    for candidate in candidates:
        if candidate.kind != kind or candidate.project != ctx.policy.project:
            continue
        if (
            candidate.replaces_in_person
            and not candidate.scope.strip()
            and candidate.representation == Representation.NONE
        ):
            return (
                f"consent {candidate.id} replaces in-person work, describes no use, and the performer had "
                "neither counsel nor a union agreement"
            )
    return ""


def _check_scan_notice(rule: Rule, item: _Item, ctx: _Context) -> str:
    _, use, _ = item.payload
    params = rule.params
    notices = [n for n in ctx.records.scan_notices if n.performer == use.performer]
    if not notices:
        return "no scan notice recorded"
    for notice in sorted(notices, key=lambda n: n.scan_at):
        at_engagement = notice.engaged_hours_ahead < params.min_hours and notice.notice_at <= notice.engaged_at
        if notice.hours < params.min_hours and not at_engagement:
            return f"notice {notice.hours:g} h before the scan on {notice.scan_at:%Y-%m-%d %H:%M}"
        if params.business_reason and not notice.business_reason.strip():
            return f"no business reason recorded for the scan on {notice.scan_at:%Y-%m-%d}"
    return ""


def _check_alteration(rule: Rule, item: _Item, ctx: _Context) -> str:
    take: TakeUse
    alteration: Alteration
    take, alteration = item.payload
    if alteration.purpose in rule.params.excepted:
        return ""
    performer = ctx.records.performer(alteration.performer)
    kind = _needed_kind(PerformerUse(alteration.performer, alteration.gives), performer)
    consent, why = _consent_for(alteration.performer, frozenset({kind}), take, ctx, rule.params)
    if consent is not None:
        ctx.rely(take.shot, consent)
        return ""
    return f"{alteration.purpose} is not an excepted purpose and {why}"


def _check_union_notice(rule: Rule, item: _Item, ctx: _Context) -> str:
    _, use, _ = item.payload
    notices = [
        n
        for n in ctx.records.union_notices
        if n.performer == use.performer and n.character in ("", use.character) and n.sent_at <= ctx.as_of
    ]
    if not notices:
        return "no union notice recorded"
    if rule.params.justification and not any(n.justification.strip() for n in notices):
        return "the union notice gives no justification"
    return ""


def _check_prompt_name(rule: Rule, item: _Item, ctx: _Context) -> str:
    take, name = item.payload
    performer = ctx.records.performer(name)
    if performer is None:
        return "a real person who is not a performer of this production, so no consent is on record"
    consent, why = _consent_for(performer.name, rule.params.kinds, take, ctx, rule.params)
    if consent is not None:
        ctx.rely(take.shot, consent)
    return why


def _check_pay(rule: Rule, item: _Item, ctx: _Context) -> str:
    _, use, _ = item.payload
    pay = [p for p in ctx.records.pay if p.performer == use.performer and p.days > 0]
    if not pay:
        return "no replica pay recorded"
    if rule.params.principal and not any(p.principal for p in pay):
        return "the pay recorded is not a principal's"
    return ""


def _check_director(rule: Rule, item: _Item, ctx: _Context) -> str:
    take: TakeUse = item.payload
    if not take.creative:
        return ""
    named = ctx.policy.consult.get(rule.params.role, "")
    logged = [
        c
        for c in ctx.records.consultations
        if c.at <= ctx.as_of and c.summary.strip() and (not c.shots or take.shot in c.shots)
    ]
    if not logged:
        return f"no consultation with the {rule.params.role} logged"
    if named and not any(c.director == named for c in logged):
        return f"the consultation logged is not with {named}, whom [policy] consult names"
    return ""


def _assignment(department: str, ctx: _Context) -> DepartmentAIAssignment | None:
    """The department's latest AI assignment made by ``as_of``."""
    found = [a for a in ctx.records.assignments if a.department == department and a.assigned_at <= ctx.as_of]
    return max(found, key=lambda a: a.assigned_at) if found else None


def _check_displacement(rule: Rule, item: _Item, ctx: _Context) -> str:
    department, _ = item.payload
    if not department:
        return "the take names no department and [policy] default_department is empty"
    assignment = _assignment(department, ctx)
    if assignment is None:
        return "no generative work is assigned to the department"
    if not assignment.no_displacement:
        return "the assignment does not confirm that the prompt work displaces no covered role"
    return ""


def _check_crew_notice(rule: Rule, item: _Item, ctx: _Context) -> str:
    department, _ = item.payload
    if not department:
        return "the take names no department and [policy] default_department is empty"
    assignment = _assignment(department, ctx)
    if assignment is None:
        return "no generative work is assigned to the department"
    missing = []
    if assignment.notice_at is None or assignment.notice_at > ctx.as_of:
        missing.append("no notice to the crew")
    if not assignment.consultation.strip():
        missing.append("no consultation logged")
    return "; ".join(missing)


def _check_consultation_on_request(rule: Rule, item: _Item, ctx: _Context) -> str:
    department, _ = item.payload
    assignment = _assignment(department, ctx) if department else None
    if assignment is not None and assignment.consultation_requested and not assignment.consultation.strip():
        return "the crew asked for a consultation and none is logged"
    return ""


def _check_writer_disclosure(rule: Rule, item: _Item, ctx: _Context) -> str:
    send: DraftSend = item.payload
    marked = {d.sha256 for d in ctx.records.drafts if d.ai_material}
    if not (send.ai_material or send.draft_sha256 in marked):
        return ""
    disclosures = [
        d
        for d in ctx.records.writer_disclosures
        if d.draft_sha256 == send.draft_sha256 and d.writer == send.writer and d.disclosed_at <= ctx.as_of
    ]
    if not disclosures:
        return "the draft holds AI-generated material and no disclosure is recorded"
    if not any(d.acknowledged_at is not None and d.acknowledged_at <= ctx.as_of for d in disclosures):
        return "disclosed, but the writer has not acknowledged it"
    return ""


def _check_source_credit(rule: Rule, item: _Item, ctx: _Context) -> str:
    marked = {d.sha256 for d in ctx.records.drafts if d.ai_material}
    material = item.payload
    if material.ai_generated or (material.sha256 and material.sha256 in marked):
        return "it is listed as source material in the credits"
    return ""


def _synthetic_takes(ctx: _Context) -> list[str]:
    shots = []
    for take in ctx.uses:
        for use in take.performers:
            performer = ctx.records.performer(use.performer)
            if performer is not None and performer.synthetic:
                shots.append(take.shot)
    return list(dict.fromkeys(shots))


def _check_ad(rule: Rule, item: _Item, ctx: _Context) -> str:
    release: Release = item.payload
    shots = _synthetic_takes(ctx)
    if not shots or "synthetic-performer" in release.disclosures:
        return ""
    if release.ad_exception and release.ad_exception in rule.params.excepted:
        return ""
    return f"synthetic performers appear in {', '.join(shots)} and the ad does not disclose them"


def _check_deepfake(rule: Rule, item: _Item, ctx: _Context) -> str:
    release: Release = item.payload
    shots = [take.shot for take in ctx.uses if take.ai and take.realistic]
    if not shots or "deepfake" in release.disclosures:
        return ""
    return f"{', '.join(shots)} could pass as real recordings and the release does not disclose it"


def _check_marks(rule: Rule, item: _Item, ctx: _Context) -> str:
    take: TakeUse = item.payload
    if take.upstream_marks_stripped:
        return "an AI mark its inputs carried was stripped"
    if not take.credentials:
        return "the take carries no content credentials with an AI source type"
    return ""


_Items = Callable[[Rule, _Context], Iterator[_Item]]
_REAL, _SYNTHETIC = _performer_items(False), _performer_items(True)
_CHECKS: dict[Requirement, tuple[_Items, _Check]] = {
    Requirement.CONSENT: (_REAL, _check_consent),
    Requirement.SCAN_NOTICE: (_REAL, _check_scan_notice),
    Requirement.ALTERATION_CONSENT: (_alteration_items, _check_alteration),
    Requirement.UNION_NOTICE: (_SYNTHETIC, _check_union_notice),
    Requirement.PROMPT_NAME_CONSENT: (_name_items, _check_prompt_name),
    Requirement.NOT_SUSPENDED: (_REAL, _check_not_suspended),
    Requirement.NO_STRIKE: (_REAL, _check_no_strike),
    Requirement.REPLICA_PAY: (_REAL, _check_pay),
    Requirement.ENFORCEABLE_CONSENT: (_REAL, _check_enforceable),
    Requirement.DIRECTOR_CONSULTATION: (_take_items, _check_director),
    Requirement.DISPLACEMENT_ATTESTATION: (_department_items, _check_displacement),
    Requirement.CREW_NOTICE: (_department_items, _check_crew_notice),
    Requirement.CONSULTATION_ON_REQUEST: (_department_items, _check_consultation_on_request),
    Requirement.WRITER_DISCLOSURE: (_draft_items, _check_writer_disclosure),
    Requirement.NO_AI_SOURCE_CREDIT: (_credit_items, _check_source_credit),
    Requirement.AD_DISCLOSURE: (_release_items, _check_ad),
    Requirement.DEEPFAKE_DISCLOSURE: (_release_items, _check_deepfake),
    Requirement.PROVENANCE_MARKS: (_take_items, _check_marks),
}
assert set(_CHECKS) == set(Requirement), "every requirement needs a check"


def shot_compliance(outcome: Outcome, shots: Sequence[str]) -> dict[str, ShotCompliance]:
    """The guardrail record of each of ``shots`` (for the cut's credentials and the
    disclosure report)."""
    return {shot: outcome.shot(shot) for shot in shots}


def validate_consent(consent: Consent, records: Records, today: date) -> None:
    """Refuse a consent as it is recorded (``soundstage consent add``): an unknown performer,
    no scope, a synthetic performer (nobody to consent), a signing date in the future, an
    expiry before signing, or a document hash that is not a sha256. One GuardrailError line."""
    what = f"consent {consent.id} for {consent.performer}"
    performer = records.performer(consent.performer)
    if performer is None:
        known = ", ".join(p.name for p in records.performers) or "none"
        raise GuardrailError(f"{what}: unknown performer (performers: {known})")
    if performer.synthetic:
        raise GuardrailError(f"{what}: {performer.name} is a synthetic performer; nobody can consent for them")
    if not consent.scope.strip():
        raise GuardrailError(f"{what}: a scope (a reasonably specific description of the use) is required")
    if not consent.project.strip():
        raise GuardrailError(f"{what}: name the project the consent is for")
    if consent.signed > today:
        raise GuardrailError(f"{what}: signed {consent.signed}, which is in the future")
    if consent.expires is not None and consent.expires < consent.signed:
        raise GuardrailError(f"{what}: expires {consent.expires}, before it was signed on {consent.signed}")
    digest = consent.document_sha256
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise GuardrailError(f"{what}: the document's sha256 must be 64 lower-case hex digits")
