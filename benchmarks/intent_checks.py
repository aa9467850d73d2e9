"""The intent checks on previs takes with known drifts, every screenplay we have, at two sizes:
limits tuned on one half of the shots, false flags and recall reported on the other half; and
the checks' throughput on a 1280x720 take.

Run: .venv/bin/python benchmarks/intent_checks.py [--sizes 320x180,1280x720] [--work DIR]
     [--big-fish-every 8] [--only NAME,...]
Prints markdown tables for docs/checks.md and docs/benchmarks.md. ``--work`` keeps the rendered
productions between runs (rendering is most of a first run).

The screenplays: the project's example (examples/lantern_keepers.fountain) and every
``.fountain`` in ../shared/screenplays (the ``.fdx`` files there are the same scripts, so they
add no shots). big_fish, a feature of 190 scenes and about 1600 shots, is sub-sampled: every
8th scene (``--big-fish-every``), all of its shots. Each is made up to previs at each size (one
production per screenplay and size); each shot's storyboard is its previs take. Its intent: the
shot's own line art, depth and id passes; each character's reference sheet is its stand-in
cropped (with the id pass as alpha) from the OTHER shot of the screenplay where it is largest;
the style references are four storyboards of other scenes (two with characters, two of the
set alone, spread over the script; a screenplay with too few takes the rest from the other
screenplays, as the previs look is one look); the neighbours are the takes of up to two shots
either side in the same scene; the others are the takes of every other shot of the screenplay.

Each take is then changed in known ways, mild and clear:

| drift | mild | clear | caught by |
| --- | --- | --- | --- |
| character recoloured (hue turned inside its id region) | 30 degrees | 90 degrees | character |
| two characters swapped (each region takes the other's colours) | half way | all the way | character |
| framing shifted sideways | 5% of the width | 12% | composition |
| cropped (zoomed in, centred) | 10% | 25% | composition |
| mirrored | | left-right | composition |
| day relit as night | darker, bluer | dark and blue | continuity |
| posterised | 3 levels a channel | 2 levels | style |
| a different palette (a duotone grade) | 40% blend | full | style |
| duplicated: another shot's take submitted | re-encoded, cropped 2% | the same pixels | duplicates |

Clean takes, which every check must pass: the previs take itself, with noise (sigma 4), JPEG at
quality 70, and a 2-3% crop scaled back.

A drift counts only where it changes what it drifts: a recolour or swap needs the characters
in frame at a size the checks judge and a sheet from another shot; a composition drift must
move the blocking's own line art by more than the 3% of jitter the check allows (a sideways
shift of a plain wall insert changes nothing); continuity needs neighbouring shots; a
duplicate comes from a shot of the same screenplay that is not blocked the same. The rest are
counted apart (with the share of them flagged all the same).

The halves: a shot is in the tuning half or the held-out half by a stable hash (sha256) of
its name, screenplay and shot code, never by its position, and at both sizes in the same half.
Limits are tuned on the tuning half (both sizes together: a production has one set of limits
whatever size it renders at), per check, from the gap between the highest clean score and the
5th percentile of the clear drifts the check is meant for: where there is a gap, ``warn`` just
above every clean score and ``fail`` a quarter of the way across the gap; where they overlap,
``warn`` just above 99% of the clean scores and ``fail`` just above all of them (on a grid of
0.01). The duplicate check is not tuned (see ``UNTUNED``). Everything reported is measured on
the held-out half at those limits; the same half is also shown at the current defaults of
``[checks]``. ``--save`` keeps every take's scores; ``--load`` reports from them again (scores
do not depend on the limits), without the throughput.

A swap of two characters counts only where their colours differ (``SWAP_DELTA_E``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select

from soundstage.checks import (
    CHECKS,
    CharacterIntent,
    FeatureEmbedder,
    ShotIntent,
    TakeSignature,
    Verdict,
    check_take,
    features,
    prepare_intent,
    signature,
)
from soundstage.config import Checks, Limits
from soundstage.project import Production
from soundstage.render.previs import read_png
from soundstage.store.db import session_scope
from soundstage.store.tables import CharacterRow, RenderRow, ShotRow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "lantern_keepers.fountain"
SHARED = ROOT.parent / "shared" / "screenplays"
SEED = 7
THROUGHPUT_SIZE = (1280, 720)
THROUGHPUT_TAKES = 300
HALVES = ("tuning", "held-out")
# Where each drift kind is meant to be caught.
TARGET = {
    "recolour": "character",
    "swap": "character",
    "shift": "composition",
    "crop": "composition",
    "mirror": "composition",
    "night": "continuity",
    "posterise": "style",
    "palette": "style",
    "duplicate": "duplicates",
}
CLEAN = ("take", "noise", "jpeg", "crop")  # the clean variants, the previs take itself first
# Checks whose limits are not tuned on the set, and why.
UNTUNED = {
    "duplicates": "every clean previs take scores 0 (the blocking explains each likeness), so the set says "
    "nothing about where a generated production's unrelated takes lie; the limits stay where a near "
    "copy begins",
}
# Two characters whose mean colours are closer than this (CIELAB delta E) look alike at a
# glance: swapping them changes nothing a person sees, so such a swap is not counted.
SWAP_DELTA_E = 20.0


@dataclass
class Shot:
    """One shot of the evaluation set: its passes and the characters in its frame."""

    screenplay: str
    code: str
    scene: str
    storyboard: np.ndarray
    lineart: np.ndarray
    depth: np.ndarray
    ids: np.ndarray
    cast: dict[str, int] = field(default_factory=dict)  # name -> mask id, characters in frame

    @property
    def half(self) -> str:
        """The shot's half: a stable hash of its screenplay and code."""
        digest = hashlib.sha256(f"{self.screenplay}/{self.code}".encode()).digest()
        return HALVES[digest[0] & 1]


