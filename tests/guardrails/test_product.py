"""The guardrails in the production, on the example screenplay and real SQLite: performers and
consents recorded through the CLI (documents in the media store by hash, every record an
audited event), approvals and the cut refused with the rule id and its reason, producers'
overrides carried by the audit trail, the take's credentials and the disclosure report,
revocation taking effect on the next approval, records surviving a restart.

MAISIE is cast with the real performer Ada Lind (likeness, from a scan on the job); FUSE, a
copper robot, with the synthetic performer Fuse-9; both characters have reference sheets, so a
generated take of a shot they are in carries their performers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from soundstage.generate.backend import Recipe
from soundstage.project import Production
from soundstage.provenance.credentials import read_credentials
from soundstage.render.previs import to_png
from soundstage.review.workflow import Action
from soundstage.store.db import session_scope
from soundstage.store.tables import (
    ConsentRow,
    DisclosureRecordRow,
    Draft,
    EventRow,
    FindingRow,
    JobRow,
    NoticeRow,
    ShotRow,
    TakeRow,
    utcnow,
)

from conftest import EXAMPLE

POLICY = """
[policy]
project = "LANTERN-KEEPERS-EP1"
agreements = ["sag-aftra-tv-theatrical@2023"]

[bible.characters.MAISIE]
description = "an eleven-year-old lamplighter's granddaughter, red scarf"
references = ["bible/maisie.png"]
likeness = "Ada Lind"

