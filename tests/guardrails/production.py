"""A production that keeps every rule: the example screenplay's scenes 3 and 4 planned into real
shots, cast with real and synthetic performers, and every record the rules ask for. Tests break
one thing at a time from here.

Cast: MAISIE is Ada Lind (voice, and likeness from a scan on the job); JUNO is Zoë Park (voice,
and an independently made likeness replica); OSWIN is the late Émile Durand (voice, consent
from his estate); FUSE, a copper robot, is the synthetic voice Fuse-9; MCKEE, a human, is the
synthetic performer Nova. The consent documents are real bytes in a real media store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

from soundstage.config import Plan
from soundstage.guardrails.evaluate import Outcome, Override, Violation, evaluate
from soundstage.guardrails.model import (
    Casting,
    Consent,
    CreditedMaterial,
    DepartmentAIAssignment,
    DirectorConsultation,
    Draft,
    DraftSend,
    Gives,
    Performer,
    Policy,
    Records,
    Release,
    ReplicaKind,
    ReplicaPay,
    ScanNotice,
    Signer,
    TakeUse,
    UnionNotice,
    WriterDisclosure,
)
from soundstage.guardrails.rules import BUILT_IN, Gate, RulePack, catalogue, select
from soundstage.guardrails.uses import take_use
from soundstage.plan.coverage import cover_scene
from soundstage.plan.model import Shot
from soundstage.script.breakdown import break_down
from soundstage.script.fountain import parse_fountain
from soundstage.store.media import MediaStore

from conftest import EXAMPLE

PROJECT = "LANTERN-KEEPERS-EP1"
AS_OF = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
MADE = datetime(2026, 8, 20, 10, 0, tzinfo=UTC)
SIGNED = date(2026, 6, 1)
EXPIRES = date(2027, 6, 1)
DIRECTOR = "Rae Okafor"
PRODUCER = "Priya Shah"
WATCHED = ("Marlon Vance",)  # a real actor the production watches prompts for (a made-up name)
ALL_PACKS = (
    "sag-aftra-tv-theatrical@2023",
    "sag-aftra-tv-animation@2024",
    "sag-aftra-interactive@2025",
    "wga-mba@2023",
    "tag@2024",
    "iatse-basic@2024",
    "dga@2023",
)
ALL_LAWS = ("us-california@2026", "us-new-york@2026", "us-tennessee@2024", "eu@2026", "ai-marking@2026")

PERFORMERS = (
    Performer("Ada Lind", gives=frozenset({Gives.VOICE, Gives.LIKENESS})),
    Performer("Zoë Park", gives=frozenset({Gives.VOICE, Gives.LIKENESS}), replica=ReplicaKind.INDEPENDENT),
    Performer("Émile Durand", gives=frozenset({Gives.VOICE}), deceased=True),
    Performer("Fuse-9", synthetic=True, gives=frozenset({Gives.VOICE})),
    Performer("Nova", synthetic=True, gives=frozenset({Gives.VOICE, Gives.LIKENESS})),
)
CASTING = (
    Casting("MAISIE", voice="Ada Lind", likeness="Ada Lind"),
    Casting("JUNO", voice="Zoë Park", likeness="Zoë Park"),
    Casting("OSWIN", voice="Émile Durand"),
    Casting("FUSE", human=False, voice="Fuse-9"),
    Casting("MCKEE", voice="Nova", likeness="Nova"),
)


@cache
def example_shots() -> tuple[Shot, ...]:
    """The planned shots of the example's scenes 3 and 4 (the shop and the pier)."""
    script = parse_fountain(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE))
    shots: list[Shot] = []
    previous = None
    for scene, sheet in zip(script.scenes, break_down(script)):
        number = sheet.number or str(sheet.index + 1)
        planned = cover_scene(scene, sheet, number, previous, Plan(), 24)
        previous = sheet.location
        if number in ("3", "4"):
            shots.extend(planned)
    return tuple(shots)


def shot_covering(start: str) -> str:
    """The code of the example shot whose description starts with ``start``: tests name shots by
    what they show, so a change in how the plan numbers shots does not move them."""
    found = [shot.code for shot in example_shots() if shot.description.startswith(start)]
    assert len(found) == 1, f"{len(found)} shots of scenes 3-4 start with {start!r}"
    return found[0]


def speaker(shot: Shot) -> str:
    """The character whose line the shot covers ("" for none): descriptions of dialogue
    shots read "NAME: line"."""
    name, colon, _ = shot.description.partition(":")
    return name if colon and name in shot.subjects else ""


