"""Previs clips: every frame of every pass of an animated layout, with the still's guarantees.

A frame of a clip is exactly what ``previs.load_scene(path, time=t)`` and
``PrevisRenderer.render`` make of the layout at time code ``t``: the same camera read (USD's
own frustum at ``t``), the same meshes, the same four passes from one read-back. What a clip
saves is the reading: ``ShotClip`` opens the stage once, keeps every mesh's points, topology,
colours and ids, and per frame only evaluates transforms (``UsdGeom.XformCache(t)``) and the
camera, then draws on the process's one GL context with the renderer's reused targets.

A static layout (no attribute with more than one time sample) is one frame, the still itself,
held for the shot's length by whoever plays it. The frames of an animated one are the
stage's own: ``startTimeCode`` to ``endTimeCode`` stepping one frame (``timeCodesPerSecond``
over ``framesPerSecond`` time codes), at ``framesPerSecond``; the exact rate when the layout
says it (``customData`` ``soundstage.rate``, e.g. ``"24000/1001"``).

Name labels (guide prims, which the passes leave out) are painted over the storyboard by
``render.labels`` when the layout's ``labels`` variant shows them.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np
from pxr import Usd, UsdGeom

from soundstage.layout.motion import frame_rate
from soundstage.render import previs
from soundstage.render.labels import LabelPainter, read_labels
from soundstage.render.previs import Passes, PrevisRenderer, SceneGeometry

DEFAULT_RATE = Fraction(24)  # a layout that says no rate (USD's own default is 24 as well)


@dataclass(frozen=True, slots=True)
class ClipTiming:
    """The frames of a layout: their time codes and rate; one frame for a static layout."""

    rate: Fraction
    times: tuple[float, ...]
    static: bool

    @property
    def frames(self) -> int:
        """How many frames the clip has (1 for a static layout)."""
        return len(self.times)


def clip_timing(stage: Usd.Stage) -> ClipTiming:
    """The frames of a stage (see the module docstring)."""
    root = stage.GetDefaultPrim() or stage.GetPseudoRoot()
    info = root.GetCustomDataByKey("soundstage") if root else None
    if isinstance(info, dict) and info.get("rate"):
        rate = frame_rate(str(info["rate"]))
    elif stage.GetRootLayer().HasFramesPerSecond():
        rate = frame_rate(float(stage.GetFramesPerSecond()))
    else:
        rate = DEFAULT_RATE
    samples = _sample_range(root)
    if samples is None:
        return ClipTiming(rate, (float(stage.GetStartTimeCode()) if stage.HasAuthoredTimeCodeRange() else 0.0,), True)
    if stage.HasAuthoredTimeCodeRange():
        start, end = stage.GetStartTimeCode(), stage.GetEndTimeCode()
    else:
        start, end = samples
    step = stage.GetTimeCodesPerSecond() / float(rate)
    count = int(round((end - start) / step)) + 1
    return ClipTiming(rate, tuple(start + i * step for i in range(max(count, 1))), False)


def _sample_range(root: Usd.Prim) -> tuple[float, float] | None:
    """The first and last time sample of any attribute that changes over time, or None."""
    low, high = None, None
    for prim in Usd.PrimRange(root, Usd.TraverseInstanceProxies()):
        for attribute in prim.GetAttributes():
            if attribute.GetNumTimeSamples() > 1:
                times = attribute.GetTimeSamples()
                low = times[0] if low is None else min(low, times[0])
                high = times[-1] if high is None else max(high, times[-1])
    return None if low is None else (low, high)


@dataclass(frozen=True, eq=False)
class _CachedMesh:
    """A mesh's own data, read once; only its transform changes from frame to frame."""

    prim: Usd.Prim
    points: np.ndarray  # (P, 3) float64, the mesh's local points
    counts: np.ndarray
    indices: np.ndarray
    face_colors: np.ndarray
    character_id: int


