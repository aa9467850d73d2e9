"""Takes: queueing them with complete recipes, working the queue with worker processes, listing a
shot's takes and jobs, cancelling jobs, and running a take's recipe again.

The worker processes run ``run_jobs``: each opens the production itself and hands the generate
room's ``work_queue`` plain values (engine, media store, settings) and the intent checks to run
on each batch, so ``generate`` never reaches up into the project.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from soundstage import logs
from soundstage.errors import GenerateError, GuardrailError, JobError, ShotError
from soundstage.generate import clips, queue
from soundstage.generate.backend import (
    DEPTH,
    IDS,
    LINEART,
    SEED_LIMIT,
    STORYBOARD,
    Performance,
    Recipe,
    parse_take_name,
)
from soundstage.generate.executor import Executor, LocalExecutor
from soundstage.generate.metadata import embed_recipe
from soundstage.generate.prompt import MAX_PROMPT_CHARS, compose_negative, compose_prompt
from soundstage.generate.registry import backend_for
from soundstage.generate.worker import Crew, MediaInputs, WorkReport, work_queue
from soundstage.guardrails.model import AlterationPurpose
from soundstage.project import bible, blocking, checks, drafts, guardrails, shotlist
from soundstage.project.production import Context, Progress, console, no_progress, open_production
from soundstage.store.rows import shot_row, take_row
from soundstage.store.tables import JobRow, PerformerRow, RenderRow, ShotRow, TakeRow

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
    frames: int | None = None  # a moving shot's takes: None for all its frames; 1 for a still
    # Recorded performances the takes alter: (performer, recording file), and why they change them.
    performances: tuple[tuple[str, Path], ...] = ()
    alteration: str = AlterationPurpose.PERFORMANCE.value

    def __post_init__(self) -> None:
        for option, words in (("--prompt", self.prompt), ("--negative", self.negative)):
            if len(words) > MAX_PROMPT_CHARS:
                raise GenerateError(
                    f"take {option}: {len(words):,} characters; a prompt holds at most {MAX_PROMPT_CHARS:,}"
                    " (the model reads a few hundred, and every take's recipe keeps them)"
                )


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
    sheets = drafts.breakdown(context)
    position = next(i for i, sheet in enumerate(sheets) if sheet.number == shot.scene)
    scene, breakdown = drafts.script(context).scenes[position], sheets[position].breakdown
    with context.transaction() as session:
        row = shot_row(session, shot.code)
        render = session.scalars(select(RenderRow).where(RenderRow.shot_id == row.id)).first()
        shot_id = row.id
    clip = blocking.pass_clips(context, shot.code)
    frames = _take_frames(shot.code, clip, options.frames)
    # A moving take is made by the video backend unless the artist names one.
    backend = backend_for(
        options.backend or (settings.video_backend if frames > 1 else settings.backend), settings, context.root
    )
    conditioning = bible.references(context, shot)
    if render is not None:
        conditioning |= {
            STORYBOARD: render.storyboard_sha256, DEPTH: render.depth_sha256,
            LINEART: render.lineart_sha256, IDS: render.ids_sha256,
        }  # fmt: skip
    if clip is not None and frames > 1:
        conditioning |= clip.shas  # the passes in time, frame for frame with the take
    width, height = (render.width, render.height) if render else (1280, 720)
    fps = str(clip.fps if clip is not None else context.settings.fps)
    base_seed = (
        options.seed if options.seed is not None else int(hashlib.sha256(shot.code.encode()).hexdigest()[:8], 16)
    )
    if base_seed + options.count > SEED_LIMIT:
        raise GenerateError(
            f"shot {shot.code}: --seed {base_seed} with --count {options.count} passes the largest seed, {SEED_LIMIT - 1}"
        )
    recordings = _recordings(context, options)
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
            performances=tuple(performance for performance, _ in recordings),
            **({"frames": frames, "fps": fps} if frames > 1 else {}),
        )
        recipes.append(backend.prepare(recipe))
    guardrails.clear_generation(context, shot.code, shot.scene, recipes)  # the AI rules of [policy]
    for performance, path in recordings:
        context.media.put_file(path, performance.suffix)
    # The recipe names the production's user; the login at this console is recorded beside it.
    return queue.enqueue(context.engine, shot_id, recipes, requested_by_login=console())


# A recording of sound alone carries a voice; anything else (a filmed take) a likeness on picture.
_SOUND = frozenset({".wav", ".flac", ".mp3", ".aif", ".aiff", ".ogg", ".opus", ".m4a"})


def _recordings(context: Context, options: TakeOptions) -> list[tuple[Performance, Path]]:
    """The recorded performances ``options`` asks the takes to alter, each with its file (stored
    in the media store only once the takes are cleared). Refused in one line for an unknown
    purpose, a missing file, or a performer the production has not recorded."""
    if not options.performances:
        return []
    purposes = [p.value for p in AlterationPurpose]
    if options.alteration not in purposes:
        raise GuardrailError(f"--alteration {options.alteration!r}: expected one of {', '.join(purposes)}")
    with context.reading() as session:
        known = set(session.scalars(select(PerformerRow.name)))
    found = []
    for performer, path in options.performances:
        name = performer.strip()
        if name not in known:
            raise GuardrailError(f"--performance {name}: no such performer (soundstage performer add records one)")
        if not path.is_file():
            raise GuardrailError(f"--performance {name}: recording {path} not found")
        suffix = path.suffix.lower()[:16]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        gives = "voice" if suffix in _SOUND else "likeness"
        found.append(
            (Performance(performer=name, sha256=digest, suffix=suffix, gives=gives, purpose=options.alteration), path)
        )
    return found


def _take_frames(code: str, clip: blocking.PassClips | None, asked: int | None) -> int:
    """How many frames a take of the shot has: all of a moving shot's, or ``asked`` (``--frames``),
    which a still shot (one frame) or a clip shorter than asked cannot give."""
    if asked is None:
        return clip.frames if clip is not None else 1
    if asked > 1 and clip is None:
        raise ShotError(f"shot {code}: a still shot (its layout does not move); a take has 1 frame, not {asked}")
    if clip is not None and asked > clip.frames:
        raise ShotError(f"shot {code}: the previs clip has {clip.frames} frames; --frames {asked} asks for more")
    return asked


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


def work(
    context: Context, workers: int | None = None, progress: Progress = no_progress, *, ray: str | None = None
) -> WorkReport:
    """Run the queue until it is empty: with local worker processes (``run_jobs`` each), or as
    Ray tasks (``run_batch`` each) when ``ray`` names a cluster's address or ``[executor] kind``
    is "ray"."""
    return executor(context, ray).run(context.engine, workers or context.settings.generate.workers, progress)


def executor(context: Context, ray: str | None = None) -> Executor:
    """The production's executor: Ray at ``ray`` (or at ``[executor] address`` when its kind is
    "ray"), else worker processes on this machine."""
    settings = context.settings.executor
    if ray is None and settings.kind != "ray":
        return LocalExecutor(worker_command(context.root))
    from soundstage.generate.executor_ray import RayExecutor  # Ray is an extra: imported when used

    task = functools.partial(run_batch, context.root, log_level=logs.level())
    return RayExecutor(ray or settings.address, task, context.settings.generate, settings.resources)


# The crews of the productions this process works for (a Ray worker runs many tasks): one
# opened production and its backends each, so a GL context or a model is made once a process.
_CREWS: dict[Path, Crew] = {}


def run_batch(root: Path, backend: str, *, log_level: int | None = None) -> WorkReport | None:
    """Claim and work one batch of ``backend`` jobs of the production at ``root``, with the
    intent checks: what one Ray task does. None when there was nothing left to claim."""
    if root not in _CREWS:
        if log_level is not None:
            logs.configure(level=log_level)
        context = open_production(root)
        _CREWS[root] = Crew(
            context.engine,
            context.media,
            context.settings.generate,
            root,
            after_batch=lambda job_ids: checks.check(context, jobs=job_ids),
        )
    return _CREWS[root].work_batch(backend)


def run_jobs(root: Path, *, until_idle: bool = True, poll_s: float = 0.5, log_level: int | None = None) -> WorkReport:
    """Work the production's queue in this process until it is empty (or forever), running the
    intent checks on each batch of new takes: what one worker process does."""

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
            recipe,
            context.media.path(t.output_sha256, clips.take_suffix(recipe.frames)),
            "",
        )
        for t in made
        for recipe in [Recipe.model_validate(t.recipe)]
    ]
    listed += [TakeInfo(f"job {j.id}", j.state, Recipe.model_validate(j.recipe), None, j.error) for j in jobs]
    return listed


@dataclass(frozen=True, slots=True)
class Reproduction:
    """What running a take's recipe again gave."""

    same: bool  # the same bytes
    path: Path  # the stored take
    sha256: str  # of the new output
    identical_pictures: bool  # the same pictures at the same times (a clip's tags may differ)
    first_differing_frame: int | None  # from 0; None when the pictures are identical


