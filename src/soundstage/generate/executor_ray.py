"""Takes on a Ray cluster: each batch of the take queue runs as a Ray task that asks for its
backend's resources (a GPU and memory for the diffusers backends, one CPU for previs and the others).

The driver (``soundstage work --ray ADDRESS``) claims nothing itself: it looks at how many jobs
of each backend a claim could take now and keeps that many tasks in flight (at most ``workers``).
Each task claims one batch of its backend in the Ray worker process, under that process's name,
and beats for it, so the queue's guarantees are the local worker's: a job is claimed once, its
take recorded once, and a Ray worker killed mid-job (SIGKILL, a node lost) stops beating, so its
jobs are claimed again by a later task once their lease runs out; media reach the store whole
before a take points at them. Ray's own retries are off: the queue's attempts cap decides how
often a job that kills its worker runs again.

Ray is imported here only, and only when this executor is used: it is an extra
(``soundstage[ray]``).
"""

from __future__ import annotations

import logging
import math
import os
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import Engine

from soundstage.config import Generate, TaskResources
from soundstage.errors import ClusterError, SoundstageError
from soundstage.generate import queue
from soundstage.generate.executor import Tally
from soundstage.generate.worker import QueueProgress, WorkReport

log = logging.getLogger(__name__)

# What a task runs in the Ray worker: one batch of the named backend (None when nothing was
# left to claim). It must pickle by reference (a module-level function, or a partial of one).
BatchTask = Callable[[str], "WorkReport | None"]

# Backends that want a GPU unless their settings put them on the CPU.
GPU_BACKENDS = ("diffusers", "diffusers_video")
PROBE_TIMEOUT_S = 5.0


def resources_for(backend: str, settings: Generate, configured: Mapping[str, TaskResources]) -> dict[str, Any]:
    """The Ray options of one task of ``backend``: ``[executor.resources.<backend>]`` when set;
    otherwise one GPU for the diffusers backends (none when their device is "cpu") and one CPU
    for every backend."""
    chosen = configured.get(backend)
    if chosen is None:
        gpu = backend in GPU_BACKENDS and settings.options(backend).get("device", "auto") != "cpu"
        chosen = TaskResources(num_gpus=1.0 if gpu else 0.0)
    options: dict[str, Any] = {"num_cpus": chosen.num_cpus, "num_gpus": chosen.num_gpus}
    if chosen.memory_gb:
        options["memory"] = int(chosen.memory_gb * 2**30)
    return options


def _run_task(task: BatchTask, backend: str) -> WorkReport | None:
    """The Ray task: one batch of ``backend``, in whichever worker process Ray chose."""
    return task(backend)


