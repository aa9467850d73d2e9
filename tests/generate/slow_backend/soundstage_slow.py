"""``slow``: the previs take after ``[generate.slow] seconds`` of waiting, a backend plugin the
tests install so that a job is still running when its worker is killed."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from soundstage.generate.backend import Backend, BackendProgress, Inputs, Recipe
from soundstage.generate.previs import PrevisBackend
from soundstage.generate.registry import backend_settings


class SlowSettings(BaseModel):
    """``[generate.slow]`` in soundstage.toml."""

    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(1.0, ge=0)


class SlowBackend:
    """The previs backend, slowed down."""

    name: ClassVar[str] = "slow"
    version: ClassVar[str] = "0.1.0"

    def __init__(self, settings: SlowSettings) -> None:
        self.settings = settings
        self.previs = PrevisBackend()

    def prepare(self, recipe: Recipe) -> Recipe:
        """Previs's recipe, named for this backend."""
        return self.previs.prepare(recipe).model_copy(update={"backend_version": self.version})

    def generate(self, recipes: Sequence[Recipe], inputs: Inputs, progress: BackendProgress) -> list[bytes]:
        """Wait, then the storyboard of each recipe."""
        time.sleep(self.settings.seconds * len(recipes))
        return self.previs.generate(recipes, inputs, progress)


def backend(options: dict[str, Any], root: Path) -> Backend:
    """The entry point: the backend, configured from ``[generate.slow]``."""
    return SlowBackend(backend_settings(SlowSettings, options, "slow", root))
