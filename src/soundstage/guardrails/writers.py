"""The rules on writers: a draft holding AI-generated material goes to a writer only with the
disclosure recorded and acknowledged (send-to-writer), and AI-generated text is never listed
as source material in the credits."""

from __future__ import annotations

from collections.abc import Iterator

from soundstage.guardrails.items import Check, Evaluation, Item, Items
from soundstage.guardrails.model import DraftSend
from soundstage.guardrails.rules import Requirement, Rule


def _draft_items(rule: Rule, ctx: Evaluation) -> Iterator[Item]:
    for send in ctx.drafts:
        yield Item(
            send.title,
            {"territory": ctx.territories},
            {"subject": send.title, "writer": send.writer, "title": send.title},
            "",
            "",
            send,
        )


def _credit_items(rule: Rule, ctx: Evaluation) -> Iterator[Item]:
    release = ctx.release
    if release is not None:
        for material in release.source_material:
            facts = {"purpose": release.purpose, "territory": release.territories}
            yield Item(material.title, facts, {"subject": material.title, "title": material.title}, "", "", material)


def _check_writer_disclosure(rule: Rule, item: Item, ctx: Evaluation) -> str:
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


def _check_source_credit(rule: Rule, item: Item, ctx: Evaluation) -> str:
    marked = {d.sha256 for d in ctx.records.drafts if d.ai_material}
    material = item.payload
    if material.ai_generated or (material.sha256 and material.sha256 in marked):
        return "it is listed as source material in the credits"
    return ""


CHECKS: dict[Requirement, tuple[Items, Check]] = {
    Requirement.WRITER_DISCLOSURE: (_draft_items, _check_writer_disclosure),
    Requirement.NO_AI_SOURCE_CREDIT: (_credit_items, _check_source_credit),
}