[bible.characters.FUSE]
description = "a small copper robot"
references = ["bible/fuse.png"]
voice = "Fuse-9"
human = false
"""


def _sheet(seed: int) -> bytes:
    image = np.zeros((36, 64, 3), np.uint8)
    image[:] = (40 * seed % 255, 90, 160)
    image[8:20, 8:20] = 255
    return to_png(image)


@pytest.fixture
def pilot(tmp_path: Path, cli) -> Path:
    """The example imported and planned with the policy and cast above, two generated takes
    (diffusers recipes conditioned on the reference sheets) of each of MAISIE's shots, and a
    producer (Ada), a supervisor (Sol) and an artist (Ari)."""
    root = tmp_path / "pilot"
    with Production.init(root):
        pass
    # Our [policy] and cast in place of the commented [policy] that init wrote (the file's last).
    settings = root / "soundstage.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text[: text.index("\n[policy]\n")] + POLICY, encoding="utf-8")
    (root / "bible").mkdir()
    (root / "bible" / "maisie.png").write_bytes(_sheet(1))
    (root / "bible" / "fuse.png").write_bytes(_sheet(2))
    (root / "consent_ada.pdf").write_bytes(b"%PDF-1.4 Ada Lind: digital replica consent, LANTERN-KEEPERS-EP1\n")
    with Production.open(root) as production:
        production.import_script(EXAMPLE)
        production.plan()
        maisie = [s.code for s in production.shots() if "MAISIE" in s.subjects and len(s.subjects) == 1][:2]
        sheet = production.media.put_file(root / "bible" / "maisie.png", ".png")
        with session_scope(production.engine) as session:
            for code in maisie:
                shot = session.scalars(select(ShotRow).where(ShotRow.code == code)).one()
                for number in (1, 2):
                    recipe = Recipe(
                        shot=code, backend="diffusers", model="sdxl-test", prompt="MAISIE at the lamp, red scarf",
                        seed=number, conditioning={"reference:MAISIE": sheet},
                    )  # fmt: skip
                    output = production.media.put_bytes(_sheet(10 * number + len(code)), ".png")
                    take = TakeRow(shot_id=shot.id, number=number, backend="diffusers",
                                   recipe=recipe.model_dump(mode="json"), recipe_sha256=recipe.sha256(),
                                   output_sha256=output, checked_at=utcnow())  # fmt: skip
                    session.add(take)
                    session.flush()
                    # Checked and passing: only the AI rules stand between these takes and approval.
                    session.add(FindingRow(take_id=take.id, check="composition", score=0.1, verdict="pass",
                                           reason="as blocked"))  # fmt: skip
        for name, role in (("Ada", "producer"), ("Sol", "supervisor"), ("Ari", "artist")):
            production.add_user(name, role)
    assert cli("-p", root, "performer", "add", "Ada Lind", "--gives", "likeness", "--as", "Sol").code == 0
    assert cli("-p", root, "performer", "add", "Fuse-9", "--synthetic", "--gives", "voice", "--as", "Sol").code == 0
    pilot_shots.clear()
    pilot_shots.extend(maisie)
    return root


pilot_shots: list[str] = []


def _consent(cli, root: Path, *extra: object):
    return cli(
        "-p", root, "consent", "add", "Ada Lind", "--kind", "employment-replica",
        "--scope", "MAISIE's likeness in episode one, from the scan of 5 Jan 2026",
        "--signed", "2026-01-05", "--document", root / "consent_ada.pdf", "--as", "Sol", *extra,
    )  # fmt: skip


def _events(root: Path) -> list[tuple[str, str, str]]:
    with Production.open(root) as production, session_scope(production.engine) as session:
        return [(e.actor, e.role, e.action) for e in session.scalars(select(EventRow).order_by(EventRow.id))]


def test_approval_is_refused_without_consent_and_nothing_is_written(pilot: Path, cli) -> None:
    code = pilot_shots[0]
    before = _events(pilot)
    result = cli("-p", pilot, "review", "approve", f"{code}/1", "--as", "Sol")
    assert result.code == 2
    assert f"cannot approve {code}/1: SAG-DR-3 {code}: Replica use of Ada Lind is outside consent" in result.err
    assert _events(pilot) == before
    with Production.open(pilot) as production, session_scope(production.engine) as session:
        assert session.scalars(select(ShotRow.status).where(ShotRow.code == code)).one() == "todo"
    check = cli("-p", pilot, "guardrails", "check", code)
    assert check.code == 1
    # Each violation is listed with its rule id, the events the rule gates, the shot and the reason.
    assert f"SAG-DR-3 [approve, cut, export] {code}: Replica use of Ada Lind is outside consent" in check.out


def test_consent_lets_the_approval_through_and_revocation_stops_the_next(pilot: Path, cli) -> None:
    added = _consent(cli, pilot)
    assert added.code == 0, added.err
    with Production.open(pilot) as production, session_scope(production.engine) as session:
        row = session.scalars(select(ConsentRow)).one()
        assert row.project == "LANTERN-KEEPERS-EP1"
        assert production.media.verify(row.document_sha256, ".pdf")  # the document, stored by hash
    first, second = pilot_shots
    assert cli("-p", pilot, "review", "approve", f"{first}/1", "--as", "Sol").code == 0
    assert "SAG-DR-3" not in cli("-p", pilot, "guardrails", "check", first).out
    assert cli("-p", pilot, "consent", "revoke", "C-1", "--reason", "withdrawn", "--as", "Ada").code == 0
    refused = cli("-p", pilot, "review", "approve", f"{second}/1", "--as", "Sol")
    assert refused.code == 2
    assert "SAG-DR-3" in refused.err and "revoked" in refused.err
    actions = [a for _, _, a in _events(pilot)]
    assert actions[-3:] == ["consent add", "approve", "consent revoke"]
    assert ("Ada", "producer", "consent revoke") in _events(pilot)


def test_suspension_holds_until_reinstated(pilot: Path, cli) -> None:
    assert _consent(cli, pilot).code == 0
    code = pilot_shots[0]
    assert cli("-p", pilot, "consent", "suspend", "C-1", "--reason", "strike", "--as", "Sol").code == 0
    suspended = cli("-p", pilot, "guardrails", "check", code)
    assert (
        suspended.code == 1
        and f"SAG-DR-3 [approve, cut, export] {code}" in suspended.out
        and "suspended" in suspended.out
    )
    assert cli("-p", pilot, "consent", "reinstate", "C-1", "--as", "Sol").code == 0
    assert "SAG-DR-3" not in cli("-p", pilot, "guardrails", "check", code).out


def test_bad_consents_are_refused_in_one_line_and_nothing_is_stored(pilot: Path, cli) -> None:
    cases = {
        "unknown performer": ("consent", "add", "Nobody", "--kind", "voice", "--scope", "x", "--signed", "2026-01-05",
                              "--document", pilot / "consent_ada.pdf"),
        "a scope": ("consent", "add", "Ada Lind", "--kind", "voice", "--scope", " ", "--signed", "2026-01-05",
                    "--document", pilot / "consent_ada.pdf"),
        "not found": ("consent", "add", "Ada Lind", "--kind", "voice", "--scope", "x", "--signed", "2026-01-05",
                      "--document", pilot / "missing.pdf"),
        "in the future": ("consent", "add", "Ada Lind", "--kind", "voice", "--scope", "x", "--signed", "2099-01-05",
                          "--document", pilot / "consent_ada.pdf"),
        "synthetic performer": ("consent", "add", "Fuse-9", "--kind", "voice", "--scope", "x",
                                "--signed", "2026-01-05", "--document", pilot / "consent_ada.pdf"),
        # An unknown value was "'nope' is not a valid ReplicaKind": the choices are named now.
        "--kind 'nope': not one of employment-replica, independent-replica": (
            "consent", "add", "Ada Lind", "--kind", "nope", "--scope", "x", "--signed", "2026-01-05",
            "--document", pilot / "consent_ada.pdf"),
        "--gives 'teleport': not one of voice, likeness, motion": ("performer", "add", "Bo Wu", "--gives", "teleport"),
        # A mistyped scene made a consent that covers nothing, and it was stored.
        "no scene 99 in the current draft": ("consent", "add", "Ada Lind", "--kind", "voice", "--scope", "x",
                                             "--signed", "2026-01-05", "--document", pilot / "consent_ada.pdf",
                                             "--scene", "99"),
    }  # fmt: skip
    for words, args in cases.items():
        result = cli("-p", pilot, *args)
        assert result.code == 2, words
        assert words in result.err and len(result.err.strip().splitlines()) == 1, result.err
    with Production.open(pilot) as production, session_scope(production.engine) as session:
        assert session.scalars(select(ConsentRow)).all() == []
    artist = _consent(cli, pilot)
    assert artist.code == 0  # Sol, a supervisor, may record
    assert cli("-p", pilot, "consent", "revoke", "C-1", "--as", "Ari").code == 2  # an artist may not


def test_a_changed_document_breaks_the_consent(pilot: Path, cli) -> None:
    assert _consent(cli, pilot).code == 0
    with Production.open(pilot) as production, session_scope(production.engine) as session:
        row = session.scalars(select(ConsentRow)).one()
        stored = production.media.path(row.document_sha256, ".pdf")
    stored.chmod(0o644)
    stored.write_bytes(b"%PDF-1.4 a different document\n")
    result = cli("-p", pilot, "guardrails", "check", pilot_shots[0])
    assert result.code == 1
    assert "SAG-DR-3" in result.out and "document" in result.out


def test_override_is_producers_alone_and_travels_with_the_cut(pilot: Path, cli, tmp_path: Path) -> None:
    assert _consent(cli, pilot).code == 0
    first, _ = pilot_shots
    assert cli("-p", pilot, "review", "approve", f"{first}/1", "--as", "Sol").code == 0
    # The cut needs employment replica pay recorded (SAG-DR-4): refused with the rule and reason.
    refused = cli("-p", pilot, "cut", "-o", tmp_path / "cut1")
    assert refused.code == 2
    assert "cannot make the cut: SAG-DR-4" in refused.err and "Replica pay for Ada Lind" in refused.err
    assert not (tmp_path / "cut1" / "cut.mp4").exists()
    reason = "pay agreed in the deal memo of 5 Jan 2026; payroll records it next week"
    by_supervisor = cli("-p", pilot, "guardrails", "override", "SAG-DR-4", first, "--reason", reason, "--as", "Sol")
    assert by_supervisor.code == 2 and "only a producer" in by_supervisor.err
    assert cli("-p", pilot, "guardrails", "override", "SAG-DR-9", first, "--reason", reason, "--as", "Ada").code == 2
    for code in pilot_shots:
        made = cli("-p", pilot, "guardrails", "override", "SAG-DR-4", code, "--reason", reason, "--as", "Ada")
        assert made.code == 0, made.err
    assert ("Ada", "producer", "guardrail override") in _events(pilot)
    cut = cli("-p", pilot, "cut", "-o", tmp_path / "cut2")
    assert cut.code == 0, cut.err
    signed = tmp_path / "cut2" / "takes" / f"{first.replace('/', '_t')}_t1.png"
    take_assertion = read_credentials(signed).soundstage
    assert take_assertion is not None
    with Production.open(pilot) as production, session_scope(production.engine) as session:
        digest = session.scalars(select(ConsentRow.document_sha256)).one()
    assert take_assertion["guardrails"]["consents"] == [{"document_sha256": digest}]
    assert [o["rule"] for o in take_assertion["guardrails"]["overrides"]] == ["SAG-DR-4"]
    assert take_assertion["guardrails"]["overrides"][0]["reason"] == reason
    cut_assertion = read_credentials(tmp_path / "cut2" / "cut.mp4").soundstage
    assert cut_assertion is not None
    relied = {s["take"]: s["guardrails"]["consents"] for s in cut_assertion["shots"] if "guardrails" in s}
    assert relied[f"{first}/1"] == [{"document_sha256": digest}]
    disclosure = (tmp_path / "cut2" / "cut_disclosure.html").read_text(encoding="utf-8")
    assert f"guardrail override SAG-DR-4 by Ada: {reason}" in disclosure


def test_records_survive_a_restart_and_feed_the_report(pilot: Path, cli, tmp_path: Path) -> None:
    assert _consent(cli, pilot, "--expires", "2026-12-31").code == 0
    assert cli("-p", pilot, "notice", "union", "Fuse-9", "--character", "FUSE", "--as", "Sol").code == 0
    with Production.open(pilot) as production:
        outcome = production.guardrails_check()
        assert not [v for v in outcome.open if v.rule_id == "SAG-DR-3"]
    result = cli("-p", pilot, "guardrails", "report", "-o", tmp_path / "report")
    assert result.code == 0, result.err
    html = (tmp_path / "report" / "compliance.html").read_text(encoding="utf-8")
    assert "Ada Lind" in html and "2026-12-31" in html and "LANTERN-KEEPERS-EP1" in html
    assert (tmp_path / "report" / "compliance.pdf").read_bytes().startswith(b"%PDF")


def test_the_review_room_refuses_the_approval_with_the_rule(pilot: Path) -> None:
    from fastapi.testclient import TestClient

    from soundstage.web.app import create_app

    with Production.open(pilot) as production:
        token = production.issue_token("Sol")
        production.decide(pilot_shots[0], Action.START, by="Sol")
    app = create_app(pilot)
    try:
        client = TestClient(app)
        answer = client.post(
            f"/api/shots/{pilot_shots[0]}/decisions",
            json={"action": "approve", "take": 1},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 409
        assert "SAG-DR-3" in answer.json()["detail"] and "Ada Lind" in answer.json()["detail"]
    finally:
        app.state.production.close()


def test_queueing_a_generated_take_is_refused_without_consent(pilot: Path, cli) -> None:
    """SAG-DR-1 gates making a take: the diffusers recipe of a MAISIE shot (its reference sheet
    carries Ada Lind's likeness) is refused before anything is queued, until she consents."""
    from soundstage.errors import GuardrailRefusal
    from soundstage.project.guardrails import clear_generation

    code = pilot_shots[0]
    with Production.open(pilot) as production:
        sheet = production.media.put_file(pilot / "bible" / "maisie.png", ".png")
        recipe = Recipe(shot=code, backend="diffusers", prompt="MAISIE", conditioning={"reference:MAISIE": sheet})
        with pytest.raises(GuardrailRefusal, match=f"cannot queue a take of {code}: SAG-DR-1 {code}: No signed"):
            clear_generation(production.context, code, "3", [recipe])
        previs = Recipe(shot=code, backend="previs", conditioning={"reference:MAISIE": sheet})
        clear_generation(production.context, code, "3", [previs])  # previs makes no replica
    assert _consent(cli, pilot).code == 0
    with Production.open(pilot) as production:
        # What is left is the scan notice (SAG-DR-2): no scan notice is recorded.
        with pytest.raises(GuardrailRefusal, match=f"SAG-DR-2 {code}: Scan notice for Ada Lind") as refused:
            clear_generation(production.context, code, "3", [recipe])
        assert all(v.rule_id != "SAG-DR-1" for v in refused.value.violations)


# -- the records the rules ask for, made through the CLI --------------------------------------


def _rules(out: str) -> set[str]:
    return {line.split(" ", 1)[0] for line in out.splitlines() if " " in line and ":" in line}


def test_scan_notice_and_replica_pay_satisfy_sag_dr_2_and_4(pilot: Path, cli) -> None:
    assert _consent(cli, pilot).code == 0
    code = pilot_shots[0]
    without = cli("-p", pilot, "guardrails", "check", code)
    assert without.code == 1
    assert f"SAG-DR-2 [generate] {code}:" in without.out and "no scan notice recorded" in without.out
    assert f"SAG-DR-4 [cut] {code}: Replica pay for Ada Lind not recorded" in without.out
    # Told a day ahead, engaged (as the production recorded her) only just before: too late.
    late = cli(
        "-p", pilot, "notice", "scan", "Ada Lind", "--hours-notice", "24", "--reason", "hero scan", "--as", "Sol"
    )
    assert late.code == 0, late.err
    short = cli("-p", pilot, "guardrails", "check", code)
    assert short.code == 1 and "notice 24 h before the scan" in short.out
    with Production.open(pilot) as production, session_scope(production.engine) as session:
        session.query(NoticeRow).filter(NoticeRow.kind == "scan").delete()
    assert cli(
        "-p", pilot, "notice", "scan", "Ada Lind", "--hours-notice", "72", "--reason", "hero scan for MAISIE",
        "--engaged", "2025-12-01", "--as", "Sol",
    ).code == 0  # fmt: skip
    paid = cli("-p", pilot, "pay", "record", "Ada Lind", "--days", "3", "--pro-rata", "1,250.00", "--scale", "1100")
    assert paid.code == 0, paid.err
    assert "3 days, 3750.00" in paid.out
    passed = cli("-p", pilot, "guardrails", "check", code)
    assert "SAG-DR-2" not in passed.out and "SAG-DR-4" not in passed.out
    assert passed.code == 0, passed.out
    actions = [a for _, _, a in _events(pilot)]
    assert actions[-2:] == ["scan notice", "replica pay"]


def test_bad_records_are_refused_and_nothing_is_written(pilot: Path, cli) -> None:
    before = _events(pilot)
    cases = [
        ("notice", "scan", "Nobody", "--hours-notice", "72"),
        ("notice", "scan", "Ada Lind", "--hours-notice", "-1"),
        ("notice", "scan", "Ada Lind", "--hours-notice", "nan"),  # was a ValueError traceback
        ("notice", "scan", "Ada Lind", "--hours-notice", "1e300"),  # past the calendar: the same
        ("pay", "record", "Ada Lind", "--days", "0", "--pro-rata", "1", "--scale", "1"),
        ("pay", "record", "Ada Lind", "--days", "2", "--pro-rata", "lots", "--scale", "1"),
        ("pay", "record", "Ada Lind", "--days", "2", "--pro-rata", "1e9999", "--scale", "1"),  # was recorded
        ("strike", "end"),
        ("strike", "start", " "),  # a strike by nobody was recorded
        ("disclose", "99", "--writer", "Wren"),
        ("notice", "scan", "Ada Lind", "--hours-notice", "72", "--as", "Ari"),  # an artist may not record
    ]
    for args in cases:
        result = cli("-p", pilot, *args)
        assert result.code == 2, (args, result.out, result.err)
        assert len(result.err.strip().splitlines()) == 1, result.err
    assert _events(pilot) == before


def test_a_strike_stops_generation_and_approval_until_it_ends(pilot: Path, cli) -> None:
    """Under the 2026 agreement no replica crosses a picket line (SAG-PL-1)."""
    settings = pilot / "soundstage.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("sag-aftra-tv-theatrical@2023", "sag-aftra-tv-theatrical@2026"), encoding="utf-8")
    assert _consent(cli, pilot).code == 0
    assert cli("-p", pilot, "notice", "scan", "Ada Lind", "--hours-notice", "72", "--reason", "hero scan").code == 0
    code = pilot_shots[0]
    assert cli("-p", pilot, "strike", "start", "--as", "Sol").code == 0
    assert cli("-p", pilot, "strike", "start", "--as", "Sol").code == 2  # already on
    on = cli("-p", pilot, "guardrails", "check", code)
    assert (
        on.code == 1
        and f"SAG-PL-1 [generate, approve, export] {code}:" in on.out
        and "SAG-AFTRA is on strike" in on.out
    )
    refused = cli("-p", pilot, "review", "approve", f"{code}/1", "--as", "Sol")
    assert refused.code == 2 and "SAG-PL-1" in refused.err
    assert cli("-p", pilot, "strike", "end", "--as", "Sol").code == 0
    assert "SAG-PL-1" not in cli("-p", pilot, "guardrails", "check", code).out
    assert cli("-p", pilot, "review", "approve", f"{code}/1", "--as", "Sol").code == 0


def test_crew_notice_and_attestation_satisfy_tag(pilot: Path, cli) -> None:
    settings = pilot / "soundstage.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(
        text.replace('agreements = ["sag-aftra-tv-theatrical@2023"]',
                     'agreements = ["sag-aftra-tv-theatrical@2023", "tag@2024"]\ndefault_department = "layout"'),
        encoding="utf-8",
    )  # fmt: skip
    code = pilot_shots[0]
    without = cli("-p", pilot, "guardrails", "check", code)
    assert "TAG-1" in _rules(without.out) and "TAG-2" in _rules(without.out)
    assert "no generative work is assigned to the department" in without.out
    assert cli("-p", pilot, "ai", "assign", "layout", "--as", "Ada").code == 0
    bare = cli("-p", pilot, "guardrails", "check", code)
    assert "displaces no covered role" in bare.out and "no notice to the crew" in bare.out
    assigned = cli(
        "-p", pilot, "ai", "assign", "layout", "--notice", "--consultation", "met the layout crew on 2 Dec",
        "--no-displacement", "--as", "Ada",
    )  # fmt: skip
    assert assigned.code == 0, assigned.err
    after = cli("-p", pilot, "guardrails", "check", code)
    assert not {"TAG-1", "TAG-2"} & _rules(after.out), after.out
    assert ("Ada", "producer", "ai assign") in _events(pilot)


