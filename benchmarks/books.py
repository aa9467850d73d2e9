"""The production books at a studio's scale: CSV import, payroll and every program's estimate,
hours suggested from a year of activity; peak memory of each.

Run: .venv/bin/python benchmarks/books.py [--entries 100000] [--spend 50000] [--events 1000000] [--runs 3]
Prints markdown table rows for docs/benchmarks.md.

1. A crew of 400 and a year of timesheets (``--entries`` rows) and ledger lines (``--spend``
   rows) written as CSV files, then imported with ``import_hours`` / ``import_spend`` (validating
   every cell, Decimal amounts). Peer: ``pandas.read_csv`` of the same files, which parses to
   floats and validates nothing; the ratio says what the checks and exact money cost.
2. The payroll (confirmed hours priced at each person's rate on the day) and the estimate of
   all 13 shipped programs on those books, with exchange rates for every currency.
3. ``suggest_hours`` over ``--events`` activities (40 people, a year of working days). Peer:
   the same sessions found by a plain Python loop over the sorted events.

Times are the median of ``--runs`` runs. Peak memory: Python's allocations during the step
(tracemalloc, a separate run so its overhead does not enter the times) and the process's
maximum resident set at the end.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from soundstage.books.csvio import import_crew, import_hours, import_spend
from soundstage.books.facts import ProductionFacts, ProductionKind
from soundstage.books.incentives import estimate
from soundstage.books.ledger import Books
from soundstage.books.model import Activity, ActivityKind, Place
from soundstage.books.programs import load_programs
from soundstage.books.suggest import suggest_hours

PLACES = [
    "US-CA/la-zone",
    "US-CA/out-of-zone",
    "CA-ON/gta",
    "CA-ON/hamilton",
    "CA-BC/vancouver",
    "CA-BC/bc-regional",
    "GB",
    "US-GA",
    "US-NY/upstate",
]
CURRENCY = {"US": "USD", "CA": "CAD", "GB": "GBP"}
DEPARTMENTS = [
    "story",
    "layout",
    "animation",
    "lighting",
    "compositing",
    "fx",
    "editorial",
    "production",
    "rigging",
    "modelling",
]
ACCOUNTS = [
    "3000",
    "3100",
    "3200",
    "3300",
    "3400",
    "3500",
    "4100",
    "4300",
    "5000",
    "6000",
    "6100",
    "6200",
    "7100",
    "1500",
]


def write_books(folder: Path, entries: int, spend: int) -> tuple[Path, Path, Path]:
    rng = random.Random(2026)
    people = []
    with open(folder / "crew.csv", "w", newline="") as file:
        out = csv.writer(file)
        out.writerow(["name", "department", "role", "resident of", "line", "rate", "effective", "currency"])
        for n in range(400):
            place = rng.choice(PLACES)
            currency = CURRENCY[place[:2]]
            name = f"Crew member {n:03d}"
            people.append((name, place))
            department = rng.choice(DEPARTMENTS)
            out.writerow(
                [
                    name,
                    department,
                    department.title(),
                    place,
                    "ATL" if n % 40 == 0 else "BTL",
                    f"{rng.randint(30, 70)}.50/h",
                    "2025-01-01",
                    currency,
                ]
            )
            out.writerow(
                [
                    name,
                    department,
                    department.title(),
                    place,
                    "ATL" if n % 40 == 0 else "BTL",
                    f"{rng.randint(71, 90)}/h",
                    "2025-07-01",
                    currency,
                ]
            )
    start = date(2025, 1, 6)
    with open(folder / "hours.csv", "w", newline="") as file:
        out = csv.writer(file)
        out.writerow(["person", "date", "hours", "location", "shot", "task"])
        per_person = entries // len(people)
        for name, place in people:
            for day in range(per_person):  # one entry a day, never over 24 h
                out.writerow(
                    [
                        name,
                        (start + timedelta(days=day)).isoformat(),
                        rng.choice(("7.5", "8", "8.25", "9")),
                        place,
                        f"{rng.randint(1, 60):03d}_{rng.randint(1, 40) * 10:04d}",
                        "shot work",
                    ]
                )
        for n in range(entries - per_person * len(people)):
            name, place = people[n]
            out.writerow([name, (start + timedelta(days=per_person)).isoformat(), "4", place, "", "pickups"])
    with open(folder / "spend.csv", "w", newline="") as file:
        out = csv.writer(file)
        out.writerow(["vendor", "account", "amount", "currency", "date", "location", "local"])
        for n in range(spend):
            place = rng.choice(PLACES)
            out.writerow(
                [
                    f"Vendor {n % 900}",
                    rng.choice(ACCOUNTS),
                    f"{rng.randint(50, 90000)}.{rng.randint(0, 99):02d}",
                    CURRENCY[place[:2]],
                    (start + timedelta(days=n % 365)).isoformat(),
                    place,
                    rng.choice(("yes", "no")),
                ]
            )
    return folder / "crew.csv", folder / "hours.csv", folder / "spend.csv"


def activities(count: int) -> list[Activity]:
    rng = random.Random(7)
    kinds = list(ActivityKind)
    log: list[Activity] = []
    people = [f"Artist {n}" for n in range(40)]
    working_days = [datetime(2025, 1, 1) + timedelta(days=d) for d in range(365)]
    working_days = [d for d in working_days if d.weekday() < 5]
    per_day = -(-count // (len(working_days) * len(people)))  # rounded up: the log reaches ``count``
    for day in working_days:
        for person in people:
            at = day + timedelta(hours=9, minutes=rng.randint(0, 59))
            for n in range(per_day):
                at += timedelta(seconds=rng.randint(20, 400) if rng.random() > 0.03 else rng.randint(2700, 5400))
                log.append(Activity(person, at, kinds[n % len(kinds)], "010_0020"))
                if len(log) == count:
                    return log
    return log


def python_hours(log: list[Activity], gap: float = 2700, pad: float = 900) -> dict[tuple[str, date], Decimal]:
    """The peer: the same hours by a plain Python loop over the sorted events (sessions cut at
    gaps and midnight, padded, summed per person and day, to the quarter hour)."""
    ordered = sorted(log, key=lambda a: (a.person, a.at))
    seconds: dict[tuple[str, date], float] = {}
    start = last = None
    for event in ordered:
        if (
            last is None
            or event.person != last.person
            or event.at.date() != last.at.date()
            or (event.at - last.at).total_seconds() > gap
        ):
            if last is not None:
                key = (last.person, last.at.date())
                seconds[key] = seconds.get(key, 0.0) + (last.at - start.at).total_seconds() + 2 * pad
            start = event
        last = event
    if last is not None:
        key = (last.person, last.at.date())
        seconds[key] = seconds.get(key, 0.0) + (last.at - start.at).total_seconds() + 2 * pad
    return {key: Decimal(max((int(s) + 450) // 900, 1)) / 4 for key, s in seconds.items()}


def timed(step: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of ``runs`` runs, and the last result. On a shared machine
    the CPU time is the steadier figure: the wall time includes waiting for a core."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = step()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus), result


def peak_mb(step: Callable[[], Any]) -> float:
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--spend", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {date.today()}; load average {load}"
    )
    print()
    print("| figure | wall | CPU | target |")
    print("| --- | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as folder:
        crew_csv, hours_csv, spend_csv = write_books(Path(folder), args.entries, args.spend)
        crew = import_crew(crew_csv)
        w_hours, c_hours, hours = timed(lambda: import_hours(hours_csv), args.runs)
        w_spend, c_spend, spend = timed(lambda: import_spend(spend_csv), args.runs)
        print(
            f"| import {len(hours):,} time entries + {len(spend):,} spend lines from CSV | {w_hours + w_spend:.2f} s | {c_hours + c_spend:.2f} s | < 2 s |"
        )
        print(
            f"| &nbsp;&nbsp;time entries ({len(hours) / c_hours:,.0f} rows per CPU-second) | {w_hours:.2f} s | {c_hours:.2f} s | |"
        )
        print(
            f"| &nbsp;&nbsp;spend lines ({len(spend) / c_spend:,.0f} rows per CPU-second) | {w_spend:.2f} s | {c_spend:.2f} s | |"
        )
        try:
            import pandas

            w_pandas, c_pandas, _ = timed(lambda: (pandas.read_csv(hours_csv), pandas.read_csv(spend_csv)), args.runs)
            ratio = (c_hours + c_spend) / c_pandas
            print(
                f"| peer: pandas.read_csv of both files (floats, no checks); Soundstage takes {ratio:.1f}x its CPU time | {w_pandas:.2f} s | {c_pandas:.2f} s | |"
            )
        except ImportError:
            print("| peer: pandas not installed | - | - | |")
        peak = peak_mb(lambda: (import_hours(hours_csv), import_spend(spend_csv)))
        print(f"| peak Python allocations, importing both files | {peak:.0f} MB | | |")

        facts = ProductionFacts(
            kind=ProductionKind.SERIES,
            episodes=26,
            episode_minutes=Decimal(22),
            home=Place("CA-ON"),
            canadian_content=True,
            cancon_points=10,
            bfi_certified=True,
            exchange={
                ("USD", "CAD"): Decimal("1.37"),
                ("GBP", "CAD"): Decimal("1.74"),
                ("GBP", "USD"): Decimal("1.27"),
            },
        )
        catalog = load_programs()
        as_of = date(2026, 1, 15)
        programs = catalog.select(None, as_of)

        def cold() -> Any:
            books = Books(crew, hours, spend)
            return books, estimate(books, facts, programs, as_of)

        w_cold, c_cold, (books, _) = timed(cold, args.runs)
        w_warm, c_warm, result = timed(lambda: estimate(books, facts, programs, as_of), args.runs)
        print(
            f"| estimate of all {len(programs)} programs in effect, payroll and spend classes included | {w_cold:.2f} s | {c_cold:.2f} s | < 1 s |"
        )
        print(
            f"| &nbsp;&nbsp;the estimate alone ({len(books.wages):,} wage lines, {len(books.spend_classes[0]):,} spend classes) | {w_warm:.3f} s | {c_warm:.3f} s | |"
        )
        eligible = sum(1 for p in result.programs if p.eligible)
        print(f"| &nbsp;&nbsp;programs eligible on these books | {eligible} of {len(programs)} | | |")
        print(f"| peak Python allocations, payroll and estimate | {peak_mb(cold):.0f} MB | | |")

    log = activities(args.events)
    w_suggest, c_suggest, drafts = timed(lambda: suggest_hours(log), args.runs)
    w_peer, c_peer, peer = timed(lambda: python_hours(log), 1)
    same = {(d.person, d.day): d.hours for d in drafts} == peer
    print(
        f"| hours suggest over {len(log):,} events (a year, 40 people, {len(drafts):,} draft days) | {w_suggest:.2f} s | {c_suggest:.2f} s | < 5 s |"
    )
    print(
        f"| peer: the same hours by a Python loop over sorted events ({'same' if same else 'DIFFERENT'} hours, "
        f"no drafts made); Soundstage takes {c_suggest / c_peer:.1f}x its CPU time | {w_peer:.2f} s | {c_peer:.2f} s | |"
    )
    print(f"| peak Python allocations, hours suggest | {peak_mb(lambda: suggest_hours(log)):.0f} MB | | |")
    print(
        f"| maximum resident set of this process (1M activities held) | {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB | | |"
    )


if __name__ == "__main__":
    main()
