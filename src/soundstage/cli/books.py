"""Commands of the production books: crew add|rate|import|list, hours add|import|list|suggest|
confirm|check, spend add|import, incentives, books report."""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from soundstage.books import csvio
from soundstage.books.export import estimate_json, write_lines_csv
from soundstage.books.model import CrewMember, SpendKind, SpendLine, TimeEntry
from soundstage.books.summary import ai_assisted_hours
from soundstage.cli.app import MAX_ID, app, opened, out
from soundstage.errors import BooksError
from soundstage.project.activity import has_activity
from soundstage.project.books import parse_amount, parse_member_rate

crew_app = typer.Typer(help="The people on the production's books and their rates.", no_args_is_help=True)
hours_app = typer.Typer(help="Time entries: timesheets, and drafts from activity.", no_args_is_help=True)
spend_app = typer.Typer(help="The production's spend lines.", no_args_is_help=True)
books_app = typer.Typer(help="The production books as a report for people.", no_args_is_help=True)
app.add_typer(crew_app, name="crew")
app.add_typer(hours_app, name="hours")
app.add_typer(spend_app, name="spend")
app.add_typer(books_app, name="books")

DateFormat = Annotated[str | None, typer.Option("--date-format", help="strptime format of the dates; default ISO")]
Ignore = Annotated[list[str] | None, typer.Option("--ignore", help="a column the file carries for other purposes")]


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BooksError(f"{what}: not a date: {text!r}; expected YYYY-MM-DD") from None


def _currency(text: str | None) -> str:
    if text:
        return text.upper()
    with opened() as production:
        return str(production.settings.books.get("currency", "USD"))


@crew_app.command("add")
def crew_add(
    name: str,
    department: Annotated[str, typer.Option(help="animation, story, direction, voice cast...")],
    role: Annotated[str, typer.Option(help="job title")],
    union: Annotated[str, typer.Option(help="SAG-AFTRA, WGA, DGA, TAG, IATSE Local 839, Teamsters 399, none")] = "",
    resident_of: Annotated[str, typer.Option("--resident-of", help="a place: US-CA/la-zone, CA-ON/hamilton")] = "",
    rate: Annotated[str, typer.Option(help="42.50/h or 480/day")] = "",
    day: Annotated[str, typer.Option("--day", help="a day rate: 480")] = "",
    effective: Annotated[str, typer.Option(help="the rate's effective date, YYYY-MM-DD")] = "",
    currency: Annotated[str | None, typer.Option(help="the rate's currency; default [books] currency")] = None,
    atl: Annotated[bool, typer.Option("--atl", help="above the line")] = False,
    trainee: Annotated[bool, typer.Option("--trainee")] = False,
) -> None:
    """Put a person on the books."""
    union_name, union_local = csvio.parse_union(union)
    residence = csvio.parse_place(resident_of, what=f"crew member {name}: --resident-of") if resident_of else None
    when = _day(effective, "--effective") if effective else None
    pay = parse_member_rate(name, rate=rate, day=day, effective=when, currency=_currency(currency))
    member = CrewMember(
        name=" ".join(name.split()),
        department=department,
        role=role,
        union=union_name,
        union_local=union_local,
        residence=residence,
        atl=atl,
        trainee=trainee,
        rates=(pay,) if pay else (),
    )
    with opened() as production:
        production.add_crew(member)
    where = f", resident of {residence}" if residence else ""
    out.print(f"crew {member.name}: {member.role} ({member.department}), {member.union_label}{where}")