def test_a_writer_disclosure_is_recorded_against_the_draft(pilot: Path, cli) -> None:
    made = cli("-p", pilot, "disclose", "latest", "--writer", "Wren Adair", "--acknowledged", "--as", "Sol")
    assert made.code == 0, made.err
    with Production.open(pilot) as production, session_scope(production.engine) as session:
        row = session.scalars(select(DisclosureRecordRow)).one()
        draft = session.scalars(select(Draft)).one()
        assert (row.draft_sha256, row.writer) == (draft.source_sha256, "Wren Adair")
        assert row.acknowledged_at is not None
    assert ("Sol", "supervisor", "writer disclosure") in _events(pilot)


def _cast(root: Path, *lines: str) -> None:
    """Add ``lines`` to MAISIE's entry in the bible."""
    settings = root / "soundstage.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace('likeness = "Ada Lind"\n', 'likeness = "Ada Lind"\n' + "".join(lines)), "utf-8")


def test_a_lora_the_bible_ties_to_a_performer_is_a_use_of_her(pilot: Path) -> None:
    """MAISIE's LoRA is made from Ada Lind's likeness: a take whose recipe loads it (its options
    name the file) needs her consent to be queued, with no reference sheet in sight."""
    from soundstage.errors import GuardrailRefusal
    from soundstage.project.guardrails import clear_generation

    _cast(pilot, 'models = ["loras/ada-lind-v2.safetensors"]\n')
    code = pilot_shots[0]
    lora = Recipe(
        shot=code, backend="diffusers", prompt="a girl", options={"loras": [{"file": "loras/ada-lind-v2.safetensors"}]}
    )
    other = Recipe(
        shot=code, backend="diffusers", prompt="a girl", options={"loras": [{"file": "loras/lamps.safetensors"}]}
    )
    with Production.open(pilot) as production:
        with pytest.raises(GuardrailRefusal, match=f"SAG-DR-1 {code}: No signed replica consent for Ada Lind"):
            clear_generation(production.context, code, "3", [lora])
        clear_generation(production.context, code, "3", [other])  # nobody's model: nobody used


