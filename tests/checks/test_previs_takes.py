"""A previs take is the blocking itself: rendered from the shot's own layout it is what was
intended, so it passes every check at any size the previs is rendered at, wide and
establishing shots included (issue 11: 19 of the demo's 140 takes, most of them wides at
1280x720, failed composition against their own line art)."""

from __future__ import annotations

import shutil

import pytest

from soundstage.checks import CHECKS, Verdict, check_take
from soundstage.checks.findings import TEMPORAL_CHECKS
from soundstage.config import Checks
from soundstage.project import Production

from .helpers import IntentOf, ShotPasses, wides

SIZES = {"320x180": ("example_shots", "intent_of"), "1280x720": ("example_shots_720", "intent_of_720")}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scene", ["003", "004"])
def test_the_previs_takes_of_the_wide_shots_pass_every_check(
    request: pytest.FixtureRequest, size: str, scene: str
) -> None:
    """Every wide and establishing shot of the scene, as the shot list names them."""
    shots_fixture, intent_fixture = SIZES[size]
    shots: dict[str, ShotPasses] = request.getfixturevalue(shots_fixture)
    intent_of: IntentOf = request.getfixturevalue(intent_fixture)
    codes = wides(shots, scene)
    assert codes
    for code in codes:
        _passes_its_own_blocking(shots[code].storyboard, intent_of(code), size)


def _passes_its_own_blocking(take, intent, size: str) -> None:
    assert take.shape[:2] == tuple(int(n) for n in reversed(size.split("x")))

    findings = check_take(take, intent, Checks())

    judged = [f for f in findings if f.verdict is not Verdict.NOT_CHECKED]
    assert {f.check for f in judged} >= {"composition", "style", "continuity", "duplicates"}
    assert [(f.check, f.subject, f.verdict, f.reason) for f in judged if f.verdict is not Verdict.PASS] == []
    # What is not checked is a character the blocking shows too small to judge, nothing else.
    assert all("too small in the blocking" in f.reason for f in findings if f.verdict is Verdict.NOT_CHECKED)


def test_every_previs_take_the_demo_makes_at_1280x720_passes(rendered_example_720, tmp_path) -> None:
    """The demo's path: previs at 1280x720, a previs take of every shot, the checks run by the
    production (soundstage check --all)."""
    root = tmp_path / "pilot"
    shutil.copytree(rendered_example_720, root)
    with Production.open(root) as production:
        production.queue_missing_takes()
        production.work(1)
        report = production.check()
        planned = [shot for scene in ("3", "4") for shot in production.shots(scene)]
    assert len(report.findings) == len(planned)  # every shot of scenes 3 and 4
    flagged = [
        (take, f.check, f.subject, f.reason)
        for take, findings in report.findings.items()
        for f in findings
        if f.verdict in (Verdict.WARN, Verdict.FAIL)
    ]
    assert flagged == []
    assert all({f.check for f in findings} >= {"composition", "duplicates"} for findings in report.findings.values())
    assert set(CHECKS) | set(TEMPORAL_CHECKS) >= {f.check for findings in report.findings.values() for f in findings}
