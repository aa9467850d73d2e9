"""Readable stand-ins: name labels, a face that shows which way a figure looks, prop boxes.

All of it is plain mesh geometry (``(points, face counts, face indices)`` as ``layout.usd``
writes them), because the previs renderer draws meshes only:

* a label is a flat card facing +Z: a pale plate and the name on it as dark quads, one per
  run of pixels of the name set in Pillow's own font (text meshes from a font's outlines
  would need a font-geometry library for what a 20-pixel bitmap already says legibly);
* the facing cue tints the front of a stand-in's head, the face, lighter than the rest (the
  hair): per-face colours on the same mesh, so the depth, line-art and id passes stay as they
  were and only the storyboard shows which way a figure faces, from any side, at any size;
* a prop is a small box in its own colour (hashed from its name, paler than any character's).
"""

from __future__ import annotations

import colorsys
import hashlib
import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from soundstage.layout.framing import PROP_SIZE, RGB, CameraSetup

Geometry = tuple[np.ndarray, list[int], list[int]]

LABEL_PIXELS = 20  # the name is set at this size in pixels, then each pixel becomes a square
LABEL_SHARE = 0.04  # a label's text is this share of the frame's height at the camera's subject
LABEL_LIMITS = (0.012, 0.25)  # metres: the smallest and largest text height
LABEL_GAP = 0.4  # between the head and the label, in text heights
PLATE_PAD = 0.3  # the plate's margin round the text, in text heights
TEXT_INK: RGB = (0.1, 0.1, 0.12)
PLATE_TINT = 0.65  # a plate is its character's colour this far towards white
FACE_TINT = 0.5  # the face is the head's colour this far towards white
FACE_HALF_ANGLE = 55.0  # degrees round +Z that count as the face
FACE_TOP = 0.45  # a face stops below this height on the head (in head radii): above is hair


@dataclass(frozen=True, slots=True)
class StandIns:
    """How readable a layout's stand-ins are made (``layout.usd.build_layout``).

    ``labels``: whether the name labels show; they are written either way, in a ``labels``
    variant set on ``/Shot`` (``on`` / ``off``) that a DCC or ``set_labels`` switches.
    ``facing_cue``: tint each head's face so that the storyboard shows where it looks."""

    labels: bool = True
    facing_cue: bool = True


def label_height(camera: CameraSetup) -> float:
    """The text height of the labels of a shot: a share of the frame's height at the
    subject, so a label reads the same in a wide shot and a close-up."""
    extent = camera.focus_distance * camera.vertical_aperture_mm / camera.focal_length_mm
    low, high = LABEL_LIMITS
    return round(min(high, max(low, LABEL_SHARE * extent)), 4)


def label_geometry(text: str, height: float) -> tuple[Geometry, Geometry]:
    """The plate and the text of a label, on the plane z = 0 facing +Z, centred on x = 0 with
    the plate's bottom edge at y = 0; ``height`` is the height of the text in metres."""
    mask = _text_mask(text)
    rows, columns = mask.shape
    size = height / rows
    pad = PLATE_PAD * height
    half = columns * size / 2
    plate = _quad(-half - pad, 0.0, half + pad, height + 2 * pad, -0.02 * height)  # just behind the text
    quads = [
        _quad(x0 * size - half, pad + (rows - y1) * size, x1 * size - half, pad + (rows - y0) * size, 0.0)
        for x0, y0, x1, y1 in _rectangles(mask)
    ]
    text = _join(quads)
    # A tenth of a millimetre is finer than any pixel of a label, and keeps the .usda short.
    return (np.round(plate[0], 4), *plate[1:]), (np.round(text[0], 4), *text[1:])


def label_yaw(from_x: float, from_z: float, camera: CameraSetup) -> float:
    """The facing (degrees about Y) that turns a label at a floor point to the camera."""
    dx, dz = camera.position[0] - from_x, camera.position[2] - from_z
    return round(math.degrees(math.atan2(dx, dz)), 3) if math.hypot(dx, dz) > 1e-6 else 0.0


