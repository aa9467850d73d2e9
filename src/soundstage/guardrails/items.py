"""The evaluation under way and the items a rule applies to: each rule's requirement has an
items function (which things of the event it looks at: a performer's use, a take, a
department, a draft, a release) and a check (the problem with one item, "" when it holds).
The area modules (performers, crew, writers, releases) hold both for their requirements."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from soundstage.guardrails.model import Consent, DraftSend, Policy, Records, Release, TakeUse
from soundstage.guardrails.rules import Gate, Rule, RulePack


@dataclass
class Evaluation:
    """One evaluation under way: the event, what it uses, sends and releases, the records,
    policy and rules it is checked against at ``as_of``, and the consents each shot has been
    found to rely on so far (the checks add them)."""

    event: Gate | None
    uses: Sequence[TakeUse]
    drafts: Sequence[DraftSend]
    release: Release | None
    records: Records
    policy: Policy
    pack: RulePack
    as_of: datetime
    relied: dict[str, list[Consent]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.exemptions = [rule for rule in self.pack.rules if rule.exempt]

    @property
    def territories(self) -> tuple[str, ...]:
        """Where the release goes (empty: anywhere, or no release)."""
        return self.release.territories if self.release is not None else ()

    def rely(self, shot: str, consent: Consent) -> None:
        """Record that ``shot`` relies on ``consent``."""
        self.relied.setdefault(shot, []).append(consent)


@dataclass(frozen=True)
class Item:
    """One thing a rule applies to: its subject, the performer and take concerned, the facts
    its scope is matched against, and the fields its reason template is filled with."""

    subject: str
    facts: dict[str, Any]
    fields: dict[str, str]
    performer: str = ""
    take: str = ""
    payload: Any = None


# A requirement's check: the problem with an item ("" when the requirement holds).
Check = Callable[[Rule, Item, Evaluation], str]


# Which items of an evaluation a rule applies to.
Items = Callable[[Rule, Evaluation], Iterator[Item]]


def take_items(rule: Rule, ctx: Evaluation) -> Iterator[Item]:
    """Each take made with AI (the director's consultation, the AI marks)."""
    for take in ctx.uses:
        if take.ai:
            facts = {"output": set(take.outputs), "territory": ctx.territories}
            yield Item(take.shot, facts, {"subject": take.shot}, "", take.take, take)
