"""One USD stage per shot: the set, stand-in characters on their marks, and the camera.

The stage follows the layout contract that the previs renderer reads (Y up, metres,
``/Shot`` with ``Set``, ``Characters`` and ``Camera``; meshes only, each with a constant
``displayColor``). The camera's focal length and apertures are in USD's own unit for them, a
tenth of a scene unit (on a metres stage 0.35 is a 35 mm lens), so a DCC reads the lens the
shot list asked for; ``lens_mm`` turns them back into millimetres. Artists may open and edit
a layout in any DCC; ``read_camera`` and ``read_marks`` read back what they left, whatever
xformOps their tool wrote.

Asked for, a layout also carries readable stand-ins (``layout.standins``: name labels in a
``labels`` variant set, a face on each head, the scene's props as labelled boxes) and the
shot's motion as time samples (``layout.animation``). A static shot without them is written
exactly as before either existed.

The same shot and blocking always give the same bytes: nothing time- or machine-dependent
is written, and prims are made in a fixed order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from pxr import Gf, Sdf, Tf, Usd, UsdGeom, Vt

from soundstage.errors import ShotError
from soundstage.files import write_atomic
from soundstage.layout.animation import animate
from soundstage.layout.framing import (
    ADULT_HEIGHT,
    CHIN,
    EYES,
    PROP_SIZE,
    RGB,
    SHOULDER_HALF_WIDTH,
    SHOULDERS,
    Blocking,
    CameraSetup,
    Mark,
    SetDescription,
)
from soundstage.layout.motion import ShotMotion
from soundstage.layout.standins import (
    LABEL_GAP,
    TEXT_INK,
    StandIns,
    face_colours,
    label_geometry,
    label_height,
    label_yaw,
    plate_colour,
    prop_colour,
    prop_geometry,
)
from soundstage.plan.model import Shot

# Of the layout contract, in /Shot customData. Version 1 wrote the camera's focal length and
# apertures in millimetres, which USD reads as tenths of a scene unit (a 35 mm lens read as
# 3.5 m on a metres stage); version 2 writes them in USD's unit.
LAYOUT_VERSION = 2
MM_LAYOUT_VERSION = 1
# A tenth of a scene unit, USD's unit for lens and filmback attributes, in millimetres per metre.
_TENTHS = 100.0
# float32 attributes carry about seven digits: 0.35 reads back as 0.34999999.
_MM_DIGITS = 4
_LENS_ATTRIBUTES = (
    "focalLength", "horizontalAperture", "verticalAperture", "horizontalApertureOffset", "verticalApertureOffset",
)  # fmt: skip
ROOT = "/Shot"
CAMERA = f"{ROOT}/Camera"
CHARACTERS = f"{ROOT}/Characters"
PROPS = f"{ROOT}/Set/Props"
LABEL = "Label"  # the child prim of a character or prop that holds its name label
LABELS_VARIANT = "labels"  # the variant set on /Shot that shows or hides every label

# The set is greys, so that the characters' colours stand out in the storyboard pass.
FLOOR_GREY = (0.32, 0.32, 0.32)
WALL_GREY = (0.62, 0.62, 0.62)
HORIZON_GREY = (0.8, 0.8, 0.8)
DRESSING_GREYS = ((0.45, 0.45, 0.45), (0.52, 0.52, 0.52), (0.4, 0.4, 0.4))
WALL_HEIGHT = 3.0
ROOM_FRONT = 3.0  # the side walls run from the back wall to here (the open fourth wall)
FLOOR_FRONT = 15.0  # the floor runs under the cameras
EXTERIOR_REACH = 100.0  # half-size of the exterior ground, beyond the horizon backdrop
HORIZON_DISTANCE = 80.0  # radius of the backdrop round an exterior set
HORIZON_SIDES = 24


# ----------------------------------------------------------------------------- writing


def build_layout(
    shot: Shot,
    blocking: Blocking,
    colours: Mapping[str, RGB],
    ids: Mapping[str, int],
    *,
    stand_ins: StandIns | None = None,
    motion: ShotMotion | None = None,
) -> Usd.Stage:
    """The shot's layout as an in-memory stage: set, characters on their marks, camera.

    ``colours`` and ``ids`` hold each character's stand-in colour and id (1..255) for the
    whole production; every character of ``blocking.marks`` must be in both. The scene's
    props (``blocking.props``) stand on the dressing as coloured boxes. ``stand_ins`` makes
    the figures readable (labels, faces); ``motion`` animates the shot as USD time samples
    (``layout.animation``; a static motion writes none). Without either, and without props,
    the stage is the one Soundstage wrote before they existed, byte for byte.
    """
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    root = UsdGeom.Xform.Define(stage, ROOT).GetPrim()
    stage.SetDefaultPrim(root)
    root.SetCustomData(
        {"soundstage": {"shot": shot.code, "scene": shot.scene, "size": shot.size.value, "version": LAYOUT_VERSION}}
    )
    _add_set(stage, blocking.set)
    labels: list[str] = []
    text_height = label_height(blocking.camera)
    if blocking.props:
        labels += _add_props(stage, blocking, text_height if stand_ins else None)
    UsdGeom.Xform.Define(stage, CHARACTERS)
    for name, path in character_paths(list(blocking.marks)).items():
        mark = blocking.marks[name]
        _add_character(
            stage, path, name, mark, colours[name], ids[name], facing_cue=bool(stand_ins and stand_ins.facing_cue)
        )
        if stand_ins:
            yaw = label_yaw(mark.x, mark.z, blocking.camera) - mark.facing_deg
            lift = mark.height + text_height * LABEL_GAP
            labels.append(
                _add_label(stage, f"{path}/{LABEL}", name, text_height, lift, yaw, plate_colour(colours[name]))
            )
    _add_camera(stage, blocking.camera)
    if stand_ins:
        _labels_variant(stage, labels, shown=stand_ins.labels)
    if motion is not None and not motion.static:
        animate(stage, blocking, motion, character_paths(list(blocking.marks)), CAMERA, LABEL)
    return stage


def character_paths(names: list[str]) -> dict[str, str]:
    """The prim path of each character's stand-in (``/Shot/Characters/<valid name>``)."""
    return {name: f"{CHARACTERS}/{prim}" for name, prim in _prim_names(names).items()}


