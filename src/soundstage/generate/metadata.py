"""A take's recipe inside its own PNG, so a file that leaves the production still says how it
was made (PNG text chunks: ``soundstage:recipe`` holds the recipe as JSON)."""

from __future__ import annotations

import io
import json

from PIL import Image, PngImagePlugin

from soundstage import __version__
from soundstage.generate.backend import Recipe

RECIPE_KEY = "soundstage:recipe"


def embed_recipe(png: bytes, recipe: Recipe) -> bytes:
    """The same image with the recipe (and Soundstage as the software) in iTXt chunks.

    Pixels are copied unchanged; the bytes depend only on the pixels and the recipe, so the
    result is as deterministic as the backend.
    """
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        info = PngImagePlugin.PngInfo()
        for key, value in image.text.items() if hasattr(image, "text") else ():
            if key not in (RECIPE_KEY, "Software"):
                info.add_itxt(key, value)  # keep what the backend wrote (ComfyUI's "prompt")
        info.add_itxt("Software", f"Soundstage {__version__}")
        info.add_itxt(RECIPE_KEY, json.dumps(recipe.model_dump(mode="json"), sort_keys=True))
        out = io.BytesIO()
        image.save(out, format="PNG", pnginfo=info, compress_level=1)
    return out.getvalue()


def read_recipe(png: bytes) -> Recipe | None:
    """The recipe a PNG carries, or None when it carries none."""
    with Image.open(io.BytesIO(png)) as image:
        text = getattr(image, "text", {}).get(RECIPE_KEY)
    return Recipe.model_validate_json(text) if text else None
