"""Matching the scenes of a revised draft to the scenes a production already has.

A scene keeps its identity (and so its shots, layouts and takes) across drafts. Scenes are
matched, in this order, by scene number when both drafts carry one, by identical text, and
then by the similarity of heading and text, best pairs first, above a threshold.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from soundstage.script.model import Scene

# Below this combined similarity (0..1) a new scene is a different scene, not a revision.
MATCH_THRESHOLD = 0.6


@dataclass(frozen=True, slots=True)
class KnownScene:
    """A scene the production has: its id, production number, and text from its last draft."""

    id: int
    number: str
    heading: str
    body: str


@dataclass(slots=True)
class Matching:
    """For each scene of the new draft, the known scene it continues, if any."""

    matched: list[int | None]  # known scene id per new scene, None for an added scene
    changed: list[bool]  # per new scene: matched but its text differs
    removed: list[int] = field(default_factory=list)  # known scene ids absent from the new draft


def body_sha256(scene: Scene) -> str:
    """Hash of a scene's heading and printed text; equal hashes mean an unchanged scene."""
    return hashlib.sha256(f"{scene.heading}\n{scene.body_text()}".encode()).hexdigest()


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def match_scenes(known: list[KnownScene], scenes: list[Scene]) -> Matching:
    """Match the scenes of a new draft to the known scenes."""
    matched: list[int | None] = [None] * len(scenes)
    free = {k.id: k for k in known}
    by_number = {k.number: k for k in known}
    bodies = [f"{s.heading}\n{s.body_text()}" for s in scenes]

    for i, scene in enumerate(scenes):
        k = by_number.get(scene.number or "")
        if k is not None and k.id in free:
            matched[i] = free.pop(k.id).id

    by_text: dict[str, list[KnownScene]] = {}
    for k in free.values():
        by_text.setdefault(_norm(f"{k.heading}\n{k.body}"), []).append(k)
    for i, body in enumerate(bodies):
        if matched[i] is None:
            same = by_text.get(_norm(body))
            if same:
                matched[i] = same.pop(0).id
                del free[matched[i]]

    # The remaining scenes are compared pairwise; there are few of them in a real revision.
    pairs: list[tuple[float, int, int]] = []
    for i, scene in enumerate(scenes):
        if matched[i] is not None:
            continue
        for k in free.values():
            heading = fuzz.ratio(_norm(scene.heading), _norm(k.heading)) / 100
            text = fuzz.ratio(_norm(scene.body_text()), _norm(k.body)) / 100
            score = 0.3 * heading + 0.7 * text
            if score >= MATCH_THRESHOLD:
                pairs.append((score, i, k.id))
    for _score, i, kid in sorted(pairs, key=lambda p: -p[0]):
        if matched[i] is None and kid in free:
            matched[i] = kid
            del free[kid]

    known_by_id = {k.id: k for k in known}
    changed = [
        m is not None and _norm(f"{known_by_id[m].heading}\n{known_by_id[m].body}") != _norm(bodies[i])
        for i, m in enumerate(matched)
    ]
    return Matching(matched=matched, changed=changed, removed=sorted(free))


def number_scenes(numbers: list[str | None], taken: set[str]) -> list[str]:
    """Production numbers for a draft's scenes in order.

    ``numbers`` holds the number each scene already has (its matched scene's, or the one the
    script gives) and None where a scene needs one; ``taken`` the numbers held by other scenes
    (removed ones), which are never reused. A first draft without numbers gets 1, 2, 3...; a
    scene added later takes the number of the scene before it plus a letter (12 -> 12A -> 12B),
    as numbered scripts do once scene numbers are locked. A repeated number is renumbered so.
    """
    fresh = not taken and all(n is None for n in numbers)
    taken = set(taken)
    result: list[str] = []
    for i, number in enumerate(numbers):
        if number is None or number in taken:
            number = str(i + 1) if fresh else _after(result[-1] if result else "0", taken | set(numbers))
        taken.add(number)
        result.append(number)
    return result


def _after(base: str, taken: set[str | None]) -> str:
    """The first free number after ``base`` in letter order: 12 -> 12A, 12A -> 12B, 12Z -> 12ZA."""
    stem = base.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") or "0"
    letters = base[len(stem) :]
    prefix, start = (letters[:-1], ord(letters[-1]) + 1) if letters else ("", ord("A"))
    while True:
        for code in range(start, ord("Z") + 1):
            candidate = f"{stem}{prefix}{chr(code)}"
            if candidate not in taken:
                return candidate
        prefix, start = prefix + "Z", ord("A")