def set_labels(stage: Usd.Stage, shown: bool) -> None:
    """Show or hide every name label of a layout (its ``labels`` variant), as a DCC's
    variant menu does; a layout without labels is left as it is."""
    root = stage.GetDefaultPrim()
    variants = root.GetVariantSets() if root else None
    if variants is not None and variants.HasVariantSet(LABELS_VARIANT):
        variants.GetVariantSet(LABELS_VARIANT).SetVariantSelection("on" if shown else "off")


def export_layout(stage: Usd.Stage) -> bytes:
    """The .usda text of a layout, as ``save_layout`` writes it."""
    return stage.GetRootLayer().ExportToString().encode("utf-8")


def save_layout(stage: Usd.Stage, path: Path) -> bytes:
    """Write a layout as .usda, atomically (a reader never sees half a file), and return
    the bytes written: their hash tells later whether an artist edited the file."""
    data = export_layout(stage)
    write_atomic(path, data, what="layout", error=ShotError)
    return data


def _prim_names(names: list[str]) -> dict[str, str]:
    """A valid, unique prim name per character ("WILL'S DATE" -> WILL_S_DATE)."""
    out: dict[str, str] = {}
    for name in names:
        base = Tf.MakeValidIdentifier(name)
        candidate, n = base, 2
        while candidate in out.values():
            candidate, n = f"{base}_{n}", n + 1
        out[name] = candidate
    return out


