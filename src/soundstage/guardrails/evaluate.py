"""Checking uses against the rules: the violations an event would commit, the overrides that
producers wrote for them, and what each shot relies on (for its credentials and the
disclosure report).

``evaluate`` runs every rule the event gates over what the event uses and returns an
``Outcome``; ``check`` is its list of violations. A rule's scope picks the items it applies to
(a performer's use in a take, a name in a prompt, an alteration, a take, a department, a draft,
a release); its requirement decides whether each item holds, and the reason template says why
not in one line. Each requirement's items and check live with their area: ``performers``
(consents, likeness and voice), ``crew`` (directors, departments), ``writers`` (drafts, credits),
``releases`` (disclosures, marks); ``consents`` says whether a consent holds, ``outcome`` holds
what a check finds.

The names callers import from here (``Outcome``, ``Override``, ``Violation``, ``PRODUCER``,
``validate_consent``...) are kept here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from soundstage.errors import GuardrailError
from soundstage.guardrails import crew, performers, releases, writers
from soundstage.guardrails.consents import validate_consent
from soundstage.guardrails.items import Check, Evaluation, Item, Items
from soundstage.guardrails.model import DraftSend, Policy, Records, Release, TakeUse
from soundstage.guardrails.outcome import (
    PRODUCER,
    Outcome,
    Override,
    ShotCompliance,
    Violation,
    refusal,
    shot_compliance,
)
from soundstage.guardrails.rules import Gate, Requirement, Rule, RulePack

__all__ = [
    "PRODUCER",
    "Outcome",
    "Override",
    "ShotCompliance",
    "Violation",
    "check",
    "evaluate",
    "refusal",
    "shot_compliance",
    "validate_consent",
]

_CHECKS: dict[Requirement, tuple[Items, Check]] = {
    **performers.CHECKS,
    **crew.CHECKS,
    **writers.CHECKS,
    **releases.CHECKS,
}
assert set(_CHECKS) == set(Requirement), "every requirement needs a check"


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
    ctx = Evaluation(gate, uses, drafts, release, records, policy, pack, as_of)
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


def _exempted(rule: Rule, item: Item, ctx: Evaluation) -> bool:
    """Whether an exemption rule of the same requirement covers this item at this event."""
    return any(
        other.requires == rule.requires
        and (other.gates_event(ctx.event) if ctx.event is not None else bool(other.gates & rule.gates))
        and other.scope.matches(item.facts)
        for other in ctx.exemptions
    )
