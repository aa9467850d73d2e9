"""Defaults from a screenplay's breakdown, the calendar, and the money and date checks."""

from __future__ import annotations

import ast
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from soundstage.errors import ScheduleError
from soundstage.schedules.model import (
    STUDIO,
    Calendar,
    DateRange,
    ScheduleSettings,
    StageKind,
    cast_from_scenes,
    money,
    scene_work_from_script,
)
from soundstage.script.breakdown import break_down
from soundstage.script.formats import read_script

from conftest import EXAMPLE, REPO, SCREENPLAYS


def test_scene_work_comes_from_the_breakdown() -> None:
    script, _ = read_script(EXAMPLE, 10**7)
    sheets = break_down(script)
    work = scene_work_from_script(script)
    assert [w.number for w in work] == [s.number or str(s.index + 1) for s in sheets]
    for w, sheet in zip(work, sheets):
        assert w.cast == sheet.speaking and w.eighths == sheet.eighths and w.heading == sheet.heading
    first, shop_outside, shop_inside = work[0], work[1], work[2]
    # EXT. FERNHOLLOW - DAY: on location there; INT. TALLOW LAMP SHOP - CONTINUOUS: on a stage,
    # and CONTINUOUS carries on the day of the scene before.
    assert (first.int_ext, first.day_night, first.stage_kind, first.location) == ("EXT", "DAY", None, "FERNHOLLOW")
    assert shop_outside.set == shop_inside.set == "TALLOW LAMP SHOP"
    assert (shop_inside.int_ext, shop_inside.stage_kind, shop_inside.location) == ("INT", StageKind.SOUND_STAGE, STUDIO)
    assert shop_inside.day_night == shop_outside.day_night == "DAY"


def test_an_animation_crew_records_everything_in_the_voice_booth() -> None:
    script, _ = read_script(EXAMPLE, 10**7)
    work = scene_work_from_script(script, interior=StageKind.VOICE_BOOTH, exterior=StageKind.VOICE_BOOTH)
    assert {w.stage_kind for w in work} == {StageKind.VOICE_BOOTH}
    assert {w.location for w in work} == {STUDIO}


def test_a_feature_breaks_down_into_numbered_cast() -> None:
    script, _ = read_script(SCREENPLAYS / "big_fish.fountain", 10**8)
    work = scene_work_from_script(script)
    assert len(work) == 190
    night = sum(w.night for w in work)
    assert 0 < night < 190
    cast = cast_from_scenes(work, Decimal("750"))
    counts = {m.name: sum(m.name in w.cast for w in work) for m in cast}
    assert [m.number for m in cast] == list(range(1, len(cast) + 1))
    assert counts[cast[0].name] == max(counts.values())
    assert all(counts[a.name] >= counts[b.name] for a, b in zip(cast, cast[1:]))


def test_calendar_days() -> None:
    calendar = Calendar(date(2027, 1, 4), days_per_week=5, blackout=frozenset({date(2027, 1, 6)}))
    assert calendar.shoot_days(5) == [date(2027, 1, d) for d in (4, 5, 7, 8, 11)]
    assert not calendar.is_shoot_day(date(2027, 1, 9)) and not calendar.is_shoot_day(date(2027, 1, 3))
    six = Calendar(date(2027, 1, 4), days_per_week=6)
    assert six.shoot_days(7)[-1] == date(2027, 1, 11)
    with pytest.raises(ScheduleError, match="days per week must be 1 to 7"):
        Calendar(date(2027, 1, 4), days_per_week=8)


def test_dates_and_money_are_checked() -> None:
    assert DateRange.parse("2027-01-04..2027-01-29") == DateRange(date(2027, 1, 4), date(2027, 1, 29))
    assert str(DateRange.parse("2027-02-01")) == "2027-02-01..2027-02-01"
    with pytest.raises(ScheduleError, match="not a date range: '4 Jan'"):
        DateRange.parse("4 Jan")
    with pytest.raises(ScheduleError, match="ends before it starts"):
        DateRange.parse("2027-01-29..2027-01-04")
    assert money("1250.5", "day rate") == Decimal("1250.50")
    with pytest.raises(ScheduleError, match="day rate 10.005 has fractions of a cent"):
        money("10.005", "day rate")
    with pytest.raises(ScheduleError, match="must be a non-negative amount"):
        money("-1", "day rate")


@pytest.mark.parametrize("seconds", [float("nan"), -1.0, 0.0, 1e300])
def test_a_time_limit_outside_a_day_is_refused(seconds: float) -> None:
    """CP-SAT took NaN as no limit at all, and -1 ended as "no schedule found in -1 s"."""
    with pytest.raises(ScheduleError, match="time limit must be more than 0 and at most 86400 seconds"):
        ScheduleSettings(time_limit=seconds)


def test_schedules_know_no_database_web_or_cli() -> None:
    package = REPO / "src" / "soundstage" / "schedules"
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(
                    ("soundstage.project", "soundstage.web", "soundstage.cli", "soundstage.store")
                ), f"{Path(path).name} imports {name}"