def _add_set(stage: Usd.Stage, stage_set: SetDescription) -> None:
    root = f"{ROOT}/Set"
    UsdGeom.Xform.Define(stage, root)
    if stage_set.interior:
        half, back = stage_set.width / 2, -stage_set.depth
        _mesh(stage, f"{root}/Floor", *_floor(-half, half, back, FLOOR_FRONT), FLOOR_GREY)
        UsdGeom.Xform.Define(stage, f"{root}/Walls")
        walls = {
            "Back": [(-half, back), (half, back)],
            "Left": [(-half, ROOM_FRONT), (-half, back)],
            "Right": [(half, back), (half, ROOM_FRONT)],
        }
        for name, ((x0, z0), (x1, z1)) in walls.items():
            _mesh(stage, f"{root}/Walls/{name}", *_wall(x0, z0, x1, z1, 0.0, WALL_HEIGHT), WALL_GREY)
    else:
        reach = EXTERIOR_REACH
        _mesh(stage, f"{root}/Floor", *_floor(-reach, reach, -reach, reach), FLOOR_GREY)
        _mesh(stage, f"{root}/Horizon", *_horizon(), HORIZON_GREY)
    UsdGeom.Xform.Define(stage, f"{root}/Dressing")
    for n, block in enumerate(stage_set.dressing, start=1):
        points, counts, indices = _box(block.width / 2, block.depth / 2, block.width / 2, block.depth / 2, block.height)
        points += np.array([block.x, 0.0, block.z])
        grey = DRESSING_GREYS[(n - 1) % len(DRESSING_GREYS)]
        _mesh(stage, f"{root}/Dressing/Block_{n}", points, counts, indices, grey)


def _add_character(
    stage: Usd.Stage, path: str, name: str, mark: Mark, colour: RGB, character_id: int, *, facing_cue: bool = False
) -> None:
    xform = UsdGeom.Xform.Define(stage, path)
    xform.AddTranslateOp().Set(Gf.Vec3d(mark.x, 0.0, mark.z))
    xform.AddRotateYOp().Set(mark.facing_deg)
    prim = xform.GetPrim()
    prim.SetDisplayName(name)
    prim.CreateAttribute("soundstage:character", Sdf.ValueTypeNames.String).Set(name)
    prim.CreateAttribute("soundstage:characterId", Sdf.ValueTypeNames.Int).Set(character_id)
    prim.CreateAttribute("soundstage:height", Sdf.ValueTypeNames.Float).Set(mark.height)
    _mesh(stage, f"{path}/Body", *_body(mark.height), colour)
    head = _head(mark.height)
    if facing_cue:
        radius = (1 - CHIN) / 2 * mark.height
        centre = np.array([0.0, (1 + CHIN) / 2 * mark.height, 0.0])
        _mesh(stage, f"{path}/Head", *head, face_colours(head, centre, radius, colour))
    else:
        _mesh(stage, f"{path}/Head", *head, colour)


def _add_label(stage: Usd.Stage, path: str, text: str, height: float, lift: float, yaw: float, plate: RGB) -> str:
    """A name label at ``lift`` above its parent's origin, turned ``yaw`` degrees (to face the
    camera). It is a guide: the still renderer skips it, and so do the depth, line-art and id
    passes of a clip; ``render.labels`` draws it over the storyboard only."""
    xform = UsdGeom.Xform.Define(stage, path)
    xform.AddTranslateOp().Set(Gf.Vec3d(0.0, round(lift, 4), 0.0))
    xform.AddRotateYOp().Set(round(yaw, 3))
    xform.CreatePurposeAttr(UsdGeom.Tokens.guide)
    xform.GetPrim().CreateAttribute("soundstage:label", Sdf.ValueTypeNames.String).Set(text)
    plate_geometry, text_geometry = label_geometry(text, height)
    _mesh(stage, f"{path}/Plate", *plate_geometry, plate)
    _mesh(stage, f"{path}/Text", *text_geometry, TEXT_INK)
    return path


