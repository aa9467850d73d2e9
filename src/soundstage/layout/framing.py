"""Blocking: where the characters of a scene stand and where each shot's camera looks.

Pure maths (numpy, no USD), so that framing can be reasoned about and tested on its own;
``layout.usd`` writes what this module decides into one USD stage per shot.

Conventions are those of the layout contract: metres, Y up, right-handed; a character's
mark is on the floor (y = 0) and faces +Z at ``facing_deg`` = 0 (rotation about Y, so 90
faces +X); a camera looks down its local -Z with +Y up. Matrices here are numpy 4x4 for
column vectors (``world = M @ local``), the transpose of USD's row-vector ``Gf.Matrix4d``.

Staging of a scene:

* The cast (speaking first, then non-speaking, then anyone else a shot names) stands on a
  line of action along X at z = 0: one character faces the cameras, two face each other
  1.2 m apart, more stand 1 m apart on a shallow arc open towards the cameras and face its
  centre.
* Every camera of the scene stays on the +Z side of that line (the 180-degree rule), so a
  character keeps their side of frame and eyelines match from cut to cut.
* A shot size is a vertical extent of frame at the subject (``FRAMES``); the camera's
  distance follows from the lens: extent = distance * vertical aperture / focal length.
* The set is dressed with 2-4 blocks chosen from a hash of the location, beside the cast
  (never between the cameras and the characters); inserts and detail shots look at them.
* Asked for (``block_scene(..., props=True)``), the scene's props stand on those blocks: each
  on the block its name is hashed to, which is the block an insert of it looks at, spread
  along the block's front edge; an insert that names a prop then frames that prop.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from soundstage.plan.model import Angle, Shot, ShotSize
from soundstage.script.breakdown import SceneBreakdown

Vec3 = tuple[float, float, float]
RGB = tuple[float, float, float]

HORIZONTAL_APERTURE_MM = 36.0  # full-frame 16:9: 36 x 20.25 mm
VERTICAL_APERTURE_MM = 20.25
ASPECT = HORIZONTAL_APERTURE_MM / VERTICAL_APERTURE_MM

ADULT_HEIGHT = 1.7
# A standing figure's landmarks as fractions of its height: where shot sizes cut, and the
# proportions of the stand-in figures (``layout.usd``), so both agree.
EYES = 0.93
CHIN = 0.865
SHOULDERS = 0.82
CHEST = 0.72
WAIST = 0.6
KNEES = 0.28
SHOULDER_HALF_WIDTH = 0.21  # metres, at ADULT_HEIGHT

TWO_HANDER_GAP = 1.2  # metres between two characters in conversation
GROUP_SPACING = 1.0  # metres between neighbours on the arc of three or more
# How far a single's camera swings from the subject's eyeline towards the camera side:
# tan(40 deg); close enough to the eyeline to read as a look at the other character.
SINGLE_SWING = math.tan(math.radians(40))
# An over-the-shoulder camera: at the listener's eye height, beside their head on the
# cameras' side and at least this far behind it, so that their head and shoulder fill an
# edge of frame rather than half of it.
OTS_OFFSET = 0.5
OTS_BEHIND = 0.7
MIN_CAMERA_Z = 0.05  # the cameras' side of the line of action starts here
MIN_SUBJECT_DISTANCE = 0.3  # a wide lens may not push the camera into a head
LOW_CAMERA_HEIGHT = 0.3  # a low angle puts the camera no lower than this
HIGH_ANGLE_DEG = 25.0
LOW_ANGLE_DEG = 20.0
DUTCH_ROLL_DEG = 15.0
NEAR = 0.05
FAR_INTERIOR = 60.0
FAR_EXTERIOR = 400.0  # beyond the ground and the horizon backdrop (layout.usd)
INSERT_EDGE = 0.08  # metres from a block's front edge to where an insert looks
PROP_SIZE = (0.14, 0.18, 0.14)  # a prop's stand-in box, width x height x depth (metres)
PROP_SPACING = 0.22  # metres between neighbouring props along a block's front edge


@dataclass(frozen=True, slots=True)
class Frame:
    """How a shot size frames a 1.7 m figure: the vertical extent of frame at the subject
    and the room above the head (negative cuts into it). Wide sizes are anchored on the
    floor instead: ``floor`` is the share of the frame below the feet."""

    extent: float
    headroom: float = 0.0
    floor: float | None = None


FRAMES: dict[ShotSize, Frame] = {
    ShotSize.ECU: Frame(0.2, -0.01),  # eyes: forehead to just above the chin
    ShotSize.CU: Frame(0.45, 0.04),  # head and shoulders
    ShotSize.MCU: Frame(0.7, 0.07),  # chest up
    ShotSize.MS: Frame(1.0, 0.1),  # waist up
    ShotSize.TWO_SHOT: Frame(1.0, 0.1),  # like MS, widened to hold both
    ShotSize.OTS: Frame(0.7, 0.07),  # MCU on the speaker
    ShotSize.POV: Frame(0.7, 0.07),  # only used when there is no one to see
    ShotSize.WS: Frame(2.4, floor=0.15),  # full bodies with room around
    ShotSize.EWS: Frame(8.0, floor=0.25),  # the place; figures small
    ShotSize.INSERT: Frame(0.3),  # a detail on a dressing block
}
# Room either side of the outermost figures when a frame must hold a group.
GROUP_MARGIN = 0.5


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a character stands (feet on the floor) and which way they face."""

    x: float
    z: float
    facing_deg: float  # about Y; 0 faces +Z (towards the cameras), 90 faces +X
    height: float = ADULT_HEIGHT

    def at(self, fraction: float) -> np.ndarray:
        """The point on the figure's axis at ``fraction`` of its height (EYES, CHIN...)."""
        return np.array([self.x, fraction * self.height, self.z])

    @property
    def facing(self) -> np.ndarray:
        """Unit vector (horizontal) the character faces."""
        angle = math.radians(self.facing_deg)
        return np.array([math.sin(angle), 0.0, math.cos(angle)])


