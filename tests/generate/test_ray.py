"""Takes on a real Ray cluster: a local head started on 127.0.0.1 for this module (``ray start
--head --block``, stopped after), previs takes made through it recorded exactly once and the same
bytes as the local executor makes, a Ray worker SIGKILLed mid-job (the queue on SQLite and on
PostgreSQL) and a whole second node killed mid-job, whose job is claimed again after its lease
and recorded once, and the faults that are one line, exit 2, nothing claimed: an unreachable
address, a backend asking for more than the cluster has."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from sqlalchemy import select

from soundstage.config import Generate, TaskResources
from soundstage.generate import queue
from soundstage.generate.executor_ray import resources_for
from soundstage.project import Production, TakeOptions
from soundstage.store.db import session_scope
from soundstage.store.tables import JobRow, ShotRow, TakeRow

from conftest import EXAMPLE, PREVIS_SIZE
from postgres import create_schema

RAY = Path(sys.executable).parent / "ray"
SLOW_PLUGIN = Path(__file__).parent / "slow_backend"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def ray_head(postgres_url: str) -> Iterator[str]:
    """A Ray head on 127.0.0.1 with 2 CPUs, for this module; its address. ``--block`` keeps the
    command in the foreground, and stopping it stops the processes it started (and only those:
    ``ray stop`` would stop every Ray on the machine). Started after the PostgreSQL server, so
    that its workers inherit the session's PGPASSFILE, as a team's Ray nodes each have their
    own ~/.pgpass."""
    port = _free_port()
    # Ray's socket paths must fit in 107 bytes: a short folder, not pytest's tmp_path.
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    command = [str(RAY), "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2"]
    command += ["--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}", "--block"]
    head = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert head.poll() is None and time.monotonic() < deadline, "the Ray head did not start"
            time.sleep(0.2)
    time.sleep(1.0)  # the port answers before the raylet has registered
    try:
        yield f"127.0.0.1:{port}"
    finally:
        head.send_signal(signal.SIGTERM)
        head.wait(60)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def slow_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The ``slow`` backend plugin pip-installed into a folder on sys.path (the Ray workers get
    the driver's sys.path, so they find it too)."""
    target = tmp_path_factory.mktemp("slow") / "site"
    source = shutil.copytree(SLOW_PLUGIN, target.parent / "src")
    command = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps"]
    subprocess.run([*command, "--no-build-isolation", "--target", str(target), str(source)], check=True)
    sys.path.insert(0, str(target))
    yield target
    sys.path.remove(str(target))
    sys.modules.pop("soundstage_slow", None)


def _settings(production: Production, text: str) -> Production:
    """The production reopened with ``text`` added to its soundstage.toml."""
    toml = production.root / "soundstage.toml"
    toml.write_text(toml.read_text() + text)
    return Production.open(production.root)


def _shots(production: Production) -> list[str]:
    """Two shots of the rendered scenes."""
    rendered = [s.code for s in production.shots() if s.scene in ("3", "4")]
    return rendered[:2]


def _takes_of(production: Production, jobs: list[int]) -> list[TakeRow]:
    with session_scope(production.engine) as session:
        rows = list(session.scalars(select(TakeRow).where(TakeRow.job_id.in_(jobs))))
        session.expunge_all()
    return rows


def _jobs(production: Production, jobs: list[int]) -> dict[int, JobRow]:
    with session_scope(production.engine) as session:
        rows = session.scalars(select(JobRow).where(JobRow.id.in_(jobs))).all()
        session.expunge_all()
    return {row.id: row for row in rows}


def _media_whole(production: Production) -> int:
    """Every object in the media store is whole (its name is its hash); how many."""
    objects = [p for p in production.media.root.rglob("*.*") if p.is_file() and len(p.stem) == 64]
    for path in objects:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem, path
    return len(objects)


