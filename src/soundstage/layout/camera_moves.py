"""The camera performing the shot list's move: one camera per frame of the shot.

The shot list says which move (``plan.model.Move``), not how far or which way, so the amounts
are this module's, chosen to read clearly at previs speed:

* a move lands on the planned frame: a push-in starts 30% farther out and ends on the
  framing ``layout.framing`` chose, a pull-out starts 30% closer, a pan or tilt starts 20 or
  12 degrees off and turns onto the subject, a track (a truck, sideways) starts a metre to the
  side, a crane starts 1.2 m higher looking down at the same point;
* a track or a pan with a character to follow (``CameraMotion.follow``: who crosses in the
  shot) keeps them where the planned frame has them: a track moves the camera with them over
  the floor, a pan turns the camera about its vertical axis to keep their bearing;
* handheld holds the planned frame with a small drift of aim and position, made of a few
  slow sine waves whose frequencies and phases come from the seed: the same seed, the same
  wobble, on every machine;
* moves are eased (smoothstep): they start and end gently, as a dolly grip does.

Pure numpy on ``CameraSetup``; ``layout.animation`` writes the result as USD time samples.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np

from soundstage.layout.framing import MIN_SUBJECT_DISTANCE, CameraSetup
from soundstage.layout.motion import CameraMotion, FigureKeys
from soundstage.plan.model import Move

PUSH_SHARE = 0.3  # a push-in starts this share of the planned distance farther out
PULL_SHARE = 0.3  # a pull-out starts this share closer in
PAN_DEG = 20.0
TILT_DEG = 12.0
TRACK_M = 1.0
CRANE_M = 1.2
# Handheld drift: amplitude of each sine (degrees of yaw, pitch, roll; metres of sway), and the
# band its frequencies are drawn from (Hz): a person breathing and shifting weight.
HANDHELD_DEGREES = (0.5, 0.35, 0.25)
HANDHELD_SWAY_M = 0.008
HANDHELD_HZ = (0.2, 1.4)
HANDHELD_WAVES = 3


def camera_frames(
    planned: CameraSetup, motion: CameraMotion, frames: int, rate: Fraction, follow: FigureKeys | None = None
) -> list[CameraSetup]:
    """The camera at every frame (0 .. frames - 1) performing ``motion`` around ``planned``.

    ``follow`` is the figure a track or a pan keeps in frame (its keys in the shot)."""
    if frames < 1:
        raise ValueError(f"a shot has at least one frame, got {frames}")
    eased = [_smoothstep(f / (frames - 1)) if frames > 1 else 1.0 for f in range(frames)]
    move = motion.move
    if move is Move.STATIC:
        return [planned] * frames
    if move in (Move.TRACK, Move.PAN) and follow is not None and follow.moving:
        return [_following(planned, move, follow, f) for f in range(frames)]
    if move is Move.HANDHELD:
        return _handheld(planned, motion.seed, frames, rate)
    return [_along(planned, move, 1.0 - u) for u in eased]


def _smoothstep(u: float) -> float:
    return u * u * (3.0 - 2.0 * u)


def _along(planned: CameraSetup, move: Move, left: float) -> CameraSetup:
    """The camera ``left`` of the way (1 at the start, 0 on the planned frame) along a move."""
    position = np.asarray(planned.position, dtype=float)
    target = np.asarray(planned.target, dtype=float)
    up = np.asarray(planned.up, dtype=float)
    forward = (target - position) / np.linalg.norm(target - position)
    distance = planned.focus_distance
    if move is Move.PUSH_IN:
        position = target - forward * distance * (1.0 + PUSH_SHARE * left)
    elif move is Move.PULL_OUT:
        position = target - forward * max(distance * (1.0 - PULL_SHARE * left), MIN_SUBJECT_DISTANCE)
    elif move is Move.PAN:
        rotation = _rotation(np.array([0.0, 1.0, 0.0]), math.radians(PAN_DEG * left))
        target = position + rotation @ (target - position)
        up = rotation @ up
    elif move is Move.TILT:
        right = np.cross(forward, up)
        rotation = _rotation(right / np.linalg.norm(right), math.radians(TILT_DEG * left))
        target = position + rotation @ (target - position)
        up = rotation @ up
    elif move is Move.TRACK:
        right = np.cross(forward, up)
        shift = -right / np.linalg.norm(right) * TRACK_M * left
        position, target = position + shift, target + shift
    elif move is Move.CRANE:
        position = position + np.array([0.0, CRANE_M * left, 0.0])
        up = _level(up, target - position)
    return _setup(planned, position, target, up)


def _following(planned: CameraSetup, move: Move, figure: FigureKeys, frame: int) -> CameraSetup:
    """A track moves the camera with the figure over the floor; a pan turns it about its
    vertical axis so that the figure keeps the bearing it has in the planned frame."""
    first, now = figure.at(0), figure.at(frame)
    position = np.asarray(planned.position, dtype=float)
    target = np.asarray(planned.target, dtype=float)
    up = np.asarray(planned.up, dtype=float)
    if move is Move.TRACK:
        shift = np.array([now.x - first.x, 0.0, now.z - first.z])
        return _setup(planned, position + shift, target + shift, up)
    turn = _bearing(position, now.x, now.z) - _bearing(position, first.x, first.z)
    rotation = _rotation(np.array([0.0, 1.0, 0.0]), turn)
    return _setup(planned, position, position + rotation @ (target - position), rotation @ up)


def _bearing(position: np.ndarray, x: float, z: float) -> float:
    """The horizontal angle (radians, about +Y) from the camera to a floor point."""
    return math.atan2(x - position[0], z - position[2])


def _handheld(planned: CameraSetup, seed: int, frames: int, rate: Fraction) -> list[CameraSetup]:
    rng = np.random.default_rng(seed)
    low, high = HANDHELD_HZ
    # Per channel (yaw, pitch, roll, sway x, y, z): frequencies, phases, weights of its waves.
    hz = rng.uniform(low, high, size=(6, HANDHELD_WAVES))
    phase = rng.uniform(0.0, 2 * math.pi, size=(6, HANDHELD_WAVES))
    weight = rng.uniform(0.5, 1.0, size=(6, HANDHELD_WAVES))
    weight /= weight.sum(axis=1, keepdims=True)
    amplitude = np.array([*HANDHELD_DEGREES, HANDHELD_SWAY_M, HANDHELD_SWAY_M, HANDHELD_SWAY_M])
    position0 = np.asarray(planned.position, dtype=float)
    target0 = np.asarray(planned.target, dtype=float)
    up0 = np.asarray(planned.up, dtype=float)
    out = []
    for frame in range(frames):
        seconds = float(frame / rate)
        drift = amplitude * (weight * np.sin(2 * math.pi * hz * seconds + phase)).sum(axis=1)
        forward = target0 - position0
        right = np.cross(forward, up0)
        right /= np.linalg.norm(right)
        turn = (
            _rotation(right, math.radians(drift[1]))
            @ _rotation(up0, math.radians(drift[0]))
            @ _rotation(forward / np.linalg.norm(forward), math.radians(drift[2]))
        )
        position = position0 + drift[3:]
        out.append(_setup(planned, position, position + turn @ forward, turn @ up0))
    return out


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """The 3x3 rotation by ``angle`` (radians, right-handed) about a unit ``axis``."""
    x, y, z = axis
    c, s = math.cos(angle), math.sin(angle)
    return np.array(
        [
            [c + x * x * (1 - c), x * y * (1 - c) - z * s, x * z * (1 - c) + y * s],
            [y * x * (1 - c) + z * s, c + y * y * (1 - c), y * z * (1 - c) - x * s],
            [z * x * (1 - c) - y * s, z * y * (1 - c) + x * s, c + z * z * (1 - c)],
        ]
    )


def _level(up: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """``up`` made square to a new view direction (keeps a dutch angle's roll, near enough)."""
    forward = forward / np.linalg.norm(forward)
    square = up - np.dot(up, forward) * forward
    return square / np.linalg.norm(square)


def _setup(planned: CameraSetup, position: np.ndarray, target: np.ndarray, up: np.ndarray) -> CameraSetup:
    return replace(
        planned,
        position=_vec(position),
        target=_vec(target),
        up=_vec(_level(up, target - position)),
    )


def _vec(vector: np.ndarray) -> tuple[float, float, float]:
    return (float(vector[0]) + 0.0, float(vector[1]) + 0.0, float(vector[2]) + 0.0)