def _add_props(stage: Usd.Stage, blocking: Blocking, text_height: float | None) -> list[str]:
    """The scene's props as coloured boxes on the dressing, each labelled with its name when
    ``text_height`` is given; the label paths."""
    UsdGeom.Xform.Define(stage, PROPS)
    labels = []
    for name, prim_name in _prim_names(list(blocking.props)).items():
        x, y, z = blocking.props[name]
        path = f"{PROPS}/{prim_name}"
        xform = UsdGeom.Xform.Define(stage, path)
        xform.AddTranslateOp().Set(Gf.Vec3d(x, y, z))
        xform.GetPrim().SetDisplayName(name)
        xform.GetPrim().CreateAttribute("soundstage:prop", Sdf.ValueTypeNames.String).Set(name)
        _mesh(stage, f"{path}/Box", *prop_geometry(), prop_colour(name))
        if text_height is not None:
            yaw = label_yaw(x, z, blocking.camera)
            lift = PROP_SIZE[1] + text_height * LABEL_GAP
            labels.append(
                _add_label(stage, f"{path}/{LABEL}", name, text_height, lift, yaw, plate_colour(prop_colour(name)))
            )
    return labels


def _labels_variant(stage: Usd.Stage, labels: list[str], *, shown: bool) -> None:
    """The ``labels`` variant set on /Shot: ``off`` makes every label invisible."""
    variant_set = stage.GetDefaultPrim().GetVariantSets().AddVariantSet(LABELS_VARIANT)
    variant_set.AddVariant("on")
    variant_set.AddVariant("off")
    variant_set.SetVariantSelection("off")
    with variant_set.GetVariantEditContext():
        for path in labels:
            UsdGeom.Imageable(stage.OverridePrim(path)).CreateVisibilityAttr(UsdGeom.Tokens.invisible)
    variant_set.SetVariantSelection("on" if shown else "off")


def _add_camera(stage: Usd.Stage, setup: CameraSetup) -> None:
    camera = UsdGeom.Camera.Define(stage, CAMERA)
    camera.CreateProjectionAttr(UsdGeom.Tokens.perspective)
    mm = _mm_per_lens_unit(stage)
    camera.CreateFocalLengthAttr(setup.focal_length_mm / mm)
    camera.CreateHorizontalApertureAttr(setup.horizontal_aperture_mm / mm)
    camera.CreateVerticalApertureAttr(setup.vertical_aperture_mm / mm)
    camera.CreateClippingRangeAttr(Gf.Vec2f(setup.near, setup.far))
    # Where the camera looks, kept as the focus distance: read_camera gets the target back.
    camera.CreateFocusDistanceAttr(setup.focus_distance)
    # USD matrices act on row vectors: the transpose of framing's column-vector matrix.
    camera.AddTransformOp().Set(Gf.Matrix4d((setup.matrix().T + 0.0).tolist()))  # + 0.0: no -0


def _mesh(
    stage: Usd.Stage, path: str, points: np.ndarray, counts: list[int], indices: list[int], colour: RGB | list[RGB]
) -> None:
    """A stand-in mesh with one colour (``constant``) or one per face (``uniform``)."""
    mesh = UsdGeom.Mesh.Define(stage, path)
    points32 = points.astype(np.float32)
    mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(points32))
    mesh.CreateFaceVertexCountsAttr(Vt.IntArray(counts))
    mesh.CreateFaceVertexIndicesAttr(Vt.IntArray(indices))
    mesh.CreateExtentAttr(Vt.Vec3fArray.FromNumpy(np.stack([points32.min(axis=0), points32.max(axis=0)])))
    # Stand-ins are faceted on purpose: keep DCCs from subdividing them into blobs.
    mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
    if isinstance(colour, list):
        mesh.CreateDisplayColorPrimvar(UsdGeom.Tokens.uniform).Set(Vt.Vec3fArray([Gf.Vec3f(*c) for c in colour]))
    else:
        mesh.CreateDisplayColorPrimvar(UsdGeom.Tokens.constant).Set(Vt.Vec3fArray([Gf.Vec3f(*colour)]))


