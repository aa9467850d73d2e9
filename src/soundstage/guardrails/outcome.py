"""What a check finds: the violations (each with the events its rule gates), the producers'
overrides that let one stand, what each shot relies on (for its credentials and the
disclosure report), and the refusal an open violation makes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from soundstage.errors import GuardrailError, GuardrailRefusal
from soundstage.guardrails.model import Consent
from soundstage.guardrails.rules import Gate

PRODUCER = "producer"


@dataclass(frozen=True)
class Override:
    """A producer's written decision to let one violation stand: which rule, subject and
    performer, the violation's reason as it was shown (an override covers that violation
    only: if the cause changes, say a consent is revoked afterwards, the new violation needs
    a new decision), who decided, in which role, why, and when."""

    rule_id: str
    subject: str
    violation: str
    by: str
    reason: str
    at: datetime
    role: str = PRODUCER
    performer: str = ""

    def __post_init__(self) -> None:
        what = f"override of {self.rule_id} on {self.subject}"
        if self.role != PRODUCER:
            raise GuardrailError(f"{what}: only a producer may override a guardrail ({self.by} is {self.role})")
        if not self.violation.strip():
            raise GuardrailError(f"{what}: name the violation it overrides, as the check shows it")
        if not self.by.strip():
            raise GuardrailError(f"{what}: name the producer who decides")
        if not self.reason.strip():
            raise GuardrailError(f"{what}: a written reason is required")
        if self.at.tzinfo is None:
            raise GuardrailError(f"{what}: the time must carry a timezone")

    def covers(self, violation: Violation) -> bool:
        """Whether this override is for ``violation``."""
        return (self.rule_id, self.subject, self.performer, self.violation) == (
            violation.rule_id,
            violation.subject,
            violation.performer,
            violation.reason,
        )

    def as_credential(self) -> dict[str, str]:
        """The override as a take's credentials and the disclosure report carry it: the rule,
        who decided and why; never the performer or the violation text (personal details)."""
        return {
            "rule": self.rule_id,
            "by": self.by,
            "role": self.role,
            "at": self.at.isoformat(),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Violation:
    """A rule an event would break: the rule id, the subject (a shot code, a department, a
    draft, a release), the performer concerned where there is one, the take, the one-line
    reason, the producer's override if one covers it, and the events the rule gates (in the
    order of ``Gate``)."""

    rule_id: str
    subject: str
    reason: str
    performer: str = ""
    take: str = ""
    override: Override | None = None
    gates: tuple[Gate, ...] = ()

    @property
    def open(self) -> bool:
        """Whether nobody has overridden it."""
        return self.override is None

    def __str__(self) -> str:
        text = f"{self.rule_id} {self.subject}: {self.reason}"
        if self.override is not None:
            text += f' (overridden by {self.override.by}: "{self.override.reason}")'
        return text

    def line(self) -> str:
        """The violation as ``soundstage guardrails check`` lists it: the rule id, the events it
        gates, the subject and the reason, e.g. "SAG-DR-3 [approve] 1A: Replica use of ..."."""
        text = f"{self.rule_id} [{', '.join(self.gates)}] {self.subject}: {self.reason}"
        if self.override is not None:
            text += f' (overridden by {self.override.by}: "{self.override.reason}")'
        return text

    def overridden_by(self, by: str, *, reason: str, at: datetime, role: str = PRODUCER) -> Override:
        """The override of this violation that ``by`` writes (GuardrailError unless a
        producer with a written reason)."""
        return Override(self.rule_id, self.subject, self.reason, by, reason, at, role, self.performer)


@dataclass(frozen=True)
class ShotCompliance:
    """What a shot's credentials and the disclosure report say about the AI terms: the
    consents it relies on, by document sha256 only; the rules checked (ids, with the packs
    they come from); and the overrides of its violations."""

    shot: str
    consents: tuple[str, ...]
    rules: tuple[str, ...]
    packs: tuple[str, ...]
    overrides: tuple[Override, ...]
    open: tuple[str, ...]  # rule ids with violations nobody overrode

    def assertion(self) -> dict[str, Any]:
        """The shot's guardrail record as JSON for an assertion (org.soundstage.guardrails)."""
        return {
            "consents": [{"document_sha256": sha} for sha in self.consents],
            "rules_checked": list(self.rules),
            "packs": list(self.packs),
            "overrides": [o.as_credential() for o in self.overrides],
            "open_violations": list(self.open),
        }


@dataclass(frozen=True)
class Outcome:
    """Everything one check found: the violations (overridden ones carry their override),
    the consents each shot relies on, and the rules that were checked."""

    event: Gate | None
    as_of: datetime
    violations: tuple[Violation, ...]
    relied: dict[str, tuple[Consent, ...]]
    checked: tuple[str, ...]
    packs: tuple[str, ...]

    @property
    def open(self) -> tuple[Violation, ...]:
        """The violations nobody overrode."""
        return tuple(v for v in self.violations if v.open)

    @property
    def overridden(self) -> tuple[Violation, ...]:
        """The violations a producer overrode."""
        return tuple(v for v in self.violations if not v.open)

    def shot(self, shot: str) -> ShotCompliance:
        """The guardrail record of ``shot``."""
        mine = [v for v in self.violations if v.subject == shot]
        return ShotCompliance(
            shot=shot,
            consents=tuple(dict.fromkeys(c.document_sha256 for c in self.relied.get(shot, ()))),
            rules=self.checked,
            packs=self.packs,
            overrides=tuple(v.override for v in mine if v.override is not None),
            open=tuple(dict.fromkeys(v.rule_id for v in mine if v.open)),
        )

    def refuse(self, what: str) -> None:
        """Raise GuardrailRefusal if any violation is open: "cannot WHAT: RULE SUBJECT:
        reason (and N more)"."""
        refusal(what, self.open)


def refusal(what: str, violations: Sequence[Violation]) -> None:
    """Raise GuardrailRefusal naming the first open violation, if there is one."""
    open_ = [v for v in violations if v.open]
    if open_:
        more = f" (and {len(open_) - 1} more: soundstage guardrails check)" if len(open_) > 1 else ""
        raise GuardrailRefusal(f"cannot {what}: {open_[0]}{more}", tuple(open_))


def shot_compliance(outcome: Outcome, shots: Sequence[str]) -> dict[str, ShotCompliance]:
    """The guardrail record of each of ``shots`` (for the cut's credentials and the
    disclosure report)."""
    return {shot: outcome.shot(shot) for shot in shots}
