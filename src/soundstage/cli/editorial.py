"""Commands of the cut and the whole run: cut, verify, make."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from soundstage.cli.app import (
    State,
    app,
    bars,
    err,
    frame_size,
    opened,
    out,
    user,
)
from soundstage.make import STAGES, MakeResult, Stage, open_or_init, stages_until
from soundstage.make import make as run_make
from soundstage.project import Progress as StageProgress
from soundstage.project import editorial

# -- the cut and its credentials -----------------------------------------------------------------


@app.command()
def cut(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the cut.")],
    scene: Annotated[list[str] | None, typer.Option(help="Only these scenes (repeat the option).")] = None,
    prores: Annotated[bool, typer.Option(help="A ProRes 422 .mov animatic instead of H.264 .mp4.")] = False,
) -> None:
    """Cut the episode: signed takes, OTIO timeline with EDL, FCP 7 XML and FCPXML (Final Cut Pro X,
    DaVinci Resolve), the animatic with scratch dialogue, and the disclosure report. Each shot uses
    its approved take, else its newest, else a NO TAKE slate. The cut is made by $SOUNDSTAGE_USER
    (else your login), named so in its credentials."""
    with opened() as production, bars() as progress:
        task = progress.add_task("animatic", total=None)
        report = production.cut(
            output,
            scenes=scene or (),
            prores=prores,
            made_by=user(),
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    for line in report.warnings:
        err.print(f"warning: {line}", markup=False, highlight=False)
    for line in report.lengthened:
        out.print(f"lengthened for dialogue: {line}", markup=False)
    seconds = float(report.frames / production.settings.fps)
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
    from soundstage.provenance.credentials import describe as describe_credentials  # c2pa: verify only

    report = editorial.verify(file, State.production_dir or Path.cwd(), trust)
    for line in describe_credentials(report):
        out.print(line, markup=False, highlight=False)
    if not report.present or not report.valid:
        raise typer.Exit(1)


# -- the whole run -------------------------------------------------------------------------


@app.command()
def make(
    script: Annotated[Path, typer.Argument(help="A .fountain or .fdx screenplay.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for sheets and reports.")],
    size: Annotated[str, typer.Option(help="Previs frame size WIDTHxHEIGHT.")] = "1280x720",
    until: Annotated[
        str | None,
        typer.Option(help=f"The last stage to run: {', '.join(s.name for s in STAGES)} (default: all)."),
    ] = None,
) -> None:
    """Run every stage from import to the newest on SCRIPT, writing sheets and reports into OUTPUT.

    The production is --production if given, else OUTPUT/production (made if missing).
    """
    dimensions = frame_size(size)
    stages_until(until)  # a bad --until fails before anything is made
    production_dir = State.production_dir or output / "production"
    fresh, fresh_output = not production_dir.exists(), not output.exists()
    try:
        result = _make(script, output, production_dir, dimensions, until)
    except BaseException:  # a user mistake, a failed stage, or Ctrl-C
        # What this failed run made is removed, not left half made: the production, and the
        # output folder with the sheets it had written so far.
        if fresh:
            shutil.rmtree(production_dir, ignore_errors=True)
        if fresh_output:
            shutil.rmtree(output, ignore_errors=True)
        raise
    for stage in result.stages:
        out.print(f"{stage.name:>10}  {stage.summary}  [dim]({stage.seconds:.2f} s)[/dim]")
    out.print(f"Production: {production_dir}")
    out.print(f"Results in {output}:")
    for path in result.outputs:
        out.print(f"  {path}")


def _make(script: Path, output: Path, production_dir: Path, size: tuple[int, int], until: str | None) -> MakeResult:
    with open_or_init(production_dir) as production, bars() as progress:
        tasks = {stage.name: progress.add_task(stage.name, total=None) for stage in stages_until(until)}

        def on_stage(stage: Stage) -> StageProgress:
            task = tasks[stage.name]
            return lambda done, total: progress.update(task, completed=done, total=total)

        return run_make(script, output, production, size=size, requested_by=user(), until=until, on_stage=on_stage)
