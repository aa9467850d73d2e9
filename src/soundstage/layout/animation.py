"""A shot's motion as USD time samples, and the derivations kept beside them.

``animate`` turns a stage that ``layout.usd`` built (everything on its frame-0 pose) into an
animated one, the way a DCC writes animation, so that Blender, Maya, Houdini or usdview play
it and an artist edits it there:

* the stage's ``timeCodesPerSecond`` and ``framesPerSecond`` are the production's rate and
  one time code is one frame: the shot runs from time code 0 to ``frames - 1``;
* a character who moves gets time samples on the ``xformOp:translate`` and
  ``xformOp:rotateY`` of its stand-in at the frames where a move starts, turns and ends
  (linear in between, which USD and every DCC interpolate alike); a seated figure is lowered
  on the translate's Y; its head gets its own ``xformOp:rotateY`` for the looks, and its name
  label a counter-turn so that it keeps facing the camera;
* a moving camera gets ``xformOp:translate`` and ``xformOp:rotateXYZ`` (degrees, X then Y
  then Z, as DCCs key cameras) and ``focusDistance`` sampled on every frame (an eased move or
  a handheld drift is not linear between a few keys);
* ``/Shot`` ``customData`` ``soundstage`` keeps the rate (``"24000/1001"``), the frame count
  and the derivations themselves (``motion``: each move, look and the camera's move, with the
  script line it came from), which ``read_motion`` gives back.

Animated attributes have time samples and no default value, as DCCs write them: read them at
a frame (``layout.usd.read_camera(path, time)``, ``render.clips``). An animated layout an
artist edited is kept like any edited layout (the project compares file hashes); nothing here
reads or rewrites a file on disk.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from pxr import Gf, Usd, UsdGeom

from soundstage.errors import ShotError
from soundstage.layout.camera_moves import camera_frames
from soundstage.layout.framing import Blocking, CameraSetup, Mark
from soundstage.layout.motion import (
    CameraMotion,
    CharacterMove,
    Look,
    ShotMotion,
    Verb,
    figure_keys,
    head_keys,
    nearest_angle,
)
from soundstage.layout.standins import label_yaw
from soundstage.plan.model import Move

_DIGITS = 6  # time-sampled positions (metres) and angles (degrees) are written to a micrometre


def animate(
    stage: Usd.Stage,
    blocking: Blocking,
    motion: ShotMotion,
    characters: dict[str, str],
    camera_path: str,
    label: str,
) -> None:
    """Write ``motion`` into ``stage`` as time samples (see the module docstring).

    ``characters`` maps each character of ``blocking.marks`` to its stand-in's prim path;
    ``label`` is the name of the label prim under a stand-in, when it has one."""
    rate, frames = motion.rate, motion.frames
    stage.SetTimeCodesPerSecond(float(rate))
    stage.SetFramesPerSecond(float(rate))
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(frames - 1)
    root = stage.GetDefaultPrim()
    info = dict(root.GetCustomDataByKey("soundstage") or {})
    info.update({"rate": _rate_text(rate), "frames": frames, "motion": _derivations(motion)})
    root.SetCustomDataByKey("soundstage", info)
    figures = {
        name: figure_keys(mark, [m for m in motion.moves if m.character == name], rate)
        for name, mark in blocking.marks.items()
    }
    for name, path in characters.items():
        prim = stage.GetPrimAtPath(path)
        keys = figures[name]
        translate, rotate = UsdGeom.Xformable(prim).GetOrderedXformOps()
        mark = blocking.marks[name]
        if keys.translate != ((0, (mark.x, 0.0, mark.z)),):
            _samples(translate, [(f, Gf.Vec3d(*v)) for f, v in keys.translate])
        if keys.facing != ((0, mark.facing_deg),):
            _samples(rotate, [(f, v) for f, v in keys.facing])
            label_prim = prim.GetChild(label)
            if label_prim:
                start = keys.at(0)
                world = label_yaw(start.x, start.z, blocking.camera)
                _, label_turn = UsdGeom.Xformable(label_prim).GetOrderedXformOps()
                _samples(label_turn, [(f, world - v) for f, v in keys.facing])
        looks = [lk for lk in motion.looks if lk.character == name]
        if looks:
            head = UsdGeom.Xformable(prim.GetChild("Head"))
            _samples(head.AddRotateYOp(), list(head_keys(looks, keys)))
    if motion.camera.move is not Move.STATIC:
        follow = figures.get(motion.camera.follow)
        _animate_camera(stage, camera_path, camera_frames(blocking.camera, motion.camera, frames, rate, follow))


def _samples(op: UsdGeom.XformOp, keys: list[tuple[int, object]]) -> None:
    """Replace an op's value by time samples (no default: an animated attribute has none)."""
    attribute = op.GetAttr()
    attribute.Clear()
    for frame, value in keys:
        op.Set(_rounded(value), Usd.TimeCode(frame))


def _rounded(value: object) -> object:
    if isinstance(value, Gf.Vec3d):
        return Gf.Vec3d(*(round(v, _DIGITS) + 0.0 for v in value))
    return round(float(value), _DIGITS) + 0.0  # type: ignore[arg-type]


