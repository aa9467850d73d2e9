"""The intent checks: does a take keep to its shot's blocking, characters, style and scene?

``check_take`` measures a take once (``measure``) and runs every check on it; each check is a
function of one signature, ``Check``: (the measured take, the shot's prepared intent, the
production's limits) -> findings, so that a check from elsewhere can run beside the built-in
ones (``BUILT_IN_CHECKS``, by the names of ``findings.CHECKS``). Every score runs from 0 (as
intended) to 1 (nothing like it); the duplicate check's score is the similarity to the nearest
other take. The production's limits turn scores into verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from soundstage.checks import features
from soundstage.checks.findings import Finding, could_not_run, finding, not_checked
from soundstage.checks.intent import SEARCH_X, SEARCH_Y, CharacterTarget, ShotIntent
from soundstage.config import Checks


class MeasuredTake:
    """A take as the checks see it, measured once and shared by them all: the picture at up to
    twice the analysis size (``pixels``, where characters are cropped), at the analysis size
    (``small``, RGB, and ``lab``, CIELAB), and what the checks measure of it, each measured on
    first use."""

    def __init__(self, image: np.ndarray, intent: ShotIntent) -> None:
        pixels = features.rgb(image, "take")
        width, height = intent.size
        # Characters are cropped from the take at twice the analysis size: detail enough for
        # their texture, and one shrink of a large take rather than one per character.
        if pixels.shape[1] > 2 * width:
            pixels = features.resize(pixels, (2 * width, 2 * height))
        self.pixels = pixels
        self.small = features.resize(pixels, intent.size)
        self.lab = features.lab(self.small)
        self._intent = intent

    @cached_property
    def structure(self) -> np.ndarray:
        """Where the take has edges (``features.structure``), at the analysis size."""
        return features.structure(self.lab)

    @cached_property
    def tone(self) -> np.ndarray:
        """Its lighting and palette (``features.tone``)."""
        return features.tone(self.lab)

    @cached_property
    def layout(self) -> np.ndarray:
        """Its thumbnail descriptor (``features.layout``)."""
        return features.layout(self.lab)

    @cached_property
    def embeddings(self) -> dict[str, np.ndarray]:
        """The embedder's vectors of the whole frame ("") and of each character's region (by
        name) that the blocking shows large enough, made in one call: a model embedder runs
        them as one batch."""
        regions = {c.name: _region(self.pixels, c.box, c.alpha) for c in self._intent.characters if c.alpha is not None}
        embedded = self._intent.embedder.embed([self.small, *regions.values()])
        return {"": embedded[0], **dict(zip(regions, embedded[1:]))}


# What every check is: the measured take, the shot's intent and the limits, to findings.
Check = Callable[[MeasuredTake, ShotIntent, Checks], list[Finding]]


def check_take(
    image: np.ndarray,
    intent: ShotIntent,
    limits: Checks,
    *,
    checks: Mapping[str, Check] | None = None,
) -> list[Finding]:
    """Every check's findings on one take (uint8 RGB, any size of the passes' aspect): by
    default the built-in checks, in order: the composition of the frame and of each character,
    each character's appearance, the style, continuity with the neighbouring shots and
    duplicates of other shots' takes; ``checks`` (name -> check) runs others.

    A check with nothing to compare gives a ``Verdict.NOT_CHECKED`` finding saying why, and a
    check that raises gives one naming the error (``findings.could_not_run``) while the others
    run on: a take is never passed by a check that did not look at it.
    """
    take = MeasuredTake(image, intent)
    found: list[Finding] = []
    for name, check in (BUILT_IN_CHECKS if checks is None else checks).items():
        try:
            found += check(take, intent, limits)
        except Exception as error:
            # A check that cannot run must not stop the others, and must not pass the take.
            found.append(could_not_run(name, error))
    return found


def _region(pixels: np.ndarray, box: tuple[float, float, float, float], alpha: np.ndarray) -> np.ndarray:
    """A character's region of the take (at up to twice the analysis size, where its texture
    is not lost) as RGBA at the region size, alpha from the blocking's id pass."""
    height, width = pixels.shape[:2]
    x0, y0, x1, y1 = box
    left, top = min(width - 1, int(x0 * width)), min(height - 1, int(y0 * height))
    right, bottom = max(left + 1, round(x1 * width)), max(top + 1, round(y1 * height))
    crop = features.resize(pixels[top:bottom, left:right], (alpha.shape[1], alpha.shape[0]))
    return np.dstack([crop, alpha])


# -- composition --------------------------------------------------------------------------