def test_scratch_dialogue_by_a_voice_model_is_checked_at_the_cut(pilot: Path, cli, tmp_path: Path) -> None:
    """MAISIE's lines are made by a voice model of Ada Lind's voice: the cut is refused until
    she consents to the voice use (SAG-DR-3), even though her likeness consent is in order."""
    from soundstage.errors import GuardrailRefusal
    from soundstage.project.guardrails import clear_release

    _cast(pilot, 'voice = "Ada Lind"\n', 'voice_model = "ada-lind-voice-v1"\n')
    assert _consent(cli, pilot).code == 0  # her likeness
    refused = cli("-p", pilot, "cut", "-o", tmp_path / "cut")
    assert refused.code == 2
    assert "cannot make the cut: SAG-DR-3" in refused.err
    assert "Replica use of Ada Lind is outside consent: no voice consent is recorded" in refused.err
    assert not (tmp_path / "cut" / "cut.mp4").exists()
    # guardrails check lists it before anyone tries to cut (the shots where MAISIE speaks).
    check = cli("-p", pilot, "guardrails", "check")
    assert check.code == 1
    voiced = [line for line in check.out.splitlines() if "no voice consent is recorded" in line]
    assert any(line.startswith("SAG-DR-3 [approve, cut, export] ") for line in voiced), check.out
    speaking = {pilot_shots[0]: ["MAISIE"]}
    with Production.open(pilot) as production:
        with pytest.raises(GuardrailRefusal, match="no voice consent is recorded"):
            clear_release(production.context, [], spoken=speaking)
        clear_release(production.context, [], spoken={pilot_shots[0]: ["FUSE"]})  # no voice model: espeak-ng only
    voice = cli(
        "-p", pilot, "consent", "add", "Ada Lind", "--kind", "voice", "--scope", "MAISIE's scratch dialogue, episode one",
        "--signed", "2026-01-05", "--document", pilot / "consent_ada.pdf", "--as", "Sol",
    )  # fmt: skip
    assert voice.code == 0, voice.err
    assert cli("-p", pilot, "pay", "record", "Ada Lind", "--days", "1", "--pro-rata", "900", "--scale", "1000",
               "--as", "Sol").code == 0  # fmt: skip
    with Production.open(pilot) as production:
        clear_release(production.context, [], spoken=speaking)  # consented and paid: the cut may speak her lines
        assert not [v for v in production.guardrails_check().open if "voice" in v.reason]
    assert cli("-p", pilot, "consent", "revoke", "C-2", "--reason", "withdrawn", "--as", "Ada").code == 0
    with Production.open(pilot) as production, pytest.raises(GuardrailRefusal, match="revoked"):
        clear_release(production.context, [], spoken=speaking)


