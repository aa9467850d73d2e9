"""The production's tables (SQLAlchemy 2 typed ORM).

Every change to these classes needs an Alembic migration in ``store/migrations/versions``;
a test compares the migrated schema with these models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy import event as orm_event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of every table."""

    # Named constraints, so later migrations (SQLite batch mode above all) can drop them.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    # Times are stored with their zone: a PostgreSQL server in another zone must not shift them.
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class Draft(Base):
    """One imported revision of the screenplay; the newest is the current draft."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    source_name: Mapped[str] = mapped_column(String(512))
    # The file as imported, kept in the media store so the draft can be re-read exactly.
    source_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(512), default="")
    scene_count: Mapped[int] = mapped_column(Integer, default=0)
    # -- writer (0016_writer) --: the draft holds AI-generated text (import --ai-material, or
    # script mark); a revision carries its predecessor's mark until someone unmarks it.
    ai_material: Mapped[bool] = mapped_column(default=False)


class SceneRow(Base):
    """A scene with a stable identity across drafts (matched on re-import)."""

    __tablename__ = "scenes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The production's scene number ("12", "12A"); stable once given.
    number: Mapped[str] = mapped_column(String(16), unique=True)
    # 0-based position in the current draft; None once removed from the script.
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    heading: Mapped[str] = mapped_column(String(512))
    # Hash of the scene's printed text: a change means the scene was revised.
    body_sha256: Mapped[str] = mapped_column(String(64))
    first_draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"))
    changed_draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"))
    removed_draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"), nullable=True)

    shots: Mapped[list[ShotRow]] = relationship(
        back_populates="scene", order_by="ShotRow.position", cascade="all, delete-orphan"
    )


class ShotRow(Base):
    """A planned shot. ``edits`` holds the artist's changes, which survive a re-plan."""

    __tablename__ = "shots"
    __table_args__ = (UniqueConstraint("code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    # The plan as the coverage rules proposed it (see plan.model.Shot for the fields).
    planned: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The artist's edits over the plan, field by field: {"size": "CU", "lens_mm": 85}.
    edits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    edited_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # False when a re-plan no longer proposes this shot but the artist had edited it.
    in_plan: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    # Review (review/workflow.py): where the shot stands, and who is working on it.
    status: Mapped[str] = mapped_column(String(24), default="todo", index=True)
    assignee: Mapped[str] = mapped_column(String(128), default="", index=True)
    # -- latency (0015_latency) --: the board's fields of the plan with the artist's edits, kept
    # beside the JSON so that the board neither decodes every shot's JSON nor filters in Python.
    # ``subjects`` is "|MAISIE|JUNO|" (each name between bars): a LIKE "%|JUNO|%" finds a character.
    subjects: Mapped[str] = mapped_column(Text, default="")
    frames: Mapped[int] = mapped_column(Integer, default=0)

    scene: Mapped[SceneRow] = relationship(back_populates="shots")


class CharacterRow(Base):
    """A character of the production, with the id and colour its stand-in keeps in every shot."""

    __tablename__ = "characters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    # 1..255: the value of the character in id masks (0 is "no character").
    mask_id: Mapped[int] = mapped_column(Integer, unique=True)
    colour: Mapped[list[Any]] = mapped_column(JSON)  # [r, g, b] in 0..1


class LayoutRow(Base):
    """The USD layout of a shot as Soundstage last wrote it; a file whose hash differs was edited by hand."""

    __tablename__ = "layouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    shot_id: Mapped[int] = mapped_column(ForeignKey("shots.id", ondelete="CASCADE"), unique=True)
    path: Mapped[str] = mapped_column(String(512))  # relative to the production folder
    written_sha256: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(default=utcnow)


class RenderRow(Base):
    """The newest previs render of a shot: its passes in the media store and the framing issues found."""

    __tablename__ = "renders"

    id: Mapped[int] = mapped_column(primary_key=True)
    shot_id: Mapped[int] = mapped_column(ForeignKey("shots.id", ondelete="CASCADE"), unique=True)
    layout_sha256: Mapped[str] = mapped_column(String(64))  # the USD file as rendered
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    storyboard_sha256: Mapped[str] = mapped_column(String(64))
    depth_sha256: Mapped[str] = mapped_column(String(64))
    lineart_sha256: Mapped[str] = mapped_column(String(64))
    ids_sha256: Mapped[str] = mapped_column(String(64))
    issues: Mapped[list[Any]] = mapped_column(JSON, default=list)
    rendered_at: Mapped[datetime] = mapped_column(default=utcnow)
    # -- motion (0013_motion) --: a moving shot's frame count and rate ("24000/1001"), and each
    # pass as a lossless clip in the media store (pass -> sha256 of its .mkv); a still: 1 and None.
    frames: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    fps: Mapped[str] = mapped_column(String(16), default="24", server_default="24")
    clips: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class JobRow(Base):
    """A queued take: its recipe waits here until a worker claims it.

    state: queued -> running -> done | failed; queued or running -> cancelled. A running job
    whose worker stopped sending heartbeats (killed, machine lost) is claimed again.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed with the job's id since 0019_lease (ix_jobs_shot, below).
    shot_id: Mapped[int] = mapped_column(ForeignKey("shots.id", ondelete="CASCADE"))
    backend: Mapped[str] = mapped_column(String(32))
    recipe: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Not indexed since 0019_lease: the queue reads open jobs through ix_jobs_open and
    # running ones through ix_jobs_lease (below), and an index of every state cost a write for
    # each state change.
    state: Mapped[str] = mapped_column(String(16), default="queued")
    worker: Mapped[str] = mapped_column(String(128), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # -- queue (0007_queue) --: a job put back after a transient failure waits until then.
    retry_at: Mapped[datetime | None] = mapped_column(nullable=True)

    # The operating-system login (and host) of whoever queued it, beside recipe.requested_by.
    requested_by_login: Mapped[str] = mapped_column(String(128), default="")


class TakeRow(Base):
    """One attempt at a shot: its recipe and its output in the media store."""

    __tablename__ = "takes"
    __table_args__ = (UniqueConstraint("shot_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shot_id: Mapped[int] = mapped_column(ForeignKey("shots.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3... per shot
    # One take per job, ever: a job run twice (a worker killed after writing) records once.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), unique=True)
    backend: Mapped[str] = mapped_column(String(32))
    recipe: Mapped[dict[str, Any]] = mapped_column(JSON)
    recipe_sha256: Mapped[str] = mapped_column(String(64), index=True)
    output_sha256: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The accountable person: set when a supervisor or producer approves this take, cleared when
    # the shot goes back to changes requested (the audit trail keeps the history).
    approved_by: Mapped[str] = mapped_column(String(128), default="")
    approved_role: Mapped[str] = mapped_column(String(16), default="")
    approved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    override_reason: Mapped[str] = mapped_column(Text, default="")
    # The intent checks: when they last ran, and the take's compact signature (checks/) that
    # continuity and duplicate checks of other takes compare against without reading images.
    checked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    signature: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # requested_by is the production's user name; this the operating-system login (and host)
    # of whoever queued the take, recorded beside it (copied from its job).
    requested_by_login: Mapped[str] = mapped_column(String(128), default="")


class FindingRow(Base):
    """One result of an intent check on a take (checks/drift.py)."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    take_id: Mapped[int] = mapped_column(ForeignKey("takes.id", ondelete="CASCADE"), index=True)
    check: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128), default="")  # a character, or ""
    score: Mapped[float] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    # The frames of a clip take the finding is about (from 0, both included); None for a still.
    first_frame: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_frame: Mapped[int | None] = mapped_column(Integer, nullable=True)


