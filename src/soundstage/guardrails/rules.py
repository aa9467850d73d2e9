"""Rule packs: the AI terms of each agreement and law as data files, found on a search path,
validated when loaded, and selected by the production's policy.

A pack is one TOML file (see docs/guardrails.md and the built-in ``packs/``): a ``[pack]``
header (id, version, agreement, kind), the ``[sources]`` its rules cite, and ``[[rules]]``,
each with an id, a status (F firm, I interpretation, ? unverified, F/I), its sources, the
events it gates, the requirement it checks (one of ``Requirement``, implemented in the area
modules: performers, crew, writers, releases), a scope that narrows what it applies to,
parameters, and a one-line reason template. A rule with ``exempt = true`` says the requirement does not apply within its scope;
an exemption that covers all of another rule's scope contradicts it, and the packs are refused.

The search path is the studio's folders first (``[policy] pack_dirs``), then the built-in
packs: a studio pack with the same id and version as a built-in one replaces it.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from soundstage.errors import GuardrailError
from soundstage.guardrails.model import AlterationPurpose, Gives, Policy, Purpose, ReplicaKind, Signer

BUILT_IN = Path(__file__).with_name("packs")


class Gate(StrEnum):
    """The events a rule can gate."""

    GENERATE = "generate"
    APPROVE = "approve"
    CUT = "cut"
    EXPORT = "export"
    SEND_TO_WRITER = "send-to-writer"


class Requirement(StrEnum):
    """What a rule checks; each is implemented in an area module (performers, crew, writers,
    releases), which evaluate.py gathers."""

    CONSENT = "consent"
    SCAN_NOTICE = "scan-notice"
    ALTERATION_CONSENT = "alteration-consent"
    UNION_NOTICE = "union-notice"
    PROMPT_NAME_CONSENT = "prompt-name-consent"
    NOT_SUSPENDED = "not-suspended"
    NO_STRIKE = "no-strike"
    REPLICA_PAY = "replica-pay"
    ENFORCEABLE_CONSENT = "enforceable-consent"
    DIRECTOR_CONSULTATION = "director-consultation"
    DISPLACEMENT_ATTESTATION = "displacement-attestation"
    CREW_NOTICE = "crew-notice"
    CONSULTATION_ON_REQUEST = "consultation-on-request"
    WRITER_DISCLOSURE = "writer-disclosure"
    NO_AI_SOURCE_CREDIT = "no-ai-source-credit"
    AD_DISCLOSURE = "ad-disclosure"
    DEEPFAKE_DISCLOSURE = "deepfake-disclosure"
    PROVENANCE_MARKS = "provenance-marks"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scope(_Strict):
    """What a rule applies to; an unset key matches anything. Sets match a value in the set
    (``output`` and ``territory``: any overlap; a use or release naming no territory matches
    every territory, so a law is never skipped for want of knowing where a work goes)."""

    replica: frozenset[ReplicaKind] | None = None
    gives: frozenset[Gives] | None = None
    output: frozenset[Gives] | None = None
    deceased: bool | None = None
    human_role: bool | None = None
    featured: bool | None = None
    real_time: bool | None = None
    department: frozenset[str] | None = None
    purpose: frozenset[Purpose] | None = None
    territory: frozenset[str] | None = None

    @cached_property
    def _keys(self) -> frozenset[str]:
        return frozenset(key for key, value in self if value is not None)

    def keys(self) -> frozenset[str]:
        """The keys this scope sets."""
        return self._keys

    def matches(self, facts: dict[str, Any]) -> bool:
        """Whether an item with ``facts`` (scope key -> its value, a set for output and
        territory) falls within this scope. A key the facts do not hold does not narrow."""
        for key in self.keys():
            if key not in facts:
                continue
            wanted, have = getattr(self, key), facts[key]
            if key == "territory":
                if have and not wanted & set(have):
                    return False
            elif isinstance(have, set | frozenset):
                if not wanted & have:
                    return False
            elif isinstance(wanted, frozenset):
                if have not in wanted:
                    return False
            elif have != wanted:
                return False
        return True

    def covers(self, other: Scope) -> bool:
        """Whether everything within ``other`` is within this scope too."""
        for key in self.keys():
            mine, theirs = getattr(self, key), getattr(other, key)
            if theirs is None:
                return False  # other is wider on this key
            if isinstance(mine, frozenset) and not theirs <= mine:
                return False
            if not isinstance(mine, frozenset) and mine != theirs:
                return False
        return True

    def describe(self) -> str:
        """The scope as ``key=value`` pairs, or "everything"."""
        parts = []
        for key in sorted(self.keys()):
            value = getattr(self, key)
            text = ",".join(sorted(map(str, value))) if isinstance(value, frozenset) else str(value).lower()
            parts.append(f"{key}={text}")
        return " ".join(parts) or "everything"


# -- parameters of each requirement ------------------------------------------------------------


class NoParams(_Strict):
    """A requirement with nothing to set."""


class ConsentParams(_Strict):
    """``signers``: who must have signed (a deceased performer: estate or union). The consent
    must allow prompts to name the performer, real-time use, or say whether real-time use
    is allowed, where the matching flag is set."""

    signers: frozenset[Signer] | None = None
    name_in_prompt: bool = False
    real_time: bool = False
    real_time_stated: bool = False


class ScanNoticeParams(_Strict):
    """Hours of notice before a scan (or notice at engagement when engaged fewer hours ahead),
    and whether a business reason must be recorded."""

    min_hours: float = Field(48, gt=0)
    business_reason: bool = False


class AlterationParams(_Strict):
    """The purposes of an alteration that need no consent."""

    excepted: frozenset[AlterationPurpose] = frozenset()


class UnionNoticeParams(_Strict):
    """Whether the notice must give a justification."""

    justification: bool = False


class PromptNameParams(_Strict):
    """The consent kinds that count (None: any kind) and whether the consent must allow
    prompts to name the performer."""

    kinds: frozenset[ReplicaKind] | None = None
    name_in_prompt: bool = True


class StrikeParams(_Strict):
    """The union whose strike stops replica use."""

    union: str = "SAG-AFTRA"


class PayParams(_Strict):
    """Whether the pay must be a principal's."""

    principal: bool = False


