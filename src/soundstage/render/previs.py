"""Previs passes of one shot: storyboard colour, depth, line art and character ids.

``load_scene`` reads a shot's USD stage (the layout contract: meshes under the default prim,
characters tagged ``soundstage:characterId``, the camera at ``/Shot/Camera``) into flat
triangle arrays. ``PrevisRenderer`` draws them once, in a single pass with five render targets
on the process's one headless GL context, and derives every pass from that one read-back, so
the passes line up pixel for pixel and match the USD camera exactly (the projection is USD's
own frustum maths, see ``SceneGeometry.view``).

Pass conventions:

* ``storyboard``: uint8 HxWx3. Flat toon shading (three bands) of each mesh's displayColor
  under a key light fixed to the camera (above and left of the lens, so faces turned to camera
  are lit in every shot), a light flat sky, dark outlines where line art has lines, and an
  optional burn-in (shot code, size, lens) in the bottom-left corner.
* ``depth``: uint16 HxW, ControlNet convention (near is bright). Inverse distance along the
  view axis, normalised over the visible geometry: the nearest visible surface is 65535, the
  farthest is 1 and empty sky is 0. Inverse (disparity-like) rather than linear because depth
  ControlNets were trained on MiDaS maps, which are inverse depth, and because a far exterior
  horizon would otherwise squash everyone in the foreground into a few grey levels.
  ``Passes.depth_range`` holds the distances (metres) mapped to 65535 and 1, which makes the
  pass invertible: ``1/z = 1/far + (v - 1) / 65534 * (1/near - 1/far)``.
* ``lineart``: uint8 HxW, white (255) lines on black, the ControlNet line-art convention.
  Lines are two pixels wide, one on each side of every edge between neighbouring pixels that
  lie on different surfaces (another mesh, or faces of one mesh meeting at a crease of more
  than 30 degrees) or where the distance jumps by more than 5% (one surface in front of
  itself; found as a kink in log distance, so that a floor running to the horizon stays clean).
* ``ids``: uint8 HxW, the ``soundstage:characterId`` of the character seen at each pixel,
  0 for the set and the sky.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

import moderngl
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pxr import Gf, Tf, Usd, UsdGeom

from soundstage.errors import RenderError
from soundstage.layout.usd import camera_in_mm, time_code
from soundstage.render.gl import gl_context

CAMERA_PATH = "/Shot/Camera"
# The passes every render makes, as named on Passes.
PASSES = ("storyboard", "depth", "lineart", "ids")
# Faces of one mesh meeting at more than this angle get a line between them (a crease).
CREASE_DEGREES = 30.0
# Neighbouring pixels whose distances differ by more than this fraction get a line (an occlusion
# edge inside one surface, e.g. an arm in front of its own body).
DEPTH_JUMP = 0.05
LOG_DISTANCE_STEPS = 16383  # log distance between the clipping planes, in 14 bits
SKY = (0.86, 0.89, 0.93)
INK = (38, 38, 46)
NEUTRAL = (0.62, 0.62, 0.62)  # meshes without displayColor
# Camera-space direction towards the key light: above, left of and behind the lens.
KEY_LIGHT = (-0.45, 0.65, 0.6)
# Toon bands: lit, turned away, in shadow (fractions of the displayColor).
BANDS = (1.0, 0.8, 0.64)
BURN_IN_HEIGHT = 0.028  # burn-in text height, fraction of the frame height

_VERTEX_SHADER = """
#version 330
// USD's view * projection. USD matrices are row-vector; uploaded row by row, GLSL reads them
// column by column, i.e. transposed, which is the column-vector matrix GLSL multiplies with.
uniform mat4 u_view_projection;
uniform mat4 u_view;
uniform vec3 u_key_light;
uniform vec3 u_bands;
in vec3 in_position;
in vec3 in_normal;
in vec3 in_color;
in float in_character;
in float in_surface;
flat out vec3 v_color;
flat out float v_character;
flat out float v_surface;
out float v_distance;

