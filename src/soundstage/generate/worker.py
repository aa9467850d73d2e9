"""Workers: claim jobs, run their backend, store the outputs, record the takes.

``run_jobs`` is the unit an executor schedules; ``LocalExecutor`` runs it in N worker
processes on this machine. A cluster executor (Ray, later) schedules the same unit on other
machines: backends, the queue and the media store do not change.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Engine

from soundstage.errors import SoundstageError
from soundstage.generate import queue
from soundstage.generate.backend import Backend
from soundstage.generate.metadata import embed_recipe
from soundstage.generate.registry import backend_for
from soundstage.store.media import MediaStore

# (done, total) over the jobs in the queue at the start.
QueueProgress = Callable[[int, int], None]


class MediaInputs:
    """Conditioning images read from the media store."""

    def __init__(self, media: MediaStore) -> None:
        self.media = media

    def read(self, sha256: str) -> bytes:
        """The PNG stored under ``sha256``."""
        with self.media.open(sha256, ".png") as file:
            return file.read()


@dataclass(slots=True)
class WorkReport:
    """What one worker did."""

    takes: int = 0
    failed: int = 0


def worker_name() -> str:
    """host:pid, so a job's worker can be found (and told from a restarted one)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_jobs(root: Path, *, until_idle: bool = True, poll_s: float = 0.5) -> WorkReport:
    """Work the production's queue in this process until it is empty (or forever)."""
    from soundstage.project import Production  # the facade opens the production; no cycle at import

    report = WorkReport()
    name = worker_name()
    backends: dict[str, Backend] = {}
    with Production.open(root) as production:
        settings = production.settings.generate
        inputs = MediaInputs(production.media)
        while True:
            jobs = queue.claim(production.engine, name, settings.lease_s, settings.batch)
            if not jobs:
                if until_idle:
                    return report
                time.sleep(poll_s)
                continue
            beating = _Heartbeat(production.engine, [j.id for j in jobs], name, settings.lease_s / 3)
            try:
                backend = backends.get(jobs[0].recipe.backend) or backend_for(jobs[0].recipe.backend, settings, root)
                backends[backend.name] = backend
                outputs = backend.generate([j.recipe for j in jobs], inputs, lambda fraction: None)
                # Outputs reach the media store whole before any take points at them.
                stored = [
                    production.media.put_bytes(embed_recipe(png, j.recipe), ".png") for j, png in zip(jobs, outputs)
                ]
                report.takes += queue.complete(production.engine, list(zip(jobs, stored)))
            except SoundstageError as error:
                for job in jobs:
                    queue.fail(production.engine, job, str(error))
                report.failed += len(jobs)
                continue
            finally:
                beating.stop()
            # Every new take meets the intent checks before anyone reviews it. The take is made
            # whatever they say; if they cannot run (a missing embedder model), it stays
            # unchecked and `soundstage check` runs them once the cause is fixed.
            try:
                production.check(jobs=[j.id for j in jobs])
            except SoundstageError as error:
                print(f"warning: intent checks not run: {error}", file=sys.stderr)


class _Heartbeat:
    """Beats for claimed jobs from a thread while the backend works."""

    def __init__(self, engine: Engine, job_ids: list[int], worker: str, every_s: float) -> None:
        self._stop = threading.Event()

        def beat() -> None:
            while not self._stop.wait(every_s):
                queue.heartbeat(engine, job_ids, worker)

        self._thread = threading.Thread(target=beat, name="soundstage-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class Executor(Protocol):
    """Runs the queue's jobs somewhere; returns when the queue is empty."""

    def run(self, root: Path, workers: int, progress: QueueProgress) -> WorkReport: ...


class LocalExecutor:
    """N worker processes on this machine (``soundstage work --single``), watched until the queue
    is empty. Processes, not threads: backends hold a GIL-bound Python loop or a GL context each."""

    def run(self, root: Path, workers: int, progress: QueueProgress) -> WorkReport:
        from soundstage.project import Production

        with Production.open(root) as production:
            engine = production.engine
            start = queue.counts(engine)
            total = start.get(queue.QUEUED, 0) + start.get(queue.RUNNING, 0)
            finished_before = start.get(queue.DONE, 0) + start.get(queue.FAILED, 0)
            command = [sys.executable, "-m", "soundstage", "-p", str(root), "work", "--single"]
            processes = [subprocess.Popen(command, stdout=subprocess.DEVNULL) for _ in range(workers)]
            try:
                while any(p.poll() is None for p in processes):
                    now = queue.counts(engine)
                    progress(now.get(queue.DONE, 0) + now.get(queue.FAILED, 0) - finished_before, total)
                    time.sleep(0.2)
            except BaseException:
                for p in processes:
                    p.terminate()
                raise
            end = queue.counts(engine)
            progress(total, total)
        return WorkReport(
            takes=end.get(queue.DONE, 0) - start.get(queue.DONE, 0),
            failed=end.get(queue.FAILED, 0) - start.get(queue.FAILED, 0),
        )