class UserRow(Base):
    """A person of the production and their role (review/workflow.py ROLES)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256), default="")  # argon2; "" = no web login
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NoteRow(Base):
    """A review note on a shot, optionally on one take and one frame, with drawn annotations."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    shot_id: Mapped[int] = mapped_column(ForeignKey("shots.id", ondelete="CASCADE"), index=True)
    take_id: Mapped[int | None] = mapped_column(ForeignKey("takes.id", ondelete="SET NULL"), nullable=True)
    author: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    # An integer frame of the take or the shot's place in the cut: float seconds drift by a frame.
    frame: Mapped[int | None] = mapped_column(Integer, nullable=True)
    body: Mapped[str] = mapped_column(Text, default="")
    shapes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # vector annotation: pen, arrow, box, text
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventRow(Base):
    """One decision in the append-only, hash-chained audit trail (review/audit.py).

    ``prev_sha256`` is unique: two writers that read the same last event cannot both append,
    so the chain can never fork.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))  # "012_0030", "012_0030/2", a user name
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)


# -- the review room (web/): sessions, API tokens, login throttling, playlists, client links ---------

# The media route asks "is this a take's output?" for every image it serves.
Index("ix_takes_output_sha256", TakeRow.output_sha256)

# -- queue (0018_claim) --: every claim looks for the oldest open job. Without this index it
# walks the primary key through every finished job first (on PostgreSQL, 23 ms at 100,000 done
# jobs, against 0.03 ms with it), so a farm's claims slow down as the table grows. The claim's
# WHERE names the same states (generate/queue.py ``_claimable``): SQLite uses a partial index
# only for a query that repeats its condition.
OPEN_JOB_STATES = ("queued", "running")
Index(
    "ix_jobs_open",
    JobRow.id,
    postgresql_where=JobRow.state.in_(OPEN_JOB_STATES),
    sqlite_where=JobRow.state.in_(OPEN_JOB_STATES),
)

# -- queue (0019_lease) --: every claim sweeps the spent jobs (claimed max_attempts times) that
# it would otherwise take again; those running are found among the running jobs whose lease ran
# out, through this index, not by reading every open job (generate/queue.py ``claim``).
Index(
    "ix_jobs_lease",
    JobRow.heartbeat_at,
    postgresql_where=JobRow.state == "running",
    sqlite_where=JobRow.state == "running",
)
# -- queue (0019_lease) --: a claim batches jobs of its first job's shot, the oldest first, as a
# range of this index from that job on (it replaces the index of shot_id alone); a walk of
# ix_jobs_open filtered by shot would read on to the end of the queue for a shot that has fewer
# open jobs than the batch, and the index of shot_id alone reads every job the shot ever had.
Index("ix_jobs_shot", JobRow.shot_id, JobRow.id)
# -- queue (0021_queued) --: on PostgreSQL the claim finds its first job and the spent ones at
# the front by walking queued jobs only (generate/queue.py ``_claim_in_one_statement``). A claim
# writes its running version into ix_jobs_open at the queue's front, on the leaf pages the walks
# read, and PostgreSQL does not mark dead the entries a scan passed on a page changed since, so
# there the walks passed ever more dead entries as a run went on; nothing writes to this index's
# front, so the first walk past a dead entry marks it and the later ones skip it.
Index(
    "ix_jobs_queued",
    JobRow.id,
    postgresql_where=JobRow.state == "queued",
    sqlite_where=JobRow.state == "queued",
)


class PlaylistRow(Base):
    """A dailies playlist: takes to review, in order."""

    __tablename__ = "playlists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlaylistTakeRow(Base):
    """One take of a playlist, at its place in the playlist."""

    __tablename__ = "playlist_takes"
    __table_args__ = (UniqueConstraint("playlist_id", "take_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    playlist_id: Mapped[int] = mapped_column(ForeignKey("playlists.id", ondelete="CASCADE"), index=True)
    take_id: Mapped[int] = mapped_column(ForeignKey("takes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)


class ShareRow(Base):
    """A client link to one playlist: only the token's sha256 is kept; optional password; an expiry."""

    __tablename__ = "shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    playlist_id: Mapped[int] = mapped_column(ForeignKey("playlists.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256), default="")  # argon2; "" = no password
    can_comment: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebSessionRow(Base):
    """A browser session, kept on the server so logout and a new password end it at once.

    A person's session has ``user_id``; a client link's guest session has ``share_id``.
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    share_id: Mapped[int | None] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class ApiTokenRow(Base):
    """An API token for scripts (``soundstage user token``): only its sha256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginFailureRow(Base):
    """A failed login (a name or a client link's password, and the address it came from), or
    one whose password is being checked: the throttle counts these, in the database so every
    server process, and the same one after a restart, sees them."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


# -- login throttle (0020_login_throttle) --: every login counts the failures from its address
# (whatever the names tried) in the last window, and every attempt forgets the failures older
# than the window: two ranges of these, not walks of the whole table.
Index("ix_login_failures_address_at", LoginFailureRow.address, LoginFailureRow.at)
Index("ix_login_failures_at", LoginFailureRow.at)

# -- schedules --


class StageRow(Base):
    """A stage the production can rent (``soundstage stage add``)."""

    __tablename__ = "stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    size_sqft: Mapped[int] = mapped_column(Integer)
    zone: Mapped[str] = mapped_column(String(8))
    day_rate: Mapped[str] = mapped_column(String(32))  # a Decimal, as text
    available_from: Mapped[str | None] = mapped_column(String(10))  # ISO date
    available_to: Mapped[str | None] = mapped_column(String(10))


class ScheduleRow(Base):
    """A solved schedule: its days (dates, scenes in order, stage of each scene, location) as
    JSON, its cost and its proven lower bound (Decimals as text)."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    days: Mapped[Any] = mapped_column(JSON)
    settings: Mapped[Any] = mapped_column(JSON)  # start, days_per_week, eighths_per_day
    cost: Mapped[str] = mapped_column(String(32))
    lower_bound: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The draft and each scene's work (SceneWork as JSON) it was solved from: a re-import makes
    # the schedule stale, and the next solve re-plans from these (None before 0011_strip).
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"))
    scenes: Mapped[Any | None] = mapped_column(JSON)