def reproduce(context: Context, reference: str) -> tuple[bool, Path, str]:
    """Run a take's recipe again; whether the bytes match, the take's file, the new hash."""
    again = reproduce_take(context, reference)
    return again.same, again.path, again.sha256


def reproduce_take(context: Context, reference: str) -> Reproduction:
    """Run a take's recipe again and compare it with the stored take: bytes, and for a clip
    frame by frame (``clips.compare_clips``), so a difference is named by its first frame."""
    code, number = parse_take_name(reference)
    if number is None:
        raise ShotError(f"take {reference!r}: expected SHOT/NUMBER, e.g. 012_0030/2")
    with context.transaction() as session:
        take = take_row(session, shot_row(session, code), number)
    recipe = Recipe.model_validate(take.recipe)
    backend = backend_for(recipe.backend, context.settings.generate, context.root)
    out = embed_recipe(backend.generate([recipe], MediaInputs(context.media), lambda fraction: None)[0], recipe)
    again = hashlib.sha256(out).hexdigest()
    path = context.media.path(take.output_sha256, clips.take_suffix(recipe.frames))
    if again == take.output_sha256:
        return Reproduction(True, path, again, True, None)
    identical, first = clips.compare_clips(path.read_bytes(), out)
    return Reproduction(False, path, again, identical, first)
