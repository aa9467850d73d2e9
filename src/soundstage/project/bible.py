"""The production bible in use: what it lacks, and its reference images in the media store, by
content hash, for the recipes of takes and the intent checks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from soundstage.errors import ConfigError
from soundstage.generate.backend import REFERENCE_PREFIX, STYLE_PREFIX
from soundstage.plan.model import Shot
from soundstage.project import drafts
from soundstage.project.production import Context


@dataclass(slots=True)
class BibleState:
    """Bible images stored (and hashed) once per open production, not once per shot naming them."""

    images: dict[str, str] = field(default_factory=dict)  # bible image path -> media sha256


def bible_check(context: Context) -> list[str]:
    """What the production bible lacks, one line each (empty when complete)."""
    bible = context.settings.bible
    problems = []
    if not bible.style:
        problems.append("style: no words for the show's look ([bible] style)")
    if not bible.style_references:
        problems.append("style: no reference images ([bible] style_references)")
    sheets = drafts.breakdown(context) if drafts.latest_script(context) is not None else []
    cast = dict.fromkeys(n for s in sheets for n in (*s.breakdown.speaking, *s.breakdown.non_speaking))
    places = dict.fromkeys(s.breakdown.location for s in sheets if s.breakdown.location)
    for kind, names, entries in (("character", cast, bible.characters), ("location", places, bible.locations)):
        for name in names:
            entry = entries.get(name)
            if entry is None or not entry.description:
                problems.append(f'{kind} {name}: no description ([bible.{kind}s."{name}"])')
            if entry is None or not entry.references:
                problems.append(f"{kind} {name}: no reference images")
    references = [
        *bible.style_references,
        *(r for e in (*bible.characters.values(), *bible.locations.values()) for r in e.references),
    ]
    problems += [f"{ref}: reference image not found" for ref in references if not (context.root / ref).is_file()]
    return problems


def references(context: Context, shot: Shot) -> dict[str, str]:
    """The bible's reference images for a shot's characters and the style, by content hash."""
    bible, refs = context.settings.bible, {}
    for name in shot.subjects:
        for i, path in enumerate(bible.characters[name].references if name in bible.characters else []):
            refs[f"{REFERENCE_PREFIX}{name}" + (f":{i}" if i else "")] = bible_image(context, path)
    for i, path in enumerate(bible.style_references):
        refs[f"{STYLE_PREFIX}{i}"] = bible_image(context, path)
    return refs


def bible_image(context: Context, relative: str) -> str:
    """A bible image's hash in the media store; stored (and hashed) once per open production."""
    images = context.state(BibleState).images
    if relative not in images:
        path = context.root / relative
        if not path.is_file():
            raise ConfigError(f"{path}: bible reference image not found (soundstage bible check)")
        images[relative] = context.media.put_file(path, ".png")
    return images[relative]


def picture(context: Context, sha256: str) -> np.ndarray:
    """A reference image from the media store, RGB or RGBA (alpha marks a character)."""
    with Image.open(context.media.path(sha256, ".png")) as image:
        return np.asarray(image.convert("RGBA" if "A" in image.getbands() else "RGB"))