# -- queue --


class TakeCounterRow(Base):
    """The last take number given to a shot. Takes are numbered from this row, not from the
    highest number recorded: completing a take updates it, so on PostgreSQL two workers finishing
    takes of one shot queue on its row lock instead of both reading the same maximum."""

    __tablename__ = "take_counters"

    shot_id: Mapped[int] = mapped_column(ForeignKey("shots.id", ondelete="CASCADE"), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


# -- books --


class CrewMemberRow(Base):
    """A person on the production's books (``soundstage crew add``): department, job title,
    union, residence (a place such as ``US-CA/la-zone``), above or below the line."""

    __tablename__ = "crew_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    department: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(128))
    union: Mapped[str] = mapped_column(String(16), default="none")
    union_local: Mapped[int | None] = mapped_column(Integer, nullable=True)
    residence: Mapped[str | None] = mapped_column(String(32), nullable=True)  # a place; None: not stated
    atl: Mapped[bool] = mapped_column(default=False)
    trainee: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrewRateRow(Base):
    """A crew member's rate from its effective date until the next one (a Decimal, as text)."""

    __tablename__ = "crew_rates"
    __table_args__ = (UniqueConstraint("crew_id", "effective"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crew_id: Mapped[int] = mapped_column(ForeignKey("crew_members.id", ondelete="CASCADE"), index=True)
    amount: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(8))  # hour | day
    effective: Mapped[str] = mapped_column(String(10))  # ISO date
    currency: Mapped[str] = mapped_column(String(3))


class TimeEntryRow(Base):
    """Hours a person worked on a day. ``status`` is draft (suggested from activity, counts for
    nothing) or confirmed; ``source`` is timesheet or activity. Decimals and dates as text."""

    __tablename__ = "time_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    person: Mapped[str] = mapped_column(String(128), index=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    hours: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(128), default="")
    department: Mapped[str] = mapped_column(String(64), default="")
    location: Mapped[str | None] = mapped_column(String(32), nullable=True)
    scene: Mapped[str] = mapped_column(String(16), default="")
    shot: Mapped[str] = mapped_column(String(32), default="")
    task: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="confirmed", index=True)
    source: Mapped[str] = mapped_column(String(16), default="timesheet")
    pay: Mapped[str | None] = mapped_column(String(32), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    origin: Mapped[str] = mapped_column(String(300), default="")  # "hours.csv:12", "hours add"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # -- writer (0016_writer) --: generative AI work, booked under the person who did it.
    ai_assisted: Mapped[bool] = mapped_column(default=False)


class SpendLineRow(Base):
    """One cost in the production's ledger (``soundstage spend add|import``): amounts as text."""

    __tablename__ = "spend_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor: Mapped[str] = mapped_column(String(200))
    account: Mapped[str] = mapped_column(String(32), index=True)
    amount: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    day: Mapped[str] = mapped_column(String(10))
    location: Mapped[str | None] = mapped_column(String(32), nullable=True)
    vendor_local: Mapped[bool] = mapped_column(default=False)
    atl: Mapped[bool | None] = mapped_column(nullable=True)  # None: the account's
    kind: Mapped[str | None] = mapped_column(String(32), nullable=True)  # None: the account's
    department: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- review room security --


class GuestNoteRow(Base):
    """Which client link a guest's comment came through: a guest sees what was said through
    their own link, never what another link's guest wrote on a take both playlists share."""

    __tablename__ = "guest_notes"

    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"), index=True)


# -- guardrails --


class PerformerRow(Base):
    """A performer of the production (``soundstage performer add``): a real person or a
    synthetic performer, with what they lend and how their replica was made."""

    __tablename__ = "performers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    synthetic: Mapped[bool] = mapped_column(default=False)
    gives: Mapped[list[Any]] = mapped_column(JSON, default=list)  # voice, likeness, motion
    deceased: Mapped[bool] = mapped_column(default=False)
    replica: Mapped[str] = mapped_column(String(32), default="employment-replica")
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentRow(Base):
    """A performer's signed consent for one project; its document is in the media store by
    sha256 (guardrails.model.Consent holds the meaning of each field)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[str] = mapped_column(String(64), unique=True)  # "C-1"
    performer: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    project: Mapped[str] = mapped_column(String(256))
    scope: Mapped[str] = mapped_column(Text)
    signed: Mapped[str] = mapped_column(String(10))  # ISO date
    expires: Mapped[str | None] = mapped_column(String(10), nullable=True)
    document_sha256: Mapped[str] = mapped_column(String(64))
    document_suffix: Mapped[str] = mapped_column(String(16), default="")
    signer: Mapped[str] = mapped_column(String(16), default="self")
    real_time: Mapped[bool | None] = mapped_column(nullable=True)
    name_in_prompt: Mapped[bool] = mapped_column(default=False)
    representation: Mapped[str] = mapped_column(String(16), default="none")
    replaces_in_person: Mapped[bool] = mapped_column(default=True)
    scenes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    pay_terms: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(128), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentEventRow(Base):
    """A revocation, suspension or reinstatement of a consent."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column()
    by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")


class NoticeRow(Base):
    """A scan notice or a union notice (``kind``), its fields as JSON (guardrails.model's
    ScanNotice and UnionNotice)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # scan | union
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(128), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsultationRow(Base):
    """A logged consultation with the director on generative AI (for some shots, or all)."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    director: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column()
    summary: Mapped[str] = mapped_column(Text)
    shots: Mapped[list[Any]] = mapped_column(JSON, default=list)
    recorded_by: Mapped[str] = mapped_column(String(128), default="")


class DisclosureRecordRow(Base):
    """A disclosure to a writer that a draft (by sha256) holds AI-generated material."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_sha256: Mapped[str] = mapped_column(String(64))
    writer: Mapped[str] = mapped_column(String(128))
    disclosed_at: Mapped[datetime] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(128), default="")


class OverrideRow(Base):
    """A producer's written decision to let one guardrail violation stand (as it was shown)."""

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128), index=True)
    performer: Mapped[str] = mapped_column(String(128), default="")
    violation: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column()