class RayExecutor:
    """Runs the queue's batches as Ray tasks on the cluster at ``address``, until it is empty."""

    def __init__(
        self,
        address: str,
        task: BatchTask,
        settings: Generate,
        resources: Mapping[str, TaskResources] | None = None,
        *,
        poll_s: float = 0.2,
    ) -> None:
        self.address = address
        self.task = task
        self.settings = settings
        self.resources = dict(resources or {})
        self.poll_s = poll_s

    def run(self, engine: Engine, workers: int, progress: QueueProgress) -> WorkReport:
        """Keep up to ``workers`` tasks in flight while jobs wait; report the takes made and the
        jobs failed (counted from the queue, so a lost task's jobs are counted once they end).
        An unreachable cluster is a ClusterError before anything is claimed."""
        ray, connected_here = _connect(self.address)
        try:
            return self._dispatch(ray, engine, workers, progress)
        finally:
            if connected_here:
                ray.shutdown()

    def _dispatch(self, ray: Any, engine: Engine, workers: int, progress: QueueProgress) -> WorkReport:
        queue.refresh_statistics(engine)  # a farm's queue is often queued just before its run
        tally = Tally(engine)
        remote = ray.remote(_run_task)
        task_ref = ray.put(self.task)  # pickled once, not with every task
        capacity = ray.cluster_resources()
        in_flight: dict[Any, str] = {}
        asks: dict[str, dict[str, Any]] = {}
        made = WorkReport()  # what the finished tasks reported, for the progress shown meanwhile
        # The oldest workers x batch claimable jobs are enough to fill every free slot, so the
        # count looks no further: a deeper queue changes no decision but which backend's tasks
        # start first (the oldest jobs', as the claims take them), and a count of all of it
        # would read every open job each round.
        window = workers * self.settings.batch
        while True:
            claimable = queue.claimable(engine, self.settings.lease_s, up_to=window)
            busy = Counter(in_flight.values())
            for backend, waiting in sorted(claimable.items()):
                if backend not in asks:
                    asks[backend] = self._ask(backend, capacity)
                wanted = math.ceil(waiting / self.settings.batch) - busy[backend]
                for _ in range(max(0, min(wanted, workers - len(in_flight)))):
                    options = {**asks[backend], "max_retries": 0, "name": f"soundstage take {backend}"}
                    in_flight[remote.options(**options).remote(task_ref, backend)] = backend
            if not in_flight:
                if tally.left() == 0:
                    return tally.report(progress)
                # Jobs waiting out a transient failure, or held by a worker whose lease has not
                # run out yet (one that was killed): look again shortly.
                tally.progress(progress)
                time.sleep(self.poll_s)
                continue
            ready, rest = ray.wait(list(in_flight), num_returns=1, timeout=self.poll_s)
            if ready and rest:  # every task finished by now, so the queue is read once for them
                ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
            for ref in ready:
                backend = in_flight.pop(ref)
                made.add(self._settle(ray, ref, backend) or WorkReport())
            tally.reported(progress, made)

    def _ask(self, backend: str, capacity: Mapping[str, float]) -> dict[str, Any]:
        """The options of ``backend``'s tasks; a ClusterError when the whole cluster has less
        than one task asks (it would wait for ever)."""
        options = resources_for(backend, self.settings, self.resources)
        for key, resource in (("num_cpus", "CPU"), ("num_gpus", "GPU"), ("memory", "memory")):
            if options.get(key, 0) > capacity.get(resource, 0):
                raise ClusterError(
                    f"Ray at {self.address}: a task of backend {backend} asks for {options[key]:g} {resource}, "
                    f"the cluster has {capacity.get(resource, 0):g} ([executor.resources.{backend}] sets it)"
                )
        return options

    def _settle(self, ray: Any, ref: Any, backend: str) -> WorkReport | None:
        """A finished task: its report when it worked (None: it found nothing to claim); a task
        lost with its worker is logged (its jobs come back when their lease runs out), None; a
        production's error stops the run."""
        try:
            return ray.get(ref)
        except SoundstageError as error:
            # Ray raises the task's own error class (mixed with RayTaskError): a node that cannot
            # open the production or the media store fails every task the same way.
            cause = getattr(error, "cause", error)
            raise ClusterError(f"Ray at {self.address}: a task of backend {backend} failed: {cause}") from None
        except ray.exceptions.RayTaskError as error:
            # The task raised (a database error, a bug): its jobs stay claimed until their lease
            # runs out, as a local worker that crashed would leave them.
            cause = error.cause if error.cause is not None else error
            reason = f"{type(cause).__name__}: {' '.join(str(cause).split())[:300]}"
            log.warning(
                "a Ray task of backend %s failed (%s); its jobs are claimed again after their lease", backend, reason
            )
        except ray.exceptions.RayError as error:
            log.warning(
                "a Ray task of backend %s was lost with its worker (%s); its jobs are claimed again after their lease",
                backend,
                type(error).__name__,
            )
        return None


def _connect(address: str) -> tuple[Any, bool]:
    """Ray, connected to the cluster at ``address`` as a driver whose workers see this process's
    sys.path (a plugin found here is found there); whether this call made the connection (and
    so should close it). Anything in the way is one ClusterError line."""
    try:
        import ray
    except ImportError:
        raise ClusterError("[executor] kind = \"ray\": Ray is not installed (pip install 'soundstage[ray]')") from None
    if ray.is_initialized():
        return ray, False
    if not address:
        raise ClusterError("[executor] address: empty; give the Ray head's address (host:6379, ray://host:10001)")
    if address != "auto":
        _probe(address)
    # PYTHONPATH as LocalExecutor's workers get it: the parent's sys.path in front.
    runtime_env = {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}}
    try:
        ray.init(address=address, runtime_env=runtime_env, logging_level=logging.WARNING, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ClusterError(f"Ray at {address}: cannot connect ({first})") from None
    return ray, True


def _probe(address: str) -> None:
    """A TCP connection to the head, so a wrong address is one line in seconds rather than
    Ray's own retries for a minute."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"Ray at {address}: not an address (host:port, ray://host:port)")
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT_S).close()
    except OSError as error:
        raise ClusterError(f"Ray at {address}: cannot connect ({error.strerror or error})") from None
