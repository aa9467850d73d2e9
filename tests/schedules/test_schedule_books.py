"""The schedule and the books: cast day rates from the crew's rates, stage rent booked as
spend, on the project's example screenplay through the CLI."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from soundstage.project import Production, books, incentives, schedules
from soundstage.project.schedules import DEFAULT_CAST_DAY_RATE

from conftest import EXAMPLE


@pytest.fixture
def production(tmp_path: Path, cli) -> Path:
    root = tmp_path / "pilot"
    assert cli("init", root, "--title", "Pilot").code == 0
    assert cli("--production", root, "import", EXAMPLE).code == 0
    stage = ("stage", "add", "Stage A", "--kind", "sound-stage", "--size-sqft", 12000, "--zone", "in")
    assert cli("--production", root, *stage, "--day-rate", "2500").code == 0
    return root


def _paid_days(schedule, scenes_of: dict[str, set[str]], name: str) -> int:
    """Shoot days from the cast member's first scene's day to their last, counted here from the
    schedule's own days (not from its cost)."""
    worked = [day.index for day in schedule.days if scenes_of[name] & set(day.scenes)]
    return max(worked) - min(worked) + 1


def test_cast_day_rates_come_from_the_books(production: Path, cli) -> None:
    p = ("--production", production)
    # MAISIE is voiced by a crew member named in the bible; OSWIN's crew member has his name.
    toml = production / "soundstage.toml"
    toml.write_text(
        toml.read_text() + '\n[bible.characters.MAISIE]\nvoice = "Ada  Lind"\n\n[schedule]\nday_hours = 8\n'
    )
    crew = ("crew", "add", "--department", "voice cast", "--role", "voice", "--effective", "2026-06-01")
    assert cli(*p, *crew[:2], "ada lind", *crew[2:], "--day", "1800").code == 0
    assert cli(*p, *crew[:2], "Oswin", *crew[2:], "--rate", "95/h").code == 0
    # A raise from after the first shoot day does not count.
    assert cli(*p, "crew", "rate", "Oswin", "--rate", "500/h", "--effective", "2027-06-01").code == 0
    solved = cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10)
    assert solved.code == 0, solved.err
    with Production.open(production) as opened:
        problem, schedule = schedules.current(opened.context)
        rates = opened.schedule_cast_rates()
        stage_rent = sum((line.amount for line in opened.stage_rent()), Decimal(0))
    expected = {"MAISIE": Decimal(1800), "OSWIN": Decimal(95) * 8}
    assert {name: rates.rates[name] for name in expected} == expected
    assert set(rates.unrated) == set(rates.rates) - set(expected) and rates.unrated
    assert all(rates.rates[name] == DEFAULT_CAST_DAY_RATE for name in rates.unrated)
    scenes_of: dict[str, set[str]] = {name: set() for name in rates.rates}
    for work in problem.scenes:
        for name in work.cast:
            scenes_of[name].add(work.number)
    cast_cost = {name: rates.rates[name] * _paid_days(schedule, scenes_of, name) for name in rates.rates}
    assert dict(schedule.cost.cast) == cast_cost
    assert schedule.cost.total == sum(cast_cost.values()) + stage_rent + schedule.cost.moves + schedule.cost.crew
    shown = cli(*p, "schedule", "show")
    assert "ada lind: 1800/day" in shown.out and "95/h x 8 h" in shown.out
    assert "no rate on the books" in shown.out and rates.unrated[0] in shown.out