# ----------------------------------------------------------------------------- geometry
# Hand-made because it is a handful of boxes and one low-poly sphere: a geometry library
# would add a dependency for less code than it takes to call it. Faces wind
# counter-clockwise seen from outside (USD's right-handed default).


def _floor(x0: float, x1: float, z0: float, z1: float) -> tuple[np.ndarray, list[int], list[int]]:
    """A quad on y = 0 facing up."""
    points = np.array([[x0, 0, z1], [x1, 0, z1], [x1, 0, z0], [x0, 0, z0]], dtype=float)
    return points, [4], [0, 1, 2, 3]


def _wall(x0: float, z0: float, x1: float, z1: float, y0: float, y1: float) -> tuple[np.ndarray, list[int], list[int]]:
    """A vertical quad from (x0, z0) to (x1, z1); it faces (z0 - z1, 0, x1 - x0), which is
    into the room for the walls as ``_add_set`` lists them."""
    points = np.array([[x0, y0, z0], [x1, y0, z1], [x1, y1, z1], [x0, y1, z0]], dtype=float)
    return points, [4], [0, 1, 2, 3]


def _horizon() -> tuple[np.ndarray, list[int], list[int]]:
    """A backdrop all round the set (an open cylinder facing in), so that an exterior camera
    sees a horizon whichever way it looks."""
    points, faces = [], []
    for side in range(HORIZON_SIDES):
        angle = 2 * math.pi * side / HORIZON_SIDES
        x, z = HORIZON_DISTANCE * math.sin(angle), HORIZON_DISTANCE * math.cos(angle)
        points += [[x, -5.0, z], [x, 60.0, z]]
        here, after = 2 * side, 2 * ((side + 1) % HORIZON_SIDES)
        faces.append([here, here + 1, after + 1, after])
    return np.array(points), [4] * len(faces), [i for face in faces for i in face]


def _box(
    bottom_x: float, bottom_z: float, top_x: float, top_z: float, height: float, base: float = 0.0
) -> tuple[np.ndarray, list[int], list[int]]:
    """A box (tapered when top and bottom half-sizes differ) from y = base to base + height,
    centred on the Y axis."""
    top = base + height
    points = np.array(
        [
            [-bottom_x, base, -bottom_z], [bottom_x, base, -bottom_z], [bottom_x, base, bottom_z], [-bottom_x, base, bottom_z],
            [-top_x, top, -top_z], [top_x, top, -top_z], [top_x, top, top_z], [-top_x, top, top_z],
        ],
        dtype=float,
    )  # fmt: skip
    faces = [[0, 1, 2, 3], [4, 7, 6, 5], [3, 2, 6, 7], [1, 0, 4, 5], [2, 1, 5, 6], [0, 3, 7, 4]]
    return points, [4] * len(faces), [i for face in faces for i in face]


def _body(height: float) -> tuple[np.ndarray, list[int], list[int]]:
    """Torso (a box widening to the shoulders) and neck, feet at the origin."""
    scale = height / ADULT_HEIGHT
    shoulders = SHOULDERS * height
    torso = _box(0.15 * scale, 0.11 * scale, SHOULDER_HALF_WIDTH * scale, 0.12 * scale, shoulders)
    neck = _box(0.05 * scale, 0.05 * scale, 0.05 * scale, 0.05 * scale, (CHIN + 0.03 - SHOULDERS) * height, shoulders)
    return _join(torso, neck)


