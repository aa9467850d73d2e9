"""Measurements of a picture that the intent checks compare: colour, tone, texture, structure.

Everything here is plain numpy and OpenCV on small images, so a take is measured in a few
milliseconds whatever size it was made at. Colours are measured in CIELAB, where distances
follow what a person sees (a hue turn of a saturated costume is large, JPEG's colour noise on
a grey wall is small), rather than in RGB.

Histograms are "soft": a value between two bin centres is shared between both bins in
proportion. Previs frames are flat colour, so a hard bin edge falling on one wall's grey would
turn harmless noise into a jump of the whole wall from one bin to the next.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# Takes and passes are compared at this width (height by the frame's aspect): 160x90 for 16:9.
# Enough to see framing, silhouettes and colour; small enough that all checks on a 1280x720
# take run in a few milliseconds.
ANALYSIS_WIDTH = 160
# Character regions are cropped from the take (at twice the analysis size) and brought to this
# longer side, and reference sheets likewise, so that texture is measured at one scale on both.
REGION_SIDE = 64
# Chroma (CIELAB C*) below which a colour reads as grey, and above which as fully coloured.
NEUTRAL_CHROMA, COLOURED_CHROMA = 6.0, 18.0
HUE_BINS = 24
LIGHTNESS_BINS = 20
CHROMA_BINS = 8
CHROMA_MAX = 80.0  # C* of the outer chroma bin (sRGB reaches about 130; few pictures go past 80)
# Gradient magnitudes of lightness (L* per pixel), log-spaced: flat fill, soft shading, lines,
# and the hard black-to-white steps of a posterised picture.
TEXTURE_EDGES = np.log2([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0])
# A channel this many levels (of 255) or fewer from either end of its range counts as clipped,
# fully at the end and less so up to here: noise and JPEG lift a crushed black a few levels.
CLIP_MARGIN = 8.0
CLIP_BINS = 4  # pixels with 0, 1, 2 or all 3 channels clipped
# Weights of the appearance blocks (they sum to 1, so the embedding's length is 1). Tuned on
# the evaluation set's tuning half (benchmarks/intent_checks.py). Clipping at 0.2 is what tells
# a posterised take from the style references: posterising moves every channel to an end of
# its range (at two levels, every pixel is black, white or a pure primary or secondary), which
# neither a previs take nor a scene of other content does; the other four keep their earlier
# proportions (lightness 0.3 of them, which a posterised take's crushed greys show in too).
APPEARANCE_WEIGHTS = {"colour": 0.24, "lightness": 0.24, "chroma": 0.16, "texture": 0.16, "clipping": 0.2}
LAYOUT_SIZE = (16, 9)  # the duplicate check's thumbnail
TONE_PERCENTILES = (5, 25, 50, 75, 95)
TONE_LENGTH = len(TONE_PERCENTILES) + 3  # percentiles, the greys' a* and b*, mean chroma
LAYOUT_LENGTH = 3 * LAYOUT_SIZE[0] * LAYOUT_SIZE[1]


def analysis_size(width: int, height: int) -> tuple[int, int]:
    """The (width, height) a frame of ``width`` x ``height`` is compared at."""
    if width <= ANALYSIS_WIDTH:
        return width, height
    return ANALYSIS_WIDTH, max(1, round(height * ANALYSIS_WIDTH / width))


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` at (width, height): area averaging when shrinking (no aliasing), bilinear when
    growing; unchanged when already that size."""
    if (image.shape[1], image.shape[0]) == size:
        return image
    shrinking = size[0] <= image.shape[1] and size[1] <= image.shape[0]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def rgb(image: np.ndarray, what: str = "image") -> np.ndarray:
    """``image`` as uint8 RGB: grey, RGBA and 16-bit pictures are converted (a 16-bit grey
    PNG reads back as uint16); ValueError for any other array."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    if image.dtype != np.uint8:
        raise ValueError(f"{what}: expected uint8 or uint16 pixels, got {image.dtype}")
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return image[:, :, :3]
    raise ValueError(f"{what}: expected an HxW, HxWx3 or HxWx4 image, got shape {image.shape}")


def lab(image: np.ndarray) -> np.ndarray:
    """CIELAB of a uint8 RGB image as float32: L* 0..100, a* and b* about -127..127.

    Through OpenCV's 8-bit conversion (L* in steps of 0.4, a* and b* of 1: finer than any
    histogram here), several times faster than its float one."""
    values = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2Lab).astype(np.float32)
    values[..., 0] *= np.float32(100 / 255)
    values[..., 1:] -= np.float32(128)
    return values


def chroma(lab_image: np.ndarray) -> np.ndarray:
    """C* (colourfulness) of each pixel."""
    return cv2.magnitude(np.ascontiguousarray(lab_image[..., 1]), np.ascontiguousarray(lab_image[..., 2]))


def hue(lab_image: np.ndarray) -> np.ndarray:
    """CIELAB hue angle h of each pixel, degrees 0..360."""
    return cv2.phase(
        np.ascontiguousarray(lab_image[..., 1]), np.ascontiguousarray(lab_image[..., 2]), angleInDegrees=True
    )


def colourfulness(c: np.ndarray) -> np.ndarray:
    """0 for greys, 1 for clearly coloured pixels, a smooth ramp between (a pixel's weight in
    the hue histogram; the rest of it counts as grey)."""
    return np.clip((c - NEUTRAL_CHROMA) / (COLOURED_CHROMA - NEUTRAL_CHROMA), 0.0, 1.0)


def soft_histogram(values: np.ndarray, edges: np.ndarray, weights: np.ndarray, circular: bool = False) -> np.ndarray:
    """Histogram of ``values`` over bins centred between consecutive uniform ``edges``
    (len(edges) - 1 bins; pass log values for log bins), each value shared linearly between its
    two nearest bin centres. Values beyond the outer centres go to the outer bins or, when
    ``circular`` (values within one turn of ``edges``), wrap around. Not normalised."""
    bins = len(edges) - 1
    position = (values.astype(np.float32) - np.float32(edges[0])) * np.float32(1 / (edges[1] - edges[0]))
    position -= np.float32(0.5)
    if circular:
        # One turn at most below zero: adding a turn is ten times cheaper than numpy's float %.
        position = np.where(position < 0, position + np.float32(bins), position)
    else:
        np.clip(position, 0, bins - 1, out=position)
    low = position.astype(np.intp)  # floor, as positions are not negative
    upper = weights * (position - low)
    high = low + 1
    if circular:
        high[high == bins] = 0
    else:
        np.minimum(high, bins - 1, out=high)
    return np.bincount(low, weights - upper, minlength=bins) + np.bincount(high, upper, minlength=bins)


def appearance(image: np.ndarray) -> np.ndarray:
    """The default embedding of an RGB (or RGBA: alpha > 127 marks the pixels that count)
    image: colour (hue, with greys apart), lightness, chroma, texture and clipping histograms.

    Each block is a normalised histogram under a square root, scaled by the square root of its
    weight, so the embedding has length 1 and the cosine of two embeddings is the weighted mean
    of the blocks' Bhattacharyya coefficients (1 = same distribution, 0 = nothing shared).
    """
    pixels = rgb(image)
    region = image[:, :, 3] > 127 if image.ndim == 3 and image.shape[2] == 4 else np.ones(pixels.shape[:2], bool)
    if not region.any():
        region = np.ones(pixels.shape[:2], bool)  # an empty region: measure the whole image
    values = lab(pixels)
    lightness = values[..., 0]
    c = chroma(values)
    coloured = colourfulness(c)
    inside = region.astype(np.float32)
    colour = np.append(
        soft_histogram(hue(values)[region], np.linspace(0, 360, HUE_BINS + 1), coloured[region], circular=True),
        float(np.sum(1 - coloured[region])),
    )
    gradient = cv2.magnitude(cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(lightness, cv2.CV_32F, 0, 1))
    # Sobel's 3x3 kernel sums 4 pixel differences; /4 gives L* per pixel.
    texture = soft_histogram(np.log2(gradient[region] / 4 + 1), TEXTURE_EDGES, inside[region])
    blocks = {
        "colour": colour,
        "lightness": soft_histogram(lightness[region], np.linspace(0, 100, LIGHTNESS_BINS + 1), inside[region]),
        "chroma": soft_histogram(c[region], np.linspace(0, CHROMA_MAX, CHROMA_BINS + 1), inside[region]),
        "texture": texture,
        "clipping": soft_histogram(clipped(pixels)[region], np.arange(CLIP_BINS + 1) - 0.5, inside[region]),
    }
    parts = [np.sqrt(APPEARANCE_WEIGHTS[name] * histogram / histogram.sum()) for name, histogram in blocks.items()]
    return np.concatenate(parts).astype(np.float32)


def clipped(pixels: np.ndarray) -> np.ndarray:
    """How many channels of each pixel of a uint8 RGB image sit at an end of their range
    (crushed to 0 or blown to 255), 0..3 as float32: a channel counts fully at the end, less
    up to ``CLIP_MARGIN`` levels from it, not at all beyond."""
    values = pixels.astype(np.float32)
    nearest_end = np.minimum(values, np.float32(255) - values)
    return np.clip(1 - nearest_end * np.float32(1 / CLIP_MARGIN), 0, 1).sum(axis=2)


def appearance_dim() -> int:
    """Length of the ``appearance`` embedding."""
    return HUE_BINS + 1 + LIGHTNESS_BINS + CHROMA_BINS + len(TEXTURE_EDGES) - 1 + CLIP_BINS


def appearance_blocks() -> tuple[slice, ...]:
    """Where each block (colour, lightness, chroma, texture, clipping) lies in the
    ``appearance`` embedding: the dot products of two embeddings' blocks sum to their cosine."""
    lengths = (HUE_BINS + 1, LIGHTNESS_BINS, CHROMA_BINS, len(TEXTURE_EDGES) - 1, CLIP_BINS)
    ends = np.cumsum(lengths)
    return tuple(slice(int(end - length), int(end)) for length, end in zip(lengths, ends))