void main() {
    vec4 world = vec4(in_position, 1.0);
    vec3 eye = (u_view * world).xyz;
    vec3 normal = mat3(u_view) * in_normal;
    // Double-sided: shade the side that faces the camera, whatever the mesh's winding. The sign
    // is the same at the three corners because they lie on one plane.
    if (dot(normal, eye) > 0.0) normal = -normal;
    float light = dot(normal, u_key_light);
    v_color = in_color * (light > 0.35 ? u_bands.x : (light > -0.15 ? u_bands.y : u_bands.z));
    v_character = in_character / 255.0;
    v_surface = in_surface;
    v_distance = -eye.z;
    gl_Position = u_view_projection * world;
    // Flip y so that row 0 of the read-back is the top of frame, as in the pixel contract.
    gl_Position.y = -gl_Position.y;
}
"""

_FRAGMENT_SHADER = """
#version 330
uniform vec2 u_log_distance;  // log(near), 16383/65535 / log(far/near)
flat in vec3 v_color;
flat in float v_character;
flat in float v_surface;
in float v_distance;
layout(location = 0) out vec3 o_color;
layout(location = 1) out float o_character;
layout(location = 2) out float o_surface;
layout(location = 3) out float o_log_distance;
layout(location = 4) out float o_inverse_distance;

