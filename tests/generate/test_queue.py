"""The take queue's guarantees: takes of one shot completed at once by two workers on both
servers, the attempt cap and the dead state, only a job's own worker finishing it, transient
failures retried and permanent ones failed with their own message (against the ComfyUI-shaped
server), and retrying failed or dead jobs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select

from soundstage.errors import JobError, StoreError
from soundstage.generate import queue
from soundstage.generate.backend import Recipe
from soundstage.project import Production, TakeOptions
from soundstage.project.takes import run_jobs
from soundstage.store.db import session_scope
from soundstage.store.tables import JobRow, ShotRow, TakeRow

from . import comfy_server
from .comfy_server import ComfyServer
from conftest import EXAMPLE

COMFY_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "comfyui" / "soundstage_controlnet.json"
OUTPUT = "0" * 64  # the sha256 a completed job names; the queue does not read the media store


def _shot(production: Production) -> tuple[str, int]:
    code = production.shots()[0].code
    with session_scope(production.engine) as session:
        return code, session.scalars(select(ShotRow.id).where(ShotRow.code == code)).one()


def _jobs(production: Production) -> dict[int, JobRow]:
    with session_scope(production.engine) as session:
        rows = session.scalars(select(JobRow)).all()
        session.expunge_all()
    return {row.id: row for row in rows}


def _numbers(production: Production, shot_id: int) -> list[int]:
    with session_scope(production.engine) as session:
        return sorted(session.scalars(select(TakeRow.number).where(TakeRow.shot_id == shot_id)))


@pytest.fixture
def planned(tmp_path: Path, database_url: str):
    """The example planned (no previs) in a production on SQLite and on PostgreSQL."""
    with Production.init(tmp_path / "team", database_url=database_url) as production:
        production.import_script(EXAMPLE)
        production.plan()
        yield production


def test_two_workers_completing_takes_of_one_shot_at_once(planned: Production) -> None:
    """Two workers each claim one job of the same shot and complete it at the same moment, round
    after round: every job is done, each with one take, numbered 1..N without a gap."""
    code, shot_id = _shot(planned)
    rounds = 15
    ids = queue.enqueue(
        planned.engine, shot_id, [Recipe(shot=code, backend="previs", seed=i) for i in range(2 * rounds)]
    )
    together = threading.Barrier(2)
    recorded: dict[str, int] = {"a": 0, "b": 0}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            for _ in range(rounds):
                jobs = queue.claim(planned.engine, name, lease_s=60, limit=1)
                together.wait(timeout=30)
                recorded[name] += queue.complete(planned.engine, [(job, OUTPUT) for job in jobs])
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
            together.abort()

    threads = [threading.Thread(target=worker, args=(name,)) for name in recorded]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert recorded == {"a": rounds, "b": rounds}
    assert {row.state for row in _jobs(planned).values()} == {queue.DONE}
    assert _numbers(planned, shot_id) == list(range(1, len(ids) + 1))


def test_take_numbers_come_from_the_shot_counter_and_are_never_reused(planned: Production) -> None:
    code, shot_id = _shot(planned)
    queue.enqueue(planned.engine, shot_id, [Recipe(shot=code, backend="previs", seed=i) for i in range(3)])
    jobs = queue.claim(planned.engine, "a", lease_s=60, limit=3)
    assert queue.complete(planned.engine, [(job, OUTPUT) for job in jobs]) == 3
    with session_scope(planned.engine) as session:
        session.delete(session.scalars(select(TakeRow).where(TakeRow.number == 3)).one())
    queue.enqueue(planned.engine, shot_id, [Recipe(shot=code, backend="previs", seed=9)])
    again = queue.claim(planned.engine, "a", lease_s=60, limit=1)
    queue.complete(planned.engine, [(job, OUTPUT) for job in again])
    # max+1 would hand out 3 again: a take that was deleted keeps its number.
    assert _numbers(planned, shot_id) == [1, 2, 4]


def test_a_take_the_database_refuses_is_not_taken_for_already_recorded(planned: Production) -> None:
    """A take number already used (here a take inserted behind the queue's back) makes complete
    fail in one line naming the job, with nothing of the batch recorded: the job is neither
    marked done nor silently dropped, so the worker can fail it with that message."""
    code, shot_id = _shot(planned)
    queue.enqueue(planned.engine, shot_id, [Recipe(shot=code, backend="previs", seed=i) for i in range(2)])
    first, second = queue.claim(planned.engine, "a", lease_s=60, limit=2)
    assert queue.complete(planned.engine, [(first, OUTPUT)]) == 1
    recipe = second.recipe
    with session_scope(planned.engine) as session:
        session.add(
            TakeRow(
                shot_id=shot_id, number=2, backend="previs", recipe=recipe.model_dump(mode="json"),
                recipe_sha256=recipe.sha256(), output_sha256=OUTPUT,
            )
        )  # fmt: skip
    with pytest.raises(StoreError, match=rf"^jobs {second.id}: the takes could not be recorded \("):
        queue.complete(planned.engine, [(second, OUTPUT)])
    row = _jobs(planned)[second.id]
    assert (row.state, row.worker) == (queue.RUNNING, "a")
    assert queue.fail(planned.engine, second, "could not be recorded")
    assert _jobs(planned)[second.id].state == queue.FAILED


def test_a_job_claimed_max_attempts_times_goes_dead(planned: Production, cli) -> None:
    """A job whose worker dies every time (its lease runs out) is claimed three times, then it is
    dead: no worker gets it again, `take jobs` shows it with its reason, `take retry` revives it."""
    code, shot_id = _shot(planned)
    (job_id,) = queue.enqueue(planned.engine, shot_id, [Recipe(shot=code, backend="previs")])
    claims = [queue.claim(planned.engine, f"w{i}", lease_s=0, limit=1, max_attempts=3) for i in range(4)]
    assert [[job.attempts for job in jobs] for jobs in claims] == [[1], [2], [3], []]
    row = _jobs(planned)[job_id]
    assert (row.state, row.attempts) == (queue.DEAD, 3)
    assert row.error.startswith("claimed 3 times and never finished")
    assert queue.claim(planned.engine, "w5", lease_s=0, limit=1) == []

    listed = cli("-p", planned.root, "take", "jobs")
    assert listed.code == 0, listed.err
    assert f"{job_id}" in listed.out and "dead" in listed.out and code in listed.out

    retried = cli("-p", planned.root, "take", "retry", "--failed", "--by", "ana")
    assert retried.code == 0, retried.err
    row = _jobs(planned)[job_id]
    assert (row.state, row.attempts, row.worker) == (queue.QUEUED, 0, "")
    assert row.error.startswith("re-queued by ana after: claimed 3 times")
    assert [job.id for job in queue.claim(planned.engine, "w6", lease_s=60, limit=1)] == [job_id]


def test_retry_refuses_unknown_and_unfinished_jobs_and_changes_nothing(planned: Production, cli) -> None:
    code, shot_id = _shot(planned)
    failed, waiting = queue.enqueue(
        planned.engine, shot_id, [Recipe(shot=code, backend="previs", seed=i) for i in range(2)]
    )
    (job,) = queue.claim(planned.engine, "a", lease_s=60, limit=1)
    assert queue.fail(planned.engine, job, "the sampler ran out of memory")
    unknown = cli("-p", planned.root, "take", "retry", failed, 999)
    assert unknown.code == 2
    assert unknown.err.strip().splitlines() == ["error: take retry: there is no job 999"]
    with pytest.raises(JobError, match=f"^take retry: job {waiting} is queued; only failed or dead jobs are retried$"):
        queue.retry(planned.engine, [failed, waiting])
    assert _jobs(planned)[failed].state == queue.FAILED  # nothing re-queued
    assert queue.retry(planned.engine, [failed]) == [failed]
    assert _jobs(planned)[failed].state == queue.QUEUED


def test_a_stale_worker_cannot_complete_or_fail_a_job_claimed_since(
    planned: Production, caplog: pytest.LogCaptureFixture
) -> None:
    """Worker a's lease runs out and b claims its job: a's take is not recorded, a cannot fail
    the job, and each refusal says why; b finishes it."""
    code, shot_id = _shot(planned)
    (job_id,) = queue.enqueue(planned.engine, shot_id, [Recipe(shot=code, backend="previs")])
    (stale,) = queue.claim(planned.engine, "a", lease_s=60, limit=1)
    (fresh,) = queue.claim(planned.engine, "b", lease_s=0, limit=1)
    assert fresh.id == stale.id == job_id
    with caplog.at_level(logging.WARNING, logger="soundstage.generate.queue"):
        assert queue.complete(planned.engine, [(stale, OUTPUT)]) == 0
        assert not queue.fail(planned.engine, stale, "a's error")
        assert queue.requeue(planned.engine, stale, "a's transient error") == ""
    refusals = [record.getMessage() for record in caplog.records]
    assert refusals[0] == (
        f"job {job_id}: worker a no longer holds it (its lease ran out and b claimed it since); "
        "its take is not recorded"
    )
    assert all("no longer holds it" in line for line in refusals) and len(refusals) == 3
    row = _jobs(planned)[job_id]
    assert (row.state, row.worker, row.error) == (queue.RUNNING, "b", "")
    assert _numbers(planned, shot_id) == []
    assert queue.complete(planned.engine, [(fresh, OUTPUT)]) == 1
    assert _numbers(planned, shot_id) == [1]


# -- transient and permanent failures, against the ComfyUI-shaped server -----------------------


def _comfy_production(production: Production, url: str, backoff_s: float, batch: int = 2) -> Production:
    toml = production.root / "soundstage.toml"
    toml.write_text(
        toml.read_text().replace("workers = 2", f"workers = 2\nbatch = {batch}\nretry_backoff_s = {backoff_s}")
        + f'\n[generate.comfyui]\nurl = "{url}"\nworkflow = "{COMFY_EXAMPLE}"\ntimeout_s = 10\n'
    )
    return Production.open(production.root)


def _maisie(production: Production) -> str:
    return next(s.code for s in production.shots("3") if s.subjects == ("MAISIE",))


def test_a_server_restarted_mid_queue_loses_no_take(copy_production: Production) -> None:
    """The server goes away after the takes are queued and comes back while the worker waits out
    its backoff: the transient failure is retried and every take is made."""
    server = ComfyServer().start()
    with _comfy_production(copy_production, server.url, backoff_s=0.5) as production:
        code = _maisie(production)
        jobs = production.queue_takes(code, TakeOptions(backend="comfyui", count=2))
        port = server.port
        server.stop()
        restarted = ComfyServer(port=port)

        def restart_after_the_first_failure() -> None:
            deadline = time.monotonic() + 30
            while not any(row.retry_at for row in _jobs(production).values()) and time.monotonic() < deadline:
                time.sleep(0.02)
            restarted.start()

        restarting = threading.Thread(target=restart_after_the_first_failure)
        restarting.start()
        try:
            report = run_jobs(production.root)
        finally:
            restarting.join()
            restarted.stop()
        rows = _jobs(production)
    assert (report.takes, report.failed) == (2, 0) and report.retried >= 1
    assert {rows[j].state for j in jobs} == {queue.DONE}
    assert all(rows[j].attempts == 2 for j in jobs)
    assert len(restarted.history) == 2


def test_a_server_that_stays_away_leaves_dead_jobs_that_retry_revives(copy_production: Production) -> None:
    server = ComfyServer().start()
    with _comfy_production(copy_production, server.url, backoff_s=0.05) as production:
        code = _maisie(production)
        jobs = production.queue_takes(code, TakeOptions(backend="comfyui", count=2))
        port = server.port
        server.stop()
        report = run_jobs(production.root)
        rows = _jobs(production)
        assert (report.takes, report.failed) == (0, 2)
        for job in jobs:
            assert (rows[job].state, rows[job].attempts) == (queue.DEAD, 3)
            assert rows[job].error.startswith(f"gave up after 3 attempts: ComfyUI at {server.url} is not reachable")
        assert production.retry_jobs(jobs) == jobs
        with ComfyServer(port=port) as back:
            report = run_jobs(production.root)
        assert (report.takes, report.failed) == (2, 0) and len(back.history) == 2


def test_a_permanent_failure_fails_at_once_with_each_jobs_own_message(copy_production: Production) -> None:
    """A node failure is not retried, and each job of the batch says what happened to its own
    prompt (the server's history names both), never to its neighbour's."""
    with ComfyServer() as server, _comfy_production(copy_production, server.url, backoff_s=0.05) as production:
        code = _maisie(production)
        jobs = production.queue_takes(code, TakeOptions(backend="comfyui", count=2))
        server.faults.add(comfy_server.LOST_OUTPUTS)
        report = run_jobs(production.root)
        rows = _jobs(production)
        prompts = list(server.history)
    assert (report.takes, report.failed, report.retried) == (0, 2, 0)
    assert all((rows[j].state, rows[j].attempts) == (queue.FAILED, 1) for j in jobs)
    errors = [rows[j].error for j in jobs]
    assert len(prompts) == 3  # the batch stopped at its first prompt; then each job alone
    for error, prompt in zip(errors, prompts[1:]):
        assert error.endswith(f"of soundstage_controlnet.json (prompt {prompt})"), error
    assert errors[0] != errors[1]


def test_a_claim_reads_open_jobs_through_their_index_not_every_finished_one(planned: Production) -> None:
    """With thousands of finished jobs, each statement of a claim finds its jobs by their state
    (the index of open jobs): a farm's claims must not slow down as the table of done jobs grows."""
    code, shot_id = _shot(planned)
    engine = planned.engine
    finished = [
        {"shot_id": shot_id, "backend": "previs", "recipe": {}, "state": "done", "worker": "w", "attempts": 1}
        for _ in range(5000)
    ]
    with engine.begin() as connection:
        connection.execute(JobRow.__table__.insert(), finished)
    queue.enqueue(engine, shot_id, [Recipe(shot=code, backend="previs", seed=i) for i in range(3)])
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    with _statements(engine, _CLAIM[engine.dialect.name]) as statements:
        claimed = queue.claim(engine, "w1", lease_s=60, limit=2)
    assert len(claimed) == 2
    # SQLite: the dead-letter sweep and the claim itself; PostgreSQL: both in one statement.
    assert len(statements) == (1 if engine.dialect.name == "postgresql" else 2)
    for statement, parameters in statements:
        plan = _plan(engine, statement, parameters)
        # Found by state (the index of open jobs, or of queued ones), never by walking the table.
        assert _FRONT[engine.dialect.name] in plan, plan
        assert "SCAN jobs'" not in plan and "Seq Scan on jobs" not in plan, plan


def test_a_capped_count_of_claimable_jobs_reads_the_oldest_through_the_open_jobs_index(planned: Production) -> None:
    """With thousands of jobs done and thousands queued, a count of claimable jobs capped at N
    (what the Ray driver asks every round) is of the oldest N, read through the index of open
    jobs: a farm's rounds must not slow down as its queue deepens or its finished jobs pile up."""
    code, shot_id = _shot(planned)
    engine = planned.engine
    recipe = Recipe(shot=code, backend="previs").model_dump(mode="json")
    done = {"shot_id": shot_id, "backend": "previs", "recipe": recipe, "state": "done", "worker": "w", "attempts": 1}
    queued = [{"shot_id": shot_id, "backend": "previs", "recipe": recipe} for _ in range(5000)]
    queued += [{"shot_id": shot_id, "backend": "comfyui", "recipe": recipe} for _ in range(3)]
    with engine.begin() as connection:
        connection.execute(JobRow.__table__.insert(), [done] * 5000)
        connection.execute(JobRow.__table__.insert(), queued)
        connection.exec_driver_sql("ANALYZE")
    assert queue.claimable(engine, 60) == {"previs": 5000, "comfyui": 3}
    with _statements(engine, "SELECT") as statements:
        assert queue.claimable(engine, 60, up_to=8) == {"previs": 8}
    assert len(queue.claim(engine, "w1", lease_s=60, limit=4)) == 4
    assert queue.claimable(engine, 60, up_to=8) == {"previs": 8}  # the claimed ones left the count
    # On PostgreSQL the count's first question is the running jobs' oldest heartbeat (none run).
    floors = [s for s in statements if s[0].startswith("SELECT min(jobs.heartbeat_at)")]
    assert len(floors) == (1 if engine.dialect.name == "postgresql" else 0)
    ((statement, parameters),) = [s for s in statements if s not in floors]
    plan = _plan(engine, statement, parameters)
    assert _FRONT[engine.dialect.name] in plan, plan
    assert "SCAN jobs'" not in plan and "Seq Scan on jobs" not in plan, plan
    assert "Bitmap" not in plan, plan  # a bitmap of every open job's entry


# PostgreSQL's planner statistics only (SQLite has none unless asked): on PostgreSQL alone.
@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_claim_after_refreshed_statistics_walks_to_the_oldest_open_job(planned: Production) -> None:
    """Thousands of jobs queued before the planner has statistics of them (a farm's queue, just
    queued; autovacuum's analyze comes a minute later): once the Ray driver has refreshed them, a
    claim finds its oldest job by walking the index of open jobs, not through a bitmap of every
    open job."""
    assert planned.engine.dialect.name == "postgresql"
    code, shot_id = _shot(planned)
    engine = planned.engine
    recipe = Recipe(shot=code, backend="previs").model_dump(mode="json")
    done = {"shot_id": shot_id, "backend": "previs", "recipe": recipe, "state": "done", "worker": "w", "attempts": 1}
    queued = {"shot_id": shot_id, "backend": "previs", "recipe": recipe}
    with engine.begin() as connection:
        connection.execute(JobRow.__table__.insert(), [done] * 200)
        connection.execute(JobRow.__table__.insert(), [queued] * 5000)
    queue.refresh_statistics(engine)
    with _statements(engine, "WITH") as statements:
        assert len(queue.claim(engine, "w1", lease_s=60, limit=4)) == 4
    ((statement, parameters),) = statements  # the sweep and the claim, one statement
    plan = _plan(engine, statement, parameters)
    assert "ix_jobs_queued" in plan, plan
    assert "Seq Scan on jobs" not in plan and "Bitmap" not in plan, plan


def _spend(engine: Engine, job_ids: list[int], **values: object) -> None:
    """Give jobs the attempts (and state) they would have had from earlier claims."""
    with engine.begin() as connection:
        connection.execute(JobRow.__table__.update().where(JobRow.id.in_(job_ids)).values(**values))


def test_spent_queued_jobs_are_swept_when_they_reach_the_front_and_never_claimed(planned: Production) -> None:
    """Jobs requeued under a larger max_attempts (4 attempts queued, a claim allowing 3) go dead
    once the jobs ahead of them are taken, are never claimed, and a run of them at the end of
    the queue is swept by one claim, which comes back empty only when nothing is left."""
    code, shot_id = _shot(planned)
    engine = planned.engine
    ids = queue.enqueue(engine, shot_id, [Recipe(shot=code, backend="previs", seed=i) for i in range(9)])
    spent = [ids[0], ids[4], *ids[6:]]
    _spend(engine, spent, attempts=4)
    first = queue.claim(engine, "a", lease_s=60, limit=2, max_attempts=3)
    assert [job.id for job in first] == ids[1:3]
    assert _jobs(planned)[ids[0]].state == queue.DEAD  # at the front: swept by the first claim
    assert _jobs(planned)[ids[4]].state == queue.QUEUED  # further back: not yet
    second = queue.claim(engine, "a", lease_s=60, limit=2, max_attempts=3)
    assert [job.id for job in second] == [ids[3], ids[5]]
    assert queue.claim(engine, "a", lease_s=60, limit=2, max_attempts=3) == []
    rows = _jobs(planned)
    assert {i for i, row in rows.items() if row.state == queue.DEAD} == set(spent)
    assert all(rows[i].attempts == 4 for i in spent)  # never claimed again
    assert queue.claimable(engine, 60) == {}


def test_a_spent_job_whose_worker_died_goes_dead_wherever_it_is_in_the_queue(planned: Production) -> None:
    """A job claimed max_attempts times whose lease ran out, behind thousands of queued jobs,
    goes dead at the next claim, found through the index of running jobs' heartbeats."""
    code, shot_id = _shot(planned)
    engine = planned.engine
    recipe = Recipe(shot=code, backend="previs").model_dump(mode="json")
    with engine.begin() as connection:
        connection.execute(
            JobRow.__table__.insert(), [{"shot_id": shot_id, "backend": "previs", "recipe": recipe}] * 3000
        )
    (lost,) = queue.enqueue(engine, shot_id, [Recipe(shot=code, backend="previs")])
    _spend(
        engine, [lost], state=queue.RUNNING, worker="killed", attempts=3, heartbeat_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    claimed = queue.claim(engine, "a", lease_s=60, limit=1, max_attempts=3)
    assert len(claimed) == 1 and claimed[0].id < lost  # the oldest queued job, not the lost one
    row = _jobs(planned)[lost]
    assert (row.state, row.worker, row.attempts) == (queue.DEAD, "killed", 3)
    assert row.error.startswith("claimed 3 times and never finished")


def test_a_claim_skips_the_lapsed_leases_until_one_can_have_lapsed(planned: Production) -> None:
    """On PostgreSQL a claim (and the driver's capped count) reads the running jobs' oldest
    heartbeat only when its cutoff has passed the floor it last read (not every claim), and
    leaves the lapsed range out until then; a job whose worker stopped is still counted and
    claimed again once its lease has run out."""
    code, shot_id = _shot(planned)
    engine = planned.engine
    lost, other = queue.enqueue(engine, shot_id, [Recipe(shot=code, backend="previs")] * 2)
    with _statements(engine, "SELECT MIN") as floors, _statements(engine, "WITH") as claims:
        assert [job.id for job in queue.claim(engine, "killed", lease_s=2, limit=1)] == [lost]
        assert [job.id for job in queue.claim(engine, "b", lease_s=2, limit=1)] == [other]
        assert queue.claim(engine, "b", lease_s=2, limit=1) == []  # nothing lapsed yet: none taken
        if engine.dialect.name == "postgresql":
            assert len(floors) == 1  # the first claim's; the floor then lies after the cutoffs
            assert all("lapsed_jobs" not in statement for statement, _ in claims)
        assert queue.claimable(engine, 2, up_to=8) == {}  # the driver's count, the same way
        time.sleep(2.2)  # "killed" sends no heartbeat; b sends one for its job
        queue.heartbeat(engine, [other], "b")
        assert queue.claimable(engine, 2, up_to=8) == {"previs": 1}
        (again,) = queue.claim(engine, "c", lease_s=2, limit=1)
        if engine.dialect.name == "postgresql":
            assert len(floors) == 2 and "lapsed_jobs" in claims[-1][0]
    assert (again.id, again.worker, again.attempts) == (lost, "c", 2)


def test_a_claims_statements_read_the_front_of_the_queue_not_all_of_it(planned: Production) -> None:
    """With thousands of jobs queued and thousands done, each statement of a claim reads through
    the index meant for it: the sweep of spent jobs through the running jobs' heartbeats and the
    oldest open jobs, the batch through its shot's open jobs (here the first shot has two, fewer
    than the batch, and thousands of another shot's follow); on PostgreSQL the rows its scans of
    the jobs table look at stay a handful (before 0019_lease the sweep read every open job)."""
    code, shot_id = _shot(planned)
    engine = planned.engine
    with session_scope(engine) as session:
        other = session.scalars(select(ShotRow.id).where(ShotRow.id != shot_id)).first()
    recipe = Recipe(shot=code, backend="previs").model_dump(mode="json")
    done = {"shot_id": other, "backend": "previs", "recipe": recipe, "state": "done", "worker": "w", "attempts": 1}
    queued = {"shot_id": other, "backend": "previs", "recipe": recipe}
    with engine.begin() as connection:
        connection.execute(JobRow.__table__.insert(), [done] * 3000)
        connection.execute(JobRow.__table__.insert(), [{**queued, "shot_id": shot_id}] * 2)
        connection.execute(JobRow.__table__.insert(), [queued] * 3000)
    queue.refresh_statistics(engine)
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    # A lease shorter than a second: on PostgreSQL the claim reads the lapsed leases then (its
    # cutoff is past the floor of heartbeats it reads first), as when one may have run out.
    with _statements(engine, _CLAIM[engine.dialect.name]) as statements:
        assert {job.shot_id for job in queue.claim(engine, "w1", lease_s=0.5, limit=4, backend="previs")} == {shot_id}
    if engine.dialect.name == "postgresql":
        ((statement, parameters),) = statements  # the sweep and the batch, one statement
        sweep_plan = batch_plan = _plan(engine, statement, parameters)
    else:
        (sweep, sweep_parameters), (batch, batch_parameters) = statements
        sweep_plan, batch_plan = _plan(engine, sweep, sweep_parameters), _plan(engine, batch, batch_parameters)
    assert "ix_jobs_lease" in sweep_plan and _FRONT[engine.dialect.name] in sweep_plan, sweep_plan
    assert "ix_jobs_shot " in batch_plan or "ix_jobs_shot (" in batch_plan, batch_plan
    for plan in (sweep_plan, batch_plan):
        assert "SCAN jobs'" not in plan and "Seq Scan on jobs" not in plan, plan
        assert "Bitmap" not in plan, plan  # a bitmap reads every matching entry, dead ones too
    if engine.dialect.name == "postgresql":
        for statement, parameters in statements:
            assert _rows_looked_at(engine, statement, parameters) < 50, statement


# How a claim's statements start, and the index its walks from the queue's front read: on
# PostgreSQL one statement (the sweep and the claim as CTEs) walking the queued jobs only.
_CLAIM = {"sqlite": "UPDATE JOBS", "postgresql": "WITH"}
_FRONT = {"sqlite": "ix_jobs_open", "postgresql": "ix_jobs_queued"}


@contextmanager
def _statements(engine: Engine, prefix: str) -> Iterator[list[tuple[str, object]]]:
    """The statements starting with ``prefix`` that ``engine`` sends inside the block, with
    their parameters, to ask the planner about them afterwards."""
    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith(prefix):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def _rows_looked_at(engine: Engine, statement: str, parameters: object) -> int:
    """On PostgreSQL, the rows that a statement's scans of the jobs table returned or filtered
    out, as EXPLAIN ANALYZE counts them (the statement runs, and is rolled back)."""
    with engine.connect() as connection:
        (plan,) = connection.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar_one()
        connection.rollback()

    def looked(node: dict) -> int:
        own = 0
        if node.get("Relation Name") == "jobs":
            loops = node.get("Actual Loops", 1)
            own = round((node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * loops)
        return own + sum(looked(child) for child in node.get("Plans", []))

    return looked(plan["Plan"])


def _plan(engine: Engine, statement: str, parameters: object) -> str:
    """The database's query plan of a statement, as one line."""
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        return " ".join(str(row) for row in connection.exec_driver_sql(explain + statement, parameters))
