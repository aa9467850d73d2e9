"""Takes through the production: recipes, the queue, workers (killed too), reproduction."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from soundstage.errors import GenerateError, JobError, ShotError
from soundstage.generate import queue
from soundstage.generate.backend import DEPTH, LINEART, STORYBOARD, Recipe
from soundstage.generate.metadata import read_recipe
from soundstage.project import Production, TakeOptions
from soundstage.project.takes import run_jobs
from soundstage.store.db import session_scope
from soundstage.store.tables import JobRow, RenderRow, ShotRow, TakeRow

from conftest import EXAMPLE, PREVIS_SIZE

SIZE = PREVIS_SIZE


@pytest.fixture
def production(copy_production: Production) -> Production:
    """The rendered example with a little bible: a style and MAISIE's description."""
    toml = copy_production.root / "soundstage.toml"
    toml.write_text(
        toml.read_text().replace('style = ""', 'style = "soft watercolour storybook"')
        + '\n[bible.characters.MAISIE]\ndescription = "a girl of eleven in a red scarf"\n'
    )
    with Production.open(copy_production.root) as opened:
        yield opened


def _maisie_shot(production: Production) -> str:
    return next(s.code for s in production.shots("3") if s.subjects == ("MAISIE",))


def test_a_take_keeps_its_whole_recipe_and_carries_it_in_the_png(production: Production) -> None:
    code = _maisie_shot(production)
    production.queue_takes(code, TakeOptions(prompt="she hums to herself", seed=7, requested_by="ana"))
    report = production.work(workers=1)
    assert report.takes == 1
    take = production.takes(code)[0]
    recipe = take.recipe
    assert take.name == f"{code}/1" and take.state == "done"
    assert (recipe.backend, recipe.seed, recipe.requested_by) == ("previs", 7, "ana")
    assert recipe.prompt.startswith("she hums to herself. medium shot")  # the artist's words lead
    assert "a girl of eleven in a red scarf" in recipe.prompt and recipe.prompt.endswith("soft watercolour storybook")
    with session_scope(production.engine) as session:
        render = session.scalars(select(RenderRow).join(ShotRow).where(ShotRow.code == code)).one()
    assert recipe.conditioning[STORYBOARD] == render.storyboard_sha256
    assert recipe.conditioning[DEPTH] == render.depth_sha256 and recipe.conditioning[LINEART] == render.lineart_sha256
    png = take.path.read_bytes()
    assert take.path.name == hashlib.sha256(png).hexdigest() + ".png"  # stored by content hash
    assert read_recipe(png) == recipe
    assert Image.open(take.path).size == SIZE


def test_reproduce_gives_the_same_bytes(production: Production) -> None:
    code = _maisie_shot(production)
    production.queue_takes(code, TakeOptions(count=2))
    production.work(workers=1)
    same, path, digest = production.reproduce(f"{code}/2")
    assert same and path.stem == digest
    with pytest.raises(ShotError, match="no take 9"):
        production.reproduce(f"{code}/9")


def test_count_gives_consecutive_seeds_and_numbers(production: Production) -> None:
    code = _maisie_shot(production)
    production.queue_takes(code, TakeOptions(count=3, seed=100))
    production.work(workers=2)
    takes = production.takes(code)
    assert [t.name for t in takes] == [f"{code}/1", f"{code}/2", f"{code}/3"]
    assert sorted(t.recipe.seed for t in takes) == [100, 101, 102]


def test_a_shot_without_previs_cannot_take_a_previs_take(production: Production) -> None:
    with pytest.raises(GenerateError, match="no storyboard"):
        production.queue_takes("005_0010", TakeOptions())
    assert queue.counts(production.engine) == {}


def test_cancelled_jobs_make_no_takes(production: Production) -> None:
    code = _maisie_shot(production)
    jobs = production.queue_takes(code, TakeOptions(count=2))
    assert queue.cancel(production.engine, jobs[:1]) == 1
    production.work(workers=1)
    states = [t.state for t in production.takes(code)]
    assert states.count("done") == 1 and states.count("cancelled") == 1


def test_cancelling_a_job_that_is_done_or_unknown_is_refused_and_cancels_nothing(production: Production) -> None:
    code = _maisie_shot(production)
    done = production.queue_takes(code, TakeOptions())
    production.work(workers=1)
    waiting = production.queue_takes(code, TakeOptions())
    with pytest.raises(JobError, match=f"job {done[0]} is done; only queued or running"):
        production.cancel([*waiting, *done])
    with pytest.raises(JobError, match="there is no job 99999"):
        production.cancel([*waiting, 99999])
    assert queue.counts(production.engine) == {"done": 1, "queued": 1}
    assert production.cancel(waiting) == 1


def test_claims_never_hand_one_job_to_two_workers(production: Production) -> None:
    code = _maisie_shot(production)
    with session_scope(production.engine) as session:
        shot_id = session.scalars(select(ShotRow.id).where(ShotRow.code == code)).one()
    recipe = Recipe(shot=code, backend="previs")
    queue.enqueue(production.engine, shot_id, [recipe] * 12)
    first = queue.claim(production.engine, "a", lease_s=60, limit=5)
    second = queue.claim(production.engine, "b", lease_s=60, limit=5)
    third = queue.claim(production.engine, "c", lease_s=60, limit=5)
    ids = [j.id for j in first + second + third]
    assert len(ids) == len(set(ids)) == 12
    assert queue.claim(production.engine, "d", lease_s=60, limit=5) == []
    # A worker that stops beating loses its jobs once the lease runs out.
    assert [j.id for j in queue.claim(production.engine, "e", lease_s=0, limit=5)] == [j.id for j in first]