def structure(lab_image: np.ndarray) -> np.ndarray:
    """Where the picture has edges: colour gradient magnitude (lightness and chroma both, so a
    boundary between two equally bright colours counts) above the noise, under a square root,
    blurred a little so that an edge one pixel off still meets its counterpart. float32, same HxW.

    The square root makes an edge count by its presence more than by its contrast, as in the
    line art it is compared with (``lines``), where every edge is drawn alike: without it the
    one hard step from sky to set outweighs all the faint edges between the set's greys, and a
    wide shot, most of whose edges are faint, disagreed with its own line art."""
    gx = cv2.Sobel(lab_image, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lab_image, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.sqrt(np.sum(gx * gx + gy * gy, axis=2))
    # Grain, noise and compression make small gradients everywhere, which would drown the few
    # edges that are the composition; most pixels of a frame are not on an edge, so twice the
    # median gradient is above the noise and below the edges.
    return blur(np.sqrt(np.maximum(magnitude - 2 * np.median(magnitude), 0)))


def lines(drawing: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A line drawing (uint8, lines bright on black, such as the line-art pass) at ``size`` as
    ``structure`` sees a picture: 1 where a line crosses an analysis pixel at all, blurred like
    ``structure``. float32 at ``size``.

    A line counts fully whatever the drawing's resolution: shrunk by averaging, the two-pixel
    lines of a 1280x720 pass would fade to a quarter and the dense lines of far detail would
    merge into grey, while those of a 320x180 pass keep their strength, so one take's match
    would depend on the size its blocking was rendered at."""
    on = (drawing > 127).astype(np.float32)
    factor = math.ceil(max(drawing.shape[1] / size[0], drawing.shape[0] / size[1]))
    if factor > 1:  # the largest value under each analysis pixel, then down to the size
        on = cv2.dilate(on, np.ones((factor, factor), np.uint8))
    return blur(resize(on, size))


def blur(image: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Gaussian blur, edges of the frame reflected."""
    return cv2.GaussianBlur(image, (0, 0), sigma)


def normalised(values: np.ndarray) -> np.ndarray:
    """``values`` less their mean, scaled to length 1 (all zeros stay zeros): the dot product of
    two such arrays is their normalised cross-correlation."""
    centred = values.astype(np.float32) - np.float32(values.mean())
    length = float(np.linalg.norm(centred))
    return centred / np.float32(length) if length > 1e-9 else centred


def tone(lab_image: np.ndarray) -> np.ndarray:
    """Lighting and palette of a whole frame, for continuity: lightness percentiles, the colour
    cast of its greys (a* and b* of the near-neutral pixels, where a grade or a light's colour
    shows most) and its mean chroma. Values scaled to about 0..1."""
    lightness = lab_image[..., 0]
    c = chroma(lab_image)
    grey = 1.0 - colourfulness(c)
    weight = float(grey.sum(dtype=np.float64))
    if weight > 1e-6:
        cast = [float(np.sum(lab_image[..., i] * grey, dtype=np.float64) / weight) for i in (1, 2)]
    else:  # nothing grey in frame: the cast of the whole picture
        cast = [float(lab_image[..., i].mean(dtype=np.float64)) for i in (1, 2)]
    percentiles = np.percentile(lightness, TONE_PERCENTILES) / 100
    return np.array([*percentiles, cast[0] / 50, cast[1] / 50, float(c.mean(dtype=np.float64)) / 50], np.float32)


def layout(lab_image: np.ndarray) -> np.ndarray:
    """A thumbnail descriptor for near copies: lightness at 16x9 less its mean, with a* and b*
    at half weight, length 1. Two takes of the same picture score a cosine near 1 through
    noise, compression and small crops; so do two frames of one set framed alike, which the
    duplicate check tells apart with the shot's storyboard."""
    small = cv2.resize(lab_image, LAYOUT_SIZE, interpolation=cv2.INTER_AREA)
    lightness = small[..., 0] - small[..., 0].mean()
    vector = np.concatenate([lightness.ravel(), 0.5 * small[..., 1].ravel(), 0.5 * small[..., 2].ravel()])
    length = float(np.linalg.norm(vector))
    return (vector / length if length > 1e-9 else vector).astype(np.float32)