void main() {
    o_color = v_color;
    o_character = v_character;
    o_surface = v_surface;
    // Log distance in 14 bits: a relative depth jump is then an integer difference, and the
    // second differences of 14-bit values never overflow int16 in numpy.
    o_log_distance = (log(v_distance) - u_log_distance.x) * u_log_distance.y;
    o_inverse_distance = 1.0 / v_distance;
}
"""


@dataclass(frozen=True, eq=False)
class SceneGeometry:
    """One shot's stage, flattened for drawing: world-space triangles and the USD camera.

    ``view`` and ``projection`` are USD's own matrices (row-vector convention): a world point
    P lands at ``clip = [P, 1] @ view @ projection``, then ``x = (ndc_x / 2 + 0.5) * width``,
    ``y = (0.5 - ndc_y / 2) * height`` with the origin at the top-left corner of the frame.
    """

    path: Path
    triangles: np.ndarray  # (T, 3, 3) float32, world-space corners
    normals: np.ndarray  # (T, 3) float32, world-space unit face normals
    colors: np.ndarray  # (T, 3) float32, displayColor
    character_ids: np.ndarray  # (T,) uint8, 0 for the set
    surfaces: np.ndarray  # (T,) uint32, one key per smooth surface (>= 1), see _smooth_surfaces
    characters: dict[int, str]  # characterId -> name as in the script
    camera_path: str
    view: np.ndarray  # (4, 4) float64
    projection: np.ndarray  # (4, 4) float64
    clipping_range: tuple[float, float]  # metres
    focal_length: float  # mm
    shot: str | None  # shot code from /Shot customData, when the stage has it
    size: str | None  # shot size (CU, WS...) from /Shot customData

    @property
    def slate(self) -> str:
        """The burn-in text for this shot: shot code, size and lens, e.g. ``012_0030  CU  35mm``."""
        parts = [self.shot or self.path.stem, self.size or "", f"{self.focal_length:g}mm"]
        return "  ".join(part for part in parts if part)


@dataclass(frozen=True, eq=False)
class Passes:
    """The previs passes of one frame, all HxW and pixel-aligned (see the module docstring)."""

    storyboard: np.ndarray  # uint8 HxWx3
    depth: np.ndarray  # uint16 HxW, near = 65535, sky = 0
    lineart: np.ndarray  # uint8 HxW, white lines on black
    ids: np.ndarray  # uint8 HxW, characterId, 0 = not a character
    depth_range: tuple[float, float] | None  # metres mapped to 65535 and 1; None when nothing is visible


def load_scene(path: Path, *, time: float | None = None) -> SceneGeometry:
    """Read a shot's USD stage: every visible Mesh under the default prim, triangulated (fan),
    with world transforms, displayColor and character ids, and the camera at ``/Shot/Camera``
    (else the first Camera prim), at frame ``time`` of an animated layout (None: its first
    frame; a static layout has one pose whatever the time).

    Raises RenderError (one line naming the file, and the prim where there is one) when the
    file is missing or not a USD stage, when there is no camera, or when a mesh is malformed.
    """
    path = Path(path)
    stage = _open_stage(path)
    root = stage.GetDefaultPrim() or stage.GetPseudoRoot()
    camera_prim = _find_camera(stage, root, path)
    at = time_code(time)
    frustum, clipping_range, focal_length = _camera(camera_prim, path, at)
    view = np.array(frustum.ComputeViewMatrix())
    triangles, normals, colors, character_ids, surfaces = _triangulate(_read_meshes(root, path, at))
    # Nearest first: the rasteriser then rejects hidden fragments before shading them
    # (about 15% of the draw on llvmpipe with a set behind the characters).
    order = np.argsort(-(triangles.mean(axis=1) @ view[:3, 2]), kind="stable")
    info = root.GetCustomDataByKey("soundstage") or {}
    return SceneGeometry(
        path=path,
        triangles=triangles[order].astype(np.float32),
        normals=normals[order].astype(np.float32),
        colors=colors[order].astype(np.float32),
        character_ids=character_ids[order],
        surfaces=surfaces[order],
        characters=_character_names(root),
        camera_path=str(camera_prim.GetPath()),
        view=view,
        projection=np.array(frustum.ComputeProjectionMatrix()),
        clipping_range=clipping_range,
        focal_length=focal_length,
        shot=_text(info.get("shot")),
        size=_text(info.get("size")),
    )


def _open_stage(path: Path) -> Usd.Stage:
    if not path.is_file():
        raise RenderError(f"{path}: no such USD file")
    try:
        return Usd.Stage.Open(str(path))
    except Tf.ErrorException as error:
        # USD reports a chain of errors; the first one says what is wrong and where.
        reasons = re.findall(r" : '(.*)'$", str(error), flags=re.MULTILINE)
        raise RenderError(f"{path}: not a readable USD stage: {reasons[0] if reasons else error}") from None


def _find_camera(stage: Usd.Stage, root: Usd.Prim, path: Path) -> Usd.Prim:
    prim = stage.GetPrimAtPath(CAMERA_PATH)
    if prim and prim.IsA(UsdGeom.Camera):
        return prim
    for prim in Usd.PrimRange(root):
        if prim.IsA(UsdGeom.Camera):
            return prim
    raise RenderError(f"{path}: no camera: {CAMERA_PATH} is missing and no other Camera prim is under {root.GetPath()}")


def _camera(prim: Usd.Prim, path: Path, time: Usd.TimeCode) -> tuple[Gf.Frustum, tuple[float, float], float]:
    camera = camera_in_mm(UsdGeom.Camera(prim), time)
    near, far = camera.clippingRange.min, camera.clippingRange.max
    projection = np.array(camera.frustum.ComputeProjectionMatrix())
    if not (0 < near < far and np.isfinite(projection).all()):
        raise RenderError(
            f"{path}: {prim.GetPath()}: camera cannot project (focalLength {camera.focalLength}, "
            f"apertures {camera.horizontalAperture} x {camera.verticalAperture}, clippingRange {near} to {far})"
        )
    return camera.frustum, (near, far), camera.focalLength


@dataclass(frozen=True, eq=False)
class _Mesh:
    """One mesh as the stage has it, in world space, before triangulation."""

    points: np.ndarray  # (P, 3) float64
    counts: np.ndarray  # (F,) corners per face
    indices: np.ndarray  # (sum of counts,) into points
    face_colors: np.ndarray  # (F, 3)
    character_id: int


def _read_meshes(root: Usd.Prim, path: Path, time: Usd.TimeCode) -> list[_Mesh]:
    """Every visible, renderable mesh under ``root``."""
    xforms = UsdGeom.XformCache(time)
    meshes = []
    prims = iter(Usd.PrimRange(root, Usd.TraverseInstanceProxies()))
    for prim in prims:
        imageable = UsdGeom.Imageable(prim)
        if imageable and (
            imageable.GetVisibilityAttr().Get() == UsdGeom.Tokens.invisible
            or imageable.GetPurposeAttr().Get() in (UsdGeom.Tokens.guide, UsdGeom.Tokens.proxy)
        ):
            prims.PruneChildren()  # visibility and purpose are inherited by the whole subtree
            continue
        if prim.IsA(UsdGeom.Mesh):
            mesh = _read_mesh(prim, xforms, path)
            if mesh is not None:
                meshes.append(mesh)
    return meshes


def _read_mesh(prim: Usd.Prim, xforms: UsdGeom.XformCache, path: Path) -> _Mesh | None:
    mesh = UsdGeom.Mesh(prim)
    points, counts, indices = (
        mesh.GetPointsAttr().Get(),
        mesh.GetFaceVertexCountsAttr().Get(),
        mesh.GetFaceVertexIndicesAttr().Get(),
    )
    if not points or not counts or not indices:
        return None
    points, counts, indices = np.asarray(points, np.float64), np.asarray(counts, np.int64), np.asarray(indices)
    if counts.sum() != len(indices) or indices.min() < 0 or indices.max() >= len(points) or counts.min() < 0:
        raise RenderError(f"{path}: {prim.GetPath()}: faceVertexCounts and faceVertexIndices do not match the points")
    character_id = _character_id(prim)
    if not 0 <= character_id <= 255:  # the id pass is 8 bits
        raise RenderError(f"{path}: {prim.GetPath()}: soundstage:characterId {character_id} is outside 1..255")
    world = np.array(xforms.GetLocalToWorldTransform(prim))
    return _Mesh(
        points=points @ world[:3, :3] + world[3, :3],
        counts=counts,
        indices=indices,
        face_colors=_display_colors(mesh, len(counts)),
        character_id=character_id,
    )


def _display_colors(mesh: UsdGeom.Mesh, faces: int) -> np.ndarray:
    """One colour per face."""
    primvar = mesh.GetDisplayColorPrimvar()
    values = primvar.ComputeFlattened() if primvar and primvar.HasValue() else None
    if not values:
        return np.tile(NEUTRAL, (faces, 1))
    values = np.asarray(values, np.float64)
    interpolation = primvar.GetInterpolation()
    if interpolation == UsdGeom.Tokens.uniform and len(values) == faces:
        return values
    # Constant (the contract) takes its one value; per-vertex colours are averaged, as flat
    # previs shading has one colour per mesh anyway.
    return np.tile(values[0] if interpolation == UsdGeom.Tokens.constant else values.mean(axis=0), (faces, 1))


def _character_id(prim: Usd.Prim) -> int:
    """The ``soundstage:characterId`` of the nearest ancestor (or the prim) that has one, else 0."""
    while prim:
        attribute = prim.GetAttribute("soundstage:characterId")
        if attribute and attribute.HasValue():
            return int(attribute.Get())
        prim = prim.GetParent()
    return 0


def _character_names(root: Usd.Prim) -> dict[int, str]:
    names = {}
    for prim in Usd.PrimRange(root):
        attribute = prim.GetAttribute("soundstage:characterId")
        if attribute and attribute.HasValue():
            name = prim.GetAttribute("soundstage:character")
            names[int(attribute.Get())] = str(name.Get()) if name and name.HasValue() else prim.GetName()
    return names


def _triangulate(meshes: list[_Mesh]) -> tuple[np.ndarray, ...]:
    """Triangles (T, 3, 3), normals, colours, character ids and surface keys of all meshes.

    All meshes are processed as one: a shot has a few dozen small meshes, and per-mesh numpy
    calls would cost more in call overhead than in arithmetic.
    """
    point_counts = [len(mesh.points) for mesh in meshes]
    first_points = np.cumsum([0, *point_counts[:-1]])
    points = np.concatenate([mesh.points for mesh in meshes] or [np.empty((0, 3))])
    counts = np.concatenate([mesh.counts for mesh in meshes] or [np.empty(0, np.int64)])
    indices = np.concatenate([mesh.indices + first for mesh, first in zip(meshes, first_points)] or [np.empty(0, int)])
    corners, faces = _fan(counts, indices)
    triangles = points[corners]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    colors = np.concatenate([mesh.face_colors for mesh in meshes] or [np.empty((0, 3))])[faces]
    face_counts = [len(mesh.counts) for mesh in meshes]
    character_ids = np.repeat([mesh.character_id for mesh in meshes], face_counts).astype(np.uint8)[faces]
    mesh_of_point = np.repeat(np.arange(len(meshes)), point_counts)
    # Keys travel through GL as float32, exact up to 2**24 triangles, far beyond a previs set.
    surfaces = (_smooth_surfaces(points, mesh_of_point, corners, normals) + 1).astype(np.uint32)
    return triangles, normals, colors, character_ids, surfaces


def _fan(counts: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fan-triangulate polygons: (T, 3) point indices and, per triangle, the face it came from."""
    per_face = np.maximum(counts - 2, 0)
    starts = np.cumsum(counts) - counts
    faces = np.repeat(np.arange(len(counts)), per_face)
    step = np.arange(per_face.sum()) - np.repeat(np.cumsum(per_face) - per_face, per_face) + 1
    first = starts[faces]
    return np.stack([indices[first], indices[first + step], indices[first + step + 1]], axis=1), faces