@dataclass(frozen=True, slots=True)
class CameraSetup:
    """A perspective camera: where it is, the point it looks at, and its lens.

    ``up`` is the frame's up direction in the world (orthogonal to the view; a dutch angle
    is a rolled ``up``). Lens and apertures in millimetres; clipping range in metres.
    """

    position: Vec3
    target: Vec3
    focal_length_mm: float
    horizontal_aperture_mm: float = HORIZONTAL_APERTURE_MM
    vertical_aperture_mm: float = VERTICAL_APERTURE_MM
    near: float = NEAR
    far: float = FAR_INTERIOR
    up: Vec3 = (0.0, 1.0, 0.0)

    def matrix(self) -> np.ndarray:
        """Camera-to-world 4x4 (column vectors): the camera looks down its local -Z."""
        position = np.asarray(self.position, dtype=float)
        forward = _unit(np.asarray(self.target, dtype=float) - position)
        right = _unit(np.cross(forward, self.up))
        up = np.cross(right, forward)
        matrix = np.identity(4)
        matrix[:3, 0], matrix[:3, 1], matrix[:3, 2], matrix[:3, 3] = right, up, -forward, position
        return matrix

    @property
    def focus_distance(self) -> float:
        """Distance from the camera to the point it looks at (metres)."""
        return float(np.linalg.norm(np.subtract(self.target, self.position)))


@dataclass(frozen=True, slots=True)
class DressingBlock:
    """A box of set dressing standing on the floor (a table, a crate, a counter)."""

    x: float
    z: float
    width: float  # along X
    depth: float  # along Z
    height: float

    @property
    def top(self) -> np.ndarray:
        """Where inserts look: on its top, just behind the middle of the front edge, so that
        the frame holds the edge and reads as a surface rather than a flat grey."""
        return np.array([self.x, self.height, self.z + self.depth / 2 - INSERT_EDGE])


@dataclass(frozen=True, slots=True)
class SetDescription:
    """The set of a scene: interior (three walls, open towards the cameras) or exterior
    (ground and a horizon backdrop), and its dressing."""

    int_ext: str
    location: str
    interior: bool
    width: float  # interior: between the side walls; exterior: span of the dressing
    depth: float  # interior: the back wall stands at z = -depth
    dressing: tuple[DressingBlock, ...]


