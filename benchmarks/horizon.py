"""A watcher for the farm benchmarks (``ray_queue.py --farm``, ``claim_reads.py``): what holds
PostgreSQL's xmin horizon back while jobs are claimed, and the rows read a job as a run goes on.

Dead row versions (a claimed job's queued version, a finished job's running one) can be skipped
by later index scans, and removed by a vacuum, only once no open snapshot can still see them:
the oldest ``backend_xmin`` of all sessions is that horizon. ``HorizonWatch`` samples, about once
a second from a session of its own, every session's snapshot age (in transactions) with its state
and statement, the ``jobs`` table's dead and HOT-updated row counts, and the server's rows read
and takes inserted so far, so the rows read a job can be given for the start and the end of a run.
It reads only statistics functions and ``pg_stat_activity``, not tables, so its own reads do not
count in the rows read it reports (one transaction a sample does count in the transactions).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

# Snapshot age of each session holding one, its state and the start of its statement.
_SESSIONS = text(
    "select backend_type, coalesce(state, ''), age(backend_xmin), coalesce(extract(epoch from now() - xact_start), 0),"
    " left(regexp_replace(query, '\\s+', ' ', 'g'), 48) from pg_stat_activity"
    " where backend_xmin is not null and pid <> pg_backend_pid()"
)
_COUNTERS = text(
    "select pg_stat_get_db_tuples_returned(d.oid) + pg_stat_get_db_tuples_fetched(d.oid),"
    " pg_stat_get_tuples_inserted('takes'::regclass), pg_stat_get_dead_tuples('jobs'::regclass),"
    " pg_stat_get_tuples_updated('jobs'::regclass), pg_stat_get_tuples_hot_updated('jobs'::regclass),"
    " pg_stat_get_autovacuum_count('jobs'::regclass) + pg_stat_get_vacuum_count('jobs'::regclass)"
    " from pg_database d where d.datname = current_database()"
)


@dataclass
class Sample:
    at: float
    rows_read: int
    takes: int
    dead: int
    updated: int
    hot: int
    vacuums: int
    oldest_xmin_age: int  # transactions; 0 when no other session holds a snapshot
    oldest: str  # who held it: backend type, state, statement


@dataclass
class HorizonWatch:
    """Samples ``url``'s server in a thread between ``start()`` and ``stop()``."""

    url: str
    every_s: float = 1.0
    samples: list[Sample] = field(default_factory=list)
    holders: dict[str, int] = field(default_factory=dict)  # the largest age seen, by who held it

    def start(self) -> HorizonWatch:
        self._stop = threading.Event()
        self._engine: Engine = create_engine(
            self.url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        self._thread = threading.Thread(target=self._run, name="horizon-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._engine.dispose()

    def _run(self) -> None:
        with self._engine.connect() as connection:
            while not self._stop.is_set():
                sessions = connection.execute(_SESSIONS).all()
                counters = connection.execute(_COUNTERS).one()
                age, who = 0, ""
                for kind, state, xmin_age, _xact_s, query in sessions:
                    holder = f"{kind}, {state}: {query}"
                    self.holders[holder] = max(self.holders.get(holder, 0), int(xmin_age))
                    if int(xmin_age) > age:
                        age, who = int(xmin_age), holder
                self.samples.append(Sample(time.time(), *(int(n) for n in counters), age, who))
                self._stop.wait(self.every_s)

    def rows_a_job(self, start: float, end: float) -> float:
        """Rows read a take recorded between two fractions of the run's takes (0.0 to 1.0)."""
        takes = [s.takes for s in self.samples]
        first, last = takes[0], takes[-1]

        def at(fraction: float) -> Sample:
            goal = first + fraction * (last - first)
            return next(s for s in self.samples if s.takes >= goal)

        a, b = at(start), at(end)
        return (b.rows_read - a.rows_read) / max(1, b.takes - a.takes)

    def summary(self) -> list[str]:
        """Lines for a benchmark's output: rows a job by tenth of the run, the horizon's worst
        holders, the jobs table's dead and HOT-updated rows."""
        if len(self.samples) < 3:
            return ["# horizon watch: too few samples"]
        tenths = ", ".join(f"{self.rows_a_job(i / 10, (i + 1) / 10):,.0f}" for i in range(10))
        ages = sorted(s.oldest_xmin_age for s in self.samples)
        last = self.samples[-1]
        worst = sorted(self.holders.items(), key=lambda item: -item[1])[:4]
        return [
            f"# rows read a job, by tenth of the run: {tenths}",
            f"# oldest snapshot age (transactions) over {len(ages)} samples: median {ages[len(ages) // 2]}, max {ages[-1]}",
            "# its largest holders: " + "; ".join(f"{age} ({who})" for who, age in worst),
            f"# jobs table: {last.dead:,} dead rows at the end, {last.updated:,} updates of which {last.hot:,} HOT,"
            f" {last.vacuums} vacuums",
        ]
