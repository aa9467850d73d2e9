"""The records the AI terms ask a production to keep, and what a take, a draft or a release uses
of people: plain, frozen values that the rules are checked against.

Records are what people sign, send and log (performers, consents, scan and union notices,
director consultations, writer disclosures, departments' AI assignments, replica pay, strikes).
Uses are what an event touches: a take (``TakeUse``), a draft sent to a writer (``DraftSend``),
a release leaving the production (``Release``). The production's ``Policy`` (``[policy]`` in
soundstage.toml) says which rule packs bind it. Nothing here reads a database or a file: the
project layer builds these values from its tables and passes them in.

Times are timezone-aware datetimes; signing and expiry are dates (a consent is good through
its expiry date).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Gives(StrEnum):
    """What a performer lends a character."""

    VOICE = "voice"
    LIKENESS = "likeness"
    MOTION = "motion"


class ReplicaKind(StrEnum):
    """The kinds of consent, after the SAG-AFTRA 2023 categories: a replica made with the
    performer during a job, one made independently from existing material, a background
    actor's replica, and a voice (a voice model or a clone of a recorded voice)."""

    EMPLOYMENT = "employment-replica"
    INDEPENDENT = "independent-replica"
    BACKGROUND = "background-replica"
    VOICE = "voice"


class Signer(StrEnum):
    """Who signed a consent: the performer, their estate (a deceased performer's authorised
    representative), or the union where no representative is found."""

    SELF = "self"
    ESTATE = "estate"
    UNION = "union"


class Representation(StrEnum):
    """Whether the performer had a lawyer or a union agreement covering replicas when they
    signed (California Labor Code 927 asks)."""

    COUNSEL = "counsel"
    CBA = "cba"
    NONE = "none"


class ConsentState(StrEnum):
    """Where a consent stands: in force, withdrawn for good, or suspended (e.g. during a strike)."""

    ACTIVE = "active"
    REVOKED = "revoked"
    SUSPENDED = "suspended"


class ConsentAction(StrEnum):
    """What can happen to a consent after it is signed."""

    REVOKE = "revoke"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"  # ends a suspension; a revoked consent stays revoked


class AlterationPurpose(StrEnum):
    """Why a take changes a recorded performance. All but PERFORMANCE are the purposes the
    SAG-AFTRA 2023 agreement excepts from alteration consent (the rule pack lists which)."""

    COSMETICS = "cosmetics"
    WARDROBE = "wardrobe"
    NOISE_REDUCTION = "noise-reduction"
    TIMING = "timing"
    CONTINUITY = "continuity"
    PITCH = "pitch"
    EFFECTS = "effects"
    RATINGS = "ratings"
    DIALOGUE = "dialogue"  # small dialogue changes
    PERFORMANCE = "performance"  # changes what the performer did: never excepted


class Purpose(StrEnum):
    """What a release is for (New York's ad disclosure law asks)."""

    ENTERTAINMENT = "entertainment"
    AD = "ad"


# -- records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Performer:
    """A performer of the production: a real person, or a synthetic performer (looks like no
    real performer and is voiced by no person). ``replica`` says how their likeness and motion
    replica was made (which consent kind its use needs; a voice always needs a voice consent).
    ``aliases`` are other names a prompt may use for them (a stage name, a maiden name)."""

    name: str
    synthetic: bool = False
    gives: frozenset[Gives] = frozenset()
    deceased: bool = False
    replica: ReplicaKind = ReplicaKind.EMPLOYMENT
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The name and the aliases."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Casting:
    """Who plays a character of the bible: the performer lending each of voice, likeness and
    motion ("" where nobody does), and whether the character is human (a synthetic performer
    in a human role needs a union notice; non-human characters are excluded).

    ``voice_model`` names the voice model (a TTS voice, a clone) of the voice performer that
    speaks the character's scratch dialogue ("": none). ``models`` name the models made from
    the likeness (and motion) performers (a LoRA, a fine-tuned checkpoint): a take whose
    backend loads one uses those performers."""

    character: str
    human: bool = True
    voice: str = ""
    likeness: str = ""
    motion: str = ""
    voice_model: str = ""
    models: tuple[str, ...] = ()

    def performer_for(self, gives: Gives) -> str:
        """The performer who lends ``gives`` to this character, or ""."""
        return {Gives.VOICE: self.voice, Gives.LIKENESS: self.likeness, Gives.MOTION: self.motion}[gives]


