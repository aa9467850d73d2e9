"""Recipes travel inside the PNGs they made."""

import io

import pytest
from PIL import Image

from soundstage.errors import GenerateError
from soundstage.generate.backend import Recipe
from soundstage.generate.metadata import embed_recipe, read_recipe

RECIPE = Recipe(shot="003_0030", backend="previs", seed=42, prompt="Maisie on the ladder, café light ✨")


def _png(colour=(10, 20, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 18), colour).save(out, "PNG")
    return out.getvalue()


def test_the_recipe_round_trips_and_the_pixels_are_untouched() -> None:
    png = _png()
    tagged = embed_recipe(png, RECIPE)
    assert read_recipe(tagged) == RECIPE
    with Image.open(io.BytesIO(tagged)) as a, Image.open(io.BytesIO(png)) as b:
        assert a.tobytes() == b.tobytes()
        assert a.text["Software"].startswith("Soundstage ")


def test_embedding_is_deterministic_and_the_recipe_matters() -> None:
    png = _png()
    assert embed_recipe(png, RECIPE) == embed_recipe(png, RECIPE)
    assert embed_recipe(png, RECIPE) != embed_recipe(png, RECIPE.model_copy(update={"seed": 43}))


def test_a_png_without_a_recipe_reads_none_and_non_png_is_refused() -> None:
    assert read_recipe(_png()) is None
    with pytest.raises(GenerateError, match="not a PNG"):
        embed_recipe(b"GIF89a...", RECIPE)
