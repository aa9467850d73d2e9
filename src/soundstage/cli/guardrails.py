"""Commands of the guardrails (docs/guardrails.md): performer add; consent add, revoke, suspend,
reinstate; notice union and scan; pay record; strike start and end; ai assign; disclose; consult;
guardrails check, override and report. Every record is an
audited event naming who made it (``--as``, or $SOUNDSTAGE_USER; empty: the console)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from soundstage.cli.app import app, opened, out
from soundstage.errors import GuardrailError
from soundstage.project import consents, writers
from soundstage.project.books import parse_amount

performer_app = typer.Typer(help="The production's performers, real and synthetic.", no_args_is_help=True)
consent_app = typer.Typer(help="Performers' signed consents: add, revoke, suspend, reinstate.", no_args_is_help=True)
notice_app = typer.Typer(help="Notices the AI terms ask for (to the union).", no_args_is_help=True)
guardrails_app = typer.Typer(help="The AI rules of [policy]: check, override, report.", no_args_is_help=True)
app.add_typer(performer_app, name="performer")
app.add_typer(consent_app, name="consent")
app.add_typer(notice_app, name="notice")
app.add_typer(guardrails_app, name="guardrails")

AsOption = Annotated[
    str,
    typer.Option(
        "--as", envvar="SOUNDSTAGE_USER", help="Who records it (default: $SOUNDSTAGE_USER).", show_default=False
    ),
]


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise GuardrailError(f"{option}: not a date: {value!r}; expected YYYY-MM-DD") from None


@performer_app.command("add")
def performer_add(
    name: str,
    synthetic: Annotated[bool, typer.Option(help="A synthetic performer: looks like and is voiced by no one.")] = False,
    gives: Annotated[str, typer.Option(help="What they lend, comma-separated: voice,likeness,motion.")] = "",
    deceased: Annotated[bool, typer.Option(help="The performer has died (consent is the estate's).")] = False,
    replica: Annotated[
        str,
        typer.Option(help="How their replica was made: employment-replica | independent-replica | background-replica"),
    ] = "employment-replica",
    alias: Annotated[list[str] | None, typer.Option(help="Another name a prompt may use (repeatable).")] = None,
    user: AsOption = "",
) -> None:
    """Record a performer."""
    parts = [g.strip() for g in gives.split(",") if g.strip()]
    with opened() as production:
        performer = production.add_performer(
            name, synthetic=synthetic, gives=parts, deceased=deceased, replica=replica, aliases=alias or [], by=user
        )
    kind = "synthetic performer" if performer.synthetic else "performer"
    out.print(f"{kind} {performer.name}: {', '.join(sorted(performer.gives)) or 'nothing lent yet'}")


@consent_app.command("add")
def consent_add(
    performer: str,
    kind: Annotated[str, typer.Option(help="employment-replica | independent-replica | background-replica | voice")],
    scope: Annotated[str, typer.Option(help="The reasonably specific description of the use.")],
    signed: Annotated[str, typer.Option(help="When it was signed, YYYY-MM-DD.")],
    document: Annotated[Path, typer.Option(help="The separate signed consent document.")],
    project: Annotated[str, typer.Option(help="The project it covers (default: [policy] project, or the title).")] = "",
    expires: Annotated[str, typer.Option(help="Good through this date, YYYY-MM-DD.")] = "",
    estate: Annotated[bool, typer.Option("--estate", help="Signed by a deceased performer's estate.")] = False,
    union: Annotated[bool, typer.Option("--union", help="Signed by the union (no representative found).")] = False,
    real_time: Annotated[bool | None, typer.Option("--real-time/--no-real-time", help="Real-time use allowed.")] = None,
    name_in_prompt: Annotated[bool, typer.Option("--name-in-prompt", help="Prompts may name the performer.")] = False,
    representation: Annotated[str, typer.Option(help="counsel | cba | none")] = "none",
    scene: Annotated[list[str] | None, typer.Option(help="A scene it is limited to (repeatable).")] = None,
    pay_terms: Annotated[str, typer.Option("--pay-terms", help="The pay agreed, in words.")] = "",
    user: AsOption = "",
) -> None:
    """Record a performer's signed consent; the document is stored by its sha256."""
    if estate and union:
        raise GuardrailError("consent add: --estate or --union, not both")
    signer = "estate" if estate else "union" if union else "self"
    with opened() as production:
        consent = production.add_consent(
            performer, kind=kind, scope=scope, signed=_date(signed, "--signed"), document=document, project=project,
            expires=_date(expires, "--expires") if expires else None, signer=signer, real_time=real_time,
            name_in_prompt=name_in_prompt, representation=representation, scenes=scene or [], pay_terms=pay_terms,
            by=user,
        )  # fmt: skip
    out.print(f"consent {consent.id}: {consent.performer}, {consent.kind} for {consent.project}")
    out.print(f"document sha256 {consent.document_sha256}")


