"""The rules on crews and directors: consulting the director on generative AI for creative
elements, and for each department doing generative work, the notice to its crew, the
consultation (held, or asked for) and the confirmation that the prompt work displaces no
covered role."""

from __future__ import annotations

from collections.abc import Iterator

from soundstage.guardrails.items import Check, Evaluation, Item, Items, take_items
from soundstage.guardrails.model import DepartmentAIAssignment, TakeUse
from soundstage.guardrails.rules import Requirement, Rule


def _department_items(rule: Rule, ctx: Evaluation) -> Iterator[Item]:
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
        yield Item(
            subject,
            {"department": department, "territory": ctx.territories},
            {"subject": subject, "department": subject},
            "",
            takes[0].take if takes else "",
            (department, takes),
        )


def _check_director(rule: Rule, item: Item, ctx: Evaluation) -> str:
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


def _assignment(department: str, ctx: Evaluation) -> DepartmentAIAssignment | None:
    """The department's latest AI assignment made by ``as_of``."""
    found = [a for a in ctx.records.assignments if a.department == department and a.assigned_at <= ctx.as_of]
    return max(found, key=lambda a: a.assigned_at) if found else None


def _assigned(item: Item, ctx: Evaluation) -> tuple[DepartmentAIAssignment | None, str]:
    """The latest AI assignment of the item's department, or why there is none to judge."""
    department, _ = item.payload
    if not department:
        return None, "the take names no department and [policy] default_department is empty"
    assignment = _assignment(department, ctx)
    if assignment is None:
        return None, "no generative work is assigned to the department"
    return assignment, ""


def _check_displacement(rule: Rule, item: Item, ctx: Evaluation) -> str:
    assignment, why = _assigned(item, ctx)
    if assignment is None:
        return why
    if not assignment.no_displacement:
        return "the assignment does not confirm that the prompt work displaces no covered role"
    return ""


def _check_crew_notice(rule: Rule, item: Item, ctx: Evaluation) -> str:
    assignment, why = _assigned(item, ctx)
    if assignment is None:
        return why
    missing = []
    if assignment.notice_at is None or assignment.notice_at > ctx.as_of:
        missing.append("no notice to the crew")
    if not assignment.consultation.strip():
        missing.append("no consultation logged")
    return "; ".join(missing)


def _check_consultation_on_request(rule: Rule, item: Item, ctx: Evaluation) -> str:
    department, _ = item.payload
    assignment = _assignment(department, ctx) if department else None
    if assignment is not None and assignment.consultation_requested and not assignment.consultation.strip():
        return "the crew asked for a consultation and none is logged"
    return ""


CHECKS: dict[Requirement, tuple[Items, Check]] = {
    Requirement.DIRECTOR_CONSULTATION: (take_items, _check_director),
    Requirement.DISPLACEMENT_ATTESTATION: (_department_items, _check_displacement),
    Requirement.CREW_NOTICE: (_department_items, _check_crew_notice),
    Requirement.CONSULTATION_ON_REQUEST: (_department_items, _check_consultation_on_request),
}