def _smooth_surfaces(
    points: np.ndarray, mesh_of_point: np.ndarray, corners: np.ndarray, normals: np.ndarray
) -> np.ndarray:
    """Label each triangle with its smooth surface (0-based): triangles of one mesh sharing an
    edge belong together unless they meet at more than CREASE_DEGREES.

    Creases are found on the mesh, not per pixel, because comparing normals between pixels
    costs three texture reads per neighbour, which is most of a frame's budget on llvmpipe.
    """
    # Weld by position within each mesh: meshes often repeat corner points per face to get
    # hard normals, and two meshes never share a surface.
    _, welded = np.unique(np.column_stack([mesh_of_point, np.round(points, 5)]), axis=0, return_inverse=True)
    welded = welded.reshape(-1)
    ends = np.sort(welded[corners][:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    edge_keys = ends[:, 0] * (len(points) + 1) + ends[:, 1]
    order = np.argsort(edge_keys, kind="stable")
    triangle_of = np.repeat(np.arange(len(corners)), 3)[order]
    shared = edge_keys[order][1:] == edge_keys[order][:-1]
    a, b = triangle_of[1:][shared], triangle_of[:-1][shared]
    # abs(): a neighbour with flipped winding is still the same surface.
    smooth = np.abs(np.einsum("ij,ij->i", normals[a], normals[b])) >= math.cos(math.radians(CREASE_DEGREES))
    return _connected_labels(len(corners), a[smooth], b[smooth])


def _connected_labels(count: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of the graph with edges (a[i], b[i]): each node gets the smallest
    node number of its component (label propagation with pointer jumping; no scipy needed)."""
    labels = np.arange(count)
    while True:
        lowest = np.minimum(labels[a], labels[b])
        updated = labels.copy()
        np.minimum.at(updated, a, lowest)
        np.minimum.at(updated, b, lowest)
        updated = updated[updated]
        if np.array_equal(updated, labels):
            return labels
        labels = updated


def _text(value: object) -> str | None:
    return str(value) if value is not None else None


class _Targets:
    """The render targets of one frame size, kept and reused for every shot of that size."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        self.textures = [
            ctx.texture(size, 3),  # colour
            ctx.texture(size, 1),  # character id / 255
            ctx.texture(size, 1, dtype="f4"),  # surface key
            ctx.texture(size, 1, dtype="nu2"),  # log distance, 14 bits
            ctx.texture(size, 1, dtype="f4"),  # 1 / distance
        ]
        self.depth = ctx.depth_renderbuffer(size)
        self.frame = ctx.framebuffer(self.textures, self.depth)
        # Framebuffer.clear clears every attachment to one value; the sky colour goes to the
        # colour target only, zero (no character, no surface) to the others.
        self.sky = ctx.framebuffer(self.textures[:1])
        # 1 / distance is read only where a surface was drawn, so that target is never cleared.
        self.data = ctx.framebuffer(self.textures[1:4], self.depth)

    def read(self) -> tuple[np.ndarray, ...]:
        """Fresh arrays (the caller keeps them) of colour, id, surface, log and inverse distance."""
        width, height = self.frame.size
        colour = np.empty((height, width, 3), np.uint8)
        ids = np.empty((height, width), np.uint8)
        # Surface keys are float32 in GL; read as raw bits, equal keys are equal integers.
        surfaces = np.empty((height, width), np.uint32)
        log_distance = np.empty((height, width), np.int16)
        inverse_distance = np.empty((height, width), np.float32)
        self.frame.read_into(colour, components=3, attachment=0)
        self.frame.read_into(ids, components=1, attachment=1)
        self.frame.read_into(surfaces, components=1, attachment=2, dtype="f4")
        self.frame.read_into(log_distance, components=1, attachment=3, dtype="nu2")
        self.frame.read_into(inverse_distance, components=1, attachment=4, dtype="f4")
        return colour, ids, surfaces, log_distance, inverse_distance

    def release(self) -> None:
        for framebuffer in (self.frame, self.sky, self.data):
            framebuffer.release()
        for texture in self.textures:
            texture.release()
        self.depth.release()


class PrevisRenderer:
    """Renders previs passes on the process's GL context; create once, render many shots.

    Holds the compiled shaders and one set of render targets per frame size. Per shot it only
    uploads the shot's triangles and releases them once drawn. GL contexts belong to
    the thread that created them: render from that thread.
    """

    def __init__(self) -> None:
        self._ctx = gl_context()
        self._program = self._ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self._program["u_key_light"].value = tuple(np.array(KEY_LIGHT) / np.linalg.norm(KEY_LIGHT))
        self._program["u_bands"].value = BANDS
        self._targets: dict[tuple[int, int], _Targets] = {}

    def render(
        self, geometry: SceneGeometry, width: int = 1280, height: int = 720, burn_in: str | None = None
    ) -> Passes:
        """All previs passes of one shot at ``width`` x ``height``.

        The frame should have the aspect of the camera's apertures (16:9 in the layout
        contract): the USD projection maps the aperture onto the whole frame, as the pixel
        contract says, so another aspect stretches the picture.
        """
        self.draw(geometry, width, height)
        return self.passes(self.read(width, height), geometry, burn_in)

    # render() in three steps, for a caller that overlaps GL with other work (render.clips
    # draws the next frame of a clip while the CPU finishes this one): draw, read, passes.

    def draw(self, geometry: SceneGeometry, width: int = 1280, height: int = 720) -> None:
        """Queue the drawing of one shot into the targets of its frame size; GL may still be
        drawing when this returns, until ``read``."""
        ctx = gl_context()  # the same context; raises if called from another thread
        targets = self._targets.get((width, height))
        if targets is None:
            targets = self._targets[width, height] = _Targets(ctx, (width, height))
        self._draw(ctx, geometry, targets)

    def read(self, width: int = 1280, height: int = 720) -> tuple[np.ndarray, ...]:
        """What the last ``draw`` at this size left in the targets (waits for GL to finish)."""
        gl_context()
        return self._targets[width, height].read()

    def passes(self, targets: tuple[np.ndarray, ...], geometry: SceneGeometry, burn_in: str | None = None) -> Passes:
        """The previs passes from a ``read`` of ``geometry``'s draw (numpy only; any thread)."""
        storyboard, ids, surfaces, log_distance, inverse_distance = targets
        near, far = geometry.clipping_range
        lines = _lines(
            surfaces, log_distance, round(math.log1p(DEPTH_JUMP) * LOG_DISTANCE_STEPS / math.log(far / near))
        )
        storyboard.reshape(-1, 3)[np.flatnonzero(lines)] = INK
        if burn_in:
            _burn_in(storyboard, burn_in)
        depth, depth_range = _depth(inverse_distance, surfaces != 0)
        return Passes(
            storyboard=storyboard,
            depth=depth,
            lineart=lines.view(np.uint8) * np.uint8(255),
            ids=ids,
            depth_range=depth_range,
        )

    def _draw(self, ctx: moderngl.Context, geometry: SceneGeometry, targets: _Targets) -> None:
        targets.sky.clear(*SKY)
        targets.data.clear(depth=1.0)
        count = len(geometry.triangles)
        if not count:
            return
        near, far = geometry.clipping_range
        program = self._program
        program["u_view_projection"].write((geometry.view @ geometry.projection).astype(np.float32))
        program["u_view"].write(geometry.view.astype(np.float32))
        program["u_log_distance"].value = (math.log(near), LOG_DISTANCE_STEPS / 65535 / math.log(far / near))
        # Flat attributes repeat on the three corners: a triangle is drawn with its own
        # normal, colour, id and surface whatever vertex GL takes them from.
        per_corner = np.hstack(
            [geometry.normals, geometry.colors, geometry.character_ids[:, None], geometry.surfaces[:, None]]
        )
        vertices = np.concatenate([geometry.triangles, np.repeat(per_corner[:, None], 3, axis=1)], axis=2)
        buffer = ctx.buffer(vertices.astype(np.float32))
        vertex_array = ctx.vertex_array(
            program,
            [(buffer, "3f 3f 3f 1f 1f", "in_position", "in_normal", "in_color", "in_character", "in_surface")],
        )
        targets.frame.use()
        ctx.enable(moderngl.DEPTH_TEST)
        vertex_array.render(moderngl.TRIANGLES)
        vertex_array.release()
        buffer.release()

    def close(self) -> None:
        """Release the shaders and render targets (the shared context stays). GL objects are
        not garbage-collected: a renderer that is dropped without close() keeps them."""
        for targets in self._targets.values():
            targets.release()
        self._targets.clear()
        self._program.release()

    def __enter__(self) -> PrevisRenderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _lines(surfaces: np.ndarray, log_distance: np.ndarray, jump: int) -> np.ndarray:
    """Where line art draws: both pixels beside every edge between different surfaces, and
    both pixels beside every jump in distance of more than ``jump`` (log-distance steps).

    Jumps are found as kinks (second differences) rather than steps (first differences): on a
    plane seen at a grazing angle, such as a floor running to the horizon, the distance grows
    by more than DEPTH_JUMP from pixel to pixel, but its log bends only by the square of that.
    """
    lines = np.zeros(surfaces.shape, bool)
    across = surfaces[:, 1:] != surfaces[:, :-1]
    lines[:, 1:] |= across
    lines[:, :-1] |= across
    down = surfaces[1:] != surfaces[:-1]
    lines[1:] |= down
    lines[:-1] |= down
    bend = log_distance[:, 2:] + log_distance[:, :-2]
    bend -= 2 * log_distance[:, 1:-1]
    lines[:, 1:-1] |= np.abs(bend) > jump
    bend = log_distance[2:] + log_distance[:-2]
    bend -= 2 * log_distance[1:-1]
    lines[1:-1] |= np.abs(bend) > jump
    return lines


def _depth(inverse_distance: np.ndarray, visible: np.ndarray) -> tuple[np.ndarray, tuple[float, float] | None]:
    """The 16-bit depth pass: inverse distance stretched over the visible geometry."""
    if not visible.any():
        return np.zeros(inverse_distance.shape, np.uint16), None
    nearest = float(inverse_distance.max(where=visible, initial=0.0))
    farthest = float(inverse_distance.min(where=visible, initial=np.inf))
    if nearest > farthest:
        # The sky (garbage: that target is not cleared) is raised to the farthest surface, and
        # zeroed by the mask; +1.5 then truncation rounds the farthest surface to 1.
        value = np.maximum(inverse_distance, np.float32(farthest))
        value -= np.float32(farthest)
        value *= np.float32(65534 / (nearest - farthest))
        value += np.float32(1.5)
        depth = value.astype(np.uint16)
    else:  # one flat surface square to the camera fills the view: all of it is nearest
        depth = np.full(inverse_distance.shape, 65535, np.uint16)
    depth *= visible
    return depth, (1 / nearest, 1 / farthest)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size)


def _burn_in(image: np.ndarray, text: str) -> None:
    """Burn ``text`` into the bottom-left corner, white on a darkened box; only the box changes."""
    height, width = image.shape[:2]
    font = _font(max(10, round(height * BURN_IN_HEIGHT)))
    left, top, right, bottom = font.getbbox(text)
    pad = max(2, (bottom - top) // 3)
    # A margin of one pad from the frame's edges; on a tiny frame the box is cut, not moved.
    y0 = max(0, height - (bottom - top + 3 * pad))
    corner = image[y0 : height - pad, pad : pad + right - left + 2 * pad]
    box = Image.fromarray(corner // 3)  # darken under the text so it reads on any colour
    ImageDraw.Draw(box).text((pad - left, pad - top), text, fill=(255, 255, 255), font=font)
    corner[:] = np.asarray(box)


def to_png(array: np.ndarray) -> bytes:
    """PNG bytes of a pass: RGB for HxWx3, 8-bit grey for uint8 HxW, 16-bit grey for uint16 HxW."""
    if array.dtype == np.uint16:
        image = Image.frombuffer("I;16", (array.shape[1], array.shape[0]), np.ascontiguousarray(array, "<u2"))
    else:
        image = Image.fromarray(np.ascontiguousarray(array))
    out = BytesIO()
    # zlib level 1: a third of the default's time for passes that are mostly flat colour, at
    # files a little larger; encoding otherwise costs more than rendering.
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def read_png(source: Path | bytes) -> np.ndarray:
    """A pass back from its PNG (a file or its bytes), as ``to_png`` wrote it: RGB uint8 HxWx3,
    grey uint8 HxW, or 16-bit grey uint16 HxW."""
    with Image.open(BytesIO(source) if isinstance(source, bytes) else source) as image:
        if image.mode in ("I;16", "I;16B", "I"):
            return np.asarray(image, dtype=np.uint16)
        return np.asarray(image.convert("RGB") if image.mode not in ("RGB", "L") else image)


def contact_sheet(frames: list[tuple[str, np.ndarray]], columns: int = 4, thumb_width: int = 320) -> np.ndarray:
    """A grid of thumbnails (RGB uint8), each with its shot code under it, in the given order."""
    if not frames:
        raise ValueError("a contact sheet needs at least one frame")
    thumbs = [
        (
            code,
            Image.fromarray(image).resize((thumb_width, max(1, round(image.shape[0] * thumb_width / image.shape[1])))),
        )
        for code, image in frames
    ]
    font = _font(max(10, thumb_width // 20))
    gutter = max(4, thumb_width // 40)
    label = round(font.getbbox("Ag")[3] * 1.6)
    cell_height = max(thumb.height for _, thumb in thumbs) + label
    rows = -(-len(thumbs) // columns)
    sheet = Image.new(
        "RGB", (columns * (thumb_width + gutter) + gutter, rows * (cell_height + gutter) + gutter), (244, 244, 240)
    )
    draw = ImageDraw.Draw(sheet)
    for index, (code, thumb) in enumerate(thumbs):
        x = gutter + index % columns * (thumb_width + gutter)
        y = gutter + index // columns * (cell_height + gutter)
        sheet.paste(thumb, (x, y))
        draw.text((x + thumb_width / 2, y + thumb.height + label / 2), code, fill=(30, 30, 30), font=font, anchor="mm")
    return np.asarray(sheet)