def _head(height: float, segments: int = 10, rings: int = 6) -> tuple[np.ndarray, list[int], list[int]]:
    """A low-poly sphere from chin to crown, with a nose on the +Z side so that a glance at
    a storyboard tells which way the character faces."""
    radius = (1 - CHIN) / 2 * height
    centre = np.array([0.0, (1 + CHIN) / 2 * height, 0.0])
    points = [centre + [0, radius, 0]]
    for ring in range(1, rings):
        polar = math.pi * ring / rings
        for segment in range(segments):
            azimuth = 2 * math.pi * segment / segments
            direction = [math.sin(polar) * math.sin(azimuth), math.cos(polar), math.sin(polar) * math.cos(azimuth)]
            points.append(centre + radius * np.array(direction))
    points.append(centre - [0, radius, 0])
    bottom = len(points) - 1

    def at(ring: int, segment: int) -> int:  # rings 1..rings-1
        return 1 + (ring - 1) * segments + segment % segments

    faces = [[0, at(1, s), at(1, s + 1)] for s in range(segments)]
    for ring in range(1, rings - 1):
        faces += [[at(ring, s), at(ring + 1, s), at(ring + 1, s + 1), at(ring, s + 1)] for s in range(segments)]
    faces += [[bottom, at(rings - 1, s + 1), at(rings - 1, s)] for s in range(segments)]
    sphere = (np.array(points), [len(f) for f in faces], [i for f in faces for i in f])
    return _join(sphere, _nose(centre + [0.0, (EYES - (1 + CHIN) / 2) * height * 0.5, 0.0], radius))


def _nose(base: np.ndarray, radius: float) -> tuple[np.ndarray, list[int], list[int]]:
    """A small pyramid poking out of the head towards +Z (its base hidden inside)."""
    half = 0.18 * radius
    inside = 0.85 * radius
    points = np.array(
        [
            base + [-half, half, inside], base + [half, half, inside], base + [half, -half, inside],
            base + [-half, -half, inside], base + [0.0, -0.5 * half, 1.4 * radius],
        ]
    )  # fmt: skip
    faces = [[0, 4, 1], [1, 4, 2], [2, 4, 3], [3, 4, 0]]
    return points, [3] * 4, [i for f in faces for i in f]


def _join(*parts: tuple[np.ndarray, list[int], list[int]]) -> tuple[np.ndarray, list[int], list[int]]:
    """Several pieces as one mesh."""
    points, counts, indices, offset = [], [], [], 0
    for part_points, part_counts, part_indices in parts:
        points.append(part_points)
        counts += part_counts
        indices += [i + offset for i in part_indices]
        offset += len(part_points)
    return np.concatenate(points), counts, indices


# ----------------------------------------------------------------------------- reading


def lens_mm(stage: Usd.Stage, value: float) -> float:
    """A camera's ``focalLength`` or aperture ``value`` on ``stage`` in millimetres.

    USD measures them in tenths of a scene unit (UsdGeomCamera, "Units of Measure"): a tenth
    of ``metersPerUnit``, so millimetres on USD's default centimetre stage and 0.35 for a
    35 mm lens on a metres stage. Soundstage layouts of contract version 1 wrote millimetres
    whatever the stage's unit; they are read as they were meant."""
    return round(float(value) * _mm_per_lens_unit(stage), _MM_DIGITS)


def camera_in_mm(camera: UsdGeom.Camera, time: Usd.TimeCode) -> Gf.Camera:
    """The camera at ``time`` with its lens, filmback and filmback offsets in millimetres.

    Its frustum is USD's (which depends only on the ratios of those values), computed from
    the millimetres rather than from float32 tenths of a metre, so a lens gives the same
    projection to the last bit whichever unit the layout stored it in."""
    stage = camera.GetPrim().GetStage()
    state = camera.GetCamera(time)
    for name in _LENS_ATTRIBUTES:
        setattr(state, name, lens_mm(stage, getattr(state, name)))
    return state


def _mm_per_lens_unit(stage: Usd.Stage) -> float:
    root = stage.GetDefaultPrim()
    info = root.GetCustomDataByKey("soundstage") if root else None
    if isinstance(info, dict) and info.get("version") == MM_LAYOUT_VERSION:
        return 1.0
    return _TENTHS * UsdGeom.GetStageMetersPerUnit(stage)


