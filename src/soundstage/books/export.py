"""An estimate as data for other programs: JSON (exact amounts as strings), rows for a table, and
every decided line as CSV for the production accountant (``incentives --format json|table|csv``).
"""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any, TextIO

from soundstage.books.incentives import Estimate, ProgramEstimate


def _amount(value: Decimal) -> str:
    # Exact: a JSON float would round 0.1 + 0.2; the reader parses the string as a decimal.
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def program_json(p: ProgramEstimate) -> dict[str, Any]:
    """One program's estimate: figures as exact decimal strings, tests and rules by id with their
    words and sources."""
    program = p.program
    return {
        "program": program.id,
        "name": program.name,
        "version": program.version,
        "currency": p.currency,
        "credit_kind": program.credit,
        "eligible": p.eligible,
        "findings": [
            {"test": f.test, "label": f.label, "passed": f.passed, "detail": f.detail, "source": f.source}
            for f in p.findings
        ],
        "qualified_labour": _amount(p.qualified_labour),
        "qualified_other": _amount(p.qualified_other),
        "not_qualified": _amount(p.not_qualified),
        "caps": [
            {
                "cap": c.cap,
                "label": c.label,
                "before": _amount(c.before),
                "limit": _amount(c.limit),
                "after": _amount(c.after),
                "source": c.source,
            }
            for c in p.caps
        ],
        "assistance": _amount(p.assistance),
        "base": _amount(p.base),
        "rate": _amount(p.rate),
        "base_credit": _amount(p.base_credit),
        "uplifts": [
            {
                "uplift": u.uplift,
                "label": u.label,
                "on": _amount(u.on),
                "rate": _amount(u.rate),
                "amount": _amount(u.amount),
                "note": u.reason,
                "source": u.source,
            }
            for u in p.uplifts
        ],
        "credit": _amount(p.credit),
        "would_be": _amount(p.would_be),
        "certified_share": _amount(p.certified_share),
        "certified": _amount(p.certified),
        "fee": _amount(p.fee),
        "tax": _amount(p.tax),
        "net": _amount(p.net),
        "jobs_ratio": _amount(p.jobs_ratio) if p.jobs_ratio is not None else None,
        "refund_by_year": [_amount(a) for a in p.refund],
        "breakdown": [
            {
                "rule": b.rule,
                "reason": b.reason,
                "qualified": b.qualified,
                "labour": b.labour,
                "amount": _amount(b.amount),
                "lines": b.lines,
                "source": b.source,
            }
            for b in p.breakdown
        ],
    }


def estimate_json(estimate: Estimate) -> dict[str, Any]:
    """The whole estimate, ready for ``json.dumps``."""
    return {
        "as_of": estimate.as_of.isoformat(),
        "programs": [program_json(p) for p in estimate.programs],
        "stacks": [
            {"programs": list(s.programs), "currency": s.currency, "credit": _amount(s.credit), "net": _amount(s.net)}
            for s in estimate.stacks
        ],
    }


LINE_COLUMNS = (
    "program",
    "what",
    "description",
    "origin",
    "currency",
    "amount",
    "program_currency",
    "counted",
    "qualified",
    "rule",
    "reason",
    "source",
)


def write_lines_csv(estimate: Estimate, file: TextIO) -> int:
    """Every wage and spend line as every program decided it, one row each; returns the rows."""
    out = csv.writer(file)
    out.writerow(LINE_COLUMNS)
    rows = 0
    for p in estimate.programs:
        for line in p.lines():
            d = line.decision
            out.writerow(
                [p.id, line.what, line.description, line.origin, line.currency, _amount(line.amount), p.currency,
                 _amount(line.counted), "yes" if d.qualified else "no", d.rule, d.reason, d.source]
            )  # fmt: skip
            rows += 1
    return rows
