"""Paths to the published talent-scheduling instances and their optima (by path, never copied)."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO

SCHEDULES = REPO.parent / "shared" / "schedules"


def known_optima() -> dict[str, tuple[int, int]]:
    """instance name -> (optimum total, idle at optimum), read from the README's table."""
    table: dict[str, tuple[int, int]] = {}
    for line in (SCHEDULES / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*(\w+)\s*\|\s*\d+ x \d+\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|", line)
        if match:
            table[match[1]] = (int(match[2]), int(match[3]))
    return table


def instance_files() -> list[Path]:
    return sorted(p for p in (SCHEDULES / "minizinc").iterdir()) + sorted(p for p in (SCHEDULES / "ddo").iterdir())


def instance_name(path: Path) -> str:
    return path.stem