def _consent_event(consent_id: str, action: str, reason: str, user: str) -> None:
    with opened() as production:
        consent = production.consent_event(consent_id, action, reason=reason, by=user)
    out.print(f"consent {consent.id} of {consent.performer}: {action}")


@consent_app.command("revoke")
def consent_revoke(consent_id: str, reason: Annotated[str, typer.Option()] = "", user: AsOption = "") -> None:
    """Revoke a consent for good (the next approval and export are refused)."""
    _consent_event(consent_id, "revoke", reason, user)


@consent_app.command("suspend")
def consent_suspend(consent_id: str, reason: Annotated[str, typer.Option()] = "", user: AsOption = "") -> None:
    """Suspend a consent (during a strike, say) until it is reinstated."""
    _consent_event(consent_id, "suspend", reason, user)


@consent_app.command("reinstate")
def consent_reinstate(consent_id: str, reason: Annotated[str, typer.Option()] = "", user: AsOption = "") -> None:
    """End a consent's suspension."""
    _consent_event(consent_id, "reinstate", reason, user)


@notice_app.command("union")
def notice_union(
    performer: str,
    character: Annotated[str, typer.Option(help="The role (default: every role they play).")] = "",
    justification: Annotated[str, typer.Option()] = "",
    user: AsOption = "",
) -> None:
    """Record the notice to the union that a synthetic performer plays a role."""
    with opened() as production:
        notice = production.add_union_notice(performer, character=character, justification=justification, by=user)
    out.print(f"union notice: {notice.performer} as {notice.character or 'every role'}, sent {notice.sent_at:%Y-%m-%d}")


@app.command("consult")
def consult(
    director: str,
    summary: Annotated[str, typer.Option(help="What was discussed.")],
    shot: Annotated[list[str] | None, typer.Option(help="A shot it was about (repeatable; default: all).")] = None,
    user: AsOption = "",
) -> None:
    """Log a consultation with the director on generative AI for creative elements."""
    with opened() as production:
        logged = production.add_consultation(director, summary, shots=shot or [], by=user)
    out.print(f"consultation with {logged.director} logged ({', '.join(logged.shots) or 'every shot'})")


@guardrails_app.command("check")
def guardrails_check(
    shots: Annotated[list[str] | None, typer.Argument(help="Shots (default: all).")] = None,
    to: Annotated[str, typer.Option("--to", help="Also every draft as sent to this writer.")] = "",
) -> None:
    """Every violation of the rules: its rule id, the events it gates (generate, approve, cut,
    export, send-to-writer), the subject and a one-line reason; exit 1 if any is open."""
    with opened() as production:
        outcome = production.guardrails_check(shots or [], to=to)
    for violation in outcome.violations:
        out.print(violation.line(), markup=False, highlight=False, soft_wrap=True)
    out.print(f"{len(outcome.open)} open, {len(outcome.overridden)} overridden; {len(outcome.checked)} rules checked")
    if outcome.open:
        raise typer.Exit(1)


@guardrails_app.command("override")
def guardrails_override(
    rule: str,
    subject: Annotated[
        str, typer.Argument(help="The violation's subject, as check shows it (a shot code, 'draft N').")
    ],
    reason: Annotated[str, typer.Option(help="The producer's written reason.")],
    to: Annotated[str, typer.Option("--to", help="For a draft: the writer it goes to.")] = "",
    user: AsOption = "",
) -> None:
    """Let a rule's open violations on a subject stand (producer only, audited)."""
    with opened() as production:
        made = production.guardrails_override(rule, subject, reason=reason, by=user, to=to)
    for o in made:
        out.print(f"{o.rule_id} {o.subject}: overridden by {o.by}: {o.reason}", markup=False, highlight=False)


@guardrails_app.command("report")
def guardrails_report(out_dir: Annotated[Path, typer.Option("--out", "-o", help="The folder to write into.")]) -> None:
    """Write the compliance report (HTML and PDF)."""
    with opened() as production:
        html, pdf = production.guardrails_report(out_dir)
    out.print(f"wrote {html} and {pdf}")


# -- the records the rules ask for: scan notices, replica pay, strikes, AI work, disclosures --

pay_app = typer.Typer(help="Replica pay recorded for performers.", no_args_is_help=True)
strike_app = typer.Typer(help="Strikes: while one is on, no replica crosses the picket line.", no_args_is_help=True)
ai_app = typer.Typer(help="Generative work assigned to departments.", no_args_is_help=True)
app.add_typer(pay_app, name="pay")
app.add_typer(strike_app, name="strike")
app.add_typer(ai_app, name="ai")