@dataclass(frozen=True)
class ConsentEvent:
    """A revocation, suspension or reinstatement of a consent: when, who recorded it, why."""

    action: ConsentAction
    at: datetime
    by: str
    reason: str = ""


@dataclass(frozen=True)
class Consent:
    """A performer's signed consent to a use of their replica or voice in one project.

    ``scope`` is the reasonably specific description of the use the agreements ask for (a
    consent without one covers nothing). ``document_sha256`` names the separate signed
    document in the media store. ``real_time`` is None when the document does not say whether
    real-time use is allowed. ``scenes`` limits the consent to those scene numbers (empty: the
    whole project). ``replaces_in_person`` says the replica does work the person would
    otherwise have done in person (one of California Labor Code 927's conditions)."""

    id: str
    performer: str
    kind: ReplicaKind
    project: str
    scope: str
    signed: date
    document_sha256: str
    expires: date | None = None
    signer: Signer = Signer.SELF
    real_time: bool | None = None
    name_in_prompt: bool = False
    representation: Representation = Representation.NONE
    replaces_in_person: bool = True
    scenes: tuple[str, ...] = ()
    pay_terms: str = ""
    events: tuple[ConsentEvent, ...] = ()

    def state(self, as_of: datetime) -> tuple[ConsentState, ConsentEvent | None]:
        """The state at ``as_of`` and the event that put it there (None: never changed)."""
        state, cause = ConsentState.ACTIVE, None
        for event in sorted(self.events, key=lambda e: e.at):
            if event.at > as_of:
                break
            if state is ConsentState.REVOKED:
                break  # a revocation is final: a new consent is needed
            if event.action is ConsentAction.REVOKE:
                state, cause = ConsentState.REVOKED, event
            elif event.action is ConsentAction.SUSPEND:
                state, cause = ConsentState.SUSPENDED, event
            elif state is ConsentState.SUSPENDED:
                state, cause = ConsentState.ACTIVE, event
        return state, cause

    def with_event(self, event: ConsentEvent) -> Consent:
        """This consent with ``event`` appended (records are values: nothing is changed in place)."""
        return replace(self, events=(*self.events, event))


@dataclass(frozen=True)
class ScanNotice:
    """Notice of a scan: when the performer was engaged, when notice was given, when the scan
    is, and the business reason (the 2026 agreement asks for an articulable one)."""

    performer: str
    engaged_at: datetime
    notice_at: datetime
    scan_at: datetime
    business_reason: str = ""

    @property
    def hours(self) -> float:
        """Hours of notice given before the scan."""
        return (self.scan_at - self.notice_at).total_seconds() / 3600

    @property
    def engaged_hours_ahead(self) -> float:
        """Hours between the engagement and the scan."""
        return (self.scan_at - self.engaged_at).total_seconds() / 3600


@dataclass(frozen=True)
class UnionNotice:
    """Notice to the union that a synthetic performer plays a role (``character``; "" for
    every role they play) instead of a hired performer, with the justification given."""

    performer: str
    sent_at: datetime
    character: str = ""
    union: str = "SAG-AFTRA"
    status: str = "sent"
    justification: str = ""


@dataclass(frozen=True)
class DirectorConsultation:
    """A logged consultation with the director on generative AI for creative elements, for
    ``shots`` (empty: every shot)."""

    director: str
    at: datetime
    summary: str
    shots: tuple[str, ...] = ()


