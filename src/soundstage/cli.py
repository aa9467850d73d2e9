"""The ``soundstage`` command: parse arguments, call the production, print with Rich.

Every user mistake ends as one line on stderr and exit code 2; nothing here holds logic
that the web app would need too (that lives in ``project``).
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from soundstage import __version__
from soundstage.errors import ConfigError, SoundstageError
from soundstage.files import write_atomic
from soundstage.generate.registry import BACKENDS
from soundstage.make import MakeResult, Stage, open_or_init, stages_until
from soundstage.make import make as run_make
from soundstage.plan.model import Angle, Move, ShotSize
from soundstage.project import Production, TakeOptions
from soundstage.project import Progress as StageProgress
from soundstage.provenance.credentials import describe as describe_credentials
from soundstage.provenance.credentials import read_credentials
from soundstage.reports.sheets import write_breakdown
from soundstage.review.audit import as_utc
from soundstage.review.workflow import Action
from soundstage.script.eighths import format_eighths
from soundstage.script.formats import format_of

app = typer.Typer(
    name="soundstage",
    help="Soundstage: screenplay to shot list, blocking, takes, review and credentials for AI-assisted crews.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)


class _TakeGroup(TyperGroup):
    """``take SHOT ...`` queues takes; ``take reproduce`` and ``take cancel`` are subcommands."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["queue", *args]
        return super().parse_args(ctx, args)


export_app = typer.Typer(help="Write the production's material out in interchange formats.", no_args_is_help=True)
take_app = typer.Typer(
    cls=_TakeGroup,
    help="Queue takes of a shot (take SHOT), run a take's recipe again (take reproduce), cancel jobs.",
    no_args_is_help=True,
)
bible_app = typer.Typer(help="The production bible: style, characters, locations.", no_args_is_help=True)
shot_app = typer.Typer(help="Look at and edit single shots.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(shot_app, name="shot")
app.add_typer(take_app, name="take")
app.add_typer(bible_app, name="bible")
user_app = typer.Typer(help="People of the production and their roles.", no_args_is_help=True)
review_app = typer.Typer(
    help="Review decisions for scripts, under the same rules as the review room (--as USER, or $SOUNDSTAGE_USER).",
    no_args_is_help=True,
)
audit_app = typer.Typer(help="The hash-chained audit trail of every decision.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(review_app, name="review")
app.add_typer(audit_app, name="audit")

out = Console()
err = Console(stderr=True)

ProductionOption = Annotated[
    Path | None,
    typer.Option(
        "--production",
        "-p",
        envvar="SOUNDSTAGE_PRODUCTION",
        help="The production folder (default: the current folder).",
        show_default=False,
    ),
]


class _State:
    production_dir: Path | None = None


def _version(value: bool) -> None:
    if value:
        out.print(f"soundstage {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    production: ProductionOption = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    _State.production_dir = production


@contextmanager
def _production() -> Iterator[Production]:
    with Production.open(_State.production_dir or Path.cwd()) as production:
        yield production


@contextmanager
def _progress() -> Iterator[Progress]:
    with Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        # Bars are for people at a terminal; logs and pipes get the summary lines only.
        disable=not err.is_terminal,
        transient=True,
    ) as progress:
        yield progress


# -- production ----------------------------------------------------------------------------


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to make (it may exist, empty or not).")],
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            help="Database URL, e.g. postgresql://user@host/db for a team (default: SQLite in the folder).",
        ),
    ] = "",
    title: Annotated[str, typer.Option(help="The production's title.")] = "",
) -> None:
    """Make a production folder: soundstage.toml, the database and the media store."""
    with Production.init(directory, database_url=database_url, title=title) as production:
        where = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[production.engine.dialect.name]
        out.print(f"Made production {directory} ({where}). Next: soundstage -p {directory} import SCRIPT")


@app.command(name="import")
def import_(script: Annotated[Path, typer.Argument(help="A .fountain or .fdx screenplay.")]) -> None:
    """Read a screenplay into the production; a revised draft is matched scene by scene."""
    with _production() as production:
        report = production.import_script(script)
    out.print(f"Draft {report.draft}: {report.title or script.name}, {report.scenes} scenes")
    if report.draft > 1:
        out.print(
            f"  unchanged {report.unchanged} · changed {len(report.changed)} · added {len(report.added)}"
            f" · removed {len(report.removed)}"
        )
        for label, numbers in (("changed", report.changed), ("added", report.added), ("removed", report.removed)):
            if numbers:
                out.print(f"  {label}: {', '.join(numbers)}")