def consent(
    id: str,
    performer: str,
    kind: ReplicaKind,
    scope: str,
    *,
    signer: Signer = Signer.SELF,
    name_in_prompt: bool = False,
) -> Consent:
    """A consent of the production's project, signed 1 June 2026 for a year; its document's
    hash is filled in by ``Production.store``."""
    return Consent(
        id=id,
        performer=performer,
        kind=kind,
        project=PROJECT,
        scope=scope,
        signed=SIGNED,
        document_sha256="",
        expires=EXPIRES,
        signer=signer,
        real_time=False,
        name_in_prompt=name_in_prompt,
    )


CONSENTS = (
    consent(
        "C-1", "Ada Lind", ReplicaKind.EMPLOYMENT, "MAISIE's likeness from the 4 June scan, episode one, all scenes"
    ),
    consent("C-2", "Ada Lind", ReplicaKind.VOICE, "MAISIE's voice model for scratch and final dialogue, episode one"),
    consent("C-3", "Zoë Park", ReplicaKind.INDEPENDENT, "JUNO's likeness replica built from her 2024 showreel"),
    consent("C-4", "Zoë Park", ReplicaKind.VOICE, "JUNO's voice model, episode one", name_in_prompt=True),
    consent(
        "C-5",
        "Émile Durand",
        ReplicaKind.VOICE,
        "OSWIN's voice rebuilt from archive recordings",
        signer=Signer.ESTATE,
    ),
)


@dataclass(frozen=True)
class Production:
    """A production's records and uses, and the media store its consent documents are in."""

    records: Records
    uses: tuple[TakeUse, ...]
    drafts: tuple[DraftSend, ...]
    release: Release
    media: MediaStore
    overrides: tuple[Override, ...] = ()
    policy: Policy = field(default_factory=lambda: policy())

    def check(self, event: Gate | None, pack: RulePack, as_of: datetime = AS_OF) -> Outcome:
        """What ``event`` finds, with the documents' hashes read from the store now."""
        records = replace(self.records, documents=documents_now(self.media, self.records.consents))
        return evaluate(
            event,
            self.uses,
            records,
            self.policy,
            pack,
            as_of,
            drafts=self.drafts,
            release=self.release,
            overrides=self.overrides,
        )

    def violations(self, event: Gate | None, pack: RulePack, as_of: datetime = AS_OF) -> list[Violation]:
        """The violations of ``event`` (overridden ones too)."""
        return list(self.check(event, pack, as_of).violations)

    def with_records(self, **changes: object) -> Production:
        """This production with some records replaced."""
        return replace(self, records=replace(self.records, **changes))  # type: ignore[arg-type]

    def with_consent(self, id: str, **changes: object) -> Production:
        """This production with consent ``id`` changed (the document stays the stored one)."""
        consents = tuple(replace(c, **changes) if c.id == id else c for c in self.records.consents)  # type: ignore[arg-type]
        assert any(c.id == id for c in consents), id
        return self.with_records(consents=consents)

    def without_consent(self, id: str) -> Production:
        """This production without consent ``id``."""
        return self.with_records(consents=tuple(c for c in self.records.consents if c.id != id))

    def adding_consent(self, new: Consent) -> Production:
        """This production with ``new`` signed and its document stored."""
        stored = store_document(self.media, new)
        return self.with_records(consents=(*self.records.consents, stored))

    def with_takes(self, *uses: TakeUse) -> Production:
        """This production with ``uses`` added to its takes."""
        return replace(self, uses=(*self.uses, *uses))

    def take(self, shot: str) -> TakeUse:
        """The take of ``shot``."""
        return next(u for u in self.uses if u.shot == shot)


def policy(**changes: object) -> Policy:
    """The production's policy: every built-in agreement and law."""
    base = Policy(
        project=PROJECT,
        agreements=list(ALL_PACKS),
        laws=list(ALL_LAWS),
        genai_departments=["animation"],
        consult={"director": DIRECTOR},
        names=list(WATCHED),
    )
    return base.model_copy(update=changes)


def pack_of(*keys: str) -> RulePack:
    """The built-in packs ``keys`` selected (agreements and laws alike)."""
    found = catalogue([BUILT_IN])
    agreements = [k for k in keys if found[k][0].kind == "agreement"]
    laws = [k for k in keys if found[k][0].kind == "law"]
    return select(found, Policy(project=PROJECT, agreements=agreements, laws=laws))


