"""Every rule of every built-in pack, broken once and kept once, at each event it gates.

The cases are keyed by rule id and the test is parametrised over the rules the packs hold, so
a rule added to a pack without a case here fails. The kept case must raise nothing at all in
the rule's pack (a rule that fires on a good production is as wrong as one that never fires).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from soundstage.guardrails.model import (
    Alteration,
    AlterationPurpose,
    Casting,
    ConsentAction,
    ConsentEvent,
    CreditedMaterial,
    Gives,
    Performer,
    PerformerUse,
    Purpose,
    ReplicaKind,
    ReplicaPay,
    Representation,
    ScanNotice,
    Signer,
    Strike,
)
from soundstage.guardrails.names import people_named
from soundstage.guardrails.rules import BUILT_IN, Gate, catalogue

from .production import AS_OF, Production, consent, pack_of, production, shot_covering

# A case turns the good production into the production of the case: broken (True) or kept.
Case = Callable[[Production, bool], Production]


def _rules() -> list[tuple[str, str]]:
    return [(key, rule.id) for key, (_, rules) in sorted(catalogue([BUILT_IN]).items()) for rule in rules]


def _late_scan_notice(p: Production) -> Production:
    """Ada Lind, engaged weeks ahead, told of her scan only a day before it."""
    scan = p.records.scan_notices[0]
    return p.with_records(scan_notices=(replace(scan, notice_at=scan.scan_at - timedelta(hours=24)),))


def _background_extra(p: Production, broken: bool) -> Production:
    """A background actor's replica featured as MR. PARK in the pier scene."""
    tom = Performer("Tom Reyes", gives=frozenset({Gives.LIKENESS}), replica=ReplicaKind.BACKGROUND)
    records = p.records
    p = p.with_records(
        performers=(*records.performers, tom),
        casting=(*records.casting, Casting("MR. PARK", likeness="Tom Reyes")),
        scan_notices=(
            *records.scan_notices,
            ScanNotice(
                "Tom Reyes",
                engaged_at=datetime(2026, 5, 1, tzinfo=UTC),
                notice_at=datetime(2026, 5, 2, tzinfo=UTC),
                scan_at=datetime(2026, 5, 6, tzinfo=UTC),
                business_reason="crowd replicas for the harbour",
            ),
        ),
        pay=(
            *records.pay,
            ReplicaPay("Tom Reyes", days=1, pro_rata=Decimal("0"), scale=Decimal("1082.00"), principal=not broken),
        ),
    )
    p = p.adding_consent(
        consent("C-9", "Tom Reyes", ReplicaKind.BACKGROUND, "crowd and featured townsfolk, episode one")
    )
    featured = replace(
        p.take(shot_covering("Under it, mending a net")),
        performers=(PerformerUse("Tom Reyes", Gives.LIKENESS, "MR. PARK", featured=True),),
    )
    return p.with_takes(replace(featured, shot="004_0071", take="004_0071/1"))


def _altered(p: Production, broken: bool) -> Production:
    """A take that changes a live-action plate of Priya Nair's performance; consent kept."""
    priya = Performer("Priya Nair", gives=frozenset({Gives.LIKENESS, Gives.MOTION}))
    p = p.with_records(performers=(*p.records.performers, priya))
    if not broken:
        p = p.adding_consent(
            consent(
                "C-8", "Priya Nair", ReplicaKind.EMPLOYMENT, f"altering her plate in {shot_covering('JUNO: Sit. Out.')}"
            )
        )
    altered = replace(
        p.take(shot_covering("JUNO: Sit. Out.")),
        alterations=(Alteration("Priya Nair", AlterationPurpose.PERFORMANCE, note="new reaction"),),
    )
    return replace(p, uses=tuple(altered if u.shot == shot_covering("JUNO: Sit. Out.") else u for u in p.uses))