@dataclass(frozen=True, slots=True)
class Blocking:
    """One shot's blocking: the marks of the characters in it, its camera, its set."""

    marks: dict[str, Mark]
    camera: CameraSetup
    set: SetDescription
    # The scene's props (asked for with ``block_scene(..., props=True)``): where each stands,
    # the middle of its stand-in's base on top of a dressing block.
    props: dict[str, Vec3] = field(default_factory=dict)


# ----------------------------------------------------------------------------- colours

GOLDEN = (math.sqrt(5) - 1) / 2


def character_colour(name: str, character_id: int | None = None) -> RGB:
    """The stand-in colour of a character: the same for them in every shot and scene.

    Given the character's production id (1..255), hues step round the colour wheel by the
    golden ratio from one id to the next, which keeps any set of ids well apart; without it
    the hue comes from a hash of the name, stable but free to land near another's. The
    saturation and value are fixed so that no character reads as the set's greys.
    """
    hue = _hash_unit(name, "colour") if character_id is None else (0.05 + character_id * GOLDEN) % 1.0
    return colorsys.hsv_to_rgb(hue, 0.7, 0.9)


# ----------------------------------------------------------------------------- scene staging


def block_scene(shots: Sequence[Shot], breakdown: SceneBreakdown, *, props: bool = False) -> dict[str, Blocking]:
    """The blocking of every shot of one scene, keyed by shot code.

    Marks and set are shared by the scene's shots; each camera follows its shot's size,
    angle, lens and subjects (see the module docstring). With ``props``, the breakdown's
    props stand on the dressing (``place_props``) in every shot of the scene, and an insert
    that names one frames it; without, the blocking is the same as before props existed.
    """
    if len({shot.scene for shot in shots}) > 1:
        raise ValueError(f"block_scene takes the shots of one scene, got scenes {sorted({s.scene for s in shots})}")
    cast = scene_cast(shots, breakdown)
    marks = stage_cast(cast)
    stage_set = dress_set(breakdown, marks)
    placed = place_props(breakdown.props, stage_set) if props else {}
    return {shot.code: _block_shot(shot, cast, marks, stage_set, placed) for shot in shots}


def scene_cast(shots: Sequence[Shot], breakdown: SceneBreakdown) -> tuple[str, ...]:
    """Who stands on the line of action: speaking, then non-speaking, then anyone a shot
    names that the breakdown missed (an artist's edit), each once."""
    names = [*breakdown.speaking, *breakdown.non_speaking, *(n for shot in shots for n in shot.subjects)]
    return tuple(dict.fromkeys(names))


def stage_cast(cast: Sequence[str]) -> dict[str, Mark]:
    """Marks on the line of action (along X, z <= 0), in cast order from left to right."""
    if len(cast) == 1:
        return {cast[0]: Mark(0.0, 0.0, 0.0)}
    if len(cast) == 2:
        half = TWO_HANDER_GAP / 2
        return {cast[0]: Mark(-half, 0.0, 90.0), cast[1]: Mark(half, 0.0, -90.0)}
    marks: dict[str, Mark] = {}
    half = (len(cast) - 1) * GROUP_SPACING / 2
    # A circle through the two ends (z = 0) and the middle (z = -sagitta), its centre on the
    # camera side: everyone faces the centre, so the group talks and plays to the cameras.
    sagitta = 0.5 * half
    radius = (half**2 + sagitta**2) / (2 * sagitta)
    centre_z = radius - sagitta
    for i, name in enumerate(cast):
        x = -half + i * GROUP_SPACING
        z = centre_z - math.sqrt(radius**2 - x**2)
        marks[name] = Mark(_round(x), _round(z), _round(math.degrees(math.atan2(-x, centre_z - z))))
    return marks