# -- a take that alters a recorded performance (SAG-DR-6) -------------------------------------


def _previs(cli, root: Path, *codes: str) -> None:
    """Lay out and board the scenes of ``codes`` small, so previs can take them."""
    with Production.open(root) as production:
        scenes = dict.fromkeys(s.scene for s in production.shots() if s.code in codes)
    for scene in scenes:
        for args in (("layout", "--scene", scene), ("previs", "--scene", scene, "--size", "160x90")):
            done = cli("-p", root, *args)
            assert done.code == 0, done.err


def _alter(cli, root: Path, code: str, *extra: str):
    """Take ``code`` (previs, worked at once) altering Ada Lind's filmed performance."""
    (root / "ada_sc3_t2.mp4").write_bytes(b"Ada Lind, scene 3 take 2, as filmed")
    return cli(
        "-p", root, "take", code, "--backend", "previs", "--performance", f"Ada Lind={root / 'ada_sc3_t2.mp4'}",
        "--by", "Ari", *extra,
    )  # fmt: skip


def _approve(cli, root: Path, take: str):
    # A previs take is the storyboard, not MAISIE's sheet: the likeness check fails it, by design.
    return cli("-p", root, "review", "approve", take, "--as", "Sol", "--override", "previs stands in for now")


def test_altering_a_recorded_performance_needs_her_consent_at_approval(pilot: Path, cli) -> None:
    """A take made from Ada Lind's recorded performance, changing what she did, is queued and
    made (SAG-DR-6 gates approval), then refused approval with the rule, also after a restart,
    until she consents; the recording is in the media store by hash and in the recipe."""
    code = pilot_shots[0]
    _previs(cli, pilot, code)
    made = _alter(cli, pilot, code)
    assert made.code == 0, made.err
    digest = hashlib.sha256((pilot / "ada_sc3_t2.mp4").read_bytes()).hexdigest()
    with Production.open(pilot) as production, session_scope(production.engine) as session:
        take = session.scalars(select(TakeRow).where(TakeRow.number == 3)).one()
        altered = Recipe.model_validate(take.recipe).performances
        assert [(p.performer, p.sha256, p.gives, p.purpose) for p in altered] == [
            ("Ada Lind", digest, "likeness", "performance")
        ]
        assert production.media.verify(digest, ".mp4")
    refused = _approve(cli, pilot, f"{code}/3")
    assert refused.code == 2
    assert f"cannot approve {code}/3: SAG-DR-6 {code}: Alteration changes Ada Lind's performance" in refused.err
    assert "performance is not an excepted purpose and no employment-replica consent is recorded" in refused.err
    # Restarted: the recipe in the database still says so.
    check = cli("-p", pilot, "guardrails", "check", code)
    assert check.code == 1 and f"SAG-DR-6 [approve] {code}: Alteration changes Ada Lind's performance" in check.out
    assert _consent(cli, pilot).code == 0
    approved = _approve(cli, pilot, f"{code}/3")
    assert approved.code == 0, approved.err
    assert "SAG-DR-6" not in cli("-p", pilot, "guardrails", "check", code).out


