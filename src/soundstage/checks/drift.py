"""The intent checks: does a take keep to its shot's blocking, characters, style and scene?

``check_take`` measures a take against a prepared ``ShotIntent`` and returns one finding per
check (and per character where the check is about one). Every score runs from 0 (as
intended) to 1 (nothing like it); the duplicate check's score is the similarity to the
nearest other take. The production's limits turn scores into verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from soundstage.checks import features
from soundstage.checks.findings import Finding, finding, not_checked
from soundstage.checks.intent import SEARCH_X, SEARCH_Y, CharacterTarget, ShotIntent
from soundstage.config import Checks


@dataclass(frozen=True, slots=True)
class _Take:
    """One take, measured once for all checks."""

    pixels: np.ndarray  # uint8 RGB, as made or shrunk to twice the analysis size
    small: np.ndarray  # uint8 RGB at the analysis size
    lab: np.ndarray  # CIELAB of ``small``
    edges: np.ndarray  # features.structure of ``lab``


def check_take(image: np.ndarray, intent: ShotIntent, limits: Checks) -> list[Finding]:
    """Every check's findings on one take (uint8 RGB, any size of the passes' aspect): the
    composition of the frame and of each character, each character's appearance, the style,
    continuity with the neighbouring shots and duplicates of other shots' takes, in that order."""
    pixels = features.rgb(image, "take")
    width, height = intent.size
    # Characters are cropped from the take at twice the analysis size: detail enough for their
    # texture, and one shrink of a large take rather than one per character.
    if pixels.shape[1] > 2 * width:
        pixels = features.resize(pixels, (2 * width, 2 * height))
    small = features.resize(pixels, intent.size)
    lab_image = features.lab(small)
    take = _Take(pixels, small, lab_image, features.structure(lab_image))
    characters = [c for c in intent.characters if c.alpha is not None]
    regions = [_region(take.pixels, c) for c in characters]
    embedded = intent.embedder.embed([small, *regions])
    frame_embedding, region_embeddings = embedded[0], dict(zip((c.name for c in characters), embedded[1:]))
    return [
        *composition(take, intent, limits),
        *character(region_embeddings, intent, limits),
        style(frame_embedding, intent, limits),
        continuity(features.tone(lab_image), intent, limits),
        duplicates(features.layout(lab_image), intent, limits),
    ]


def _region(pixels: np.ndarray, target: CharacterTarget) -> np.ndarray:
    """The character's region of the take (from ``_Take.pixels``, where its texture is not
    lost) as RGBA at the region size, alpha from the blocking's id pass."""
    height, width = pixels.shape[:2]
    x0, y0, x1, y1 = target.box
    left, top = min(width - 1, int(x0 * width)), min(height - 1, int(y0 * height))
    right, bottom = max(left + 1, round(x1 * width)), max(top + 1, round(y1 * height))
    alpha = target.alpha
    assert alpha is not None
    crop = features.resize(pixels[top:bottom, left:right], (alpha.shape[1], alpha.shape[0]))
    return np.dstack([crop, alpha])


# -- composition --------------------------------------------------------------------------

# Zooms tried on a take's edges to explain a framing tighter (< 1: shrinking the take meets
# the blocking) or wider (> 1) than the blocking.
ZOOMS = (0.75, 0.87, 1.15, 1.33)
# Moves up to these fractions of the width and height are jitter (a 2-3% crop, a generator's
# wobble) and count as on the blocking.
JITTER_X, JITTER_Y = 0.03, 0.04
# An explanation other than the blocking must fit this much better to be named as the reason.
CLEARLY_BETTER = 1.1
# A character's silhouette matching the take's edges this well on its mark is there.
PRESENT = 0.5


@dataclass(frozen=True, slots=True)
class _Fit:
    """How well the take's edges, moved or zoomed or mirrored, meet the blocking's."""

    correlation: float
    zoom: float = 1.0
    dx: float = 0.0  # how far right of the blocking the take's picture sits, fraction of the width
    dy: float = 0.0  # how far below, fraction of the height
    mirrored: bool = False

    @property
    def jitter(self) -> bool:
        """Whether this is the blocking itself, give or take jitter."""
        return self.zoom == 1.0 and not self.mirrored and abs(self.dx) <= JITTER_X and abs(self.dy) <= JITTER_Y


