"""A take's recipe inside its own file, so a file that leaves the production still says how it
was made: ``soundstage:recipe`` holds the recipe as JSON, in a PNG text chunk for a still and
in a container tag for a clip (MP4 or MKV; ``ffprobe`` shows it).

The chunks are spliced into the PNG byte stream right after its header chunk. Pillow can add
text chunks only by decoding and re-encoding the pixels, which cost more than the rest of the
queue's work per take together; splicing keeps the backend's pixel data byte for byte. A clip
is remuxed with the tags added (its packets copied), so its pictures stay bit for bit too.
"""

from __future__ import annotations

import io
import json
import struct
import zlib

from PIL import Image

from soundstage import __version__
from soundstage.errors import GenerateError
from soundstage.generate import clips
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
    """The same take with the recipe, and Soundstage as the software: iTXt chunks in a PNG,
    container tags in a clip (MP4 or MKV).

    Deterministic: the bytes depend only on the backend's output and the recipe.
    """
    recipe_json = json.dumps(recipe.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    software = f"Soundstage {__version__}"
    if clips.kind_of(png) in ("mp4", "mkv"):
        return clips.retag(png, {SOFTWARE_KEY: software, RECIPE_KEY: recipe_json})
    if not png.startswith(_SIGNATURE) or png[12:16] != b"IHDR":
        raise GenerateError(
            f"shot {recipe.shot}: the {recipe.backend} backend returned something that is not a PNG, an MP4 or an MKV"
        )
    chunks = _itxt(SOFTWARE_KEY, software) + _itxt(RECIPE_KEY, recipe_json)
    return png[:_IHDR_END] + chunks + png[_IHDR_END:]


def read_recipe(png: bytes) -> Recipe | None:
    """The recipe a take's file (PNG, MP4 or MKV) carries, or None when it carries none."""
    if clips.kind_of(png) in ("mp4", "mkv"):
        text = clips.tags(png).get(RECIPE_KEY)
    else:
        with Image.open(io.BytesIO(png)) as image:
            text = getattr(image, "text", {}).get(RECIPE_KEY)
    return Recipe.model_validate_json(text) if text else None