@export_app.command(name="script")
def export_script(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write; its suffix picks the format.")],
) -> None:
    """Write the current draft as Fountain (.fountain) or Final Draft (.fdx), with scene numbers."""
    fmt = format_of(output)
    with _production() as production:
        data = production.export_script(fmt)
    write_atomic(output, data)
    out.print(f"Wrote {output}")


@app.command()
def breakdown(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder for the sheets (default: PRODUCTION/sheets).")
    ] = None,
) -> None:
    """Print the scene breakdown and write breakdown sheets (CSV and HTML)."""
    with _production() as production:
        sheets = production.breakdown()
        table = Table("Sc.", "I/E", "Location", "Time", "Len", "Speaking", "Props", "Sound", title="Breakdown")
        for s in sheets:
            b = s.breakdown
            table.add_row(
                s.number, b.int_ext, b.location, b.time_of_day, format_eighths(b.eighths),
                ", ".join(b.speaking), ", ".join(b.props), ", ".join(b.sounds),
            )  # fmt: skip
        out.print(table)
        paths = write_breakdown(sheets, production.title(), output or production.root / "sheets")
    out.print("Wrote " + ", ".join(str(p) for p in paths))


@app.command()
def plan() -> None:
    """Propose the shot list by the coverage rules in soundstage.toml; artists' edits are kept."""
    with _production() as production, _progress() as progress:
        task = progress.add_task("plan", total=None)
        report = production.plan(lambda done, total: progress.update(task, completed=done, total=total))
        fps = production.settings.fps
    out.print(f"{report.shots} shots in {report.scenes} scenes, {report.frames / fps / 60:.1f} min planned")
    if report.kept_edits:
        out.print(f"  artist edits kept on: {', '.join(report.kept_edits)}")
    if report.orphaned:
        out.print(f"  edited shots no longer in the plan (kept aside): {', '.join(report.orphaned)}")
    if report.edited_layouts:
        out.print(f"  layouts edited by hand (layout keeps them): {', '.join(report.edited_layouts)}")


@app.command()
def layout(
    force: Annotated[bool, typer.Option("--force", help="Also overwrite layouts edited by hand.")] = False,
    scene: Annotated[str | None, typer.Option(help="Only this scene number.")] = None,
) -> None:
    """Write a USD layout (set, stand-ins on their marks, camera) for every shot into PRODUCTION/layouts."""
    with _production() as production, _progress() as progress:
        task = progress.add_task("layout", total=None)
        report = production.layout(
            force=force, scene=scene, progress=lambda done, total: progress.update(task, completed=done, total=total)
        )
    out.print(f"{len(report.written)} layouts written, {report.unchanged} unchanged")
    if report.kept_edited:
        out.print(f"  edited by hand, kept (--force overwrites): {', '.join(report.kept_edited)}")


@app.command()
def previs(
    size: Annotated[str, typer.Option(help="Frame size WIDTHxHEIGHT.")] = "1280x720",
    burn_in: Annotated[bool, typer.Option("--burn-in/--no-burn-in", help="Shot code and lens on the frame.")] = True,
    force: Annotated[bool, typer.Option("--force", help="Render again even if the layout has not changed.")] = False,
    scene: Annotated[str | None, typer.Option(help="Only this scene number.")] = None,
) -> None:
    """Render every laid-out shot headlessly: storyboard, depth, line art, character ids, contact sheets."""
    dimensions = _size(size)
    with _production() as production, _progress() as progress:
        task = progress.add_task("previs", total=None)
        report = production.previs(
            size=dimensions, burn_in=burn_in, force=force, scene=scene,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )  # fmt: skip
    out.print(f"{len(report.rendered)} shots rendered, {report.up_to_date} up to date")
    for line in report.failed:
        err.print(f"  failed: {line}", markup=False, highlight=False)
    for line in report.framing:
        out.print(f"  framing: {line}", markup=False, highlight=False)
    for number, path in report.contact_sheets.items():
        out.print(f"  contact sheet, scene {number}: {path}")


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", text.strip().lower())
    if not match or not all(16 <= int(n) <= 8192 for n in match.groups()):
        raise ConfigError(f"--size {text!r}: expected WIDTHxHEIGHT between 16 and 8192, e.g. 1280x720")
    return int(match.group(1)), int(match.group(2))