def dress_set(breakdown: SceneBreakdown, marks: dict[str, Mark]) -> SetDescription:
    """The scene's set: its size and 2-4 dressing blocks, chosen from a hash of the location
    (the same place is dressed the same way in every scene) and set beside the cast."""
    place = breakdown.location or breakdown.heading
    interior = not breakdown.int_ext.startswith("EXT")
    cast_half = max((abs(m.x) + SHOULDER_HALF_WIDTH for m in marks.values()), default=0.0)
    count = 2 + int(_hash_unit(place, "count") * 3)
    first_side = 1 if _hash_unit(place, "side") < 0.5 else -1
    outer = {1: cast_half + 0.6, -1: cast_half + 0.6}  # next free x, each side
    blocks = []
    for n in range(count):
        side = first_side if n % 2 == 0 else -first_side
        width = _lerp(0.5, 1.4, _hash_unit(place, n, "width"))
        gap = _lerp(0.3, 1.2, _hash_unit(place, n, "gap"))
        x = side * (outer[side] + gap + width / 2)
        outer[side] += gap + width
        blocks.append(
            DressingBlock(
                x=_round(x),
                z=_round(_lerp(-1.2, 0.2, _hash_unit(place, n, "z"))),
                width=_round(width),
                depth=_round(_lerp(0.4, 0.9, _hash_unit(place, n, "depth"))),
                height=_round(_lerp(0.45, 1.2, _hash_unit(place, n, "height"))),
            )
        )
    reach = max(outer.values())
    if interior:
        width = max(_lerp(7.0, 10.0, _hash_unit(place, "room width")), 2 * (reach + 0.4))
        deepest = max((-m.z for m in marks.values()), default=0.0)
        depth = max(_lerp(2.5, 4.0, _hash_unit(place, "room depth")), deepest + 2.0)
    else:
        width, depth = 2 * (reach + 1.0), 0.0
    return SetDescription(
        int_ext=breakdown.int_ext,
        location=breakdown.location,
        interior=interior,
        width=_round(width),
        depth=_round(depth),
        dressing=tuple(blocks),
    )


def place_props(names: Sequence[str], stage_set: SetDescription) -> dict[str, Vec3]:
    """Where each prop of a scene stands: on the dressing block its name is hashed to (the
    block an insert of it looks at, see ``block_for``), along the block's front edge in the
    order given, the first at the middle of the edge and the next ones either side of it; a
    second row starts behind the first when the edge is full."""
    if not stage_set.dressing:
        return {}
    spots: dict[str, Vec3] = {}
    on_block: dict[int, int] = {}
    for name in dict.fromkeys(names):
        index = _block_index(name, stage_set)
        block = stage_set.dressing[index]
        n = on_block[index] = on_block.get(index, -1) + 1
        per_row = max(1, int((block.width - PROP_SIZE[0]) / PROP_SPACING) + 1)
        row, place = divmod(n, per_row)
        # 0, +1, -1, +2, -2... spacings from the middle of the edge
        offset = (place + 1) // 2 * (1 if place % 2 else -1) * PROP_SPACING
        front = block.z + block.depth / 2 - INSERT_EDGE
        spots[name] = (_round(block.x + offset), _round(block.height), _round(front - row * PROP_SPACING))
    return spots


def named_prop(text: str, props: Sequence[str]) -> str | None:
    """The prop a shot's description names (the longest name written in it), if any."""
    upper = text.upper()
    named = [p for p in props if re.search(rf"(?<!\w){re.escape(p.upper())}(?!\w)", upper)]
    return max(named, key=len) if named else None


def block_for(key: str, stage_set: SetDescription) -> DressingBlock:
    """The dressing block a prop or an insert's description is hashed to: the same one in
    every shot of every scene at that location."""
    return stage_set.dressing[_block_index(key, stage_set)]


def _block_index(key: str, stage_set: SetDescription) -> int:
    return int(_hash_unit(key, "block") * len(stage_set.dressing))


# ----------------------------------------------------------------------------- one shot