def _animate_camera(stage: Usd.Stage, path: str, setups: list[CameraSetup]) -> None:
    """The camera's one static transform replaced by translate and rotateXYZ on every frame."""
    camera = UsdGeom.Camera(stage.GetPrimAtPath(path))
    camera.ClearXformOpOrder()
    camera.GetPrim().RemoveProperty("xformOp:transform")
    translate = camera.AddTranslateOp()
    rotate = camera.AddRotateXYZOp(UsdGeom.XformOp.PrecisionDouble)
    focus = camera.GetFocusDistanceAttr()
    focus.Clear()
    previous: tuple[float, float, float] | None = None
    for frame, setup in enumerate(setups):
        # USD matrices act on row vectors: the transpose of framing's column-vector matrix.
        matrix = Gf.Matrix4d((setup.matrix().T + 0.0).tolist())
        time = Usd.TimeCode(frame)
        translate.Set(_rounded(matrix.ExtractTranslation()), time)
        # rotateXYZ applies X, then Y, then Z: Gf decomposes about Z, Y, X in that order.
        z, y, x = matrix.ExtractRotation().Decompose(Gf.Vec3d.ZAxis(), Gf.Vec3d.YAxis(), Gf.Vec3d.XAxis())
        angles = (x, y, z) if previous is None else tuple(nearest_angle(p, a) for p, a in zip(previous, (x, y, z)))
        previous = angles  # type: ignore[assignment]
        rotate.Set(Gf.Vec3d(*(round(a, _DIGITS) + 0.0 for a in angles)), time)
        focus.Set(round(setup.focus_distance, _DIGITS), time)


def _rate_text(rate: Fraction) -> str:
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


# ----------------------------------------------------------------------------- derivations


def _derivations(motion: ShotMotion) -> dict[str, object]:
    """The moves, looks and camera move as customData: what a person reads and edits."""
    moves = {
        f"{n:03d}": {
            "character": m.character,
            "verb": m.verb.value,
            "from": Gf.Vec3d(m.start.x, m.start.z, m.start.facing_deg),
            "to": Gf.Vec3d(m.end.x, m.end.z, m.end.facing_deg),
            "height": m.start.height,
            "start_frame": m.start_frame,
            "end_frame": m.end_frame,
            "line": m.line,
            "towards": m.towards,
        }
        for n, m in enumerate(motion.moves, start=1)
    }
    looks = {
        f"{n:03d}": {
            "character": lk.character,
            "at": lk.at,
            "point": Gf.Vec2d(lk.x, lk.z),
            "start_frame": lk.start_frame,
            "end_frame": lk.end_frame,
            "line": lk.line,
        }
        for n, lk in enumerate(motion.looks, start=1)
    }
    camera = {"move": motion.camera.move.value, "seed": motion.camera.seed, "follow": motion.camera.follow}
    return {"moves": moves, "looks": looks, "camera": camera, "described": motion.describe()}


def read_motion(path: Path) -> ShotMotion | None:
    """The motion a layout was written with (its derivations, from ``/Shot`` customData), or
    None for a layout written without: what a person sees and edits before the layout is
    written again from it. Animation an artist keyed in a DCC is in the time samples, not
    here: render it from the file (``render.clips``)."""
    if not path.is_file():
        raise ShotError(f"{path}: no such layout file")
    stage = Usd.Stage.Open(str(path))
    root = stage.GetDefaultPrim()
    info = root.GetCustomDataByKey("soundstage") if root else None
    if not isinstance(info, dict) or "motion" not in info:
        return None
    data = info["motion"]
    try:
        moves = tuple(
            CharacterMove(
                character=str(m["character"]),
                verb=Verb(m["verb"]),
                start=Mark(m["from"][0], m["from"][1], m["from"][2], float(m["height"])),
                end=Mark(m["to"][0], m["to"][1], m["to"][2], float(m["height"])),
                start_frame=int(m["start_frame"]),
                end_frame=int(m["end_frame"]),
                line=int(m["line"]),
                towards=str(m["towards"]),
            )
            for _, m in sorted(data.get("moves", {}).items())
        )
        looks = tuple(
            Look(
                character=str(lk["character"]),
                at=str(lk["at"]),
                x=float(lk["point"][0]),
                z=float(lk["point"][1]),
                start_frame=int(lk["start_frame"]),
                end_frame=int(lk["end_frame"]),
                line=int(lk["line"]),
            )
            for _, lk in sorted(data.get("looks", {}).items())
        )
        camera = data.get("camera", {})
        return ShotMotion(
            rate=Fraction(str(info["rate"])),
            frames=int(info["frames"]),
            moves=moves,
            looks=looks,
            camera=CameraMotion(
                Move(camera.get("move", "static")), int(camera.get("seed", 0)), str(camera.get("follow", ""))
            ),
        )
    except (KeyError, ValueError, TypeError, IndexError) as error:
        raise ShotError(f"{path}: /Shot customData soundstage.motion cannot be read: {error}") from None
