"""The intent checks of a clip take, frame by frame and over time.

A clip is checked on a sample of its frames (``sampled_frames``: every n-th and the last), each
against the previs clip's frame of the same number: the per-frame checks (``check_take``'s, or
those of ``[checks] run``) run on each sampled frame, and their findings are merged into
findings that name the frames they are about (``Finding.frames``): "composition fail on frames
48-72". Three checks look across frames (``findings.TEMPORAL_CHECKS``), each against what the
previs clip itself does over the same frames, so that a blocked move or a blocked light change
is not held against the take:

- flicker: jumps in the picture's mean lightness and colour from one frame to the next (every
  frame, not only the sampled ones) beyond the previs clip's own jumps there;
- identity: how far each character's region (the embedder's vector of it) has moved from its
  look in the first sampled frame that shows it, beyond the previs clip's own change;
- motion: whether each sampled frame's edges meet the blocking of its own frame, or clearly
  better the blocking of another time of the shot: a move that runs backwards, or out of step.

Pure functions from pictures to findings, like the rest of the checks; reading the clips and
storing the findings live in project/checks.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import groupby

import numpy as np

from soundstage.checks import features
from soundstage.checks.drift import MeasuredTake
from soundstage.checks.findings import Finding, Verdict, crashed, finding, not_checked
from soundstage.checks.intent import ShotIntent
from soundstage.config import Checks

# The flicker check measures each frame's mean CIELAB at this size: the mean of a few hundred
# pixels is the mean of the picture, and shrinking 200 frames costs little.
TONE_SIZE = (32, 18)
# A jump in mean CIELAB (delta E) beyond the previs clip's own of this much scores 1. Lightness
# counts as much as colour: a take that pulses brighter and darker is what the eye catches first.
FLICKER_SCALE = 10.0
# Flagged jumps no further apart than this many frames are one flicker (a light that pulses
# every few frames), named as one frame range.
FLICKER_GAP = 12
# A sampled frame whose edges meet another time's blocking this much better than its own
# (relative) scores MOTION_GAIN times that: 10% better scores 0.4, as for the composition check.
MOTION_GAIN = 4.0


@dataclass(frozen=True, eq=False)
class ClipSample:
    """One sampled frame of a clip take: its number (from 0), the take's picture, the previs
    storyboard's picture of that frame, and the intent prepared from that frame's passes."""

    number: int
    take: np.ndarray
    storyboard: np.ndarray
    intent: ShotIntent


# What the per-frame checks are: a picture and its frame's intent, to findings.
FrameChecks = Callable[[np.ndarray, ShotIntent], list[Finding]]


def sampled_frames(count: int, every: int) -> list[int]:
    """The frames of a clip of ``count`` frames that are checked: every ``every``-th from the
    first, and the last."""
    if count < 1:
        return []
    return sorted({*range(0, count, max(1, every)), count - 1})


def frame_tone(frame: np.ndarray) -> np.ndarray:
    """A frame's mean CIELAB (L*, a*, b*), float32 (3,), for the flicker check."""
    small = features.resize(features.rgb(frame, "frame"), TONE_SIZE)
    return features.lab(small).reshape(-1, 3).mean(axis=0).astype(np.float32)


def check_clip(
    samples: Sequence[ClipSample],
    take_tones: np.ndarray,
    previs_tones: np.ndarray,
    limits: Checks,
    per_frame: FrameChecks,
) -> list[Finding]:
    """Every finding on a clip take: the per-frame checks on each sample, merged into frame
    ranges, then identity, motion and flicker (``take_tones`` and ``previs_tones``:
    ``frame_tone`` of every frame of the take and of the previs storyboard, the same count).
    A check in time with nothing to compare (a character never in frame) comes back not
    checked with its reason, as ``check_take``'s do."""
    if not samples:
        return []
    per_sample = [per_frame(s.take, s.intent) for s in samples]
    measured = [MeasuredTake(s.take, s.intent) for s in samples]
    blocked = [MeasuredTake(s.storyboard, s.intent) for s in samples]
    numbers = [s.number for s in samples]
    for row, found in zip(per_sample, identity(measured, blocked, samples, limits), strict=True):
        row += found
    return merged(numbers, per_sample) + motion(measured, samples, limits) + flicker(take_tones, previs_tones, limits)


