"""A cut made from a draft that holds AI-generated text says so, and names the draft, in its
disclosure report (HTML and PDF) and in the animatic's content credentials (``ai_text`` of
``org.soundstage.cut``, signed with c2pa and read back), and stops saying so once the draft is
unmarked (WGA MBA 2023, Art. 72)."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from soundstage.project import Production
from soundstage.provenance.credentials import CUT_LABEL, Signer, describe, read_credentials, sign_animatic, sign_take
from soundstage.provenance.disclosure import Disclosure, DisclosureRow, render_html, render_pdf
from soundstage.provenance.screenplay import AiText
from soundstage.store.db import session_scope
from soundstage.store.tables import Draft

from .material import png_bytes, take, write_video
from conftest import EXAMPLE

SHA = hashlib.sha256(b"a draft with AI scenes").hexdigest()
MADE = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


def _pdf_text(data: bytes) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_the_animatic_names_the_draft_with_ai_text_and_verify_says_it(
    signer: Signer, identity: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    made = take("generated", "003_0010", 1)
    path = tmp_path / "003_0010.png"
    path.write_bytes(sign_take(png_bytes(1), made, signer))
    source = tmp_path / ".unsigned.mp4"
    write_video(source, frames=6)
    marked, plain = tmp_path / "marked.mp4", tmp_path / "plain.mp4"
    common = {"title": "Lantern Keepers", "cut_id": "cut-ai", "takes": [(path, made)], "signer": signer}
    sign_animatic(source, marked, ai_text=(AiText(3, SHA),), **common)
    sign_animatic(source, plain, **common)

    report = read_credentials(marked, trust_anchors=identity[2])
    assert report.valid and report.trusted, report.problems
    assert report.soundstage_label == CUT_LABEL and report.soundstage is not None
    assert report.soundstage["ai_text"] == [{"source": "screenplay", "draft": 3, "sha256": SHA}]
    assert f"made from the screenplay draft 3, sha256 {SHA[:12]}: it holds AI-generated text" in describe(report)

    # An unmarked draft is no claim either way: the field is absent, and verify says nothing of it.
    bare = read_credentials(plain, trust_anchors=identity[2])
    assert bare.trusted and bare.soundstage is not None and "ai_text" not in bare.soundstage
    assert not [line for line in describe(bare) if "AI-generated text" in line]


def test_the_disclosure_lists_the_draft_in_html_and_pdf() -> None:
    rows = (DisclosureRow.of_take(take("previs", "003_0010", 1), frames=48),)
    marked = Disclosure("Lantern Keepers", "cut-ai", MADE, "Soundstage 0.1.0", 24, rows, ai_text=(AiText(3, SHA),))
    line = f"Screenplay draft 3, sha256 {SHA[:12]}: AI-generated text"
    html = render_html(marked)
    assert "<h2>AI-generated material</h2>" in html and f"<li>{line}</li>" in html
    pdf = _pdf_text(render_pdf(marked))
    assert line in pdf and "never as source material in the credits" in pdf
    assert "Parts of the screenplay were generated with AI." in marked.notice

    plain = Disclosure("Lantern Keepers", "cut-plain", MADE, "Soundstage 0.1.0", 24, rows)
    assert "AI-generated material" not in render_html(plain)
    assert "AI-generated text" not in _pdf_text(render_pdf(plain))


def _draft_shas(root: Path) -> list[str]:
    with Production.open(root) as production, session_scope(production.engine) as session:
        return list(session.scalars(select(Draft.source_sha256).order_by(Draft.id)))


def test_a_cut_from_a_marked_revision_names_that_draft_until_it_is_unmarked(cli, tmp_path: Path) -> None:
    root = tmp_path / "prod"
    with Production.init(root):
        pass
    at = ("-p", root)
    assert cli(*at, "import", EXAMPLE, "--ai-material").code == 0
    revision = tmp_path / "revised.fountain"
    revision.write_text(EXAMPLE.read_text(encoding="utf-8").replace("MAISIE", "MAISY", 3), encoding="utf-8")
    assert cli(*at, "import", revision).code == 0  # the revision carries draft 1's mark
    assert cli(*at, "plan").code == 0
    sha = _draft_shas(root)[1]

    cut = cli(*at, "cut", "-o", tmp_path / "cut", "--scene", "1")
    assert cut.code == 0, cut.err
    animatic = read_credentials(tmp_path / "cut" / "cut.mp4", trust_anchors=root / "credentials" / "ca.pem")
    assert animatic.trusted and animatic.soundstage is not None
    assert animatic.soundstage["ai_text"] == [{"source": "screenplay", "draft": 2, "sha256": sha}]
    line = f"Screenplay draft 2, sha256 {sha[:12]}: AI-generated text"
    assert line in (tmp_path / "cut" / "cut_disclosure.html").read_text(encoding="utf-8")
    assert line in _pdf_text((tmp_path / "cut" / "cut_disclosure.pdf").read_bytes())
    verified = cli(*at, "verify", tmp_path / "cut" / "cut.mp4")
    assert verified.code == 0, verified.err
    said = f"made from the screenplay draft 2, sha256 {sha[:12]}: it holds AI-generated text"
    assert said in " ".join(verified.out.split())

    unmarked = cli(*at, "script", "mark", "2", "--no-ai-material", "--reason", "the AI scenes were rewritten")
    assert unmarked.code == 0, unmarked.err
    again = cli(*at, "cut", "-o", tmp_path / "again", "--scene", "1")
    assert again.code == 0, again.err
    clean = read_credentials(tmp_path / "again" / "cut.mp4", trust_anchors=root / "credentials" / "ca.pem")
    assert clean.trusted and clean.soundstage is not None and "ai_text" not in clean.soundstage
    assert "AI-generated material" not in (tmp_path / "again" / "cut_disclosure.html").read_text(encoding="utf-8")
