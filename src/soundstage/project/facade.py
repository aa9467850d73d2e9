"""``Production``: one object over an open production, whose methods are the services of
``soundstage.project`` with the context (and, for review, the transaction and the person)
filled in. Scripts, tests and the CLI use it; the review room calls the services directly
inside its own transactions. It holds no logic of its own: a method here is one call.

Long because it is the one door to every area (takes, review, books, guardrails, schedules...):
each method is a few lines of delegation, and splitting the door would give callers two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from soundstage.config import Settings
from soundstage.generate.backend import parse_take_name
from soundstage.generate.queue import JobInfo
from soundstage.guardrails.evaluate import Outcome, Override
from soundstage.guardrails.model import Consent, DirectorConsultation, Performer, UnionNotice
from soundstage.plan.model import Shot
from soundstage.project import activity as activity_service
from soundstage.project import (
    bible,
    blocking,
    checks,
    consents,
    drafts,
    editorial,
    people,
    review,
    schedule_pins,
    schedule_rent,
    shotlist,
    stage_bookings,
    takes,
    trail,
)
from soundstage.project import books as book_service
from soundstage.project import guardrails as guardrail_service
from soundstage.project import incentives as incentive_service
from soundstage.project import schedules as schedule_service
from soundstage.project.blocking import LayoutReport, PrevisReport
from soundstage.project.checks import CheckReport
from soundstage.project.drafts import ImportReport
from soundstage.project.editorial import CutReport
from soundstage.project.production import Context, Progress, console, init_production, no_progress, open_production
from soundstage.project.review import Decision
from soundstage.project.shotlist import PlanReport
from soundstage.project.takes import TakeInfo, TakeOptions
from soundstage.reports.sheets import SceneSheet
from soundstage.review.anchor import Checkpoint
from soundstage.review.audit import ChainReport, Event
from soundstage.review.workflow import Action
from soundstage.schedules.model import DateRange, StageBooking
from soundstage.schedules.occupancy import StageDay
from soundstage.schedules.rent import RentLine
from soundstage.script.formats import Format
from soundstage.script.model import Script
from soundstage.store.media import MediaStore

if TYPE_CHECKING:  # for annotations only: importing these loads OpenCV, PyAV and c2pa
    from soundstage.checks import Finding
    from soundstage.generate.worker import WorkReport
    from soundstage.provenance.credentials import Signer


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
    def init(cls, root: Path, *, database_url: str = "", title: str = "", fps: Fraction | int | str = 24) -> Production:
        """Make a new production folder; on any failure nothing is left behind."""
        return cls._over(init_production(root, database_url=database_url, title=title, fps=fps))

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

    def import_script(self, path: Path, *, ai_material: bool = False) -> ImportReport:
        """Read a screenplay (a first draft or a revision) into the production."""
        return drafts.import_script(self.context, path, ai_material=ai_material)

    def script(self) -> Script:
        """The current draft, parsed (once per open production)."""
        return drafts.script(self.context)

    def title(self) -> str:
        """The production's title: ``title`` in soundstage.toml, else the script's title page."""
        return drafts.title(self.context)

    def scene_numbers(self) -> list[str]:
        """Production scene numbers of the current draft, in script order."""
        return drafts.scene_numbers(self.context)

    def export_script(self, fmt: Format, *, to: str = "") -> bytes:
        """The current draft as a Fountain or FDX file, with the production's scene numbers."""
        guardrail_service.clear_send(self.context, to)  # to a writer: the send-to-writer rules first
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
        force: bool = False,
        scene: str | None = None,
        progress: Progress = no_progress,
    ) -> PrevisReport:
        """Render every laid-out shot's previs passes, check the framing, make contact sheets."""
        return blocking.previs(self.context, size=size, force=force, scene=scene, progress=progress)

    def storyboard(self, code: str) -> Path | None:
        """The newest storyboard frame of a shot in the media store, if it was rendered."""
        return blocking.storyboard(self.context, code)

    def pass_clips(self, code: str) -> blocking.PassClips | None:
        """A moving shot's previs passes as clips in the media store; None for a still."""
        return blocking.pass_clips(self.context, code)

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

    def work(
        self, workers: int | None = None, progress: Progress = no_progress, *, ray: str | None = None
    ) -> WorkReport:
        """Run the queue until it is empty: local worker processes, or Ray tasks at ``ray``."""
        return takes.work(self.context, workers, progress, ray=ray)

    def cancel(self, job_ids: list[int] | None = None) -> int:
        """Cancel queued and running jobs (all of them when ``job_ids`` is None); how many."""
        return takes.cancel(self.context, job_ids)

    def retry_jobs(self, job_ids: list[int] | None = None, requested_by: str = "") -> list[int]:
        """Put failed or dead jobs back in the queue (all of them when ``job_ids`` is None)."""
        return takes.retry(self.context, job_ids, requested_by)

    def jobs(self, states: list[str] | None = None) -> list[JobInfo]:
        """The take queue's jobs in ``states`` (every state but done when None)."""
        return takes.jobs(self.context, states)

    def takes(self, code: str) -> list[TakeInfo]:
        """A shot's takes, with the jobs still queued, running, failed or cancelled."""
        return takes.takes(self.context, code)

    def reproduce(self, reference: str) -> tuple[bool, Path, str]:
        """Run a take's recipe again; whether the bytes match, the take's file, the new hash."""
        return takes.reproduce(self.context, reference)

    def reproduce_take(self, reference: str) -> takes.Reproduction:
        """Run a take's recipe again; bytes compared, and a clip frame by frame."""
        return takes.reproduce_take(self.context, reference)

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
            people.set_password(session, name, password, actor=console())

    def issue_token(self, name: str) -> str:
        """A new API token for an active person, to be shown once: only its sha256 is kept."""
        with self.context.transaction() as session:
            return people.issue_token(session, name)

    def decide(
        self,
        reference: str,
        action: Action,
        *,
        by: str = "",
        note: str = "",
        override_reason: str = "",
        token: str = "",
    ) -> Decision:
        """A review decision on a shot ("012_0030") or a take ("012_0030/2") by user ``by`` (or the
        owner of API ``token``, which a PostgreSQL production requires), recorded as made from the
        command line by this OS user and host; approving a bare shot code approves its newest take."""
        code, number = parse_take_name(reference)
        with self.context.transaction() as session:
            actor = review.cli_person(session, by, token=token)
            return review.decide(
                session,
                actor,
                code,
                action,
                take_number=number,
                note=note,
                override_reason=override_reason,
                context=self.context,
            )

    def note(self, reference: str, body: str, *, by: str = "", frame: int | None = None, token: str = "") -> int:
        """A note on a shot or take, at an optional integer frame, by ``by`` (or ``token``'s owner,
        as for ``decide``); returns its id."""
        code, number = parse_take_name(reference)
        with self.context.transaction() as session:
            actor = review.cli_person(session, by, token=token)
            return review.add_note(session, actor, code, take_number=number, frame=frame, body=body).id

    def audit(self) -> tuple[ChainReport, list[Event]]:
        """The audit trail and whether its hash chain is intact."""
        return trail.audit(self.context)

    def verify_trail(self, *, heads: Sequence[tuple[str, str]] = ()) -> trail.TrailCheck:
        """The audit trail checked against its signed checkpoints, ``heads`` and the stored rows."""
        return trail.verify_trail(self.context, heads=heads)

    def checkpoint(self) -> Checkpoint | None:
        """Sign a checkpoint of the audit trail's head now (None when the trail is empty)."""
        return trail.checkpoint(self.context)

    # -- revocation (review room security) --

    def tokens(self) -> list[tuple[int, str, datetime]]:
        """(id, person, made at) of every API token."""
        with self.context.reading() as session:
            return people.tokens(session)

    def revoke_token(self, token_id: int, *, by: str = "") -> str:
        """Revoke an API token (a producer, or the console); the person it acted as."""
        with self.context.transaction() as session:
            return people.revoke_token(session, people.person(session, by) if by else console(), token_id)

    def deactivate_user(self, name: str, *, by: str = "") -> None:
        """Deactivate a person: their sessions and tokens end at once (a producer, or the console)."""
        with self.context.transaction() as session:
            people.deactivate_user(session, people.person(session, by) if by else console(), name)

    def links(self) -> list[tuple[int, int, datetime, bool]]:
        """(id, playlist id, expires at, live) of every client link."""
        with self.context.reading() as session:
            return people.links(session)

    def withdraw_link(self, share_id: int, *, by: str = "") -> None:
        """Withdraw a client link at once (a producer, or the console)."""
        with self.context.transaction() as session:
            people.withdraw_link(session, people.person(session, by) if by else console(), share_id)

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

    def hold_stage(self, stage: str, dates: DateRange, *, by: str | None = None) -> StageBooking:
        """Hold a stage on ``dates`` (for the production ``by``, else this one)."""
        return stage_bookings.claim(self.context, stage, dates, firm=False, by=by)

    def book_stage(self, stage: str, dates: DateRange, *, by: str | None = None) -> StageBooking:
        """Book a stage on ``dates`` (for the production ``by``, else this one)."""
        return stage_bookings.claim(self.context, stage, dates, firm=True, by=by)

    def release_stage(self, stage: str, dates: DateRange, *, by: str | None = None) -> int:
        """Release days of a stage's holds and bookings; the number of days released."""
        return stage_bookings.release(self.context, stage, dates, by=by)

    def stage_rent(self) -> list[RentLine]:
        """The current schedule's stage rent, per stage and shoot day (for the books)."""
        return schedule_service.rent_lines(self.context)

    def plan_schedule(self, *, fresh: bool = False, **settings: object) -> schedule_service.Planned:
        """Solve and store the schedule, re-planning a stale one around its unchanged scenes
        (``fresh``: from nothing); says what a re-plan kept and changed."""
        problem = schedule_service.problem(self.context, **settings)  # type: ignore[arg-type]
        return schedule_service.plan(self.context, problem, fresh=fresh)

    def schedule_stale(self) -> bool:
        """Whether the screenplay was re-imported since the schedule was solved."""
        return schedule_service.stale(self.context)

    def schedule(self) -> schedule_service.Schedule:
        """The latest stored schedule."""
        return schedule_service.current(self.context)[1]

    def move_scene(self, scene: str, day: int) -> schedule_service.Schedule:
        """Move a scene to shoot day ``day`` (1-based), refused with one line if it breaks a rule."""
        return schedule_service.move(self.context, scene, day)

    def export_schedule(self, folder: Path) -> list[Path]:
        """Stripboard HTML and PDF, day out of days CSV, bookings iCalendar into ``folder``."""
        return schedule_service.export(self.context, folder)

    # -- schedules: rates, rent to the books, pins (strip2) --

    def schedule_cast_rates(self) -> schedule_service.CastRates:
        """Where the current schedule's cast day rates come from (the books, or the default)."""
        return schedule_service.current_cast_rates(self.context)

    def book_stage_rent(self) -> schedule_rent.RentBooked:
        """Book the current schedule's stage rent on the books, one spend line per stage."""
        return schedule_rent.book_rent(self.context)

    def pin_scene(self, scene: str, day: str) -> date:
        """Pin a scene to a date or shoot day for every solve and re-plan; the date pinned."""
        return schedule_service.pin(self.context, scene, day)

    def unpin_scene(self, scene: str) -> date:
        """Unpin a scene; the date it was pinned to."""
        return schedule_service.unpin(self.context, scene)

    def stage_days(self) -> tuple[StageDay, ...]:
        """Each stage's state on each shoot day of the schedule (used, standing, idle, blocked)."""
        return schedule_service.stage_days(self.context)

    def scene_pins(self) -> dict[str, date]:
        """The scenes users pinned, with their dates."""
        return schedule_pins.pins(self.context)

    # -- books --

    def add_crew(self, member: book_service.CrewMember) -> book_service.CrewMember:
        """Put a person on the production's books (see ``project.books.add_crew``)."""
        return book_service.add_crew(self.context, member)

    def add_rate(self, name: str, rate: book_service.Rate) -> book_service.CrewMember:
        """Give a crew member a new rate from its effective date."""
        return book_service.add_rate(self.context, name, rate)

    def import_crew(self, path: Path, **options: object) -> int:
        """Put a crew list's people on the books, all or nothing."""
        return book_service.import_crew(self.context, path, **options)  # type: ignore[arg-type]

    def crew(self) -> list[book_service.CrewMember]:
        """The crew, by name."""
        return book_service.crew(self.context)

    def add_hours(self, entry: book_service.TimeEntry) -> book_service.TimeEntry:
        """Book one time entry."""
        return book_service.add_hours(self.context, entry)

    def import_hours(self, path: Path, **options: object) -> list[book_service.TimeEntry]:
        """Book a timesheet export, all or nothing."""
        return book_service.import_hours(self.context, path, **options)  # type: ignore[arg-type]

    def hours(self, **filters: object) -> list[book_service.BookedEntry]:
        """The time entries on the books."""
        return book_service.hours(self.context, **filters)  # type: ignore[arg-type]

    def suggest_hours(self) -> activity_service.SuggestReport:
        """Draft time entries from the activity recorded in Soundstage."""
        return activity_service.suggest(self.context)

    def confirm_hours(self, **which: object) -> list[book_service.TimeEntry]:
        """Confirm drafts so that they count."""
        return activity_service.confirm(self.context, **which)  # type: ignore[arg-type]

    def hours_disagreements(self, **options: object) -> list[activity_service.DayCheck]:
        """Each person's day where timesheet and activity disagree."""
        return activity_service.disagreements(self.context, **options)  # type: ignore[arg-type]

    def add_spend(self, line: book_service.SpendLine) -> book_service.SpendLine:
        """Book one spend line."""
        return book_service.add_spend(self.context, line)

    def import_spend(self, path: Path, **options: object) -> list[book_service.SpendLine]:
        """Book a ledger export, all or nothing."""
        return book_service.import_spend(self.context, path, **options)  # type: ignore[arg-type]

    def incentives(self, **options: object) -> incentive_service.Incentives:
        """Estimate the incentive programs (and what-if designs) from the books."""
        return incentive_service.incentives(self.context, **options)  # type: ignore[arg-type]

    def books_summary(self) -> incentive_service.Summary:
        """The books summed for people."""
        return incentive_service.summary(self.context)

    def books_report(self, out_dir: Path, **options: object) -> list[Path]:
        """Write books.html and books.pdf into ``out_dir``."""
        return incentive_service.write_report(self.context, out_dir, **options)  # type: ignore[arg-type]

    # -- guardrails --

    def add_performer(self, name: str, **fields: object) -> Performer:
        """Record a performer (see ``project.guardrails.add_performer``)."""
        return consents.add_performer(self.context, name, **fields)  # type: ignore[arg-type]

    def add_consent(self, performer: str, **fields: object) -> Consent:
        """Record a performer's signed consent, its document stored by hash (see ``add_consent``)."""
        return consents.add_consent(self.context, performer, **fields)  # type: ignore[arg-type]

    def consent_event(self, consent_id: str, action: str, *, reason: str = "", by: str = "") -> Consent:
        """Revoke, suspend or reinstate a consent."""
        return consents.consent_event(self.context, consent_id, action, reason=reason, by=by)

    def add_union_notice(self, performer: str, **fields: object) -> UnionNotice:
        """Record a union notice for a synthetic performer."""
        return consents.add_union_notice(self.context, performer, **fields)  # type: ignore[arg-type]

    def add_consultation(self, director: str, summary: str, **fields: object) -> DirectorConsultation:
        """Log a consultation with the director on generative AI."""
        return consents.add_consultation(self.context, director, summary, **fields)  # type: ignore[arg-type]

    def guardrails_check(self, codes: Sequence[str] = (), *, to: str = "") -> Outcome:
        """Every rule over the takes that stand for ``codes`` (or every shot); ``to``: and
        every draft as sent to that writer."""
        return guardrail_service.check(self.context, codes, to=to)

    def guardrails_override(self, rule_id: str, subject: str, *, reason: str, by: str, to: str = "") -> list[Override]:
        """A producer's written override of a rule's open violations on a subject (``to``: a
        draft's, as sent to that writer)."""
        return consents.override(self.context, rule_id, subject, reason=reason, by=by, to=to)

    def guardrails_report(self, folder: Path) -> tuple[Path, Path]:
        """Write the compliance report (HTML and PDF) into ``folder``."""
        return guardrail_service.report(self.context, folder)
