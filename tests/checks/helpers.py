"""What the intent-check tests share: a rendered shot's passes, reference sheets cropped from
the example, and the drifts a take is given (the same kinds as benchmarks/intent_checks.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from soundstage.checks import Finding, ShotIntent, Verdict

IntentOf = Callable[..., ShotIntent]


@dataclass(frozen=True, eq=False)
class ShotPasses:
    """One rendered shot: its previs passes and the characters in its frame (name -> mask id)."""

    code: str
    size: str  # the shot size as planned or edited ("WS", "MCU", "INSERT", ...)
    storyboard: np.ndarray
    lineart: np.ndarray
    depth: np.ndarray
    ids: np.ndarray
    cast: dict[str, int]

    @property
    def scene(self) -> str:
        return self.code.split("_")[0]


WIDE_SIZES = ("EWS", "WS")


def wides(shots: dict[str, ShotPasses], scene: str) -> list[str]:
    """The wide and establishing shots of a scene, by what the shot list says, not by code."""
    return [code for code, shot in shots.items() if shot.scene == scene and shot.size in WIDE_SIZES]


def shot_of(shots: dict[str, ShotPasses], names: set[str]) -> str:
    """The shot that shows exactly these characters, where they are largest together: tests name
    a shot by what it shows, so a change of the plan's numbering cannot change what they test."""
    found = [s for s in shots.values() if set(s.cast) == names]
    assert found, f"no shot shows exactly {sorted(names)}"
    return max(found, key=lambda s: int(np.isin(s.ids, list(s.cast.values())).sum())).code


def reference_sheet(shots: dict[str, ShotPasses], name: str, besides: str) -> np.ndarray:
    """``name``'s stand-in cropped (RGBA, the id pass as alpha) from the shot other than
    ``besides`` where it is largest: a reference sheet the example's bible does not have."""
    area, source = max(
        (int(np.sum(s.ids == s.cast[name])), s.code) for s in shots.values() if name in s.cast and s.code != besides
    )
    shot = shots[source]
    mask = shot.ids == shot.cast[name]
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
    return np.dstack([shot.storyboard[crop], mask[crop].astype(np.uint8) * 255])


def of(findings: list[Finding], check: str, subject: str = "") -> Finding:
    """The one finding of ``check`` about ``subject``."""
    (found,) = [f for f in findings if f.check == check and f.subject == subject]
    return found


def flagged(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.verdict != Verdict.PASS]


def jpeg(image: np.ndarray, quality: int = 70) -> np.ndarray:
    _, data = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1]


def noisy(image: np.ndarray, sigma: float = 4.0) -> np.ndarray:
    noise = np.random.default_rng(1).normal(0, sigma, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def shifted(image: np.ndarray, fraction: float) -> np.ndarray:
    """The picture moved right by ``fraction`` of the width (left when negative)."""
    height, width = image.shape[:2]
    matrix = np.array([[1, 0, fraction * width], [0, 1, 0]], np.float32)
    return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def hue_turned(image: np.ndarray, mask: np.ndarray, degrees: int) -> np.ndarray:
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(int) + degrees // 2) % 180
    out = image.copy()
    out[mask] = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[mask]
    return out


def relit_as_night(image: np.ndarray) -> np.ndarray:
    return (image * np.array([0.3, 0.38, 0.65])).astype(np.uint8)


def duotone(image: np.ndarray) -> np.ndarray:
    """Lightness mapped from deep violet to amber: another palette."""
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None] / 255
    return (np.array([45, 20, 90]) + luma * np.array([210, 176, 20])).astype(np.uint8)


def posterised(image: np.ndarray, levels: int = 2) -> np.ndarray:
    """Each channel rounded to ``levels`` levels (2: every pixel black, white or a pure primary
    or secondary colour)."""
    step = 255 / (levels - 1)
    return (np.round(image / step) * step).astype(np.uint8)
