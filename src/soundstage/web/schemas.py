"""The JSON bodies the review room accepts, validated before anything touches the database, and
the answers of the routes whose shape is the web's own (the views of shots and playlists are the
project's: soundstage.project.board and .dailies).

Every integer is bounded to what both databases store (PostgreSQL's INTEGER is 32-bit) and
strict (no string or boolean stands for one), every string is bounded and free of NUL (which PostgreSQL's text cannot hold), and drawings have a
fixed vector shape, so bad input is a 422 with a clear message, never a server error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from soundstage.project.dailies import PlaylistSummary
from soundstage.review.workflow import Action, Status

MAX_INT = 2**31 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def bounded_text(max_length: int) -> object:
    """A string type of at most ``max_length`` characters without NUL."""
    return Annotated[str, Field(max_length=max_length), AfterValidator(_no_nul)]


Body = bounded_text(10_000)
Reason = bounded_text(2_000)
ShapeText = bounded_text(500)
# Integers and booleans are strict: "2" or true where a take number is asked for is a client's
# mistake (true would be take 1), answered 422 rather than guessed at.
Number = Annotated[int, Field(ge=1, le=MAX_INT, strict=True)]
Frame = Annotated[int, Field(ge=0, le=MAX_INT, strict=True)]
Coordinate = Annotated[float, Field(ge=-1.0, le=2.0, allow_inf_nan=False)]  # a little outside the frame is fine


class Shape(BaseModel):
    """One drawn mark on a frame; points are normalised to the frame (0..1 from the top left)."""

    model_config = ConfigDict(extra="forbid")

    tool: Literal["pen", "arrow", "box", "text"]
    points: list[tuple[Coordinate, Coordinate]] = Field(min_length=1, max_length=4000)
    colour: str = Field(default="#ff3b30", pattern=r"^#[0-9a-fA-F]{6}$")
    width: float = Field(default=0.004, gt=0, le=0.1, allow_inf_nan=False)
    text: ShapeText = ""  # type: ignore[valid-type]


class NoteIn(BaseModel):
    """A note, with an optional drawing and an optional status change."""

    model_config = ConfigDict(extra="forbid")

    body: Body = ""  # type: ignore[valid-type]
    take: Number | None = None
    frame: Frame | None = None
    shapes: list[Shape] = Field(default_factory=list, max_length=1000)
    status: Status | None = None
    override_reason: Reason = ""  # type: ignore[valid-type]


DecisionAction = Literal["approve", "request changes", "submit", "final", "start", "reopen"]


class DecisionIn(BaseModel):
    """A status decision on a shot."""

    model_config = ConfigDict(extra="forbid")

    action: DecisionAction
    take: Number | None = None
    note: Body = ""  # type: ignore[valid-type]
    override_reason: Reason = ""  # type: ignore[valid-type]

    @property
    def workflow_action(self) -> Action:
        """The action as the workflow names it."""
        return Action(self.action)


TakeName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,32}/[0-9]{1,9}$")]


class PlaylistIn(BaseModel):
    """A new playlist: a name and takes by their names ("012_0030/2")."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_no_nul)]
    takes: list[TakeName] = Field(default_factory=list, max_length=5000)


class PlaylistApproveIn(BaseModel):
    """Approve every take of a playlist, with a note and an override reason for flagged takes."""

    model_config = ConfigDict(extra="forbid")

    note: Body = ""  # type: ignore[valid-type]
    override_reason: Reason = ""  # type: ignore[valid-type]
    # Each flagged or not-checked take's own reason, by take name ("012_0030/2").
    overrides: dict[TakeName, Reason] = Field(default_factory=dict, max_length=5000)  # type: ignore[valid-type]


class ShareIn(BaseModel):
    """A client link to a playlist."""

    model_config = ConfigDict(extra="forbid")

    password: Annotated[str, Field(min_length=8, max_length=256), AfterValidator(_no_nul)] | None = None
    expires_in_hours: int = Field(default=72, ge=1, le=24 * 365, strict=True)
    can_comment: bool = Field(default=False, strict=True)


# -- what the API answers (besides the views of soundstage.project.board and .dailies) ------------


class NoteOut(BaseModel):
    """A note written: its id and the shot's status after it."""

    note: int
    status: str


class DecisionOut(BaseModel):
    """A decision made: the shot's new status, the take approved (if any) and the audit event."""

    status: str
    take: str | None
    event: int


class EventOut(BaseModel):
    """One event of the audit trail."""

    id: int
    at: str | None
    actor: str
    role: str
    action: str
    subject: str
    detail: dict[str, Any]
    prev_sha256: str
    sha256: str


class AuditPage(BaseModel):
    """A page of the audit trail, oldest first."""

    events: list[EventOut]


class CheckpointOut(BaseModel):
    """A signed checkpoint of the audit trail: how many events, the head's hash, when."""

    events: int
    head_sha256: str
    at: str | None


class ChainOut(BaseModel):
    """Whether the audit trail is intact, as ``audit verify`` checks it: the hash chain, the signed
    checkpoints in the production folder, and the stored shot statuses and approvals against the
    events' replay; over how many events, and one line per problem found by any of them."""

    intact: bool
    events: int
    problems: list[str]
    head_sha256: str | None = None  # the newest event's hash; None for an empty trail
    chain_intact: bool = True  # the hash chain alone (it cannot see events deleted from the end)
    checkpoint: CheckpointOut | None = None  # the newest checkpoint found
    anchors: list[str] = Field(default_factory=list)  # one line per checkpoint compared


class PlaylistsOut(BaseModel):
    """Every playlist, newest first."""

    playlists: list[PlaylistSummary]


class ShareOut(BaseModel):
    """A client link made: its address (shown once) and when it expires."""

    url: str
    expires_at: str | None


class ErrorOut(BaseModel):
    """How the API refuses: one line saying what is wrong and where."""

    detail: str


# The refusals every JSON route may answer (web/app.py answers each as one ErrorOut line).
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (400, "Bad input"),
        (401, "Not logged in"),
        (403, "A role that may not"),
        (404, "No such shot, take or playlist"),
        (409, "The workflow refuses"),
        (413, "Request body too large"),
        (422, "A field is invalid"),
    )
}


# -- the stripboard --


class MoveIn(BaseModel):
    """A strip dragged on the stripboard: the scene and the shoot day (1-based) it goes to."""

    model_config = ConfigDict(extra="forbid")

    scene: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9.\-]+$")
    day: int = Field(ge=1, le=10_000, strict=True)


class MoveOut(BaseModel):
    """A move stored: the scene, its day and date, and what the schedule costs now."""

    scene: str
    day: int
    date: str
    cost: str


class PreviewOut(BaseModel):
    """A strip over another day, not dropped yet: what the schedule would cost, and every rule
    the move would break (none: it may be dropped there)."""

    scene: str
    day: int
    cost: str
    conflicts: list[str]
