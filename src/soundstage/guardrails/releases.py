"""The rules on what leaves the production: an ad's disclosure of synthetic performers, the
disclosure of work that could pass as a real recording, and the AI marks (content
credentials with an AI source type; upstream marks kept)."""

from __future__ import annotations

from collections.abc import Iterator

from soundstage.guardrails.items import Check, Evaluation, Item, Items, take_items
from soundstage.guardrails.model import Release, TakeUse
from soundstage.guardrails.rules import Requirement, Rule


def _release_items(rule: Rule, ctx: Evaluation) -> Iterator[Item]:
    release = ctx.release
    if release is not None:
        facts = {"purpose": release.purpose, "territory": release.territories}
        yield Item(release.name, facts, {"subject": release.name, "release": release.name}, "", "", release)


def _synthetic_takes(ctx: Evaluation) -> list[str]:
    shots = []
    for take in ctx.uses:
        for use in take.performers:
            performer = ctx.records.performer(use.performer)
            if performer is not None and performer.synthetic:
                shots.append(take.shot)
    return list(dict.fromkeys(shots))


def _check_ad(rule: Rule, item: Item, ctx: Evaluation) -> str:
    release: Release = item.payload
    shots = _synthetic_takes(ctx)
    if not shots or "synthetic-performer" in release.disclosures:
        return ""
    if release.ad_exception and release.ad_exception in rule.params.excepted:
        return ""
    return f"synthetic performers appear in {', '.join(shots)} and the ad does not disclose them"


def _check_deepfake(rule: Rule, item: Item, ctx: Evaluation) -> str:
    release: Release = item.payload
    shots = [take.shot for take in ctx.uses if take.ai and take.realistic]
    if not shots or "deepfake" in release.disclosures:
        return ""
    return f"{', '.join(shots)} could pass as real recordings and the release does not disclose it"


def _check_marks(rule: Rule, item: Item, ctx: Evaluation) -> str:
    take: TakeUse = item.payload
    if take.upstream_marks_stripped:
        return "an AI mark its inputs carried was stripped"
    if not take.credentials:
        return "the take carries no content credentials with an AI source type"
    return ""


CHECKS: dict[Requirement, tuple[Items, Check]] = {
    Requirement.AD_DISCLOSURE: (_release_items, _check_ad),
    Requirement.DEEPFAKE_DISCLOSURE: (_release_items, _check_deepfake),
    Requirement.PROVENANCE_MARKS: (take_items, _check_marks),
}