def _block_shot(
    shot: Shot, cast: tuple[str, ...], marks: dict[str, Mark], stage_set: SetDescription, props: dict[str, Vec3]
) -> Blocking:
    subjects = tuple(dict.fromkeys(shot.subjects))
    size = shot.size
    if size is ShotSize.POV and subjects:
        seen = next((n for n in (*subjects[1:], *cast) if n != subjects[0]), None)
        shown = tuple(dict.fromkeys((*subjects, *((seen,) if seen else ()))))
        camera = _pov(shot, marks[subjects[0]], marks[seen] if seen else None, stage_set)
    elif size is ShotSize.OTS and len(subjects) >= 2:
        shown = subjects
        camera = _over_the_shoulder(shot, speaker=marks[subjects[0]], listener=marks[subjects[1]], stage_set=stage_set)
    elif subjects and size is not ShotSize.INSERT:
        shown = subjects
        people = [marks[n] for n in subjects]
        frame = FRAMES[ShotSize.MCU if size is ShotSize.OTS else size]
        if len(people) == 1 and frame.floor is None and size is not ShotSize.TWO_SHOT:
            camera = _single(shot, people[0], frame, stage_set)
        else:
            camera = _group(shot, people, frame, stage_set)
    elif size in (ShotSize.WS, ShotSize.EWS, ShotSize.TWO_SHOT):
        shown = ()
        camera = _whole_set(shot, stage_set)
    else:
        shown = ()
        prop = named_prop(shot.description, list(props)) if props else None
        camera = _detail(shot, stage_set) if prop is None else _on_prop(shot, props[prop], stage_set)
    return Blocking(marks={n: marks[n] for n in shown}, camera=camera, set=stage_set, props=props)


def _single(shot: Shot, person: Mark, frame: Frame, stage_set: SetDescription) -> CameraSetup:
    """One character, from the side of the line their eyeline points to."""
    scale = person.height / ADULT_HEIGHT
    extent = frame.extent * scale
    top = person.height + frame.headroom * scale
    target = np.array([person.x, top - extent / 2, person.z])
    towards = person.facing + np.array([0.0, 0.0, SINGLE_SWING])
    return _aim(shot, target, extent, _horizontal(towards), EYES * person.height, stage_set)


def _group(shot: Shot, people: list[Mark], frame: Frame, stage_set: SetDescription) -> CameraSetup:
    """Several characters (or one, wide) square-on from the camera side, wide enough for all."""
    left = min(m.x for m in people) - GROUP_MARGIN - SHOULDER_HALF_WIDTH
    right = max(m.x for m in people) + GROUP_MARGIN + SHOULDER_HALF_WIDTH
    tallest = max(m.height for m in people)
    extent = frame.extent * tallest / ADULT_HEIGHT
    if shot.size is ShotSize.EWS:
        extent = max(extent, stage_set.width / ASPECT)
    # Widening the frame for a group keeps the size's proportion of headroom.
    widened = max(extent, (right - left) / ASPECT)
    if frame.floor is None:
        top = tallest + frame.headroom * widened / frame.extent
        centre_y = top - widened / 2
    else:
        centre_y = widened * (0.5 - frame.floor)
    target = np.array([(left + right) / 2, centre_y, float(np.mean([m.z for m in people]))])
    return _aim(shot, target, widened, np.array([0.0, 0.0, 1.0]), EYES * tallest, stage_set)


def _whole_set(shot: Shot, stage_set: SetDescription) -> CameraSetup:
    """A wide frame of the set itself (an establishing shot with no one in it)."""
    frame = FRAMES[ShotSize.WS if shot.size is ShotSize.TWO_SHOT else shot.size]
    extent = max(frame.extent, stage_set.width / ASPECT)
    target = np.array([0.0, extent * (0.5 - (frame.floor or 0.15)), 0.0])
    return _aim(shot, target, extent, np.array([0.0, 0.0, 1.0]), EYES * ADULT_HEIGHT, stage_set)


def _detail(shot: Shot, stage_set: SetDescription) -> CameraSetup:
    """An insert (or a close size with no one in it): a small area on a dressing block,
    the block chosen from the shot's description so each prop keeps its place."""
    block = _block_for(shot, stage_set)
    extent = FRAMES[shot.size].extent
    return _aim(shot, block.top, extent, np.array([0.0, 0.0, 1.0]), block.height + extent, stage_set)