@dataclass(frozen=True)
class WriterDisclosure:
    """Disclosure to a writer that a draft (by sha256) holds AI-generated material, and when
    the writer acknowledged it (None: not yet)."""

    draft_sha256: str
    writer: str
    disclosed_at: datetime
    acknowledged_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class DepartmentAIAssignment:
    """Generative work assigned to a department: the notice given to its crew, the logged
    consultation, whether the crew asked for a consultation, and the assigner's confirmation
    that the prompt work does not displace a covered role."""

    department: str
    assigned_by: str
    assigned_at: datetime
    notice_at: datetime | None = None
    consultation: str = ""  # the consultation log, "" when none took place
    consulted_at: datetime | None = None
    consultation_requested: bool = False
    no_displacement: bool = False


@dataclass(frozen=True)
class ReplicaPay:
    """Replica pay recorded for a performer: the days the producer estimates they would have
    worked, the pro-rata daily rate and scale; ``principal`` when a background replica is
    paid as a principal. The amount is days times the higher of the two rates."""

    performer: str
    days: int
    pro_rata: Decimal
    scale: Decimal
    principal: bool = False

    @property
    def amount(self) -> Decimal:
        """Days times the higher of the pro-rata daily rate and scale."""
        return self.days * max(self.pro_rata, self.scale)


@dataclass(frozen=True)
class Strike:
    """A strike by ``union`` from ``start`` until ``end`` (None: still on)."""

    union: str
    start: datetime
    end: datetime | None = None

    def on(self, at: datetime) -> bool:
        """Whether the strike is on at ``at``."""
        return self.start <= at and (self.end is None or at < self.end)


@dataclass(frozen=True)
class Draft:
    """A screenplay draft: its number in the production, its sha256 (the rules know a draft by
    that hash), and whether it holds AI-generated material."""

    number: int
    sha256: str
    title: str
    ai_material: bool = False


@dataclass(frozen=True)
class Records:
    """Everything the production has recorded that the rules read. ``documents`` maps a
    consent id to the sha256 of its document as the caller reads it from the media store now
    (None, or no entry: the document is missing)."""

    performers: tuple[Performer, ...] = ()
    casting: tuple[Casting, ...] = ()
    consents: tuple[Consent, ...] = ()
    documents: dict[str, str | None] = field(default_factory=dict)
    scan_notices: tuple[ScanNotice, ...] = ()
    union_notices: tuple[UnionNotice, ...] = ()
    consultations: tuple[DirectorConsultation, ...] = ()
    writer_disclosures: tuple[WriterDisclosure, ...] = ()
    assignments: tuple[DepartmentAIAssignment, ...] = ()
    pay: tuple[ReplicaPay, ...] = ()
    strikes: tuple[Strike, ...] = ()
    drafts: tuple[Draft, ...] = ()

    # Indexes for the lookups below, built on first use (a feature's check makes tens of
    # thousands of them); the records are frozen, so they never go stale.
    @cached_property
    def _by_name(self) -> dict[str, Performer]:
        index: dict[str, Performer] = {}
        for performer in self.performers:
            for name in performer.names:
                index.setdefault(name, performer)
        return index

    @cached_property
    def _by_character(self) -> dict[str, Casting]:
        index: dict[str, Casting] = {}
        for casting in self.casting:
            index.setdefault(casting.character.upper(), casting)
        return index

    @cached_property
    def _consents_by_performer(self) -> dict[str, list[Consent]]:
        index: dict[str, list[Consent]] = {}
        for consent in sorted(self.consents, key=lambda c: c.signed, reverse=True):
            index.setdefault(consent.performer, []).append(consent)
        return index

    def performer(self, name: str) -> Performer | None:
        """The performer called ``name`` (or with that alias), or None."""
        return self._by_name.get(name)

    def consents_of(self, performer: str) -> list[Consent]:
        """The performer's consents, newest signed first."""
        return list(self._consents_by_performer.get(performer, ()))

    def casting_of(self, character: str) -> Casting | None:
        """How ``character`` is cast (names compared in upper case, as the bible keys them)."""
        return self._by_character.get(character.upper())


# -- uses ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PerformerUse:
    """A performer's voice, likeness or motion that a take uses: for which character, through
    what (a reference sheet, a voice or likeness model, scratch dialogue), and whether a
    background replica is featured as a principal."""

    performer: str
    gives: Gives
    character: str = ""
    via: str = ""
    featured: bool = False