class ShotClip:
    """A layout opened once, for drawing any of its frames (``geometry(frame)``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.stage = previs._open_stage(self.path)
        self.root = self.stage.GetDefaultPrim() or self.stage.GetPseudoRoot()
        self.timing = clip_timing(self.stage)
        self._camera_prim = previs._find_camera(self.stage, self.root, self.path)
        # The still renderer's own reading, on the stage's first frame, then kept: points and
        # topology do not change over a shot, only transforms do.
        first = Usd.TimeCode(self.timing.times[0])
        self._meshes = [
            _CachedMesh(
                prim,
                np.asarray(UsdGeom.Mesh(prim).GetPointsAttr().Get(), np.float64),
                world.counts,
                world.indices,
                world.face_colors,
                world.character_id,
            )
            for prim, world in zip(self._mesh_prims(), previs._read_meshes(self.root, self.path, first), strict=True)
        ]
        self._labels = read_labels(self.root)
        self._characters = previs._character_names(self.root)
        info = self.root.GetCustomDataByKey("soundstage") or {}
        self._shot, self._size = previs._text(info.get("shot")), previs._text(info.get("size"))

    def _mesh_prims(self) -> list[Usd.Prim]:
        """The prims ``previs._read_meshes`` turns into meshes, in its order."""
        prims, out = iter(Usd.PrimRange(self.root, Usd.TraverseInstanceProxies())), []
        for prim in prims:
            imageable = UsdGeom.Imageable(prim)
            if imageable and (
                imageable.GetVisibilityAttr().Get() == UsdGeom.Tokens.invisible
                or imageable.GetPurposeAttr().Get() in (UsdGeom.Tokens.guide, UsdGeom.Tokens.proxy)
            ):
                prims.PruneChildren()
                continue
            if prim.IsA(UsdGeom.Mesh):
                mesh = UsdGeom.Mesh(prim)
                if (
                    mesh.GetPointsAttr().Get()
                    and mesh.GetFaceVertexCountsAttr().Get()
                    and mesh.GetFaceVertexIndicesAttr().Get()
                ):
                    out.append(prim)
        return out

    def geometry(self, frame: int) -> SceneGeometry:
        """The scene at one frame (0-based), as ``previs.load_scene(path, time=t)`` reads it."""
        time = Usd.TimeCode(self.timing.times[frame])
        frustum, clipping_range, focal_length = previs._camera(self._camera_prim, self.path, time)
        view = np.array(frustum.ComputeViewMatrix())
        xforms = UsdGeom.XformCache(time)
        meshes = []
        for mesh in self._meshes:
            world = np.array(xforms.GetLocalToWorldTransform(mesh.prim))
            meshes.append(
                previs._Mesh(
                    points=mesh.points @ world[:3, :3] + world[3, :3],
                    counts=mesh.counts,
                    indices=mesh.indices,
                    face_colors=mesh.face_colors,
                    character_id=mesh.character_id,
                )
            )
        triangles, normals, colors, character_ids, surfaces = previs._triangulate(meshes)
        order = np.argsort(-(triangles.mean(axis=1) @ view[:3, 2]), kind="stable")
        return SceneGeometry(
            path=self.path,
            triangles=triangles[order].astype(np.float32),
            normals=normals[order].astype(np.float32),
            colors=colors[order].astype(np.float32),
            character_ids=character_ids[order],
            surfaces=surfaces[order],
            characters=self._characters,
            camera_path=str(self._camera_prim.GetPath()),
            view=view,
            projection=np.array(frustum.ComputeProjectionMatrix()),
            clipping_range=clipping_range,
            focal_length=focal_length,
            shot=self._shot,
            size=self._size,
        )

    def labels(self, frame: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The name labels visible at one frame, each as world triangles and colours."""
        return self._labels.at(Usd.TimeCode(self.timing.times[frame]))


class ClipRenderer:
    """Renders previs clips on the process's GL context: create once, render many shots.

    Wraps one ``PrevisRenderer`` (its compiled shaders and per-size targets are reused for
    every frame of every shot) and one ``LabelPainter``. GL contexts belong to the thread
    that created them: render from that thread (encode in others, ``render.video``)."""

    def __init__(self) -> None:
        self.renderer = PrevisRenderer()
        self.painter = LabelPainter()

    def frames(
        self, clip: ShotClip | Path, width: int = 1280, height: int = 720, burn_in: str | None = None
    ) -> Iterator[Passes]:
        """The passes of every frame of a layout, in order; one frame for a static layout,
        which is exactly the still (``load_scene`` and ``PrevisRenderer.render``) with its
        labels painted. A burn-in gets the frame's time code after the text.

        Frames are pipelined: GL draws frame n + 1 (flushed, so llvmpipe's threads start at
        once) while this thread turns frame n's read-back into passes and reads frame n + 2's
        transforms. The passes are the ones ``render`` makes; only the order of work differs."""
        clip = clip if isinstance(clip, ShotClip) else ShotClip(clip)
        if clip.timing.static:
            geometry = previs.load_scene(clip.path)
            passes = self.renderer.render(geometry, width=width, height=height, burn_in=burn_in)
            self._paint(clip, 0, passes, geometry)
            yield passes
            return
        count = clip.timing.frames
        geometry = clip.geometry(0)
        self.renderer.draw(geometry, width, height)
        _flush()
        following = clip.geometry(1) if count > 1 else None
        for frame in range(count):
            targets = self.renderer.read(width, height)
            current = geometry
            if following is not None:
                self.renderer.draw(following, width, height)
                _flush()
                geometry = following
            text = f"{burn_in}  {clip.timing.times[frame]:g}" if burn_in else None
            passes = self.renderer.passes(targets, current, text)
            following = clip.geometry(frame + 2) if frame + 2 < count else None
            self._paint(clip, frame, passes, current)
            yield passes

    def _paint(self, clip: ShotClip, frame: int, passes: Passes, geometry: SceneGeometry) -> None:
        labels = clip.labels(frame)
        if labels:
            self.painter.paint(passes, labels, geometry)

    def close(self) -> None:
        """Release the GL objects (the shared context stays)."""
        self.painter.close()
        self.renderer.close()

    def __enter__(self) -> ClipRenderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@cache
def _gl_flush() -> Callable[[], None]:
    """glFlush of the current context, which moderngl does not offer: without it llvmpipe
    starts drawing only when the frame is read back. Through GLVND's dispatch library, the
    one that the EGL context's GL calls go through."""
    for name in ("libOpenGL.so.0", "libGL.so.1"):
        try:
            return ctypes.CDLL(name).glFlush  # type: ignore[no-any-return]
        except (OSError, AttributeError):
            continue
    return lambda: None  # the frames are the same, only drawn later


def _flush() -> None:
    _gl_flush()()
