"""The ``previs`` backend: the storyboard render itself as a take, made on the CPU in
milliseconds. It is the default, so every shot can have a take before any model is set up,
and its content credentials say honestly that it is a digital creation from human blocking."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import ClassVar

from PIL import Image

from soundstage import __version__
from soundstage.errors import GenerateError
from soundstage.generate.backend import STORYBOARD, BackendProgress, Inputs, Recipe


class PrevisBackend:
    """Takes that are the shot's storyboard frame, at the recipe's size."""

    name: ClassVar[str] = "previs"
    version: ClassVar[str] = __version__

    def prepare(self, recipe: Recipe) -> Recipe:
        """Previs has no model: the recipe only needs the storyboard it copies."""
        if STORYBOARD not in recipe.conditioning:
            raise GenerateError(f"shot {recipe.shot}: no storyboard to take; run soundstage previs first")
        return recipe.model_copy(update={"backend_version": self.version, "model": "", "weights_sha256": ""})

    def generate(self, recipes: Sequence[Recipe], inputs: Inputs, progress: BackendProgress) -> list[bytes]:
        """The storyboard of each recipe, resized to the recipe's frame if it differs."""
        outputs = []
        for done, recipe in enumerate(recipes, start=1):
            with Image.open(io.BytesIO(inputs.read(recipe.conditioning[STORYBOARD]))) as board:
                frame = board.convert("RGB")
                if frame.size != (recipe.width, recipe.height):
                    frame = frame.resize((recipe.width, recipe.height), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                frame.save(out, format="PNG", compress_level=1)
            outputs.append(out.getvalue())
            progress(done / len(recipes))
        return outputs