def merged(numbers: Sequence[int], per_sample: Sequence[Sequence[Finding]]) -> list[Finding]:
    """Per-sample findings as findings over frame ranges: for each check and subject, each run
    of consecutive samples that warn or fail alike is one finding (the worst sample's score and
    reason) naming its first and last frame; a check and subject that never warned or failed is
    one finding over every sampled frame (its worst pass, or not checked when no sample was
    checked). A check that raised on any frame stays as it was, so that the take stays not
    checked."""
    order: dict[tuple[str, str], list[tuple[int, Finding]]] = {}
    for number, found in zip(numbers, per_sample, strict=True):
        for f in found:
            order.setdefault((f.check, f.subject), []).append((number, f))
    out: list[Finding] = []
    for series in order.values():
        broken = [f for _, f in series if crashed(f)]
        if broken:
            out.append(broken[0])
            continue
        runs = [list(run) for _, run in groupby(series, key=lambda pair: pair[1].verdict)]
        flagged = [run for run in runs if run[0][1].verdict in (Verdict.WARN, Verdict.FAIL)]
        for run in flagged:
            out.append(replace(_worst(run), frames=(run[0][0], run[-1][0])))
        if not flagged:
            checked = [pair for pair in series if pair[1].verdict is Verdict.PASS] or series
            out.append(replace(_worst(checked), frames=(series[0][0], series[-1][0])))
    return out


def _worst(run: Sequence[tuple[int, Finding]]) -> Finding:
    return max(run, key=lambda pair: pair[1].score)[1]


# -- flicker --------------------------------------------------------------------------------


def flicker(take_tones: np.ndarray, previs_tones: np.ndarray, limits: Checks) -> list[Finding]:
    """Jumps in mean lightness and colour between consecutive frames of the take beyond the
    previs clip's own jumps at those frames: one finding per flickering stretch, or one pass."""
    count = min(len(take_tones), len(previs_tones))
    if count < 2:
        return [not_checked("flicker", "", "a clip of one frame cannot flicker; not checked")]
    take_jumps = np.linalg.norm(np.diff(take_tones[:count], axis=0), axis=1)
    blocked_jumps = np.linalg.norm(np.diff(previs_tones[:count], axis=0), axis=1)
    scores = np.clip((take_jumps - blocked_jumps) / FLICKER_SCALE, 0, 1)
    # Jump i is between frames i and i + 1.
    marked = np.flatnonzero(scores >= limits.flicker.warn)
    if not len(marked):
        worst = int(np.argmax(scores))
        reason = f"no flicker: lightness and colour change from frame to frame as the blocking's do (largest jump ΔE {take_jumps[worst]:.1f})"
        return [finding(limits, "flicker", "", float(scores[worst]), reason, (0, count - 1))]
    stretches = np.split(marked, np.flatnonzero(np.diff(marked) > FLICKER_GAP) + 1)
    out = []
    for jumps in stretches:
        worst = int(jumps[np.argmax(scores[jumps])])
        reason = (
            f"the picture flickers: {len(jumps)} jump(s) in lightness or colour the blocking does not have "
            f"(up to ΔE {take_jumps[worst]:.1f}, the blocking's {blocked_jumps[worst]:.1f})"
        )
        out.append(finding(limits, "flicker", "", float(scores[worst]), reason, (int(jumps[0]), int(jumps[-1]) + 1)))
    return out


# -- identity -------------------------------------------------------------------------------


def identity(
    measured: Sequence[MeasuredTake], blocked: Sequence[MeasuredTake], samples: Sequence[ClipSample], limits: Checks
) -> list[list[Finding]]:
    """Per sample, each character's change of look from the first sample that shows it large
    enough: 1 - the likeness of its region's embeddings, less the previs clip's own change."""
    out: list[list[Finding]] = [[] for _ in measured]
    intents = [s.intent for s in samples]
    names = [c.name for c in intents[0].characters] if intents else []
    keep = _identity_blocks(intents[0].embedder) if intents else None
    for name in names:
        first: int | None = None
        for k, intent in enumerate(intents):
            target = next((c for c in intent.characters if c.name == name), None)
            if target is None or target.alpha is None:
                out[k].append(
                    not_checked("identity", name, f"{name} is not in frame or too small to judge; not checked")
                )
                continue
            if first is None:
                first = k
            likeness = _likeness(measured[k].embeddings[name], measured[first].embeddings[name], keep)
            blocked_likeness = _likeness(blocked[k].embeddings[name], blocked[first].embeddings[name], keep)
            score = max(0.0, blocked_likeness - likeness)
            if score >= limits.identity.warn:
                reason = (
                    f"{name} changes colour or texture since frame {samples[first].number} "
                    f"(likeness {likeness:.2f}, the blocking's {blocked_likeness:.2f})"
                )
            else:
                reason = f"{name} keeps their colours and texture across the clip (likeness {likeness:.2f} or more)"
            out[k].append(finding(limits, "identity", name, score, reason))
    return out