@app.command()
def shots(scene: Annotated[str | None, typer.Option(help="Only this scene number.")] = None) -> None:
    """List the shot list."""
    with _production() as production:
        listing = production.shots(scene)
        fps = production.settings.fps
    if scene is not None and not listing:
        raise ConfigError(f"--scene {scene}: no such scene with shots (soundstage breakdown lists scenes)")
    table = Table("Shot", "Size", "Angle", "Lens", "Move", "Subjects", "Sec", "Description")
    for s in listing:
        table.add_row(
            s.code, s.size.value, s.angle.value, f"{s.lens_mm:g}", s.move.value, ", ".join(s.subjects),
            f"{s.seconds(fps):.1f}", s.description,
        )  # fmt: skip
    out.print(table)


@shot_app.command(name="show")
def shot_show(code: Annotated[str, typer.Argument(help="Shot code, e.g. 012_0030.")]) -> None:
    """Print one shot."""
    with _production() as production:
        shot = production.shot(code)
    for key, value in shot.model_dump(mode="json").items():
        out.print(f"{key:>12}: {value}")


@shot_app.command(name="edit")
def shot_edit(
    code: Annotated[str, typer.Argument(help="Shot code, e.g. 012_0030.")],
    size: Annotated[ShotSize | None, typer.Option(help="Shot size.")] = None,
    angle: Annotated[Angle | None, typer.Option(help="Camera angle.")] = None,
    lens: Annotated[float | None, typer.Option(help="Focal length in mm.")] = None,
    move: Annotated[Move | None, typer.Option(help="Camera move.")] = None,
    subjects: Annotated[str | None, typer.Option(help="Characters in frame, comma-separated.")] = None,
    duration: Annotated[float | None, typer.Option(help="Duration in seconds (stored as whole frames).")] = None,
    description: Annotated[str | None, typer.Option(help="What the shot shows.")] = None,
) -> None:
    """Change a shot by hand; the edit survives every re-plan."""
    edits: dict[str, object] = {}
    if size is not None:
        edits["size"] = size
    if angle is not None:
        edits["angle"] = angle
    if lens is not None:
        edits["lens_mm"] = lens
    if move is not None:
        edits["move"] = move
    if subjects is not None:
        edits["subjects"] = tuple(s.strip().upper() for s in subjects.split(",") if s.strip())
    if description is not None:
        edits["description"] = description
    with _production() as production:
        if duration is not None:
            if duration <= 0:
                raise ConfigError(f"--duration {duration}: must be more than 0 seconds")
            edits["frames"] = max(1, round(duration * production.settings.fps))
        if not edits:
            raise ConfigError(f"shot edit {code}: nothing to change; give at least one option (see --help)")
        shot = production.edit_shot(code, edits)
    out.print(f"{shot.code}: {shot.size.value} {shot.angle.value} {shot.lens_mm:g}mm {shot.move.value}")


# -- takes ---------------------------------------------------------------------------------


@bible_app.command(name="check")
def bible_check() -> None:
    """Report what the bible lacks: descriptions and reference images. Exit 1 if anything is missing."""
    with _production() as production:
        problems = production.bible_check()
    for line in problems:
        out.print(f"  {line}", markup=False, highlight=False)
    out.print(f"{len(problems)} missing" if problems else "The bible is complete.")
    if problems:
        raise typer.Exit(1)