class ConsultationParams(_Strict):
    """The role consulted (the policy's ``consult`` table may name the person)."""

    role: str = "director"


class AdParams(_Strict):
    """The exceptions an ad may rely on instead of disclosing."""

    excepted: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Kind:
    """How a requirement is written: its parameters, the scope keys that mean something to
    it, and the fields its reason template may name."""

    params: type[_Strict]
    scope: frozenset[str]
    fields: frozenset[str]


_PERFORMER_SCOPE = frozenset({"replica", "gives", "output", "deceased", "human_role", "featured", "real_time"})
_PERFORMER_FIELDS = frozenset({"subject", "detail", "performer", "character", "kind"})
_TAKE_FIELDS = frozenset({"subject", "detail"})
KINDS: dict[Requirement, _Kind] = {
    Requirement.CONSENT: _Kind(ConsentParams, _PERFORMER_SCOPE, _PERFORMER_FIELDS),
    Requirement.SCAN_NOTICE: _Kind(ScanNoticeParams, _PERFORMER_SCOPE, _PERFORMER_FIELDS | {"required"}),
    Requirement.ALTERATION_CONSENT: _Kind(AlterationParams, frozenset(), _TAKE_FIELDS | {"performer", "purpose"}),
    Requirement.UNION_NOTICE: _Kind(UnionNoticeParams, _PERFORMER_SCOPE, _PERFORMER_FIELDS),
    Requirement.PROMPT_NAME_CONSENT: _Kind(PromptNameParams, frozenset({"output"}), _TAKE_FIELDS | {"performer"}),
    Requirement.NOT_SUSPENDED: _Kind(NoParams, _PERFORMER_SCOPE, _PERFORMER_FIELDS),
    Requirement.NO_STRIKE: _Kind(StrikeParams, _PERFORMER_SCOPE, _PERFORMER_FIELDS | {"union"}),
    Requirement.REPLICA_PAY: _Kind(PayParams, _PERFORMER_SCOPE, _PERFORMER_FIELDS),
    Requirement.ENFORCEABLE_CONSENT: _Kind(NoParams, _PERFORMER_SCOPE, _PERFORMER_FIELDS | {"consent"}),
    Requirement.DIRECTOR_CONSULTATION: _Kind(ConsultationParams, frozenset({"output"}), _TAKE_FIELDS | {"role"}),
    Requirement.DISPLACEMENT_ATTESTATION: _Kind(NoParams, frozenset({"department"}), _TAKE_FIELDS | {"department"}),
    Requirement.CREW_NOTICE: _Kind(NoParams, frozenset({"department"}), _TAKE_FIELDS | {"department"}),
    Requirement.CONSULTATION_ON_REQUEST: _Kind(NoParams, frozenset({"department"}), _TAKE_FIELDS | {"department"}),
    Requirement.WRITER_DISCLOSURE: _Kind(NoParams, frozenset(), _TAKE_FIELDS | {"writer", "title"}),
    Requirement.NO_AI_SOURCE_CREDIT: _Kind(NoParams, frozenset({"purpose"}), _TAKE_FIELDS | {"title"}),
    Requirement.AD_DISCLOSURE: _Kind(AdParams, frozenset({"purpose"}), _TAKE_FIELDS | {"release"}),
    Requirement.DEEPFAKE_DISCLOSURE: _Kind(NoParams, frozenset({"purpose"}), _TAKE_FIELDS | {"release"}),
    Requirement.PROVENANCE_MARKS: _Kind(NoParams, frozenset({"output"}), _TAKE_FIELDS),
}
# Every requirement may be limited to territories (a law binds where a work goes).
_EVERYWHERE = frozenset({"territory"})


