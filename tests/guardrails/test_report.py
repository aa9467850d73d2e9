"""The compliance report: consents, uses per performer, open violations, overrides and notices,
in HTML and in a PDF read back with pypdf."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import pytest
from pypdf import PdfReader

from soundstage.errors import GuardrailError
from soundstage.guardrails.model import ConsentAction, ConsentEvent
from soundstage.guardrails.report import compliance_report, render_html, write_report
from soundstage.provenance.screenplay import AiText

from .production import ALL_LAWS, ALL_PACKS, AS_OF, PRODUCER, Production, later, pack_of, production, shot_covering

PACK = pack_of(*ALL_PACKS, *ALL_LAWS)


def _report_of(p: Production, title: str = "The Lantern Keepers, episode one"):  # noqa: ANN202
    outcome = p.check(None, PACK)
    return compliance_report(title, p.records, p.uses, outcome, PACK, p.policy, generator="Soundstage 0.1.0")


def _production(tmp_path: Path) -> Production:
    """The example production with two problems: Zoë Park's voice consent expired (overridden
    by the producer) and Ada Lind's likeness consent revoked (open)."""
    p = production(tmp_path).with_consent("C-4", expires=date(2026, 8, 15))
    p = p.with_consent("C-1", events=(ConsentEvent(ConsentAction.REVOKE, later(-1), "Ada Lind", "by letter"),))
    expired = next(
        v
        for v in p.violations(None, PACK)
        if v.rule_id == "SAG-ANIM-3" and v.subject == shot_covering("JUNO: Mum's on")
    )
    override = expired.overridden_by(
        PRODUCER, reason="Renewal agreed by phone; paper follows", at=AS_OF - timedelta(hours=2)
    )
    return replace(p, overrides=(override,))


def test_the_report_holds_consents_uses_violations_overrides_and_notices(tmp_path: Path) -> None:
    p = _production(tmp_path)
    report = _report_of(p)
    assert {v.rule_id for v in report.violations} >= {"SAG-DR-1", "SAG-DR-3", "SAG-IM-1"}
    assert {v.performer for v in report.violations if v.rule_id == "SAG-DR-3"} == {"Ada Lind", "Zoë Park"}
    assert [v.rule_id for v in report.overrides] == ["SAG-ANIM-3"]
    by_performer = {(u.performer, u.gives): u for u in report.uses}
    assert by_performer[("Ada Lind", "voice")].characters == "MAISIE"
    maisie_line = shot_covering("MAISIE: It's called efficient")
    assert f"{maisie_line}/1" in by_performer[("Ada Lind", "voice")].shots
    assert by_performer[("Nova", "likeness")].characters == "MCKEE"

    written, pdf = write_report(report, tmp_path / "out")
    page = unescape(written.read_text("utf-8"))
    text = " ".join(" ".join(page_.extract_text() for page_ in PdfReader(pdf).pages).split())
    c1 = next(c for c in p.records.consents if c.id == "C-1")
    (draft,) = p.records.drafts
    for document in (page, text):
        for value in (
            "AI compliance report: The Lantern Keepers, episode one",
            "C-1", "C-5", "Émile Durand", "Zoë Park", "signed by estate",
            "MAISIE's likeness from the 4 June scan",  # the scope
            "2027-06-01", "expired 2026-08-15", "revoked since",
            c1.document_sha256[:16],
            "SAG-DR-3", "Replica use of Ada Lind is outside consent",
            "Renewal agreed by phone; paper follows", PRODUCER,
            "scan notice", "72 h notice", "union notice", "a robot's machine voice",
            "director consultation", "Rae Okafor", "writer disclosure", "department AI assignment",
            "sag-aftra-tv-theatrical@2023", "PROV-1", "F/I",
            # the marked draft, by the label the disclosure report and the cut's credentials use
            "AI-generated material", f"Screenplay {AiText(3, draft.sha256).label}",
        ):  # fmt: skip
            assert value in document, value
    assert not list(written.parent.glob(".*.tmp"))


def test_a_clean_production_reports_no_violation(tmp_path: Path) -> None:
    report = _report_of(production(tmp_path))
    assert report.violations == () and report.overrides == ()
    html = render_html(report)
    assert "Open violations: 0; overridden: 0; consents: 5." in html


def test_html_escapes_what_people_typed(tmp_path: Path) -> None:
    p = production(tmp_path).with_consent("C-2", scope="<script>alert(1)</script> voice")
    page = render_html(_report_of(p, title="<b>Lanterns</b>"))
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;Lanterns" in page


def test_an_unwritable_folder_is_one_guardrail_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(GuardrailError, match="compliance.html: cannot write the compliance report"):
        write_report(_report_of(production(tmp_path)), blocker)
