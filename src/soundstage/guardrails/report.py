"""The production's compliance report (``soundstage guardrails report -o DIR``): the rule packs
and rules that bind it, every consent with its scope, expiry and state, the uses of each
performer shot by shot, the open violations, the overrides with their written reasons, and the
notices, consultations and disclosures on record. Written as self-contained HTML (Jinja2) and
as PDF (fpdf2), each atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from soundstage.errors import GuardrailError
from soundstage.files import write_atomic
from soundstage.guardrails.evaluate import Outcome, Violation
from soundstage.guardrails.model import Policy, Records, TakeUse
from soundstage.guardrails.rules import Rule, RulePack
from soundstage.provenance.screenplay import AiText
from soundstage.reports.pdf import ReportPdf

_TEMPLATES = Environment(
    loader=PackageLoader("soundstage.guardrails", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
HTML_NAME, PDF_NAME = "compliance.html", "compliance.pdf"


@dataclass(frozen=True)
class ConsentRow:
    """A consent as the report lists it, with its state at the report's time."""

    id: str
    performer: str
    kind: str
    project: str
    scope: str
    signed: str
    expires: str
    signer: str
    flags: str
    state: str
    document_sha256: str


@dataclass(frozen=True)
class UseRow:
    """What the production's takes use of one performer: each of voice, likeness, motion (or a
    name in a prompt) with the characters and shots."""

    performer: str
    gives: str
    characters: str
    shots: tuple[str, ...]


@dataclass(frozen=True)
class NoticeRow:
    """A notice, consultation, disclosure or assignment on record."""

    kind: str
    subject: str
    at: str
    detail: str


@dataclass(frozen=True)
class ComplianceReport:
    """Everything the report shows, ready to render."""

    title: str
    project: str
    made_at: datetime
    generator: str
    packs: tuple[str, ...]
    rules: tuple[Rule, ...]
    consents: tuple[ConsentRow, ...]
    uses: tuple[UseRow, ...]
    violations: tuple[Violation, ...]
    overrides: tuple[Violation, ...]
    notices: tuple[NoticeRow, ...]


def _when(at: datetime | None) -> str:
    return at.isoformat(timespec="minutes") if at is not None else ""


def compliance_report(
    title: str,
    records: Records,
    uses: Sequence[TakeUse],
    outcome: Outcome,
    pack: RulePack,
    policy: Policy,
    *,
    generator: str,
) -> ComplianceReport:
    """The report of ``outcome`` (a check of every rule: ``evaluate(None, ...)``) over the
    production's ``records`` and its takes' ``uses``."""
    as_of = outcome.as_of
    consents = []
    for c in sorted(records.consents, key=lambda c: (c.performer, c.signed, c.id)):
        state, event = c.state(as_of)
        since = f" since {event.at:%Y-%m-%d} ({event.by}{': ' + event.reason if event.reason else ''})" if event else ""
        if c.expires is not None and c.expires < as_of.date() and state == "active":
            state_text = f"expired {c.expires}"
        else:
            state_text = f"{state}{since}"
        flags = [
            f"signed by {c.signer}",
            "real-time: " + ("not stated" if c.real_time is None else "yes" if c.real_time else "no"),
            "name in prompts: " + ("yes" if c.name_in_prompt else "no"),
            f"representation: {c.representation}",
        ]
        consents.append(
            ConsentRow(
                c.id,
                c.performer,
                str(c.kind),
                c.project,
                c.scope,
                c.signed.isoformat(),
                c.expires.isoformat() if c.expires else "no expiry",
                str(c.signer),
                "; ".join(flags),
                state_text,
                c.document_sha256,
            )
        )
    grouped: dict[tuple[str, str], tuple[dict[str, None], dict[str, None]]] = {}
    for take in uses:
        shot = take.take or take.shot
        for use in take.performers:
            characters, shots = grouped.setdefault((use.performer, str(use.gives)), ({}, {}))
            if use.character:
                characters[use.character] = None
            shots[shot] = None
        for name in take.named:
            grouped.setdefault((name, "named in a prompt"), ({}, {}))[1][shot] = None
    use_rows = tuple(
        UseRow(performer, gives, ", ".join(characters), tuple(shots))
        for (performer, gives), (characters, shots) in sorted(grouped.items())
    )
    notices = [
        *(
            NoticeRow(
                "scan notice",
                n.performer,
                _when(n.scan_at),
                f"{n.hours:g} h notice; engaged {_when(n.engaged_at)}; reason: {n.business_reason or '(none)'}",
            )
            for n in records.scan_notices
        ),
        *(
            NoticeRow(
                "union notice",
                f"{n.performer}" + (f" as {n.character}" if n.character else ""),
                _when(n.sent_at),
                f"{n.union}, {n.status}; justification: {n.justification or '(none)'}",
            )
            for n in records.union_notices
        ),
        *(
            NoticeRow(
                "director consultation",
                c.director,
                _when(c.at),
                f"{', '.join(c.shots) or 'every shot'}: {c.summary}",
            )
            for c in records.consultations
        ),
        *(
            NoticeRow(
                "writer disclosure",
                f"{d.writer}, draft {d.draft_sha256[:12]}",
                _when(d.disclosed_at),
                f"acknowledged {_when(d.acknowledged_at)}" if d.acknowledged_at else "not acknowledged",
            )
            for d in records.writer_disclosures
        ),
        *(
            NoticeRow(
                "department AI assignment",
                a.department,
                _when(a.assigned_at),
                f"by {a.assigned_by}; crew notice {_when(a.notice_at) or 'not given'}; consultation: "
                f"{a.consultation or '(none)'}; displaces no covered role: {'confirmed' if a.no_displacement else 'not confirmed'}",
            )
            for a in records.assignments
        ),
        *(
            NoticeRow(
                "AI-generated material",
                # Named as the disclosure report and the cut's credentials name it (one label).
                f"Screenplay {AiText(d.number, d.sha256).label}",
                "",
                "AI-generated text: disclosed to each writer it is sent to; never source material (WGA-1, WGA-3)",
            )
            # One row per text: a draft imported again with the same file is the same text, named
            # by its latest number (records list drafts in order), as a cut from it names it.
            for d in {d.sha256: d for d in records.drafts if d.ai_material}.values()
        ),
    ]
    return ComplianceReport(
        title=title,
        project=policy.project,
        made_at=as_of,
        generator=generator,
        packs=tuple(f"{p.key}: {p.title}" for p in pack.packs),
        rules=pack.gating(None),
        consents=tuple(consents),
        uses=use_rows,
        violations=outcome.open,
        overrides=outcome.overridden,
        notices=tuple(notices),
    )


