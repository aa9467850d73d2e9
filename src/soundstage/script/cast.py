"""Who speaks in a scene: the cue names of its dialogue, joint cues credited to each speaker.

A cue names one character (``EDWARD (V.O.)`` is EDWARD), several at once (``MAISIE AND
FUSE``, ``DAN & JACK``, ``MR. AND MRS. PARK``: each is credited), or the characters present
(``BOTH``, ``ALL``, ``EVERYONE``). ``BOTH`` is the two characters present when the scene has
two, else the last two who spoke before it; ``ALL`` is every character present. A cue that
cannot be resolved (``BOTH`` alone in a scene) is kept as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from soundstage.script.model import Element, Kind
from soundstage.script.vocabulary import JOINT_CUES

_JOINER = re.compile(r"\s+(?:AND|&)\s+|\s*/\s*|\s*,\s*(?:AND\s+)?|\s+&|&\s+")
_TITLE = re.compile(r"^(?:MRS?|MS|DR)\.?$")
_GROUP = re.compile(r"^ALL(?:\s+\w+)?$")  # ALL, ALL THREE, ALL FOUR


def cue_name(cue: str) -> str:
    """A cue name as one form: capitals, single spaces, no dual-dialogue or forcing marks."""
    return " ".join(cue.strip("@^ ").upper().split())


@lru_cache(maxsize=4096)
def names_in_cue(cue: str) -> tuple[str, ...]:
    """The characters a cue names: one, or each of a joint cue (MR. AND MRS. PARK gives
    MR. PARK and MRS. PARK). A cue for the characters present (BOTH) gives itself."""
    name = cue_name(cue)
    if is_group(name):
        return (name,)
    parts = [p for p in _JOINER.split(name) if p]
    if len(parts) < 2:
        return (name,)
    surname = parts[-1].rsplit(" ", 1)[-1]
    return tuple(f"{p} {surname}" if _TITLE.match(p) else p for p in parts)


def is_group(name: str) -> bool:
    """BOTH, ALL, ALL THREE, EVERYONE, TOGETHER: a cue for the characters present."""
    return name in JOINT_CUES or bool(_GROUP.match(name))


def speakers(elements: Iterable[Element], present: Iterable[str]) -> tuple[str, ...]:
    """The characters with a line in the scene, in order of their first line.

    ``present`` are the script's characters seen in the scene without a line, which ``BOTH``
    and ``ALL`` may stand for.
    """
    order: dict[str, None] = {}  # individual speakers and group cues, in order of first line
    before: dict[str, list[str]] = {}  # group cue -> the individual speakers before it, latest last
    spoken: list[str] = []
    for element in elements:
        if element.kind not in (Kind.DIALOGUE, Kind.LYRICS) or not element.character:
            continue
        for name in names_in_cue(element.character):
            if is_group(name):
                before.setdefault(name, list(spoken))
            else:
                spoken.append(name)
            order[name] = None
    individuals = [n for n in order if n not in before]
    everyone = list(dict.fromkeys([*individuals, *present]))
    resolved: dict[str, None] = {}
    for name in order:
        if name not in before:
            resolved[name] = None
            continue
        if name == "BOTH":
            latest = list(dict.fromkeys(reversed(before[name])))[:2]
            group = everyone if len(everyone) == 2 else latest if len(latest) == 2 else []
        else:
            group = everyone if len(everyone) >= 2 else []
        for member in group or [name]:
            resolved[member] = None
    return tuple(resolved)
