"""Framing checks on a rendered shot: is every expected character in frame, with headroom?

They read the rendered character ids (and, in an OTS, depth), so they judge what the camera
actually sees after layout and any artist edits, not what the shot list intended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soundstage.render.previs import Passes

# Below this share of the frame a character is as good as absent, in any shot size.
MIN_SHARE = 0.005
# Closer sizes frame a subject large; a subject smaller than this share is framed wrong.
MIN_SHARE_BY_SIZE = {"ECU": 0.05, "CU": 0.03, "MCU": 0.03}
# Sizes that frame people from the head down: the head must not touch the top of frame. In an
# OTS the character whose shoulder we look over is nearest the camera and is often cut by the
# frame, so the rule skips the nearest character there.
HEADROOM_SIZES = frozenset({"CU", "MCU", "MS", "OTS", "2S"})
# In a CU the top of the head sits high in frame; lower than this fraction of the frame
# height leaves too much headroom.
CU_MAX_HEAD_TOP = 0.35


@dataclass(frozen=True)
class FramingIssue:
    """One framing problem of one character, said so a person understands it."""

    character: str
    reason: str


def check_framing(passes: Passes, expected: dict[str, int], size: str) -> list[FramingIssue]:
    """Framing issues of the expected characters (name -> characterId) in a shot of ``size``
    (a shot size such as "CU" or "WS"), in the order of ``expected``; empty when all is well."""
    ids = passes.ids
    height = ids.shape[0]
    shares = np.bincount(ids.reshape(-1), minlength=256) / ids.size
    needed = MIN_SHARE_BY_SIZE.get(size, MIN_SHARE)
    shoulder = _nearest(passes, [i for i in expected.values() if shares[i] >= needed]) if size == "OTS" else None
    issues = []
    for name, character_id in expected.items():
        share = shares[character_id]
        if share < needed:
            if share == 0:
                what = "is not in frame"
            elif share < MIN_SHARE:
                what = "is barely in frame"
            else:
                what = f"is too small for a {size}"
            issues.append(FramingIssue(name, f"{name} {what} ({share:.1%} of the frame, needs {needed:.1%})"))
            continue
        if size not in HEADROOM_SIZES or character_id == shoulder:
            continue
        head_top = int(np.argmax((ids == character_id).any(axis=1)))
        if head_top == 0:
            issues.append(FramingIssue(name, f"no headroom: {name}'s head touches the top of frame"))
        elif size == "CU" and head_top > CU_MAX_HEAD_TOP * height:
            issues.append(
                FramingIssue(
                    name,
                    f"too much headroom: {name}'s head starts {head_top / height:.0%} down the frame "
                    f"(a CU wants it in the top {CU_MAX_HEAD_TOP:.0%})",
                )
            )
    return issues


def _nearest(passes: Passes, character_ids: list[int]) -> int | None:
    """Of two or more characters in frame, the one nearest the camera (brightest mean depth)."""
    if len(character_ids) < 2:
        return None
    ids = passes.ids.reshape(-1)
    depth_sums = np.bincount(ids, weights=passes.depth.reshape(-1), minlength=256)
    pixels = np.bincount(ids, minlength=256)
    return max(character_ids, key=lambda i: depth_sums[i] / pixels[i])
