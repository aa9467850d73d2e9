"""Name labels over the storyboard: drawn for the people who read a board, not for the AI.

A layout's labels (``layout.standins``) are guide prims (``purpose = guide``): the previs
passes leave them out, so the depth, line-art and id passes that condition generation carry
no floating cards of text. ``LabelPainter`` draws them over the storyboard pass only, flat in
their own colours, hidden where the scene is nearer (their distance along the view against
the one the depth pass holds, inverted with ``Passes.depth_range``), and honours the
layout's ``labels`` variant (a label made invisible is not drawn).

Only the frame's part the labels cover is drawn and read back, a few thousand pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import moderngl
import numpy as np
from pxr import Usd, UsdGeom

from soundstage.render import previs
from soundstage.render.gl import gl_context
from soundstage.render.previs import Passes, SceneGeometry

_VERTEX_SHADER = """
#version 330
uniform mat4 u_view_projection;
uniform mat4 u_view;
in vec3 in_position;
in vec3 in_color;
flat out vec3 v_color;
out float v_distance;

void main() {
    vec4 world = vec4(in_position, 1.0);
    v_color = in_color;
    v_distance = -(u_view * world).z;
    gl_Position = u_view_projection * world;
    gl_Position.y = -gl_Position.y;  // row 0 of the read-back is the top of frame, as in previs
}
"""

_FRAGMENT_SHADER = """
#version 330
flat in vec3 v_color;
in float v_distance;
layout(location = 0) out vec3 o_color;
layout(location = 1) out float o_distance;

void main() {
    o_color = v_color;
    o_distance = v_distance;
}
"""


@dataclass(frozen=True, eq=False)
class _LabelMesh:
    prim: Usd.Prim
    corners: np.ndarray  # (T, 3, 3) float64, local triangle corners
    colour: np.ndarray  # (3,)


@dataclass(frozen=True, eq=False)
class LabelSet:
    """The labels of a layout, read once: ``at(time)`` gives the visible ones' world triangles."""

    labels: tuple[tuple[Usd.Prim, tuple[_LabelMesh, ...]], ...] = field(default=())
    # Per label: None when its visibility is animated (computed per frame), else whether shown.
    shown: tuple[bool | None, ...] = field(default=())

    def at(self, time: Usd.TimeCode) -> list[tuple[np.ndarray, np.ndarray]]:
        """The labels visible at ``time``, each as world triangles (T, 3, 3) and colours (T, 3)."""
        xforms = UsdGeom.XformCache(time)
        out = []
        for (label, meshes), shown in zip(self.labels, self.shown, strict=True):
            if shown is None:
                shown = UsdGeom.Imageable(label).ComputeVisibility(time) != UsdGeom.Tokens.invisible
            if not meshes or not shown:
                continue
            triangles, colours = [], []
            for mesh in meshes:
                world = np.array(xforms.GetLocalToWorldTransform(mesh.prim))
                triangles.append(mesh.corners @ world[:3, :3] + world[3, :3])
                colours.append(np.tile(mesh.colour, (len(mesh.corners), 1)))
            out.append((np.concatenate(triangles).astype(np.float32), np.concatenate(colours).astype(np.float32)))
        return out


def read_labels(root: Usd.Prim) -> LabelSet:
    """Every label under ``root`` (a prim with ``soundstage:label``) and its meshes."""
    labels = []
    for prim in Usd.PrimRange(root, Usd.TraverseInstanceProxies()):
        if not prim.HasAttribute("soundstage:label"):
            continue
        meshes = []
        for child in Usd.PrimRange(prim):
            if not child.IsA(UsdGeom.Mesh):
                continue
            mesh = UsdGeom.Mesh(child)
            points = np.asarray(mesh.GetPointsAttr().Get() or [], np.float64)
            counts = np.asarray(mesh.GetFaceVertexCountsAttr().Get() or [], np.int64)
            indices = np.asarray(mesh.GetFaceVertexIndicesAttr().Get() or [], np.int64)
            if not len(points) or counts.sum() != len(indices):
                continue
            corners, _ = previs._fan(counts, indices)
            colour = mesh.GetDisplayColorPrimvar().ComputeFlattened()
            meshes.append(_LabelMesh(child, points[corners], np.asarray(colour[0] if colour else previs.NEUTRAL)))
        labels.append((prim, tuple(meshes)))
    return LabelSet(tuple(labels), tuple(_shown(prim) for prim, _ in labels))


def _shown(label: Usd.Prim) -> bool | None:
    """Whether a label shows (the ``labels`` variant), or None when a visibility on its way
    up to the root is animated and must be read per frame."""
    prim = label
    while prim:
        imageable = UsdGeom.Imageable(prim)
        if imageable and imageable.GetVisibilityAttr().GetNumTimeSamples() > 0:
            return None
        prim = prim.GetParent()
    return UsdGeom.Imageable(label).ComputeVisibility(Usd.TimeCode.EarliestTime()) != UsdGeom.Tokens.invisible