def test_an_excepted_alteration_needs_no_consent_and_an_override_passes_the_rest(pilot: Path, cli) -> None:
    """Retiming her performance is an edit the agreement excepts: no consent asked. A change to
    the performance itself is approved once a producer overrides SAG-DR-6 in writing."""
    code = pilot_shots[0]
    _previs(cli, pilot, code)
    assert _alter(cli, pilot, code, "--alteration", "timing").code == 0
    retimed = cli("-p", pilot, "guardrails", "check", code)  # take 3, the newest, stands for the shot
    assert retimed.code == 0 and retimed.out.startswith("0 open"), retimed.out
    assert _alter(cli, pilot, code).code == 0
    assert "SAG-DR-6" in _approve(cli, pilot, f"{code}/4").err
    reason = "the director recut her reaction; Ada approved the cut by email on 6 Jan 2026"
    overridden = cli("-p", pilot, "guardrails", "override", "SAG-DR-6", code, "--reason", reason, "--as", "Ada")
    assert overridden.code == 0, overridden.err
    approved = _approve(cli, pilot, f"{code}/4")
    assert approved.code == 0, approved.err
    assert ("Ada", "producer", "guardrail override") in _events(pilot)


def test_bad_recorded_performances_are_refused_in_one_line_and_nothing_is_queued(pilot: Path, cli) -> None:
    code = pilot_shots[0]
    (pilot / "ada.mp4").write_bytes(b"Ada Lind, as filmed")
    cases = {
        "expected PERFORMER=FILE": ("--performance", "Ada Lind"),
        "no such performer": ("--performance", f"Nobody={pilot / 'ada.mp4'}"),
        "not found": ("--performance", f"Ada Lind={pilot / 'missing.mp4'}"),
        "expected one of": ("--performance", f"Ada Lind={pilot / 'ada.mp4'}", "--alteration", "recolour"),
    }
    for words, args in cases.items():
        result = cli("-p", pilot, "take", code, "--backend", "previs", "--no-run", *args)
        assert result.code == 2, words
        assert words in result.err and len(result.err.strip().splitlines()) == 1, result.err
    with Production.open(pilot) as production, session_scope(production.engine) as session:
        assert session.scalars(select(JobRow)).all() == []
        assert not production.media.exists(hashlib.sha256(b"Ada Lind, as filmed").hexdigest(), ".mp4")