@dataclass
class Case:
    """One take of the set: clean, or a drift of a kind and strength, with each check's worst
    score where the check judged it (a check with nothing to compare has no score)."""

    screenplay: str
    size: str
    shot: str
    half: str
    kind: str  # "clean" or a TARGET key
    strength: str  # a CLEAN variant for clean takes, else "mild" or "clear"
    eligible: bool
    scores: dict[str, float] = field(default_factory=dict)


# -- the productions ------------------------------------------------------------------------


def screenplays(only: set[str], big_fish_every: int) -> list[tuple[str, Path, int]]:
    """(name, path, every how many scenes to keep) of each screenplay evaluated."""
    found = [("lantern_keepers", EXAMPLE, 1)]
    for path in sorted(SHARED.glob("*.fountain")):
        found.append((path.stem, path, big_fish_every if path.stem == "big_fish" else 1))
    return [entry for entry in found if not only or entry[0] in only]


def production(work: Path, name: str, script: Path, every: int, size: tuple[int, int]) -> Production:
    """The screenplay made up to previs at ``size`` in ``work`` (made once, then reopened)."""
    root = work / f"{name}_{size[0]}x{size[1]}"
    if (root / "soundstage.toml").exists():
        return Production.open(root)
    made = Production.init(root)
    made.import_script(script)
    made.plan()
    scenes = list(dict.fromkeys(shot.scene for shot in made.shots()))
    for scene in scenes[::every]:
        made.layout(scene=scene)
    made.previs(size=size)
    return made


def load_shots(made: Production, screenplay: str) -> list[Shot]:
    """Every rendered shot with its passes, read from the media store, by code (scene order)."""
    with session_scope(made.engine) as session:
        names = {r.mask_id: r.name for r in session.scalars(select(CharacterRow))}
        rows = session.execute(
            select(ShotRow.code, RenderRow).join(RenderRow, RenderRow.shot_id == ShotRow.id).order_by(ShotRow.code)
        ).all()
        shots = []
        for code, render in rows:
            passes = {
                name: read_png(made.media.path(getattr(render, f"{name}_sha256"), ".png"))
                for name in ("storyboard", "lineart", "depth", "ids")
            }
            present = [int(i) for i in np.unique(passes["ids"]) if i]
            cast = {names[i]: i for i in present if i in names}
            shots.append(Shot(screenplay, code, code.split("_")[0], **passes, cast=cast))  # type: ignore[arg-type]
    return shots


