"""One exception tree for every failure a user can cause or fix.

The CLI prints ``str(error)`` as a single line and exits with code 2; anything that is
not a ``SoundstageError`` is a bug in Soundstage and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path

MAX_MESSAGE = 1000  # characters of an error's one line


class SoundstageError(Exception):
    """A failure the user can act on; its message is one line that says what and where."""

    def __init__(self, message: str) -> None:
        # One line, always: a message with a newline would break the CLI's contract. Of a
        # reasonable length too: a message quoting what was typed (a 100 KB "name") is cut short.
        line = " ".join(message.split())
        super().__init__(line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…")


class ScriptError(SoundstageError):
    """A screenplay that cannot be read: names the file and, where known, the line."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        where = self.path or "<script>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


class ConfigError(SoundstageError):
    """soundstage.toml or an option value is wrong."""


class ProductionError(SoundstageError):
    """The production folder is missing, already exists, or is not a production."""


class ShotError(SoundstageError):
    """A shot code that does not exist, or a shot edit that is not allowed."""


class StoreError(SoundstageError):
    """The database or the media store cannot be reached or is inconsistent."""


class RenderError(SoundstageError):
    """Headless GL is missing, or a shot's USD stage cannot be rendered (names file and prim)."""


class GenerateError(SoundstageError):
    """A take cannot be made: a backend, its model or its server failed (names which and why).

    Permanent: running the same recipe again fails the same way (a node error, a bad recipe)."""


class TransientGenerateError(GenerateError):
    """A take could not be made this time for a reason that may pass: the server was unreachable,
    reset the connection or timed out. The queue retries these with backoff up to its attempt cap."""


class CutError(SoundstageError):
    """The cut cannot be written: an output folder, an encoder or a voice failed (names which)."""


class CredentialsError(SoundstageError):
    """Content credentials cannot be made or read: a signing key, a certificate, a manifest."""


class ReviewError(SoundstageError):
    """A review decision that the workflow refuses: a status change the state machine does not
    allow, a flagged take approved without a reason, a lost race for the same shot."""


class PermissionDenied(ReviewError):
    """The person asking has no role that allows the action (the web answers 403)."""


class NoSuchRecord(ReviewError):
    """An API token, person or client link named by id or name that is not there (the web
    answers 404)."""


class GuardrailError(SoundstageError):
    """A consent, notice, override or rule pack that is wrong: names which (the pack file and
    rule id, the consent, the performer)."""


class GuardrailRefusal(GuardrailError):
    """An approval, cut, export or draft share that the AI rules refuse: the first violation
    (rule id, subject and reason), and how many more; ``violations`` holds them all."""

    def __init__(self, message: str, violations: tuple[object, ...] = ()) -> None:
        self.violations = violations
        super().__init__(message)


class BooksError(SoundstageError):
    """The production books refuse an input: a timesheet or spend row (file and line), a rule file
    (program and field), an unknown program, an expired rule set, or money in two currencies with no
    exchange rate between them."""


class RowsRefused(BooksError):
    """An import or a check refused one or more rows; nothing of the input was taken.

    ``str(error)`` is one line per refused row, ``<file>:<line>: <reason>``, so a timesheet with
    twelve bad rows is fixed in one pass rather than twelve. Each line on its own keeps the one-line
    rule of ``SoundstageError``; ``refusals`` holds them as (file, line or None, reason)."""

    def __init__(self, refusals: list[tuple[str, int | None, str]]) -> None:
        self.refusals = sorted(refusals, key=lambda r: (r[0], r[1] or 0))
        lines = [
            f"{path}:{line}: {' '.join(reason.split())}" if line else f"{path}: {' '.join(reason.split())}"
            for path, line, reason in self.refusals
        ]
        super().__init__(lines[0] if lines else "no rows refused")
        # The base class joins a message onto one line; this one keeps a line per refused row.
        self.args = ("\n".join(lines),)

    def __str__(self) -> str:
        return str(self.args[0])


class ScheduleError(SoundstageError):
    """A schedule that cannot be made or read: a talent-scheduling instance file with wrong
    counts or non-numbers (names the file and line), a scene that needs a stage kind no stage
    has, a cast window or pinned day that no shoot day satisfies, or a set of constraints that
    conflict (the message names the smallest conflicting set)."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        if self.path is not None:
            where = self.path if line is None else f"{self.path}:{line}"
            message = f"{where}: {message}"
        super().__init__(message)


class JobError(SoundstageError):
    """A job of the take queue that cannot be acted on: an unknown job id, or a job in a state
    the action does not apply to (names the job and its state)."""


class StripConflict(ScheduleError):
    """A strip moved by hand onto a day where it breaks a rule of the schedule (over the day's
    pages, a cast member who cannot work, two locations in a day...): refused, nothing stored."""


class ClusterError(SoundstageError):
    """The cluster the take queue's jobs were to run on cannot be used: Ray not installed, its
    address unreachable or refusing, a backend asking for more than the whole cluster has, or a
    task that failed on a node for a reason of the production's (names the address and backend)."""
