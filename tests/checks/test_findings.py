"""Findings as stored and read back, and the limits that turn a score into a verdict."""

from __future__ import annotations

import json

import pytest

from soundstage.checks import Finding, Verdict
from soundstage.checks.findings import (
    could_not_run,
    crashed,
    finding,
    needs_override,
    not_checked,
    take_verdict,
    verdict,
)
from soundstage.config import Checks, Limits


def test_a_finding_survives_its_stored_form() -> None:
    found = Finding("character", "MAISIE", 0.4123, Verdict.FAIL, "MAISIE differs from the reference sheet")

    stored = json.loads(json.dumps(found.to_dict()))

    assert stored == {
        "check": "character",
        "subject": "MAISIE",
        "score": 0.4123,
        "verdict": "fail",
        "reason": "MAISIE differs from the reference sheet",
    }
    assert Finding.from_dict(stored) == found


@pytest.mark.parametrize(
    ("score", "expected"), [(0.0, "pass"), (0.29, "pass"), (0.3, "warn"), (0.49, "warn"), (0.5, "fail")]
)
def test_the_warn_and_fail_limits_are_inclusive(score: float, expected: str) -> None:
    assert verdict(score, Limits(warn=0.3, fail=0.5)) == Verdict(expected)


def test_a_finding_takes_its_verdict_from_the_checks_limits_and_keeps_scores_in_range() -> None:
    settings = Checks.model_validate({"style": {"warn": 0.1, "fail": 0.2}})

    assert finding(settings, "style", "", 0.15, "r").verdict == Verdict.WARN
    assert finding(Checks(), "style", "", 0.15, "r").verdict == Verdict.PASS
    assert finding(settings, "style", "", 1.7, "r").score == 1.0
    assert finding(settings, "style", "", -0.2, "r").score == 0.0
    with pytest.raises(ValueError, match="no check named 'lighting'"):
        finding(settings, "lighting", "", 0.1, "r")


def test_what_a_check_cannot_look_at_is_not_checked_never_a_pass() -> None:
    found = not_checked("character", "JUNO", "no reference sheet for JUNO; not checked")

    assert found == Finding("character", "JUNO", 0.0, Verdict.NOT_CHECKED, "no reference sheet for JUNO; not checked")
    assert found.verdict != Verdict.PASS
    # Stored in the findings table's eight-character verdict column, and read back.
    stored = found.to_dict()
    assert stored["verdict"] == "skipped" and len(stored["verdict"]) <= 8
    assert Finding.from_dict(json.loads(json.dumps(stored))) == found


def test_a_check_that_raised_says_what_went_wrong() -> None:
    found = could_not_run("style", ValueError("embedder returned\n2 rows for 3 images"))

    assert found.verdict == Verdict.NOT_CHECKED
    assert found.reason == "the check could not run (ValueError: embedder returned 2 rows for 3 images); not checked"
    assert crashed(found)
    assert not crashed(not_checked("style", "", "no style references in the bible; not checked"))


def _take(*verdicts: Verdict, raised: bool = False) -> list[Finding]:
    found = [Finding("composition", "", 0.1, v, "r") for v in verdicts]
    return found + ([could_not_run("style", RuntimeError("out of memory"))] if raised else [])


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([], Verdict.NOT_CHECKED),  # its checks never ran
        (_take(Verdict.PASS, raised=True), Verdict.NOT_CHECKED),  # one of them crashed
        (_take(Verdict.FAIL, raised=True), Verdict.NOT_CHECKED),
        (_take(Verdict.PASS, Verdict.WARN, Verdict.FAIL), Verdict.FAIL),
        (_take(Verdict.PASS, Verdict.WARN), Verdict.WARN),
        (_take(Verdict.PASS), Verdict.PASS),
        # Nothing to compare (no sheet): shown on its finding, not as the take's word.
        (_take(Verdict.PASS) + [not_checked("character", "JUNO", "no reference sheet")], Verdict.PASS),
    ],
)
def test_the_take_verdict(findings: list[Finding], expected: Verdict) -> None:
    assert take_verdict(findings) == expected


def test_failures_and_crashed_checks_need_an_override_and_nothing_else_does() -> None:
    findings = [
        Finding("composition", "", 0.5, Verdict.FAIL, "mirrored"),
        Finding("style", "", 0.18, Verdict.WARN, "palette"),
        not_checked("character", "JUNO", "no reference sheet for JUNO; not checked"),
        could_not_run("duplicates", MemoryError()),
    ]

    assert needs_override(findings) == [findings[0], findings[3]]
    assert findings[3].reason == "the check could not run (MemoryError: no message); not checked"