def test_stage_rent_is_booked_as_spend_once_and_replaced_after_a_re_solve(production: Path, cli) -> None:
    p = ("--production", production)
    stage_b = ("stage", "add", "Stage B", "--kind", "sound-stage", "--size-sqft", 9000, "--zone", "out")
    assert cli(*p, *stage_b, "--day-rate", "1900").code == 0
    # Someone else's stage rent, booked by hand: never touched by the schedule's.
    by_hand = ("spend", "add", "Stage A", "--account", "3200", "--amount", "777", "--date", "2026-12-01")
    assert cli(*p, *by_hand).code == 0, cli(*p, *by_hand).err
    assert cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10).code == 0

    def on_the_books() -> tuple[list, Decimal, list]:
        with Production.open(production) as opened:
            spend = books.load_books(opened.context).spend
            summary = incentives.summary(opened.context)
            rent = opened.stage_rent()
        assert summary.spend == sum((line.amount for line in spend), Decimal(0))
        return spend, summary.spend, rent

    booked = cli(*p, "schedule", "book-rent")
    assert booked.code == 0, booked.err
    spend, total, rent = on_the_books()
    rent_total = sum((line.amount for line in rent), Decimal(0))
    assert rent_total > 0
    assert total == rent_total + 777
    from_schedule = [line for line in spend if line.origin.startswith("schedule rent")]
    assert sorted(line.vendor for line in from_schedule) == sorted({line.stage for line in rent})  # one per stage
    for line in from_schedule:
        days = [r for r in rent if r.stage == line.vendor]
        assert line.amount == sum((r.amount for r in days), Decimal(0)) and line.account == "3200"
        assert line.day == days[0].date and f"{days[0].date}..{days[-1].date}" in line.description
        assert line.vendor_local == (line.vendor == "Stage A")  # Stage A is in the zone
    # Again: nothing new.
    again = cli(*p, "schedule", "book-rent")
    assert again.code == 0 and "unchanged" in again.out
    assert on_the_books()[0] == spend
    # The stage dearer and the schedule solved again: the schedule's rent on the books follows.
    assert cli(*p, "stage", "book", "Stage A", "2027-01-04..2027-01-08", "--by", "Other Show").code == 0
    assert cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10).code == 0
    assert cli(*p, "schedule", "book-rent").code == 0
    spend2, total2, rent2 = on_the_books()
    assert rent2 != rent
    assert total2 == sum((line.amount for line in rent2), Decimal(0)) + 777
    assert [line for line in spend2 if line.origin == "spend add Stage A 2026-12-01"] == spend[:1]


def test_stage_use_day_by_day_in_show_and_export(production: Path, cli, tmp_path: Path) -> None:
    p = ("--production", production)
    stage_b = ("stage", "add", "Stage B", "--kind", "sound-stage", "--size-sqft", 9000, "--zone", "out")
    assert cli(*p, *stage_b, "--day-rate", "1900").code == 0
    assert cli(*p, "stage", "book", "Stage B", "2027-01-05", "--by", "Other Show").code == 0
    # The first scene pinned to the first day: the solver may otherwise start later (an empty
    # day costs nothing without a crew rate), and the booked day would fall outside the schedule.
    assert cli(*p, "schedule", "pin", "1", "2027-01-04").code == 0
    assert cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10).code == 0
    with Production.open(production) as opened:
        schedule = opened.schedule()
        rent = opened.stage_rent()
        days = opened.stage_days()
    shoot_dates = sorted({d.date for d in days})
    assert date(2027, 1, 5) in shoot_dates
    assert shoot_dates[0] == schedule.days[0].date and shoot_dates[-1] == schedule.days[-1].date
    for stage in ("Stage A", "Stage B"):
        state = {d.date: d.state for d in days if d.stage == stage}
        assert len(state) == len(shoot_dates)
        shot_on = {day.date for day in schedule.days if stage in day.stages}
        rented = {line.date for line in rent if line.stage == stage}
        assert {d for d, s in state.items() if s == "used"} == shot_on
        assert {d for d, s in state.items() if s == "standing"} == rented - shot_on
        # Other Show's booking: never used nor rented across by this schedule.
        assert (state[date(2027, 1, 5)] == "blocked") == (stage == "Stage B")
        assert {d for d, s in state.items() if s == "idle"} <= set(shoot_dates) - rented
    shown = cli(*p, "schedule", "show").out
    for stage in ("Stage A", "Stage B"):
        letters = "".join(
            {"used": "U", "standing": "S", "idle": ".", "blocked": "x"}[d.state] for d in days if d.stage == stage
        )
        assert letters in shown
    assert cli(*p, "schedule", "export", "-o", tmp_path / "out").code == 0
    rows = (tmp_path / "out" / "stage_days.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "Stage,Date,State" and rows[1:] == [f"{d.stage},{d.date.isoformat()},{d.state}" for d in days]
    weekly = (tmp_path / "out" / "stage_occupancy.csv").read_text(encoding="utf-8")
    used_a = sum(1 for d in days if d.stage == "Stage A" and d.state == "used")
    assert sum(int(r.split(",")[3]) for r in weekly.splitlines()[1:] if r.startswith("Stage A,")) == used_a
    assert (tmp_path / "out" / "stage_occupancy.pdf").read_bytes().startswith(b"%PDF")