# -- the file format -----------------------------------------------------------------------------


class _Header(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
    agreement: str = Field(min_length=1)
    kind: Literal["agreement", "law", "studio"]
    title: str = Field(min_length=1)
    as_of: str = ""
    note: str = ""


class _RuleEntry(_Strict):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
    status: Literal["F", "I", "?", "F/I"]
    sources: list[str] = Field(min_length=1)
    gates: frozenset[Gate] = Field(min_length=1)
    requires: Requirement
    scope: Scope = Scope()
    params: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(min_length=1)
    note: str = ""
    exempt: bool = False


class _PackFile(_Strict):
    pack: _Header
    sources: dict[str, str] = Field(min_length=1)
    rules: list[_RuleEntry] = Field(min_length=1)


@dataclass(frozen=True)
class Source:
    """A source a rule cites: its key in the pack ("S1") and what it is."""

    key: str
    text: str


@dataclass(frozen=True)
class PackInfo:
    """A loaded pack: ``key`` is "id@version"."""

    id: str
    version: str
    agreement: str
    kind: str
    title: str
    as_of: str
    note: str
    file: Path

    @property
    def key(self) -> str:
        """How a policy names the pack: id@version."""
        return f"{self.id}@{self.version}"


@dataclass(frozen=True)
class Rule:
    """One rule of a pack, with the agreement and version it comes from."""

    id: str
    status: str
    agreement: str
    agreement_version: str
    pack: str  # the pack's id@version
    file: Path
    sources: tuple[Source, ...]
    gates: frozenset[Gate]
    requires: Requirement
    scope: Scope
    params: Any  # the requirement's parameter model (KINDS[requires].params)
    reason: str
    note: str = ""
    exempt: bool = False

    def reason_for(self, **fields: str) -> str:
        """The one-line reason with ``fields`` filled in."""
        return " ".join(self.reason.format(**fields).split())

    def gates_event(self, event: Gate | None) -> bool:
        """Whether the rule is checked at ``event`` (None: every event, as ``guardrails check``)."""
        return event is None or event in self.gates

    @property
    def cites(self) -> str:
        """The rule's sources in one line."""
        return "; ".join(f"[{s.key}] {s.text}" for s in self.sources)


@dataclass(frozen=True)
class RulePack:
    """The rules a production's policy selects, from one or more packs."""

    packs: tuple[PackInfo, ...]
    rules: tuple[Rule, ...]

    def rule(self, rule_id: str) -> Rule:
        """The rule called ``rule_id``; an unknown id is one GuardrailError line."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        selected = ", ".join(p.key for p in self.packs) or "none"
        raise GuardrailError(f"unknown rule id {rule_id!r}: no such rule in the selected packs ({selected})")

    @property
    def ids(self) -> tuple[str, ...]:
        """Every rule id, in pack order."""
        return tuple(rule.id for rule in self.rules)

    def gating(self, event: Gate | None) -> tuple[Rule, ...]:
        """The rules checked at ``event`` (None: all of them)."""
        return tuple(rule for rule in self.rules if rule.gates_event(event))


# -- loading -----------------------------------------------------------------------------------


def _where(error: ValidationError, data: dict[str, Any]) -> str:
    """The first problem of ``error`` as "rules[2] (SAG-DR-3).gates: message"."""
    first = error.errors()[0]
    parts: list[str] = []
    location = list(first["loc"])
    for i, part in enumerate(location):
        if isinstance(part, int) and i > 0 and location[i - 1] == "rules":
            rule_id = (data.get("rules") or [{}])[part].get("id") if part < len(data.get("rules") or []) else None
            parts[-1] = f"rules[{part}]" + (f" ({rule_id})" if rule_id else "")
        else:
            parts.append(str(part))
    return f"{'.'.join(parts)}: {first['msg']}"


def _template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def read_pack(path: Path) -> tuple[PackInfo, tuple[Rule, ...]]:
    """Read and validate one pack file; every mistake is one GuardrailError naming the file
    (and the rule)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise GuardrailError(f"{path}: cannot read the rule pack: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise GuardrailError(f"{path}: not a TOML rule pack: {error}") from None
    try:
        parsed = _PackFile.model_validate(data)
    except ValidationError as error:
        raise GuardrailError(f"{path}: {_where(error, data)}") from None
    header = parsed.pack
    info = PackInfo(
        header.id, header.version, header.agreement, header.kind, header.title, header.as_of, header.note, path
    )
    rules: list[Rule] = []
    seen: set[str] = set()
    for entry in parsed.rules:
        where = f"{path}: rule {entry.id}"
        if entry.id in seen:
            raise GuardrailError(f"{where}: the id is used twice in this pack")
        seen.add(entry.id)
        unknown = [key for key in entry.sources if key not in parsed.sources]
        if unknown:
            raise GuardrailError(f"{where}: cites source {unknown[0]}, which [sources] does not name")
        kind = KINDS[entry.requires]
        stray = entry.scope.keys() - kind.scope - _EVERYWHERE
        if stray:
            raise GuardrailError(
                f"{where}: scope key {sorted(stray)[0]!r} means nothing to requirement {entry.requires}"
            )
        try:
            params = kind.params.model_validate(entry.params)
        except ValidationError as error:
            first = error.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise GuardrailError(f"{where}: params.{key}: {first['msg']}") from None
        try:
            names = _template_fields(entry.reason)
        except ValueError as error:
            raise GuardrailError(f"{where}: reason: {error}") from None
        if names - kind.fields:
            raise GuardrailError(
                f"{where}: reason names {{{sorted(names - kind.fields)[0]}}}, which {entry.requires} does not fill "
                f"(it fills {', '.join(sorted(kind.fields))})"
            )
        if "\n" in entry.reason:
            raise GuardrailError(f"{where}: reason must be one line")
        rules.append(
            Rule(
                id=entry.id,
                status=entry.status,
                agreement=header.agreement,
                agreement_version=header.version,
                pack=info.key,
                file=path,
                sources=tuple(Source(key, parsed.sources[key]) for key in entry.sources),
                gates=entry.gates,
                requires=entry.requires,
                scope=entry.scope,
                params=params,
                reason=entry.reason,
                note=entry.note,
                exempt=entry.exempt,
            )
        )
    return info, tuple(rules)


def search_path(policy: Policy, root: Path | None = None) -> list[Path]:
    """Where packs are looked for: the policy's pack folders (relative to ``root``, the
    production folder), then the built-in packs."""
    base = root or Path.cwd()
    return [*(base / folder for folder in policy.pack_dirs), BUILT_IN]


def catalogue(path: Sequence[Path]) -> dict[str, tuple[PackInfo, tuple[Rule, ...]]]:
    """Every pack on ``path`` by id@version; an earlier folder's pack shadows a later one's
    with the same key. Two files in one folder with the same key are refused."""
    found: dict[str, tuple[PackInfo, tuple[Rule, ...]]] = {}
    for folder in path:
        if not folder.is_dir():
            raise GuardrailError(f"{folder}: rule pack folder not found")
        here: dict[str, Path] = {}
        for file in sorted(folder.glob("*.toml")):
            info, rules = read_pack(file)
            if info.key in here:
                raise GuardrailError(f"{file}: pack {info.key} is also in {here[info.key]}")
            here[info.key] = file
            found.setdefault(info.key, (info, rules))
    return found


def select(packs: dict[str, tuple[PackInfo, tuple[Rule, ...]]], policy: Policy) -> RulePack:
    """The rules of the packs the policy names, refused when they cannot stand together: a
    pack named twice or in two versions, one rule id in two packs, or an exemption that
    contradicts a rule (same requirement, an event in common, a scope covering all of the
    rule's). Each refusal is one GuardrailError line naming both sides."""
    chosen: list[tuple[PackInfo, tuple[Rule, ...]]] = []
    by_id: dict[str, str] = {}
    for field, kinds in (("agreements", {"agreement", "studio"}), ("laws", {"law", "studio"})):
        for key in getattr(policy, field):
            if key not in packs:
                known = ", ".join(sorted(packs)) or "none"
                raise GuardrailError(f"[policy] {field}: no rule pack {key} on the search path (packs: {known})")
            info, rules = packs[key]
            if info.kind not in kinds:
                raise GuardrailError(
                    f"[policy] {field}: {key} is a {info.kind} pack ({info.file}); list it under the other key"
                )
            if info.id in by_id:
                raise GuardrailError(
                    f"[policy] {field}: {key} and {by_id[info.id]} are the same pack; select one version"
                )
            by_id[info.id] = key
            chosen.append((info, rules))
    rules = [rule for _, pack_rules in chosen for rule in pack_rules]
    owners: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in owners:
            other = owners[rule.id]
            raise GuardrailError(
                f"rule id {rule.id} is in both {other.pack} ({other.file}) and {rule.pack} ({rule.file})"
            )
        owners[rule.id] = rule
    _refuse_contradictions(rules)
    return RulePack(tuple(info for info, _ in chosen), tuple(rules))


def _refuse_contradictions(rules: Sequence[Rule]) -> None:
    for exemption in (r for r in rules if r.exempt):
        for rule in rules:
            if (
                not rule.exempt
                and rule.requires == exemption.requires
                and rule.gates & exemption.gates
                and exemption.scope.covers(rule.scope)
            ):
                raise GuardrailError(
                    f"rules {rule.id} ({rule.file.name}) and {exemption.id} ({exemption.file.name}) contradict: "
                    f"{rule.id} requires {rule.requires} for {rule.scope.describe()}, "
                    f"{exemption.id} exempts {exemption.scope.describe()} at "
                    f"{', '.join(sorted(rule.gates & exemption.gates))}"
                )


def load_pack(policy: Policy, root: Path | None = None) -> RulePack:
    """The rules ``policy`` selects, from its pack folders under ``root`` and the built-in packs.

    Every approval and every queued take asks for the pack, so a pack read is kept for as long
    as the pack files are the same: the key is the selection and each folder's files with
    their modification time and size, so an edited, added or removed pack file is read again
    on the next call. A refusal (a bad pack, a missing folder) is not kept."""
    folders = search_path(policy, root)
    return _load_pack(tuple(policy.agreements), tuple(policy.laws), _stamps(folders))


# One folder's stamp: its path and its pack files (path, mtime in ns, size); None when the
# folder is missing (catalogue refuses it).
_Stamp = tuple[Path, tuple[tuple[Path, int, int], ...] | None]


def _stamps(folders: Sequence[Path]) -> tuple[_Stamp, ...]:
    stamps: list[_Stamp] = []
    for folder in folders:
        if not folder.is_dir():
            stamps.append((folder, None))
            continue
        files = []
        for file in sorted(folder.glob("*.toml")):
            try:
                stat = file.stat()
            except OSError:
                continue  # gone since the glob: read (and refused) as catalogue finds it
            files.append((file, stat.st_mtime_ns, stat.st_size))
        stamps.append((folder, tuple(files)))
    return tuple(stamps)


@lru_cache(maxsize=32)
def _load_pack(agreements: tuple[str, ...], laws: tuple[str, ...], stamps: tuple[_Stamp, ...]) -> RulePack:
    policy = Policy(agreements=list(agreements), laws=list(laws))
    return select(catalogue([folder for folder, _ in stamps]), policy)