def _prompt_names(name: str, *, voice: bool = False) -> Case:
    def case(p: Production, broken: bool) -> Production:
        take = p.take(shot_covering("JUNO: Mum's on") if voice else shot_covering("MAISIE (11)"))
        prompt = f"{take.prompt}, in the manner of {name}"
        named = people_named(prompt, p.records.performers, p.policy.names)
        assert named, prompt
        return replace(p, uses=tuple(replace(u, prompt=prompt, named=named) if u is take else u for u in p.uses))

    return case


def _then(first: Case, second: Case) -> Case:
    return lambda p, broken: second(first(p, broken), broken)


def _break_only(change: Callable[[Production], Production]) -> Case:
    return lambda p, broken: change(p) if broken else p


def _every_take(**facts: object) -> Case:
    return lambda p, broken: replace(p, uses=tuple(replace(u, **facts) for u in p.uses))  # type: ignore[arg-type]


def _consents(**terms: object) -> Callable[[Production], Production]:
    def change(p: Production) -> Production:
        return p.with_records(consents=tuple(replace(c, **terms) for c in p.records.consents))  # type: ignore[arg-type]

    return change


def _assignment(**changes: object) -> Callable[[Production], Production]:
    def change(p: Production) -> Production:
        return p.with_records(assignments=tuple(replace(a, **changes) for a in p.records.assignments))  # type: ignore[arg-type]

    return change


_REVOKED = ConsentEvent(ConsentAction.REVOKE, datetime(2026, 8, 25, tzinfo=UTC), "Ada Lind", "withdrawn by letter")
_SUSPENDED = ConsentEvent(ConsentAction.SUSPEND, datetime(2026, 8, 25, tzinfo=UTC), "Ada Lind", "strike")
_VOID = {"scope": "", "representation": Representation.NONE, "replaces_in_person": True}

