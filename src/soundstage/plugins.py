"""Extension points: what is installed under an entry-point group, and where data files (rule
packs, incentive programs) are looked for.

Backends (``soundstage.backends``) and intent checks (``soundstage.checks``) are found through
entry points, the built-in ones registered in Soundstage's own pyproject.toml the same way a
studio's plugin registers its own (docs/architecture.md, examples/plugins/). Data files are found
on a search path instead: the production's own folder first, then the folders named in
``$SOUNDSTAGE_PATH``, then those Soundstage ships.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

SEARCH_PATH_VARIABLE = "SOUNDSTAGE_PATH"


def installed(group: str, built_in: Mapping[str, str]) -> dict[str, EntryPoint]:
    """Everything registered under ``group``, by name: the ``built_in`` ones (name -> "module:attr",
    as pyproject.toml registers them) and those of installed plugins, which win on a clash.

    The built-in ones are known here too so that a source tree run without installed metadata
    (PYTHONPATH=src) still has them."""
    return {**{n: EntryPoint(n, v, group) for n, v in built_in.items()}, **_scan(group, tuple(sys.path))}


@functools.cache
def _scan(group: str, path: tuple[str, ...]) -> dict[str, EntryPoint]:
    # Reading every installed package's metadata takes ~10 ms, and a take is queued per shot, so a
    # scan is kept for as long as sys.path is the same (a plugin put on it is found at once).
    return {point.name: point for point in entry_points(group=group)}


def search_path(production_root: Path | None, kind: str) -> list[Path]:
    """Where data files of ``kind`` (e.g. "rules", "incentives") are looked for, first first:
    PRODUCTION/<kind>, each folder of $SOUNDSTAGE_PATH (os.pathsep between them) /<kind>, and
    Soundstage's own soundstage/defaults/<kind>."""
    folders = [production_root / kind] if production_root is not None else []
    folders += [Path(p) / kind for p in os.environ.get(SEARCH_PATH_VARIABLE, "").split(os.pathsep) if p]
    folders.append(Path(__file__).parent / "defaults" / kind)
    return folders


def find_data_file(production_root: Path | None, kind: str, name: str) -> Path | None:
    """The first file called ``name`` on the search path of ``kind``, or None."""
    return next((folder / name for folder in search_path(production_root, kind) if (folder / name).is_file()), None)
