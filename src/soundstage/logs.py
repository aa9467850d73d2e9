"""Logging: library code logs through ``logging.getLogger(__name__)`` and never prints; the CLI
(and each worker process it starts) calls ``configure`` once, so the ``soundstage`` loggers'
records reach stderr one line each, as the CLI's own errors do ("warning: ..."). Warnings and
errors show by default; ``soundstage --verbose`` shows what the library is doing too."""

from __future__ import annotations

import logging
import sys

ROOT = "soundstage"


class _Stderr(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (tests swap it per test)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # logging must never take a command down
            self.handleError(record)


class _Lines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {super().format(record)}"


def configure(verbose: bool = False, *, level: int | None = None) -> None:
    """Send the ``soundstage`` loggers to stderr at WARNING (DEBUG with ``verbose``, or ``level``).
    Calling it again replaces the earlier set-up rather than adding a second handler."""
    logger = logging.getLogger(ROOT)
    for handler in [h for h in logger.handlers if isinstance(h, _Stderr)]:
        logger.removeHandler(handler)
    handler = _Stderr()
    handler.setFormatter(_Lines("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level if level is not None else logging.DEBUG if verbose else logging.WARNING)
    logger.propagate = False  # one line per record, not a second one through the root logger


def level() -> int:
    """The level the ``soundstage`` loggers log at now (handed on to worker processes)."""
    return logging.getLogger(ROOT).getEffectiveLevel()