@dataclass(frozen=True)
class Alteration:
    """A change a take makes to a performer's recorded performance (their voice, or their
    likeness or motion on picture), and why."""

    performer: str
    purpose: AlterationPurpose
    gives: Gives = Gives.LIKENESS
    note: str = ""


@dataclass(frozen=True)
class TakeUse:
    """What one take uses of people, and the facts about it the rules read.

    ``named`` are the real people's names found in its prompt (``names.people_named``).
    ``outputs`` is what the take makes: pictures (likeness, motion) and/or a voice. ``ai``:
    generative AI made or changed it (a take without AI, previs from the artists' blocking,
    makes no replica: its performers and prompt names are not checked). ``creative``: the AI works on a creative element (the
    director must be consulted). ``realistic``: it could pass as a real recording of a real
    person (a deepfake under the EU AI Act). ``credentials``: it carries C2PA credentials with
    an IPTC source type; ``upstream_marks_stripped``: a mark its inputs carried was lost."""

    shot: str
    take: str = ""
    scene: str = ""
    department: str = ""
    made_at: datetime | None = None  # None: the use is now (a take about to be generated)
    prompt: str = ""
    performers: tuple[PerformerUse, ...] = ()
    named: tuple[str, ...] = ()
    alterations: tuple[Alteration, ...] = ()
    outputs: frozenset[Gives] = frozenset({Gives.LIKENESS})
    ai: bool = True
    creative: bool = True
    realistic: bool = False
    real_time: bool = False
    credentials: bool = True
    upstream_marks_stripped: bool = False


@dataclass(frozen=True)
class DraftSend:
    """A screenplay draft about to be shared with a writer."""

    draft_sha256: str
    title: str
    writer: str
    ai_material: bool = False


@dataclass(frozen=True)
class CreditedMaterial:
    """A work listed as source material in the credits, by sha256 where it is a draft the
    production holds, and whether it is AI-generated text."""

    title: str
    sha256: str = ""
    ai_generated: bool = False


@dataclass(frozen=True)
class Release:
    """What leaves the production at an export: where (territory codes such as "US-CA",
    "US-NY", "EU"; empty: anywhere), for what, the source material its credits list, the
    disclosures it carries ("synthetic-performer" in an ad, "deepfake" in the credits), and
    the exception an ad relies on, if any ("expressive-work", "audio-only", "translation")."""

    name: str
    territories: tuple[str, ...] = ()
    purpose: Purpose = Purpose.ENTERTAINMENT
    source_material: tuple[CreditedMaterial, ...] = ()
    disclosures: frozenset[str] = frozenset()
    ad_exception: str = ""


# -- the production's AI policy ----------------------------------------------------------------


class Policy(BaseModel):
    """The production's AI policy, ``[policy]`` in soundstage.toml: which agreements and laws
    bind it (rule packs as "id@version"), its project name as consents write it, which
    departments use generative AI, who must be consulted (role -> person), the names of real
    people watched for in prompts, where the work is distributed (the ``Release`` of an
    export names these territories unless it says otherwise), and studio rule-pack folders
    searched before the built-in packs (relative to the production)."""

    model_config = ConfigDict(extra="forbid")

    project: str = ""
    agreements: list[str] = Field(default_factory=list)
    laws: list[str] = Field(default_factory=list)
    genai_departments: list[str] = Field(default_factory=list)
    default_department: str = ""
    consult: dict[str, str] = Field(default_factory=dict)
    names: list[str] = Field(default_factory=list)
    territories: list[str] = Field(default_factory=list)
    pack_dirs: list[str] = Field(default_factory=list)

    @field_validator("agreements", "laws")
    @classmethod
    def _pack_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if "@" not in key or not all(key.partition("@")[::2]):
                raise ValueError(f"{key!r}: name a rule pack as id@version, e.g. sag-aftra-tv-animation@2024")
        return value

    @property
    def packs(self) -> list[str]:
        """Every pack the policy selects, agreements first."""
        return [*self.agreements, *self.laws]


def unique(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` without repeats, in first-seen order."""
    return tuple(dict.fromkeys(names))
