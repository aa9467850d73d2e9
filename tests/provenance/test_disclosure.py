"""The disclosure report: totals by runtime, the latent-disclosure fields, the notice, and the
HTML and PDF read back (the PDF with pypdf)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from soundstage.errors import CutError
from soundstage.provenance.credentials import Origin, TakeProvenance
from soundstage.provenance.disclosure import Disclosure, DisclosureRow, render_html, render_pdf, write_disclosure

from .material import take

MADE = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


def _disclosure(title: str = "Lantern Keepers, scenes 3-4", *, ai: bool = True) -> Disclosure:
    rows = (
        DisclosureRow.of_take(take("previs", "003_0010", 1), frames=48),
        DisclosureRow.of_take(take("generated" if ai else "previs", "003_0020", 2), frames=72),
        DisclosureRow.of_take(take("edited" if ai else "previs", "004_0010", 3, approved=False), frames=24),
        DisclosureRow.slate("004_0020", frames=96),
    )
    return Disclosure(
        title=title,
        cut_id="5f0c8a52-2b1e-4c4e-9d55-3a7f5e1c2b10",
        created_at=MADE,
        generator="Soundstage 0.1.0",
        fps=24,
        rows=rows,
        provider="Lantern Keepers Ltd",
        scratch_dialogue=True,
    )


def test_totals_are_shares_of_the_running_time() -> None:
    d = _disclosure()
    assert d.runtime_frames == 240
    assert (d.frames_of(Origin.PREVIS), d.frames_of(Origin.GENERATED), d.frames_of(Origin.EDITED)) == (48, 72, 24)
    assert d.frames_of(None) == 96
    assert d.ai_frames == 96 and d.ai_share == pytest.approx(0.4)
    assert d.approved_frames == 120 and d.approved_share == pytest.approx(0.5)
    assert d.not_approved_share == pytest.approx(0.5)
    assert d.timecode(d.runtime_frames) == "00:00:10:00"
    assert d.systems == ["diffusers 0.42.1, model tiny-sd-turbo (weights sha256 c0ffeec0ffeec0ff)"]
    assert "40 % of its running time" in d.notice and "50 % of the running time" in d.notice
    assert "espeak-ng" in d.notice

    empty = Disclosure("Nothing yet", "id", MADE, "Soundstage 0.1.0", 24, ())
    assert (empty.runtime_frames, empty.ai_share, empty.approved_share, empty.not_approved_share) == (0, 0, 0, 0)


def test_a_cut_without_ai_says_so() -> None:
    d = _disclosure(ai=False)
    assert d.ai_share == 0 and d.systems == []
    assert "No picture in it was generated or altered with AI" in d.notice
    assert "none: no take in this cut was made with AI" in d.latent_fields[1].value


def test_html_and_pdf_hold_every_shot_the_totals_and_the_legal_fields(tmp_path: Path) -> None:
    d = _disclosure("Lanterns \u2013 \u00e9t\u00e9 \u706f")  # en dash, accents and CJK need a Unicode font
    html, pdf = tmp_path / "out" / "disclosure.html", tmp_path / "out" / "disclosure.pdf"
    write_disclosure(d, html, pdf)

    page = html.read_text("utf-8")
    pdf_bytes = pdf.read_bytes()
    assert pdf_bytes.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    flat = " ".join(text.split())
    for document in (page, flat):
        for shot in ("003_0010", "003_0020", "004_0010", "004_0020"):
            assert shot in document
        for value in (
            "previs from human blocking", "AI generated", "AI edited", "NO TAKE", "JUNO (director)", "not approved",
            "40 %", "50 %", "00:00:10:00", "Lantern Keepers Ltd", d.cut_id, "2026-05-06T07:08:09", "Soundstage 0.1.0",
            "tiny-sd-turbo", "22757.3(b)(1)(A)", "22757.3(b)(1)(D)", "Art. 50(2)", "Unique identifier",
        ):  # fmt: skip
            assert value in document, value
    assert "Lanterns \u2013 \u00e9t\u00e9" in flat
    assert d.notice[:60] in page
    assert not list(html.parent.glob(".*.tmp"))


def test_html_escapes_what_people_typed() -> None:
    d = _disclosure("<script>alert(1)</script>")
    page = render_html(d)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_an_unwritable_output_is_one_cut_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(CutError, match="disclosure.html: cannot write the disclosure report"):
        write_disclosure(_disclosure(), blocker / "disclosure.html", blocker / "disclosure.pdf")


def test_times_have_their_offset_and_people_their_names_and_logins() -> None:
    base = take("generated", "003_0020", 2)
    named = TakeProvenance(
        base.shot, base.take, base.recipe, base.recipe_sha256, base.approval,
        requested_by="Maisie Hart", requested_by_login="maisie",
    )  # fmt: skip
    d = Disclosure(
        "Pilot", "c-1", datetime(2026, 5, 6, 7, 8, 9, 700_000), "Soundstage 0.1.0", 24,
        (DisclosureRow.of_take(named, 24), DisclosureRow.of_take(take("previs"), 24)),
        provider="Pilot", made_by="Sol Reyes", made_by_login="sol",
    )  # fmt: skip
    # A time without a zone is the store's UTC; every time is ISO 8601 with its offset, to the second.
    assert d.created == "2026-05-06T07:08:09+00:00" == d.latent_fields[2].value
    assert d.rows[0].approval_label == "JUNO (director), 2026-03-04T15:30:00+00:00"
    assert [row.requester_label for row in d.rows] == ["Maisie Hart (login maisie)", "oswin"]
    page = render_html(d)
    assert "made 2026-05-06T07:08:09+00:00 with Soundstage 0.1.0 for Pilot by Sol Reyes (login sol)" in page
    assert "Maisie Hart (login maisie)" in page
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(d))).pages).split())
    assert "2026-05-06T07:08:09+00:00" in text and "Sol Reyes (login sol)" in text
