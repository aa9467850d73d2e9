"""Intent checks on a production: every new take is checked, findings survive a restart,
limits in settings change verdicts, and a take that fails needs a reason to be approved."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from soundstage.errors import ReviewError
from soundstage.generate.backend import Recipe
from soundstage.generate.metadata import embed_recipe
from soundstage.project import Production
from soundstage.render.previs import read_png, to_png
from soundstage.review.workflow import Action
from soundstage.store.db import session_scope
from soundstage.store.tables import ShotRow, TakeRow


@pytest.fixture
def checked(copy_production: Production) -> Production:
    copy_production.queue_missing_takes(requested_by="Ari")
    copy_production.work(1)
    copy_production.add_user("Sol", "supervisor")
    return copy_production


def _add_take(production: Production, code: str, image: np.ndarray) -> str:
    """A take of ``code`` with ``image`` as its output (what a backend that drifted would make)."""
    with session_scope(production.engine) as session:
        shot = session.scalars(select(ShotRow).where(ShotRow.code == code)).one()
        number = 1 + max(session.scalars(select(TakeRow.number).where(TakeRow.shot_id == shot.id)), default=0)
        recipe = Recipe(shot=code, backend="previs", seed=number)
        sha = production.media.put_bytes(embed_recipe(to_png(image), recipe), ".png")
        session.add(TakeRow(shot_id=shot.id, number=number, backend="previs", recipe=recipe.model_dump(mode="json"),
                            recipe_sha256=recipe.sha256(), output_sha256=sha))  # fmt: skip
    return f"{code}/{number}"


def _storyboard(production: Production, code: str) -> np.ndarray:
    return read_png(production.storyboard(code))


def _wide_with_figures(production: Production) -> str:
    """A shot of scene 3 whose blocking has characters big enough to check."""
    return next(s.code for s in production.shots(scene="3") if s.subjects and s.size.value in ("MS", "2S", "MCU", "CU"))


def test_new_takes_are_checked_and_findings_survive_a_restart(checked: Production) -> None:
    code = checked.shots(scene="3")[0].code
    findings = checked.findings(f"{code}/1")
    assert {f.check for f in findings} >= {"composition", "style", "continuity", "duplicates"}
    checked.close()
    with Production.open(checked.root) as again:
        assert again.findings(f"{code}/1") == findings


def test_a_mirrored_take_fails_composition_and_needs_a_reason(checked: Production, cli) -> None:
    code = _wide_with_figures(checked)
    clean = _add_take(checked, code, _storyboard(checked, code))
    drifted = _add_take(checked, code, _storyboard(checked, code)[:, ::-1].copy())
    report = checked.check([code])
    assert all(f.verdict.value != "fail" for f in report.findings[clean] if f.check == "composition")
    assert any(f.check == "composition" and f.verdict.value == "fail" for f in report.findings[drifted])
    with pytest.raises(ReviewError, match="override reason"):
        checked.decide(drifted, Action.APPROVE, by="Sol")
    result = cli("-p", checked.root, "review", "approve", drifted, "--as", "Sol")
    assert result.code == 2 and "override" in result.err
    assert cli("-p", checked.root, "review", "approve", drifted, "--as", "Sol", "--override", "a mirror gag").code == 0
    assert cli("-p", checked.root, "check", code).code == 1  # the drifted take still fails


def test_limits_in_settings_change_verdicts(checked: Production, monkeypatch: pytest.MonkeyPatch) -> None:
    code = _wide_with_figures(checked)
    drifted = _add_take(checked, code, _storyboard(checked, code)[:, ::-1].copy())
    before = next(f for f in checked.check([code]).findings[drifted] if f.check == "composition")
    assert before.verdict.value == "fail"
    monkeypatch.setenv("SOUNDSTAGE_CHECKS__COMPOSITION__WARN", "0.99")
    monkeypatch.setenv("SOUNDSTAGE_CHECKS__COMPOSITION__FAIL", "1.0")
    with Production.open(checked.root) as relaxed:
        after = next(f for f in relaxed.check([code]).findings[drifted] if f.check == "composition")
        assert after.score == pytest.approx(before.score) and after.verdict.value == "pass"
        assert next(f for f in relaxed.findings(drifted) if f.check == "composition").verdict.value == "pass"


def test_takes_are_made_when_the_checks_cannot_run(copy_production: Production, monkeypatch) -> None:
    monkeypatch.setenv("SOUNDSTAGE_CHECKS__EMBEDDER", "clip")  # no weights folder: the checks cannot run
    queued = copy_production.queue_missing_takes()
    report = copy_production.work(1)
    assert (report.takes, report.failed) == (queued, 0)
    code = copy_production.shots(scene="3")[0].code
    assert copy_production.findings(f"{code}/1") == []
    monkeypatch.delenv("SOUNDSTAGE_CHECKS__EMBEDDER")
    with Production.open(copy_production.root) as fixed:
        assert fixed.check([code]).findings[f"{code}/1"]


def test_a_take_whose_check_raises_is_not_checked_by_soundstage_check(
    checked: Production, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from soundstage.checks import drift

    def broken(take, intent, limits):
        raise RuntimeError("the lens table is missing")

    code = checked.shots(scene="3")[0].code
    monkeypatch.setitem(drift.BUILT_IN_CHECKS, "style", broken)

    result = cli("-p", checked.root, "check", code)

    # Not checked is not a pass: the same exit code as a failing take, and said as such.
    assert result.code == 1, result.out + result.err
    assert "1 take(s) checked, 0 failed, 1 not checked (a check could not run)" in result.out
    style = next(f for f in checked.findings(f"{code}/1") if f.check == "style")
    assert (style.verdict.value, style.reason) == (
        "skipped",
        "the check could not run (RuntimeError: the lens table is missing); not checked",
    )
    with pytest.raises(ReviewError, match="override reason"):
        checked.decide(f"{code}/1", Action.APPROVE, by="Sol")
