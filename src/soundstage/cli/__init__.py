"""The ``soundstage`` command: parse arguments, call the project's services, print with Rich.

Every user mistake ends as one line on stderr and exit code 2; nothing here holds logic that
the web app would need too (that lives in ``soundstage.project``). The commands live in one
module per group (script, takes, editorial, people); ``app.py`` holds the Typer app and what
they share.
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import suppress

import typer

from soundstage.cli import books as book_commands
from soundstage.cli import editorial, people, script, takes
from soundstage.cli import guardrails as guardrail_commands
from soundstage.cli import schedules as schedule_commands
from soundstage.cli.app import app, err, out
from soundstage.errors import ConfigError, SoundstageError
from soundstage.files import WRITE_FAILURES

__all__ = ["app", "main"]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # all but tab and line ends
_COMMANDS = (
    script,
    takes,
    editorial,
    people,
    schedule_commands,
    book_commands,
    guardrail_commands,
)  # imported for the commands they register


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning user mistakes into one line and exit code 2."""
    # An argument with an escape sequence (a stage or performer "name") would be stored and
    # printed to other people's terminals later; no argument needs one. Tabs and line ends may
    # stay (a note of several lines).
    try:
        for position, argument in enumerate(sys.argv[1:] if argv is None else argv, start=1):
            if _CONTROL.search(argument):
                raise ConfigError(f"argument {position} ({argument[:40]!r}) holds control characters")
        result = app(args=argv, standalone_mode=False)
        # What is still buffered for stdout fails here, not in the interpreter's exit (a
        # traceback-like "Exception ignored" and exit 120 when stdout is a full disk).
        sys.stdout.flush()
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
        # Pydantic's prefix on a validator's own words ("Invalid value for '--size': Value error, ...").
        message = message.replace("Value error, ", "")
        err.print(f"error: {command}: {message}", markup=False, highlight=False, soft_wrap=True)
        return 2
    except typer.Exit as done:
        return done.exit_code
    except OSError as error:
        # Only a refused write to stdout (> a file on a full disk, > /dev/full): writes to files
        # go through soundstage.files, which names the file; anything else is a bug to show.
        if error.errno not in WRITE_FAILURES or error.filename is not None:
            raise
        _drop_stdout()
        err.print(f"error: cannot write to standard output: {error.strerror}", markup=False, soft_wrap=True)
        return 2
    except (typer.Abort, KeyboardInterrupt):
        # Ctrl-C: Click turns it into Abort once a command runs; before that (while the command
        # line is parsed) it arrives as itself. Either way the open transaction was rolled back.
        err.print("aborted", markup=False)
        return 130
    return result if isinstance(result, int) else 0


def _drop_stdout() -> None:
    """Point stdout at nothing: what it still buffers would fail again at the interpreter's exit."""
    with suppress(OSError):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (lives until the process ends)


if __name__ == "__main__":
    sys.exit(main())
