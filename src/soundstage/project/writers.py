"""The writers' terms (WGA MBA 2023, Art. 72): which drafts hold AI-generated text, marked and
unmarked by the people who run the production, each change audited. The disclosure to a
writer is ``consents.disclose``; the gate before a draft goes to a writer is
``guardrails.clear_send``.
"""

from __future__ import annotations

from sqlalchemy import select

from soundstage.errors import GuardrailError
from soundstage.project.consents import actor, find_draft
from soundstage.project.production import Context
from soundstage.project.trail import append_event
from soundstage.store.tables import Draft as DraftRow


def mark_draft(context: Context, draft: str, *, ai_material: bool, reason: str = "", by: str = "") -> list[int]:
    """Mark a draft (its number, "latest", or 8+ digits of its sha256) as holding AI-generated
    material, or unmark it with a written reason (a guardrail comes off); audited. Every
    import of the same file takes the mark (the rules know a draft by its sha256); the
    numbers of the drafts changed."""
    what = f"script mark {draft}"
    if not ai_material and not reason.strip():
        raise GuardrailError(f"{what} --no-ai-material: a written --reason is required")
    with context.transaction() as session:
        who = actor(session, by, what="mark a draft")
        row = find_draft(session, draft)
        same = list(session.scalars(select(DraftRow).where(DraftRow.source_sha256 == row.source_sha256)))
        if all(d.ai_material == ai_material for d in same):
            state = "marked as holding AI-generated material" if ai_material else "not marked"
            raise GuardrailError(f"{what}: draft {row.id} is already {state}")
        for d in same:
            d.ai_material = ai_material
        changed = sorted(d.id for d in same)
        detail = {"drafts": changed, "draft_sha256": row.source_sha256, "ai_material": ai_material,
                  "reason": reason.strip()}  # fmt: skip
        append_event(session, who.name, who.role, "draft marked" if ai_material else "draft unmarked",
                     f"draft {row.id}", detail)  # fmt: skip
    return changed