# -- stage bookings --


class StageBookingRow(Base):
    """Days of a stage held or booked (``soundstage stage hold|book|release``): by this
    production (``holder`` None) or by another, whose firm bookings the solver keeps clear of."""

    __tablename__ = "stage_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    first: Mapped[str] = mapped_column(String(10))  # ISO date
    last: Mapped[str] = mapped_column(String(10))
    holder: Mapped[str | None] = mapped_column(String(256))
    firm: Mapped[bool] = mapped_column()  # booked; False: on hold


# -- schedule pins (strip2) --


class SchedulePinRow(Base):
    """A scene pinned by a user to a shoot date (``soundstage schedule pin``): every solve and
    re-plan keeps it there."""

    __tablename__ = "schedule_pins"

    id: Mapped[int] = mapped_column(primary_key=True)
    scene: Mapped[str] = mapped_column(String(16), unique=True)  # the production scene number
    day: Mapped[str] = mapped_column(String(10))  # ISO date


# -- latency --


def shot_summary(planned: dict[str, Any], edits: dict[str, Any] | None) -> dict[str, Any]:
    """ShotRow's ``subjects`` and ``frames`` columns from its plan and the artist's edits (the
    edits win field by field), for writers that insert or update shots in bulk."""
    merged = {**planned, **(edits or {})}
    names = [str(name) for name in merged.get("subjects", [])]
    return {
        "subjects": "".join(f"|{name}" for name in names) + "|" if names else "",
        "frames": int(merged.get("frames", 0)),
    }


def subject_names(subjects: str) -> list[str]:
    """The names in ShotRow's ``subjects`` column, in order."""
    return subjects.strip("|").split("|") if subjects else []


@orm_event.listens_for(ShotRow, "before_insert")
@orm_event.listens_for(ShotRow, "before_update")
def _summarise_shot(_mapper: Any, _connection: Any, row: ShotRow) -> None:
    # Shots written through the ORM (an artist's edit, a test's row) keep the columns right by
    # themselves; bulk writers pass shot_summary's values in their rows.
    summary = shot_summary(row.planned or {}, row.edits)
    row.subjects, row.frames = summary["subjects"], summary["frames"]
