"""Findings as stored and read back, and the limits that turn a score into a verdict."""

from __future__ import annotations

import json

import pytest

from soundstage.checks import Finding, Verdict
from soundstage.checks.findings import finding, not_checked, verdict
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


def test_what_a_check_cannot_look_at_passes_and_says_so() -> None:
    assert not_checked("character", "JUNO", "no reference sheet for JUNO; not checked") == Finding(
        "character", "JUNO", 0.0, Verdict.PASS, "no reference sheet for JUNO; not checked"
    )
