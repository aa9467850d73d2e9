"""A shot's intent, prepared once so that checking each of its takes is cheap, and the compact
signature kept per take so that continuity and duplicates need not read images again.

What a take is checked against: the previs passes (line art, depth, character ids), each
character's reference sheets, the bible's style references, the approved takes of the
neighbouring shots in the same scene, and the takes of other shots. ``prepare_intent`` brings
all of it to the analysis size (``features.ANALYSIS_WIDTH``) and measures what can be measured
ahead: the blocking's structure, each character's region and silhouette, the embeddings of the
references, the signatures of the other takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from soundstage.checks import features
from soundstage.checks.embedders import Embedder

SIGNATURE_VERSION = 1
SIGNATURE_PLACES = 5  # decimals kept of each signature value
# A character covering fewer analysis pixels than this (about 0.3% of a 160x90 frame) is too
# small to judge its colours or its place.
MIN_REGION_PIXELS = 40
# A reference sheet without transparency is a character on a plain backdrop: pixels further
# than this (CIELAB delta E) from the colour of the sheet's border are the character.
BACKDROP_DELTA_E = 12.0
# How far a character's silhouette is searched for around its mark, as fractions of the frame.
SEARCH_X, SEARCH_Y = 0.35, 0.1
# Structure is compared inside the frame less these margins (left, top, right, bottom), as
# fractions: a moved or zoomed frame has no picture there to compare, and previs burns its
# slate into the bottom-left corner (up to 11% of the height on a 320x180 frame).
MARGINS = (0.04, 0.04, 0.04, 0.12)
# A take cropped by up to this fraction of the frame is still on its blocking (the composition
# check's jitter): the duplicate check compares takes with the storyboard cropped so much too.
OWN_CROP = 0.03


@dataclass(frozen=True, slots=True)
class CharacterIntent:
    """A character of the shot: its mask id in the id pass and its reference sheets (RGB on a
    plain backdrop, or RGBA where alpha marks the character)."""

    mask_id: int
    references: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TakeSignature:
    """What the continuity and duplicate checks need of a take, small enough to store with it
    as JSON: its lighting and palette (``features.tone``) and its thumbnail (``features.layout``).
    Independent of the production's embedder, so stored signatures stay valid if it changes."""

    tone: tuple[float, ...]
    layout: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {"version": SIGNATURE_VERSION, "tone": list(self.tone), "layout": list(self.layout)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TakeSignature:
        """A signature back from ``to_dict``; ValueError for another version or shape (make
        the signature again from the take)."""
        if values.get("version") != SIGNATURE_VERSION:
            raise ValueError(f"take signature version {values.get('version')!r}, expected {SIGNATURE_VERSION}")
        tone, layout = tuple(map(float, values["tone"])), tuple(map(float, values["layout"]))
        if len(tone) != features.TONE_LENGTH or len(layout) != features.LAYOUT_LENGTH:
            raise ValueError("take signature of the wrong length")
        return cls(tone, layout)


def signature(image: np.ndarray) -> TakeSignature:
    """The signature of a take (uint8 RGB, any size)."""
    pixels = features.rgb(image, "take")
    small = features.lab(features.resize(pixels, features.analysis_size(pixels.shape[1], pixels.shape[0])))
    # Rounded as stored, so a signature read back equals the one made, and float32 sums that
    # differ in their last bit with the memory's alignment do not show.
    return TakeSignature(
        tuple(round(v, SIGNATURE_PLACES) for v in features.tone(small).tolist()),
        tuple(round(v, SIGNATURE_PLACES) for v in features.layout(small).tolist()),
    )


@dataclass(frozen=True, eq=False)
class CharacterTarget:
    """One character as the checks look for it, prepared from the id pass and its sheets."""

    name: str
    in_frame: bool  # whether the blocking shows any of the character at all
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 of its region, fractions of the frame
    alpha: np.ndarray | None  # uint8 region mask at region size (crop of ``box``); None if too small
    template: np.ndarray | None  # the silhouette (blurred outline) in analysis pixels, with a margin
    origin: tuple[int, int]  # analysis pixel of the template's top-left corner
    references: np.ndarray | None  # (n, dim) embeddings of the reference sheets; None: no sheet


@dataclass(frozen=True, eq=False)
class ShotIntent:
    """Everything a shot's takes are checked against (see ``prepare_intent``)."""

    size: tuple[int, int]  # analysis (width, height)
    window: np.ndarray  # float32 0/1 at the analysis size: where structure is compared
    structure: np.ndarray  # normalised edge map of the blocking's line art, windowed
    taper: np.ndarray  # Hann window for phase correlation at the analysis size
    characters: list[CharacterTarget]
    style: np.ndarray | None  # (n, dim) embeddings of the style references
    neighbours: list[str]  # names of the neighbouring shots' approved takes
    neighbours_tone: np.ndarray  # (len(neighbours), tone) their lighting and palette
    others: list[str]  # names of other shots' takes
    others_layout: np.ndarray  # (len(others), layout) their thumbnails
    own_layouts: np.ndarray | None  # (n, layout) the storyboard's thumbnails, within jitter, when given
    others_alike: np.ndarray | None  # (len(others),) each other take's likeness to those thumbnails
    embedder: Embedder


@dataclass(frozen=True, eq=False)
class OtherTakes:
    """Other shots' takes for the duplicate check, already stacked: names and their layout
    thumbnails as one (n, LAYOUT_LENGTH) float32 array. A production with thousands of takes
    keeps the rows and stacks them per shot, instead of converting every signature each time."""

    names: list[str]
    layouts: np.ndarray


def prepare_intent(
    lineart: np.ndarray,
    depth: np.ndarray,
    ids: np.ndarray,
    characters: Mapping[str, CharacterIntent],
    style_references: Sequence[np.ndarray],
    neighbours: Sequence[tuple[str, np.ndarray | TakeSignature]],
    others: Mapping[str, TakeSignature | np.ndarray] | OtherTakes,
    embedder: Embedder,
    *,
    storyboard: np.ndarray | None = None,
) -> ShotIntent:
    """Prepare a shot's intent from its previs passes (line art uint8, depth uint16, ids uint8,
    all one size), its characters (name -> mask id and reference sheets), the style references,
    the approved takes of neighbouring shots in its scene (name and image or signature) and the
    takes of other shots (name -> signature or image), once for all its takes.

    ``storyboard`` (the shot's own previs frame) lets the duplicate check tell a copy of another
    shot's take from a take that only resembles it because both shots are blocked alike.
    The depth pass must match the others' size; composition no longer weighs lines by it (see
    ``_blocking_structure``), and it stays a parameter so that callers need not change.
    """
    if not (lineart.shape[:2] == depth.shape[:2] == ids.shape[:2]):
        raise ValueError(f"previs passes of different sizes: {lineart.shape}, {depth.shape}, {ids.shape}")
    height, width = ids.shape[:2]
    size = features.analysis_size(width, height)
    window = comparison_window(size)
    structure = features.normalised(_blocking_structure(lineart, size) * window)
    taper = cv2.createHanningWindow(size, cv2.CV_32F)
    targets = [_character_target(name, intent, ids, size, embedder) for name, intent in characters.items()]
    style = embedder.embed([features.resize(features.rgb(r), _frame_size(r)) for r in style_references])
    if isinstance(others, OtherTakes):
        named_others, others_layout = others.names, others.layouts
    else:
        named_others = list(others)
        layouts = [_as_signature(others[name]).layout for name in named_others]
        others_layout = np.array(layouts, np.float32).reshape(len(named_others), features.LAYOUT_LENGTH)
    tones = [_as_signature(take).tone for _, take in neighbours]
    own_layouts = _own_layouts(storyboard) if storyboard is not None else None
    return ShotIntent(
        size=size,
        window=window,
        structure=structure,
        taper=taper,
        characters=targets,
        style=style if len(style_references) else None,
        neighbours=[name for name, _ in neighbours],
        neighbours_tone=np.array(tones, np.float32).reshape(len(tones), features.TONE_LENGTH),
        others=named_others,
        others_layout=others_layout,
        own_layouts=own_layouts,
        others_alike=np.max(others_layout @ own_layouts.T, axis=1, initial=-1.0) if own_layouts is not None else None,
        embedder=embedder,
    )


def _own_layouts(storyboard: np.ndarray) -> np.ndarray:
    """The storyboard's thumbnails as it is and cropped by ``OWN_CROP`` (centred and from each
    corner, scaled back): (6, LAYOUT_LENGTH) float32. A take cropped that little is still its own
    blocking, yet its thumbnail may come nearer another shot framed a little tighter."""
    height, width = storyboard.shape[:2]
    cut_x, cut_y = round(OWN_CROP * width), round(OWN_CROP * height)
    frames = [storyboard]
    for left, top in ((cut_x // 2, cut_y // 2), (0, 0), (cut_x, 0), (0, cut_y), (cut_x, cut_y)):
        box = storyboard[top : top + height - cut_y, left : left + width - cut_x]
        frames.append(features.resize(box, (width, height)))
    return np.array([signature(frame).layout for frame in frames], np.float32)


def _as_signature(take: np.ndarray | TakeSignature) -> TakeSignature:
    return take if isinstance(take, TakeSignature) else signature(take)


def _frame_size(image: np.ndarray) -> tuple[int, int]:
    return features.analysis_size(image.shape[1], image.shape[0])


def _blocking_structure(lineart: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The blocking's edges at the analysis size: its line art, measured the way a take's edges
    are (``features.lines``), every line alike.

    Lines are not weighted by nearness: the take's edges cannot be weighted the same way (its
    depth is unknown), and weighting one side only made every wide shot, whose set runs far
    back, disagree with its own previs take; weighting both by the blocking's depth let a
    mirrored figure in the middle of the frame hide the mirrored set behind it."""
    return features.lines(lineart, size)


def comparison_window(size: tuple[int, int]) -> np.ndarray:
    """1 inside the frame less ``MARGINS``, 0 in the margins (float32 at ``size``)."""
    width, height = size
    left, top, right, bottom = MARGINS
    window = np.zeros((height, width), np.float32)
    window[round(top * height) : round((1 - bottom) * height), round(left * width) : round((1 - right) * width)] = 1
    return window


def _character_target(
    name: str, intent: CharacterIntent, ids: np.ndarray, size: tuple[int, int], embedder: Embedder
) -> CharacterTarget:
    height, width = ids.shape
    mask = ids == intent.mask_id
    coverage = features.resize(mask.astype(np.float32), size)
    small = coverage > 0.5
    references = _reference_regions(intent.references)
    embedded = embedder.embed(references) if references else None
    if int(small.sum()) < MIN_REGION_PIXELS:
        return CharacterTarget(name, bool(mask.any()), (0, 0, 0, 0), None, None, (0, 0), embedded)
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
    box = (x0 / width, y0 / height, x1 / width, y1 / height)
    alpha = _region_alpha(mask[y0:y1, x0:x1])
    # The silhouette: the region's outline at the analysis size, blurred like the take's edges.
    outline = small & ~cv2.erode(small.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    outline = features.blur(outline.astype(np.float32)) * comparison_window(size)
    sy, sx = np.flatnonzero(small.any(axis=1)), np.flatnonzero(small.any(axis=0))
    top, left = max(0, sy[0] - 2), max(0, sx[0] - 2)
    bottom, right = min(size[1], sy[-1] + 3), min(size[0], sx[-1] + 3)
    template = outline[top:bottom, left:right]
    if float(template.max()) < 0.05:  # the whole silhouette lies in the margins
        return CharacterTarget(name, True, box, alpha, None, (0, 0), embedded)
    return CharacterTarget(name, True, box, alpha, template, (int(left), int(top)), embedded)


def region_size(box_width: int, box_height: int) -> tuple[int, int]:
    """(width, height) a region of ``box_width`` x ``box_height`` pixels is compared at: its
    longer side ``features.REGION_SIDE``."""
    scale = features.REGION_SIDE / max(box_width, box_height)
    return max(1, round(box_width * scale)), max(1, round(box_height * scale))


def _region_alpha(mask: np.ndarray) -> np.ndarray:
    """A region mask at the region size, one pixel in from its outline (where previs draws
    its ink and a generated take blends into the set)."""
    inside = features.resize(mask.astype(np.float32), region_size(mask.shape[1], mask.shape[0])) > 0.5
    eroded = cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return ((eroded if eroded.sum() >= MIN_REGION_PIXELS else inside) * 255).astype(np.uint8)


def _reference_regions(references: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each reference sheet as an RGBA crop of the character at the region size."""
    regions = []
    for number, sheet in enumerate(references, start=1):
        pixels = features.rgb(sheet, f"reference sheet {number}")
        transparent = sheet.ndim == 3 and sheet.shape[2] == 4
        mask = sheet[:, :, 3] > 127 if transparent else _off_backdrop(pixels)
        if not mask.any():
            mask = np.ones(mask.shape, bool)
        rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        crop = pixels[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
        region = mask[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
        target = region_size(crop.shape[1], crop.shape[0])
        regions.append(np.dstack([features.resize(crop, target), _region_alpha(region)]))
    return regions


def _off_backdrop(pixels: np.ndarray) -> np.ndarray:
    """Pixels that differ from the sheet's backdrop (the median colour of its border)."""
    values = features.lab(pixels)
    border = np.concatenate([values[0], values[-1], values[:, 0], values[:, -1]])
    backdrop = np.median(border, axis=0)
    return np.linalg.norm(values - backdrop, axis=2) > BACKDROP_DELTA_E