@take_app.command(name="queue", hidden=True)
def take_queue(
    shot: Annotated[str, typer.Argument(help="Shot code, e.g. 012_0030.")],
    backend: Annotated[str, typer.Option(help=f"One of {', '.join(BACKENDS)} (default from soundstage.toml).")] = "",
    seed: Annotated[int | None, typer.Option(min=0, help="Seed of the first take; the next ones count up.")] = None,
    prompt: Annotated[str, typer.Option(help="Your words; they lead the composed prompt.")] = "",
    negative: Annotated[str, typer.Option(help="Words to avoid, before the bible's.")] = "",
    strength: Annotated[
        float | None, typer.Option(min=0, max=1, help="img2img from the storyboard: 0 keeps it, 1 ignores it.")
    ] = None,
    steps: Annotated[int | None, typer.Option(min=1, max=1000, help="Sampling steps.")] = None,
    guidance: Annotated[float | None, typer.Option(min=0, max=50, help="Guidance scale.")] = None,
    count: Annotated[int, typer.Option(min=1, max=64, help="How many takes.")] = 1,
    by: Annotated[str, typer.Option(help="Who asks for them (default: $SOUNDSTAGE_USER or your login).")] = "",
    run: Annotated[
        bool, typer.Option("--run/--no-run", help="Work the queue now (default) or leave it to soundstage work.")
    ] = True,
) -> None:
    """Queue takes of SHOT (run as: soundstage take SHOT [options])."""
    options = TakeOptions(
        backend=backend, seed=seed, prompt=prompt, negative=negative, strength=strength, steps=steps,
        guidance=guidance, count=count, requested_by=by or _user(),
    )  # fmt: skip
    with _production() as production:
        jobs = production.queue_takes(shot, options)
        out.print(f"Queued {len(jobs)} take(s) of {shot.upper()}: jobs {', '.join(map(str, jobs))}")
        if run:
            _work(production, None)
            _print_takes(production, shot)


@take_app.command(name="reproduce")
def take_reproduce(take: Annotated[str, typer.Argument(help="SHOT/NUMBER, e.g. 012_0030/2.")]) -> None:
    """Run a take's recipe again and say whether the bytes match. Exit 1 if they differ."""
    with _production() as production:
        same, path, digest = production.reproduce(take)
    if same:
        out.print(f"{take}: reproduced, bytes identical ({path.name})")
    else:
        out.print(f"{take}: differs: stored {path.stem}, now {digest}")
        raise typer.Exit(1)


@take_app.command(name="cancel")
def take_cancel(
    jobs: Annotated[list[int] | None, typer.Argument(help="Job ids (soundstage takes SHOT shows them).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Cancel every queued and running job.")] = False,
) -> None:
    """Cancel queued or running jobs; a running one finishes its image but records no take."""
    if not jobs and not all_:
        raise ConfigError("take cancel: name job ids or give --all")
    with _production() as production:
        from soundstage.generate import queue

        cancelled = queue.cancel(production.engine, None if all_ else list(jobs or []))
    out.print(f"Cancelled {cancelled} job(s)")


@app.command()
def takes(shot: Annotated[str, typer.Argument(help="Shot code, e.g. 012_0030.")]) -> None:
    """List a shot's takes with their recipes, and its jobs not done yet."""
    with _production() as production:
        _print_takes(production, shot)


@app.command()
def work(
    workers: Annotated[int | None, typer.Option("--workers", "-n", min=1, max=64, help="Worker processes.")] = None,
    single: Annotated[bool, typer.Option("--single", hidden=True)] = False,
) -> None:
    """Work the take queue until it is empty, with N worker processes."""
    if single:
        from soundstage.generate.worker import run_jobs

        run_jobs(_State.production_dir or Path.cwd())
        return
    with _production() as production:
        _work(production, workers)


def _user() -> str:
    """Who is at the keyboard: $SOUNDSTAGE_USER, else the login name."""
    return os.environ.get("SOUNDSTAGE_USER") or getpass.getuser()


def _work(production: Production, workers: int | None) -> None:
    with _progress() as progress:
        task = progress.add_task("takes", total=None)
        report = production.work(workers, lambda done, total: progress.update(task, completed=done, total=total))
    out.print(f"{report.takes} take(s) made" + (f", {report.failed} failed" if report.failed else ""))


def _checks_summary(production: Production, take: str) -> str:
    """A take's findings in a few words: "pass", "warn: style", "fail: composition, character"."""
    findings = production.findings(take)
    if not findings:
        return "not checked"
    for verdict in ("fail", "warn"):
        names = sorted({f.check for f in findings if f.verdict.value == verdict})
        if names:
            return f"[{VERDICT_STYLE[verdict]}]{verdict}[/]: {', '.join(names)}"
    return "[green]pass[/]"