def test_a_killed_worker_loses_nothing_and_records_nothing_twice(production: Production) -> None:
    """SIGKILL a worker mid-queue; after a restart every job has exactly one take and the media
    store holds only whole objects."""
    toml = production.root / "soundstage.toml"
    toml.write_text(toml.read_text().replace("workers = 2", "workers = 2\nlease_s = 1.0\nbatch = 1"))
    code = _maisie_shot(production)
    jobs = production.queue_takes(code, TakeOptions(count=40))
    command = [sys.executable, "-m", "soundstage", "-p", str(production.root), "work", "--single"]
    worker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while queue.counts(production.engine).get(queue.DONE, 0) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    counts = queue.counts(production.engine)
    assert 0 < counts.get(queue.DONE, 0) < len(jobs), counts  # killed partway
    time.sleep(1.1)  # let the dead worker's lease run out

    with Production.open(production.root) as restarted:
        restarted.work(workers=2)
        with session_scope(restarted.engine) as session:
            states = set(session.scalars(select(JobRow.state).where(JobRow.id.in_(jobs))))
            takes = session.scalar(select(func.count()).select_from(TakeRow).where(TakeRow.job_id.in_(jobs)))
            numbers = session.scalars(select(TakeRow.number).join(ShotRow).where(ShotRow.code == code)).all()
    assert states == {queue.DONE}
    assert takes == len(jobs)
    assert sorted(numbers) == list(range(1, len(jobs) + 1))
    restarted.media.sweep_temp()
    for path in restarted.media.root.rglob("*.png"):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem


def test_bible_check_names_what_is_missing(production: Production) -> None:
    problems = production.bible_check()
    assert "style: no reference images ([bible] style_references)" in problems
    assert any(p.startswith("character FUSE: no description") for p in problems)
    assert not any(p.startswith("character MAISIE: no description") for p in problems)
    assert "character MAISIE: no reference images" in problems


def test_a_diffusers_take_through_the_queue_reproduces(tmp_path: Path) -> None:
    """The diffusers backend configured in soundstage.toml (a tiny SD 1.5 with depth and line-art
    ControlNets, built here), driven by the production's queue and worker, and reproduced."""
    from . import tiny_pipelines as tiny

    models = tmp_path / "models"
    sd15 = tiny.build_sd15(models)
    depth = tiny.build_controlnet(sd15, "controlnet_depth", seed=1)
    lineart = tiny.build_controlnet(sd15, "controlnet_lineart", seed=2)
    root = tmp_path / "pilot"
    with Production.init(root) as production:
        production.import_script(EXAMPLE)
        production.plan()
        production.layout(scene="3")
        production.previs(size=(64, 36), scene="3")
    toml = root / "soundstage.toml"
    toml.write_text(
        toml.read_text()
        + f'\n[generate.diffusers]\nmodel = "{sd15}"\ndevice = "cpu"\nsteps = 2\n'
        + f'controlnets = [{{model = "{depth}", control = "depth"}}, {{model = "{lineart}", control = "lineart"}}]\n'
    )
    with Production.open(root) as production:
        code = _maisie_shot(production)
        production.queue_takes(code, TakeOptions(backend="diffusers", seed=11, count=2, requested_by="ana"))
        report = run_jobs(root)
        assert (report.takes, report.failed) == (2, 0)
        first, second = production.takes(code)
        assert first.recipe.backend == "diffusers" and first.recipe.weights_sha256
        assert first.recipe.model == str(sd15) and first.recipe.steps == 2
        assert read_recipe(first.path.read_bytes()) == first.recipe
        assert first.path.read_bytes() != second.path.read_bytes()  # seeds 11 and 12
        same, _path, _digest = production.reproduce(f"{code}/2")
        assert same


def test_claims_are_exclusive_on_both_servers(tmp_path: Path, database_url: str) -> None:
    """Two worker processes claiming at once never share a job, on SQLite and PostgreSQL."""
    root = tmp_path / "team"
    with Production.init(root, database_url=database_url) as production:
        production.import_script(EXAMPLE)
        production.plan()
        code = production.shots()[0].code
        with session_scope(production.engine) as session:
            shot_id = session.scalars(select(ShotRow.id).where(ShotRow.code == code)).one()
        queue.enqueue(production.engine, shot_id, [Recipe(shot=code, backend="previs", seed=i) for i in range(60)])
    claimer = (
        "import sys; from pathlib import Path; from soundstage.project import Production;"
        "from soundstage.generate import queue\n"
        "p = Production.open(Path(sys.argv[1])); got = []\n"
        "while (jobs := queue.claim(p.engine, sys.argv[2], 60, 3)): got += [j.id for j in jobs]\n"
        "print(' '.join(map(str, got)))"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", claimer, str(root), name], stdout=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    claimed = [list(map(int, run.communicate(timeout=120)[0].split())) for run in runs]
    assert all(run.returncode == 0 for run in runs)
    everything = claimed[0] + claimed[1]
    assert len(everything) == len(set(everything)) == 60
