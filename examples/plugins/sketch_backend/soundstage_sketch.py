"""``sketch``: an example generation backend for Soundstage.

A take drawn from the shot's previs passes alone: paper, a flat colour on each character (by the
ids pass), the line art in ink. No model, so it is instant and deterministic, which makes it a
good template: ``backend(options, root)`` is the factory the entry point names, ``prepare``
completes the recipe, ``generate`` turns recipes into PNG bytes.
"""

from __future__ import annotations

import colorsys
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from soundstage.errors import GenerateError
from soundstage.generate.backend import IDS, LINEART, Backend, BackendProgress, Inputs, Recipe
from soundstage.generate.registry import backend_settings

Colour = str  # "#rrggbb"


class SketchSettings(BaseModel):
    """``[generate.sketch]`` in soundstage.toml."""

    model_config = ConfigDict(extra="forbid")

    paper: Colour = Field("#f4efe1", pattern=r"^#[0-9a-fA-F]{6}$")
    ink: Colour = Field("#2b2b2b", pattern=r"^#[0-9a-fA-F]{6}$")


class SketchBackend:
    """Takes that are a sketch of the shot's blocking."""

    name: ClassVar[str] = "sketch"
    version: ClassVar[str] = "0.1.0"

    def __init__(self, settings: SketchSettings) -> None:
        self.settings = settings

    def prepare(self, recipe: Recipe) -> Recipe:
        """The sketch needs the line art and ids passes; its colours go into the recipe."""
        missing = [role for role in (LINEART, IDS) if role not in recipe.conditioning]
        if missing:
            raise GenerateError(f"shot {recipe.shot}: no {' or '.join(missing)} pass to sketch; run soundstage previs")
        options = {"paper": self.settings.paper, "ink": self.settings.ink}
        return recipe.model_copy(update={"backend_version": self.version, "options": options})

    def generate(self, recipes: Sequence[Recipe], inputs: Inputs, progress: BackendProgress) -> list[bytes]:
        """One PNG per recipe, at the recipe's size."""
        outputs = []
        for done, recipe in enumerate(recipes, start=1):
            lines = _grey(inputs.read(recipe.conditioning[LINEART]))
            ids = _grey(inputs.read(recipe.conditioning[IDS]))
            frame = np.empty((*ids.shape, 3), np.uint8)
            frame[:] = _rgb(recipe.options["paper"])
            for character in np.unique(ids[ids > 0]):
                frame[ids == character] = _flat(int(character))
            frame[lines > 127] = _rgb(recipe.options["ink"])
            image = Image.fromarray(frame)
            if image.size != (recipe.width, recipe.height):
                image = image.resize((recipe.width, recipe.height), Image.Resampling.NEAREST)
            out = io.BytesIO()
            image.save(out, format="PNG")
            outputs.append(out.getvalue())
            progress(done / len(recipes))
        return outputs


def backend(options: dict[str, Any], root: Path) -> Backend:
    """The entry point: the backend, configured from ``[generate.sketch]``."""
    return SketchBackend(backend_settings(SketchSettings, options, "sketch", root))


def _grey(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("L"))


def _rgb(colour: Colour) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _flat(character: int) -> tuple[int, int, int]:
    """A soft colour per character id, the same in every shot (golden-ratio hues)."""
    red, green, blue = colorsys.hsv_to_rgb((character * 0.618034) % 1.0, 0.35, 0.92)
    return round(red * 255), round(green * 255), round(blue * 255)
