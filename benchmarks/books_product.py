"""The production books stored in a production: the same studio-scale books as
``benchmarks/books.py`` imported through ``soundstage crew|hours|spend import`` into SQLite (every
row checked against the books: a person on the crew, a rate on the day, 24 hours in a day, an
account in the chart), then every program estimated from the database.

Run: .venv/bin/python benchmarks/books_product.py [--entries 100000] [--spend 50000]
Prints markdown table rows for docs/benchmarks.md. Peer in the same run: the pure library's CSV
import of the same files (no database), so the ratio is what storing and the checks against the
books cost. One run each (a fresh production per import); wall and CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from books import write_books  # noqa: E402  (the data of benchmarks/books.py, not a copy of it)

from soundstage.books.csvio import import_hours, import_spend  # noqa: E402
from soundstage.project import Production  # noqa: E402

FACTS = """
[books]
currency = "CAD"
[books.facts]
kind = "series"
episodes = 26
episode_minutes = 22
home = "CA-ON"
canadian_content = true
cancon_points = 10
bfi_certified = true
[books.facts.exchange]
"USD/CAD" = 1.37
"GBP/CAD" = 1.74
"GBP/USD" = 1.27
"""


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--spend", type=int, default=50_000)
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
        wall, cpu = clock()
        import_hours(hours_csv), import_spend(spend_csv)
        pure_wall, pure_cpu = time.perf_counter() - wall, time.process_time() - cpu
        root = production_at(Path(folder) / "production")
        with Production.open(root) as production:
            production.import_crew(crew_csv)
            wall, cpu = clock()
            hours = production.import_hours(hours_csv)
            spend = production.import_spend(spend_csv)
            stored_wall, stored_cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"| hours import + spend import of {len(hours):,} time entries and {len(spend):,} spend lines into SQLite | {stored_wall:.2f} s | {stored_cpu:.2f} s | < 2 s |"
            )
            print(
                f"| peer: the library's CSV import alone (no database); storing and the checks take {stored_cpu / pure_cpu:.1f}x its CPU time | {pure_wall:.2f} s | {pure_cpu:.2f} s | |"
            )
            wall, cpu = clock()
            found = production.incentives(as_of=date(2026, 1, 15))
            print(
                f"| incentives: the books read back from SQLite and all {len(found.estimate.programs)} programs estimated | {time.perf_counter() - wall:.2f} s | {time.process_time() - cpu:.2f} s | < 1 s |"
            )
        # Peak memory in a run of its own: tracemalloc slows every allocation several times over,
        # so the timed run above goes without it.
        with Production.open(production_at(Path(folder) / "traced")) as production:
            production.import_crew(crew_csv)
            tracemalloc.start()
            production.import_hours(hours_csv)
            production.import_spend(spend_csv)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        print(
            f"| peak Python allocations, importing both files into a fresh production (a run of its own) | {peak:.0f} MB | | |"
        )


def production_at(root: Path) -> Path:
    """A fresh production with the benchmark's facts under [books]."""
    with Production.init(root):
        pass
    with (root / "soundstage.toml").open("a", encoding="utf-8") as settings:
        settings.write(FACTS)
    return root


if __name__ == "__main__":
    main()
