"""The take queue's claims on PostgreSQL: the rows the server reads per claimed job at a given
queue depth, and where they went, without Ray (the database's side of the simulated farm in
``ray_queue.py --farm``).

Run: .venv/bin/python benchmarks/claim_reads.py [--depths 5000,50000] [--jobs 2000] [--threads 4]
Prints one markdown table row per depth for docs/benchmarks.md.

For each depth a fresh database on a throwaway PostgreSQL server (the tests' ``postgres``
module) gets that many queued jobs of the diffusers backend spread over the example's shots,
its statistics refreshed (``queue.refresh_statistics``, as the Ray driver does at a run's
start); then ``--threads`` threads claim batches of 4 and record them, as the farm's tasks
do, until ``--jobs`` jobs are done. The server's rows read (``pg_stat_database``: rows
returned by sequential and index scans plus rows fetched by index scans, every client) and
its transactions over those jobs, per job, and the six relations that read most
(``pg_stat_user_tables`` sequential scans, ``pg_stat_user_indexes`` entries read). Last, the
plans of one more claim's statements (``EXPLAIN (ANALYZE, BUFFERS)``, rolled back), so a
regression shows which statement reads what. Untimed: the figure is rows, not seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from ray_queue import enqueue_farm, reads_by_relation, server_load  # the farm's queue and counters
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from soundstage.generate import queue
from soundstage.project import Production
from soundstage.store.db import session_scope
from soundstage.store.tables import ShotRow

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "lantern_keepers.fountain"
OUTPUT = "f" * 64  # the output a simulated job names, as benchmarks/farm_task.py


def _work(engine: Engine, jobs: int, threads: int) -> int:
    """Claim and record batches of 4 in ``threads`` threads until ``jobs`` are done; claims made."""
    done, claims, lock = [0], [0], threading.Lock()

    def worker(name: str) -> None:
        while True:
            with lock:
                if done[0] >= jobs:
                    return
            batch = queue.claim(engine, name, 30.0, 4, backend="diffusers")
            recorded = queue.complete(engine, [(job, OUTPUT) for job in batch])
            with lock:
                done[0] += recorded
                claims[0] += 1

    running = [threading.Thread(target=worker, args=(f"probe-{i}",)) for i in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return claims[0]


def _plans(engine: Engine) -> list[str]:
    """One claim's statements, as ``EXPLAIN (ANALYZE, BUFFERS)`` sees them (each rolled back)."""
    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith(("UPDATE JOBS", "WITH")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        queue.claim(engine, "probe-plan", 30.0, 4, backend="diffusers")
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    plans = []
    for statement, parameters in statements:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plans.append("\n".join(str(row[0]) for row in rows))
            connection.rollback()
    return plans


def _depth(server_url: str, root: Path, depth: int, jobs: int, threads: int, show_plans: bool) -> str:
    import postgres

    url = postgres.create_database(server_url)
    with Production.init(root, database_url=url) as production:
        production.import_script(SCRIPT)
        production.plan()
        engine = production.engine
        with session_scope(engine) as session:
            shot_ids = list(session.scalars(select(ShotRow.id)))
        enqueue_farm(engine, shot_ids, depth)
        queue.refresh_statistics(engine)
        time.sleep(1.5)  # PostgreSQL's statistics reach the views about once a second
        before, where = server_load(engine), reads_by_relation(engine)
        claims = _work(engine, jobs, threads)
        engine.dispose()  # a backend's last counts are flushed when it ends
        time.sleep(1.5)
        after, where_after = server_load(engine), reads_by_relation(engine)
        plans = _plans(engine) if show_plans else []
    heaviest = sorted(((where_after[k] - where.get(k, 0), k) for k in where_after), reverse=True)[:6]
    breakdown = ", ".join(f"`{k}` {n / jobs:,.1f}" for n, k in heaviest)
    for plan in plans:
        print(plan, file=sys.stderr)
    return (
        f"| {depth:,} | {jobs:,} ({claims:,} claims, {threads} threads) | {(after['rows read'] - before['rows read']) / jobs:,.1f} "
        f"| {(after['transactions'] - before['transactions']) / jobs:.2f} | {breakdown} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", default="5000,50000", help="queue depths, comma-separated")
    parser.add_argument("--jobs", type=int, default=2000, help="jobs claimed and recorded at each depth")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--plans", action="store_true", help="print the claim's plans at each depth to stderr")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import postgres  # the tests' throwaway PostgreSQL server

    server = postgres.start_server()
    try:
        print("| queue depth | jobs measured | rows read a job | transactions a job | rows read a job, by where |")
        print("| --- | --- | --- | --- | --- |")
        with tempfile.TemporaryDirectory() as tmp:
            for depth in (int(d) for d in args.depths.split(",")):
                print(
                    _depth(server.url, Path(tmp) / str(depth), depth, args.jobs, args.threads, args.plans), flush=True
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
