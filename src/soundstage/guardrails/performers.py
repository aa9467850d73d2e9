"""The rules on performers' likeness and voice: consent to each use (and the consent kind it
needs), suspension and strikes, enforceability, scan notices, alterations of a recorded
performance, union notices for synthetic performers, names in prompts and replica pay."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from soundstage.guardrails.consents import consent_for
from soundstage.guardrails.items import Check, Evaluation, Item, Items
from soundstage.guardrails.model import (
    Alteration,
    ConsentState,
    Gives,
    Performer,
    PerformerUse,
    ReplicaKind,
    Representation,
    TakeUse,
)
from soundstage.guardrails.rules import Requirement, Rule
from soundstage.guardrails.uses import human_role


def _needed_kind(use: PerformerUse, performer: Performer | None) -> ReplicaKind:
    """The consent kind a use needs: a voice consent for a voice, else the kind of replica the
    production holds of the performer."""
    if use.gives == Gives.VOICE:
        return ReplicaKind.VOICE
    return performer.replica if performer is not None else ReplicaKind.EMPLOYMENT


def _performer_items(synthetic: bool) -> Callable[[Rule, Evaluation], Iterator[Item]]:
    """Each performer's use in each AI take: real performers (``synthetic`` False: consent,
    pay, notices to them) or synthetic ones (union notices). A performer without a record
    counts as real. A take made without AI (previs from the artists' blocking) makes no
    replica of anyone."""

    def items(rule: Rule, ctx: Evaluation) -> Iterator[Item]:
        for take in ctx.uses:
            if not take.ai:
                continue
            for use in take.performers:
                performer = ctx.records.performer(use.performer)
                if (performer is not None and performer.synthetic) != synthetic:
                    continue
                kind = _needed_kind(use, performer)
                yield Item(
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


def _name_items(rule: Rule, ctx: Evaluation) -> Iterator[Item]:
    for take in ctx.uses:
        if not take.ai:
            continue  # no model reads a previs take's prompt
        for name in take.named:
            yield Item(
                take.shot,
                {"output": set(take.outputs), "territory": ctx.territories},
                {"subject": take.shot, "performer": name},
                name,
                take.take,
                (take, name),
            )


def _alteration_items(rule: Rule, ctx: Evaluation) -> Iterator[Item]:
    for take in ctx.uses:
        for alteration in take.alterations:
            yield Item(
                take.shot,
                {"territory": ctx.territories},
                {"subject": take.shot, "performer": alteration.performer, "purpose": str(alteration.purpose)},
                alteration.performer,
                take.take,
                (take, alteration),
            )


def _check_consent(rule: Rule, item: Item, ctx: Evaluation) -> str:
    take, use, kind = item.payload
    consent, why = consent_for(use.performer, frozenset({kind}), take, ctx, rule.params)
    if consent is not None:
        ctx.rely(take.shot, consent)
    return why


def _check_not_suspended(rule: Rule, item: Item, ctx: Evaluation) -> str:
    take, use, kind = item.payload
    consent, _ = consent_for(use.performer, frozenset({kind}), take, ctx, rule.params)
    if consent is not None:
        return ""
    for candidate in ctx.records.consents_of(use.performer):
        state, event = candidate.state(ctx.as_of)
        if candidate.kind == kind and candidate.project == ctx.policy.project and state is ConsentState.SUSPENDED:
            why = f" ({event.reason})" if event is not None and event.reason else ""
            since = f" since {event.at:%Y-%m-%d}" if event is not None else ""
            return f"consent {candidate.id} suspended{since}{why}"
    return ""


def _check_no_strike(rule: Rule, item: Item, ctx: Evaluation) -> str:
    take, _, _ = item.payload
    union = rule.params.union
    for strike in ctx.records.strikes:
        for moment in dict.fromkeys((take.made_at or ctx.as_of, ctx.as_of)):
            if strike.union == union and strike.on(moment):
                return f"{union} is on strike since {strike.start:%Y-%m-%d}"
    return ""


def _check_enforceable(rule: Rule, item: Item, ctx: Evaluation) -> str:
    take, use, kind = item.payload
    consent, _ = consent_for(use.performer, frozenset({kind}), take, ctx, rule.params)
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


def _check_scan_notice(rule: Rule, item: Item, ctx: Evaluation) -> str:
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


def _check_alteration(rule: Rule, item: Item, ctx: Evaluation) -> str:
    take: TakeUse
    alteration: Alteration
    take, alteration = item.payload
    if alteration.purpose in rule.params.excepted:
        return ""
    performer = ctx.records.performer(alteration.performer)
    kind = _needed_kind(PerformerUse(alteration.performer, alteration.gives), performer)
    consent, why = consent_for(alteration.performer, frozenset({kind}), take, ctx, rule.params)
    if consent is not None:
        ctx.rely(take.shot, consent)
        return ""
    return f"{alteration.purpose} is not an excepted purpose and {why}"


def _check_union_notice(rule: Rule, item: Item, ctx: Evaluation) -> str:
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


def _check_prompt_name(rule: Rule, item: Item, ctx: Evaluation) -> str:
    take, name = item.payload
    performer = ctx.records.performer(name)
    if performer is None:
        return "a real person who is not a performer of this production, so no consent is on record"
    consent, why = consent_for(performer.name, rule.params.kinds, take, ctx, rule.params)
    if consent is not None:
        ctx.rely(take.shot, consent)
    return why


def _check_pay(rule: Rule, item: Item, ctx: Evaluation) -> str:
    _, use, _ = item.payload
    pay = [p for p in ctx.records.pay if p.performer == use.performer and p.days > 0]
    if not pay:
        return "no replica pay recorded"
    if rule.params.principal and not any(p.principal for p in pay):
        return "the pay recorded is not a principal's"
    return ""


_REAL, _SYNTHETIC = _performer_items(False), _performer_items(True)
CHECKS: dict[Requirement, tuple[Items, Check]] = {
    Requirement.CONSENT: (_REAL, _check_consent),
    Requirement.SCAN_NOTICE: (_REAL, _check_scan_notice),
    Requirement.ALTERATION_CONSENT: (_alteration_items, _check_alteration),
    Requirement.UNION_NOTICE: (_SYNTHETIC, _check_union_notice),
    Requirement.PROMPT_NAME_CONSENT: (_name_items, _check_prompt_name),
    Requirement.NOT_SUSPENDED: (_REAL, _check_not_suspended),
    Requirement.NO_STRIKE: (_REAL, _check_no_strike),
    Requirement.REPLICA_PAY: (_REAL, _check_pay),
    Requirement.ENFORCEABLE_CONSENT: (_REAL, _check_enforceable),
}
