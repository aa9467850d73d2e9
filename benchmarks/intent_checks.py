"""The intent checks on the project's own previs takes with known drifts: recall, false flags,
ROC AUC per check and drift strength, and the checks' throughput on a 1280x720 take.

Run: .venv/bin/python benchmarks/intent_checks.py [--size 320x180] [--production DIR]
Prints markdown tables for docs/benchmarks.md.

The evaluation set: examples/lantern_keepers.fountain made up to previs (all 14 scenes) at
--size; each shot's storyboard is its previs take. Its intent: the shot's own line art, depth
and id passes; each character's reference sheet is its stand-in cropped (with the id pass as
alpha) from the OTHER shot where it is largest; the style references are four storyboards of
other scenes; the neighbours are the takes of up to two shots either side in the same scene;
the others are the takes of every other shot.

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

Clean takes, which every check must pass: the take itself, with noise (sigma 4), JPEG at
quality 70, and a 2-3% crop scaled back.

A drift counts only where it changes what it drifts: a recolour or swap needs the characters
in frame at a size the checks judge and a sheet from another shot; a composition drift must
move the blocking's own line art by more than the 3% of jitter the check allows (a sideways
shift of a plain wall insert changes nothing); continuity needs neighbouring shots; a
duplicate comes from a shot that is not blocked the same. The rest are counted apart (with
the share of them flagged all the same).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
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
from soundstage.config import Checks
from soundstage.make import make, open_or_init
from soundstage.project import Production
from soundstage.render.previs import read_png
from soundstage.store.db import session_scope
from soundstage.store.tables import CharacterRow, RenderRow, ShotRow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "lantern_keepers.fountain"
SEED = 7
THROUGHPUT_SIZE = (1280, 720)
THROUGHPUT_TAKES = 300
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


@dataclass
class Shot:
    """One shot of the evaluation set: its passes and the characters in its frame."""

    code: str
    scene: str
    storyboard: np.ndarray
    lineart: np.ndarray
    depth: np.ndarray
    ids: np.ndarray
    cast: dict[str, int] = field(default_factory=dict)  # name -> mask id, characters in frame


@dataclass
class Case:
    """One take of the set: clean, or a drift of a kind and strength."""

    shot: str
    kind: str  # "clean" or a TARGET key
    strength: str  # "clean", "mild", "clear"
    eligible: bool
    scores: dict[str, float] = field(default_factory=dict)  # check -> worst score
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # check -> worst verdict


def load_shots(production: Production) -> list[Shot]:
    """Every rendered shot with its passes, read from the media store."""
    with session_scope(production.engine) as session:
        names = {r.mask_id: r.name for r in session.scalars(select(CharacterRow))}
        rows = session.execute(
            select(ShotRow.code, RenderRow).join(RenderRow, RenderRow.shot_id == ShotRow.id).order_by(ShotRow.code)
        ).all()
        shots = []
        for code, render in rows:
            passes = {
                name: read_png(production.media.path(getattr(render, f"{name}_sha256"), ".png"))
                for name in ("storyboard", "lineart", "depth", "ids")
            }
            ids = passes["ids"]
            present = [int(i) for i in np.unique(ids) if i]
            shots.append(
                Shot(code, code.split("_")[0], **passes, cast={names[i]: i for i in present if i in names})  # type: ignore[arg-type]
            )
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
            candidates = sorted((a, s.code, s) for a, s in areas[name] if s.code != shot.code)
            if not candidates:
                continue
            source = candidates[-1][2]
            mask = source.ids == source.cast[name]
            rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            crop = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
            sheets[shot.code, name] = np.dstack([source.storyboard[crop], mask[crop].astype(np.uint8) * 255])
    return sheets


def style_references(shots: list[Shot], scene: str) -> list[np.ndarray]:
    """Four storyboards of other scenes: two with characters, two of the set alone, spread
    over the script."""
    others = [s for s in shots if s.scene != scene]
    with_cast = [s for s in others if s.cast]
    empty = [s for s in others if not s.cast]
    picks = [with_cast[len(with_cast) // 4], with_cast[3 * len(with_cast) // 4]]
    picks += [empty[len(empty) // 3], empty[2 * len(empty) // 3]]
    return [s.storyboard for s in picks]


def neighbours(shots: list[Shot], index: int) -> list[tuple[str, np.ndarray]]:
    """The takes of up to two shots either side of shots[index] in its scene."""
    scene = shots[index].scene
    near = [shots[i] for i in range(max(0, index - 2), min(len(shots), index + 3)) if i != index]
    return [(s.code + "/1", s.storyboard) for s in near if s.scene == scene]


def intents(shots: list[Shot], signatures: dict[str, TakeSignature]) -> dict[str, ShotIntent]:
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
            style_references(shots, shot.scene),
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


def cases(shots: list[Shot], rng: np.random.Generator) -> list[tuple[Case, np.ndarray]]:
    """Every take of the evaluation set with what it is."""
    made: list[tuple[Case, np.ndarray]] = []
    layouts = {s.code: np.array(signature(s.storyboard).layout) for s in shots}
    for index, shot in enumerate(shots):
        take = shot.storyboard
        made += [
            (Case(shot.code, "clean", "clean", True), image)
            for image in (take, noise(take, rng), jpeg(take), crop(take, rng.uniform(0.02, 0.03), rng))
        ]
        made += character_drifts(shot, shots)
        side = 1 if rng.uniform() < 0.5 else -1
        moves = [
            ("shift", "mild", partial(shift, fraction=0.05 * side)),
            ("shift", "clear", partial(shift, fraction=0.12 * side)),
            ("crop", "mild", partial(crop, fraction=0.10)),
            ("crop", "clear", partial(crop, fraction=0.25)),
            ("mirror", "clear", mirror),
        ]
        made += [
            (Case(shot.code, kind, strength, moves_lineart(shot, move)), move(take)) for kind, strength, move in moves
        ]
        has_neighbours = any(s.scene == shot.scene for s in shots[max(0, index - 2) : index + 3] if s is not shot)
        made += [
            (Case(shot.code, "night", "mild", has_neighbours), night(take, 0.5)),
            (Case(shot.code, "night", "clear", has_neighbours), night(take, 1.0)),
            (Case(shot.code, "posterise", "mild", True), posterise(take, 3)),
            (Case(shot.code, "posterise", "clear", True), posterise(take, 2)),
            (Case(shot.code, "palette", "mild", True), palette(take, 0.4)),
            (Case(shot.code, "palette", "clear", True), palette(take, 1.0)),
        ]
        unlike = [s for s in shots if float(layouts[s.code] @ layouts[shot.code]) < 0.9]
        source = unlike[rng.integers(len(unlike))].storyboard
        made += [
            (Case(shot.code, "duplicate", "mild", True), crop(jpeg(noise(source, rng)), 0.02, rng)),
            (Case(shot.code, "duplicate", "clear", True), source.copy()),
        ]
    return made


def character_drifts(shot: Shot, shots: list[Shot]) -> list[tuple[Case, np.ndarray]]:
    """The first character (by name) recoloured, and the first two swapped, where the checks
    can judge them (big enough in frame, a reference sheet from another shot)."""
    size = features.analysis_size(shot.ids.shape[1], shot.ids.shape[0])
    masks = {name: shot.ids == mask_id for name, mask_id in sorted(shot.cast.items())}
    judged = {
        name: mask for name, mask in masks.items() if (features.resize(mask.astype(np.float32), size) > 0.5).sum() >= 40
    }
    sheet = {name for name in judged if any(s.code != shot.code and name in s.cast for s in shots)}
    made = []
    if judged:
        name, mask = next(iter(judged.items()))
        made += [
            (Case(shot.code, "recolour", "mild", name in sheet), recolour(shot.storyboard, mask, 30)),
            (Case(shot.code, "recolour", "clear", name in sheet), recolour(shot.storyboard, mask, 90)),
        ]
    if len(judged) >= 2:
        first, second = list(judged)[:2]
        counted = {first, second} <= sheet
        made += [
            (Case(shot.code, "swap", "mild", counted), swap(shot.storyboard, judged[first], judged[second], 0.5)),
            (Case(shot.code, "swap", "clear", counted), swap(shot.storyboard, judged[first], judged[second], 1.0)),
        ]
    return made


# -- scoring --------------------------------------------------------------------------------

ORDER = (Verdict.PASS, Verdict.WARN, Verdict.FAIL)


def run(made: list[tuple[Case, np.ndarray]], prepared: dict[str, ShotIntent], limits: Checks) -> list[Case]:
    """Check every take; each case keeps, per check, its worst score and verdict."""
    for case, image in made:
        for found in check_take(image, prepared[case.shot], limits):
            if found.score >= case.scores.get(found.check, -1):
                case.scores[found.check] = found.score
            worst = case.verdicts.get(found.check, Verdict.PASS)
            case.verdicts[found.check] = max(worst, found.verdict, key=ORDER.index)
    return [case for case, _ in made]


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


def flagged(case: Case, check: str, level: Verdict = Verdict.WARN) -> bool:
    """Whether the check's worst verdict on the case is at ``level`` or worse."""
    return ORDER.index(case.verdicts.get(check, Verdict.PASS)) >= ORDER.index(level)


