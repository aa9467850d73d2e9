"""Scenes pinned by users (``schedule pin|unpin``) on the project's example through the CLI:
stored, kept by solve and by re-plan, shown on the stripboard; mistakes one line, nothing stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from schedules.test_project_replan import revision
from soundstage.project import Production, schedules

from conftest import EXAMPLE


@pytest.fixture
def production(tmp_path: Path, cli) -> Path:
    root = tmp_path / "pilot"
    p = ("--production", root)
    assert cli("init", root, "--title", "Pilot").code == 0
    assert cli(*p, "import", EXAMPLE).code == 0
    stage = ("stage", "add", "Stage A", "--kind", "sound-stage", "--size-sqft", 12000, "--zone", "in")
    assert cli(*p, *stage, "--day-rate", "2500").code == 0
    assert cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10).code == 0
    return root


def _pins(root: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(root / "soundstage.db") as db:
        return db.execute("select scene, day from schedule_pins order by scene").fetchall()


def _one_line_error(result) -> None:
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err


def test_a_pin_is_kept_by_solve_shown_on_the_board_and_refuses_moves(production: Path, cli, tmp_path: Path) -> None:
    p = ("--production", production)
    with Production.open(production) as opened:
        before = opened.schedule()
    # The first day's first scene, pinned to the shoot day after the last one: not where the
    # solver put it.
    scene = before.days[0].scenes[0]
    target = len(before.days) + 1
    pinned = cli(*p, "schedule", "pin", scene, str(target))
    assert pinned.code == 0, pinned.err
    (when,) = [day for s, day in _pins(production) if s == scene]
    assert cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10).code == 0
    with Production.open(production) as opened:
        after = opened.schedule()
    assert after.day_of(scene).date.isoformat() == when
    assert after.day_of(scene).index != before.day_of(scene).index
    assert after.cost.total >= before.cost.total  # before was optimal without the pin
    assert f"pinned: {scene} {when}" in cli(*p, "schedule", "show").out
    # The stripboard marks the pinned strip, and the review room does not offer it to drag.
    assert cli(*p, "schedule", "export", "-o", tmp_path / "out").code == 0
    html = (tmp_path / "out" / "stripboard.html").read_text(encoding="utf-8")
    assert f'data-scene="{scene}" data-day="{after.day_of(scene).index}"' in html
    assert html.count('data-pinned="true"') == 1 and "(pinned)" in html
    with Production.open(production) as opened:
        view = schedules.board_view(opened.context)
    assert view is not None
    assert [s.scene for d in view.days for s in d.strips if s.pinned] == [scene]  # the review room's board
    # A move off the pinned day (to a free day: the pin is the only rule it breaks) is refused.
    moved = cli(*p, "schedule", "move", scene, str(after.days[-1].index + 2))
    _one_line_error(moved)
    assert "pin" in moved.err
    with Production.open(production) as opened:
        assert opened.schedule().day_of(scene).date.isoformat() == when
    # Unpinned, the solver is free again (and the optimum is the optimum).
    assert cli(*p, "schedule", "unpin", scene).code == 0
    assert _pins(production) == []
    assert cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10).code == 0
    with Production.open(production) as opened:
        freed = opened.schedule()
    assert freed.cost.total == before.cost.total


def test_a_pin_wins_over_a_re_plan_keeping_the_scene_on_its_old_day(production: Path, cli, tmp_path: Path) -> None:
    p = ("--production", production)
    with Production.open(production) as opened:
        before = opened.schedule()
    # Scene 1 is unchanged by the revision: a re-plan would keep its day, but it is pinned.
    assert cli(*p, "schedule", "pin", "1", str(before.days[-1].index + 2)).code == 0  # a day after the last
    ((_, when),) = _pins(production)
    assert when != before.day_of("1").date.isoformat()
    assert cli(*p, "import", revision(tmp_path)).code == 0
    replanned = cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10)
    assert replanned.code == 0, replanned.err
    assert "re-planned" in replanned.out
    with Production.open(production) as opened:
        assert opened.schedule().day_of("1").date.isoformat() == when


def test_pin_mistakes_are_one_line_and_store_nothing(production: Path, cli) -> None:
    p = ("--production", production)
    _one_line_error(cli(*p, "schedule", "pin", "99", "2027-01-05"))  # no such scene
    saturday = cli(*p, "schedule", "pin", "1", "2027-01-09")
    _one_line_error(saturday)
    assert "Saturday" in saturday.err
    _one_line_error(cli(*p, "schedule", "pin", "1", "2026-12-01"))  # before the start
    _one_line_error(cli(*p, "schedule", "pin", "1", "soon"))
    _one_line_error(cli(*p, "schedule", "pin", "1", "0"))
    _one_line_error(cli(*p, "schedule", "unpin", "1"))
    assert _pins(production) == []