class LabelPainter:
    """Paints labels over storyboards on the process's GL context (its thread only)."""

    def __init__(self) -> None:
        self._ctx = gl_context()
        self._program = self._ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self._targets: dict[
            tuple[int, int], tuple[moderngl.Framebuffer, list[moderngl.Texture], moderngl.Renderbuffer]
        ] = {}

    def paint(self, passes: Passes, labels: list[tuple[np.ndarray, np.ndarray]], geometry: SceneGeometry) -> None:
        """Draw labels (each: world triangles and their colours) over ``passes.storyboard``,
        in place, where nothing of the scene is nearer."""
        height, width = passes.storyboard.shape[:2]
        view_projection = geometry.view @ geometry.projection
        shown = [(label, box) for label in labels if (box := _screen_box(label[0], view_projection, width, height))]
        if not shown:
            return
        union = _union([box for _, box in shown])
        frame, _textures, _depth = self._target(width, height)
        ctx = self._ctx
        frame.use()
        frame.clear(0.0, 0.0, 0.0, 0.0, depth=1.0, viewport=union)
        ctx.scissor = union
        ctx.enable(moderngl.DEPTH_TEST)
        self._program["u_view_projection"].write(view_projection.astype(np.float32))
        self._program["u_view"].write(geometry.view.astype(np.float32))
        triangles = np.concatenate([t for (t, _), _ in shown])
        colours = np.concatenate([c for (_, c), _ in shown])
        vertices = np.concatenate([triangles, np.repeat(colours[:, None], 3, axis=1)], axis=2).astype(np.float32)
        buffer = ctx.buffer(vertices)
        vertex_array = ctx.vertex_array(self._program, [(buffer, "3f 3f", "in_position", "in_color")])
        vertex_array.render(moderngl.TRIANGLES)
        vertex_array.release()
        buffer.release()
        ctx.scissor = None
        # Read back and compose each label's own rectangle: a few small reads rather than
        # the whole span between labels far apart.
        for _, (x, y, w, h) in shown:
            box = (x, y, w, h)
            colour = np.frombuffer(frame.read(viewport=box, components=3, attachment=0), np.uint8).reshape(h, w, 3)
            distance = np.frombuffer(frame.read(viewport=box, components=1, attachment=1, dtype="f4"), np.float32)
            scene = _scene_distance(passes.depth[y : y + h, x : x + w], passes.depth_range)
            drawn = (distance.reshape(h, w) > 0) & (distance.reshape(h, w) < scene)
            passes.storyboard[y : y + h, x : x + w][drawn] = colour[drawn]

    def _target(
        self, width: int, height: int
    ) -> tuple[moderngl.Framebuffer, list[moderngl.Texture], moderngl.Renderbuffer]:
        if (width, height) not in self._targets:
            textures = [self._ctx.texture((width, height), 3), self._ctx.texture((width, height), 1, dtype="f4")]
            depth = self._ctx.depth_renderbuffer((width, height))
            self._targets[width, height] = (self._ctx.framebuffer(textures, depth), textures, depth)
        return self._targets[width, height]

    def close(self) -> None:
        """Release the GL objects (the shared context stays)."""
        for frame, textures, depth in self._targets.values():
            frame.release()
            for texture in textures:
                texture.release()
            depth.release()
        self._targets.clear()
        self._program.release()


def _screen_box(
    triangles: np.ndarray, view_projection: np.ndarray, width: int, height: int
) -> tuple[int, int, int, int] | None:
    """The pixel rectangle (x, y, w, h; y down) the triangles can cover, or None off frame."""
    if not len(triangles):
        return None
    corners = triangles.reshape(-1, 3).astype(np.float64)
    clip = np.hstack([corners, np.ones((len(corners), 1))]) @ view_projection
    if (clip[:, 3] <= 1e-9).all():
        return None  # behind the camera
    if (clip[:, 3] <= 1e-9).any():
        return (0, 0, width, height)  # across the camera plane: the whole frame
    ndc = clip[:, :2] / clip[:, 3:4]
    xs = (ndc[:, 0] * 0.5 + 0.5) * width
    ys = (0.5 - ndc[:, 1] * 0.5) * height
    x0, x1 = max(0, math.floor(xs.min()) - 1), min(width, math.ceil(xs.max()) + 1)
    y0, y1 = max(0, math.floor(ys.min()) - 1), min(height, math.ceil(ys.max()) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def _union(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def _scene_distance(depth: np.ndarray, depth_range: tuple[float, float] | None) -> np.ndarray:
    """Distance along the view (metres) of the scene at each pixel, from the depth pass
    (``previs``: inverse distance, 65535 nearest, 1 farthest, 0 sky = infinitely far)."""
    if depth_range is None:
        return np.full(depth.shape, np.inf, np.float32)
    near, far = depth_range
    inverse = 1 / far + (depth.astype(np.float64) - 1) / 65534 * (1 / near - 1 / far)
    with np.errstate(divide="ignore"):
        return np.where(depth > 0, 1 / np.maximum(inverse, 1e-12), np.inf).astype(np.float32)