def composition(take: _Take, intent: ShotIntent, limits: Checks) -> list[Finding]:
    """The frame's structure against the blocking, then each character's silhouette."""
    edges = take.edges * intent.window
    found = [_frame_composition(edges, intent, limits)]
    for target in intent.characters:
        found.append(_character_place(edges, target, intent, limits))
    return found


def _frame_composition(edges: np.ndarray, intent: ShotIntent, limits: Checks) -> Finding:
    fits = _fits(edges, intent)
    on_blocking = max((f for f in fits if f.jitter), key=lambda f: f.correlation)
    best = max(fits, key=lambda f: f.correlation)
    score = _misfit(on_blocking.correlation, best.correlation)
    if best.correlation > CLEARLY_BETTER * max(on_blocking.correlation, 0.05) and not best.jitter:
        reason = _describe(best)
    elif on_blocking.correlation >= 0.5:
        reason = f"the framing follows the blocking (edges match {on_blocking.correlation:.2f})"
    else:
        reason = f"the take's edges do not follow the blocking's line art (match {on_blocking.correlation:.2f})"
    return finding(limits, "composition", "", score, reason)


def _misfit(on_blocking: float, best: float) -> float:
    """0 when the blocking explains the take's structure fully, towards 1 as it explains it
    less, or as a moved or zoomed blocking explains it better."""
    if on_blocking <= 0:
        return 1.0
    return 1 - on_blocking * on_blocking / max(best, on_blocking)


def _fits(edges: np.ndarray, intent: ShotIntent) -> list[_Fit]:
    """The take as it is, then the best move of it at each zoom, and mirrored."""
    width, height = intent.size
    fits = [_Fit(_correlation(edges, intent))]
    for mirrored, zoom in [(False, 1.0), *((False, z) for z in ZOOMS), (True, 1.0)]:
        candidate = np.ascontiguousarray(edges[:, ::-1]) if mirrored else edges
        if zoom != 1.0:
            candidate = _warp(candidate, zoom, 0, 0) * intent.window
        # Copies: OpenCV 5's phaseCorrelate applies the taper to its inputs in place.
        (dx, dy), _ = cv2.phaseCorrelate(intent.structure.copy(), candidate.copy(), intent.taper)
        moved = _warp(candidate, 1.0, -dx, -dy) * intent.window
        fits.append(_Fit(_correlation(moved, intent), zoom, dx / width, dy / height, mirrored))
    return fits


def _describe(fit: _Fit) -> str:
    """What a person would say about a framing that the blocking does not explain."""
    if fit.mirrored:
        return "the picture is mirrored left to right against the blocking"
    if fit.zoom < 1:
        return f"the framing is tighter than the blocking (about {1 / fit.zoom - 1:.0%} closer)"
    if fit.zoom > 1:
        return f"the framing is wider than the blocking (about {fit.zoom - 1:.0%} wider)"
    if abs(fit.dx) >= abs(fit.dy):
        way, side = ("left", "right") if fit.dx > 0 else ("right", "left")
        return f"the framing moved {way} of the blocking (the picture sits {abs(fit.dx):.0%} of the width to the {side})"
    way, side = ("up", "lower") if fit.dy > 0 else ("down", "higher")
    return f"the framing moved {way} from the blocking (the picture sits {abs(fit.dy):.0%} of the height {side})"


def _warp(image: np.ndarray, scale: float, dx: float, dy: float) -> np.ndarray:
    """``image`` scaled by ``scale`` about its centre, then moved by (dx, dy) pixels."""
    height, width = image.shape
    cx, cy = (width - 1) / 2, (height - 1) / 2
    matrix = np.array([[scale, 0, cx - scale * cx + dx], [0, scale, cy - scale * cy + dy]], np.float32)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def _correlation(edges: np.ndarray, intent: ShotIntent) -> float:
    return float(np.sum(features.normalised(edges) * intent.structure))