def plate_colour(colour: RGB) -> RGB:
    """A label plate's colour: its character's, paled so the dark text reads on it."""
    return _towards_white(colour, PLATE_TINT)


def face_colours(geometry: Geometry, centre: np.ndarray, radius: float, colour: RGB) -> list[RGB]:
    """Per-face colours of a head mesh: the face (within FACE_HALF_ANGLE of +Z, below the
    hairline) pale, the rest the character's colour."""
    points, counts, indices = geometry
    face = _towards_white(colour, FACE_TINT)
    out: list[RGB] = []
    start = 0
    cos_limit = math.cos(math.radians(FACE_HALF_ANGLE))
    for count in counts:
        middle = points[indices[start : start + count]].mean(axis=0) - centre
        start += count
        length = float(np.linalg.norm(middle))
        front = length > 0 and middle[2] / length >= cos_limit and middle[1] < FACE_TOP * radius
        out.append(face if front else colour)
    return out


def prop_colour(name: str) -> RGB:
    """A prop's stand-in colour, the same for it in every shot: a hue from its name, less
    saturated than the characters' so a prop never passes for a person."""
    hue = int.from_bytes(hashlib.sha256(f"prop\x1f{name}".encode()).digest()[:8], "big") / 2**64
    return colorsys.hsv_to_rgb(hue, 0.45, 0.8)


def prop_geometry() -> Geometry:
    """A prop's box, its base centred on the origin."""
    width, height, depth = PROP_SIZE
    x, z = width / 2, depth / 2
    points = np.array(
        [
            [-x, 0, -z],
            [x, 0, -z],
            [x, 0, z],
            [-x, 0, z],
            [-x, height, -z],
            [x, height, -z],
            [x, height, z],
            [-x, height, z],
        ],
        dtype=float,
    )
    faces = [[0, 1, 2, 3], [4, 7, 6, 5], [3, 2, 6, 7], [1, 0, 4, 5], [2, 1, 5, 6], [0, 3, 7, 4]]
    return points, [4] * 6, [i for f in faces for i in f]


# ----------------------------------------------------------------------------- text


@cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(LABEL_PIXELS)


@cache
def _text_mask(text: str) -> np.ndarray:
    """The pixels of ``text`` set in the label font, cropped to the ink (True = ink)."""
    font = _font()
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(image).text((-left, -top), text, fill=255, font=font)
    mask = np.asarray(image) >= 128
    if not mask.any():
        return np.ones((1, 1), bool)
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return mask[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]


def _rectangles(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The ink of a mask as rectangles (x0, y0, x1, y1), half-open, in pixels: runs of each
    row, merged with the same run on the rows below."""
    open_runs: dict[tuple[int, int], int] = {}  # (x0, x1) -> first row
    out = []
    for y in range(mask.shape[0] + 1):
        row = mask[y] if y < mask.shape[0] else np.zeros(mask.shape[1], bool)
        edges = np.flatnonzero(np.diff(np.concatenate([[False], row, [False]]).astype(np.int8)))
        runs = set(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
        for run in sorted(set(open_runs) - runs):
            out.append((run[0], open_runs.pop(run), run[1], y))
        for run in sorted(runs - set(open_runs)):
            open_runs[run] = y
    return sorted(out)


def _quad(x0: float, y0: float, x1: float, y1: float, z: float) -> Geometry:
    """A rectangle on the plane at ``z``, facing +Z (counter-clockwise seen from +Z)."""
    points = np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], dtype=float)
    return points, [4], [0, 1, 2, 3]


def _join(parts: list[Geometry]) -> Geometry:
    points, counts, indices, offset = [], [], [], 0
    for part_points, part_counts, part_indices in parts:
        points.append(part_points)
        counts += part_counts
        indices += [i + offset for i in part_indices]
        offset += len(part_points)
    return np.concatenate(points), counts, indices


def _towards_white(colour: RGB, share: float) -> RGB:
    r, g, b = colour
    return (r + (1 - r) * share, g + (1 - g) * share, b + (1 - b) * share)