def _print_takes(production: Production, shot: str) -> None:
    table = Table("Take", "State", "Backend", "Seed", "By", "Checks", "Prompt", "File")
    for take in production.takes(shot):
        r = take.recipe
        table.add_row(
            take.name, take.state, r.backend, str(r.seed), r.requested_by,
            _checks_summary(production, take.name) if take.path else "",
            r.prompt[:60], str(take.path) if take.path else take.error,
        )  # fmt: skip
    out.print(table)


# -- intent checks -------------------------------------------------------------------------------

VERDICT_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}


@app.command()
def check(
    shots: Annotated[list[str] | None, typer.Argument(help="Shot codes (all their takes).", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every take of every shot.")] = False,
) -> None:
    """Run the intent checks again (composition, character, style, continuity, duplicates) and
    print the findings. Exit 1 when any take fails a check."""
    if not shots and not all_:
        raise ConfigError("soundstage check: name shots (soundstage check 012_0030) or give --all")
    with _production() as production, _progress() as progress:
        task = progress.add_task("checks", total=None)
        report = production.check(shots or (), progress=lambda done, total: progress.update(task, completed=done))
    table = Table("Take", "Check", "Subject", "Score", "Verdict", "Reason")
    for take, findings in report.findings.items():
        for finding in findings:
            verdict = finding.verdict.value
            table.add_row(
                take, finding.check, finding.subject, f"{finding.score:.2f}",
                f"[{VERDICT_STYLE[verdict]}]{verdict}[/]", finding.reason,
            )  # fmt: skip
    out.print(table)
    for line in report.not_checked:
        err.print(f"not checked: {line}", markup=False, highlight=False)
    failed = sum(any(f.verdict.value == "fail" for f in fs) for fs in report.findings.values())
    out.print(f"{len(report.findings)} take(s) checked, {failed} failed")
    if failed:
        raise typer.Exit(1)


# -- the cut and its credentials -----------------------------------------------------------------


@app.command()
def cut(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the cut.")],
    scene: Annotated[list[str] | None, typer.Option(help="Only these scenes (repeat the option).")] = None,
    prores: Annotated[bool, typer.Option(help="A ProRes 422 .mov animatic instead of H.264 .mp4.")] = False,
) -> None:
    """Cut the episode: signed takes, OTIO timeline with EDL and FCP XML, the animatic with scratch
    dialogue, and the disclosure report. Each shot uses its approved take, else its newest, else a
    NO TAKE slate."""
    with _production() as production, _progress() as progress:
        task = progress.add_task("animatic", total=None)
        report = production.cut(
            output,
            scenes=scene or (),
            prores=prores,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    for line in report.warnings:
        err.print(f"warning: {line}", markup=False, highlight=False)
    for line in report.lengthened:
        out.print(f"lengthened for dialogue: {line}", markup=False)
    seconds = report.frames / production.settings.fps
    out.print(f"{report.shots} shots, {seconds:.1f} s (cut {report.cut_id})")
    for key, path in report.outputs.items():
        out.print(f"  {key:>15}  {path}", markup=False)


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="A take PNG or an animatic written by Soundstage (or any C2PA file).")],
    trust: Annotated[
        Path | None,
        typer.Option(help="CA certificates (PEM) to trust; default: the production's credentials/ca.pem if any."),
    ] = None,
) -> None:
    """Read a file's content credentials: valid or not, what made it, from which takes, who approved
    each. Exit 1 when the file has none or they do not validate."""
    if trust is None:
        candidate = (_State.production_dir or Path.cwd()) / "credentials" / "ca.pem"
        trust = candidate if candidate.exists() else None
    report = read_credentials(file, trust_anchors=trust)
    for line in describe_credentials(report):
        out.print(line, markup=False, highlight=False)
    if not report.present or not report.valid:
        raise typer.Exit(1)


# -- people, review and the audit trail --------------------------------------------------------

ROLES_HELP = "producer | supervisor | artist | reviewer | client"


@user_app.command(name="add")
def user_add(
    name: Annotated[str, typer.Argument(help="The person's name as the audit trail shows it.")],
    role: Annotated[str, typer.Option("--role", "-r", help=ROLES_HELP)],
    by: Annotated[str, typer.Option("--by", help="A producer who adds them (default: this console).")] = "",
) -> None:
    """Add a person with a role."""
    with _production() as production:
        production.add_user(name, role, by=by)
    out.print(f"added {name} ({role.lower()})")


