"""Consent validity, revocation, overrides and what a shot relies on, on the example production."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from soundstage.errors import GuardrailError, GuardrailRefusal
from soundstage.guardrails.evaluate import Override, validate_consent
from soundstage.guardrails.model import (
    ConsentAction,
    ConsentEvent,
    ConsentState,
    Gives,
    PerformerUse,
    ReplicaKind,
    Signer,
)
from soundstage.guardrails.rules import Gate
from soundstage.guardrails.uses import take_use

from .production import AS_OF, PRODUCER, Production, consent, example_shots, later, pack_of, production, shot_covering

SAG = pack_of("sag-aftra-tv-theatrical@2023")
SHOT = shot_covering(
    "MAISIE: It's called efficient"
)  # MAISIE's line "It's called efficient": Ada Lind's likeness and voice


@pytest.fixture
def good(tmp_path: Path) -> Production:
    return production(tmp_path)


def _rewrite(p: Production, consent_id: str, data: bytes | None) -> None:
    """Change (or, with None, delete) a consent's document in the media store."""
    sha = next(c.document_sha256 for c in p.records.consents if c.id == consent_id)
    path = p.media.path(sha)
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    if data is None:
        os.remove(path)
    else:
        path.write_bytes(data)


_REVOKE = ConsentEvent(ConsentAction.REVOKE, datetime(2026, 8, 30, tzinfo=UTC), "Ada Lind", "letter of 30 August")
_SUSPEND = ConsentEvent(ConsentAction.SUSPEND, datetime(2026, 8, 30, tzinfo=UTC), "Ada Lind", "strike")


@pytest.mark.parametrize(
    ("change", "because"),
    [
        ({"scope": "  "}, "consent C-2 has no scope (no description of the use)"),
        ({"signed": date(2026, 8, 21)}, "consent C-2 was signed 2026-08-21, after the use on 2026-08-20"),
        ({"expires": date(2026, 8, 31)}, "consent C-2 expired on 2026-08-31"),
        ({"events": (_REVOKE,)}, "consent C-2 was revoked on 2026-08-30 by Ada Lind (letter of 30 August)"),
        ({"events": (_SUSPEND,)}, "consent C-2 is suspended since 2026-08-30 by Ada Lind (strike)"),
        ({"project": "THE-NEXT-SHOW"}, "consent C-2 is for project 'THE-NEXT-SHOW', not 'LANTERN-KEEPERS-EP1'"),
        ({"scenes": ("4",)}, "consent C-2 covers scenes 4, not scene 3"),
    ],
    ids=["no-scope", "signed-after-use", "expired", "revoked", "suspended", "other-project", "other-scene"],
)
def test_an_invalid_consent_is_one_line_naming_the_rule(good: Production, change: dict, because: str) -> None:
    broken = good.with_consent("C-2", **change)
    found = [v for v in broken.violations(Gate.APPROVE, SAG) if v.subject == SHOT]
    assert [str(v) for v in found] == [f"SAG-DR-3 {SHOT}: Replica use of Ada Lind is outside consent: {because}."]
    assert found[0].performer == "Ada Lind" and found[0].take == f"{SHOT}/1"


@pytest.mark.parametrize(
    ("data", "because"),
    [
        (None, "consent C-2 has no signed document in the media store"),
        (b"a different document", "consent C-2 document changed: sha256 "),
    ],
    ids=["document-missing", "document-changed"],
)
def test_a_missing_or_changed_document_breaks_the_consent(good: Production, data: bytes | None, because: str) -> None:
    assert not good.violations(Gate.APPROVE, SAG)
    _rewrite(good, "C-2", data)
    found = [v for v in good.violations(Gate.APPROVE, SAG) if v.subject == SHOT]
    assert len(found) == 1 and found[0].rule_id == "SAG-DR-3"
    assert found[0].reason.startswith(f"Replica use of Ada Lind is outside consent: {because}")


def test_another_kind_of_consent_does_not_cover_a_use(good: Production) -> None:
    found = good.without_consent("C-2").violations(Gate.APPROVE, SAG)
    assert [str(v) for v in found if v.subject == SHOT] == [
        f"SAG-DR-3 {SHOT}: Replica use of Ada Lind is outside consent: no voice consent is recorded "
        "(only employment-replica)."
    ]