def test_previs_takes_on_ray_are_recorded_once_and_match_local_takes(
    copy_production: Production, ray_head: str, cli
) -> None:
    """``[executor] kind = "ray"`` in settings: soundstage work runs the jobs as Ray tasks in the
    Ray workers' processes; each job is done once, with one take, numbered 1..n per shot, checked,
    and its bytes are those the local executor makes of the same recipe."""
    production = _settings(copy_production, f'\n[executor]\nkind = "ray"\naddress = "{ray_head}"\n')
    first, second = _shots(production)
    jobs = production.queue_takes(first, TakeOptions(count=3, seed=7))
    jobs += production.queue_takes(second, TakeOptions(count=2, seed=7))
    production.close()

    result = cli("-p", production.root, "work", "-n", "2")
    assert result.code == 0, result.err
    assert "5 take(s) made" in result.out

    with Production.open(production.root) as done:
        rows = _jobs(done, jobs)
        assert {row.state for row in rows.values()} == {queue.DONE}
        assert {row.attempts for row in rows.values()} == {1}
        # Claimed in Ray's worker processes, not in this one.
        pids = {int(row.worker.rpartition(":")[2]) for row in rows.values()}
        assert os.getpid() not in pids
        takes = _takes_of(done, jobs)
        assert sorted(t.job_id for t in takes) == sorted(jobs)
        with session_scope(done.engine) as session:
            shot_of = dict(session.execute(select(ShotRow.id, ShotRow.code)).all())
        numbers = {code: sorted(t.number for t in takes if shot_of[t.shot_id] == code) for code in (first, second)}
        assert numbers == {first: [1, 2, 3], second: [1, 2]}
        assert all(done.findings(f"{shot_of[t.shot_id]}/{t.number}") for t in takes)  # checked on Ray
        on_ray = {(t.shot_id, t.recipe_sha256): t.output_sha256 for t in takes}

        # The same recipes on the local executor make the same bytes.
        again = done.queue_takes(first, TakeOptions(count=3, seed=7))
    toml = production.root / "soundstage.toml"
    toml.write_text(toml.read_text().replace('kind = "ray"', 'kind = "local"'))
    with Production.open(production.root) as local:
        assert local.work(workers=1).takes == 3
        local_takes = _takes_of(local, again)
        assert {on_ray[(t.shot_id, t.recipe_sha256)] for t in local_takes} == {t.output_sha256 for t in local_takes}
        assert _media_whole(local) >= 3


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ray_production(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Production]:
    """A production with rendered shots for the kill tests: the shared example's copy (SQLite),
    or the example planned, laid out and rendered (scene 3) on PostgreSQL, as a team runs it."""
    if request.param == "sqlite":
        yield request.getfixturevalue("copy_production")
        return
    url = create_schema(request.getfixturevalue("postgres_url"))
    with Production.init(tmp_path / "team", database_url=url) as production:
        production.import_script(EXAMPLE)
        production.plan()
        production.layout(scene="3")
        production.previs(size=PREVIS_SIZE, scene="3")
        yield production


def _slow_production(production: Production, extra: str = "") -> Production:
    """The production reopened with short leases, a job a batch and the ``slow`` backend taking
    2 s a take, so a job is still running when its worker is killed."""
    toml = production.root / "soundstage.toml"
    toml.write_text(toml.read_text().replace("workers = 2", "workers = 2\nlease_s = 1.5\nbatch = 1"))
    return _settings(production, "\n[generate.slow]\nseconds = 2.0\n" + extra)


def _work_in_background(production: Production, address: str) -> tuple[threading.Thread, dict[str, object]]:
    """``work`` on Ray at ``address`` with 2 workers, in a thread; its outcome (report or error)."""
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["report"] = production.work(workers=2, ray=address)
        except BaseException as error:  # noqa: BLE001 -- shown by the assertion below
            outcome["error"] = error

    worker = threading.Thread(target=work)
    worker.start()
    return worker, outcome


