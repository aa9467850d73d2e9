"""``soundstage make``: every stage that exists, from import to the newest, in order.

Each stage is a ``Stage`` in ``STAGES``; a new capability adds its stage to the list and
``make`` (and its progress display) picks it up. A stage reports progress as (done, total)
and returns a one-line summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from soundstage.config import SETTINGS_FILE
from soundstage.errors import ConfigError
from soundstage.files import write_atomic
from soundstage.project import Production, Progress
from soundstage.reports.sheets import write_breakdown, write_shotlist


@dataclass(slots=True)
class Run:
    """What one ``make`` run works on and what it has produced so far."""

    production: Production
    script: Path
    out: Path
    size: tuple[int, int] = (1280, 720)  # previs frame size
    requested_by: str = ""  # who runs make: the takes it queues are theirs
    outputs: list[Path] = field(default_factory=list)
    contact_sheets: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of ``make``."""

    name: str
    run: Callable[[Run, Progress], str]


@dataclass(slots=True)
class StageResult:
    """How a stage went."""

    name: str
    summary: str
    seconds: float


@dataclass(slots=True)
class MakeResult:
    """How every stage went, and the files written into the output folder."""

    stages: list[StageResult]
    outputs: list[Path]


def _import(run: Run, progress: Progress) -> str:
    report = run.production.import_script(run.script)
    progress(1, 1)
    revision = ""
    if report.added or report.removed or report.changed:
        revision = f" (added {len(report.added)}, removed {len(report.removed)}, changed {len(report.changed)})"
    return f"{report.scenes} scenes from {run.script.name}{revision}"


def _breakdown(run: Run, progress: Progress) -> str:
    sheets = run.production.breakdown()
    run.outputs += write_breakdown(sheets, run.production.title(), run.out)
    progress(1, 1)
    cast = {name for s in sheets for name in s.breakdown.speaking}
    return f"{len(sheets)} scenes, {len(cast)} speaking characters"


def _plan(run: Run, progress: Progress) -> str:
    production = run.production
    report = production.plan(progress)
    minutes = float(report.frames / production.settings.fps / 60)
    kept = f", {len(report.kept_edits)} artist edits kept" if report.kept_edits else ""
    return f"{report.shots} shots, {minutes:.1f} min planned{kept}"


def _layout(run: Run, progress: Progress) -> str:
    report = run.production.layout(progress=progress)
    kept = f", {len(report.kept_edited)} edited by hand kept" if report.kept_edited else ""
    return f"{len(report.written)} USD layouts written, {report.unchanged} unchanged{kept}"


def _previs(run: Run, progress: Progress) -> str:
    report = run.production.previs(size=run.size, progress=progress)
    for number, sheet in report.contact_sheets.items():
        target = run.out / "contact_sheets" / f"{number}.png"
        write_atomic(target, sheet.read_bytes())
        run.outputs.append(target)
    failed = f", {len(report.failed)} failed" if report.failed else ""
    framing = f", {len(report.framing)} framing notes" if report.framing else ""
    return f"{len(report.rendered)} shots rendered, {report.up_to_date} up to date{failed}{framing}"


def _takes(run: Run, progress: Progress) -> str:
    queued = run.production.queue_missing_takes(requested_by=run.requested_by)
    report = run.production.work(progress=progress)
    failed = f", {report.failed} failed" if report.failed else ""
    return f"{queued} take(s) queued, {report.takes} made{failed}"


def _shotlist(run: Run, progress: Progress) -> str:
    production = run.production
    shots = production.shots()
    run.outputs += write_shotlist(
        shots, production.breakdown(), production.title(), production.settings.fps, run.out,
        storyboards={s.code: path for s in shots if (path := production.storyboard(s.code))},
    )  # fmt: skip
    progress(1, 1)
    return f"{len(shots)} shots in shotlist.html"


def _cut(run: Run, progress: Progress) -> str:
    report = run.production.cut(run.out / "cut", progress=progress, made_by=run.requested_by)
    run.outputs += [path for key, path in report.outputs.items() if key != "takes"]
    seconds = float(report.frames / run.production.settings.fps)
    longer = f", {len(report.lengthened)} lengthened for dialogue" if report.lengthened else ""
    warned = f", {len(report.warnings)} warnings" if report.warnings else ""
    return f"{report.shots} shots, {seconds / 60:.1f} min animatic, signed{longer}{warned}"


# In order; a new capability adds its stage before "shotlist" (which presents the shots); the
# cut comes last, as the end of the run.
STAGES: list[Stage] = [
    Stage("import", _import),
    Stage("breakdown", _breakdown),
    Stage("plan", _plan),
    Stage("layout", _layout),
    Stage("previs", _previs),
    Stage("takes", _takes),
    Stage("shotlist", _shotlist),
    Stage("cut", _cut),
]


def stages_until(until: str | None) -> list[Stage]:
    """The stages up to and including ``until`` (every stage when None)."""
    names = [stage.name for stage in STAGES]
    if until is None:
        return list(STAGES)
    if until not in names:
        raise ConfigError(f"--until {until!r}: not a stage; stages are {', '.join(names)}")
    return STAGES[: names.index(until) + 1]


def open_or_init(production_dir: Path, title: str = "") -> Production:
    """Open the production at ``production_dir``, making it first if it is not one yet."""
    if (production_dir / SETTINGS_FILE).exists():
        return Production.open(production_dir)
    return Production.init(production_dir, title=title)


def make(
    script: Path,
    out: Path,
    production: Production,
    *,
    size: tuple[int, int] = (1280, 720),
    requested_by: str = "",
    until: str | None = None,
    on_stage: Callable[[Stage], Progress] = lambda stage: lambda done, total: None,
) -> MakeResult:
    """Run every stage on ``script`` into ``production``, writing sheets into ``out``.

    ``on_stage`` is called as each stage starts and returns that stage's progress callback;
    ``until`` names the last stage to run (all of them by default).
    """
    run = Run(production=production, script=script, out=out, size=size, requested_by=requested_by)
    results = []
    for stage in stages_until(until):
        started = time.perf_counter()
        summary = stage.run(run, on_stage(stage))
        results.append(StageResult(stage.name, summary, time.perf_counter() - started))
    return MakeResult(results, run.outputs)