def test_a_valid_newer_consent_stands_in_for_an_expired_one(good: Production) -> None:
    renewed = good.with_consent("C-2", expires=date(2026, 8, 1)).adding_consent(
        replace(
            consent("C-12", "Ada Lind", ReplicaKind.VOICE, "MAISIE's voice model, renewed"), signed=date(2026, 8, 2)
        )
    )
    outcome = renewed.check(Gate.APPROVE, SAG)
    assert not outcome.violations
    relied = {c.id for c in outcome.relied[SHOT]}
    assert relied == {"C-1", "C-12"}


def test_revocation_takes_effect_on_the_next_check(good: Production) -> None:
    revoked_at = AS_OF + timedelta(hours=1)
    event = ConsentEvent(ConsentAction.REVOKE, revoked_at, "Ada Lind", "withdrawn")
    p = good.with_consent("C-2", events=(event,))
    # A check before the revocation passes; the next approval and export after it refuse.
    assert not p.violations(Gate.APPROVE, SAG, as_of=AS_OF)
    for gate in (Gate.APPROVE, Gate.CUT, Gate.EXPORT):
        outcome = p.check(gate, SAG, as_of=revoked_at + timedelta(minutes=1))
        with pytest.raises(
            GuardrailRefusal, match=rf"^cannot {gate} the cut: SAG-DR-3 {SHOT}: .* revoked on"
        ) as refused:
            outcome.refuse(f"{gate} the cut")
        assert "\n" not in str(refused.value)
        assert all(v.performer == "Ada Lind" for v in refused.value.violations)


def test_suspension_ends_with_reinstatement_but_revocation_is_final(good: Production) -> None:
    suspend = ConsentEvent(ConsentAction.SUSPEND, later(-3), "Ada Lind", "strike")
    reinstate = ConsentEvent(ConsentAction.REINSTATE, later(-1), "Ada Lind", "strike over")
    back = good.with_consent("C-2", events=(suspend, reinstate))
    assert not back.violations(Gate.APPROVE, SAG)
    assert back.violations(Gate.APPROVE, SAG, as_of=later(-2))
    c2 = next(c for c in back.records.consents if c.id == "C-2")
    assert c2.state(later(-2))[0] is ConsentState.SUSPENDED and c2.state(AS_OF)[0] is ConsentState.ACTIVE

    revoke = ConsentEvent(ConsentAction.REVOKE, later(-3), "Ada Lind", "withdrawn")
    final = c2.with_event(revoke).with_event(reinstate)
    assert final.state(AS_OF)[0] is ConsentState.REVOKED
    assert len(c2.events) == 2  # records are values: with_event made a new one


def test_a_producer_override_is_carried_and_a_new_cause_needs_a_new_one(good: Production) -> None:
    p = good.with_consent("C-2", expires=date(2026, 8, 31))
    violation = next(v for v in p.violations(Gate.APPROVE, SAG) if v.subject == SHOT)
    override = violation.overridden_by(
        PRODUCER, reason="Renewal signed on paper 30 August; scan of it follows", at=AS_OF - timedelta(minutes=5)
    )
    p = replace(p, overrides=(override,))
    outcome = p.check(Gate.APPROVE, SAG)
    shot = [v for v in outcome.violations if v.subject == SHOT]
    assert len(shot) == 1 and shot[0].override == override and not shot[0].open
    assert str(shot[0]).endswith('(overridden by Priya Shah: "Renewal signed on paper 30 August; scan of it follows")')
    assert not [v for v in outcome.open if v.subject == SHOT]
    record = outcome.shot(SHOT)
    assert record.overrides == (override,) and record.open == ()
    assertion = record.assertion()
    assert assertion["overrides"] == [
        {
            "rule": "SAG-DR-3",
            "by": PRODUCER,
            "role": "producer",
            "at": override.at.isoformat(),
            "reason": override.reason,
        }
    ]
    assert "Ada Lind" not in json.dumps(assertion, ensure_ascii=False)

    # An override written after the check's time does not count yet.
    late = replace(override, at=AS_OF + timedelta(minutes=1))
    assert [v for v in replace(p, overrides=(late,)).check(Gate.APPROVE, SAG).open if v.subject == SHOT]
    # The performer revokes afterwards: a different violation, which the old override does not cover.
    revoked = p.with_consent("C-2", events=(ConsentEvent(ConsentAction.REVOKE, later(-0.01), "Ada Lind"),))
    still = [v for v in revoked.check(Gate.EXPORT, SAG).open if v.subject == SHOT]
    assert still and "revoked" in still[0].reason