CASES: dict[str, Case] = {
    # SAG-AFTRA TV/Theatrical 2023 and 2026
    "SAG-DR-1": _break_only(lambda p: p.without_consent("C-1")),
    "SAG-DR-2": _break_only(_late_scan_notice),
    "SAG-DR-3": _break_only(lambda p: p.with_consent("C-2", events=(_REVOKED,))),
    "SAG-DR-4": _break_only(lambda p: p.with_records(pay=())),
    "SAG-DR-5": _break_only(lambda p: p.with_consent("C-3", project="SOME-OTHER-SHOW")),
    "SAG-DR-6": _altered,
    "SAG-DR-7": _break_only(lambda p: p.with_consent("C-5", signer=Signer.SELF)),
    "SAG-BG-1": _background_extra,
    "SAG-SP-1": _break_only(lambda p: p.with_records(union_notices=p.records.union_notices[:1])),
    "SAG-SP-2": lambda p, broken: (
        _prompt_names("Marlon Vance")(p, broken)
        if broken
        else _prompt_names("ADA LIND")(p.with_consent("C-1", name_in_prompt=True), broken)
    ),
    "SAG-PL-1": lambda p, broken: p.with_records(
        strikes=(
            Strike("SAG-AFTRA", datetime(2026, 7, 1, tzinfo=UTC), None if broken else datetime(2026, 7, 5, tzinfo=UTC)),
        )
    ),
    # SAG-AFTRA TV Animation 2024
    "SAG-ANIM-1": _then(
        _prompt_names("Zoe Park", voice=True),
        lambda p, broken: p.with_consent("C-4", name_in_prompt=not broken),
    ),
    "SAG-ANIM-2": _break_only(lambda p: p.with_records(union_notices=p.records.union_notices[1:])),
    "SAG-ANIM-3": _break_only(lambda p: p.with_consent("C-4", expires=AS_OF.date() - timedelta(days=1))),
    # SAG-AFTRA Interactive Media 2025
    "SAG-IM-1": _break_only(lambda p: p.with_consent("C-1", real_time=None)),
    "SAG-RT-1": _then(_every_take(real_time=True), lambda p, broken: _consents(real_time=not broken)(p)),
    "SAG-ST-1": _break_only(lambda p: p.with_consent("C-1", events=(_SUSPENDED,))),
    # WGA MBA 2023
    "WGA-1": _break_only(
        lambda p: p.with_records(
            writer_disclosures=tuple(replace(d, acknowledged_at=None) for d in p.records.writer_disclosures)
        )
    ),
    "WGA-3": lambda p, broken: replace(
        p,
        release=replace(
            p.release,
            source_material=(
                *p.release.source_material,
                *((CreditedMaterial("The Lantern Keepers, draft 3", p.records.drafts[0].sha256),) if broken else ()),
            ),
        ),
    ),
    # TAG 2024, IATSE 2024
    "TAG-1": _break_only(_assignment(no_displacement=False)),
    "TAG-2": _break_only(_assignment(notice_at=None)),
    "IA-1": _break_only(_assignment(no_displacement=False)),
    "IA-2": _break_only(_assignment(consultation="")),
    # DGA 2023
    "DGA-1": _break_only(lambda p: p.with_records(consultations=())),
    # laws
    "CA-2602": _break_only(lambda p: p.with_consent("C-1", **_VOID)),
    "CA-1836": _break_only(lambda p: p.with_consent("C-5", signer=Signer.UNION)),
    "NY-8391": _break_only(lambda p: p.with_consent("C-5", signer=Signer.SELF)),
    "NY-8420": lambda p, broken: replace(
        p,
        release=replace(
            p.release,
            purpose=Purpose.AD,
            territories=("US-NY",),
            disclosures=frozenset() if broken else frozenset({"synthetic-performer"}),
        ),
    ),
    "NY-7676": _break_only(lambda p: p.with_consent("C-3", **_VOID)),
    "TN-ELVIS-1": _break_only(lambda p: p.without_consent("C-4")),
    "EU-50": lambda p, broken: replace(
        p,
        uses=tuple(replace(u, realistic=u.shot == shot_covering("MAISIE (11)")) for u in p.uses),
        release=replace(p.release, disclosures=frozenset() if broken else frozenset({"deepfake"})),
    ),
    "PROV-1": _break_only(lambda p: replace(p, uses=(replace(p.uses[0], credentials=False), *p.uses[1:]))),
}


def test_every_rule_has_a_case() -> None:
    missing = sorted({rule_id for _, rule_id in _rules()} - set(CASES))
    assert not missing, f"rules without a break/keep case: {missing}"
    assert not set(CASES) - {rule_id for _, rule_id in _rules()}, "cases for rules no pack holds"


@pytest.mark.parametrize(("pack_key", "rule_id"), _rules(), ids=[f"{k}:{r}" for k, r in _rules()])
def test_each_rule_is_broken_and_kept(pack_key: str, rule_id: str, tmp_path: Path) -> None:
    pack = pack_of(pack_key)
    rule = pack.rule(rule_id)
    case = CASES[rule_id]
    good = production(tmp_path)
    kept, broken = case(good, False), case(good, True)
    for event in sorted(rule.gates):
        found = kept.violations(event, pack)
        assert not found, f"{rule_id} kept, at {event}: {[str(v) for v in found]}"
        hits = [v for v in broken.violations(event, pack) if v.rule_id == rule_id]
        assert hits, f"{rule_id} broken, at {event}: nothing found"
        for hit in hits:
            assert "\n" not in hit.reason and hit.reason.endswith("."), hit.reason
            assert str(hit).startswith(f"{rule_id} {hit.subject}: ")
            assert set(hit.gates) == rule.gates and event in hit.gates
    # The check of every rule (soundstage guardrails check) finds the same, and lists each with
    # the events its rule gates.
    listed = [v.line() for v in broken.violations(None, pack) if v.rule_id == rule_id]
    assert listed and all(
        line.startswith(f"{rule_id} [{', '.join(g for g in Gate if g in rule.gates)}] ") for line in listed
    )
    assert not kept.violations(None, pack)
