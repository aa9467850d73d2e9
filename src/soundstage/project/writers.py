"""The writers' terms (WGA MBA 2023, Art. 72): which drafts hold AI-generated text, marked and
unmarked by the people who run the production, each change audited. The disclosure to a
writer is ``disclose``; the gate before a draft goes to a writer is ``guardrails.clear_send``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from soundstage.errors import GuardrailError
from soundstage.guardrails.model import WriterDisclosure
from soundstage.project.consents import actor
from soundstage.project.production import Context
from soundstage.project.trail import append_event
from soundstage.store.tables import DisclosureRecordRow, utcnow
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


def disclose(
    context: Context,
    draft: str,
    *,
    writer: str,
    acknowledged: bool = False,
    note: str = "",
    by: str = "",
) -> WriterDisclosure:
    """Record the disclosure to ``writer`` that a draft (its number, "latest", or a prefix of
    its sha256) holds AI-generated material, and whether the writer acknowledged it; audited."""
    if not writer.strip():
        raise GuardrailError(f"disclose {draft}: --writer is required")
    now = utcnow()
    with context.transaction() as session:
        who = actor(session, by, what="record a disclosure")
        row = find_draft(session, draft)
        disclosure = WriterDisclosure(
            row.source_sha256, writer.strip(), now, now if acknowledged else None, note.strip()
        )
        session.add(
            DisclosureRecordRow(draft_sha256=row.source_sha256, writer=disclosure.writer, disclosed_at=now,
                                acknowledged_at=disclosure.acknowledged_at, note=disclosure.note, recorded_by=who.name)
        )  # fmt: skip
        detail = {
            "draft": row.id,
            "draft_sha256": row.source_sha256,
            "acknowledged": acknowledged,
            "note": disclosure.note,
        }
        append_event(session, who.name, who.role, "writer disclosure", disclosure.writer, detail)
    return disclosure


def find_draft(session: Session, draft: str) -> DraftRow:
    """The draft named by its number, "latest", or a prefix (8 or more hex digits) of its sha256."""
    wanted = draft.strip().lower()
    rows = list(session.scalars(select(DraftRow).order_by(DraftRow.id)))
    if wanted == "latest" and rows:
        return rows[-1]
    if wanted.isdigit():
        found = [r for r in rows if r.id == int(wanted)]
    elif len(wanted) >= 8:
        found = [r for r in rows if r.source_sha256.startswith(wanted)]
    else:
        found = []
    if len(found) != 1:
        raise GuardrailError(f"no single draft {draft!r}: give its number, 'latest' or 8+ digits of its sha256")
    return found[0]
