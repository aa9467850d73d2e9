"""The ``soundstage`` Typer app and what its command modules share: the command groups, the
consoles, the global options (--production, --verbose, --version), opening the production,
progress bars, and the small parsers of arguments."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from soundstage import __version__, logs
from soundstage.errors import ConfigError
from soundstage.project import Production

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
    help="Queue takes of a shot (take SHOT), run a take's recipe again (take reproduce), list, cancel and retry jobs.",
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
# Lines are not broken at 80 columns when stdout is a pipe or a file: a path split across two
# lines cannot be copied or read by a script. Tables still fit the width.
out.soft_wrap = True


def given_path(text: str) -> Path:
    """A path argument as typed; an empty one is refused. ``Path("")`` is the current folder, so
    ``soundstage init "$DIR"`` with DIR unset would make the folder the user stands in a production
    (and ``-o ""`` would write there): a mistake, never a way to say "here" (that is ``.``)."""
    if not text.strip():
        raise typer.BadParameter("an empty path; name a folder or file (. for the current folder)")
    return Path(text)


ProductionOption = Annotated[
    Path | None,
    typer.Option(
        "--production",
        "-p",
        envvar="SOUNDSTAGE_PRODUCTION",
        help="The production folder (default: the current folder).",
        show_default=False,
        parser=given_path,
    ),
]


class State:
    """What the global options said, for the command that runs."""

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
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also say what Soundstage is doing (log lines on stderr).")
    ] = False,
) -> None:
    State.production_dir = production
    logs.configure(verbose)


@contextmanager
def opened() -> Iterator[Production]:
    """The production of --production (or the current folder), open for one command."""
    with Production.open(State.production_dir or Path.cwd()) as production:
        yield production


@contextmanager
def bars() -> Iterator[Progress]:
    """Progress bars on stderr, for people at a terminal."""
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


def frame_size(text: str) -> tuple[int, int]:
    """(width, height) from "1280x720"; ConfigError naming --size otherwise."""
    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", text.strip().lower())
    if not match or not all(16 <= int(n) <= 8192 for n in match.groups()):
        raise ConfigError(f"--size {text!r}: expected WIDTHxHEIGHT between 16 and 8192, e.g. 1280x720")
    return int(match.group(1)), int(match.group(2))


def user() -> str:
    """Who is at the keyboard: $SOUNDSTAGE_USER, else the login name."""
    return os.environ.get("SOUNDSTAGE_USER") or getpass.getuser()


# Ids, take numbers and frame numbers are 32-bit integers in the database (PostgreSQL): a larger
# number typed is refused as an option value, not sent to the database to overflow there.
MAX_ID = 2**31 - 1
