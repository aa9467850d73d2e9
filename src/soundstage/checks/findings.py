"""What a check says about a take: a finding with a score, a verdict and a reason.

Scores run from 0 (as intended) to 1 (nothing like it) for every check; for duplicates the
score is the similarity to the nearest other take. The production's limits (``[checks]`` in
soundstage.toml, one warn and one fail limit per check) turn a score into a verdict. A check
that had nothing to compare, or that raised, says "not checked" (``Verdict.NOT_CHECKED``):
it never passes a take it did not look at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol

from soundstage.config import Checks, Limits

CHECKS = ("composition", "character", "style", "continuity", "duplicates")
# The checks of a clip over time (checks/temporal.py), beside the per-frame ones above.
TEMPORAL_CHECKS = ("flicker", "identity", "motion")


class Verdict(StrEnum):
    """How a take fares on one check. ``NOT_CHECKED`` is stored as "skipped": the stored
    verdict column holds eight characters."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    NOT_CHECKED = "skipped"


# The start of the reason of a check that raised: the stored mark that tells it from a check
# that had nothing to compare (see ``could_not_run``, ``needs_override``).
COULD_NOT_RUN = "the check could not run"


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's word on one take: ``subject`` is a character's name, or "" for the frame.
    ``frames`` is the first and last frame (from 0, both included) of a clip take that the
    finding is about; None for a still."""

    check: str
    subject: str
    score: float
    verdict: Verdict
    reason: str
    frames: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain values (the verdict as its string, frames as a list), as stored; a still's
        finding has no "frames" key, as before clips were checked in time."""
        values = asdict(self) | {"verdict": str(self.verdict)}
        if self.frames is None:
            del values["frames"]
        else:
            values["frames"] = list(self.frames)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Finding:
        """A finding back from ``to_dict``'s values (or a stored row's)."""
        return cls(
            check=str(values["check"]),
            subject=str(values.get("subject", "")),
            score=float(values["score"]),
            verdict=Verdict(values["verdict"]),
            reason=str(values["reason"]),
            frames=frame_range(values.get("frames")),
        )


def frame_range(values: Any) -> tuple[int, int] | None:
    """A stored frame range (a pair of numbers, or None) as a tuple."""
    if values is None:
        return None
    first, last = values
    return int(first), int(last)


def frames_label(frames: tuple[int, int] | None) -> str:
    """A frame range as the check table and the board show it: "40-72", "12", or "" for None
    (a still)."""
    if frames is None:
        return ""
    first, last = frames
    return str(first) if first == last else f"{first}-{last}"


def limits_of(settings: Checks, check: str) -> Limits:
    """The warn and fail limits of one check."""
    if check not in CHECKS + TEMPORAL_CHECKS:
        raise ValueError(f"no check named {check!r}")
    return getattr(settings, check)


def verdict(score: float, limits: Limits) -> Verdict:
    """fail at or above the fail limit, warn at or above the warn limit, else pass."""
    if score >= limits.fail:
        return Verdict.FAIL
    if score >= limits.warn:
        return Verdict.WARN
    return Verdict.PASS


def finding(
    settings: Checks, check: str, subject: str, score: float, reason: str, frames: tuple[int, int] | None = None
) -> Finding:
    """A finding whose verdict comes from the production's limits for ``check``; ``score`` is
    clipped to 0..1 and rounded to 4 places (it is stored and shown, not computed with)."""
    score = round(min(1.0, max(0.0, float(score))), 4)
    return Finding(check, subject, score, verdict(score, limits_of(settings, check)), reason, frames)


def not_checked(check: str, subject: str, reason: str, frames: tuple[int, int] | None = None) -> Finding:
    """A check that could not look (no reference sheet, no neighbours...), saying why."""
    return Finding(check, subject, 0.0, Verdict.NOT_CHECKED, reason, frames)


def could_not_run(check: str, error: BaseException) -> Finding:
    """The finding of a check that raised ``error``: not checked, the error named."""
    message = " ".join(str(error).split()) or "no message"
    return not_checked(check, "", f"{COULD_NOT_RUN} ({type(error).__name__}: {message}); not checked")


class Judged(Protocol):
    """What a take's verdict reads of a finding: a ``Finding``, or a stored finding's row
    (its verdict then the stored word, which equals the ``Verdict``)."""

    @property
    def verdict(self) -> str: ...

    @property
    def reason(self) -> str: ...


def crashed(found: Judged) -> bool:
    """Whether ``found`` is the finding of a check that raised (``could_not_run``)."""
    return found.verdict == Verdict.NOT_CHECKED and found.reason.startswith(COULD_NOT_RUN)


def take_verdict(findings: Iterable[Judged]) -> Verdict:
    """One word for a take: not checked when its checks never ran (no findings) or one of
    them raised; else its worst verdict (fail, warn, pass). A check that had nothing to
    compare (no reference sheet, no style references) is shown on its own, not here: in a
    production without a bible every take would be "not checked" and the word would say
    nothing. Compared by value (``==``), so stored rows are read as they come: the board
    builds no ``Finding`` for each of a thousand current takes."""
    findings = list(findings)
    if not findings or any(crashed(f) for f in findings):
        return Verdict.NOT_CHECKED
    for worst in (Verdict.FAIL, Verdict.WARN):
        if any(f.verdict == worst for f in findings):
            return worst
    return Verdict.PASS


def needs_override(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that make approving a take need an override reason: its failures and its
    checks that raised. (A take with no findings at all needs one too; see ``take_verdict``.)"""
    return [f for f in findings if f.verdict is Verdict.FAIL or crashed(f)]
