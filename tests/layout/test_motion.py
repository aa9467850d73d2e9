"""Blocking in time, read off the page: moves and looks derived from the real action lines
and dialogue of the example and the shared screenplays, with the line each came from, and
the figure and camera keys they become."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np
import pytest

from soundstage.layout.action import scene_motion
from soundstage.layout.camera_moves import PUSH_SHARE, camera_frames
from soundstage.layout.framing import block_scene, scene_cast, stage_cast
from soundstage.layout.motion import (
    CameraMotion,
    CharacterMove,
    ShotMotion,
    Verb,
    figure_keys,
    frame_rate,
    nearest_angle,
)
from soundstage.plan.model import Move, Shot
from soundstage.script.model import Kind

from . import planned, shot_covering
from conftest import EXAMPLE, SCREENPLAYS

BIG_FISH = SCREENPLAYS / "big_fish.fountain"


def _motion(path, line: int) -> tuple[Shot, ShotMotion, dict]:
    """The motion of the shot covering ``line``, blocked with the scene's props."""
    scene, breakdown, shots, shot = shot_covering(path, line)
    blockings = block_scene(shots, breakdown, props=True)
    return shot, scene_motion(shots, scene, breakdown, blockings, 24)[shot.code], blockings[shot.code]


def _moves(path, line: int) -> list[CharacterMove]:
    return [m for m in _motion(path, line)[1].moves if m.line == line]


# ----------------------------------------------------------------------------- rates


def test_frame_rates_are_exact_fractions() -> None:
    assert frame_rate(24) == 24
    assert frame_rate("24000/1001") == Fraction(24000, 1001)
    assert frame_rate(23.976) == Fraction(24000, 1001)
    assert frame_rate(29.97) == Fraction(30000, 1001)
    assert frame_rate(25.0) == 25
    with pytest.raises(ValueError):
        frame_rate(0)


# ----------------------------------------------------------------------------- the example


def test_an_entrance_from_the_back_ends_on_the_mark() -> None:
    # "OSWIN (70s), Maisie's grandfather, ... shuffles in from the back and sets a WICK-BOX..."
    shot, motion, blocking = _motion(EXAMPLE, 54)
    (move,) = _moves(EXAMPLE, 54)
    assert (move.character, move.verb) == ("OSWIN", Verb.ENTERS)  # not Maisie: a possessive
    assert move.end == blocking.marks["OSWIN"]
    # An interior is entered through the back: upstage of the mark, inside the walls.
    assert -blocking.set.depth < move.start.z < move.end.z
    assert 0 <= move.start_frame < move.end_frame <= shot.frames - 1
    # Shuffling is slow: the 1.6 m take more than two seconds.
    assert (move.end_frame - move.start_frame) / 24 > 2.0
    assert re.fullmatch(r"OSWIN enters \(line 54\), frames \d+-\d+", move.describe())
    assert move.describe() in motion.describe()


def test_a_move_starts_where_its_sentence_falls_in_the_shot() -> None:
    # "The SHOP BELL jingles. JUNO (11), ..., hurries in clutching a NOTEBOOK."
    shot, _, _ = _motion(EXAMPLE, 67)
    (move,) = _moves(EXAMPLE, 67)
    assert (move.character, move.verb) == ("JUNO", Verb.ENTERS)
    assert move.start_frame > 0  # after the bell's sentence
    hurried = move.end_frame - move.start_frame
    (slow,) = _moves(EXAMPLE, 54)
    distance = math.hypot(move.end.x - move.start.x, move.end.z - move.start.z)
    slow_distance = math.hypot(slow.end.x - slow.start.x, slow.end.z - slow.start.z)
    assert hurried / distance < (slow.end_frame - slow.start_frame) / slow_distance  # hurries beats shuffles


def test_entrances_with_a_follower_and_a_character_sitting() -> None:
    # "Maisie and Juno burst in, Fuse close behind. Oswin sits among the wreckage, ..."
    moves = {m.character: m for m in _moves(EXAMPLE, 137)}
    assert {n: m.verb for n, m in moves.items()} == {
        "MAISIE": Verb.ENTERS,
        "JUNO": Verb.ENTERS,
        "FUSE": Verb.ENTERS,
        "OSWIN": Verb.SITS,
    }
    assert moves["MAISIE"].start_frame == moves["JUNO"].start_frame < moves["FUSE"].start_frame
    assert moves["OSWIN"].start_frame > moves["MAISIE"].start_frame  # the next sentence