# Zooms tried on a take's edges to explain a framing tighter (< 1: shrinking the take meets
# the blocking) or wider (> 1) than the blocking.
ZOOMS = (0.75, 0.87, 1.15, 1.33)
# Moves up to these fractions of the width and height are jitter (a 2-3% crop, a generator's
# wobble) and count as on the blocking.
JITTER_X, JITTER_Y = 0.03, 0.04
# The frame's composition score is the larger of what the blocking leaves unexplained (1 - the
# correlation of edges) and MOVED_GAIN times how much better than the blocking a moved, zoomed
# or mirrored blocking explains the take: 10% better scores 0.4. Hardly any clean take of
# the evaluation set is explained better by any of them.
MOVED_GAIN = 4.0
# For a character's silhouette: a match elsewhere must be this much better to say it moved.
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


def composition(take: MeasuredTake, intent: ShotIntent, limits: Checks) -> list[Finding]:
    """The frame's structure (``features.structure`` of the take at the analysis size) against
    the blocking, then each character's silhouette."""
    edges = take.structure * intent.window
    found = [_frame_composition(edges, intent, limits)]
    for target in intent.characters:
        found.append(_character_place(edges, target, intent, limits))
    return found


def _frame_composition(edges: np.ndarray, intent: ShotIntent, limits: Checks) -> Finding:
    fits = _fits(edges, intent)
    match = max(f.correlation for f in fits if f.jitter)
    best = max(fits, key=lambda f: f.correlation)
    unexplained = 1 - match
    moved = 0.0 if best.jitter else min(1.0, MOVED_GAIN * (best.correlation / max(match, 0.05) - 1))
    score = max(unexplained, moved)
    if score < limits.composition.warn:
        reason = f"the framing follows the blocking (edges match {match:.2f})"
    elif moved >= unexplained:
        reason = _describe(best)
    else:
        reason = f"the take's edges differ from the blocking's line art (match {match:.2f})"
    return finding(limits, "composition", "", score, reason)


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
        return (
            f"the framing moved {way} of the blocking (the picture sits {abs(fit.dx):.0%} of the width to the {side})"
        )
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
        return not_checked("composition", name, _unjudged(target, "place"))
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
    score = max(0.0, 1 - on_mark / max(best, on_mark, 1e-6), 1 - on_mark / PRESENT)
    if best > CLEARLY_BETTER * max(on_mark, 0.05) and (abs(bx - pad_x) > jx or abs(by - pad_y) > jy):
        dx, dy = (bx - pad_x) / width, (by - pad_y) / height
        if abs(dx) >= abs(dy):
            reason = f"{name} stands {abs(dx):.0%} of the width {'right' if dx > 0 else 'left'} of the mark"
        else:
            reason = f"{name} is {abs(dy):.0%} of the height {'lower' if dy > 0 else 'higher'} than the blocking"
    elif score >= limits.composition.warn:
        reason = f"no clear figure where the blocking puts {name} (silhouette match {on_mark:.2f})"
    else:
        reason = f"{name} is on the mark (silhouette match {on_mark:.2f})"
    return finding(limits, "composition", name, score, reason)


def _unjudged(target: CharacterTarget, what: str) -> str:
    """Why a character's region cannot be checked: absent from the blocking, or too small."""
    if not target.in_frame:
        return f"{target.name} is not in frame in the blocking; not checked"
    return f"{target.name} is too small in the blocking to {what}; not checked"


# -- character ----------------------------------------------------------------------------


def character(take: MeasuredTake, intent: ShotIntent, limits: Checks) -> list[Finding]:
    """Each character's region against its reference sheets."""
    found = []
    for target in intent.characters:
        if target.references is None:
            found.append(not_checked("character", target.name, f"no reference sheet for {target.name}; not checked"))
        elif target.alpha is None:
            found.append(not_checked("character", target.name, _unjudged(target, "judge")))
        else:
            likeness = float(np.max(target.references @ take.embeddings[target.name]))
            if 1 - likeness >= limits.character.warn:
                reason = (
                    f"{target.name} differs from the reference sheet in colour or texture (likeness {likeness:.2f})"
                )
            else:
                reason = f"{target.name} matches the reference sheet (likeness {likeness:.2f})"
            found.append(finding(limits, "character", target.name, 1 - likeness, reason))
    return found


# -- style --------------------------------------------------------------------------------


def style(take: MeasuredTake, intent: ShotIntent, limits: Checks) -> list[Finding]:
    """The frame's palette, tone and texture against the style references: the nearest one,
    or, for an embedder with blocks, each block against its nearest reference."""
    if intent.style is None:
        return [not_checked("style", "", "no style references in the bible; not checked")]
    embedding = take.embeddings[""]
    blocks = getattr(intent.embedder, "blocks", None)
    if blocks:
        # A look is shown over many frames: one reference has its palette, another its range of
        # light and dark, whatever each frames. Matching each aspect to its nearest reference
        # keeps a take's content (a sky-heavy wide, a close-up) from reading as another look.
        likeness = sum(float(np.max(intent.style[:, block] @ embedding[block])) for block in blocks)
    else:
        likeness = float(np.max(intent.style @ embedding))
    if 1 - likeness >= limits.style.warn:
        reason = f"the palette and tone differ from the style references (likeness {likeness:.2f})"
    else:
        reason = f"palette and tone match the style references (likeness {likeness:.2f})"
    return [finding(limits, "style", "", 1 - likeness, reason)]