@user_app.command(name="role")
def user_role(
    name: Annotated[str, typer.Argument(help="The person.")],
    role: Annotated[str, typer.Argument(help=ROLES_HELP)],
    by: Annotated[str, typer.Option("--by", help="A producer who changes it (default: this console).")] = "",
) -> None:
    """Give a person another role."""
    with _production() as production:
        production.change_role(name, role, by=by)
    out.print(f"{name} is now {role.lower()}")


@user_app.command(name="list")
def user_list() -> None:
    """Everyone in the production and their role."""
    with _production() as production:
        table = Table("Name", "Role", "Active")
        for name, role, active in production.users():
            table.add_row(name, role, "yes" if active else "no")
    out.print(table)


AsOption = Annotated[
    str,
    typer.Option(
        "--as", envvar="SOUNDSTAGE_USER", help="The user deciding (default: $SOUNDSTAGE_USER).", show_default=False
    ),
]
NoteOption = Annotated[str, typer.Option("--note", "-m", help="A note that goes with the decision.")]


def _decide(reference: str, action: Action, user: str, note: str, override: str = "") -> None:
    if not user:
        raise ConfigError("who is deciding? give --as USER or set SOUNDSTAGE_USER")
    with _production() as production:
        decision = production.decide(reference, action, by=user, note=note, override_reason=override)
    what = decision.take or decision.shot
    out.print(f"{what}: {decision.previous} -> {decision.status} (by {user}, event {decision.event_id})")


@review_app.command(name="approve")
def review_approve(
    take: Annotated[str, typer.Argument(help="SHOT/NUMBER (or SHOT for its newest take).")],
    user: AsOption = "",
    note: NoteOption = "",
    override: Annotated[str, typer.Option(help="Why a take the checks failed is approved anyway.")] = "",
) -> None:
    """Approve a take (supervisor or producer)."""
    _decide(take, Action.APPROVE, user, note, override)


@review_app.command(name="request-changes")
def review_request_changes(
    shot: Annotated[str, typer.Argument(help="Shot code.")], user: AsOption = "", note: NoteOption = ""
) -> None:
    """Send a shot back to the artist (supervisor or producer)."""
    _decide(shot, Action.REQUEST_CHANGES, user, note)


@review_app.command(name="submit")
def review_submit(
    shot: Annotated[str, typer.Argument(help="Shot code.")], user: AsOption = "", note: NoteOption = ""
) -> None:
    """Submit a shot for review (artist, supervisor or producer)."""
    _decide(shot, Action.SUBMIT, user, note)


@review_app.command(name="final")
def review_final(
    shot: Annotated[str, typer.Argument(help="Shot code.")], user: AsOption = "", note: NoteOption = ""
) -> None:
    """Lock an approved shot as final (supervisor or producer)."""
    _decide(shot, Action.FINAL, user, note)


@review_app.command(name="note")
def review_note(
    target: Annotated[str, typer.Argument(help="SHOT or SHOT/NUMBER.")],
    body: Annotated[str, typer.Argument(help="The note.")],
    user: AsOption = "",
    frame: Annotated[int | None, typer.Option(min=0, help="The frame it is about (0-based).")] = None,
) -> None:
    """Leave a note on a shot or a take."""
    if not user:
        raise ConfigError("who is writing? give --as USER or set SOUNDSTAGE_USER")
    with _production() as production:
        number = production.note(target, body, by=user, frame=frame)
    out.print(f"note {number} on {target.upper()}")