def test_a_group_crosses_the_same_way_and_a_cross_to_someone_ends_beside_them() -> None:
    # "Maisie, Juno and Fuse head *down* the hill toward the sea, lamp by lamp, latch by latch."
    moves = _moves(EXAMPLE, 319)
    assert {m.character for m in moves} == {"MAISIE", "JUNO", "FUSE"}
    assert all(m.verb is Verb.CROSSES and m.towards.startswith("down the hill") for m in moves)
    assert len({np.sign(m.end.x - m.start.x) for m in moves}) == 1
    # "Fuse rolls closer and leans his warm copper side against her arm."
    (move,) = _moves(EXAMPLE, 240)
    assert (move.character, move.verb, move.towards) == ("FUSE", Verb.CROSSES, "to MAISIE")
    _, breakdown, shots, _ = shot_covering(EXAMPLE, 240)
    maisie = stage_cast(scene_cast(shots, breakdown))["MAISIE"]  # off frame in Fuse's MS
    assert math.hypot(move.end.x - maisie.x, move.end.z - maisie.z) == pytest.approx(0.8, abs=1e-3)
    assert math.hypot(move.start.x - maisie.x, move.start.z - maisie.z) > 0.8


def test_the_camera_tracks_with_the_character_who_runs() -> None:
    # "MRS. PARK (40s), in a fair-ribbon hat, runs down the gangway and scoops Juno off her feet."
    shot, motion, _ = _motion(EXAMPLE, 373)
    assert shot.move is Move.TRACK
    (run,) = [m for m in motion.moves if m.line == 373]
    assert (run.character, run.verb) == ("MRS. PARK", Verb.CROSSES)
    assert motion.camera == CameraMotion(Move.TRACK, motion.camera.seed, "MRS. PARK")
    assert not any(m.character == "JUNO" for m in motion.moves)  # "Juno's notebook goes flying"


def test_lines_that_only_look_like_moves_give_none() -> None:
    # "-- Maisie, breathless, grinning, leaves the brass lantern's own little door swinging open."
    assert _moves(EXAMPLE, 203) == []
    # "A DOOR SLAMS as the wind shoves Maisie and Fuse inside, dripping." moves them, not the wind.
    assert {(m.character, m.verb) for m in _moves(EXAMPLE, 269)} == {("MAISIE", Verb.ENTERS), ("FUSE", Verb.ENTERS)}


def test_heads_turn_to_a_voice_that_starts_during_the_shot() -> None:
    # MAISIE's MCU is held over OSWIN (O.S.) "You'd light the cat."
    shot, motion, _ = _motion(EXAMPLE, 49)
    (look,) = motion.looks
    assert (look.character, look.at, look.line) == ("MAISIE", "OSWIN", 49)
    assert 0 < look.start_frame < look.end_frame <= shot.frames - 1
    assert not motion.static


def test_most_dialogue_shots_stay_static() -> None:
    scene, breakdown, shots = planned(EXAMPLE)[2]  # the lamp shop
    motions = scene_motion(shots, scene, breakdown, block_scene(shots, breakdown), 24)
    dialogue = [s for s in shots if s.purpose.value in ("ots", "single", "two-shot")]
    static = [s for s in dialogue if motions[s.code].static]
    assert len(static) >= 0.7 * len(dialogue)
    for shot in static:
        assert motions[shot.code].describe() == []


# ----------------------------------------------------------------------------- big fish


@pytest.mark.parametrize(
    ("line", "who", "verb"),
    [
        (685, "BENNETT", Verb.ENTERS),  # "DR. JULIUS BENNETT (85) enters from the foyer, ..."
        (1125, "KARL", Verb.SITS),  # "Karl sits down with a BOOM, dejected."
        (2313, "EDWARD", Verb.STANDS),  # "He rolls to his feet." (not a cross to his feet)
        (2383, "AMOS", Verb.SITS),  # "Amos sits down and scratches his ear with his foot."
    ],
)
def test_big_fish_moves(line: int, who: str, verb: Verb) -> None:
    moves = _moves(BIG_FISH, line)
    assert [(m.character.split()[-1], m.verb) for m in moves] == [(who, verb)]


def test_everyone_turns() -> None:
    # "Everyone turns to see who said that.  The crowd parts to reveal none other than Edward Bloom."
    shot, motion, blocking = _motion(BIG_FISH, 1053)
    turned = {m.character for m in motion.moves if m.verb is Verb.TURNS and m.line == 1053}
    assert turned == set(blocking.marks)


def test_a_hand_or_a_phrasal_verb_is_not_a_cross() -> None:
    assert _moves(BIG_FISH, 1130) == []  # "Edward shoves his hand into Karl's mouth."
    assert not [m for m in _moves(BIG_FISH, 1563) if m.towards.startswith("up his")]  # "pulls up his pant legs"