def documents_now(media: MediaStore, consents: tuple[Consent, ...]) -> dict[str, str | None]:
    """Each consent's document hash as read from the store now (None: missing), as the
    project layer reads it: the object named by the recorded hash, hashed again."""
    now: dict[str, str | None] = {}
    for c in consents:
        path = media.path(c.document_sha256) if len(c.document_sha256) == 64 else None
        if path is None or not path.is_file():
            now[c.id] = None
        else:
            with path.open("rb") as file:
                now[c.id] = hashlib.file_digest(file, "sha256").hexdigest()
    return now


def store_document(media: MediaStore, c: Consent) -> Consent:
    """``c`` with its signed document (a text standing in for the signed PDF) in the store."""
    text = f"Consent {c.id}: {c.performer} ({c.signer}) consents to {c.kind} use for {c.project}: {c.scope}."
    return replace(c, document_sha256=media.put_bytes(text.encode("utf-8")))


def take_of(shot: Shot, records: Records, **facts: object) -> TakeUse:
    """The AI take of a planned shot: reference sheets of its subjects, a voice model for its
    speaker, a prompt in the way prompts are composed (shot + action + characters)."""
    return take_use(
        shot.code,
        records,
        take=f"{shot.code}/1",
        scene=shot.scene,
        department="animation",
        made_at=MADE,
        prompt=f"{shot.size} of {', '.join(shot.subjects)}; {shot.description}",
        watched=WATCHED,
        references=shot.subjects,
        voiced=[speaker(shot)] if speaker(shot) else [],
        **facts,  # type: ignore[arg-type]
    )


def production(root: Path) -> Production:
    """The production that keeps every rule, with its media store under ``root``."""
    media = MediaStore(root / "media")
    draft = Draft(3, hashlib.sha256(EXAMPLE.read_bytes()).hexdigest(), "The Lantern Keepers, draft 3", ai_material=True)
    records = Records(
        performers=PERFORMERS,
        casting=CASTING,
        consents=tuple(store_document(media, c) for c in CONSENTS),
        scan_notices=(
            ScanNotice(
                "Ada Lind",
                engaged_at=datetime(2026, 5, 20, 9, tzinfo=UTC),
                notice_at=datetime(2026, 6, 1, 9, tzinfo=UTC),
                scan_at=datetime(2026, 6, 4, 9, tzinfo=UTC),
                business_reason="MAISIE's face reference for the AI pass of the shop scenes",
            ),
        ),
        union_notices=(
            UnionNotice("Fuse-9", datetime(2026, 7, 1, tzinfo=UTC), "FUSE", justification="a robot's machine voice"),
            UnionNotice("Nova", datetime(2026, 7, 1, tzinfo=UTC), "MCKEE", justification="an ageing harbourmaster"),
        ),
        consultations=(
            DirectorConsultation(DIRECTOR, datetime(2026, 7, 2, tzinfo=UTC), "Style frames from the AI pass agreed"),
        ),
        writer_disclosures=(
            WriterDisclosure(
                draft.sha256,
                "Kit Marlow",
                datetime(2026, 7, 3, tzinfo=UTC),
                acknowledged_at=datetime(2026, 7, 4, tzinfo=UTC),
            ),
        ),
        assignments=(
            DepartmentAIAssignment(
                "animation",
                assigned_by=PRODUCER,
                assigned_at=datetime(2026, 7, 1, tzinfo=UTC),
                notice_at=datetime(2026, 7, 1, tzinfo=UTC),
                consultation="Crew meeting 1 July: AI pass on in-betweens, animators direct it",
                consulted_at=datetime(2026, 7, 1, tzinfo=UTC),
                consultation_requested=True,
                no_displacement=True,
            ),
        ),
        pay=(ReplicaPay("Ada Lind", days=2, pro_rata=Decimal("812.50"), scale=Decimal("1082.00")),),
        drafts=(draft,),
    )
    uses = tuple(take_of(shot, records) for shot in example_shots() if shot.subjects)
    return Production(
        records=records,
        uses=uses,
        drafts=(DraftSend(draft.sha256, draft.title, "Kit Marlow", ai_material=True),),
        release=Release(
            "episode one animatic",
            territories=("US-CA", "US-NY", "EU"),
            source_material=(CreditedMaterial("The Lamplighter's Almanac (a novel)"),),
        ),
        media=media,
    )


def later(days: float) -> datetime:
    """``days`` after the check's time."""
    return AS_OF + timedelta(days=days)