@crew_app.command("rate")
def crew_rate(
    name: str,
    effective: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    rate: Annotated[str, typer.Option(help="42.50/h or 480/day")] = "",
    day: Annotated[str, typer.Option("--day", help="a day rate: 480")] = "",
    currency: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Give a crew member a new rate from its effective date."""
    pay = parse_member_rate(
        name, rate=rate, day=day, effective=_day(effective, "--effective"), currency=_currency(currency)
    )
    if pay is None:
        raise BooksError(f"crew rate {name}: give --rate or --day")
    with opened() as production:
        production.add_rate(name, pay)
    out.print(f"crew {name}: {pay.currency} {pay.amount}/{pay.unit.value} from {pay.effective}")


@crew_app.command("import")
def crew_import(file: Path, date_format: DateFormat = None, ignore: Ignore = None) -> None:
    """Put a crew list's people on the books (one row per person and rate)."""
    with opened() as production:
        count = production.import_crew(file, date_format=date_format, ignore=ignore or [])
    out.print(f"{count} crew members from {file}")


@crew_app.command("list")
def crew_list() -> None:
    """List the crew; rates are shown to whoever runs the command (it reads the production's files)."""
    with opened() as production:
        members = production.crew()
    table = Table("name", "department", "role", "union", "resident of", "line", "rates")
    for m in members:
        rates = ", ".join(f"{r.currency} {r.amount}/{r.unit.value} from {r.effective}" for r in m.rates)
        table.add_row(
            m.name, m.department, m.role, m.union_label, str(m.residence or ""), "ATL" if m.atl else "BTL", rates
        )
    out.print(table)


@hours_app.command("add")
def hours_add(
    person: str,
    on: Annotated[str, typer.Option("--date", help="YYYY-MM-DD")],
    hours: Annotated[str, typer.Option(help="hours worked that day: 7.5")],
    role: Annotated[str, typer.Option(help="default: the crew member's")] = "",
    department: Annotated[str, typer.Option()] = "",
    location: Annotated[str, typer.Option(help="where the work was done: CA-ON/hamilton")] = "",
    scene: Annotated[str, typer.Option()] = "",
    shot: Annotated[str, typer.Option()] = "",
    task: Annotated[str, typer.Option(help="what it was for")] = "",
    ai_assisted: Annotated[
        bool, typer.Option("--ai-assisted", help="generative AI work (prompting, generating takes)")
    ] = False,
) -> None:
    """Book one time entry (confirmed)."""
    entry = TimeEntry(
        person=" ".join(person.split()),
        day=_day(on, "--date"),
        hours=parse_amount(hours, "--hours"),
        role=role,
        department=department,
        location=csvio.parse_place(location, what="--location") if location else None,
        scene=scene,
        shot=shot,
        task=task,
        ai_assisted=ai_assisted,
    )
    with opened() as production:
        production.add_hours(entry)
    out.print(f"{entry.person}: {entry.hours} h on {entry.day}")


@hours_app.command("import")
def hours_import(file: Path, date_format: DateFormat = None, ignore: Ignore = None) -> None:
    """Book a timesheet export; nothing is booked if any row is refused (each is named)."""
    with opened() as production:
        entries = production.import_hours(file, date_format=date_format, ignore=ignore or [])
    total = sum((e.hours for e in entries), Decimal(0))
    out.print(f"{len(entries)} time entries, {total} hours, from {file}")


@hours_app.command("list")
def hours_list(
    drafts: Annotated[bool, typer.Option("--drafts", help="only drafts (not yet counted)")] = False,
    person: Annotated[str, typer.Option()] = "",
) -> None:
    """List the time entries on the books."""
    with opened() as production:
        found = production.hours(drafts_only=drafts, person=person)
    table = Table("id", "person", "date", "hours", "role", "status", "source", "AI", "task")
    for booked in found:
        e = booked.entry
        status = "confirmed" if e.confirmed else "draft"
        ai = "yes" if e.ai_assisted else ""
        table.add_row(
            str(booked.id), e.person, e.day.isoformat(), str(e.hours), e.role, status, e.source.value, ai, e.task
        )
    out.print(table)
    for name, total in ai_assisted_hours(b.entry for b in found).items():
        out.print(f"{name}: {total} h of AI-assisted work (confirmed)", markup=False)


@hours_app.command("suggest")
def hours_suggest() -> None:
    """Draft time entries per person and day from the work done in Soundstage; they count for
    nothing until confirmed (hours confirm)."""
    with opened() as production:
        report = production.suggest_hours()
    for draft in report.drafts:
        out.print(f"draft {draft.person} {draft.day}: {draft.hours} h ({draft.task})", markup=False)
    out.print(
        f"{len(report.drafts)} drafts ({report.replaced} earlier drafts replaced, {report.kept} days confirmed already)"
    )


@hours_app.command("confirm")
def hours_confirm(
    ids: Annotated[
        list[int] | None, typer.Option("--id", min=1, max=MAX_ID, help="a draft's id (hours list --drafts)")
    ] = None,
    person: Annotated[str, typer.Option()] = "",
    first: Annotated[str, typer.Option("--from", help="YYYY-MM-DD")] = "",
    last: Annotated[str, typer.Option("--to", help="YYYY-MM-DD")] = "",
) -> None:
    """Confirm drafts so that they count."""
    with opened() as production:
        confirmed = production.confirm_hours(
            ids=ids or [],
            person=person,
            first=_day(first, "--from") if first else None,
            last=_day(last, "--to") if last else None,
        )
    total = sum((e.hours for e in confirmed), Decimal(0))
    out.print(f"{len(confirmed)} drafts confirmed, {total} hours")


@hours_app.command("check")
def hours_check(tolerance: Annotated[str, typer.Option(help="hours a day may differ by")] = "1") -> None:
    """Where timesheets and the activity in Soundstage disagree, person by day."""
    with opened() as production:
        checks = production.hours_disagreements(tolerance=parse_amount(tolerance, "--tolerance"))
        if not checks and not has_activity(production.context):
            out.print("no activity recorded in Soundstage (takes requested, review decisions, notes): nothing to check")
            return
    table = Table("person", "date", "timesheet h", "activity h", "disagreement")
    for c in checks:
        table.add_row(c.person, c.day.isoformat(), str(c.timesheet_hours), str(c.activity_hours), c.disagreement.value)
    out.print(table)
    out.print(f"{len(checks)} days disagree")


@spend_app.command("add")
def spend_add(
    vendor: str,
    account: Annotated[str, typer.Option(help="an account of the chart of accounts")],
    amount: Annotated[str, typer.Option(help="1,250.00; negative for a credit")],
    on: Annotated[str, typer.Option("--date", help="YYYY-MM-DD")],
    currency: Annotated[str | None, typer.Option(help="ISO 4217; default [books] currency")] = None,
    location: Annotated[str, typer.Option(help="where the work or purchase happened")] = "",
    local: Annotated[bool, typer.Option("--local", help="the vendor is local")] = False,
    atl: Annotated[bool | None, typer.Option("--atl/--btl", help="default: the account's")] = None,
    kind: Annotated[str, typer.Option(help="stage-rental, compute-rental... default: the account's")] = "",
    department: Annotated[str, typer.Option()] = "",
    description: Annotated[str, typer.Option()] = "",
) -> None:
    """Book one spend line (rentals of stages, equipment and compute are spend lines too)."""
    try:
        spend_kind = SpendKind(kind) if kind else None
    except ValueError:
        kinds = ", ".join(k.value for k in SpendKind)
        raise BooksError(f"spend add {vendor}: unknown kind {kind!r}; one of {kinds}") from None
    line = SpendLine(
        vendor=vendor,
        account=account,
        amount=parse_amount(amount, "--amount"),
        currency=_currency(currency),
        day=_day(on, "--date"),
        location=csvio.parse_place(location, what="--location") if location else None,
        vendor_local=local,
        atl=atl,
        kind=spend_kind,
        department=department,
        description=description,
    )
    with opened() as production:
        production.add_spend(line)
    out.print(f"{line.vendor}: {line.currency} {line.amount} on account {line.account}")


@spend_app.command("import")
def spend_import(file: Path, date_format: DateFormat = None, ignore: Ignore = None) -> None:
    """Book a ledger export; nothing is booked if any row is refused (each is named)."""
    with opened() as production:
        lines = production.import_spend(file, date_format=date_format, ignore=ignore or [])
    out.print(f"{len(lines)} spend lines from {file}")


@app.command("incentives")
def incentives(
    program: Annotated[list[str] | None, typer.Option("--program", help="a program id: ca-4.0, cptc...")] = None,
    output: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
    as_of: Annotated[str, typer.Option("--as-of", help="the rules in effect on YYYY-MM-DD; default today")] = "",
    what_if: Annotated[list[Path] | None, typer.Option("--what-if", help="a design TOML to compare")] = None,
) -> None:
    """Estimate every incentive program the production may claim, from its books."""
    if output not in {"table", "csv", "json"}:
        raise BooksError(f"--format: {output!r} is not table, csv or json")
    with opened() as production:
        found = production.incentives(
            programs=program or [], as_of=_day(as_of, "--as-of") if as_of else None, what_if=what_if or []
        )
    if output == "json":
        document = estimate_json(found.estimate)
        document["skipped"] = [{"program": p, "reason": why} for p, why in found.skipped]
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    if output == "csv":
        write_lines_csv(found.estimate, sys.stdout)
        return
    table = Table("program", "eligible", "qualified", "rate", "credit", "net")
    for p in found.estimate.programs:
        table.add_row(
            p.id,
            "yes" if p.eligible else "no",
            f"{p.currency} {p.qualified:,.2f}",
            f"{p.rate:.2%}",
            f"{p.currency} {p.credit:,.2f}",
            f"{p.currency} {p.net:,.2f}",
        )
    out.print(table)
    for stack in found.estimate.stacks:
        out.print(f"stack {stack.label}: {stack.currency} {stack.net:,.2f} net", markup=False)
    for p in found.estimate.programs:
        for reason in p.reasons:
            out.print(f"{p.id} not eligible: {reason}", markup=False)
    for program_id, why in found.skipped:
        out.print(f"left out {program_id}: {why}", markup=False)
    if found.whatifs:
        compared = Table("incentive", "kind", f"net {found.currency}", "per crew hour", "per FTE job", "per budget")
        for c in found.comparisons:
            compared.add_row(
                c.name,
                c.kind,
                f"{c.net:,.2f}",
                f"{c.per_crew_hour:,.2f}",
                f"{c.per_fte_job:,.2f}",
                f"{c.per_budget:.4f}",
            )
        out.print(compared)


@books_app.command("report")
def books_report(
    folder: Annotated[Path, typer.Option("-o", "--output", help="folder to write into")],
    what_if: Annotated[list[Path] | None, typer.Option("--what-if", help="a design TOML to compare")] = None,
    as_of: Annotated[str, typer.Option("--as-of", help="YYYY-MM-DD; default today")] = "",
    no_pay: Annotated[bool, typer.Option("--no-pay", help="leave wages and rates out (for the crew)")] = False,
) -> None:
    """Write the books as HTML and PDF: hours, spend, each program's estimate, the what-ifs."""
    with opened() as production:
        written = production.books_report(
            folder,
            what_if=what_if or [],
            as_of=_day(as_of, "--as-of") if as_of else None,
            include_pay=not no_pay,
        )
    for path in written:
        out.print(str(path))