def report(results: list[Case], limits: Checks) -> list[str]:
    """Print the tables; the clear drifts where 95% recall at <= 5% false flags does not hold."""
    clean = [c for c in results if c.kind == "clean"]
    print("| check | limits (warn / fail) | false flags on clean takes (warn or fail) | of which fail |")
    print("| --- | --- | ---: | ---: |")
    false_flags = {}
    for check in CHECKS:
        rate = np.mean([flagged(c, check) for c in clean])
        fails = np.mean([flagged(c, check, Verdict.FAIL) for c in clean])
        false_flags[check] = rate
        lim = getattr(limits, check)
        print(f"| {check} | {lim.warn:g} / {lim.fail:g} | {rate:.1%} of {len(clean)} | {fails:.1%} |")
    anything = np.mean([any(flagged(c, check) for check in CHECKS) for c in clean])
    failing = np.mean([any(flagged(c, check, Verdict.FAIL) for check in CHECKS) for c in clean])
    print(f"| any check | | {anything:.1%} of {len(clean)} | {failing:.1%} |")
    print()
    print(
        "| drift | strength | check | takes | recall (warn or fail) | recall (fail) | ROC AUC vs clean "
        "| not counted (of them flagged) |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    short = []
    for kind, check in TARGET.items():
        negatives = [c.scores.get(check, 0.0) for c in clean]
        for strength in ("mild", "clear"):
            group = [c for c in results if c.kind == kind and c.strength == strength]
            if not group:
                continue
            counted = [c for c in group if c.eligible]
            apart = [c for c in group if not c.eligible]
            apart_flagged = f" ({np.mean([flagged(c, check) for c in apart]):.0%})" if apart else ""
            recall = np.mean([flagged(c, check) for c in counted])
            recall_fail = np.mean([flagged(c, check, Verdict.FAIL) for c in counted])
            area = auc([c.scores.get(check, 0.0) for c in counted], negatives)
            if strength == "clear" and (recall < 0.95 or false_flags[check] > 0.05):
                short.append(f"{kind} ({recall:.1%} recall, {false_flags[check]:.1%} false flags)")
            print(
                f"| {kind} | {strength} | {check} | {len(counted)} | {recall:.1%} | {recall_fail:.1%} | {area:.3f} "
                f"| {len(apart)}{apart_flagged} |"
            )
    return short


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
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--production", type=Path, help="an existing production of the example, made to previs")
    args = parser.parse_args()
    size = tuple(int(n) for n in args.size.split("x"))
    limits = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.production or Path(tmp) / "production"
        production = open_or_init(root)
        if not production.shots():
            make(EXAMPLE, Path(tmp) / "out", production, size=size, until="previs")  # type: ignore[arg-type]
        shots = load_shots(production)
        production.close()
    signatures = {s.code: signature(s.storyboard) for s in shots}
    started = time.perf_counter()
    prepared = intents(shots, signatures)
    prepare_ms = (time.perf_counter() - started) * 1000 / len(shots)
    made = cases(shots, np.random.default_rng(SEED))
    results = run(made, prepared, limits)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"# {EXAMPLE.name}: {len(shots)} shots, previs takes at {args.size}, {len(results)} takes checked; {machine}")
    print()
    print("Flagged: a warn or fail verdict. Recall counts the drifts that change what they drift (see the")
    print("module docstring); the others are in 'not counted'. Limits are the defaults of [checks].")
    print()
    short = report(results, limits)
    print()
    verdict = "yes" if not short else "all but " + ", ".join(short)
    print(f"95% recall at <= 5% false flags on every clear drift: {verdict}")
    print()
    load = os.getloadavg()[0]
    rate, median_ms, cpu_ms = throughput(shots, prepared, limits)
    print(f"load average {load:.1f} on {os.cpu_count()} cores when timed (other work on the machine slows the figures)")
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
    print(f"| preparing a shot's intent (once per shot, {len(shots) - 1} other takes) | {prepare_ms:.1f} ms | |")


if __name__ == "__main__":
    main()