def render_html(report: ComplianceReport) -> str:
    """The report as one self-contained HTML page."""
    return _TEMPLATES.get_template("compliance.html").render(r=report)


class _Pdf(ReportPdf):
    """The compliance report's page: tables print "None." when empty."""

    def grid(self, widths: tuple[int, ...], header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        if not rows:
            self.paragraph("None.")
            return
        with self.table(col_widths=widths, text_align="LEFT", line_height=4) as table:
            table.row(list(header))
            for row in rows:
                table.row([self.text_of(cell) for cell in row])


def render_pdf(report: ComplianceReport) -> bytes:
    """The report as a PDF (fpdf2); widths are in mm of the 277 mm between the margins."""
    r = report
    pdf = _Pdf(f"Compliance report: {r.title}", footer=f"{r.title}, compliance report", made_at=r.made_at)
    pdf.add_page()
    pdf.set_font(pdf.font_name, "B", 16)
    pdf.cell(0, 10, pdf.text_of(f"AI compliance report: {r.title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_name, "", 9)
    pdf.paragraph(f"As of {r.made_at.isoformat(timespec='minutes')}, made with {r.generator}.")
    pdf.paragraph(f"Open violations: {len(r.violations)}; overridden: {len(r.overrides)}; consents: {len(r.consents)}.")
    pdf.heading("Rule packs")
    for line in r.packs or ("No rule pack is selected ([policy] agreements and laws).",):
        pdf.paragraph(line)
    pdf.heading("Open violations")
    pdf.grid((24, 40, 40, 173), ("Rule", "Subject", "Performer", "Reason"),
             [(v.rule_id, v.subject, v.performer, v.reason) for v in r.violations])  # fmt: skip
    pdf.heading("Overrides")
    pdf.grid(
        (22, 28, 30, 80, 30, 87),
        ("Rule", "Subject", "Performer", "Violation", "By, when", "Written reason"),
        [
            (v.rule_id, v.subject, v.performer, v.reason, f"{o.by} ({o.role}), {o.at:%Y-%m-%d %H:%M}", o.reason)
            for v in r.overrides
            if (o := v.override) is not None
        ],
    )
    pdf.heading("Consents")
    pdf.grid(
        (16, 30, 28, 70, 20, 20, 45, 48),
        ("Id", "Performer", "Kind, project", "Scope", "Signed", "Expires", "State", "Document sha256, terms"),
        [
            (c.id, c.performer, f"{c.kind}, {c.project}", c.scope, c.signed, c.expires, c.state,
             f"{c.document_sha256[:16]}; {c.flags}")
            for c in r.consents
        ],
    )  # fmt: skip
    pdf.heading("Uses per performer")
    pdf.grid((50, 30, 50, 147), ("Performer", "Uses", "Characters", "Shots"),
             [(u.performer, u.gives, u.characters, ", ".join(u.shots)) for u in r.uses])  # fmt: skip
    pdf.heading("Notices, consultations and disclosures")
    pdf.grid((40, 50, 32, 155), ("Kind", "Subject", "When", "Detail"),
             [(n.kind, n.subject, n.at, n.detail) for n in r.notices])  # fmt: skip
    pdf.heading("Rules checked")
    pdf.grid(
        (22, 10, 50, 40, 95, 60),
        ("Rule", "F/I/?", "Agreement", "Gates", "Sources", "Reason"),
        [
            (rule.id, rule.status, f"{rule.agreement} {rule.agreement_version}", ", ".join(sorted(rule.gates)),
             rule.cites, rule.reason)
            for rule in r.rules
        ],
    )  # fmt: skip
    return bytes(pdf.output())


def write_report(report: ComplianceReport, folder: Path) -> tuple[Path, Path]:
    """Write ``compliance.html`` and ``compliance.pdf`` into ``folder``, each atomically."""
    html, pdf = folder / HTML_NAME, folder / PDF_NAME
    write_atomic(html, render_html(report).encode("utf-8"), what="compliance report", error=GuardrailError)
    write_atomic(pdf, render_pdf(report), what="compliance PDF", error=GuardrailError)
    return html, pdf
