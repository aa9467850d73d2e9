"""Takes and the backends that make them: the recipe, and the one small interface every backend
(previs, diffusers, comfyui) implements.

A recipe is everything that decides a take's pixels, so running it again on the same backend
and machine gives the same bytes. Conditioning images are named by their sha256 in the media
store; backends read them through ``Inputs`` and never touch the database.

A take is a still (one frame, a PNG) or a clip (``frames`` > 1 at ``fps``, an MP4; see
``generate/clips.py``). A conditioning role names a still or a clip alike: a moving shot's
previs passes are clips, a static shot's are one frame, held for as long as the take runs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

# Roles of conditioning images in Recipe.conditioning. Character references are
# "reference:<NAME>" (one per reference sheet image, "reference:MAISIE:1" for a second one)
# and style references "style:<n>".
STORYBOARD, DEPTH, LINEART, IDS = "storyboard", "depth", "lineart", "ids"
REFERENCE_PREFIX, STYLE_PREFIX = "reference:", "style:"
DEFAULT_FPS = "24"
_CLIP_DEFAULTS: dict[str, Any] = {"frames": 1, "fps": DEFAULT_FPS}


class Performance(BaseModel):
    """A recorded performance a take conditions on or alters: whose it is, the recording (by
    sha256 and file suffix in the media store), what of the performer it carries (``voice``, or
    ``likeness`` on picture) and why the take changes it: ``performance`` for a change to what
    the performer did, or one of the edits the union agreement excepts (``timing``,
    ``noise-reduction``, ``continuity``...; guardrails' ``AlterationPurpose`` names them all).
    Backends do not read it: it says what the take is made from, for the rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    performer: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    suffix: str = ""
    gives: str = "likeness"
    purpose: str = "performance"


# Seeds are below 2**63: a signed 64-bit integer, as databases and generators hold them.
SEED_LIMIT = 2**63


class Recipe(BaseModel):
    """Everything that decides a take's pixels, and who asked for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shot: str  # shot code
    backend: str
    backend_version: str = ""
    model: str = ""  # model directory, hub id or workflow name
    weights_sha256: str = ""  # of the model's weight files (or the workflow file), "" for previs
    prompt: str = ""  # as composed: bible style + shot + action + characters, artist's words winning
    negative_prompt: str = ""
    seed: int = Field(0, ge=0, lt=SEED_LIMIT)
    steps: int = Field(0, ge=0, le=1000)
    guidance: float = Field(0.0, ge=0, le=50)
    # img2img from the previs frame: 0 keeps the storyboard, 1 ignores it; None is text-to-image.
    strength: float | None = Field(None, ge=0, le=1)
    width: int = Field(1280, ge=16, le=8192)
    height: int = Field(720, ge=16, le=8192)
    conditioning: dict[str, str] = Field(default_factory=dict)  # role -> media sha256
    options: dict[str, Any] = Field(default_factory=dict)  # backend-specific, recorded like the rest
    requested_by: str = ""
    # A clip: how many frames, at what rate. A fraction as text ("24", "24000/1001"), because a
    # float cannot say 23.976 exactly and frame-exact timing is the point.
    frames: int = Field(1, ge=1, le=100_000)
    fps: str = Field(DEFAULT_FPS, pattern=r"^[1-9][0-9]{0,5}(/[1-9][0-9]{0,5})?$")
    performances: tuple[Performance, ...] = ()  # recorded performances it conditions on or alters

    @model_serializer(mode="wrap")
    def _stills_as_before(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Clip fields at their defaults, and no recorded performances, are left out, so a
        still's recipe serialises (in the database, in its PNG) and hashes exactly as it did
        before takes could move or alter a recording."""
        data = handler(self)
        for name, default in _CLIP_DEFAULTS.items():
            if data.get(name, None) == default:
                del data[name]
        if not data.get("performances", ()):
            data.pop("performances", None)
        return data

    @property
    def frame_rate(self) -> Fraction:
        """``fps`` as an exact fraction of frames per second."""
        return Fraction(self.fps)

    @property
    def moves(self) -> bool:
        """Whether the take is a clip rather than a still."""
        return self.frames > 1

    def sha256(self) -> str:
        """A stable hash of the recipe (canonical JSON), used to find and compare takes."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class Inputs(Protocol):
    """Read access to conditioning images and clips by content hash."""

    def read(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``: a PNG, or a clip (MKV or MP4) for a moving shot's pass."""
        ...


# Called with the fraction done (0..1) of the current batch.
BackendProgress = Callable[[float], None]


class Backend(Protocol):
    """A generation backend. ``prepare`` fills what the backend decides (model, weights hash,
    default steps) so the stored recipe is complete; ``generate`` turns recipes into takes, one
    per recipe in order: PNG bytes for a still (``frames`` 1), MP4 bytes for a clip (see
    ``clips.write_take``), deterministic for the same recipe on the same machine. Several
    recipes of one shot may come in one call, to be batched where the backend can."""

    name: ClassVar[str]
    version: ClassVar[str]

    def prepare(self, recipe: Recipe) -> Recipe: ...

    def generate(self, recipes: Sequence[Recipe], inputs: Inputs, progress: BackendProgress) -> list[bytes]: ...


def take_name(shot: str, number: int) -> str:
    """How people name a take: "012_0030/2"."""
    return f"{shot}/{number}"


def parse_take_name(reference: str) -> tuple[str, int | None]:
    """(shot code, take number) from "012_0030/2"; a bare shot code gives number None (its newest
    take, where the caller allows that). ShotError for anything else."""
    from soundstage.errors import ShotError

    # A take number fits the database's integers; 40 digits is a typo or an attack, not a take.
    match = re.fullmatch(r"(\w{1,64}?)(?:/(\d{1,9}))?", reference.strip().upper())
    if not match:
        raise ShotError(f"take {reference[:80]!r}: expected SHOT/NUMBER, e.g. 012_0030/2 (take numbers up to 9 digits)")
    return match.group(1), int(match.group(2)) if match.group(2) else None
