"""The take queue, in the production's database.

Jobs are claimed atomically (SQLite: the claiming transaction holds the write lock from its
first statement; PostgreSQL: ``FOR UPDATE SKIP LOCKED``), kept alive by heartbeats, and
claimed again when their worker stops beating, so killing a worker or the machine loses
nothing. A job claimed ``max_attempts`` times goes dead instead of being claimed again, so a
job that kills its worker cannot do so forever.

Only the worker that holds a job can finish it: ``complete``, ``fail`` and ``requeue`` match
the job's worker as well as its state, so a worker whose lease ran out (and whose job another
worker has claimed since) is refused, with a logged reason, and records nothing. A take is
recorded in the same transaction that marks its job done, and numbered from its shot's row in
``take_counters``: the update of that row makes two workers completing takes of one shot wait
for each other (PostgreSQL's row lock, SQLite's write lock) instead of both reading the same
highest number.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Select,
    bindparam,
    case,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ColumnElement

from soundstage.errors import JobError, StoreError
from soundstage.generate.backend import Recipe
from soundstage.store.db import session_scope
from soundstage.store.tables import OPEN_JOB_STATES, JobRow, ShotRow, TakeCounterRow, TakeRow, utcnow

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
# Claimed max_attempts times without finishing: not claimed again until `soundstage take retry`.
DEAD = "dead"
STATES = (QUEUED, RUNNING, DONE, FAILED, DEAD, CANCELLED)
# What `soundstage take retry` puts back in the queue.
RETRYABLE = (FAILED, DEAD)
MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed job: what a worker needs to run it, who claimed it and how many times it has
    been claimed (this claim included)."""

    id: int
    shot_id: int
    recipe: Recipe
    worker: str = ""
    attempts: int = 0


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