def test_an_override_needs_a_producer_a_reason_and_a_known_rule(good: Production) -> None:
    violation = next(iter(good.without_consent("C-2").violations(Gate.APPROVE, SAG)))
    with pytest.raises(GuardrailError, match="only a producer may override a guardrail"):
        violation.overridden_by("Juno Reyes", role="supervisor", reason="fine by me", at=AS_OF)
    with pytest.raises(GuardrailError, match="a written reason is required"):
        violation.overridden_by(PRODUCER, reason="   ", at=AS_OF)
    unknown = Override("SAG-DR-99", SHOT, violation.reason, PRODUCER, "typo", AS_OF)
    with pytest.raises(GuardrailError, match=r"^unknown rule id 'SAG-DR-99': no such rule in the selected packs"):
        replace(good, overrides=(unknown,)).check(Gate.APPROVE, SAG)


def test_a_shot_relies_on_its_consents_by_document_hash(good: Production) -> None:
    outcome = good.check(Gate.EXPORT, pack_of("sag-aftra-tv-theatrical@2023", "us-california@2026"))
    record = outcome.shot(SHOT)
    hashes = {c.id: c.document_sha256 for c in good.records.consents}
    assert set(record.consents) == {hashes["C-1"], hashes["C-2"]}
    assert set(record.rules) == {"SAG-DR-3", "SAG-DR-5", "SAG-DR-7", "SAG-SP-1", "CA-1836"}
    assert record.packs == ("sag-aftra-tv-theatrical@2023", "us-california@2026")
    text = json.dumps(record.assertion(), ensure_ascii=False)
    assert hashes["C-2"] in text and "Ada" not in text and "MAISIE" not in text
    oswin = outcome.shot(shot_covering("OSWIN: One flame"))  # the late Émile Durand's voice: his estate's consent
    assert oswin.consents == (hashes["C-5"],)


def test_consent_is_refused_when_recorded_wrongly(good: Production) -> None:
    records = good.records
    today = AS_OF.date()
    ok = next(c for c in records.consents if c.id == "C-1")
    validate_consent(ok, records, today)
    for change, message in [
        ({"performer": "Ada Linde"}, r"consent C-1 for Ada Linde: unknown performer \(performers: Ada Lind, "),
        ({"performer": "Nova"}, "Nova is a synthetic performer; nobody can consent for them"),
        ({"scope": ""}, "a scope .* is required"),
        ({"signed": today + timedelta(days=1)}, "which is in the future"),
        ({"expires": date(2026, 5, 1)}, "expires 2026-05-01, before it was signed on 2026-06-01"),
        ({"document_sha256": "not-a-hash"}, "the document's sha256 must be 64 lower-case hex digits"),
        ({"project": ""}, "name the project"),
    ]:
        with pytest.raises(GuardrailError, match=message) as refused:
            validate_consent(replace(ok, **change), records, today)
        assert "\n" not in str(refused.value)


def test_an_unknown_event_is_one_line(good: Production) -> None:
    with pytest.raises(GuardrailError, match=r"^unknown event 'publish'; events: generate, approve, cut, export"):
        good.check("publish", SAG)  # type: ignore[arg-type]


