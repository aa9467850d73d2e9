"""How long the previs passes of one shot take, step by step, and whether memory grows.

Writes N synthetic shot stages shaped like the layout contract's (an interior with walls and
dressing or an exterior with a horizon; two or three stand-in characters with faceted bodies
and heads; lenses from 24 to 85 mm), then loads and renders each at 1280x720 with a burn-in
on one PrevisRenderer. Prints one markdown table row per figure: medians over the shots, the
render broken down by step, and the growth of peak resident memory across all the shots.

Run: ``.venv/bin/python benchmarks/previs_passes.py [--shots 60]``
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom

from soundstage.render import previs
from soundstage.render.gl import gl_context
from soundstage.render.previs import PrevisRenderer, load_scene, to_png

WIDTH, HEIGHT = 1280, 720


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=60)
    shots = parser.parse_args().shots
    load_before = os.getloadavg()[0]
    steps: dict[str, list[float]] = defaultdict(list)
    _time_steps(steps)
    renderer = PrevisRenderer()
    with tempfile.TemporaryDirectory() as folder:
        paths = [_write_shot(Path(folder) / f"{number:03d}.usda", number) for number in range(shots)]
        renderer.render(load_scene(paths[0]), WIDTH, HEIGHT, burn_in="warm-up")
        steps.clear()
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        loads, renders, pngs = [], [], []
        for path in paths:
            started = time.perf_counter()
            scene = load_scene(path)
            loads.append(time.perf_counter() - started)
            started = time.perf_counter()
            passes = renderer.render(scene, WIDTH, HEIGHT, burn_in=scene.slate)
            renders.append(time.perf_counter() - started)
            started = time.perf_counter()
            for name in previs.PASSES:
                to_png(getattr(passes, name))
            pngs.append(time.perf_counter() - started)
        growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    triangles = len(scene.triangles)

    info = gl_context().info
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load_before:.1f} before the run (other work on the cores slows llvmpipe)"
    )
    print(
        f"GL: {info['GL_RENDERER']} ({info['GL_VERSION']}); {shots} shots at {WIDTH}x{HEIGHT}, ~{triangles} triangles each"
    )
    print()
    print("| figure | median ms |")
    print("| --- | ---: |")
    print(f"| load_scene (USD stage to triangles) | {_ms(loads)} |")
    print(f"| render: all four passes, burn-in included | {_ms(renders)} |")
    named = 0.0
    for step, label in STEPS.items():
        print(f"| - {label} | {_ms(steps[step])} |")
        named += statistics.median(steps[step])
    print(f"| - the rest (ink, line art bytes, bookkeeping) | {statistics.median(renders) * 1000 - named * 1000:.1f} |")
    print(f"| to_png of the four passes (not part of render) | {_ms(pngs)} |")
    print()
    print(f"peak resident memory grew {growth:.1f} MB over {shots} shots")


STEPS = {
    "_draw": "GL: clear and draw into five targets (waits for the rasteriser)",
    "read": "GL: read the five targets back",
    "_lines": "numpy: edges from surfaces and log distance",
    "_depth": "numpy: 16-bit depth",
    "_burn_in": "Pillow: burn-in",
}


def _time_steps(steps: dict[str, list[float]]) -> None:
    """Wrap the renderer's steps so that each call records its duration."""
    ctx = gl_context()

    def timed(owner: object, name: str, after: Callable[[], object] = lambda: None) -> None:
        step = getattr(owner, name)

        def run(*args, **kwargs):
            started = time.perf_counter()
            result = step(*args, **kwargs)
            after()
            steps[name].append(time.perf_counter() - started)
            return result

        setattr(owner, name, run)

    # finish(): the draw is asynchronous; count the rasteriser's time to the draw, not the read.
    timed(PrevisRenderer, "_draw", after=ctx.finish)
    timed(previs._Targets, "read")
    for name in ("_lines", "_depth", "_burn_in"):
        timed(previs, name)


def _ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:.1f}"