def _on_prop(shot: Shot, spot: Vec3, stage_set: SetDescription) -> CameraSetup:
    """An insert on the prop it names: the detail framing, centred on the prop's stand-in."""
    extent = FRAMES[shot.size].extent
    target = np.array([spot[0], spot[1] + PROP_SIZE[1] / 2, spot[2]])
    return _aim(shot, target, extent, np.array([0.0, 0.0, 1.0]), spot[1] + extent, stage_set)


def _over_the_shoulder(shot: Shot, speaker: Mark, listener: Mark, stage_set: SetDescription) -> CameraSetup:
    """Behind the listener's shoulder on the camera side, onto the speaker at MCU; the
    speaker sits on the third of frame away from the listener's shoulder."""
    frame = FRAMES[ShotSize.OTS]
    scale = speaker.height / ADULT_HEIGHT
    extent = frame.extent * scale
    across = np.array([speaker.x - listener.x, 0.0, speaker.z - listener.z])
    gap = float(np.linalg.norm(across))
    along = _horizontal(across)
    side = np.array([-along[2], 0.0, along[0]])
    if side[2] < 0 or (side[2] == 0 and side[0] < 0):
        side = -side  # the shoulder on the cameras' side of the line
    offset = listener.height / ADULT_HEIGHT * OTS_OFFSET
    wanted = _distance(extent, shot.lens_mm)
    behind = max(math.sqrt(max(wanted**2 - offset**2, 0.0)) - gap, OTS_BEHIND)
    height = EYES * listener.height
    position = np.array([listener.x, height, listener.z]) - along * behind + side * offset
    subject = np.array([speaker.x, speaker.height + frame.headroom * scale - extent / 2, speaker.z])
    # Aim a sixth of the frame's width towards the listener, which puts the speaker on the
    # far third.
    width = float(np.linalg.norm(subject - position)) * HORIZONTAL_APERTURE_MM / shot.lens_mm
    target = subject - side * width / 6
    return _camera(shot, position, target, np.array([0.0, 1.0, 0.0]), stage_set)


def _pov(shot: Shot, viewer: Mark, seen: Mark | None, stage_set: SetDescription) -> CameraSetup:
    """From just in front of the viewer's eyes towards the character they look at (or, alone,
    at a detail of the set)."""
    head_radius = (1 - CHIN) / 2 * viewer.height
    target = seen.at(EYES) if seen else _block_for(shot, stage_set).top
    eyes = viewer.at(EYES)
    position = eyes + _horizontal(target - eyes) * (head_radius + 0.1)
    return _camera(shot, position, target, np.array([0.0, 1.0, 0.0]), stage_set)


# ----------------------------------------------------------------------------- camera maths


def _aim(
    shot: Shot, target: np.ndarray, extent: float, towards: np.ndarray, eye_height: float, stage_set: SetDescription
) -> CameraSetup:
    """The camera at the distance that fits ``extent`` of frame at ``target`` through the
    shot's lens, on the ``towards`` side of the target, at the shot's angle."""
    distance = _distance(extent, shot.lens_mm)
    up_hint = np.array([0.0, 1.0, 0.0])
    if shot.angle is Angle.OVERHEAD:
        position = target + np.array([0.0, distance, 0.0])
        up_hint = -towards  # the far side of the set at the top of frame
    elif shot.angle is Angle.HIGH:
        position = target + distance * _tilted(towards, HIGH_ANGLE_DEG)
    elif shot.angle is Angle.LOW:
        position = target + distance * _tilted(towards, -LOW_ANGLE_DEG)
        if position[1] < LOW_CAMERA_HEIGHT:
            position = _at_height(target, distance, towards, LOW_CAMERA_HEIGHT)
    else:  # eye level (and dutch, rolled below): the camera at the subject's eye line
        position = _at_height(target, distance, towards, eye_height)
    return _camera(shot, position, target, up_hint, stage_set)


