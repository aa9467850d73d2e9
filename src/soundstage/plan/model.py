"""Shots as the plan proposes them and as artists edit them."""

from __future__ import annotations

import re
from enum import StrEnum
from fractions import Fraction
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from soundstage.errors import ShotError


class ShotSize(StrEnum):
    """How much of the subject the frame holds, widest first."""

    EWS = "EWS"  # extreme wide: the place, figures tiny
    WS = "WS"  # wide: full bodies with room around them
    MS = "MS"  # medium: from the waist up
    MCU = "MCU"  # medium close-up: chest up
    CU = "CU"  # close-up: head and shoulders
    ECU = "ECU"  # extreme close-up: eyes, a hand
    OTS = "OTS"  # over the shoulder of the listener onto the speaker
    TWO_SHOT = "2S"  # two characters in one frame
    POV = "POV"  # what a character sees
    INSERT = "INSERT"  # a detail: a prop, a sign


class Angle(StrEnum):
    """Camera height relative to the subject."""

    EYE = "eye"
    HIGH = "high"
    LOW = "low"
    OVERHEAD = "overhead"
    DUTCH = "dutch"


class Move(StrEnum):
    """What the camera does during the shot."""

    STATIC = "static"
    PAN = "pan"
    TILT = "tilt"
    PUSH_IN = "push-in"
    PULL_OUT = "pull-out"
    TRACK = "track"
    CRANE = "crane"
    HANDHELD = "handheld"


class Purpose(StrEnum):
    """Why the coverage rules proposed the shot."""

    ESTABLISHING = "establishing"
    MASTER = "master"
    ACTION = "action"
    SINGLE = "single"
    OTS = "ots"
    TWO_SHOT = "two-shot"
    INSERT = "insert"
    POV = "pov"


SHOT_CODE = re.compile(r"^\d{3,4}[A-Z]*_\d{4}$")
# Fields an artist may change on a shot (``soundstage shot edit``).
# A focal length in mm: wider than a fisheye is a typo, longer than 1200 mm too; nan and inf are
# refused as such (nan read "should be less than or equal to 1200").
LensMm = Annotated[float, Field(gt=4, le=1200, allow_inf_nan=False)]

# The longest a shot may run: over eleven hours at 24 fps, far past any shot, and inside the
# database's integers whatever a hand edit types.
MAX_SHOT_FRAMES = 1_000_000
EDITABLE = ("size", "angle", "lens_mm", "move", "subjects", "frames", "description")


class Shot(BaseModel):
    """One shot of the shot list. Durations are whole frames at the production frame rate:
    editorial counts frames, and float seconds drift by a frame over a cut."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=SHOT_CODE.pattern)
    scene: str  # the production's scene number
    size: ShotSize
    angle: Angle = Angle.EYE
    lens_mm: LensMm
    move: Move = Move.STATIC
    subjects: tuple[str, ...] = ()
    # Source lines (1-based) of the script elements the shot covers.
    lines: tuple[int, ...] = ()
    frames: int = Field(gt=0, le=MAX_SHOT_FRAMES)
    purpose: Purpose
    description: str = ""

    def seconds(self, fps: float | Fraction) -> float:
        """The planned duration in seconds (``fps`` may be exact: 24000/1001)."""
        return float(self.frames / fps)

    def edited(self, edits: dict[str, object]) -> Shot:
        """This shot with an artist's edits applied, validated like a planned shot."""
        unknown = sorted(set(edits) - set(EDITABLE))
        if unknown:
            raise ShotError(f"shot {self.code}: cannot edit {', '.join(unknown)}; editable: {', '.join(EDITABLE)}")
        try:
            return Shot.model_validate({**self.model_dump(), **edits})
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "shot"
            raise ShotError(f"shot {self.code}: {field}: {first['msg']}") from None


def scene_code(number: str) -> str:
    """The scene part of a shot code: "12" -> "012", "12A" -> "012A"."""
    match = re.fullmatch(r"(\d+)([A-Z]*)", number.upper())
    if not match:
        raise ShotError(f"scene number {number!r} is not digits with an optional letter suffix")
    return f"{int(match.group(1)):03d}{match.group(2)}"


def shot_code(scene_number: str, index: int) -> str:
    """The code of the ``index``-th (0-based) shot of a scene, numbered in tens so that
    shots added later fit between: ``012_0010``, ``012_0020``..."""
    return f"{scene_code(scene_number)}_{(index + 1) * 10:04d}"