def _character_place(edges: np.ndarray, target: CharacterTarget, intent: ShotIntent, limits: Checks) -> Finding:
    """Is there a silhouette where the blocking puts the character, or a better one nearby?"""
    name = target.name
    if target.template is None:
        return not_checked("composition", name, f"{name} is too small in the blocking to place; not checked")
    width, height = intent.size
    pad_x, pad_y = round(SEARCH_X * width), round(SEARCH_Y * height)
    search = cv2.copyMakeBorder(edges, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=0)
    left, top = target.origin
    th, tw = target.template.shape
    window = search[top : top + th + 2 * pad_y, left : left + tw + 2 * pad_x]
    # Flat stretches of the take (no edges at all) come out as NaN: no silhouette there.
    response = np.nan_to_num(cv2.matchTemplate(window, target.template, cv2.TM_CCOEFF_NORMED))
    jx, jy = round(JITTER_X * width), round(JITTER_Y * height)
    on_mark = float(response[pad_y - jy : pad_y + jy + 1, pad_x - jx : pad_x + jx + 1].max())
    by, bx = np.unravel_index(int(np.argmax(response)), response.shape)
    best = float(response[by, bx])
    # A silhouette also meets the figure's inner lines and whatever stands near it, so a match
    # of PRESENT already means the figure is there; below, the score rises to 1 at no match.
    # Above, only a better match elsewhere (the figure moved) raises it.
    score = max(1 - on_mark / max(best, on_mark, 1e-6), 1 - on_mark / PRESENT)
    if best > CLEARLY_BETTER * max(on_mark, 0.05) and (abs(bx - pad_x) > jx or abs(by - pad_y) > jy):
        dx, dy = (bx - pad_x) / width, (by - pad_y) / height
        if abs(dx) >= abs(dy):
            reason = f"{name} stands {abs(dx):.0%} of the width {'right' if dx > 0 else 'left'} of the mark"
        else:
            reason = f"{name} is {abs(dy):.0%} of the height {'lower' if dy > 0 else 'higher'} than the blocking"
    elif on_mark < PRESENT / 2:
        reason = f"no figure where the blocking puts {name} (silhouette match {on_mark:.2f})"
    else:
        reason = f"{name} is on the mark (silhouette match {on_mark:.2f})"
    return finding(limits, "composition", name, score, reason)


# -- character ----------------------------------------------------------------------------


def character(embeddings: dict[str, np.ndarray], intent: ShotIntent, limits: Checks) -> list[Finding]:
    """Each character's region against its reference sheets."""
    found = []
    for target in intent.characters:
        if target.references is None:
            found.append(not_checked("character", target.name, f"no reference sheet for {target.name}; not checked"))
        elif target.alpha is None:
            found.append(
                not_checked("character", target.name, f"{target.name} is too small in the blocking to judge; not checked")
            )
        else:
            similarity = float(np.max(target.references @ embeddings[target.name]))
            found.append(finding(limits, "character", target.name, 1 - similarity, ""))
    return found


# -- style --------------------------------------------------------------------------------


def style(embedding: np.ndarray, intent: ShotIntent, limits: Checks) -> Finding:
    """The frame's palette, tone and texture against the nearest style reference."""
    if intent.style is None:
        return not_checked("style", "", "no style references in the bible; not checked")
    similarity = float(np.max(intent.style @ embedding))
    return finding(limits, "style", "", 1 - similarity, "")


# -- continuity ---------------------------------------------------------------------------

TONE_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 2, 1], np.float32) / 10


def continuity(tone: np.ndarray, intent: ShotIntent, limits: Checks) -> Finding:
    """Lighting and palette against the nearest approved neighbouring take."""
    if not intent.neighbours:
        return not_checked("continuity", "", "no approved takes of neighbouring shots; not checked")
    distances = np.abs(intent.neighbours_tone - tone) @ TONE_WEIGHTS
    return finding(limits, "continuity", "", float(distances.min()) * 3, "")


# -- duplicates ---------------------------------------------------------------------------


def duplicates(layout: np.ndarray, intent: ShotIntent, limits: Checks) -> Finding:
    """Similarity to the nearest take of another shot."""
    if not intent.others:
        return not_checked("duplicates", "", "no takes of other shots yet; not checked")
    similarity = intent.others_layout @ layout
    if intent.own_layout is not None:
        # A take of another shot blocked like this one resembles this shot's storyboard at
        # least as much as it resembles the take: that likeness is the blocking's, not a copy.
        blocked_alike = intent.others_layout @ intent.own_layout >= similarity - 0.02
        similarity = np.where(blocked_alike, 0.0, similarity)
    nearest = int(np.argmax(similarity))
    return finding(limits, "duplicates", "", float(similarity[nearest]), f"near copy of {intent.others[nearest]}")