# -- the intent of each shot ----------------------------------------------------------------


def reference_sheets(shots: list[Shot]) -> dict[tuple[str, str], np.ndarray]:
    """(shot code, character) -> the character's stand-in cropped, with alpha, from the other
    shot where it is largest."""
    areas = defaultdict(list)
    for shot in shots:
        for name, mask_id in shot.cast.items():
            areas[name].append((int(np.sum(shot.ids == mask_id)), shot))
    sheets = {}
    for shot in shots:
        for name in shot.cast:
            candidates = sorted(((a, s.code, s) for a, s in areas[name] if s.code != shot.code), key=lambda c: c[:2])
            if not candidates:
                continue
            source = candidates[-1][2]
            mask = source.ids == source.cast[name]
            rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            crop = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
            sheets[shot.code, name] = np.dstack([source.storyboard[crop], mask[crop].astype(np.uint8) * 255])
    return sheets


def style_references(shots: list[Shot], shot: Shot, pool: list[Shot]) -> list[np.ndarray]:
    """Four storyboards of other scenes: two with characters, two of the set alone, spread over
    the script; from ``pool`` (the other screenplays) where the screenplay has too few."""
    picks = []
    for with_cast in (True, False):
        own = [s for s in shots if s.scene != shot.scene and bool(s.cast) == with_cast]
        extra = [s for s in pool if bool(s.cast) == with_cast]
        kind = own if len(own) >= 2 else own + extra
        picks += [kind[len(kind) // 4], kind[3 * len(kind) // 4]] if len(kind) >= 2 else kind
    return [s.storyboard for s in picks]


def neighbours(shots: list[Shot], index: int) -> list[tuple[str, np.ndarray]]:
    """The takes of up to two shots either side of shots[index] in its scene."""
    scene = shots[index].scene
    near = [shots[i] for i in range(max(0, index - 2), min(len(shots), index + 3)) if i != index]
    return [(s.code + "/1", s.storyboard) for s in near if s.scene == scene]


def intents(shots: list[Shot], pool: list[Shot], signatures: dict[str, TakeSignature]) -> dict[str, ShotIntent]:
    """Every shot's prepared intent."""
    embedder = FeatureEmbedder()
    sheets = reference_sheets(shots)
    prepared = {}
    for index, shot in enumerate(shots):
        characters = {
            name: CharacterIntent(mask_id, [sheets[shot.code, name]] if (shot.code, name) in sheets else [])
            for name, mask_id in shot.cast.items()
        }
        prepared[shot.code] = prepare_intent(
            shot.lineart,
            shot.depth,
            shot.ids,
            characters,
            style_references(shots, shot, pool),
            neighbours(shots, index),
            {f"{s.code}/1": signatures[s.code] for s in shots if s.code != shot.code},
            embedder,
            storyboard=shot.storyboard,
        )
    return prepared


# -- drifts ---------------------------------------------------------------------------------


def jpeg(image: np.ndarray, quality: int = 70) -> np.ndarray:
    """``image`` through JPEG at ``quality``."""
    ok, data = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1]


def noise(image: np.ndarray, rng: np.random.Generator, sigma: float = 4.0) -> np.ndarray:
    """Gaussian noise of ``sigma`` levels."""
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


def mirror(image: np.ndarray) -> np.ndarray:
    """The picture flipped left to right."""
    return image[:, ::-1].copy()


def crop(image: np.ndarray, fraction: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """``fraction`` of the width and height cut off (centred, or spread at random between the
    sides), scaled back to the frame."""
    height, width = image.shape[:2]
    cut_x, cut_y = fraction * width, fraction * height
    left = cut_x * (rng.uniform() if rng is not None else 0.5)
    top = cut_y * (rng.uniform() if rng is not None else 0.5)
    box = image[round(top) : round(top + height - cut_y), round(left) : round(left + width - cut_x)]
    return cv2.resize(box, (width, height), interpolation=cv2.INTER_LINEAR)


def shift(image: np.ndarray, fraction: float) -> np.ndarray:
    """The picture moved sideways by ``fraction`` of the width, the edge pixels repeated."""
    height, width = image.shape[:2]
    matrix = np.array([[1, 0, fraction * width], [0, 1, 0]], np.float32)
    return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def recolour(image: np.ndarray, mask: np.ndarray, degrees: float) -> np.ndarray:
    """The hue inside ``mask`` turned by ``degrees``."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    turned = hsv.copy()
    turned[..., 0] = (hsv[..., 0].astype(np.int32) + round(degrees / 2)) % 180  # OpenCV hue is 0..179
    out = image.copy()
    out[mask] = cv2.cvtColor(turned, cv2.COLOR_HSV2RGB)[mask]
    return out


def swap(image: np.ndarray, first: np.ndarray, second: np.ndarray, amount: float) -> np.ndarray:
    """Each region's colours moved (CIELAB, by ``amount`` of the way) to the other's."""
    values = features.lab(image)
    mean_first, mean_second = values[first].mean(axis=0), values[second].mean(axis=0)
    values[first] += amount * (mean_second - mean_first)
    values[second] += amount * (mean_first - mean_second)
    rgb = cv2.cvtColor(values, cv2.COLOR_Lab2RGB)
    return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)


def night(image: np.ndarray, strength: float) -> np.ndarray:
    """Relit as night: darker and bluer, ``strength`` 0..1."""
    gain = np.array([1 - 0.7 * strength, 1 - 0.62 * strength, 1 - 0.35 * strength], np.float32)
    return np.clip(image * gain, 0, 255).astype(np.uint8)


def posterise(image: np.ndarray, levels: int) -> np.ndarray:
    """Each channel rounded to ``levels`` levels."""
    step = 255 / (levels - 1)
    return (np.round(image / step) * step).astype(np.uint8)


def palette(image: np.ndarray, amount: float) -> np.ndarray:
    """A duotone grade (lightness mapped from deep violet to amber), blended by ``amount``."""
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None] / 255
    dark, light = np.array([45, 20, 90], np.float32), np.array([255, 196, 110], np.float32)
    graded = dark + luma * (light - dark)
    return np.clip((1 - amount) * image + amount * graded, 0, 255).astype(np.uint8)


def moves_lineart(shot: Shot, transform: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Whether ``transform`` moves the blocking's line art by more than the jitter the check
    allows: blurred by 3% of the width, it correlates below 0.8 with the original."""
    size = features.analysis_size(shot.lineart.shape[1], shot.lineart.shape[0])
    sigma = 0.03 * size[0]
    before = features.blur(features.resize(shot.lineart.astype(np.float32), size), sigma)
    lines = np.dstack([shot.lineart] * 3)
    after = features.blur(features.resize(transform(lines)[..., 0].astype(np.float32), size), sigma)
    return float(np.sum(features.normalised(before) * features.normalised(after))) < 0.8


Made = tuple[str, str, bool, np.ndarray]  # kind, strength, eligible, the take


def cases(index: int, shots: list[Shot], layouts: dict[str, np.ndarray]) -> Iterator[Made]:
    """Every take made of shots[index], with what it is, one at a time (a 1280x720 set would not
    fit in memory at once)."""
    shot = shots[index]
    rng = np.random.default_rng(
        [SEED, int(hashlib.sha256(f"{shot.screenplay}/{shot.code}".encode()).hexdigest(), 16) % 2**32]
    )
    take = shot.storyboard
    yield "clean", "take", True, take
    yield "clean", "noise", True, noise(take, rng)
    yield "clean", "jpeg", True, jpeg(take)
    yield "clean", "crop", True, crop(take, rng.uniform(0.02, 0.03), rng)
    yield from character_drifts(shot, shots)
    side = 1 if rng.uniform() < 0.5 else -1
    moves = [
        ("shift", "mild", partial(shift, fraction=0.05 * side)),
        ("shift", "clear", partial(shift, fraction=0.12 * side)),
        ("crop", "mild", partial(crop, fraction=0.10)),
        ("crop", "clear", partial(crop, fraction=0.25)),
        ("mirror", "clear", mirror),
    ]
    for kind, strength, move in moves:
        yield kind, strength, moves_lineart(shot, move), move(take)
    has_neighbours = any(s.scene == shot.scene for s in shots[max(0, index - 2) : index + 3] if s is not shot)
    yield "night", "mild", has_neighbours, night(take, 0.5)
    yield "night", "clear", has_neighbours, night(take, 1.0)
    yield "posterise", "mild", True, posterise(take, 3)
    yield "posterise", "clear", True, posterise(take, 2)
    yield "palette", "mild", True, palette(take, 0.4)
    yield "palette", "clear", True, palette(take, 1.0)
    unlike = [s for s in shots if float(layouts[s.code] @ layouts[shot.code]) < 0.9]
    if unlike:
        source = unlike[rng.integers(len(unlike))].storyboard
        yield "duplicate", "mild", True, crop(jpeg(noise(source, rng)), 0.02, rng)
        yield "duplicate", "clear", True, source.copy()


def character_drifts(shot: Shot, shots: list[Shot]) -> Iterator[Made]:
    """The first character (by name) recoloured, and the first two swapped, where the checks
    can judge them (big enough in frame, a reference sheet from another shot)."""
    size = features.analysis_size(shot.ids.shape[1], shot.ids.shape[0])
    masks = {name: shot.ids == mask_id for name, mask_id in sorted(shot.cast.items())}
    judged = {
        name: mask for name, mask in masks.items() if (features.resize(mask.astype(np.float32), size) > 0.5).sum() >= 40
    }
    sheet = {name for name in judged if any(s.code != shot.code and name in s.cast for s in shots)}
    if judged:
        name, mask = next(iter(judged.items()))
        yield "recolour", "mild", name in sheet, recolour(shot.storyboard, mask, 30)
        yield "recolour", "clear", name in sheet, recolour(shot.storyboard, mask, 90)
    if len(judged) >= 2:
        first, second = list(judged)[:2]
        lab = features.lab(shot.storyboard)
        apart = float(np.linalg.norm(lab[judged[first]].mean(axis=0) - lab[judged[second]].mean(axis=0)))
        counted = {first, second} <= sheet and apart >= SWAP_DELTA_E
        yield "swap", "mild", counted, swap(shot.storyboard, judged[first], judged[second], 0.5)
        yield "swap", "clear", counted, swap(shot.storyboard, judged[first], judged[second], 1.0)


# -- scoring --------------------------------------------------------------------------------


def score(shots: list[Shot], prepared: dict[str, ShotIntent], size: str) -> list[Case]:
    """Check every take of ``shots``; each case keeps, per check that judged it, its worst
    score. Scores do not depend on the limits, so any limits can be tried on them after."""
    layouts = {s.code: np.array(signature(s.storyboard).layout) for s in shots}
    limits = Checks()
    results = []
    for index, shot in enumerate(shots):
        for kind, strength, eligible, image in cases(index, shots, layouts):
            case = Case(shot.screenplay, size, shot.code, shot.half, kind, strength, eligible)
            for found in check_take(image, prepared[shot.code], limits):
                if found.verdict is not Verdict.NOT_CHECKED:
                    case.scores[found.check] = max(found.score, case.scores.get(found.check, 0.0))
            results.append(case)
    return results


def flagged(case: Case, check: str, limit: float) -> bool:
    """Whether the check judged the case at or above ``limit``."""
    return check in case.scores and case.scores[check] >= limit


def tune(results: list[Case], defaults: Checks) -> Checks:
    """Limits from the tuning half (see the module docstring); ``defaults`` for the checks in
    ``UNTUNED``."""
    tuning = [c for c in results if c.half == "tuning"]
    limits = {}
    for check in CHECKS:
        if check in UNTUNED:
            limits[check] = getattr(defaults, check)
            continue
        clean = np.array([c.scores[check] for c in tuning if c.kind == "clean" and check in c.scores])
        clear = [
            c.scores[check]
            for c in tuning
            if c.eligible and c.strength == "clear" and TARGET.get(c.kind) == check and check in c.scores
        ]
        highest = float(clean.max())
        gap = (float(np.percentile(clear, 5)) if clear else 1.0) - highest
        just_above = float(np.floor(highest * 100) / 100 + 0.01)  # every clean take, on the 0.01 grid
        if gap > 0:
            # A quarter of the way, not half: clear drifts saturate at 1, so the gap's far end
            # says little about where the weaker of them lie.
            warn, fail = just_above, max(just_above, round(highest + gap / 4, 2))
        else:
            warn, fail = float(np.floor(np.percentile(clean, 99) * 100) / 100 + 0.01), just_above
        limits[check] = Limits(warn=min(warn, fail), fail=fail)
    return Checks(**limits)


def auc(positives: list[float], negatives: list[float]) -> float:
    """ROC AUC from ranks (Mann-Whitney U): the chance that a drifted take scores above a clean
    one, ties counted half. scikit-learn is not a dependency for one formula."""
    if not positives or not negatives:
        return float("nan")
    values = np.array([*positives, *negatives])
    order = values.argsort(kind="mergesort")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):  # ties share their mean rank
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    u = ranks[: len(positives)].sum() - len(positives) * (len(positives) + 1) / 2
    return float(u / (len(positives) * len(negatives)))


@dataclass
class Figures:
    """False flags on clean takes and recall on drifts of one check over some cases."""

    clean: int
    takes: int  # the previs takes themselves among the clean ones
    false_fails: float
    false_warnings: float  # warn, not fail
    takes_flagged: float  # previs takes themselves flagged (warn or fail)
    recall: dict[tuple[str, str], tuple[int, float, float]]  # (kind, strength) -> n, flagged, failed
    apart: dict[tuple[str, str], tuple[int, float]]  # drifts not counted: n, share flagged
    area: dict[tuple[str, str], float]  # ROC AUC against the clean scores


def figures(cases_: list[Case], check: str, limits: Checks) -> Figures:
    """One check's figures over ``cases_`` at ``limits``."""
    lim = getattr(limits, check)
    clean = [c for c in cases_ if c.kind == "clean" and check in c.scores]
    takes = [c for c in clean if c.strength == "take"]
    share = lambda group, test: float(np.mean([test(c) for c in group])) if group else float("nan")  # noqa: E731
    recall, apart, area = {}, {}, {}
    negatives = [c.scores[check] for c in clean]
    for kind in (k for k, target in TARGET.items() if target == check):
        for strength in ("mild", "clear"):
            group = [c for c in cases_ if c.kind == kind and c.strength == strength]
            if not group:
                continue
            counted = [c for c in group if c.eligible and check in c.scores]
            others = [c for c in group if not (c.eligible and check in c.scores)]
            recall[kind, strength] = (
                len(counted),
                share(counted, lambda c: flagged(c, check, lim.warn)),
                share(counted, lambda c: flagged(c, check, lim.fail)),
            )
            apart[kind, strength] = (len(others), share(others, lambda c: flagged(c, check, lim.warn)))
            area[kind, strength] = auc([c.scores[check] for c in counted], negatives)
    return Figures(
        clean=len(clean),
        takes=len(takes),
        false_fails=share(clean, lambda c: flagged(c, check, lim.fail)),
        false_warnings=share(clean, lambda c: flagged(c, check, lim.warn) and not flagged(c, check, lim.fail)),
        takes_flagged=share(takes, lambda c: flagged(c, check, lim.warn)),
        recall=recall,
        apart=apart,
        area=area,
    )


def percent(value: float) -> str:
    return "–" if np.isnan(value) else f"{value:.1%}"


# -- the report -----------------------------------------------------------------------------


def report(results: list[Case], limits: Checks, defaults: Checks, sizes: list[str]) -> list[str]:
    """Print the held-out tables; return the targets missed (empty when all are met)."""
    held_out = [c for c in results if c.half == "held-out"]
    missed = []
    print("Limits tuned on the tuning half (both sizes):")
    print()
    print("```toml")
    print("[checks]")
    for check in CHECKS:
        lim = getattr(limits, check)
        print(f"{check} = {{ warn = {lim.warn:g}, fail = {lim.fail:g} }}")
    print("```")
    print()
    for check, why in UNTUNED.items():
        print(f"{check} is not tuned: {why}.")
    print()
    print("Held-out half, every screenplay, at those limits: false flags on clean previs takes (the take itself,")
    print("with noise, JPEG, a 2-3% crop) and recall on the drifts each check is meant for")
    print("(flagged = warn or fail; 'fail' = at the fail limit).")
    print()
    print(
        "| size | check | clean takes | false fails | false warnings | previs take itself flagged "
        "| drift | strength | takes | recall (flagged) | recall (fail) | ROC AUC | not counted (of them flagged) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for size in sizes:
        group = [c for c in held_out if c.size == size]
        for check in CHECKS:
            f = figures(group, check, limits)
            first = True
            for (kind, strength), (n, rec, rec_fail) in f.recall.items():
                lead = (
                    f"| {size} | {check} | {f.clean} | {percent(f.false_fails)} | {percent(f.false_warnings)} "
                    f"| {percent(f.takes_flagged)} of {f.takes} "
                    if first
                    else "| | | | | | "
                )
                first = False
                n_apart, apart_flagged = f.apart[kind, strength]
                apart = f"{n_apart} ({percent(apart_flagged)})" if n_apart else "0"
                print(
                    f"{lead}| {kind} | {strength} | {n} | {percent(rec)} | {percent(rec_fail)} "
                    f"| {f.area[kind, strength]:.3f} | {apart} |"
                )
                if strength == "clear" and n and rec < 0.95:
                    missed.append(f"{size} {kind}: recall {rec:.1%}")
            if f.false_fails > 0:
                missed.append(f"{size} {check}: {f.false_fails:.1%} false fails")
            if f.false_warnings > 0.02:
                missed.append(f"{size} {check}: {f.false_warnings:.1%} false warnings")
    print()
    print("Per screenplay (held-out half): clean takes, false fails / false warnings, and recall (flagged) on")
    print("each clear drift, per check.")
    print()
    print(
        "| screenplay | check | "
        + " | ".join(f"{s}: clean, false fails / warnings | {s}: clear drifts" for s in sizes)
        + " |"
    )
    print("| --- | --- | " + " | ".join("---: | ---" for _ in sizes) + " |")
    for name in dict.fromkeys(c.screenplay for c in results):
        for check in CHECKS:
            cells = []
            for size in sizes:
                group = [c for c in held_out if c.screenplay == name and c.size == size]
                f = figures(group, check, limits)
                drifts = ", ".join(
                    f"{kind} {percent(rec)} of {n}"
                    for (kind, strength), (n, rec, _) in f.recall.items()
                    if strength == "clear" and n
                )
                cells.append(f"{f.clean}, {percent(f.false_fails)} / {percent(f.false_warnings)} | {drifts or '–'}")
            print(f"| {name} | {check} | " + " | ".join(cells) + " |")
    print()
    print("The same held-out half at the current defaults of [checks] (config.py):")
    print()
    print("| size | check | defaults (warn / fail) | false fails | false warnings | lowest recall on a clear drift |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for size in sizes:
        group = [c for c in held_out if c.size == size]
        for check in CHECKS:
            f = figures(group, check, defaults)
            lim = getattr(defaults, check)
            lowest = min(
                ((rec, kind) for (kind, strength), (n, rec, _) in f.recall.items() if strength == "clear" and n),
                default=(float("nan"), ""),
            )
            print(
                f"| {size} | {check} | {lim.warn:g} / {lim.fail:g} | {percent(f.false_fails)} "
                f"| {percent(f.false_warnings)} | {percent(lowest[0])} ({lowest[1]}) |"
            )
    return missed


def throughput(shots: list[Shot], prepared: dict[str, ShotIntent], limits: Checks) -> tuple[float, float, float]:
    """All checks on 1280x720 takes (the storyboards of the ten shots with most characters,
    scaled up), intent prepared once per shot and not timed: takes per second of wall-clock
    time, median wall ms per take, and CPU ms per take (all threads of this process)."""
    chosen = sorted(shots, key=lambda s: -len(s.cast))[:10]
    takes = [
        (cv2.resize(s.storyboard, THROUGHPUT_SIZE, interpolation=cv2.INTER_LANCZOS4), prepared[s.code]) for s in chosen
    ]
    for image, intent in takes:  # warm-up
        check_take(image, intent, limits)
    times = []
    started, cpu = time.perf_counter(), time.process_time()
    for n in range(THROUGHPUT_TAKES):
        image, intent = takes[n % len(takes)]
        t0 = time.perf_counter()
        check_take(image, intent, limits)
        times.append(time.perf_counter() - t0)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    return THROUGHPUT_TAKES / total, float(np.median(times)) * 1000, cpu * 1000 / THROUGHPUT_TAKES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="320x180,1280x720")
    parser.add_argument("--work", type=Path, help="keep the rendered productions here between runs")
    parser.add_argument("--big-fish-every", type=int, default=8, help="keep every Nth scene of big_fish")
    parser.add_argument("--only", default="", help="screenplays to evaluate (names, comma-separated)")
    parser.add_argument("--save", type=Path, help="write every case's scores here (JSON) for later study")
    parser.add_argument("--load", type=Path, help="report from scores --save wrote, checking nothing")
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    only = {name for name in args.only.split(",") if name}
    results: list[Case] = []
    counts: dict[tuple[str, str], int] = {}
    throughput_set = None
    started = time.perf_counter()
    if args.load:
        results = [Case(**values) for values in json.loads(args.load.read_text())]
        sizes = list(dict.fromkeys(case.size for case in results))
        shots_of: dict[tuple[str, str], set[str]] = defaultdict(set)
        for case in results:
            shots_of[case.screenplay, case.size].add(case.shot)
        counts = {key: len(codes) for key, codes in shots_of.items()}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for size in sizes if not args.load else []:
            frame = tuple(int(n) for n in size.split("x"))
            loaded = {}
            for name, script, every in screenplays(only, args.big_fish_every):
                with production(work, name, script, every, frame) as made:  # type: ignore[arg-type]
                    loaded[name] = load_shots(made, name)
            for name, shots in loaded.items():
                pool = [s for other, group in loaded.items() if other != name for s in group]
                signatures = {s.code: signature(s.storyboard) for s in shots}
                prepared = intents(shots, pool, signatures)
                results += score(shots, prepared, size)
                counts[name, size] = len(shots)
                if name == "lantern_keepers" and size == "320x180":
                    throughput_set = (shots, prepared)
    elapsed = time.perf_counter() - started
    if args.save:
        args.save.write_text(json.dumps([asdict(case) for case in results]))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    done = (
        f"scores of {len(results)} takes read from {args.load}"
        if args.load
        else (f"{len(results)} takes checked in {elapsed:.0f} s")
    )
    print(f"# Intent checks: {done}; {machine}")
    print()
    print("| screenplay | " + " | ".join(f"shots at {s} (tuning / held-out)" for s in sizes) + " |")
    print("| --- | " + " | ".join("---:" for _ in sizes) + " |")
    for name in dict.fromkeys(c.screenplay for c in results):
        cells = []
        for size in sizes:
            halves = {
                h: len({c.shot for c in results if c.screenplay == name and c.size == size and c.half == h})
                for h in HALVES
            }
            cells.append(f"{counts.get((name, size), 0)} ({halves['tuning']} / {halves['held-out']})")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    limits = tune(results, Checks())
    missed = report(results, limits, Checks(), sizes)
    print()
    print(
        f"Targets on the held-out half (no false fails, <= 2% false warnings, >= 95% recall on every clear drift): "
        f"{'all met' if not missed else 'missed: ' + '; '.join(missed)}"
    )
    if throughput_set is not None:
        load = os.getloadavg()[0]
        rate, median_ms, cpu_ms = throughput(*throughput_set, limits)
        print()
        print(
            f"load average {load:.1f} on {os.cpu_count()} cores when timed (other work on the machine slows the figures)"
        )
        print()
        print("| figure | value | target |")
        print("| --- | --- | --- |")
        print(
            f"| all checks on a 1280x720 take, default embedder (compared at 160x90, characters at 320x180) "
            f"| {rate:.0f} takes/s ({median_ms:.1f} ms median) | >= 50 takes/s |"
        )
        print(
            f"| &nbsp;&nbsp;CPU time per take (all threads) | {cpu_ms:.1f} ms ({1000 / cpu_ms:.0f} takes per CPU second) | |"
        )


if __name__ == "__main__":
    main()