def test_what_a_take_uses_of_people(good: Production) -> None:
    records = good.records
    shot = next(
        s for s in example_shots() if s.code == shot_covering("OSWIN (70s)")
    )  # OSWIN enters; MAISIE, OSWIN in frame
    assert set(shot.subjects) == {"MAISIE", "OSWIN"}
    # Reference sheets carry likeness: OSWIN is cast for voice only, so only Ada Lind's face.
    silent = take_use(shot.code, records, references=shot.subjects)
    assert silent.performers == (PerformerUse("Ada Lind", Gives.LIKENESS, "MAISIE", "reference sheet"),)
    assert silent.outputs == frozenset({Gives.LIKENESS})
    # Scratch dialogue by a voice model uses the voice; espeak-ng scratch dialogue (no voiced) does not.
    spoken = take_use(shot.code, records, references=shot.subjects, voiced=["OSWIN"])
    assert PerformerUse("Émile Durand", Gives.VOICE, "OSWIN", "voice model (scratch dialogue)") in spoken.performers
    assert Gives.VOICE in spoken.outputs
    # A model the backend loads directly, and a name in the prompt.
    loaded = take_use(
        shot.code,
        records,
        models=[PerformerUse("Zoë Park", Gives.VOICE, "JUNO")],
        prompt="JUNO laughing like zoe park",
    )
    assert loaded.performers == (PerformerUse("Zoë Park", Gives.VOICE, "JUNO", "model"),)
    assert loaded.named == ("Zoë Park",)
    # A character nobody is cast for uses nobody.
    assert take_use(shot_covering("HARBOUR PIER"), records, references=["PUDDING"]).performers == ()


def test_models_the_bible_ties_to_performers_are_uses_of_them(good: Production) -> None:
    # JUNO's LoRA is made from Zoë Park's likeness, OSWIN's voice model from Émile Durand's voice.
    casting = tuple(
        replace(c, models=("loras/zoe-park-v2.safetensors",))
        if c.character == "JUNO"
        else replace(c, voice_model="emile-durand-voice-v1")
        if c.character == "OSWIN"
        else c
        for c in good.records.casting
    )
    records = replace(good.records, casting=casting)
    code = shot_covering("HARBOUR PIER")
    lora = take_use(code, records, loaded=["sdxl-base", "loras/zoe-park-v2.safetensors/"])
    assert lora.performers == (PerformerUse("Zoë Park", Gives.LIKENESS, "JUNO", "model loras/zoe-park-v2.safetensors"),)
    assert lora.outputs == frozenset({Gives.LIKENESS})
    voice = take_use(code, records, loaded=["emile-durand-voice-v1"])
    assert voice.performers == (
        PerformerUse("Émile Durand", Gives.VOICE, "OSWIN", "voice model emile-durand-voice-v1"),
    )
    assert Gives.VOICE in voice.outputs
    # A model the bible does not tie to anyone uses nobody.
    assert take_use(code, records, loaded=["sdxl-base", "loras/zoe-park-v1.safetensors"]).performers == ()
    # Scratch dialogue by OSWIN's voice model names the model; the take needs Émile Durand's voice consent.
    spoken = take_use(code, records, voiced=["OSWIN"])
    assert spoken.performers == (
        PerformerUse("Émile Durand", Gives.VOICE, "OSWIN", "voice model emile-durand-voice-v1 (scratch dialogue)"),
    )
    # And the LoRA's use is checked like a reference sheet's: no consent, a violation.
    unconsented = replace(good, records=replace(records, consents=()), uses=(lora,))
    assert [v.rule_id for v in unconsented.violations(Gate.APPROVE, SAG) if v.performer == "Zoë Park"]


def test_a_synthetic_performer_in_a_human_role_needs_a_union_notice_and_a_robot_does_not(good: Production) -> None:
    # Nova plays MCKEE, a human harbourmaster; Fuse-9 voices FUSE, a robot (human = false).
    unnoticed = good.with_records(union_notices=())
    flagged = {(v.performer, v.rule_id) for v in unnoticed.violations(Gate.APPROVE, SAG) if v.rule_id == "SAG-SP-1"}
    assert flagged == {("Nova", "SAG-SP-1")}


def test_a_deceased_performers_consent_given_in_life_is_not_enough(good: Production) -> None:
    in_life = good.with_consent("C-5", signer=Signer.SELF, signed=date(2020, 1, 1))
    reasons = [str(v) for v in in_life.violations(Gate.APPROVE, SAG)]
    assert (
        f"SAG-DR-7 {shot_covering('OSWIN: One flame')}: Deceased Émile Durand: estate consent missing: consent C-5 is signed by the performer, not the estate or union."
        in reasons
    )


def test_a_take_made_without_ai_replicates_nobody(good: Production) -> None:
    unconsented = good.with_records(consents=())
    assert unconsented.violations(Gate.APPROVE, SAG)
    previs = replace(unconsented, uses=tuple(replace(u, ai=False) for u in unconsented.uses))
    assert not previs.violations(Gate.APPROVE, SAG)
