"""``blank``: an example intent check for Soundstage.

Flags a take that is (nearly) one flat colour: what a backend that failed quietly leaves (a
black frame, a grey one). The score is 1 less the spread of the take's lightness against a
softly lit frame's: 0 for a take with the contrast of real pictures, 1 for a flat one. Turn it
on with ``[checks] run = ["drift", "blank"]``; its limits are ``[checks.blank]`` ``warn`` and
``fail`` (defaults 0.8 and 0.95).
"""

from __future__ import annotations

import numpy as np

from soundstage.checks.findings import Finding, verdict
from soundstage.checks.intent import ShotIntent
from soundstage.config import Checks, Limits

NAME = "blank"
# The lightness spread (standard deviation, 0..255) at and above which a frame is not blank: a
# flat-lit storyboard frame is well above it, a black or grey frame well below.
SPREAD = 24.0


def check(image: np.ndarray, intent: ShotIntent, settings: Checks) -> list[Finding]:
    """The entry point: one finding on the whole frame."""
    limits = Limits(**{"warn": 0.8, "fail": 0.95, **settings.options(NAME)})
    lightness = image[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    spread = float(lightness.std())
    score = round(1.0 - min(1.0, spread / SPREAD), 4)
    reason = f"lightness spread {spread:.1f} of 255" + (
        ": the frame is (nearly) one flat colour" if score >= limits.warn else ""
    )
    return [Finding(NAME, "", score, verdict(score, limits), reason)]