def _write_shot(path: Path, number: int) -> Path:
    """One synthetic shot: odd numbers are exteriors, lenses and camera marks vary."""
    rng = np.random.default_rng(number)
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    root = UsdGeom.Xform.Define(stage, "/Shot").GetPrim()
    stage.SetDefaultPrim(root)
    sizes = ["WS", "MS", "CU", "OTS", "2S"]
    root.SetCustomDataByKey("soundstage", {"shot": f"001_{number * 10:04d}", "scene": "1", "size": sizes[number % 5]})
    _box(stage, "/Shot/Set/Floor", (-8, -0.05, -8), (8, 0, 8), (0.55, 0.5, 0.45))
    if number % 2:
        _box(stage, "/Shot/Set/Horizon", (-400, -5, -300), (400, 80, -299), (0.75, 0.8, 0.85))
    else:
        _box(stage, "/Shot/Set/Walls/Back", (-8, 0, -8), (8, 3.2, -7.8), (0.72, 0.7, 0.62))
        _box(stage, "/Shot/Set/Walls/Left", (-8, 0, -8), (-7.8, 3.2, 8), (0.68, 0.7, 0.62))
        _box(stage, "/Shot/Set/Walls/Right", (7.8, 0, -8), (8, 3.2, 8), (0.68, 0.7, 0.62))
    for block in range(6):
        x, z = rng.uniform(-6, 6), rng.uniform(-7, 2)
        w, h, d = rng.uniform(0.4, 1.6, 3)
        _box(stage, f"/Shot/Set/Dressing/Block_{block}", (x, 0, z), (x + w, h, z + d), tuple(rng.uniform(0.3, 0.8, 3)))
    marks = [(-0.6, -1.0), (0.7, -1.6), (0.1, -3.0)][: 2 + number % 2]
    for index, (x, z) in enumerate(marks, start=1):
        _character(stage, f"Character{index}", index, (x, 0, z), float(rng.uniform(-40, 40)))
    camera = UsdGeom.Camera.Define(stage, "/Shot/Camera")
    camera.CreateFocalLengthAttr([24.0, 35.0, 50.0, 85.0][number % 4])
    camera.CreateHorizontalApertureAttr(36.0)
    camera.CreateVerticalApertureAttr(20.25)
    camera.CreateClippingRangeAttr(Gf.Vec2f(0.1, 1000.0))
    eye = Gf.Vec3d(rng.uniform(-1, 1), rng.uniform(1.2, 1.8), rng.uniform(2.5, 5))
    camera.AddTransformOp().Set(Gf.Matrix4d().SetLookAt(eye, Gf.Vec3d(0, 1.3, -1.5), Gf.Vec3d(0, 1, 0)).GetInverse())
    stage.Save()
    return path


def _mesh(stage: Usd.Stage, path: str, points: list, faces: list, color: tuple) -> None:
    mesh = UsdGeom.Mesh.Define(stage, path)
    mesh.CreatePointsAttr([Gf.Vec3f(*p) for p in points])
    mesh.CreateFaceVertexCountsAttr([len(f) for f in faces])
    mesh.CreateFaceVertexIndicesAttr([i for f in faces for i in f])
    mesh.CreateDisplayColorPrimvar(UsdGeom.Tokens.constant).Set([Gf.Vec3f(*color)])
    mesh.CreateExtentAttr(UsdGeom.Mesh.ComputeExtent(mesh.GetPointsAttr().Get()))


def _box(stage: Usd.Stage, path: str, low: tuple, high: tuple, color: tuple) -> None:
    points = [(x, y, z) for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    _mesh(stage, path, points, faces, color)


def _character(stage: Usd.Stage, name: str, number: int, mark: tuple, facing: float) -> None:
    """A stand-in: a 24-sided body and a 16 x 10 faceted head, about 400 triangles."""
    xform = UsdGeom.Xform.Define(stage, f"/Shot/Characters/{name}")
    xform.AddTranslateOp().Set(Gf.Vec3d(*mark))
    xform.AddRotateYOp().Set(facing)
    prim = xform.GetPrim()
    prim.CreateAttribute("soundstage:character", Sdf.ValueTypeNames.String).Set(name.upper())
    prim.CreateAttribute("soundstage:characterId", Sdf.ValueTypeNames.Int).Set(number)
    color = [(0.8, 0.3, 0.2), (0.2, 0.5, 0.3), (0.3, 0.4, 0.8)][number - 1]
    sides = 24
    ring = [(0.22 * math.cos(2 * math.pi * i / sides), 0.16 * math.sin(2 * math.pi * i / sides)) for i in range(sides)]
    body = [(x, y, z) for x, z in ring for y in (0.0, 1.45)]
    faces = [(2 * i, 2 * ((i + 1) % sides), 2 * ((i + 1) % sides) + 1, 2 * i + 1) for i in range(sides)]
    faces += [tuple(2 * i + 1 for i in range(sides)), tuple(2 * i for i in reversed(range(sides)))]
    _mesh(stage, f"{prim.GetPath()}/Body", body, faces, color)
    rows, columns = 10, 16
    head = [
        (0.11 * math.sin(math.pi * r / rows) * math.cos(2 * math.pi * c / columns),
         1.585 + 0.125 * math.cos(math.pi * r / rows),
         0.11 * math.sin(math.pi * r / rows) * math.sin(2 * math.pi * c / columns))
        for r in range(rows + 1)
        for c in range(columns)
    ]  # fmt: skip
    faces = [
        (r * columns + c, r * columns + (c + 1) % columns, (r + 1) * columns + (c + 1) % columns, (r + 1) * columns + c)
        for r in range(rows)
        for c in range(columns)
    ]
    _mesh(stage, f"{prim.GetPath()}/Head", head, faces, color)


if __name__ == "__main__":
    main()
