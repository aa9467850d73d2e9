"""Commands of the script and the shot list: init, import, export, script mark, breakdown,
plan, layout, previs, shots, shot."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from soundstage.cli.app import (
    app,
    bars,
    err,
    export_app,
    frame_size,
    given_path,
    opened,
    out,
    shot_app,
)
from soundstage.config import DATABASE_PASSWORD_VARIABLE, SETTINGS_FILE, split_password
from soundstage.errors import ConfigError
from soundstage.files import write_atomic
from soundstage.plan.model import MAX_SHOT_FRAMES, Angle, Move, ShotSize
from soundstage.project import Production, writers
from soundstage.reports.sheets import write_breakdown
from soundstage.script.eighths import format_eighths
from soundstage.script.formats import format_of

# -- production ----------------------------------------------------------------------------


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to make (it may exist, empty or not).", parser=given_path)],
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            help="Database URL, e.g. postgresql://user@host/db for a team (default: SQLite in the folder).",
        ),
    ] = "",
    title: Annotated[str, typer.Option(help="The production's title.")] = "",
    fps: Annotated[
        str, typer.Option(help="Frame rate: 24, 25, 30, or NTSC as 24000/1001 (23.976) or 30000/1001 (29.97).")
    ] = "24",
) -> None:
    """Make a production folder: soundstage.toml, the database and the media store."""
    with Production.init(directory, database_url=database_url, title=title, fps=fps) as production:
        where = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[production.engine.dialect.name]
        # Quoted and unwrapped, so the next command can be copied as it stands (a folder with a space).
        out.print(
            f"Made production {directory} ({where}). Next: soundstage -p {shlex.quote(str(directory))} import SCRIPT",
            soft_wrap=True,
        )
    if split_password(database_url)[1] and DATABASE_PASSWORD_VARIABLE not in os.environ:
        out.print(
            f"The database password is not kept in {SETTINGS_FILE}: set {DATABASE_PASSWORD_VARIABLE}"
            " (or put it in ~/.pgpass) for the next commands."
        )


@app.command(name="import")
def import_(
    script: Annotated[Path, typer.Argument(help="A .fountain or .fdx screenplay.")],
    ai_material: Annotated[
        bool, typer.Option("--ai-material", help="The draft holds AI-generated text (disclosed to writers, WGA-1).")
    ] = False,
) -> None:
    """Read a screenplay into the production; a revised draft is matched scene by scene."""
    with opened() as production:
        report = production.import_script(script, ai_material=ai_material)
    out.print(f"Draft {report.draft}: {report.title or script.name}, {report.scenes} scenes")
    if report.ai_material:
        carried = f", as draft {report.ai_carried_from} was" if report.ai_carried_from else ""
        out.print(f"  holds AI-generated material{carried} (soundstage script mark --no-ai-material unmarks it)")
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
    to: Annotated[
        str, typer.Option("--to", help="The writer it goes to (the send-to-writer rules are checked first).")
    ] = "",
) -> None:
    """Write the current draft as Fountain (.fountain) or Final Draft (.fdx), with scene numbers.
    A draft holding AI-generated material goes to a writer only once its disclosure to them is
    recorded and acknowledged (soundstage disclose; WGA-1)."""
    fmt = format_of(output)
    with opened() as production:
        data = production.export_script(fmt, to=to)
    write_atomic(output, data)
    out.print(f"Wrote {output}")


script_app = typer.Typer(help="The screenplay's drafts: mark AI-generated material.", no_args_is_help=True)
app.add_typer(script_app, name="script")


@script_app.command(name="mark")
def script_mark(
    draft: Annotated[
        str, typer.Argument(help="The draft: its number, 'latest', or 8+ digits of its sha256.")
    ] = "latest",
    ai_material: Annotated[
        bool, typer.Option("--ai-material/--no-ai-material", help="It holds AI-generated text, or (with --reason) not.")
    ] = True,
    reason: Annotated[str, typer.Option(help="Why (required to unmark).")] = "",
    user: Annotated[
        str, typer.Option("--as", envvar="SOUNDSTAGE_USER", help="Who marks it (default: $SOUNDSTAGE_USER).")
    ] = "",
) -> None:
    """Mark a draft as holding AI-generated material, or unmark it with a reason; audited."""
    with opened() as production:
        changed = writers.mark_draft(production.context, draft, ai_material=ai_material, reason=reason, by=user)
    state = "holds AI-generated material" if ai_material else "marked as holding no AI-generated material"
    out.print(f"draft {', '.join(map(str, changed))}: {state}")


@app.command()
def breakdown(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder for the sheets (default: PRODUCTION/sheets).")
    ] = None,
) -> None:
    """Print the scene breakdown and write breakdown sheets (CSV and HTML)."""
    with opened() as production:
        sheets = production.breakdown()
        # The sheets first: a folder they cannot go to is the one line printed, not a whole
        # breakdown followed by an error.
        paths = write_breakdown(sheets, production.title(), output or production.root / "sheets")
        # The set in one column (INT TALLOW LAMP SHOP - CONTINUOUS) leaves room for the lists;
        # names fold rather than being cut short, so none is lost on a narrow terminal.
        table = Table("Sc.", title="Breakdown", box=box.SIMPLE_HEAD)
        table.add_column("Set", overflow="fold")
        table.add_column("Len", no_wrap=True)
        for heading in ("Cast", "Background", "Animals", "Props", "Sound"):
            table.add_column(heading, overflow="fold")
        for s in sheets:
            b = s.breakdown
            place = " ".join(part for part in (b.int_ext, b.location or b.heading) if part)
            table.add_row(
                s.number, f"{place} - {b.time_of_day}" if b.time_of_day else place, format_eighths(b.eighths),
                ", ".join(b.speaking), ", ".join(b.non_speaking), ", ".join(b.animals), ", ".join(b.props),
                ", ".join(b.sounds),
            )  # fmt: skip
        out.print(table)
    out.print("Wrote " + ", ".join(str(p) for p in paths))


@app.command()
def plan() -> None:
    """Propose the shot list by the coverage rules in soundstage.toml; artists' edits are kept."""
    with opened() as production, bars() as progress:
        task = progress.add_task("plan", total=None)
        report = production.plan(lambda done, total: progress.update(task, completed=done, total=total))
        fps = production.settings.fps
    out.print(f"{report.shots} shots in {report.scenes} scenes, {float(report.frames / fps / 60):.1f} min planned")
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
    with opened() as production, bars() as progress:
        _scene_with_shots(production, scene)
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
    force: Annotated[bool, typer.Option("--force", help="Render again even if the layout has not changed.")] = False,
    scene: Annotated[str | None, typer.Option(help="Only this scene number.")] = None,
) -> None:
    """Render every laid-out shot headlessly: storyboard, depth, line art, character ids, contact sheets."""
    dimensions = frame_size(size)
    with opened() as production, bars() as progress:
        _scene_with_shots(production, scene)
        task = progress.add_task("previs", total=None)
        report = production.previs(
            size=dimensions, force=force, scene=scene,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )  # fmt: skip
    moving = f" ({len(report.moving)} moving, as clips)" if report.moving else ""
    out.print(f"{len(report.rendered)} shots rendered{moving}, {report.up_to_date} up to date")
    for line in report.failed:
        err.print(f"  failed: {line}", markup=False, highlight=False)
    for line in report.framing:
        out.print(f"  framing: {line}", markup=False, highlight=False)
    for number, path in report.contact_sheets.items():
        out.print(f"  contact sheet, scene {number}: {path}")


def _scene_with_shots(production: Production, scene: str | None) -> None:
    """ConfigError when --scene names no scene of the shot list: "0 layouts written" for a
    mistyped scene number read as if the scene were done."""
    if scene is not None and not production.shots(scene):
        raise ConfigError(f"--scene {scene}: no such scene with shots (soundstage breakdown lists scenes)")


@app.command()
def shots(scene: Annotated[str | None, typer.Option(help="Only this scene number.")] = None) -> None:
    """List the shot list."""
    with opened() as production:
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
    with opened() as production:
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
    with opened() as production:
        if duration is not None:
            longest = float(MAX_SHOT_FRAMES / production.settings.fps)
            # Written so that NaN fails it too (NaN compares false with everything).
            if not 0 < duration <= longest:
                raise ConfigError(f"--duration {duration}: must be more than 0 and at most {int(longest):,} seconds")
            edits["frames"] = max(1, round(duration * production.settings.fps))
        if not edits:
            raise ConfigError(f"shot edit {code}: nothing to change; give at least one option (see --help)")
        shot = production.edit_shot(code, edits)
    out.print(f"{shot.code}: {shot.size.value} {shot.angle.value} {shot.lens_mm:g}mm {shot.move.value}")
