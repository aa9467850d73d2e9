"""What one 1,000-shot listing costs in process: the board (``project.board.board``, limit 1,000)
and its JSON, as GET /api/shots?limit=1000 builds it, on SQLite and on PostgreSQL.

Run: .venv/bin/python benchmarks/listing_cost.py [--shots 2000] [--calls 30] [--sqlite-only]

Builds the load benchmark's production (_review_data.py: 2,000 shots, 10,000 takes) on each
database (PostgreSQL: a throwaway server, its tables analysed as autovacuum would), then times
``calls`` listings one after another: wall time, this process's CPU time (the Python side:
statements built, rows read, cards made, JSON written) and, on PostgreSQL, the CPU time of the
server process that answered (read from /proc, so only where the server runs on this machine).
Also the statements one listing sends. The HTTP layer (auth, FastAPI, uvicorn) is not in these
figures: ``review_load.py`` measures the route.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _review_data import build
from sqlalchemy import Engine, event, text

from soundstage.project import board
from soundstage.project.production import Context, open_production

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from postgres import create_database, start_server, write_pgpass  # noqa: E402

USER_HZ = os.sysconf("SC_CLK_TCK")


def _cpu_ms(pid: int) -> float:
    """A process's user + system CPU time so far, in ms (/proc, clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / USER_HZ


def measure(engine: Engine, listing: Callable[[], str], calls: int) -> tuple[float, float, float, int, int]:
    """(wall, Python CPU, server CPU per listing in ms (medians; server: mean), statements, bytes)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    server = None
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            server = connection.scalar(text("SELECT pg_backend_pid()"))  # the pool keeps this one
    listing()  # warm: the statement's compiled form is cached after the first call
    event.listen(engine, "before_cursor_execute", record)
    size = len(listing())
    event.remove(engine, "before_cursor_execute", record)
    walls, cpus = [], []
    server_before = _cpu_ms(server) if server else 0.0
    for _ in range(calls):
        wall, cpu = time.perf_counter(), time.process_time()
        listing()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    server_ms = (_cpu_ms(server) - server_before) / calls if server else 0.0
    sent = sum(1 for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH")))
    return statistics.median(walls), statistics.median(cpus), server_ms, sent, size


def listing_of(production: Context) -> Callable[[], str]:
    """One listing as the route answers it: the board of 1,000 shots in a reading transaction, as JSON."""

    def listing() -> str:
        with production.reading() as session:
            return board.board(session, limit=1000).model_dump_json()

    return listing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--sqlite-only", action="store_true", help="leave out PostgreSQL")
    args = parser.parse_args()
    server = None if args.sqlite_only else start_server()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="listing-cost-") as tmp:
            databases = {"SQLite": ""}
            if server is not None:
                os.environ["PGPASSFILE"] = str(write_pgpass(server.url, Path(tmp) / "pgpass"))
                databases["PostgreSQL"] = create_database(server.url)
            for name, url in databases.items():
                data = build(Path(tmp) / name, shots=args.shots, database_url=url, reviewers=1, supervisors=1)
                production = open_production(data.root)
                if url:
                    # What autovacuum does a minute after the bulk insert: the planner's statistics.
                    with production.engine.connect() as connection:
                        connection.exec_driver_sql("ANALYZE")
                        connection.commit()
                wall, cpu, server_ms, sent, size = measure(production.engine, listing_of(production), args.calls)
                rows.append(
                    f"| {name} | {sent} | {wall:.1f} ms | {cpu:.1f} ms | "
                    f"{f'{server_ms:.1f} ms' if url else '(in process)'} | {size:,} |"
                )
                production.close()
    finally:
        if server is not None:
            server.stop()
    print(f"{args.shots:,} shots, {args.calls} listings of 1,000; {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print("| database | statements | wall, median | Python CPU, median | server CPU, mean | JSON bytes |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
