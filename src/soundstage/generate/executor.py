"""Executors: where the take queue's jobs run, behind one interface.

An executor runs workers somewhere until the queue is empty and reports what they did, counted
from the queue itself. ``LocalExecutor`` (here) starts worker processes on this machine;
``RayExecutor`` (executor_ray.py, imported only when asked for) runs each batch as a Ray task on
a cluster. Both run the same unit, ``worker.Crew.work_batch``, so the queue's guarantees (a job
claimed once, a take recorded once, a killed worker's jobs claimed again after their lease, media
stored whole before a take points at it) hold the same on both.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.engine import Engine

from soundstage.generate import queue
from soundstage.generate.worker import QueueProgress, WorkReport


class Executor(Protocol):
    """Runs ``workers`` workers of the production's queue somewhere; returns when it is empty."""

    def run(self, engine: Engine, workers: int, progress: QueueProgress) -> WorkReport: ...


class LocalExecutor:
    """N worker processes on this machine, each started with ``command`` (its argv: a worker
    opens the production and works its queue), watched through the queue until it is empty.

    Processes, not threads: backends hold a GIL-bound Python loop or a GL context each. Each is
    a fresh interpreter: a forked one would inherit the parent's database connections, GL context
    and threads (a web server, a progress bar), and multiprocessing's spawn would run the
    caller's main script again in every worker unless it is guarded.
    """

    def __init__(self, command: Sequence[str]) -> None:
        self.command = list(command)

    def run(self, engine: Engine, workers: int, progress: QueueProgress) -> WorkReport:
        """Start ``workers`` processes of the command; report the takes made and jobs failed."""
        tally = Tally(engine)
        processes = [subprocess.Popen(self.command, stdout=subprocess.DEVNULL) for _ in range(workers)]
        try:
            while any(p.poll() is None for p in processes):
                tally.progress(progress)
                time.sleep(0.2)
        except BaseException:
            for process in processes:
                process.terminate()
            raise
        finally:
            for process in processes:
                process.wait()
        return tally.report(progress)


class Tally:
    """What the workers of one run did, read from the queue's counts (so a worker killed without
    reporting is counted too): the jobs finished since the start, of those waiting then."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.start = queue.counts(engine)
        self.total = self.start.get(queue.QUEUED, 0) + self.start.get(queue.RUNNING, 0)

    def left(self) -> int:
        """Jobs queued or running now (any worker's)."""
        now = queue.counts(self.engine)
        return now.get(queue.QUEUED, 0) + now.get(queue.RUNNING, 0)

    def progress(self, progress: QueueProgress) -> None:
        """Tell ``progress`` how many of the jobs are finished."""
        progress(_finished(queue.counts(self.engine)) - _finished(self.start), self.total)

    def reported(self, progress: QueueProgress, made: WorkReport) -> None:
        """Tell ``progress`` how many of the jobs are finished as the workers' own reports have
        it (``made``, summed): no count of the queue, which reads every job the table holds, for
        a driver that reports after every round of finished tasks. A job that nobody reports (its
        claim found it spent and marked it dead) is counted by ``report`` at the end."""
        progress(min(made.takes + made.failed, self.total), self.total)

    def report(self, progress: QueueProgress) -> WorkReport:
        """The takes made and jobs given up since the start."""
        end = queue.counts(self.engine)
        progress(self.total, self.total)
        return WorkReport(
            takes=end.get(queue.DONE, 0) - self.start.get(queue.DONE, 0),
            failed=_given_up(end) - _given_up(self.start),
        )


def _finished(counts: dict[str, int]) -> int:
    return counts.get(queue.DONE, 0) + _given_up(counts)


def _given_up(counts: dict[str, int]) -> int:
    return counts.get(queue.FAILED, 0) + counts.get(queue.DEAD, 0)
