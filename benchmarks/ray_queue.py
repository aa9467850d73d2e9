"""The take queue on Ray against the local executor: the fixed cost of a run, the cost per
previs take beyond it, and throughput with 1, 2 and 4 workers, side by side in one run.

Run: .venv/bin/python benchmarks/ray_queue.py [SCRIPT] [--size 320x180]
                                              [--farm JOBS --gpus N [--in-flight M] [--farm-only]]
Prints markdown table rows for docs/benchmarks.md.

A Ray head is started here on 127.0.0.1 (``ray start --head --block``, 4 CPUs whatever the
machine has, so 4 tasks run at once) and stopped at the end. The production is made up to previs once and copied for each run, so every run works the
same queue: a previs take for every shot (the intent checks run on each batch, as in
``soundstage work``), or a single take (the run's fixed cost: worker processes started, the
production opened in each, for Ray also connecting the driver). Cost per take beyond the fixed
cost = (time of N takes - time of 1 take) / (N - 1), with 1 worker.

``--farm JOBS``: a simulated farm, a second head with ``--gpus`` fake GPUs (Ray's resource
accounting only) and JOBS queued jobs of the diffusers backend, each task asking for one GPU:
the dispatch rate of the driver and the queue, with the generation itself left out (each task
claims its batch and records it, with one fixed output hash, as a real one does after its
backend), and per job the driver's statements on the database and the whole server's
transactions and rows read and written (every client's, from ``pg_stat_database``).
``--in-flight M``: at most M tasks at once (each a Ray worker process), fewer than the GPUs.
The farm's run is watched (``horizon.py``): the rows read a job by tenth of the run, the oldest
snapshot's age and who held it, and the jobs table's dead and HOT-updated rows.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from soundstage.config import Generate, TaskResources
from soundstage.generate import queue
from soundstage.generate.backend import Recipe
from soundstage.generate.executor_ray import RayExecutor
from soundstage.generate.worker import WorkReport
from soundstage.make import make, open_or_init
from soundstage.project import Production, TakeOptions
from soundstage.project.takes import run_batch
from soundstage.store.db import session_scope
from soundstage.store.tables import ShotRow

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCRIPT = ROOT / "examples" / "lantern_keepers.fountain"


@contextmanager
def ray_head(cpus: int = 2, gpus: int = 0) -> Iterator[str]:
    """A Ray head on 127.0.0.1 for the benchmark; its address. Stopped (only it) at the end."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must be short
    command = [str(Path(sys.executable).parent / "ray"), "start", "--head", f"--port={port}"]
    command += ["--node-ip-address=127.0.0.1", f"--num-cpus={cpus}", f"--num-gpus={gpus}"]
    command += ["--include-dashboard=false"]
    command += ["--disable-usage-stats", f"--temp-dir={temp}", "--block"]
    head = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1.0)
        yield f"127.0.0.1:{port}"
    finally:
        head.send_signal(signal.SIGTERM)
        head.wait(60)
        shutil.rmtree(temp, ignore_errors=True)


def timed_batch(root: Path, log: Path, backend: str) -> WorkReport | None:
    """``run_batch`` (what a Ray task runs), its time inside the task appended to ``log``."""
    started = time.perf_counter()
    report = run_batch(root, backend)
    with log.open("a") as file:
        file.write(f"{time.perf_counter() - started}\n")
    return report


def _run(base: Path, copy: Path, workers: int, ray: str | None, *, single: bool = False) -> tuple[int, float, float]:
    """Takes made, seconds taken by one ``work`` on a fresh copy of the production, and (on Ray)
    the seconds its tasks spent inside ``run_batch``."""
    from ray_queue import timed_batch as by_reference  # a module Ray's workers import, not __main__

    shutil.copytree(base, copy)
    log = copy.parent / f"{copy.name}.tasks"
    with Production.open(copy) as production:
        if single:
            production.queue_takes(production.shots()[0].code, TakeOptions(requested_by="bench"))
            queued = 1
        else:
            queued = production.queue_missing_takes(requested_by="bench")
        started = time.perf_counter()
        if ray is None:
            report = production.work(workers=workers)
        else:
            settings = production.settings.generate
            task = functools.partial(by_reference, copy, log)
            report = RayExecutor(ray, task, settings).run(production.engine, workers, lambda done, total: None)
        seconds = time.perf_counter() - started
    assert report.takes == queued, (report, queued)
    inside = sum(float(line) for line in log.read_text().split()) if log.exists() else 0.0
    return report.takes, seconds, inside