# -- continuity ---------------------------------------------------------------------------

# Weights of the lightness, colour-cast and chroma differences in the continuity score. Mean
# chroma counts little: it follows what is in frame (a close-up of a red coat) more than the
# light. Tuned on the evaluation set.
CONTINUITY_WEIGHTS = np.array([2.0, 2.0, 0.2], np.float32)


def continuity(take: MeasuredTake, intent: ShotIntent, limits: Checks) -> list[Finding]:
    """Lighting and palette against the nearest approved neighbouring take: how far apart
    their lightness percentiles are (mean difference, L*/100), how far apart the colour casts
    of their greys are and their mean chroma (both /50; see ``features.tone``), weighted."""
    if not intent.neighbours:
        return [not_checked("continuity", "", "no approved takes of neighbouring shots; not checked")]
    lightness = slice(0, len(features.TONE_PERCENTILES))
    cast = slice(lightness.stop, lightness.stop + 2)
    difference = take.tone - intent.neighbours_tone
    parts = np.stack(
        [
            np.abs(difference[:, lightness]).mean(axis=1),
            np.linalg.norm(difference[:, cast], axis=1),
            np.abs(difference[:, -1]),
        ],
        axis=1,
    )
    distances = parts @ CONTINUITY_WEIGHTS
    nearest = int(np.argmin(distances))
    score, name = float(distances[nearest]), intent.neighbours[nearest]
    if score < limits.continuity.warn:
        return [finding(limits, "continuity", "", score, f"lighting and palette match {name}")]
    change = _tone_change(difference[nearest], parts[nearest] * CONTINUITY_WEIGHTS)
    return [finding(limits, "continuity", "", score, f"the take is {change} than {name}")]


def _tone_change(difference: np.ndarray, contributions: np.ndarray) -> str:
    """How a take's tone differs from a neighbour's, in words ("darker and bluer"), naming the
    parts (lightness, colour cast, chroma) that make up at least a quarter of the score."""
    major = contributions >= 0.25 * float(contributions.sum())
    words = []
    if major[0]:
        words.append("darker" if difference[: len(features.TONE_PERCENTILES)].mean() < 0 else "brighter")
    if major[1]:
        a, b = difference[len(features.TONE_PERCENTILES) : len(features.TONE_PERCENTILES) + 2]
        words.append(("bluer" if b < 0 else "yellower") if abs(b) >= abs(a) else ("greener" if a < 0 else "redder"))
    if major[2]:
        words.append("less saturated" if difference[-1] < 0 else "more saturated")
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]


# -- duplicates ---------------------------------------------------------------------------


# How much closer to another shot's take than that take is to this shot's own storyboard a
# take must be before the likeness counts as its own (thumbnails of one picture through noise
# and compression stay within this).
EXPLAINED_MARGIN = 0.02


def duplicates(take: MeasuredTake, intent: ShotIntent, limits: Checks) -> list[Finding]:
    """Similarity to the nearest take of another shot that the blocking does not explain."""
    if not intent.others:
        return [not_checked("duplicates", "", "no takes of other shots yet; not checked")]
    similarity = intent.others_layout @ take.layout
    if intent.own_layouts is not None and intent.others_alike is not None:
        # The blocking explains a likeness when this shot's storyboard (give or take a crop of
        # jitter) looks at least as much like the other take as the take does (coverage repeats
        # setups: the same close-up in the same set, scene after scene), or looks at least as
        # much like the take as the other take does (the take follows its own blocking, which
        # resembles another's).
        own = max(0.0, float(np.max(intent.own_layouts @ take.layout)))
        explained = np.maximum(intent.others_alike, own) >= similarity - EXPLAINED_MARGIN
    else:
        explained = np.zeros(len(similarity), bool)
    unexplained = np.where(explained, -1.0, similarity)
    nearest = int(np.argmax(unexplained))
    score, name = max(0.0, float(unexplained[nearest])), intent.others[nearest]
    if score >= limits.duplicates.warn:
        return [finding(limits, "duplicates", "", score, f"near copy of {name} (similarity {score:.2f})")]
    alike = int(np.argmax(np.where(explained, similarity, -1.0)))
    if explained[alike] and similarity[alike] >= limits.duplicates.warn:
        reason = f"no near copy of another shot's take ({intent.others[alike]} looks the same: blocked alike)"
    else:
        reason = "no near copy of another shot's take"
    return [finding(limits, "duplicates", "", score, reason)]


# The built-in checks by name (``findings.CHECKS``), in the order their findings come.
BUILT_IN_CHECKS: dict[str, Check] = {
    "composition": composition,
    "character": character,
    "style": style,
    "continuity": continuity,
    "duplicates": duplicates,
}
