"""Small shot stages built the way the layout contract describes, for the render tests."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from pxr import Gf, Sdf, Usd, UsdGeom, Vt

WIDTH, HEIGHT = 1280, 720
Vec = Sequence[float]


def new_shot(path: Path, *, shot: str = "012_0030", size: str = "MS") -> Usd.Stage:
    """An empty shot stage: Y up, metres, default prim /Shot with its soundstage customData."""
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    root = UsdGeom.Xform.Define(stage, "/Shot").GetPrim()
    stage.SetDefaultPrim(root)
    root.SetCustomDataByKey("soundstage", {"shot": shot, "scene": "12", "size": size, "version": 1})
    UsdGeom.Xform.Define(stage, "/Shot/Set")
    UsdGeom.Xform.Define(stage, "/Shot/Characters")
    return stage


def look_at(eye: Vec, target: Vec, roll_degrees: float = 0.0) -> Gf.Matrix4d:
    """A camera transform at ``eye`` looking at ``target`` (local -Z forward, +Y up), rolled
    about the view axis; rows are right, up, back and position (USD row-vector matrices)."""
    forward = (Gf.Vec3d(*target) - Gf.Vec3d(*eye)).GetNormalized()
    right = Gf.Cross(forward, Gf.Vec3d(0, 1, 0)).GetNormalized()
    up = Gf.Cross(right, forward)
    roll = math.radians(roll_degrees)
    right, up = right * math.cos(roll) + up * math.sin(roll), up * math.cos(roll) - right * math.sin(roll)
    return Gf.Matrix4d(*right, 0, *up, 0, *(-forward), 0, *eye, 1)


def add_camera(
    stage: Usd.Stage,
    eye: Vec,
    target: Vec,
    *,
    focal_length: float = 35.0,
    roll_degrees: float = 0.0,
    clipping: tuple[float, float] = (0.1, 200.0),
    path: str = "/Shot/Camera",
) -> UsdGeom.Camera:
    """The shot camera as the contract writes it: 36 x 20.25 mm apertures, one xformOp:transform."""
    camera = UsdGeom.Camera.Define(stage, path)
    camera.CreateFocalLengthAttr(focal_length)
    camera.CreateHorizontalApertureAttr(36.0)
    camera.CreateVerticalApertureAttr(20.25)
    camera.CreateClippingRangeAttr(Gf.Vec2f(*clipping))
    camera.CreateProjectionAttr(UsdGeom.Tokens.perspective)
    camera.AddTransformOp().Set(look_at(eye, target, roll_degrees))
    return camera


def add_mesh(
    stage: Usd.Stage, path: str, points: Sequence[Vec], faces: Sequence[Sequence[int]], color: Vec
) -> UsdGeom.Mesh:
    """A mesh of quads and triangles with a constant displayColor and its extent."""
    mesh = UsdGeom.Mesh.Define(stage, path)
    mesh.CreatePointsAttr(Vt.Vec3fArray([Gf.Vec3f(*p) for p in points]))
    mesh.CreateFaceVertexCountsAttr([len(face) for face in faces])
    mesh.CreateFaceVertexIndicesAttr([index for face in faces for index in face])
    mesh.CreateDisplayColorPrimvar(UsdGeom.Tokens.constant).Set([Gf.Vec3f(*color)])
    mesh.CreateExtentAttr(UsdGeom.Mesh.ComputeExtent(mesh.GetPointsAttr().Get()))
    return mesh


def add_box(stage: Usd.Stage, path: str, low: Vec, high: Vec, color: Vec) -> UsdGeom.Mesh:
    """An axis-aligned box from corner ``low`` to corner ``high``, six outward quads."""
    points = [(x, y, z) for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    return add_mesh(stage, path, points, faces, color)


def add_marker(stage: Usd.Stage, path: str, center: Vec, facing: Vec, half: float, color: Vec) -> UsdGeom.Mesh:
    """A small square quad centred on ``center``, turned to face the point ``facing``."""
    normal = (Gf.Vec3d(*facing) - Gf.Vec3d(*center)).GetNormalized()
    side = Gf.Cross(normal, Gf.Vec3d(0, 1, 0)).GetNormalized() * half
    up = Gf.Cross(side, normal).GetNormalized() * half
    c = Gf.Vec3d(*center)
    return add_mesh(stage, path, [c - side - up, c + side - up, c + side + up, c - side + up], [(0, 1, 2, 3)], color)


def add_character(
    stage: Usd.Stage,
    name: str,
    character_id: int,
    mark: Vec = (0.0, 0.0, 0.0),
    *,
    facing_degrees: float = 0.0,
    height: float = 1.7,
    color: Vec = (0.8, 0.3, 0.2),
) -> Usd.Prim:
    """A stand-in character on its mark: Body and Head boxes in local space (feet at the
    origin, facing +Z), tagged with its name and id as the contract says."""
    xform = UsdGeom.Xform.Define(stage, f"/Shot/Characters/{name.title()}")
    xform.AddTranslateOp().Set(Gf.Vec3d(*mark))
    xform.AddRotateYOp().Set(facing_degrees)
    prim = xform.GetPrim()
    prim.CreateAttribute("soundstage:character", Sdf.ValueTypeNames.String).Set(name)
    prim.CreateAttribute("soundstage:characterId", Sdf.ValueTypeNames.Int).Set(character_id)
    prim.CreateAttribute("soundstage:height", Sdf.ValueTypeNames.Float).Set(height)
    prim.SetDisplayName(name)
    head = height * 0.13
    add_box(stage, f"{prim.GetPath()}/Body", (-0.22, 0, -0.14), (0.22, height - head, 0.14), color)
    add_box(stage, f"{prim.GetPath()}/Head", (-0.1, height - head, -0.11), (0.1, height, 0.11), color)
    return prim


def add_floor(stage: Usd.Stage, half: float = 20.0) -> UsdGeom.Mesh:
    """The set's floor, a square at y = 0."""
    points = [(-half, 0, -half), (half, 0, -half), (half, 0, half), (-half, 0, half)]
    return add_mesh(stage, "/Shot/Set/Floor", points, [(0, 3, 2, 1)], (0.55, 0.5, 0.45))


def project(stage: Usd.Stage, point: Vec, width: int = WIDTH, height: int = HEIGHT) -> tuple[float, float]:
    """Pixel coordinates of a world point, with exactly the maths of the projection contract."""
    frustum = UsdGeom.Camera(stage.GetPrimAtPath("/Shot/Camera")).GetCamera(Usd.TimeCode.Default()).frustum
    clip = Gf.Vec4d(point[0], point[1], point[2], 1) * frustum.ComputeViewMatrix() * frustum.ComputeProjectionMatrix()
    ndc = (clip[0] / clip[3], clip[1] / clip[3])
    return (ndc[0] * 0.5 + 0.5) * width, (1 - (ndc[1] * 0.5 + 0.5)) * height
