"""Intent checks by name, found through the entry-point group ``soundstage.checks``.

A check is a function ``(image, intent, settings) -> list[Finding]``: ``image`` the take (uint8
RGB), ``intent`` its shot's prepared ``ShotIntent``, ``settings`` the production's ``[checks]``
section (a plugin reads its own table with ``settings.options(name)``). ``[checks] run`` names
the checks every take goes through. The built-in five (composition, character, style,
continuity, duplicates) share their preparation of the take, so they are one entry, "drift"
(``checks.drift:check_take``), registered in pyproject.toml as a plugin registers its own
(examples/plugins/blank_check).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import EntryPoint
from typing import Protocol

import numpy as np

from soundstage.checks.findings import Finding
from soundstage.checks.intent import ShotIntent
from soundstage.config import Checks
from soundstage.errors import ConfigError
from soundstage.plugins import installed as installed_in

GROUP = "soundstage.checks"
# The built-in checks as pyproject.toml registers them (a test keeps the two the same).
BUILT_IN = {"drift": "soundstage.checks.drift:check_take"}


class Check(Protocol):
    """What an entry point of ``soundstage.checks`` names: findings on one take."""

    def __call__(self, image: np.ndarray, intent: ShotIntent, settings: Checks) -> list[Finding]: ...


def installed() -> dict[str, EntryPoint]:
    """Every check installed, by name: the built-in ones and those of installed plugins."""
    return installed_in(GROUP, BUILT_IN)


def checks_for(names: Sequence[str]) -> list[Check]:
    """The checks called ``names``, loaded, in that order; ConfigError naming the installed ones
    for a name that is not."""
    points = installed()
    loaded = []
    for name in names:
        point = points.get(name)
        if point is None:
            raise ConfigError(
                f"[checks] run: no check {name!r} installed; installed checks: {', '.join(sorted(points))}"
            )
        try:
            loaded.append(point.load())
        except (ImportError, AttributeError) as error:
            raise ConfigError(f"[checks] run: check {name!r} ({point.value}) cannot be loaded: {error}") from None
    return loaded


def run_checks(checks: Sequence[Check], image: np.ndarray, intent: ShotIntent, settings: Checks) -> list[Finding]:
    """Every check's findings on one take, check after check."""
    return [finding for check in checks for finding in check(image, intent, settings)]
