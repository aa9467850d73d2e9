"""The take queue, in the production's database.

Jobs are claimed atomically (SQLite: the claiming transaction holds the write lock from its
first statement; PostgreSQL: ``FOR UPDATE SKIP LOCKED``), kept alive by heartbeats, and
claimed again when their worker stops beating, so killing a worker or the machine loses
nothing. A take is recorded in the same transaction that marks its job done, and a take's
job id is unique, so a job that runs twice still records one take.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from soundstage.generate.backend import Recipe
from soundstage.store.db import session_scope
from soundstage.store.tables import JobRow, TakeRow, utcnow

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed job: what a worker needs to run it."""

    id: int
    shot_id: int
    recipe: Recipe


def enqueue(engine: Engine, shot_id: int, recipes: list[Recipe], *, requested_by_login: str = "") -> list[int]:
    """Queue takes of one shot; returns their job ids. ``requested_by_login``: the
    operating-system login of whoever queued them, which their takes record beside the
    recipe's ``requested_by``."""
    with session_scope(engine) as session:
        rows = [
            JobRow(
                shot_id=shot_id,
                backend=r.backend,
                recipe=r.model_dump(mode="json"),
                requested_by_login=requested_by_login,
            )
            for r in recipes
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def claim(engine: Engine, worker: str, lease_s: float, limit: int) -> list[Job]:
    """Claim up to ``limit`` jobs of one shot and backend (so a backend can batch them): queued
    ones, or running ones whose worker has not sent a heartbeat within the lease.

    One UPDATE ... RETURNING: it runs for every take, so it is kept to a single statement.
    """
    now = utcnow()
    jobs = JobRow.__table__
    claimable = or_(
        jobs.c.state == QUEUED,
        (jobs.c.state == RUNNING) & (jobs.c.heartbeat_at < now - timedelta(seconds=lease_s)),
    )
    first = select(jobs.c.shot_id, jobs.c.backend).where(claimable).order_by(jobs.c.id).limit(1).subquery()
    chosen = (
        select(jobs.c.id)
        .where(claimable, jobs.c.shot_id == select(first.c.shot_id).scalar_subquery())
        .where(jobs.c.backend == select(first.c.backend).scalar_subquery())
        .order_by(jobs.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with engine.begin() as connection:
        rows = connection.execute(
            update(jobs)
            .where(jobs.c.id.in_(chosen.scalar_subquery()))
            .values(state=RUNNING, worker=worker, heartbeat_at=now, attempts=jobs.c.attempts + 1)
            .returning(jobs.c.id, jobs.c.shot_id, jobs.c.recipe)
        ).all()
    return sorted(
        (Job(id_, shot_id, Recipe.model_validate(recipe)) for id_, shot_id, recipe in rows), key=lambda j: j.id
    )


def heartbeat(engine: Engine, job_ids: list[int], worker: str) -> None:
    """Tell the queue these jobs are still being worked on."""
    with session_scope(engine) as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id.in_(job_ids), JobRow.worker == worker, JobRow.state == RUNNING)
            .values(heartbeat_at=utcnow())
        )


def complete(engine: Engine, finished: list[tuple[Job, str]]) -> int:
    """Record the takes of finished jobs (each with its output's sha256) and mark the jobs done,
    in one transaction; returns how many takes were recorded. A job cancelled meanwhile, or
    already recorded by another run of it, records nothing."""
    try:
        with engine.begin() as connection:
            return sum(_record(connection, job, sha) for job, sha in finished)
    except IntegrityError:
        # Another run of one of these jobs recorded it first (one take per job): record the
        # rest one by one so that job alone is skipped.
        if len(finished) == 1:
            return 0
        return sum(complete(engine, [item]) for item in finished)


def _record(connection: Connection, job: Job, output_sha256: str) -> int:
    """Two statements: the job moves to done only from running; the take gets the shot's next number."""
    done = connection.execute(
        update(JobRow.__table__)
        .where(JobRow.id == job.id, JobRow.state == RUNNING)
        .values(state=DONE, error="")
        .returning(JobRow.id)
    ).first()
    if done is None:
        return 0
    takes = TakeRow.__table__
    next_number = (
        select(func.coalesce(func.max(takes.c.number), 0) + 1).where(takes.c.shot_id == job.shot_id)
    ).scalar_subquery()
    connection.execute(
        insert(takes).values(
            shot_id=job.shot_id,
            number=next_number,
            job_id=job.id,
            backend=job.recipe.backend,
            recipe=job.recipe.model_dump(mode="json"),
            recipe_sha256=job.recipe.sha256(),
            output_sha256=output_sha256,
            requested_by=job.recipe.requested_by,
            requested_by_login=select(JobRow.__table__.c.requested_by_login)
            .where(JobRow.__table__.c.id == job.id)
            .scalar_subquery(),
            created_at=utcnow(),
        )
    )
    return 1


def fail(engine: Engine, job: Job, error: str) -> None:
    """Mark a job failed with a one-line reason."""
    with session_scope(engine) as session:
        session.execute(
            update(JobRow).where(JobRow.id == job.id, JobRow.state == RUNNING).values(state=FAILED, error=error)
        )


def cancel(engine: Engine, job_ids: list[int] | None = None) -> int:
    """Cancel queued and running jobs (all of them when ``job_ids`` is None); how many."""
    with session_scope(engine) as session:
        query = update(JobRow).where(JobRow.state.in_((QUEUED, RUNNING))).values(state=CANCELLED)
        if job_ids is not None:
            query = query.where(JobRow.id.in_(job_ids))
        return session.execute(query).rowcount


def counts(engine: Engine) -> dict[str, int]:
    """Jobs per state."""
    with session_scope(engine) as session:
        return dict(session.execute(select(JobRow.state, func.count()).group_by(JobRow.state)).all())
