"""``Production``: one object over an open production, whose methods are the services of
``soundstage.project`` with the context (and, for review, the transaction and the person)
filled in. Scripts, tests and the CLI use it; the review room calls the services directly
inside its own transactions. It holds no logic of its own: a method here is one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import Engine

from soundstage.checks import Finding
from soundstage.config import Settings
from soundstage.generate.backend import parse_take_name
from soundstage.generate.worker import WorkReport
from soundstage.plan.model import Shot
from soundstage.project import bible, blocking, checks, drafts, editorial, people, review, shotlist, takes, trail
from soundstage.project import schedules as schedule_service
from soundstage.project.blocking import LayoutReport, PrevisReport
from soundstage.project.checks import CheckReport
from soundstage.project.drafts import ImportReport
from soundstage.project.editorial import CutReport
from soundstage.project.production import Context, Progress, console, init_production, no_progress, open_production
from soundstage.project.review import Decision
from soundstage.project.shotlist import PlanReport
from soundstage.project.takes import TakeInfo, TakeOptions
from soundstage.provenance.credentials import Signer
from soundstage.reports.sheets import SceneSheet
from soundstage.review.audit import ChainReport, Event
from soundstage.review.workflow import Action
from soundstage.script.formats import Format
from soundstage.script.model import Script
from soundstage.store.media import MediaStore


class Production:
    """An open production folder: settings, database and media store, and every service."""

    def __init__(self, root: Path, settings: Settings, engine: Engine) -> None:
        self.context = Context(root, settings, engine)

    @classmethod
    def _over(cls, context: Context) -> Production:
        production = cls.__new__(cls)
        production.context = context
        return production

    @property
    def root(self) -> Path:
        """The production folder."""
        return self.context.root

    @property
    def settings(self) -> Settings:
        """soundstage.toml with the environment over it."""
        return self.context.settings

    @property
    def engine(self) -> Engine:
        """The production's database."""
        return self.context.engine

    @property
    def media(self) -> MediaStore:
        """The production's content-addressed media store."""
        return self.context.media

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def init(cls, root: Path, *, database_url: str = "", title: str = "") -> Production:
        """Make a new production folder; on any failure nothing is left behind."""
        return cls._over(init_production(root, database_url=database_url, title=title))

    @classmethod
    def open(cls, root: Path) -> Production:
        """Open an existing production, migrating its database to the current schema."""
        return cls._over(open_production(root))

    def close(self) -> None:
        """Release the database connections."""
        self.context.close()

    def __enter__(self) -> Production:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the script (drafts) ---------------------------------------------------------------

    def import_script(self, path: Path) -> ImportReport:
        """Read a screenplay (a first draft or a revision) into the production."""
        return drafts.import_script(self.context, path)

    def script(self) -> Script:
        """The current draft, parsed (once per open production)."""
        return drafts.script(self.context)

    def title(self) -> str:
        """The production's title: ``title`` in soundstage.toml, else the script's title page."""
        return drafts.title(self.context)

    def scene_numbers(self) -> list[str]:
        """Production scene numbers of the current draft, in script order."""
        return drafts.scene_numbers(self.context)

    def export_script(self, fmt: Format) -> bytes:
        """The current draft as a Fountain or FDX file, with the production's scene numbers."""
        return drafts.export_script(self.context, fmt)

    def breakdown(self) -> list[SceneSheet]:
        """The breakdown of every scene of the current draft."""
        return drafts.breakdown(self.context)

    # -- the shot list (shotlist) -----------------------------------------------------------

    def plan(self, progress: Progress = no_progress) -> PlanReport:
        """Propose shots for every scene by the coverage rules; artists' edits are kept."""
        return shotlist.plan(self.context, progress)

    def shots(self, scene: str | None = None) -> list[Shot]:
        """The shot list as artists see it (the plan with their edits), in cut order."""
        return shotlist.shots(self.context, scene)

    def shot(self, code: str) -> Shot:
        """One shot by its code."""
        return shotlist.shot(self.context, code)

    def edit_shot(self, code: str, edits: dict[str, object]) -> Shot:
        """Apply an artist's edits to a shot; they survive every re-plan."""
        return shotlist.edit_shot(self.context, code, edits)

    def edited_layouts(self) -> list[str]:
        """Shots whose layout file differs from what Soundstage last wrote: edited by hand."""
        return shotlist.edited_layouts(self.context)

    # -- blocking and previs (blocking) ------------------------------------------------------

    def characters(self, names: set[str]) -> dict[str, tuple[int, tuple[float, float, float]]]:
        """Mask id and colour of each named character, giving new characters theirs."""
        return blocking.characters(self.context, names)

    def layout_path(self, shot: Shot) -> Path:
        """Where a shot's USD layout lives."""
        return blocking.layout_path(self.context, shot)

    def layout(
        self, *, force: bool = False, scene: str | None = None, progress: Progress = no_progress
    ) -> LayoutReport:
        """Write a USD layout for every shot (or one scene's); hand edits are kept unless ``force``."""
        return blocking.layout(self.context, force=force, scene=scene, progress=progress)

    def previs(
        self,
        *,
        size: tuple[int, int] = (1280, 720),
        burn_in: bool = True,
        force: bool = False,
        scene: str | None = None,
        progress: Progress = no_progress,
    ) -> PrevisReport:
        """Render every laid-out shot's previs passes, check the framing, make contact sheets."""
        return blocking.previs(self.context, size=size, burn_in=burn_in, force=force, scene=scene, progress=progress)

    def storyboard(self, code: str) -> Path | None:
        """The newest storyboard frame of a shot in the media store, if it was rendered."""
        return blocking.storyboard(self.context, code)

    # -- takes (bible, takes) -----------------------------------------------------------------

    def bible_check(self) -> list[str]:
        """What the production bible lacks, one line each (empty when complete)."""
        return bible.bible_check(self.context)

    def queue_takes(self, code: str, options: TakeOptions) -> list[int]:
        """Queue ``options.count`` takes of a shot with complete recipes; their job ids."""
        return takes.queue_takes(self.context, code, options)

    def queue_missing_takes(self, backend: str = "", requested_by: str = "") -> int:
        """Queue one take for every rendered shot that has no take and no job yet; how many."""
        return takes.queue_missing_takes(self.context, backend, requested_by)

    def work(self, workers: int | None = None, progress: Progress = no_progress) -> WorkReport:
        """Run the queue with local worker processes until it is empty."""
        return takes.work(self.context, workers, progress)

    def cancel(self, job_ids: list[int] | None = None) -> int:
        """Cancel queued and running jobs (all of them when ``job_ids`` is None); how many."""
        return takes.cancel(self.context, job_ids)

    def takes(self, code: str) -> list[TakeInfo]:
        """A shot's takes, with the jobs still queued, running, failed or cancelled."""
        return takes.takes(self.context, code)

    def reproduce(self, reference: str) -> tuple[bool, Path, str]:
        """Run a take's recipe again; whether the bytes match, the take's file, the new hash."""
        return takes.reproduce(self.context, reference)

    # -- intent checks (checks) -------------------------------------------------------------------

    def check(
        self, codes: Sequence[str] = (), *, jobs: Sequence[int] = (), progress: Progress = no_progress
    ) -> CheckReport:
        """Run the intent checks on takes and store their findings (replacing earlier ones)."""
        return checks.check(self.context, codes, jobs=jobs, progress=progress)

    def findings(self, reference: str) -> list[Finding]:
        """The stored findings of a take ("012_0030/2"; a bare shot code: its newest take)."""
        return checks.findings(self.context, reference)

    # -- the cut (editorial) ----------------------------------------------------------------------

    def signer(self) -> Signer:
        """The production's content-credentials signer."""
        return editorial.signer(self.context)

    def cut(
        self,
        out: Path,
        *,
        scenes: Sequence[str] = (),
        prores: bool = False,
        name: str = "cut",
        progress: Progress = no_progress,
        made_by: str = "",
    ) -> CutReport:
        """Cut the episode (or ``scenes``) into ``out``: signed takes, timeline, animatic, disclosure."""
        return editorial.cut(
            self.context, out, scenes=scenes, prores=prores, name=name, progress=progress, made_by=made_by
        )

    # -- people and review (people, review, trail) ---------------------------------------------

    def add_user(self, name: str, role: str, *, by: str = "", password_hash: str = "") -> None:
        """Add a person; ``by`` names a producer, or is empty for the console at the production."""
        with self.context.transaction() as session:
            people.add_user(session, people.person(session, by) if by else console(), name, role, password_hash)

    def change_role(self, name: str, role: str, *, by: str = "") -> None:
        """Give a person another role (a producer, or the console)."""
        with self.context.transaction() as session:
            people.change_role(session, people.person(session, by) if by else console(), name, role)

    def users(self) -> list[tuple[str, str, bool]]:
        """(name, role, active) of everyone, by name."""
        with self.context.transaction() as session:
            return people.users(session)

    def set_password(self, name: str, password: str) -> None:
        """Set a person's review-room password (argon2); every session they had open ends."""
        with self.context.transaction() as session:
            people.set_password(session, name, password)

    def issue_token(self, name: str) -> str:
        """A new API token for an active person, to be shown once: only its sha256 is kept."""
        with self.context.transaction() as session:
            return people.issue_token(session, name)

    def decide(self, reference: str, action: Action, *, by: str, note: str = "", override_reason: str = "") -> Decision:
        """A review decision on a shot ("012_0030") or a take ("012_0030/2") by user ``by``;
        approving a bare shot code approves its newest take."""
        code, number = parse_take_name(reference)
        with self.context.transaction() as session:
            actor = people.person(session, by)
            return review.decide(
                session, actor, code, action, take_number=number, note=note, override_reason=override_reason
            )

    def note(self, reference: str, body: str, *, by: str, frame: int | None = None) -> int:
        """A note on a shot or take, at an optional integer frame; returns its id."""
        code, number = parse_take_name(reference)
        with self.context.transaction() as session:
            return review.add_note(
                session, people.person(session, by), code, take_number=number, frame=frame, body=body
            ).id

    def audit(self) -> tuple[ChainReport, list[Event]]:
        """The audit trail and whether its hash chain is intact."""
        return trail.audit(self.context)

    # -- stages and schedules --

    def add_stage(self, name: str, **fields: object) -> schedule_service.Stage:
        """Add a stage the production can rent (see ``project.schedules.add_stage``)."""
        return schedule_service.add_stage(self.context, name, **fields)  # type: ignore[arg-type]

    def stages(self) -> list[schedule_service.Stage]:
        """The production's stages, by name."""
        return schedule_service.stages(self.context)

    def solve_schedule(self, **settings: object) -> schedule_service.Schedule:
        """Build the production model from the screenplay and stages, solve it and store it."""
        problem = schedule_service.problem(self.context, **settings)  # type: ignore[arg-type]
        return schedule_service.solve(self.context, problem)

    def schedule(self) -> schedule_service.Schedule:
        """The latest stored schedule."""
        return schedule_service.current(self.context)[1]

    def move_scene(self, scene: str, day: int) -> schedule_service.Schedule:
        """Move a scene to shoot day ``day`` (1-based), refused with one line if it breaks a rule."""
        return schedule_service.move(self.context, scene, day)

    def export_schedule(self, folder: Path) -> list[Path]:
        """Stripboard HTML and PDF, day out of days CSV, bookings iCalendar into ``folder``."""
        return schedule_service.export(self.context, folder)
