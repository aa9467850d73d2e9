"""The books report for people: hours by department, role, union and residence; each person's
confirmed AI-assisted hours; spend, local and not; each incentive program's estimate with its
qualified-spend breakdown, caps, uplifts and stacking; the what-if designs beside them; charts where people look rather than read. Written as
one self-contained HTML page (Jinja2, charts inline as SVG) and as a PDF (fpdf2, charts as PNG),
each atomically.

Amounts are rounded to the cent for display only (half up); the figures behind them stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from soundstage.books.charts import Chart, benefit_bars, weekly_hours
from soundstage.books.facts import ProductionFacts
from soundstage.books.incentives import Estimate, ProgramEstimate
from soundstage.books.ledger import Books
from soundstage.books.summary import HoursRow, Summary, summarize
from soundstage.books.whatif import FTE_HOURS, Comparison, WhatIf, compare
from soundstage.errors import BooksError
from soundstage.files import write_atomic
from soundstage.reports.pdf import ReportPdf

_TEMPLATES = Environment(
    loader=PackageLoader("soundstage.books", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
CENT = Decimal("0.01")
HTML_NAME, PDF_NAME = "books.html", "books.pdf"
AI_HOURS_NOTE = (
    "Generative AI work (prompting, generating takes), confirmed, under the person who did it: prompt work"
    " stays covered work (TAG 2024, IATSE 2024). Suggested drafts count for nothing until confirmed."
)


def money(amount: Decimal, currency: str = "") -> str:
    """``CAD 36,771.30``: to the cent, half up, for display."""
    text = f"{amount.quantize(CENT, ROUND_HALF_UP):,.2f}"
    return f"{currency} {text}" if currency else text


def hours(value: Decimal) -> str:
    """Hours as a payroll writes them: ``1,621.25``."""
    return f"{value.quantize(CENT, ROUND_HALF_UP):,.2f}"


def percent(share: Decimal) -> str:
    """A share as a percentage to two places: ``46.24%``."""
    return f"{(share * 100).quantize(CENT, ROUND_HALF_UP)}%"


@dataclass(frozen=True)
class BooksReport:
    """Everything the report shows, computed once for both formats."""

    title: str
    created_at: datetime
    currency: str
    include_pay: bool
    summary: Summary
    estimate: Estimate
    whatifs: tuple[WhatIf, ...]
    comparisons: tuple[Comparison, ...]
    fte_hours: Decimal
    charts: tuple[Chart, ...]
    skipped: tuple[tuple[str, str], ...]  # programs left out, with why

    @property
    def eligible(self) -> list[ProgramEstimate]:
        return [p for p in self.estimate.programs if p.eligible]

    @property
    def not_eligible(self) -> list[ProgramEstimate]:
        return [p for p in self.estimate.programs if not p.eligible]


def build_report(
    books: Books,
    facts: ProductionFacts,
    estimate: Estimate,
    whatifs: Sequence[WhatIf] = (),
    *,
    currency: str,
    include_pay: bool = True,
    title: str = "",
    created_at: datetime | None = None,
    skipped: Sequence[tuple[str, str]] = (),
) -> BooksReport:
    """The report's contents: the summary in ``currency``, the comparison of every design,
    eligible program and stack, and the charts."""
    summary = summarize(books, facts, currency)
    fte = whatifs[0].design.fte_hours if whatifs else FTE_HOURS
    comparisons = tuple(compare(books, facts, estimate, list(whatifs), currency=currency, fte_hours=fte))
    charts = (
        weekly_hours(summary.weeks, summary.hours_by_week),
        benefit_bars([(c.name, c.kind, c.net) for c in comparisons], currency),
    )
    return BooksReport(
        title=title or facts.title or "Production books",
        created_at=created_at or datetime.now(UTC),
        currency=currency,
        include_pay=include_pay,
        summary=summary,
        estimate=estimate,
        whatifs=tuple(whatifs),
        comparisons=comparisons,
        fte_hours=fte,
        charts=charts,
        skipped=tuple(skipped),
    )


def render_html(report: BooksReport) -> str:
    """The report as one self-contained HTML page."""
    return _TEMPLATES.get_template("books.html").render(
        r=report, money=money, hours=hours, percent=percent, ai_note=AI_HOURS_NOTE
    )


class _Pdf(ReportPdf):
    """The books' portrait page: headings of several sizes, right-aligned figures."""

    def heading(self, text: str, size: int = 12) -> None:
        self.ln(2)
        self.set_font(self.font_name, "B", size)
        self.multi_cell(0, 6, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.font_name, "", 8)

    def paragraph(self, text: str) -> None:
        self.set_font(self.font_name, "", 8)
        self.multi_cell(0, 4.5, self.text_of(text), new_x="LMARGIN", new_y="NEXT")

    def grid(self, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
        self.set_font(self.font_name, "", 7.5)
        aligns = ["LEFT"] + ["RIGHT"] * (len(header) - 1)
        with self.table(col_widths=tuple(widths), text_align=tuple(aligns), line_height=4.2) as table:
            table.row([self.text_of(h) for h in header])
            for row in rows:
                table.row([self.text_of(cell) for cell in row])
        self.ln(1)


def _hours_rows(rows: Sequence[HoursRow], include_pay: bool) -> list[list[str]]:
    return [[r.key or "-", str(r.people), hours(r.hours), *([money(r.wages)] if include_pay else [])] for r in rows]


def render_pdf(report: BooksReport) -> bytes:
    """The report as a PDF (fpdf2)."""
    r, s = report, report.summary
    pdf = _Pdf(f"Books: {r.title}", footer=f"{r.title}: the books", orientation="portrait", made_at=r.created_at)
    pdf.add_page()
    pdf.heading(f"The books: {r.title}", 16)
    pdf.paragraph(
        f"As of {r.estimate.as_of}; amounts in {r.currency} at the producer's exchange rates; made "
        f"{r.created_at:%Y-%m-%d %H:%M %Z}. Estimates, not tax advice: every figure names its source."
    )
    pdf.heading("Crew hours")
    line = f"Confirmed crew hours: {hours(s.confirmed_hours)} by {s.people} people."
    if r.include_pay:
        line += f" Wages: {money(s.wages, r.currency)}."
    line += f" Hours suggested from activity and not confirmed (not counted): {hours(s.draft_hours)}."
    line += f" Confirmed AI-assisted hours: {hours(s.ai_hours_total)}."
    pdf.paragraph(line)
    if s.ai_hours:
        pdf.heading("AI-assisted work", 10)
        pdf.paragraph(AI_HOURS_NOTE)
        rows = [[person, hours(value)] for person, value in s.ai_hours]
        pdf.grid(["Person", "AI-assisted hours"], [*rows, ["All", hours(s.ai_hours_total)]], (120, 45))
    header = ["", "People", "Hours", *([f"Wages ({r.currency})"] if r.include_pay else [])]
    widths = (90, 25, 30, 45)[: len(header)]
    for name, rows in (
        ("department", s.by_department),
        ("role", s.by_role),
        ("union", s.by_union),
        ("residence", s.by_residence),
    ):
        pdf.heading(f"Hours by {name}", 10)
        pdf.grid([name.capitalize(), *header[1:]], _hours_rows(rows, r.include_pay), widths)
    pdf.image(BytesIO(r.charts[0].png), w=pdf.epw)

    pdf.add_page()
    pdf.heading("Spend")
    pdf.paragraph(
        f"Spend: {money(s.spend, r.currency)}. Local vendors: {money(s.local_spend, r.currency)}; "
        f"non-local vendors: {money(s.non_local_spend, r.currency)}."
    )
    pdf.heading("Spend by account", 10)
    pdf.grid(
        ["Account", "Lines", f"Amount ({r.currency})"],
        [[x.key, str(x.lines), money(x.amount)] for x in s.spend_by_account],
        (120, 25, 45),
    )
    pdf.heading("Spend by place", 10)
    pdf.grid(
        ["Place", "Lines", f"Amount ({r.currency})"],
        [[x.key, str(x.lines), money(x.amount)] for x in s.spend_by_place],
        (120, 25, 45),
    )

    pdf.add_page()
    pdf.heading("Incentive programs")
    rows = [
        [
            p.program.id,
            "yes" if p.eligible else "no",
            percent(p.rate),
            money(p.qualified),
            money(p.base),
            money(p.credit),
            money(p.net),
            p.currency,
        ]
        for p in r.estimate.programs
    ]
    pdf.grid(
        ["Program", "Eligible", "Rate", "Qualified", "Base", "Credit", "Net", "Cur."],
        rows,
        (26, 15, 15, 29, 29, 29, 29, 18),
    )
    for program, reason in r.skipped:
        pdf.paragraph(f"Not estimated: {program}: {reason}.")
    stacks = [s_ for s_ in r.estimate.stacks]
    if stacks:
        pdf.heading("Claimed together (stacks)", 10)
        pdf.grid(
            ["Programs", "Credit", "Net", "Cur."],
            [[x.label, money(x.credit), money(x.net), x.currency] for x in stacks],
            (100, 35, 35, 20),
        )
    for p in r.estimate.programs:
        _program_pdf(pdf, p, r.include_pay)

    pdf.add_page()
    pdf.heading("Labour-indexed what-if, beside the real programs")
    for w in r.whatifs:
        d = w.design
        parts = [f"{w.design.name} (region {w.region}): {d.description}".rstrip(": ")]
        parts.append(f"local crew hours {hours(w.local_hours)} of {w.local_people} people")
        if r.include_pay:
            parts.append(f"local wages {money(w.local_wages, w.currency)}")
        parts.append(f"local non-wage spend {money(w.local_spend, w.currency)}")
        parts.append(
            f"from hours {money(w.from_hours)}, from wages {money(w.from_wages)}, from spend {money(w.from_spend)}; "
            f"held by the per-job cap {money(w.held_by_job_cap)}, by the total cap {money(w.held_by_total_cap)}; "
            f"net {money(w.net, w.currency)}"
        )
        pdf.paragraph("; ".join(parts) + ".")
    pdf.paragraph(
        f"Per crew hour: over all {hours(s.confirmed_hours)} confirmed crew hours. Per FTE job: one full-time-"
        f"equivalent job is {r.fte_hours:,} hours. Per unit of budget: net benefit / budget."
    )
    pdf.grid(
        ["Incentive", "Kind", f"Net ({r.currency})", "Per crew hour", "Per FTE job", "Per budget"],
        [
            [c.name, c.kind, money(c.net), money(c.per_crew_hour), money(c.per_fte_job), percent(c.per_budget)]
            for c in r.comparisons
        ],
        (70, 18, 28, 24, 26, 24),
    )
    pdf.image(BytesIO(r.charts[1].png), w=pdf.epw)
    return bytes(pdf.output())


def _program_pdf(pdf: _Pdf, p: ProgramEstimate, include_pay: bool) -> None:
    program = p.program
    pdf.heading(f"{program.id}: {program.name} ({program.version})", 10)
    status = "eligible" if p.eligible else "not eligible"
    pdf.paragraph(
        f"{status}; {program.credit} credit in {p.currency}; rule set {program.effective}, checked {program.checked}. "
        f"Rate {percent(p.rate)} ({p.rate_label}) on a {program.base} base of {money(p.base, p.currency)}."
    )
    for reason in p.reasons:
        pdf.paragraph(f"Fails: {reason}")
    rows = [
        [
            f"{'counts' if b.qualified else 'left out'}: {b.reason}",
            str(b.lines),
            money(b.amount) if include_pay or not b.labour else "-",
        ]
        for b in p.breakdown
    ]
    pdf.grid(["Lines decided by", "Lines", f"Amount ({p.currency})"], rows, (140, 20, 30))
    for cap in p.caps:
        pdf.paragraph(
            f"Cap {cap.cap}: {cap.label}: {money(cap.before)} against {money(cap.limit)} -> {money(cap.after)}."
        )
    if p.assistance:
        pdf.paragraph(
            f"Assistance (credits of the programs under it, and other assistance): {money(p.assistance, p.currency)}."
        )
    for u in p.uplifts:
        if u.amount or u.on:
            note = f" ({u.reason})" if u.reason else ""
            pdf.paragraph(f"Uplift {u.uplift}: {percent(u.rate)} of {money(u.on)} = {money(u.amount)}{note}.")
    if program.certification is not None or p.fee or p.tax:
        pdf.paragraph(
            f"Credit {money(p.credit, p.currency)}; certified {percent(p.certified_share)} = {money(p.certified)}; "
            f"fee {money(p.fee)}; tax {money(p.tax)}; net {money(p.net, p.currency)}."
        )
    if p.jobs_ratio is not None:
        wages = f"{money(p.qualified_wages)} " if include_pay else ""
        pdf.paragraph(f"Jobs ratio: {wages}qualified wages / {money(p.base_credit)} credit = {p.jobs_ratio:.2f}.")
    if p.refund:
        pdf.paragraph(
            "Refund election: "
            + ", ".join(f"year {n}: {money(a, p.currency)}" for n, a in enumerate(p.refund, 1))
            + "."
        )
    sources = "; ".join(f"{s.title}{f' ({s.dated})' if s.dated else ''} [{s.conf}]" for s in program.sources.values())
    pdf.paragraph(f"Sources: {sources}.")


def write_books_report(
    out_dir: Path,
    books: Books,
    facts: ProductionFacts,
    estimate: Estimate,
    whatifs: Sequence[WhatIf] = (),
    *,
    currency: str,
    include_pay: bool = True,
    title: str = "",
    created_at: datetime | None = None,
    skipped: Sequence[tuple[str, str]] = (),
) -> list[Path]:
    """Write ``books.html`` and ``books.pdf`` into ``out_dir``, each atomically; returns their
    paths. Both are made before either is written, so a failure writes nothing."""
    report = build_report(
        books,
        facts,
        estimate,
        whatifs,
        currency=currency,
        include_pay=include_pay,
        title=title,
        created_at=created_at,
        skipped=skipped,
    )
    html, pdf = render_html(report).encode("utf-8"), render_pdf(report)
    paths = [out_dir / HTML_NAME, out_dir / PDF_NAME]
    write_atomic(paths[0], html, what="books report", error=BooksError)
    write_atomic(paths[1], pdf, what="books report PDF", error=BooksError)
    return paths