@pytest.mark.parametrize("name", sorted(p.name for p in SCREENPLAYS.glob("*.fountain")))
def test_every_move_comes_from_a_covered_action_line_of_a_character_in_the_shot(name: str) -> None:
    path = SCREENPLAYS / name
    for scene, breakdown, shots in planned(path):
        blockings = block_scene(shots, breakdown, props=True)
        for shot in shots:
            motion = scene_motion([shot], scene, breakdown, {shot.code: blockings[shot.code]}, 24)[shot.code]
            action = {e.line for e in scene.elements if e.kind is Kind.ACTION and e.line in shot.lines}
            for move in motion.moves:
                assert move.line in action, move.describe()
                assert move.character in blockings[shot.code].marks
                assert 0 <= move.start_frame <= move.end_frame <= shot.frames - 1
            for look in motion.looks:
                assert look.character in blockings[shot.code].marks
                assert 0 < look.start_frame < look.end_frame <= shot.frames - 1


# ----------------------------------------------------------------------------- keys


def test_figure_keys_walk_turn_the_short_way_and_hold() -> None:
    scene, breakdown, shots = planned(EXAMPLE)[2]
    mark = stage_cast(scene_cast(shots, breakdown))["OSWIN"]
    (move,) = _moves(EXAMPLE, 54)
    keys = figure_keys(mark, [move], Fraction(24))
    start, middle, end = keys.at(0), keys.at((move.start_frame + move.end_frame) / 2), keys.at(move.end_frame + 10)
    assert (start.x, start.z) == (move.start.x, move.start.z)
    assert move.start.z < middle.z < move.end.z
    assert (end.x, end.z, end.facing_deg) == pytest.approx((mark.x, mark.z, mark.facing_deg))
    # Each step between keys turns less than half a turn.
    assert all(abs(b - a) <= 180 for (_, a), (_, b) in zip(keys.facing, keys.facing[1:]))
    assert nearest_angle(170.0, -170.0) == 190.0


def test_a_figure_that_stands_up_starts_seated() -> None:
    scene, breakdown, shots = planned(EXAMPLE)[2]
    mark = stage_cast(scene_cast(shots, breakdown))["OSWIN"]
    stand = CharacterMove("OSWIN", Verb.STANDS, mark, mark, 10, 30)
    keys = figure_keys(mark, [stand], Fraction(24))
    assert keys.at(0).lift < -0.4 and keys.at(40).lift == 0.0
    assert keys.moving


# ----------------------------------------------------------------------------- camera


def _planned_camera():
    scene, breakdown, shots = planned(EXAMPLE)[2]
    shot = shots[0]
    return block_scene(shots, breakdown)[shot.code].camera


@pytest.mark.parametrize("move", [m for m in Move if m is not Move.STATIC])
def test_camera_moves_land_on_the_planned_frame(move: Move) -> None:
    planned_camera = _planned_camera()
    frames = camera_frames(planned_camera, CameraMotion(move, seed=7), 48, Fraction(24))
    assert len(frames) == 48
    if move is not Move.HANDHELD:
        assert frames[-1].position == pytest.approx(planned_camera.position, abs=1e-9)
        assert frames[-1].target == pytest.approx(planned_camera.target, abs=1e-9)
        assert frames[0].position != pytest.approx(planned_camera.position, abs=1e-3) or move in (Move.PAN, Move.TILT)
    distances = [f.focus_distance for f in frames]
    if move is Move.PUSH_IN:
        assert all(b < a for a, b in zip(distances, distances[1:]))
        assert distances[0] == pytest.approx(planned_camera.focus_distance * (1 + PUSH_SHARE))
    if move is Move.PULL_OUT:
        assert all(b > a for a, b in zip(distances, distances[1:]))
    if move is Move.CRANE:
        assert frames[0].position[1] > frames[-1].position[1]


def test_handheld_noise_is_the_seeds() -> None:
    planned_camera = _planned_camera()
    one = camera_frames(planned_camera, CameraMotion(Move.HANDHELD, seed=1), 48, Fraction(24))
    again = camera_frames(planned_camera, CameraMotion(Move.HANDHELD, seed=1), 48, Fraction(24))
    other = camera_frames(planned_camera, CameraMotion(Move.HANDHELD, seed=2), 48, Fraction(24))
    assert one == again and one != other
    # A drift, not a move: the aim stays within a degree of the planned view.
    forward = np.subtract(planned_camera.target, planned_camera.position)
    for setup in one:
        aim = np.subtract(setup.target, setup.position)
        cosine = np.dot(aim, forward) / np.linalg.norm(aim) / np.linalg.norm(forward)
        assert math.degrees(math.acos(min(1.0, cosine))) < 1.5