def _running_job(production: Production, jobs: list[int], held: Callable[[int], bool] = lambda pid: True) -> JobRow:
    """The first of ``jobs`` seen running in a process for which ``held(pid)`` is true."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for row in _jobs(production, jobs).values():
            if row.state == queue.RUNNING and held(int(row.worker.rpartition(":")[2])):
                return row
        time.sleep(0.05)
    raise AssertionError("no job started running where it was looked for on Ray")


def _assert_done_once(production: Production, jobs: list[int], victim: JobRow) -> None:
    """Every job done with one take, numbered 1..n; the victim's job claimed again by another
    worker after its lease; only whole media in the store."""
    rows = _jobs(production, jobs)
    assert {row.state for row in rows.values()} == {queue.DONE}
    assert rows[victim.id].attempts == 2  # claimed again after the lease
    assert rows[victim.id].worker != victim.worker
    takes = _takes_of(production, jobs)
    assert sorted(t.job_id for t in takes) == sorted(jobs)  # one take each, none twice
    assert sorted(t.number for t in takes) == [1, 2, 3]
    assert all(production.media.path(t.output_sha256, ".png").is_file() for t in takes)
    assert _media_whole(production) >= 3


def test_a_ray_worker_killed_mid_job_leaves_the_job_to_be_claimed_again(
    ray_production: Production, ray_head: str, slow_plugin: Path
) -> None:
    """SIGKILL the Ray worker process holding a job, mid-job: the job is claimed again by another
    task once its lease runs out and recorded once; every job has one take; the store holds only
    whole media. On SQLite and on PostgreSQL (a team's queue)."""
    production = _slow_production(ray_production)
    first, _ = _shots(production)
    jobs = production.queue_takes(first, TakeOptions(backend="slow", count=3))

    worker, outcome = _work_in_background(production, ray_head)
    victim = _running_job(production, jobs)
    pid = int(victim.worker.rpartition(":")[2])
    assert pid != os.getpid()
    assert "ray" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")  # a Ray worker
    os.kill(pid, signal.SIGKILL)
    worker.join(120)
    assert not worker.is_alive()
    assert "error" not in outcome, outcome.get("error")
    _assert_done_once(production, jobs, victim)
    production.close()


def _descendants(pid: int) -> set[int]:
    """The processes below ``pid`` (children, theirs, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:  # gone meanwhile
            continue
        children.setdefault(int(fields["PPid"]), []).append(int(fields["Pid"]))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


@contextmanager
def ray_node(address: str, cpus: int) -> Iterator[subprocess.Popen[bytes]]:
    """A second Ray node on this machine joined to the head at ``address`` (``ray start
    --address --block``); its ``ray start`` process, once the head counts the node. Whatever is
    left of it is stopped at the end."""
    import ray

    temp = tempfile.mkdtemp(prefix="rayn", dir="/tmp")
    command = [str(RAY), "start", f"--address={address}", "--node-ip-address=127.0.0.1", f"--num-cpus={cpus}"]
    command += ["--disable-usage-stats", f"--temp-dir={temp}", "--block"]
    node = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ray.init(address=address, logging_level="WARNING", configure_logging=False)
        try:
            deadline = time.monotonic() + 90
            while sum(n["Alive"] for n in ray.nodes()) < 2:
                assert node.poll() is None and time.monotonic() < deadline, "the second Ray node did not join"
                time.sleep(0.2)
        finally:
            ray.shutdown()
        yield node
    finally:
        for pid in _descendants(node.pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        node.kill()
        node.wait(60)
        shutil.rmtree(temp, ignore_errors=True)


def test_a_whole_ray_node_killed_mid_job_leaves_the_job_to_be_claimed_again(
    copy_production: Production, ray_head: str, slow_plugin: Path
) -> None:
    """A second node joins the head; each task asks for 2 CPUs, so with 2 workers one runs on
    each node. Every process of the second node (its raylet, its Ray workers, ``ray start``) is
    SIGKILLed while a job runs there, as a machine lost at once: the job is claimed again on the
    head once its lease runs out and recorded once; no partial media."""
    production = _slow_production(copy_production, "\n[executor.resources.slow]\nnum_cpus = 2\n")
    first, _ = _shots(production)
    jobs = production.queue_takes(first, TakeOptions(backend="slow", count=3))
    with ray_node(ray_head, cpus=2) as node:
        worker, outcome = _work_in_background(production, ray_head)
        victim = _running_job(production, jobs, held=lambda pid: pid in _descendants(node.pid))
        for pid in [*_descendants(node.pid), node.pid]:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        worker.join(180)
    assert not worker.is_alive()
    assert "error" not in outcome, outcome.get("error")
    _assert_done_once(production, jobs, victim)
    production.close()


def test_an_unreachable_ray_address_is_one_line_and_claims_nothing(copy_production: Production, cli) -> None:
    first, _ = _shots(copy_production)
    jobs = copy_production.queue_takes(first, TakeOptions(count=2))
    copy_production.close()
    closed = f"127.0.0.1:{_free_port()}"
    started = time.monotonic()
    result = cli("-p", copy_production.root, "work", "--ray", closed)
    assert result.code == 2
    assert result.err.strip().count("\n") == 0
    assert result.err.startswith(f"error: Ray at {closed}: cannot connect")
    assert time.monotonic() - started < 30
    with Production.open(copy_production.root) as production:
        rows = _jobs(production, jobs)
        assert {(row.state, row.attempts, row.worker) for row in rows.values()} == {(queue.QUEUED, 0, "")}


def test_a_backend_asking_for_more_than_the_cluster_has_is_refused_before_any_claim(
    copy_production: Production, ray_head: str, cli
) -> None:
    production = _settings(copy_production, "\n[executor.resources.previs]\nnum_gpus = 1\n")
    first, _ = _shots(production)
    jobs = production.queue_takes(first, TakeOptions(count=2))
    production.close()
    result = cli("-p", production.root, "work", "--ray", ray_head)
    assert result.code == 2
    assert "a task of backend previs asks for 1 GPU, the cluster has 0 ([executor.resources.previs]" in result.err
    with Production.open(production.root) as reopened:
        assert {(row.state, row.attempts) for row in _jobs(reopened, jobs).values()} == {(queue.QUEUED, 0)}


def test_resources_per_backend() -> None:
    """A GPU for the diffusers backends unless they are on the CPU, none for previs; settings win."""
    assert resources_for("previs", Generate(), {}) == {"num_cpus": 1.0, "num_gpus": 0.0}
    assert resources_for("diffusers", Generate(), {})["num_gpus"] == 1.0
    assert resources_for("diffusers_video", Generate(), {})["num_gpus"] == 1.0
    assert resources_for("diffusers", Generate(diffusers={"device": "cpu"}), {})["num_gpus"] == 0.0
    farm = {"diffusers": TaskResources(num_gpus=0.5, memory_gb=24)}
    assert resources_for("diffusers", Generate(), farm) == {"num_cpus": 1.0, "num_gpus": 0.5, "memory": 24 * 2**30}
