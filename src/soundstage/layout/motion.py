"""Blocking in time: what moves in a shot, and when, in frames at the production's rate.

A shot's motion is three lists a person can read and change:

* ``CharacterMove``: a character enters, exits, crosses, sits, stands or turns, from one
  place on the floor to another over a range of frames, with the script line it was read
  from ("MAISIE crosses to the counter (line 112), frames 0-36");
* ``Look``: a character's head turns to whoever speaks;
* ``CameraMotion``: the camera performs the shot list's move (``plan.model.Move``), seeded.

``layout.action`` derives them from the lines a shot covers, ``layout.camera_moves`` turns
the camera's into one ``CameraSetup`` per frame, and ``layout.animation`` writes all of it as
USD time samples. This module holds the values and the arithmetic they share: frame numbers
at a rate, and where a figure stands and faces at any frame (``FigureKeys``), so the writer,
the head turns and the camera that follows a character all agree.

Frames are numbered from 0 to ``frames - 1``; a USD time code is the frame number. Rates are
``Fraction`` (``24``, ``Fraction(24000, 1001)``), so NTSC rates are exact.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from soundstage.layout.framing import KNEES, WAIST, Mark
from soundstage.plan.model import Move

# A seated stand-in is a standing one lowered until its hips are at chair height: the stand-in
# is rigid, and the lowered figure reads as seated from the knees up (the floor hides the rest).
SIT_DROP = WAIST - KNEES  # fraction of the figure's height
TURN_FRAMES_S = 0.25  # seconds a body takes to turn towards where it goes
HEAD_LIMIT = 80.0  # degrees a head turns from the body's facing, at most


def frame_rate(fps: int | float | Fraction | str) -> Fraction:
    """A frame rate as an exact fraction: 24 -> 24, "24000/1001" -> 24000/1001, and a float
    such as 23.976 or 29.97 to the NTSC rate it stands for."""
    rate = Fraction(fps)
    if isinstance(fps, float):
        # A float rate is either whole (25.0) or an NTSC rate written short (23.976, 29.97).
        ntsc = round(fps * 1.001)
        near_ntsc = not fps.is_integer() and abs(fps - ntsc * 1000 / 1001) < 0.005
        rate = Fraction(ntsc * 1000, 1001) if near_ntsc else Fraction(fps).limit_denominator(1001)
    if rate <= 0:
        raise ValueError(f"a frame rate must be positive, got {fps!r}")
    return rate


def frames_at(seconds: float, rate: Fraction) -> int:
    """Whole frames in ``seconds`` at ``rate``, rounded to the nearest."""
    return round(seconds * rate)


class Verb(StrEnum):
    """What a character does in a move, as the action line says it."""

    ENTERS = "enters"
    EXITS = "exits"
    CROSSES = "crosses"
    SITS = "sits"
    STANDS = "stands"
    TURNS = "turns"


@dataclass(frozen=True, slots=True)
class CharacterMove:
    """One move of one character: from ``start`` to ``end`` over ``start_frame``..``end_frame``.

    ``start`` and ``end`` are marks (where the feet are, which way the body faces at that
    moment); ``towards`` says where it goes as a reader would ("to the counter", "to JUNO",
    "along the wet boards"; empty for an entrance, an exit, sitting and standing); ``line`` is the source line of the action it was read from (0 when a
    person wrote the move)."""

    character: str
    verb: Verb
    start: Mark
    end: Mark
    start_frame: int
    end_frame: int
    line: int = 0
    towards: str = ""

    def describe(self) -> str:
        """One line for a person: ``MAISIE crosses to the counter (line 112), frames 0-36``."""
        where = f" {self.towards}" if self.towards else ""
        source = f" (line {self.line})" if self.line else ""
        return f"{self.character} {self.verb.value}{where}{source}, frames {self.start_frame}-{self.end_frame}"


@dataclass(frozen=True, slots=True)
class Look:
    """A character's head turning to ``at`` (a character, usually whoever speaks), standing
    at floor point (``x``, ``z``) then, from ``start_frame`` to ``end_frame``, then held."""

    character: str
    at: str
    x: float
    z: float
    start_frame: int
    end_frame: int
    line: int = 0

    def describe(self) -> str:
        """One line for a person: ``JUNO looks at MAISIE (line 70), frames 12-18``."""
        source = f" (line {self.line})" if self.line else ""
        return f"{self.character} looks at {self.at}{source}, frames {self.start_frame}-{self.end_frame}"


@dataclass(frozen=True, slots=True)
class CameraMotion:
    """How the camera performs the shot list's move; ``follow`` names the character a
    track or pan keeps in frame ("" for the move's own path); ``seed`` drives handheld noise."""

    move: Move = Move.STATIC
    seed: int = 0
    follow: str = ""

    def describe(self) -> str:
        """One line for a person: ``camera: track with MAISIE`` or ``camera: push-in``."""
        if self.move is Move.STATIC:
            return "camera: static"
        with_whom = f" with {self.follow}" if self.follow else ""
        seed = f" (seed {self.seed})" if self.move is Move.HANDHELD else ""
        return f"camera: {self.move.value}{with_whom}{seed}"


@dataclass(frozen=True, slots=True)
class ShotMotion:
    """Everything that moves in one shot, over ``frames`` frames at ``rate``."""

    rate: Fraction
    frames: int
    moves: tuple[CharacterMove, ...] = ()
    looks: tuple[Look, ...] = ()
    camera: CameraMotion = field(default_factory=CameraMotion)

    @property
    def static(self) -> bool:
        """Nothing moves: the layout is written without time samples, one frame held."""
        return not self.moves and not self.looks and self.camera.move is Move.STATIC

    def describe(self) -> list[str]:
        """The derivations, one line each, in frame order: what a person checks and edits."""
        lines = sorted([*self.moves, *self.looks], key=lambda m: (m.start_frame, m.character))
        return [m.describe() for m in lines] + ([self.camera.describe()] if self.camera.move is not Move.STATIC else [])


# ----------------------------------------------------------------------------- figure keys


@dataclass(frozen=True, slots=True)
class FigureKey:
    """Where a figure is at one frame: on the floor at (x, z), lowered by ``lift`` (negative
    when seated) and facing ``facing_deg`` (unwrapped: a turn from 170 to -170 is to 190)."""

    frame: int
    x: float
    z: float
    lift: float
    facing_deg: float


@dataclass(frozen=True, slots=True)
class FigureKeys:
    """A figure's keys over a shot, linear between keys and held before the first and after
    the last (USD's own interpolation of time samples, so what is evaluated here is what a DCC
    plays). ``translate`` and ``facing`` keys are separate lists because a body turns at
    other frames than it moves."""

    translate: tuple[tuple[int, tuple[float, float, float]], ...]  # frame, (x, lift, z)
    facing: tuple[tuple[int, float], ...]  # frame, degrees about Y

    @property
    def moving(self) -> bool:
        """Whether anything changes over the shot."""
        return len({v for _, v in self.translate}) > 1 or len({v for _, v in self.facing}) > 1

    def at(self, frame: float) -> FigureKey:
        """The figure at a (possibly fractional) frame."""
        x, lift, z = _interpolate(self.translate, frame)
        return FigureKey(round(frame), x, z, lift, _interpolate(self.facing, frame))


def _interpolate(keys: Sequence[tuple[int, object]], frame: float):  # type: ignore[no-untyped-def]
    frames = [k for k, _ in keys]
    i = bisect.bisect_right(frames, frame)
    if i == 0:
        return keys[0][1]
    if i == len(keys):
        return keys[-1][1]
    (f0, v0), (f1, v1) = keys[i - 1], keys[i]
    t = (frame - f0) / (f1 - f0)
    if isinstance(v0, tuple):
        return tuple(a + (b - a) * t for a, b in zip(v0, v1, strict=True))  # type: ignore[arg-type]
    return v0 + (v1 - v0) * t  # type: ignore[operator]


def nearest_angle(previous: float, angle: float) -> float:
    """``angle`` moved by whole turns to within 180 degrees of ``previous``, so that linear
    interpolation turns the short way."""
    return previous + (angle - previous + 180.0) % 360.0 - 180.0


def heading(from_x: float, from_z: float, to_x: float, to_z: float, default: float) -> float:
    """The facing (degrees about Y, 0 = +Z) from one floor point towards another."""
    dx, dz = to_x - from_x, to_z - from_z
    if math.hypot(dx, dz) < 1e-6:
        return default
    return math.degrees(math.atan2(dx, dz))


def figure_keys(mark: Mark, moves: Iterable[CharacterMove], rate: Fraction) -> FigureKeys:
    """The keys of one figure from its scene mark and its moves (in any order; they are played
    by start frame). A figure that travels first turns to where it goes, then walks, then turns
    to the move's end facing; one that stands up starts the shot seated."""
    ordered = sorted(moves, key=lambda m: (m.start_frame, m.end_frame))
    turn = max(1, frames_at(TURN_FRAMES_S, rate))
    seated = -SIT_DROP * mark.height
    first = ordered[0] if ordered else None
    lift = seated if first is not None and first.verb is Verb.STANDS else 0.0
    begin = first.start if first is not None and first.verb in (Verb.ENTERS, Verb.CROSSES, Verb.EXITS) else mark
    translate = [(0, (begin.x, lift, begin.z))]
    facing = [(0, begin.facing_deg)]
    for move in ordered:
        start, end = max(move.start_frame, translate[-1][0], facing[-1][0]), move.end_frame
        end = max(end, start + 1)
        here = facing[-1][1]
        if move.verb in (Verb.ENTERS, Verb.CROSSES, Verb.EXITS):
            travel = nearest_angle(here, heading(move.start.x, move.start.z, move.end.x, move.end.z, here))
            spin = min(turn, (end - start) // 3)
            translate += [(start, (move.start.x, lift, move.start.z)), (end, (move.end.x, lift, move.end.z))]
            final = nearest_angle(travel, move.end.facing_deg)
            facing += [(start, here), (start + spin, travel)]
            if abs(final - travel) > 1e-6 and spin:
                facing += [(end - spin, travel), (end, final)]
            else:
                facing += [(end, final)]
        elif move.verb in (Verb.SITS, Verb.STANDS):
            x, _, z = translate[-1][1]
            after = seated if move.verb is Verb.SITS else 0.0
            translate += [(start, (x, lift, z)), (end, (x, after, z))]
            lift = after
        elif move.verb is Verb.TURNS:
            facing += [(start, here), (end, nearest_angle(here, move.end.facing_deg))]
    return FigureKeys(_dedupe(translate), _dedupe(facing))


def _dedupe(keys: list[tuple[int, object]]) -> tuple:  # type: ignore[type-arg]
    """Keys in frame order, one per frame (the later wins), without repeats in a hold."""
    by_frame: dict[int, object] = {}
    for frame, value in keys:
        by_frame[frame] = value
    ordered = sorted(by_frame.items())
    kept = [ordered[0]]
    for i, (frame, value) in enumerate(ordered[1:], start=1):
        following = ordered[i + 1][1] if i + 1 < len(ordered) else None
        # The middle of three equal keys adds nothing to linear interpolation.
        if value == kept[-1][1] and value == following:
            continue
        kept.append((frame, value))
    while len(kept) > 1 and kept[-1][1] == kept[-2][1]:
        kept.pop()
    return tuple(kept)


def head_keys(looks: Iterable[Look], figure: FigureKeys) -> tuple[tuple[int, float], ...]:
    """Head yaw keys (degrees relative to the body, within +-HEAD_LIMIT) for a figure's looks:
    by each look's end the head points at where its ``at`` stands."""
    keys: list[tuple[int, float]] = [(0, 0.0)]
    for look in sorted(looks, key=lambda lk: lk.start_frame):
        me = figure.at(look.end_frame)
        wanted = heading(me.x, me.z, look.x, look.z, me.facing_deg)
        yaw = max(-HEAD_LIMIT, min(HEAD_LIMIT, (wanted - me.facing_deg + 180.0) % 360.0 - 180.0))
        start = max(look.start_frame, keys[-1][0])
        keys += [(start, keys[-1][1]), (max(look.end_frame, start + 1), round(yaw, 3))]
    return _dedupe(keys)  # type: ignore[arg-type]
