"""The ``previs`` backend: the storyboard render itself as a take, made on the CPU in
milliseconds. It is the default, so every shot can have a take before any model is set up,
and its content credentials say honestly that it is a digital creation from human blocking.

A still take is the storyboard frame; a take that moves (``frames`` > 1) is the storyboard
clip of the moving shot, as an MP4 at the recipe's rate (a static shot's one frame held)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from PIL import Image

from soundstage import __version__
from soundstage.errors import GenerateError
from soundstage.generate import clips
from soundstage.generate.backend import STORYBOARD, BackendProgress, Inputs, Recipe


class PrevisBackend:
    """Takes that are the shot's storyboard frame or clip, at the recipe's size."""

    name: ClassVar[str] = "previs"
    version: ClassVar[str] = __version__

    def prepare(self, recipe: Recipe) -> Recipe:
        """Previs has no model: the recipe only needs the storyboard it copies."""
        if STORYBOARD not in recipe.conditioning:
            raise GenerateError(f"shot {recipe.shot}: no storyboard to take; run soundstage previs first")
        return recipe.model_copy(update={"backend_version": self.version, "model": "", "weights_sha256": ""})

    def generate(self, recipes: Sequence[Recipe], inputs: Inputs, progress: BackendProgress) -> list[bytes]:
        """The storyboard of each recipe (its first ``frames`` frames), resized to the recipe's
        frame if it differs: a PNG for a still, an MP4 for a clip."""
        outputs = []
        for done, recipe in enumerate(recipes, start=1):
            what = f"shot {recipe.shot}: the storyboard"
            data = inputs.read(recipe.conditioning[STORYBOARD])
            if recipe.moves:  # streamed: a long shot's frames are never all in memory
                frames = clips.stream_pass(data, recipe.frames, recipe.frame_rate, what)
                outputs.append(clips.write_clip((_fit(frame, recipe) for frame in frames), recipe.frame_rate))
            else:
                outputs.append(clips.write_take([_fit(next(clips.each_frame(data, what)), recipe)], recipe.frame_rate))
            progress(done / len(recipes))
        return outputs


def _fit(frame: np.ndarray, recipe: Recipe) -> np.ndarray:
    """A frame as 8-bit RGB at the recipe's size."""
    rgb = clips.rgb8(frame)
    if rgb.shape[:2] == (recipe.height, recipe.width):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((recipe.width, recipe.height), Image.Resampling.LANCZOS))
