"""What a check says about a take: a finding with a score, a verdict and a reason.

Scores run from 0 (as intended) to 1 (nothing like it) for every check; for duplicates the
score is the similarity to the nearest other take. The production's limits (``[checks]`` in
soundstage.toml, one warn and one fail limit per check) turn a score into a verdict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from soundstage.config import Checks, Limits

CHECKS = ("composition", "character", "style", "continuity", "duplicates")


class Verdict(StrEnum):
    """How a take fares on one check."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's word on one take: ``subject`` is a character's name, or "" for the frame."""

    check: str
    subject: str
    score: float
    verdict: Verdict
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain values (the verdict as its string), as stored."""
        return asdict(self) | {"verdict": str(self.verdict)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Finding:
        """A finding back from ``to_dict``'s values (or a stored row's)."""
        return cls(
            check=str(values["check"]),
            subject=str(values.get("subject", "")),
            score=float(values["score"]),
            verdict=Verdict(values["verdict"]),
            reason=str(values["reason"]),
        )


def limits_of(settings: Checks, check: str) -> Limits:
    """The warn and fail limits of one check."""
    if check not in CHECKS:
        raise ValueError(f"no check named {check!r}")
    return getattr(settings, check)


def verdict(score: float, limits: Limits) -> Verdict:
    """fail at or above the fail limit, warn at or above the warn limit, else pass."""
    if score >= limits.fail:
        return Verdict.FAIL
    if score >= limits.warn:
        return Verdict.WARN
    return Verdict.PASS


def finding(settings: Checks, check: str, subject: str, score: float, reason: str) -> Finding:
    """A finding whose verdict comes from the production's limits for ``check``; ``score`` is
    clipped to 0..1 and rounded to 4 places (it is stored and shown, not computed with)."""
    score = round(min(1.0, max(0.0, float(score))), 4)
    return Finding(check, subject, score, verdict(score, limits_of(settings, check)), reason)


def not_checked(check: str, subject: str, reason: str) -> Finding:
    """A pass that says why the check could not look (no reference sheet, no neighbours...)."""
    return Finding(check, subject, 0.0, Verdict.PASS, reason)
