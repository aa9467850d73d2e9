"""Takes: queueing them with complete recipes, working the queue with worker processes, listing a
shot's takes and jobs, cancelling jobs, and running a take's recipe again.

The worker processes run ``run_jobs``: each opens the production itself and hands the generate
room's ``work_queue`` plain values (engine, media store, settings) and the intent checks to run
on each batch, so ``generate`` never reaches up into the project.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from soundstage import logs
from soundstage.errors import JobError, ShotError
from soundstage.generate import queue
from soundstage.generate.backend import DEPTH, IDS, LINEART, STORYBOARD, Recipe, parse_take_name
from soundstage.generate.prompt import compose_negative, compose_prompt
from soundstage.generate.registry import backend_for
from soundstage.project import bible, checks, drafts, guardrails, shotlist
from soundstage.project.production import Context, Progress, no_progress, open_production
from soundstage.store.rows import shot_row, take_row
from soundstage.store.tables import JobRow, RenderRow, ShotRow, TakeRow

if TYPE_CHECKING:
    from soundstage.generate.worker import WorkReport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TakeOptions:
    """What an artist asks of new takes (``soundstage take``)."""

    backend: str = ""  # "" for the production's default
    seed: int | None = None  # None: a seed derived from the shot code, recorded like any other
    prompt: str = ""
    negative: str = ""
    strength: float | None = None
    steps: int | None = None
    guidance: float | None = None
    count: int = 1
    requested_by: str = ""


@dataclass(frozen=True, slots=True)
class TakeInfo:
    """A take (or a job that has not become one yet) as ``soundstage takes`` lists it."""

    name: str  # "012_0030/2", or "job 17" before it is done
    state: str
    recipe: Recipe
    path: Path | None
    error: str


def queue_takes(context: Context, code: str, options: TakeOptions) -> list[int]:
    """Queue ``options.count`` takes of a shot; returns their job ids.

    The recipe is complete when queued (prompt composed, conditioning by content hash, the
    backend's model and weights hash filled in), so a bad option or a missing model fails
    here, in one line, before anything is queued.
    """
    shot = shotlist.shot(context, code)
    settings = context.settings.generate
    backend = backend_for(options.backend or settings.backend, settings, context.root)
    sheets = drafts.breakdown(context)
    position = next(i for i, sheet in enumerate(sheets) if sheet.number == shot.scene)
    scene, breakdown = drafts.script(context).scenes[position], sheets[position].breakdown
    with context.transaction() as session:
        row = shot_row(session, shot.code)
        render = session.scalars(select(RenderRow).where(RenderRow.shot_id == row.id)).first()
        shot_id = row.id
    conditioning = bible.references(context, shot)
    if render is not None:
        conditioning |= {
            STORYBOARD: render.storyboard_sha256, DEPTH: render.depth_sha256,
            LINEART: render.lineart_sha256, IDS: render.ids_sha256,
        }  # fmt: skip
    width, height = (render.width, render.height) if render else (1280, 720)
    base_seed = (
        options.seed if options.seed is not None else int(hashlib.sha256(shot.code.encode()).hexdigest()[:8], 16)
    )
    recipes = []
    for i in range(options.count):
        recipe = Recipe(
            shot=shot.code,
            backend=backend.name,
            prompt=compose_prompt(shot, scene, breakdown, context.settings.bible, options.prompt),
            negative_prompt=compose_negative(context.settings.bible, options.negative),
            seed=base_seed + i,
            steps=options.steps or 0,
            guidance=options.guidance or 0.0,
            strength=options.strength,
            width=width,
            height=height,
            conditioning=conditioning,
            requested_by=options.requested_by,
        )
        recipes.append(backend.prepare(recipe))
    guardrails.clear_generation(context, shot.code, shot.scene, recipes)  # the AI rules of [policy]
    return queue.enqueue(context.engine, shot_id, recipes)


def queue_missing_takes(context: Context, backend: str = "", requested_by: str = "") -> int:
    """Queue one take for every rendered shot that has no take and no job yet; how many."""
    with context.transaction() as session:
        busy = set(session.scalars(select(TakeRow.shot_id))) | set(session.scalars(select(JobRow.shot_id)))
        rendered = set(session.scalars(select(RenderRow.shot_id)))
        codes = dict(session.execute(select(ShotRow.id, ShotRow.code)).all())
    waiting = [codes[i] for i in sorted(rendered - busy) if i in codes]
    for code in waiting:
        queue_takes(context, code, TakeOptions(backend=backend, requested_by=requested_by))
    return len(waiting)


# What one worker process runs: ``run_jobs`` in a fresh interpreter, at the parent's log level and
# with the parent's sys.path in front of its own, so a plugin the parent finds it finds too.
_WORKER = (
    "import json, sys\n"
    "sys.path[:0] = [p for p in json.loads(sys.argv[3]) if p not in sys.path]\n"
    "from pathlib import Path\n"
    "from soundstage.project.takes import run_jobs\n"
    "run_jobs(Path(sys.argv[1]), log_level=int(sys.argv[2]))\n"
)


def worker_command(root: Path) -> list[str]:
    """The argv of one worker process of the production at ``root``."""
    return [sys.executable, "-c", _WORKER, str(root), str(logs.level()), json.dumps(sys.path)]


def work(context: Context, workers: int | None = None, progress: Progress = no_progress) -> WorkReport:
    """Run the queue with local worker processes (``run_jobs`` each) until it is empty."""
    from soundstage.generate.worker import LocalExecutor  # PyAV (~20 MB) with it: working the queue only

    command = worker_command(context.root)
    return LocalExecutor().run(context.engine, command, workers or context.settings.generate.workers, progress)


def run_jobs(root: Path, *, until_idle: bool = True, poll_s: float = 0.5, log_level: int | None = None) -> WorkReport:
    """Work the production's queue in this process until it is empty (or forever), running the
    intent checks on each batch of new takes: what one worker process does."""
    from soundstage.generate.worker import work_queue  # PyAV (~20 MB) with it: working the queue only

    if log_level is not None:
        logs.configure(level=log_level)
    with open_production(root) as context:
        return work_queue(
            context.engine,
            context.media,
            context.settings.generate,
            root,
            after_batch=lambda job_ids: checks.check(context, jobs=job_ids),
            until_idle=until_idle,
            poll_s=poll_s,
        )


def cancel(context: Context, job_ids: list[int] | None = None) -> int:
    """Cancel queued and running jobs (all of them when ``job_ids`` is None); how many. A running
    job finishes its image but records no take."""
    return queue.cancel(context.engine, job_ids)


def retry(context: Context, job_ids: list[int] | None = None, requested_by: str = "") -> list[int]:
    """Put failed or dead jobs back in the queue (every failed and dead job when ``job_ids`` is
    None); returns their ids. An unknown job id, or one not failed or dead, is a JobError and
    nothing is re-queued. Who asked is logged and kept in the job's error until it runs."""
    retried = queue.retry(context.engine, job_ids, by=requested_by)
    if retried:
        log.info("jobs %s re-queued by %s", ", ".join(map(str, retried)), requested_by or "someone")
    return retried


def jobs(context: Context, states: list[str] | None = None) -> list[queue.JobInfo]:
    """The queue's jobs in ``states`` (every state but done when None), oldest first."""
    wanted = states if states is not None else [s for s in queue.STATES if s != queue.DONE]
    unknown = sorted(set(wanted) - set(queue.STATES))
    if unknown:
        raise JobError(f"take jobs: no job state {unknown[0]!r} (states: {', '.join(queue.STATES)})")
    return queue.listing(context.engine, wanted)


def takes(context: Context, code: str) -> list[TakeInfo]:
    """A shot's takes, with the jobs still queued, running, failed or cancelled."""
    with context.transaction() as session:
        row = shot_row(session, code)
        made = session.scalars(select(TakeRow).where(TakeRow.shot_id == row.id).order_by(TakeRow.number)).all()
        jobs = session.scalars(
            select(JobRow).where(JobRow.shot_id == row.id, JobRow.state != queue.DONE).order_by(JobRow.id)
        ).all()
    listed = [
        TakeInfo(
            f"{row.code}/{t.number}",
            queue.DONE,
            Recipe.model_validate(t.recipe),
            context.media.path(t.output_sha256, ".png"),
            "",
        )
        for t in made
    ]
    listed += [TakeInfo(f"job {j.id}", j.state, Recipe.model_validate(j.recipe), None, j.error) for j in jobs]
    return listed


def reproduce(context: Context, reference: str) -> tuple[bool, Path, str]:
    """Run a take's recipe again; whether the bytes match, the take's file, the new hash."""
    from soundstage.generate.metadata import embed_recipe  # PyAV (~20 MB) with them: reproducing only
    from soundstage.generate.worker import MediaInputs

    code, number = parse_take_name(reference)
    if number is None:
        raise ShotError(f"take {reference!r}: expected SHOT/NUMBER, e.g. 012_0030/2")
    with context.transaction() as session:
        take = take_row(session, shot_row(session, code), number)
    recipe = Recipe.model_validate(take.recipe)
    backend = backend_for(recipe.backend, context.settings.generate, context.root)
    png = backend.generate([recipe], MediaInputs(context.media), lambda fraction: None)[0]
    again = hashlib.sha256(embed_recipe(png, recipe)).hexdigest()
    return again == take.output_sha256, context.media.path(take.output_sha256, ".png"), again
