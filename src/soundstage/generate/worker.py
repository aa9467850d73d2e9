"""Workers: claim jobs, run their backend, store the outputs, record the takes.

``work_queue`` is the unit an executor schedules: given a production's engine, media store and
``[generate]`` settings as plain values, it works the queue in this process. ``LocalExecutor``
runs a worker command in N processes on this machine and watches the queue until it is empty.
A cluster executor (Ray, later) schedules the same unit on other machines: backends, the queue
and the media store do not change. This room knows nothing of how a production is opened:
``soundstage.project.takes`` hands it what it needs.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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
    name = worker_name()
    backends: dict[str, Backend] = {}
    inputs = MediaInputs(media)
    while True:
        jobs = queue.claim(engine, name, settings.lease_s, settings.batch, max_attempts=settings.max_attempts)
        if not jobs:
            waiting = queue.next_retry(engine)
            if until_idle and waiting is None:
                return report
            # A job waiting out a transient failure keeps an idle worker for it.
            wait_s = poll_s if waiting is None else (waiting - utcnow()).total_seconds()
            time.sleep(min(max(wait_s, 0.05), max(poll_s, 1.0)))
            continue
        log.debug("%s claimed jobs %s", name, ", ".join(str(j.id) for j in jobs))
        beating = _Heartbeat(engine, [j.id for j in jobs], name, settings.lease_s / 3)
        try:
            try:
                backend = backends.get(jobs[0].recipe.backend) or backend_for(jobs[0].recipe.backend, settings, root)
            except SoundstageError as error:
                made, failures = [], [(job, error) for job in jobs]
            else:
                backends[backend.name] = backend
                made, failures = _make(backend, jobs, inputs, media)
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
                after_batch([job.id for job, _sha in made])
            except SoundstageError as error:
                log.warning("intent checks not run: %s", error)


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


class Executor(Protocol):
    """Runs ``workers`` worker processes somewhere, each started with ``command`` (its argv: a
    worker opens the production and works its queue); returns when the queue is empty."""

    def run(self, engine: Engine, command: Sequence[str], workers: int, progress: QueueProgress) -> WorkReport: ...


class LocalExecutor:
    """N worker processes on this machine, watched through the queue until it is empty.

    Processes, not threads: backends hold a GIL-bound Python loop or a GL context each. Each is
    a fresh interpreter: a forked one would inherit the parent's database connections, GL context
    and threads (a web server, a progress bar), and multiprocessing's spawn would run the
    caller's main script again in every worker unless it is guarded.
    """

    def run(self, engine: Engine, command: Sequence[str], workers: int, progress: QueueProgress) -> WorkReport:
        """Start ``workers`` processes of ``command``; report the takes made and jobs failed."""
        start = queue.counts(engine)
        total = start.get(queue.QUEUED, 0) + start.get(queue.RUNNING, 0)
        finished_before = _finished(start)
        processes = [subprocess.Popen(list(command), stdout=subprocess.DEVNULL) for _ in range(workers)]
        try:
            while any(p.poll() is None for p in processes):
                now = queue.counts(engine)
                progress(_finished(now) - finished_before, total)
                time.sleep(0.2)
        except BaseException:
            for process in processes:
                process.terminate()
            raise
        finally:
            for process in processes:
                process.wait()
        end = queue.counts(engine)
        progress(total, total)
        return WorkReport(
            takes=end.get(queue.DONE, 0) - start.get(queue.DONE, 0),
            failed=_given_up(end) - _given_up(start),
        )


def _finished(counts: dict[str, int]) -> int:
    return counts.get(queue.DONE, 0) + _given_up(counts)


def _given_up(counts: dict[str, int]) -> int:
    return counts.get(queue.FAILED, 0) + counts.get(queue.DEAD, 0)