def _amount(value: str, option: str) -> Decimal:
    # The books' rule for a typed amount (no 1e9999, NaN, at most 15 whole digits), with a "$".
    return parse_amount(value.strip().removeprefix("$"), option)


@notice_app.command("scan")
def notice_scan(
    performer: str,
    hours_notice: Annotated[float, typer.Option("--hours-notice", help="Hours from this notice to the scan.")],
    reason: Annotated[str, typer.Option(help="The business reason for the scan.")] = "",
    engaged: Annotated[str, typer.Option(help="When they were engaged, YYYY-MM-DD (default: when recorded).")] = "",
    user: AsOption = "",
) -> None:
    """Record notice, given now, of a performer's scan HOURS later (SAG-DR-2)."""
    engaged_at = datetime.combine(_date(engaged, "--engaged"), time(), UTC) if engaged else None
    with opened() as production:
        notice = consents.add_scan_notice(
            production.context, performer, hours_notice=hours_notice, reason=reason, engaged_at=engaged_at, by=user
        )
    out.print(f"scan notice: {notice.performer}, {notice.hours:g} h before the scan at {notice.scan_at:%Y-%m-%d %H:%M}")


@pay_app.command("record")
def pay_record(
    performer: str,
    days: Annotated[int, typer.Option(help="Days the producer estimates they would have worked.")],
    pro_rata: Annotated[str, typer.Option("--pro-rata", help="Their pro-rata daily rate.")],
    scale: Annotated[str, typer.Option(help="The scale daily rate.")],
    principal: Annotated[bool, typer.Option("--principal", help="A background replica paid as a principal.")] = False,
    user: AsOption = "",
) -> None:
    """Record a performer's replica pay: days times the higher of pro-rata and scale (SAG-DR-4)."""
    with opened() as production:
        pay = consents.add_replica_pay(
            production.context, performer, days=days, pro_rata=_amount(pro_rata, "--pro-rata"), scale=_amount(scale, "--scale"),
            principal=principal, by=user,
        )  # fmt: skip
    out.print(f"replica pay: {pay.performer}, {pay.days} days, {pay.amount}")


@strike_app.command("start")
def strike_start(union: Annotated[str, typer.Argument()] = "SAG-AFTRA", user: AsOption = "") -> None:
    """A strike by UNION starts now (the 2026 pack's SAG-PL-1 then refuses replicas)."""
    with opened() as production:
        on = consents.strike(production.context, union, "start", by=user)
    out.print(f"strike {on.union}: on since {on.start:%Y-%m-%d %H:%M}")


@strike_app.command("end")
def strike_end(union: Annotated[str, typer.Argument()] = "SAG-AFTRA", user: AsOption = "") -> None:
    """The strike by UNION ends now."""
    with opened() as production:
        off = consents.strike(production.context, union, "end", by=user)
    out.print(f"strike {off.union}: ended {off.end:%Y-%m-%d %H:%M}")


@ai_app.command("assign")
def ai_assign(
    department: str,
    notice: Annotated[bool, typer.Option("--notice", help="Notice of the GenAI work was given to the crew.")] = False,
    consultation: Annotated[str, typer.Option(help="The consultation held with the crew, in words.")] = "",
    requested: Annotated[bool, typer.Option("--requested", help="The crew asked for a consultation.")] = False,
    no_displacement: Annotated[
        bool, typer.Option("--no-displacement", help="The prompt work displaces no covered role.")
    ] = False,
    user: AsOption = "",
) -> None:
    """Assign generative work to DEPARTMENT, with the crew's notice and consultation (TAG, IATSE)."""
    with opened() as production:
        made = consents.assign_ai(
            production.context, department, notice_given=notice, consultation=consultation, consultation_requested=requested,
            no_displacement=no_displacement, by=user,
        )  # fmt: skip
    out.print(f"generative work assigned to {made.department} by {made.assigned_by}")


@app.command("disclose")
def disclose(
    draft: Annotated[str, typer.Argument(help="The draft: its number, 'latest', or 8+ digits of its sha256.")],
    writer: Annotated[str, typer.Option(help="The writer told of the AI-generated material.")],
    acknowledged: Annotated[bool, typer.Option("--acknowledged", help="The writer acknowledged it.")] = False,
    note: Annotated[str, typer.Option()] = "",
    user: AsOption = "",
) -> None:
    """Record the disclosure to a writer that a draft holds AI-generated material (WGA-1)."""
    with opened() as production:
        made = writers.disclose(production.context, draft, writer=writer, acknowledged=acknowledged, note=note, by=user)
    state = "acknowledged" if made.acknowledged_at else "not yet acknowledged"
    out.print(f"disclosed to {made.writer}: draft {made.draft_sha256[:12]} ({state})")