def read_camera(path: Path, time: float | None = None) -> CameraSetup:
    """The camera of a layout as it is on disk (after any artist's edits): ``/Shot/Camera``,
    else the first camera under the default prim, at frame ``time`` (a time code; None is
    the first frame of an animated layout, the one pose of a static one). The target is the
    point at the camera's focus distance along its view."""
    stage, root = _open(path)
    prim = stage.GetPrimAtPath(CAMERA)
    if not (prim and prim.IsA(UsdGeom.Camera)):
        prim = next((p for p in Usd.PrimRange(root) if p.IsA(UsdGeom.Camera)), None)
        if prim is None:
            raise ShotError(f"{path}: no camera prim under {root.GetPath()}")
    camera = UsdGeom.Camera(prim)
    at = time_code(time)
    matrix = np.array(camera.ComputeLocalToWorldTransform(at)).T  # to column vectors
    position = matrix[:3, 3]
    forward = -matrix[:3, 2] / np.linalg.norm(matrix[:3, 2])
    up = matrix[:3, 1] / np.linalg.norm(matrix[:3, 1])
    # A camera made in a DCC may have no focus distance (USD's default is 0): any point
    # along the view gives the same camera.
    focus = camera.GetFocusDistanceAttr().Get(at) or 1.0
    near, far = camera.GetClippingRangeAttr().Get(at)
    return CameraSetup(
        position=_vec(position),
        target=_vec(position + forward * focus),
        focal_length_mm=lens_mm(stage, camera.GetFocalLengthAttr().Get(at)),
        horizontal_aperture_mm=lens_mm(stage, camera.GetHorizontalApertureAttr().Get(at)),
        vertical_aperture_mm=lens_mm(stage, camera.GetVerticalApertureAttr().Get(at)),
        near=float(near),
        far=float(far),
        up=_vec(up),
    )


def read_marks(path: Path, time: float | None = None) -> dict[str, Mark]:
    """The marks of the characters in a layout as it is on disk, by character name: where
    each stands on the floor and which way they face, from their world transform at frame
    ``time`` (None: the first frame of an animated layout, the one pose of a static one)."""
    stage, root = _open(path)
    characters = stage.GetPrimAtPath(root.GetPath().AppendChild("Characters"))
    marks: dict[str, Mark] = {}
    if not characters:
        return marks
    at = time_code(time)
    for prim in characters.GetChildren():
        name = prim.GetAttribute("soundstage:character")
        if not name or not name.HasValue():
            continue  # something an artist added that is not a character
        height = prim.GetAttribute("soundstage:height")
        world = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(at)
        origin = world.Transform(Gf.Vec3d(0, 0, 0))
        facing = world.TransformDir(Gf.Vec3d(0, 0, 1))
        marks[name.Get()] = Mark(
            x=float(origin[0]),
            z=float(origin[2]),
            facing_deg=math.degrees(math.atan2(facing[0], facing[2])),
            height=float(height.Get()) if height and height.HasValue() else ADULT_HEIGHT,
        )
    return marks


def time_code(time: float | None) -> Usd.TimeCode:
    """The time code to read a layout at: a frame number, or None for the earliest, which is
    the first time sample of an animated attribute and the value of a static one (USD's
    ``Default`` would miss an attribute that has only time samples)."""
    return Usd.TimeCode.EarliestTime() if time is None else Usd.TimeCode(time)


def _open(path: Path) -> tuple[Usd.Stage, Usd.Prim]:
    """The stage of a layout file and its root prim; a ShotError naming the file when it
    cannot be read."""
    if not path.is_file():
        raise ShotError(f"{path}: no such layout file")
    try:
        stage = Usd.Stage.Open(str(path))
    except Tf.ErrorException:
        raise ShotError(f"{path}: not a readable USD layout") from None
    root = stage.GetDefaultPrim() or stage.GetPrimAtPath(ROOT)
    if not root:
        raise ShotError(f"{path}: no {ROOT} prim (and no default prim)")
    return stage, root


def _vec(vector: np.ndarray) -> tuple[float, float, float]:
    return (float(vector[0]), float(vector[1]), float(vector[2]))