def _camera(
    shot: Shot, position: np.ndarray, target: np.ndarray, up_hint: np.ndarray, stage_set: SetDescription
) -> CameraSetup:
    """The shot's lens at ``position`` looking at ``target``, rolled for a dutch angle."""
    # The 180-degree rule: every camera of a scene on the +Z side of the line of action.
    position = np.array([position[0], position[1], max(position[2], MIN_CAMERA_Z)])
    forward = _unit(target - position)
    right = _unit(np.cross(forward, up_hint))
    up = np.cross(right, forward)
    if shot.angle is Angle.DUTCH:
        roll = math.radians(DUTCH_ROLL_DEG)
        up = up * math.cos(roll) - right * math.sin(roll)
    return CameraSetup(
        position=_vec(position),
        target=_vec(target),
        focal_length_mm=float(shot.lens_mm),
        near=NEAR,
        far=FAR_INTERIOR if stage_set.interior else FAR_EXTERIOR,
        up=_vec(up),
    )


def _distance(extent: float, lens_mm: float) -> float:
    """Camera-to-subject distance at which the frame is ``extent`` metres tall."""
    return max(extent * lens_mm / VERTICAL_APERTURE_MM, MIN_SUBJECT_DISTANCE)


def _tilted(towards: np.ndarray, degrees: float) -> np.ndarray:
    """Unit vector from the target back to the camera, raised by ``degrees``."""
    angle = math.radians(degrees)
    return towards * math.cos(angle) + np.array([0.0, math.sin(angle), 0.0])


def _at_height(target: np.ndarray, distance: float, towards: np.ndarray, height: float) -> np.ndarray:
    """The camera ``distance`` from ``target`` on the ``towards`` side, at ``height``."""
    rise = height - target[1]
    # A height further from the target than the distance itself (a detail far below the
    # eye line) keeps the camera half the distance off rather than right above the target.
    across = math.sqrt(max(distance**2 - rise**2, (0.5 * distance) ** 2))
    return np.array([target[0], height, target[2]]) + towards * across


def _block_for(shot: Shot, stage_set: SetDescription) -> DressingBlock:
    return block_for(shot.description or shot.code, stage_set)


# ----------------------------------------------------------------------------- projection


def project(point: Sequence[float], camera: CameraSetup, width: int = 1280, height: int = 720) -> tuple[float, float]:
    """Pixel coordinates of a world point (x right, y down, origin top-left; pixel centres
    at +0.5): the pinhole maths of the layout contract, in numpy.

    Raises ValueError for a point on or behind the camera plane, which has no pixel.
    """
    local = np.linalg.inv(camera.matrix()) @ np.array([*point, 1.0])
    depth = -local[2]
    if depth <= 0:
        raise ValueError(f"point {tuple(point)} is behind the camera")
    ndc_x = local[0] / depth * camera.focal_length_mm / (camera.horizontal_aperture_mm / 2)
    ndc_y = local[1] / depth * camera.focal_length_mm / (camera.vertical_aperture_mm / 2)
    return float((ndc_x * 0.5 + 0.5) * width), float((1 - (ndc_y * 0.5 + 0.5)) * height)


def in_frame(point: Sequence[float], camera: CameraSetup, width: int = 1280, height: int = 720) -> bool:
    """Whether a world point lands inside the frame (and in front of the camera)."""
    try:
        x, y = project(point, camera, width, height)
    except ValueError:
        return False
    return 0 <= x <= width and 0 <= y <= height


# ----------------------------------------------------------------------------- helpers


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def _horizontal(vector: np.ndarray) -> np.ndarray:
    """``vector`` flattened onto the floor, as a unit vector (+Z when it has no length)."""
    flat = np.array([vector[0], 0.0, vector[2]])
    length = np.linalg.norm(flat)
    return flat / length if length > 1e-9 else np.array([0.0, 0.0, 1.0])


def _vec(vector: np.ndarray) -> Vec3:
    return (float(vector[0]), float(vector[1]), float(vector[2]))


def _round(value: float) -> float:
    """Millimetre precision: marks and set sizes read cleanly in the .usda an artist opens."""
    return round(value, 3) + 0.0  # + 0.0 turns -0.0 into 0.0


def _lerp(low: float, high: float, t: float) -> float:
    return low + (high - low) * t


def _hash_unit(*key: object) -> float:
    """A number in [0, 1) that depends only on ``key``: stable across runs, machines and
    Python versions (unlike ``hash()``, which is salted per process)."""
    digest = hashlib.sha256("\x1f".join(str(k) for k in key).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