def claim(
    engine: Engine,
    worker: str,
    lease_s: float,
    limit: int,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    backend: str | None = None,
) -> list[Job]:
    """Claim up to ``limit`` jobs of one shot and backend (so a backend can batch them): queued
    ones whose retry time has come, or running ones whose worker has not sent a heartbeat within
    the lease. Those among them already claimed ``max_attempts`` times go dead instead.
    ``backend``: only jobs of that backend (a Ray task asks for the resources of one).

    The sweep and the claim are two UPDATE ... RETURNING: on PostgreSQL one statement (two
    data-modifying CTEs), on SQLite two in one transaction. Their reads do not grow with the
    queue: each is a walk of an index to the jobs it wants.
    """
    now = utcnow()
    jobs = JobRow.__table__
    claimable = _claimable(now, lease_s)
    of_backend = jobs.c.backend == backend if backend is not None else true()
    fresh = claimable & of_backend & (jobs.c.attempts < max_attempts)
    cutoff = now - timedelta(seconds=lease_s)
    queued_due = _queued() & _due(now) & of_backend
    lapsed_any = _running() & (jobs.c.heartbeat_at < cutoff) & of_backend
    candidate = select(jobs.c.id, jobs.c.shot_id, jobs.c.backend)
    lapsed: Select | None
    if engine.dialect.name == "postgresql":
        # The first job: the oldest of the oldest fresh queued job (a walk of ``ix_jobs_queued``,
        # which no claim writes into: see store/tables.py) and the fresh running jobs whose lease
        # ran out (a range of ``ix_jobs_lease``: a handful, as a rule). A CTE, which PostgreSQL
        # computes once however often the statement names it (its shot, id and backend).
        # The lapsed jobs are read once a claim, for the first job and the sweep alike: the range
        # of ix_jobs_lease passes the dead entries that the horizon does not yet let a scan mark
        # (a long-held snapshot, such as an autovacuum's ANALYZE, holds it: docs/benchmarks.md).
        oldest_queued = candidate.where(queued_due, jobs.c.attempts < max_attempts).order_by(jobs.c.id).limit(1)
        if _lease_may_have_lapsed(engine, now, cutoff):
            lapsed_jobs = select(jobs.c.id, jobs.c.shot_id, jobs.c.backend, jobs.c.attempts).where(lapsed_any)
            lapsed_jobs = lapsed_jobs.cte("lapsed_jobs")
            lapsed_fresh = select(lapsed_jobs.c.id, lapsed_jobs.c.shot_id, lapsed_jobs.c.backend).where(
                lapsed_jobs.c.attempts < max_attempts
            )
            either = union_all(oldest_queued.subquery().select(), lapsed_fresh).subquery()
            first = select(either).order_by(either.c.id).limit(1).cte("first_job")
            # The spent ones among them, locked by id (their conditions checked again on the row).
            lapsed_spent = select(lapsed_jobs.c.id).where(lapsed_jobs.c.attempts >= max_attempts)
            lapsed = select(jobs.c.id).where(jobs.c.id.in_(lapsed_spent), lapsed_any, jobs.c.attempts >= max_attempts)
        else:
            # No running job's lease can have run out yet: the claim leaves out the range of
            # ix_jobs_lease, whose dead entries (finished jobs' running versions) were most of
            # what a farm's claims read (docs/benchmarks.md, "the lapsed leases skipped").
            first = oldest_queued.cte("first_job")
            lapsed = None
    else:
        # SQLite has no dead entries to pass (its writers take turns, and an update replaces an
        # entry), and it reads the union above as a merge in id order that scans the table for
        # the lapsed side: it walks ix_jobs_open to the oldest claimable job.
        first = candidate.where(fresh).order_by(jobs.c.id).limit(1).subquery()
        lapsed = select(jobs.c.id).where(lapsed_any, jobs.c.attempts >= max_attempts)
    # The sweep of spent jobs reads only where they can be, never every open job (which made
    # the rows a claim reads grow with the queue: docs/benchmarks.md, 2026-12-04): running jobs
    # whose lease ran out, through the index of running jobs' heartbeats (``ix_jobs_lease``);
    # and, among the oldest ``limit`` claimable jobs (the walk to the claim's first job), the
    # spent ones, which a queue holds only when a job was requeued
    # under a larger max_attempts. Each claim takes the oldest job it could take or sweeps those
    # ahead of it, so a spent job further back reaches the front and is swept in turn.
    spent = jobs.c.attempts >= max_attempts
    # On PostgreSQL the front's oldest are queued ones only, through ix_jobs_queued (spent running
    # jobs are all in ``lapsed`` already); SQLite walks ix_jobs_open, as to its first job.
    front_of = queued_due if engine.dialect.name == "postgresql" else claimable & of_backend
    oldest = select(jobs.c.id).where(front_of).order_by(jobs.c.id).limit(limit)
    # The conditions once more on the locked rows themselves: PostgreSQL checks them again on a
    # row that a concurrent claim changed meanwhile, so a job already swept is not swept twice.
    front = select(jobs.c.id).where(jobs.c.id.in_(oldest.scalar_subquery()), claimable, of_backend, spent)
    parts = [q for q in (lapsed, front) if q is not None]
    sweep = union_all(*(select(part.c.id) for part in (q.with_for_update(skip_locked=True).subquery() for q in parts)))
    gave_up = f"claimed {max_attempts} times and never finished: its worker stopped (killed, or out of memory?)"
    # The batch: the oldest fresh jobs of the first one's shot (and backend), a range of
    # ix_jobs_shot from that job on. Given "shot = the first's", PostgreSQL may walk ix_jobs_open
    # instead and filter by shot, which for a shot with fewer open jobs than ``limit`` reads on to
    # the queue's end; as a range of (shot, id), in that index's order, it walks the shot's range.
    # SQLite reads a range of row values as a range of the shot alone (every job the shot ever
    # had), and walks the index within the shot from an equality.
    shot, start = select(first.c.shot_id).scalar_subquery(), select(first.c.id).scalar_subquery()
    if engine.dialect.name == "postgresql":
        in_shot = (tuple_(jobs.c.shot_id, jobs.c.id) >= tuple_(shot, start)) & (jobs.c.shot_id <= shot)
    else:
        in_shot = (jobs.c.shot_id == shot) & (jobs.c.id >= start)
    chosen = (
        select(jobs.c.id)
        .where(fresh, in_shot)
        .order_by(jobs.c.shot_id, jobs.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if backend is None:
        chosen = chosen.where(jobs.c.backend == select(first.c.backend).scalar_subquery())
    swept = (
        update(jobs)
        .where(jobs.c.id.in_(sweep))
        .values(state=DEAD, error=case((jobs.c.state == RUNNING, literal(gave_up)), else_=jobs.c.error))
        .returning(jobs.c.id, jobs.c.worker)
    )
    taken = (
        update(jobs)
        .where(jobs.c.id.in_(chosen.scalar_subquery()))
        .values(state=RUNNING, worker=worker, heartbeat_at=now, retry_at=None, attempts=jobs.c.attempts + 1)
        .returning(jobs.c.id, jobs.c.shot_id, jobs.c.recipe, jobs.c.attempts)
    )
    while True:
        if engine.dialect.name == "postgresql":
            rows, dead = _claim_in_one_statement(engine, swept, taken)
        else:
            with engine.begin() as connection:
                dead = [tuple(row) for row in connection.execute(swept)]
                rows = [tuple(row) for row in connection.execute(taken)]
        for id_, last_worker in dead:
            log.warning(
                "job %s is dead: claimed %s times (last by %s) and never finished", id_, max_attempts, last_worker
            )
        # Nothing taken, but spent jobs swept at the front: more may wait behind them, and a
        # worker stops at an empty claim, so look again rather than leave them queued.
        if rows or not dead:
            break
    return sorted(
        (Job(id_, shot_id, Recipe.model_validate(recipe), worker, attempts) for id_, shot_id, recipe, attempts in rows),
        key=lambda j: j.id,
    )


def _claim_in_one_statement(engine: Engine, swept: Update, taken: Update) -> tuple[list[tuple], list[tuple]]:
    """On PostgreSQL, the sweep and the claim as one statement (two data-modifying CTEs, one
    snapshot, one round trip, committed at once): the claimed rows, and the swept ones' (id,
    worker). No transaction stays open between a worker's claims, and none waits on the client
    between the two updates, so none holds back the horizon below which PostgreSQL may mark and
    remove the dead row versions the claims leave. The two updates never meet on a row: the
    claim takes jobs under ``max_attempts``, the sweep those at it."""
    dead, claimed = swept.cte("swept"), taken.cte("claimed")
    statement = union_all(
        select(claimed.c.id, claimed.c.shot_id, claimed.c.recipe, claimed.c.attempts, null().label("last_worker")),
        select(dead.c.id, null(), null(), null(), dead.c.worker),
    )
    with engine.begin() as connection:
        result = connection.execute(statement).all()
    rows = [(id_, shot_id, recipe, attempts) for id_, shot_id, recipe, attempts, _w in result if shot_id is not None]
    return rows, [(id_, last_worker) for id_, shot_id, _r, _a, last_worker in result if shot_id is None]


@dataclass(slots=True)
class _Floor:
    """No running job had a heartbeat before ``at``, as read at ``read_at`` (both this client's
    clock, which the claim's cutoff is also taken from)."""

    at: datetime
    read_at: datetime


# By engine, so by process and database: each process's claims share one floor.
_FLOORS: weakref.WeakKeyDictionary[Engine, _Floor] = weakref.WeakKeyDictionary()
_FLOORS_LOCK = threading.Lock()
# How often a floor below the cutoff is read again (while a lease may have lapsed, every claim
# reads the lapsed range anyway), and how far before its reading a floor with no running job is
# put: a claim whose clock was read just before, and that committed just after, set its
# heartbeat up to that much earlier. A claim delayed longer is found lapsed that much later.
_REREAD = timedelta(seconds=1)
_MARGIN = timedelta(seconds=1)


def _lease_may_have_lapsed(engine: Engine, now: datetime, cutoff: datetime) -> bool:
    """Whether a running job's heartbeat may be older than ``cutoff``, from a floor of the
    running jobs' heartbeats read at most once a ``_REREAD`` and only once the cutoff passes it.

    A floor stays true: a job's heartbeat only moves forward while it runs (a heartbeat sets it
    to now), and a job that starts running later is claimed with a heartbeat of its claim's now,
    after the floor was read. So in a farm whose jobs take less than a lease, each process reads
    it about once a lease, one walk of ix_jobs_lease from its start to the first live entry,
    instead of every claim walking the range of leases older than the cutoff. (A heartbeat
    written by hand into the past, not by the queue, is seen at the next reading.)"""
    with _FLOORS_LOCK:
        floor = _FLOORS.get(engine)
    if floor is not None and (floor.at >= cutoff or now - floor.read_at < _REREAD):
        return floor.at < cutoff
    jobs = JobRow.__table__
    with engine.connect() as connection:
        oldest = connection.execute(select(func.min(jobs.c.heartbeat_at)).where(_running())).scalar()
    at = now - _MARGIN if oldest is None else min(oldest, now - _MARGIN)
    with _FLOORS_LOCK:
        _FLOORS[engine] = _Floor(at, now)
    return at < cutoff


def _claimable(now: datetime, lease_s: float) -> ColumnElement[bool]:
    """Queued jobs whose retry time has come, and running ones whose lease has run out. The
    open states are named once more on their own so that both databases read the claim through
    the index of open jobs (store/tables.py ``ix_jobs_open``), not through every finished job."""
    jobs = JobRow.__table__
    lapsed = (jobs.c.state == RUNNING) & (jobs.c.heartbeat_at < now - timedelta(seconds=lease_s))
    return _open() & or_((jobs.c.state == QUEUED) & _due(now), lapsed)


def _due(now: datetime) -> ColumnElement[bool]:
    """A queued job's retry time has come (or it has none)."""
    jobs = JobRow.__table__
    return jobs.c.retry_at.is_(None) | (jobs.c.retry_at <= now)


# Written into the SQL, not bound: a planner proves that a query meets a partial index's
# condition only from literal values.
def _open() -> ColumnElement[bool]:
    """Open jobs, in words the partial index of open jobs (``ix_jobs_open``) answers to."""
    opened = bindparam("open_states", OPEN_JOB_STATES, expanding=True, literal_execute=True)
    return JobRow.__table__.c.state.in_(opened)


def _queued() -> ColumnElement[bool]:
    """Queued jobs, in words the partial index of queued jobs (``ix_jobs_queued``) answers to."""
    return JobRow.__table__.c.state == bindparam("queued_state", QUEUED, literal_execute=True)


def _running() -> ColumnElement[bool]:
    """Running jobs, in words the partial index of their heartbeats (``ix_jobs_lease``) answers to."""
    return JobRow.__table__.c.state == bindparam("running_state", RUNNING, literal_execute=True)


def claimable(engine: Engine, lease_s: float, *, up_to: int | None = None) -> dict[str, int]:
    """How many jobs a claim could take now, by backend (those due to go dead included: the
    claim that finds them marks them). ``up_to``: counted among the oldest ``up_to`` of them
    only, which the indexes of open (SQLite) or queued and lapsed jobs (PostgreSQL) find without
    reading the rest, so the count costs the same however deep the queue (a count of all of them
    reads every open job)."""
    jobs = JobRow.__table__
    now = utcnow()
    due = select(jobs.c.backend).where(_claimable(now, lease_s))
    if up_to is not None and engine.dialect.name == "postgresql":
        # As the claim's first job: the oldest queued jobs through ix_jobs_queued and the lapsed
        # running ones through ix_jobs_lease, not a walk of ix_jobs_open past every running job
        # and the dead entries the claims leave there (store/tables.py, 0021_queued).
        # The lapsed side is left out while no lease can have run out yet, as in the claim (a
        # farm's driver counts several times a second).
        cutoff = now - timedelta(seconds=lease_s)
        lapsed = _running() & (jobs.c.heartbeat_at < cutoff)
        oldest = select(jobs.c.id, jobs.c.backend).where(_queued(), _due(now)).order_by(jobs.c.id).limit(up_to)
        if _lease_may_have_lapsed(engine, now, cutoff):
            oldest = union_all(oldest.subquery().select(), select(jobs.c.id, jobs.c.backend).where(lapsed))
        either = oldest.subquery()
        due = select(either.c.backend).order_by(either.c.id).limit(up_to)
    elif up_to is not None:
        due = due.order_by(jobs.c.id).limit(up_to)
    window = due.subquery()
    with engine.connect() as connection:
        rows = connection.execute(select(window.c.backend, func.count()).group_by(window.c.backend)).all()
    return {backend: int(n) for backend, n in rows}


def refresh_statistics(engine: Engine) -> None:
    """On PostgreSQL, bring the planner's statistics of the jobs table up to date (ANALYZE; a
    warning, not an error, for a role that does not own the table). A queue that has just grown
    by thousands of jobs is planned from the statistics of before (autovacuum's analyze comes a
    minute or more later): estimating no open jobs, PostgreSQL finds a claim's oldest job through
    a bitmap of every open job, sorted, instead of walking the index of open jobs to the first."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE jobs")


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
    in one transaction; returns how many takes were recorded.

    A job that is no longer its worker's (cancelled meanwhile, or claimed by another worker
    after this one's lease ran out) records nothing, and the refusal is logged. A take that the
    database refuses (a constraint) is not taken for "already recorded": StoreError, naming the
    jobs, and nothing of the batch is recorded.

    The jobs are marked first; then each shot's numbers are taken from its counter row in one
    upsert for the whole batch, and the takes inserted in one statement, just before the commit.
    The counter's row lock makes every other completion of the shot wait until this transaction
    ends, and on PostgreSQL each waiter holds its snapshot meanwhile, which holds back the
    horizon below which the claims' dead row versions can be marked and removed: so the lock is
    taken last and held for two statements, not for every job of the batch (the farm's tasks all
    complete jobs of one shot at once; docs/benchmarks.md, "the claim in one statement").
    """
    try:
        with engine.begin() as connection:
            mine = [(job, sha, login) for job, sha in finished if (login := _mark_done(connection, job)) is not None]
            by_shot: dict[int, list[tuple[Job, str, str]]] = {}
            for item in mine:
                by_shot.setdefault(item[0].shot_id, []).append(item)
            rows = []
            for shot_id, items in sorted(by_shot.items()):  # counters in one order: no deadlock
                last = _reserve_numbers(connection, shot_id, len(items))
                rows += [
                    _take_row(job, sha, login, last - len(items) + 1 + i) for i, (job, sha, login) in enumerate(items)
                ]
            if rows:
                connection.execute(insert(TakeRow.__table__), rows)
            return len(rows)
    except IntegrityError as error:
        named = ", ".join(str(job.id) for job, _sha in finished)
        reason = str(error.orig).splitlines()[0] if error.orig else str(error)
        raise StoreError(f"jobs {named}: the takes could not be recorded ({reason})") from None


def _mark_done(connection: Connection, job: Job) -> str | None:
    """Mark the job done (only from running, and only by its worker); the login of whoever
    queued it, or None (and the refusal logged) when the job is no longer this worker's."""
    jobs = JobRow.__table__
    done = connection.execute(
        update(jobs)
        .where(jobs.c.id == job.id, jobs.c.state == RUNNING, jobs.c.worker == job.worker)
        .values(state=DONE, error="")
        .returning(jobs.c.requested_by_login)
    ).first()
    if done is None:
        log.warning("%s", _refusal(connection, job, "its take is not recorded"))
        return None
    return str(done[0])


def _take_row(job: Job, output_sha256: str, login: str, number: int) -> dict[str, object]:
    return {
        "shot_id": job.shot_id,
        "number": number,
        "job_id": job.id,
        "backend": job.recipe.backend,
        "recipe": job.recipe.model_dump(mode="json"),
        "recipe_sha256": job.recipe.sha256(),
        "output_sha256": output_sha256,
        "requested_by": job.recipe.requested_by,
        "requested_by_login": login,
        "created_at": utcnow(),
    }


def _reserve_numbers(connection: Connection, shot_id: int, n: int) -> int:
    """Reserve the shot's next ``n`` take numbers; the last of them. One upsert of its counter
    row, which holds that row (and so any other completion of the shot) until this transaction
    ends. A shot without a counter starts after its highest take."""
    counters = TakeCounterRow.__table__
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    takes = TakeRow.__table__
    last = select(func.coalesce(func.max(takes.c.number), 0) + n).where(takes.c.shot_id == shot_id)
    statement = (
        dialect.insert(counters)
        .values(shot_id=shot_id, last_number=last.scalar_subquery())
        .on_conflict_do_update(index_elements=[counters.c.shot_id], set_={"last_number": counters.c.last_number + n})
        .returning(counters.c.last_number)
    )
    return int(connection.execute(statement).scalar_one())


def _refusal(connection: Connection, job: Job, consequence: str) -> str:
    """Why ``job.worker`` may no longer finish ``job``, in one line."""
    row = connection.execute(select(JobRow.state, JobRow.worker).where(JobRow.id == job.id)).first()
    if row is None:
        return f"job {job.id} no longer exists; {consequence}"
    state, holder = row
    if state == RUNNING and holder != job.worker:
        return (
            f"job {job.id}: worker {job.worker or '(none)'} no longer holds it (its lease ran out and "
            f"{holder} claimed it since); {consequence}"
        )
    return f"job {job.id} is {state} (no longer held by worker {job.worker or '(none)'}); {consequence}"


def fail(engine: Engine, job: Job, error: str) -> bool:
    """Mark a job failed with a one-line reason; False (and the refusal logged) when the job is
    no longer this worker's."""
    with engine.begin() as connection:
        failed = connection.execute(
            update(JobRow.__table__)
            .where(JobRow.id == job.id, JobRow.state == RUNNING, JobRow.worker == job.worker)
            .values(state=FAILED, error=_one_line(error))
            .returning(JobRow.id)
        ).first()
        if failed is None:
            log.warning("%s", _refusal(connection, job, "its failure is not recorded"))
    return failed is not None


def requeue(engine: Engine, job: Job, error: str, *, max_attempts: int = MAX_ATTEMPTS, backoff_s: float = 5.0) -> str:
    """After a transient failure: put the job back in the queue, to be claimed again no sooner
    than ``backoff_s`` doubled for each attempt before this one, or, when it has had its
    ``max_attempts``, mark it dead. Returns the job's new state, or "" (and the refusal logged)
    when the job is no longer this worker's."""
    message = _one_line(error)
    if job.attempts >= max_attempts:
        values: dict[str, object] = {"state": DEAD, "error": f"gave up after {job.attempts} attempts: {message}"}
    else:
        wait = timedelta(seconds=backoff_s * 2 ** max(job.attempts - 1, 0))
        values = {
            "state": QUEUED,
            "worker": "",
            "retry_at": utcnow() + wait,
            "error": f"attempt {job.attempts} of {max_attempts} failed, retrying: {message}",
        }
    with engine.begin() as connection:
        moved = connection.execute(
            update(JobRow.__table__)
            .where(JobRow.id == job.id, JobRow.state == RUNNING, JobRow.worker == job.worker)
            .values(**values)
            .returning(JobRow.id)
        ).first()
        if moved is None:
            log.warning("%s", _refusal(connection, job, "its failure is not recorded"))
            return ""
    return str(values["state"])


def next_retry(engine: Engine) -> datetime | None:
    """When the earliest job waiting out a transient failure may be claimed; None if none waits."""
    with session_scope(engine) as session:
        at = session.scalar(select(func.min(JobRow.retry_at)).where(_open(), JobRow.state == QUEUED))
    # SQLite hands back a MIN() of stored UTC times without their zone.
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def retry(engine: Engine, job_ids: Sequence[int] | None = None, *, by: str = "") -> list[int]:
    """Put failed or dead jobs back in the queue with their attempts reset (every failed and dead
    job when ``job_ids`` is None); returns their ids. The job's error keeps, until its next
    outcome, who re-queued it and what it had failed with. An unknown id, or a job that is not
    failed or dead, is a JobError and nothing is re-queued."""
    with session_scope(engine) as session:
        if job_ids is None:
            wanted = list(session.scalars(select(JobRow.id).where(JobRow.state.in_(RETRYABLE)).order_by(JobRow.id)))
        else:
            wanted = sorted(set(job_ids))
            states = dict(session.execute(select(JobRow.id, JobRow.state).where(JobRow.id.in_(wanted))).all())
            for job_id in wanted:
                if job_id not in states:
                    raise JobError(f"take retry: there is no job {job_id}")
                if states[job_id] not in RETRYABLE:
                    raise JobError(
                        f"take retry: job {job_id} is {states[job_id]}; only failed or dead jobs are retried"
                    )
        if wanted:
            session.execute(
                update(JobRow)
                .where(JobRow.id.in_(wanted))
                .values(
                    state=QUEUED,
                    attempts=0,
                    worker="",
                    error=literal(f"re-queued by {by or 'someone'} after: ") + JobRow.error,
                    retry_at=None,
                    heartbeat_at=None,
                )
            )
    return wanted


def cancel(engine: Engine, job_ids: list[int] | None = None) -> int:
    """Cancel queued and running jobs (all of them when ``job_ids`` is None); how many. As with
    ``retry``, an unknown id, or a job that is not queued or running, is a JobError and nothing is
    cancelled: a mistyped id is said, not reported as "0 cancelled"."""
    with session_scope(engine) as session:
        query = update(JobRow).where(_open()).values(state=CANCELLED)
        if job_ids is not None:
            wanted = sorted(set(job_ids))
            states = dict(session.execute(select(JobRow.id, JobRow.state).where(JobRow.id.in_(wanted))).all())
            for job_id in wanted:
                if job_id not in states:
                    raise JobError(f"take cancel: there is no job {job_id}")
                if states[job_id] not in (QUEUED, RUNNING):
                    raise JobError(
                        f"take cancel: job {job_id} is {states[job_id]}; only queued or running jobs are cancelled"
                    )
            query = query.where(JobRow.id.in_(wanted))
        return session.execute(query).rowcount


def counts(engine: Engine) -> dict[str, int]:
    """Jobs per state."""
    with session_scope(engine) as session:
        return dict(session.execute(select(JobRow.state, func.count()).group_by(JobRow.state)).all())


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A job as ``soundstage take jobs`` lists it."""

    id: int
    shot: str
    state: str
    attempts: int
    worker: str
    error: str
    retry_at: datetime | None


def listing(engine: Engine, states: Sequence[str] | None = None) -> list[JobInfo]:
    """The queue's jobs in the given states (every state when None), oldest first."""
    with session_scope(engine) as session:
        query = select(JobRow, ShotRow.code).join(ShotRow, ShotRow.id == JobRow.shot_id).order_by(JobRow.id)
        if states is not None:
            query = query.where(JobRow.state.in_(list(states)))
        return [
            JobInfo(row.id, code, row.state, row.attempts, row.worker, row.error, row.retry_at)
            for row, code in session.execute(query).all()
        ]


def _one_line(text: str) -> str:
    return " ".join(text.split())
