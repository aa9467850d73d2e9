"""Workers: claim jobs, run their backend, store the outputs, record the takes.

``Crew.work_batch`` is the unit an executor schedules: given a production's engine, media store
and ``[generate]`` settings as plain values, it claims one batch and works it in this process;
``work_queue`` loops over it until the queue is empty. The executors (generate/executor.py:
worker processes on this machine; generate/executor_ray.py: Ray tasks on a cluster) run the
same unit: backends, the queue and the media store do not change. This room knows nothing of how a production is opened:
``soundstage.project.takes`` hands it what it needs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from soundstage.config import Generate
from soundstage.errors import SoundstageError, StoreError, TransientGenerateError
from soundstage.generate import clips, queue
from soundstage.generate.backend import Backend
from soundstage.generate.metadata import embed_recipe
from soundstage.generate.registry import backend_for
from soundstage.store.media import MediaStore
from soundstage.store.tables import utcnow

log = logging.getLogger(__name__)

# (done, total) over the jobs in the queue at the start.
QueueProgress = Callable[[int, int], None]
# Called with the job ids of each batch once its takes are recorded (the intent checks).
AfterBatch = Callable[[Sequence[int]], object]


class MediaInputs:
    """Conditioning images and clips read from the media store."""

    def __init__(self, media: MediaStore) -> None:
        self.media = media

    def read(self, sha256: str) -> bytes:
        """The still (``.png``) or clip (``.mkv`` pass, ``.mp4`` take) stored under ``sha256``.

        A role names its input by content alone, so the suffix is found by looking."""
        for suffix in clips.SUFFIXES.values():
            if self.media.exists(sha256, suffix):
                with self.media.open(sha256, suffix) as file:
                    return file.read()
        raise StoreError(f"media object missing: {sha256} (no .png, .mkv or .mp4 in {self.media.root})")


@dataclass(slots=True)
class WorkReport:
    """What one worker did."""

    takes: int = 0
    failed: int = 0  # failed for good or dead
    retried: int = 0  # put back after a transient failure

    def add(self, other: WorkReport) -> None:
        """Count another worker's (or batch's) work in this report."""
        self.takes += other.takes
        self.failed += other.failed
        self.retried += other.retried


def worker_name() -> str:
    """host:pid, so a job's worker can be found (and told from a restarted one)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _nothing_after(job_ids: Sequence[int]) -> None:
    return None


def work_queue(
    engine: Engine,
    media: MediaStore,
    settings: Generate,
    root: Path,
    *,
    after_batch: AfterBatch = _nothing_after,
    until_idle: bool = True,
    poll_s: float = 0.5,
) -> WorkReport:
    """Work the queue in this process until it is empty (or forever): claim a batch, run its
    backend, store the outputs whole, record the takes, then ``after_batch`` (the intent checks).

    ``root`` is the production folder, against which backends resolve relative paths in their
    settings. A take is kept whatever ``after_batch`` says; when it fails with a SoundstageError
    (the checks cannot run), the takes stay unchecked and a warning is logged.

    A job whose backend failed for a passing reason (TransientGenerateError: server unreachable,
    reset, timed out) goes back in the queue with backoff, counted against ``max_attempts``;
    with ``until_idle`` the worker waits for it rather than leaving it. Any other failure fails
    the job at once with its own message.
    """
    report = WorkReport()
    crew = Crew(engine, media, settings, root, after_batch)
    while True:
        done = crew.work_batch()
        if done is not None:
            report.add(done)
            continue
        waiting = queue.next_retry(engine)
        if until_idle and waiting is None:
            return report
        # A job waiting out a transient failure keeps an idle worker for it.
        wait_s = poll_s if waiting is None else (waiting - utcnow()).total_seconds()
        time.sleep(min(max(wait_s, 0.05), max(poll_s, 1.0)))