def _identity_blocks(embedder: object) -> list[slice] | None:
    """The blocks of an embedder with blocks that say who a character is: all but lightness,
    which the light of the shot changes (the flicker check looks at light); None: the whole
    vector (a model embedder)."""
    blocks = getattr(embedder, "blocks", None)
    if not blocks or len(blocks) != len(features.APPEARANCE_WEIGHTS):
        return None
    lightness = list(features.APPEARANCE_WEIGHTS).index("lightness")
    return [block for number, block in enumerate(blocks) if number != lightness]


def _likeness(one: np.ndarray, other: np.ndarray, blocks: list[slice] | None) -> float:
    """The cosine of two embeddings, or over ``blocks`` only, scaled back to run to 1."""
    if blocks is None:
        return float(one @ other)
    together = sum(float(one[b] @ other[b]) for b in blocks)
    most = sum(float(np.sqrt((one[b] @ one[b]) * (other[b] @ other[b]))) for b in blocks)
    return together / max(most, 1e-6)


# -- motion ---------------------------------------------------------------------------------


def motion(measured: Sequence[MeasuredTake], samples: Sequence[ClipSample], limits: Checks) -> list[Finding]:
    """Whether each sample's edges meet the blocking of its own frame, or clearly better that of
    another sampled frame, merged into frame ranges: a stretch of the take that shows the
    blocking's later frames (ahead of it), earlier ones (behind), or its frames in reverse order
    (the move runs backwards)."""
    edges = [m.structure * s.intent.window for m, s in zip(measured, samples, strict=True)]
    match = np.array([[float(np.sum(features.normalised(e) * s.intent.structure)) for s in samples] for e in edges])
    shown = [samples[_best_time(match, k)].number for k in range(len(samples))]
    per_sample = []
    for k, sample in enumerate(samples):
        score = MOTION_GAIN * max(0.0, float(np.max(match[k])) / max(float(match[k, k]), 0.05) - 1)
        reason = f"frame {sample.number} keeps to the blocking's timing and direction"
        per_sample.append([finding(limits, "motion", "", score, reason)])
    numbers = [s.number for s in samples]
    out = []
    for found in merged(numbers, per_sample):
        if found.verdict in (Verdict.WARN, Verdict.FAIL) and found.frames is not None:
            first, last = found.frames
            run = [(n, m) for n, m in zip(numbers, shown, strict=True) if first <= n <= last]
            found = replace(found, reason=_moved(run))
        elif found.verdict is Verdict.PASS:
            found = replace(found, reason="the move keeps to the blocking's timing and direction")
        out.append(found)
    return out


def _moved(run: Sequence[tuple[int, int]]) -> str:
    """What a stretch of (take frame, blocking frame it shows) says, in words."""
    (first, start), (last, end) = run[0], run[-1]
    shows = f"the blocking's frame {start}" if start == end else f"the blocking's frames {start}-{end}"
    if len(run) > 1 and end < start:
        return f"the move runs backwards: frames {first}-{last} show {shows}"
    where = "ahead of" if all(m > n for n, m in run) else "behind" if all(m < n for n, m in run) else "out of step with"
    frames = f"frame {first} shows" if first == last else f"frames {first}-{last} show"
    return f"the move runs {where} the blocking: {frames} {shows}"


def _best_time(match: np.ndarray, k: int) -> int:
    """The sample whose blocking sample ``k``'s edges meet best; among equally good ones (a
    blocking that holds still) the nearest to ``k``, so that a held pose is its own time."""
    return max(range(len(match)), key=lambda n: (round(float(match[k, n]), 4), -abs(n - k)))