def enqueue_farm(engine: Engine, shot_ids: list[int], jobs: int) -> None:
    """``jobs`` simulated diffusers jobs, spread over the shots (also claim_reads.py's queue)."""
    per_shot, queued = -(-jobs // len(shot_ids)), 0
    for shot_id in shot_ids:
        n = min(per_shot, jobs - queued)
        if n > 0:
            queue.enqueue(engine, shot_id, [Recipe(shot="farm", backend="diffusers")] * n)
            queued += n


def _farm(
    root: Path, jobs: int, gpus: int, in_flight: int
) -> tuple[float, int, dict[str, int], dict[str, int], list[str]]:
    """Seconds to dispatch ``jobs`` simulated GPU jobs on a head with ``gpus`` fake GPUs, the queue
    on PostgreSQL, and the driver's statements on the database."""
    sys.path.insert(0, str(ROOT / "tests"))
    import postgres  # the tests' throwaway PostgreSQL server: a farm's queue is on PostgreSQL

    server = postgres.start_server()
    url = postgres.create_database(server.url)
    try:
        return _farm_on(root, url, jobs, gpus, in_flight)
    finally:
        server.stop()


def server_load(engine: Engine) -> dict[str, int]:
    """The whole server's work on this database so far (every client: driver and tasks), from
    PostgreSQL's own statistics: transactions committed, rows returned, rows written."""
    with engine.connect() as connection:
        connection.exec_driver_sql("select pg_stat_clear_snapshot()")
        row = connection.exec_driver_sql(
            "select xact_commit, tup_returned + tup_fetched, tup_inserted + tup_updated + tup_deleted"
            " from pg_stat_database where datname = current_database()"
        ).one()
    return {"transactions": int(row[0]), "rows read": int(row[1]), "rows written": int(row[2])}


def reads_by_relation(engine: Engine) -> dict[str, int]:
    """Where the server's rows read so far went: the rows each table's sequential scans read and
    the entries each index's scans read (PostgreSQL's own statistics, every client's)."""
    with engine.connect() as connection:
        connection.exec_driver_sql("select pg_stat_clear_snapshot()")
        rows = connection.exec_driver_sql(
            "select 'seq scan of ' || relname, seq_tup_read from pg_stat_user_tables"
            " union all select indexrelname, idx_tup_read from pg_stat_user_indexes"
        ).all()
    return {str(name): int(n or 0) for name, n in rows}


def _farm_on(
    root: Path, url: str, jobs: int, gpus: int, in_flight: int
) -> tuple[float, int, dict[str, int], dict[str, int], list[str]]:
    from farm_task import farm_batch as by_reference  # a module Ray's workers import, not __main__
    from horizon import HorizonWatch  # what holds the xmin horizon, rows read a job as the run goes

    with Production.init(root, database_url=url) as production:
        production.import_script(DEFAULT_SCRIPT)
        production.plan()
        with session_scope(production.engine) as session:
            shot_ids = list(session.scalars(select(ShotRow.id)))
        statements = [0]
        event.listen(
            production.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1)
        )
        with ray_head(cpus=2, gpus=gpus) as address:
            import ray

            # Connected here, so the workers a first run starts (importing Soundstage: seconds
            # each) stay for the timed run: the dispatch rate, not the farm's start-up.
            ray.init(address=address, runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(sys.path)}})
            executor = RayExecutor(
                address,
                functools.partial(by_reference, url),
                Generate(batch=4),
                {"diffusers": TaskResources(num_cpus=0, num_gpus=1)},
            )
            enqueue_farm(production.engine, shot_ids, in_flight * 4 * 2)
            executor.run(production.engine, in_flight, lambda done, total: None)
            enqueue_farm(production.engine, shot_ids, jobs)
            time.sleep(1.0)  # PostgreSQL's statistics reach the view about once a second
            statements[0], before = 0, server_load(production.engine)
            where_before = reads_by_relation(production.engine)
            watch = HorizonWatch(url).start()
            started = time.perf_counter()
            report = executor.run(production.engine, in_flight, lambda done, total: None)
            seconds = time.perf_counter() - started
            watch.stop()
            driver = statements[0]
            time.sleep(1.0)
            after = server_load(production.engine)
            where_after = reads_by_relation(production.engine)
            ray.shutdown()
    assert report.takes == jobs, (report, jobs)
    where = {key: where_after[key] - where_before.get(key, 0) for key in where_after}
    return seconds, driver, {key: after[key] - before[key] for key in before}, where, watch.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", nargs="?", type=Path, default=DEFAULT_SCRIPT)
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--farm", type=int, default=0, help="simulated farm: this many jobs (0: none)")
    parser.add_argument("--gpus", type=int, default=16, help="the simulated farm's fake GPUs")
    parser.add_argument("--in-flight", type=int, default=0, help="the farm's tasks at once (0: one a GPU)")
    parser.add_argument("--farm-only", action="store_true")
    args = parser.parse_args()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if args.farm:
        with tempfile.TemporaryDirectory() as tmp:
            in_flight = args.in_flight or args.gpus
            seconds, statements, load, where, watched = _farm(Path(tmp) / "farm", args.farm, args.gpus, in_flight)
        print(
            f"# simulated farm: {args.gpus} fake GPUs, {in_flight} tasks at once, {args.farm} jobs of 4 a task; {machine}"
        )
        print(
            f"| simulated farm, {args.gpus} fake GPUs, {in_flight} tasks at once: {args.farm} jobs dispatched | {seconds:.1f} s, "
            f"{args.farm / seconds:.0f} jobs/s | driver: {statements} statements, {statements / args.farm:.2f} a job |"
        )
        server = ", ".join(f"{value / args.farm:.1f} {key}" for key, value in load.items())
        print(f"| &nbsp;&nbsp;the server, all clients, a job | {server} |")
        heaviest = sorted(where.items(), key=lambda item: -item[1])[:6]
        print("# rows read a job, by where: " + ", ".join(f"{name} {n / args.farm:.1f}" for name, n in heaviest))
        print("\n".join(watched))
        if args.farm_only:
            return
    size = tuple(int(n) for n in args.size.split("x"))

    rows: dict[str, tuple[int, float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        production = open_or_init(base)
        make(args.script, Path(tmp) / "out", production, size=size, until="previs")
        production.close()
        with ray_head(cpus=4) as address:  # 4 tasks at once, on 2 real cores
            _run(base, Path(tmp) / "warm", 1, address, single=True)  # Ray's first start (files, caches)
            for executor, ray in (("local", None), ("Ray", address)):
                rows[f"{executor} 1 take"] = _run(base, Path(tmp) / f"{executor}-one", 1, ray, single=True)
                for workers in (1, 2, 4):
                    rows[f"{executor} {workers}"] = _run(base, Path(tmp) / f"{executor}-{workers}", workers, ray)

    print(f"# {args.script.name}: previs takes at {args.size}, intent checks on; {machine}")
    print("| figure | local processes | Ray tasks | Ray / local |")
    print("| --- | --- | --- | --- |")
    fixed = {e: rows[f"{e} 1 take"][1] for e in ("local", "Ray")}
    print(
        f"| fixed cost of a run (1 take, 1 worker) | {fixed['local']:.2f} s | {fixed['Ray']:.2f} s "
        f"| {fixed['Ray'] / fixed['local']:.2f}x |"
    )
    per_take = {}
    for e in ("local", "Ray"):
        takes, seconds, _inside = rows[f"{e} 1"]
        per_take[e] = (seconds - fixed[e]) / (takes - 1) * 1000
    print(
        f"| time per take beyond it, 1 worker ({rows['local 1'][0]} takes) | {per_take['local']:.1f} ms "
        f"| {per_take['Ray']:.1f} ms | {per_take['Ray'] / per_take['local']:.2f}x |"
    )
    # Ray's own cost: the driver's time not spent inside a task (1 worker: tasks run one at a
    # time), beyond the single take's run (connecting, worker start), per take.
    (takes, seconds, inside), (_one, one_s, one_inside) = rows["Ray 1"], rows["Ray 1 take"]
    dispatch = ((seconds - inside) - (one_s - one_inside)) / (takes - 1) * 1000
    print(f"| &nbsp;&nbsp;Ray's dispatch per take (driver time outside the tasks), 1 worker | | {dispatch:.1f} ms | |")
    for workers in (1, 2, 4):
        (n, local_s, _), (_n, ray_s, _) = rows[f"local {workers}"], rows[f"Ray {workers}"]
        print(
            f"| throughput, {workers} worker{'s' if workers > 1 else ''} | {n} in {local_s:.1f} s, "
            f"{n / local_s:.1f} takes/s | {n} in {ray_s:.1f} s, {n / ray_s:.1f} takes/s | {local_s / ray_s:.2f}x |"
        )


if __name__ == "__main__":
    main()
