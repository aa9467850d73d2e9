"""The simulated farm's Ray task (benchmarks/ray_queue.py ``--farm``), in a module of its own so
that each of the farm's many Ray worker processes imports the queue and nothing else (the
benchmark's own module imports the whole production: a hundred megabytes a process)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from soundstage.generate import queue
from soundstage.generate.worker import WorkReport, worker_name
from soundstage.store.db import make_engine

FARM_SHA = "f" * 64  # the output a simulated GPU job names
_ENGINES: dict[str, Engine] = {}


def farm_batch(database_url: str, backend: str) -> WorkReport | None:
    """A simulated farm task: claim a batch of ``backend`` and record it, no generation."""
    engine = _ENGINES.get(database_url) or _ENGINES.setdefault(database_url, make_engine(database_url))
    jobs = queue.claim(engine, worker_name(), 30.0, 4, backend=backend)
    if not jobs:
        return None
    return WorkReport(takes=queue.complete(engine, [(job, FARM_SHA) for job in jobs]))
