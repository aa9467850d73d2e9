"""A take's recipe inside its own PNG, so a file that leaves the production still says how it
was made (PNG text chunks: ``soundstage:recipe`` holds the recipe as JSON).

The chunks are spliced into the PNG byte stream right after its header chunk. Pillow can add
text chunks only by decoding and re-encoding the pixels, which cost more than the rest of the
queue's work per take together; splicing keeps the backend's pixel data byte for byte.
"""

from __future__ import annotations

import io
import json
import struct
import zlib

from PIL import Image

from soundstage import __version__
from soundstage.errors import GenerateError
from soundstage.generate.backend import Recipe

RECIPE_KEY = "soundstage:recipe"
SOFTWARE_KEY = "Software"
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IHDR_END = len(_SIGNATURE) + 8 + 13 + 4  # signature, IHDR length+type, its 13 bytes, CRC


def _itxt(keyword: str, text: str) -> bytes:
    """An uncompressed iTXt chunk (UTF-8 text, no language tag)."""
    data = keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8")
    return struct.pack(">I", len(data)) + b"iTXt" + data + struct.pack(">I", zlib.crc32(b"iTXt" + data))


def embed_recipe(png: bytes, recipe: Recipe) -> bytes:
    """The same PNG with the recipe, and Soundstage as the software, in iTXt chunks.

    Deterministic: the bytes depend only on the backend's PNG and the recipe.
    """
    if not png.startswith(_SIGNATURE) or png[12:16] != b"IHDR":
        raise GenerateError(f"shot {recipe.shot}: the {recipe.backend} backend returned something that is not a PNG")
    recipe_json = json.dumps(recipe.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    chunks = _itxt(SOFTWARE_KEY, f"Soundstage {__version__}") + _itxt(RECIPE_KEY, recipe_json)
    return png[:_IHDR_END] + chunks + png[_IHDR_END:]


def read_recipe(png: bytes) -> Recipe | None:
    """The recipe a PNG carries, or None when it carries none."""
    with Image.open(io.BytesIO(png)) as image:
        text = getattr(image, "text", {}).get(RECIPE_KEY)
    return Recipe.model_validate_json(text) if text else None