@audit_app.command(name="verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain; exit 1 if any event was edited or deleted."""
    with _production() as production:
        report, trail = production.audit()
    for problem in report.problems:
        err.print(problem, markup=False, highlight=False)
    head = trail[-1].sha256 if trail else "(empty)"
    if not report.intact:
        out.print(f"audit trail BROKEN: {len(report.problems)} problem(s) in {report.events} event(s)")
        raise typer.Exit(1)
    out.print(f"audit trail intact: {report.events} event(s), head {head}")


@audit_app.command(name="log")
def audit_log(last: Annotated[int, typer.Option(min=1, help="How many of the newest events.")] = 50) -> None:
    """The newest events of the audit trail."""
    with _production() as production:
        _, trail = production.audit()
    table = Table("#", "Time (UTC)", "Who", "Role", "Action", "Subject", "Detail")
    for event in trail[-last:]:
        detail = ", ".join(f"{k}={v}" for k, v in event.detail.items())
        table.add_row(
            str(event.id), as_utc(event.at).strftime("%Y-%m-%d %H:%M:%S"), event.actor, event.role,
            event.action, event.subject, detail[:80],
        )  # fmt: skip
    out.print(table)


# -- the review room (web) ------------------------------------------------------------------


@user_app.command(name="password")
def user_password(
    name: Annotated[str, typer.Argument(help="The person.")],
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the password from one line of stdin (scripts).")] = False,
) -> None:
    """Set a person's password for the review room (their open sessions end)."""
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    with _production() as production:
        production.set_password(name, password)
    out.print(f"password set for {name}")


@user_app.command(name="token")
def user_token(name: Annotated[str, typer.Argument(help="The person the token acts as.")]) -> None:
    """Print a new API token for scripts (Authorization: Bearer TOKEN); it is shown only this once."""
    with _production() as production:
        token = production.issue_token(name)
    out.print(token, markup=False, highlight=False, soft_wrap=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the review room (shot board, dailies, notes, approvals) on HOST:PORT."""
    import uvicorn

    from soundstage.web.app import create_app

    review_room = create_app(_State.production_dir or Path.cwd())
    out.print(f"review room on http://{host}:{port} (Ctrl-C stops it)")
    uvicorn.run(review_room, host=host, port=port, log_level="warning")


# -- the whole run -------------------------------------------------------------------------


@app.command()
def make(
    script: Annotated[Path, typer.Argument(help="A .fountain or .fdx screenplay.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for sheets and reports.")],
    size: Annotated[str, typer.Option(help="Previs frame size WIDTHxHEIGHT.")] = "1280x720",
    until: Annotated[str | None, typer.Option(help="The last stage to run (default: all).")] = None,
) -> None:
    """Run every stage from import to the newest on SCRIPT, writing sheets and reports into OUTPUT.

    The production is --production if given, else OUTPUT/production (made if missing).
    """
    dimensions = _size(size)
    stages_until(until)  # a bad --until fails before anything is made
    production_dir = _State.production_dir or output / "production"
    fresh = not production_dir.exists()
    try:
        result = _make(script, output, production_dir, dimensions, until)
    except SoundstageError:
        if fresh:  # a production made by this failed run is removed, not left half made
            shutil.rmtree(production_dir, ignore_errors=True)
        raise
    for stage in result.stages:
        out.print(f"{stage.name:>10}  {stage.summary}  [dim]({stage.seconds:.2f} s)[/dim]")
    out.print(f"Production: {production_dir}")
    out.print(f"Results in {output}:")
    for path in result.outputs:
        out.print(f"  {path}")


def _make(script: Path, output: Path, production_dir: Path, size: tuple[int, int], until: str | None) -> MakeResult:
    with open_or_init(production_dir) as production, _progress() as progress:
        tasks = {stage.name: progress.add_task(stage.name, total=None) for stage in stages_until(until)}

        def on_stage(stage: Stage) -> StageProgress:
            task = tasks[stage.name]
            return lambda done, total: progress.update(task, completed=done, total=total)

        return run_make(script, output, production, size=size, requested_by=_user(), until=until, on_stage=on_stage)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning user mistakes into one line and exit code 2."""
    try:
        result = app(args=argv, standalone_mode=False)
    except SoundstageError as error:
        err.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
        return 2
    except typer.TyperException as error:
        ctx = getattr(error, "ctx", None)
        if type(error).__name__ == "NoArgsIsHelpError" and ctx is not None:
            out.print(ctx.get_help(), markup=False, highlight=False)  # a bare command asks for help
            return 0
        # Usage mistakes (unknown option, bad value): one line, not Click's usage box.
        command = ctx.command_path if ctx is not None else "soundstage"
        message = " ".join(error.format_message().split())
        err.print(f"error: {command}: {message}", markup=False, highlight=False, soft_wrap=True)
        return 2
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        err.print("aborted", markup=False)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