class Crew:
    """One worker process's means of working batches: the queue, the media store, the backends
    made so far (a GL context or a loaded model is made once per process) and the checks to run
    after each batch. ``work_queue`` loops over ``work_batch``; a Ray task runs one of it."""

    def __init__(
        self,
        engine: Engine,
        media: MediaStore,
        settings: Generate,
        root: Path,
        after_batch: AfterBatch = _nothing_after,
    ) -> None:
        self.engine, self.media, self.settings, self.root = engine, media, settings, root
        self.after_batch = after_batch
        self.backends: dict[str, Backend] = {}
        self.inputs = MediaInputs(media)

    def work_batch(self, backend: str | None = None) -> WorkReport | None:
        """Claim one batch (of ``backend`` only, when given), run its backend, store the outputs
        whole, record the takes, then the checks; None when there was nothing to claim."""
        engine, settings, name = self.engine, self.settings, worker_name()
        jobs = queue.claim(
            engine, name, settings.lease_s, settings.batch, max_attempts=settings.max_attempts, backend=backend
        )
        if not jobs:
            return None
        report = WorkReport()
        log.debug("%s claimed jobs %s", name, ", ".join(str(j.id) for j in jobs))
        beating = _Heartbeat(engine, [j.id for j in jobs], name, settings.lease_s / 3)
        try:
            try:
                wanted = jobs[0].recipe.backend
                made_by = self.backends.get(wanted) or backend_for(wanted, settings, self.root)
            except SoundstageError as error:
                made, failures = [], [(job, error) for job in jobs]
            else:
                self.backends[made_by.name] = made_by
                made, failures = _make(made_by, jobs, self.inputs, self.media)
            try:
                report.takes += queue.complete(engine, made)
            except SoundstageError as error:
                failures += [(job, error) for job, _sha in made]
                made = []
            for job, error in failures:
                _settle(engine, job, error, settings, report)
        finally:
            beating.stop()
        # Every new take meets the intent checks before anyone reviews it. The take is made
        # whatever they say; if they cannot run (a missing embedder model), it stays unchecked
        # and `soundstage check` runs them once the cause is fixed.
        if made:
            try:
                self.after_batch([job.id for job, _sha in made])
            except SoundstageError as error:
                log.warning("intent checks not run: %s", error)
        return report


def _make(
    backend: Backend, jobs: list[queue.Job], inputs: MediaInputs, media: MediaStore
) -> tuple[list[tuple[queue.Job, str]], list[tuple[queue.Job, SoundstageError]]]:
    """Run a batch: the stored outputs of the jobs that made one, and the failures of the rest.

    A batch that fails is run again one job at a time: the failure was one job's (its prompt,
    its node error), so each job gets its own outcome and its own message, never its
    neighbour's."""
    try:
        outputs = backend.generate([j.recipe for j in jobs], inputs, lambda fraction: None)
        # Outputs reach the media store whole before any take points at them.
        return [
            (j, media.put_bytes(embed_recipe(out, j.recipe), clips.take_suffix(j.recipe.frames)))
            for j, out in zip(jobs, outputs)
        ], []
    except SoundstageError as error:
        if len(jobs) == 1:
            return [], [(jobs[0], error)]
    made: list[tuple[queue.Job, str]] = []
    failures: list[tuple[queue.Job, SoundstageError]] = []
    for job in jobs:
        one_made, one_failed = _make(backend, [job], inputs, media)
        made += one_made
        failures += one_failed
    return made, failures


def _settle(engine: Engine, job: queue.Job, error: SoundstageError, settings: Generate, report: WorkReport) -> None:
    """A transient failure goes back in the queue with backoff (dead once its attempts are
    spent); any other fails the job at once, with its own message."""
    if isinstance(error, TransientGenerateError):
        state = queue.requeue(
            engine, job, str(error), max_attempts=settings.max_attempts, backoff_s=settings.retry_backoff_s
        )
        if state == queue.QUEUED:
            log.info("job %s: transient failure, retrying: %s", job.id, error)
            report.retried += 1
        elif state == queue.DEAD:
            log.warning("job %s is dead after %s attempts: %s", job.id, job.attempts, error)
            report.failed += 1
    elif queue.fail(engine, job, str(error)):
        report.failed += 1


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
