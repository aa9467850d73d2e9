"""The WGA terms in the production, through the CLI on real SQLite: a draft imported with
--ai-material (or marked later, and unmarked with a reason) records that it holds AI-generated
text; the mark survives re-imports and a restart; exporting it to a writer (export script
--to) is refused with WGA-1 until the disclosure to that writer is recorded and acknowledged,
or a producer overrides it in writing (audited); the cut's disclosure and the compliance
report list the text as AI-generated material, never as source material.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from soundstage.project import Production
from soundstage.store.db import session_scope
from soundstage.store.tables import Draft, EventRow

from conftest import EXAMPLE

POLICY = """
[policy]
project = "LANTERN-KEEPERS-EP1"
agreements = ["wga-mba@2023"]
"""
WRITER = "Kit Marlow"


@pytest.fixture
def room(tmp_path: Path) -> Path:
    """A production bound by the WGA pack, with a producer (Ada) and a supervisor (Sol)."""
    root = tmp_path / "room"
    with Production.init(root):
        pass
    settings = root / "soundstage.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text[: text.index("\n[policy]\n")] + POLICY, encoding="utf-8")
    with Production.open(root) as production:
        for name, role in (("Ada", "producer"), ("Sol", "supervisor")):
            production.add_user(name, role)
    return root


def _marks(root: Path) -> list[bool]:
    with Production.open(root) as production, session_scope(production.engine) as session:
        return list(session.scalars(select(Draft.ai_material).order_by(Draft.id)))


def _events(root: Path) -> list[tuple[str, str, str, str, dict]]:
    with Production.open(root) as production, session_scope(production.engine) as session:
        rows = session.scalars(select(EventRow).order_by(EventRow.id))
        return [(e.actor, e.role, e.action, e.subject, dict(e.detail)) for e in rows]


def _export(cli, root: Path, out: Path, *extra: object):
    return cli("-p", root, "export", "script", "-o", out, *extra)


def test_an_ai_draft_goes_to_a_writer_only_once_disclosed_and_acknowledged(room: Path, cli, tmp_path: Path) -> None:
    imported = cli("-p", room, "import", EXAMPLE, "--ai-material")
    assert imported.code == 0, imported.err
    assert "holds AI-generated material" in imported.out
    assert _marks(room) == [True]
    assert _events(room)[-1][1:4] == ("console", "draft marked", "draft 1")
    out = tmp_path / "to_kit.fountain"

    unnamed = _export(cli, room, out)
    assert unnamed.code == 2
    assert "draft 1 holds AI-generated material; name the writer it goes to with --to WRITER" in unnamed.err
    refused = _export(cli, room, out, "--to", WRITER)
    assert refused.code == 2
    assert (
        f"cannot send draft 1 to {WRITER}: WGA-1 draft 1: Disclose AI-generated text to the writer, {WRITER}:"
        " the draft holds AI-generated material and no disclosure is recorded." in refused.err
    )
    assert not out.exists()
    check = cli("-p", room, "guardrails", "check", "--to", WRITER)
    assert check.code == 1 and "WGA-1 [send-to-writer] draft 1" in check.out

    assert cli("-p", room, "disclose", "latest", "--writer", WRITER, "--as", "Sol").code == 0
    pending = _export(cli, room, out, "--to", WRITER)
    assert pending.code == 2 and "disclosed, but the writer has not acknowledged it" in pending.err
    assert not out.exists()
    assert cli("-p", room, "disclose", "1", "--writer", WRITER, "--acknowledged", "--as", "Sol").code == 0
    sent = _export(cli, room, out, "--to", WRITER)
    assert sent.code == 0, sent.err
    assert "INT. " in out.read_text(encoding="utf-8")
    # The disclosure is to Kit Marlow: another writer needs their own.
    other = _export(cli, room, tmp_path / "to_wren.fountain", "--to", "Wren Adair")
    assert other.code == 2 and "WGA-1" in other.err


def test_a_draft_marked_later_is_gated_and_unmarking_needs_a_reason(room: Path, cli, tmp_path: Path) -> None:
    assert cli("-p", room, "import", EXAMPLE).code == 0
    out = tmp_path / "draft.fdx"
    assert _export(cli, room, out, "--to", WRITER).code == 0  # no AI material: nothing to disclose
    out.unlink()
    assert _export(cli, room, out).code == 0
    out.unlink()

    by_artist = cli("-p", room, "script", "mark", "--as", "Nobody")
    assert by_artist.code == 2
    marked = cli("-p", room, "script", "mark", "latest", "--ai-material", "--as", "Sol")
    assert marked.code == 0, marked.err
    assert "draft 1: holds AI-generated material" in marked.out
    again = cli("-p", room, "script", "mark", "--as", "Sol")
    assert again.code == 2 and "already marked" in again.err
    refused = _export(cli, room, out, "--to", WRITER)
    assert refused.code == 2 and "WGA-1 draft 1" in refused.err
    assert not out.exists()

    before = _events(room)
    bare = cli("-p", room, "script", "mark", "1", "--no-ai-material", "--as", "Sol")
    assert bare.code == 2 and "a written --reason is required" in bare.err
    assert _events(room) == before and _marks(room) == [True]
    reason = "the AI scenes were rewritten by hand in the room"
    unmarked = cli("-p", room, "script", "mark", "1", "--no-ai-material", "--reason", reason, "--as", "Ada")
    assert unmarked.code == 0, unmarked.err
    assert _marks(room) == [False]
    actor, role, action, subject, detail = _events(room)[-1]
    assert (actor, role, action, subject) == ("Ada", "producer", "draft unmarked", "draft 1")
    assert detail["reason"] == reason
    assert ("Sol", "supervisor", "draft marked", "draft 1") in [e[:4] for e in _events(room)]
    assert _export(cli, room, out, "--to", WRITER).code == 0


def test_the_mark_survives_re_imports_and_a_restart(room: Path, cli, tmp_path: Path) -> None:
    assert cli("-p", room, "import", EXAMPLE, "--ai-material").code == 0
    same = cli("-p", room, "import", EXAMPLE)
    assert same.code == 0 and "holds AI-generated material, as draft 1 was" in same.out
    revision = tmp_path / "revised.fountain"
    revision.write_text(EXAMPLE.read_text(encoding="utf-8").replace("MAISIE", "MAISY", 3), encoding="utf-8")
    revised = cli("-p", room, "import", revision)
    assert revised.code == 0 and "as draft 2 was" in revised.out
    assert _marks(room) == [True, True, True]  # read from a fresh open of the production
    with Production.open(room) as production:
        outcome = production.guardrails_check(to=WRITER)
    assert [v.subject for v in outcome.open if v.rule_id == "WGA-1"] == ["draft 1", "draft 2", "draft 3"]

    # Unmarking a file unmarks every import of it; the revision keeps its own mark.
    reason = "the first file was typed by the writer after all"
    assert cli("-p", room, "script", "mark", "1", "--no-ai-material", "--reason", reason, "--as", "Ada").code == 0
    assert _marks(room) == [False, False, True]
    assert cli("-p", room, "import", EXAMPLE).code == 0
    assert _marks(room) == [False, False, True, False]


def test_a_producer_override_lets_the_send_through_and_is_audited(room: Path, cli, tmp_path: Path) -> None:
    assert cli("-p", room, "import", EXAMPLE, "--ai-material").code == 0
    out = tmp_path / "to_kit.fountain"
    assert _export(cli, room, out, "--to", WRITER).code == 2
    reason = "Kit co-wrote the AI pass and signed the studio's AI policy; disclosure letter goes out today"
    override = ("guardrails", "override", "WGA-1", "draft 1", "--to", WRITER, "--reason", reason)
    by_supervisor = cli("-p", room, *override, "--as", "Sol")
    assert by_supervisor.code == 2 and "only a producer" in by_supervisor.err
    without_writer = cli("-p", room, "guardrails", "override", "WGA-1", "draft 1", "--reason", reason, "--as", "Ada")
    assert without_writer.code == 2 and "no open violation of WGA-1" in without_writer.err
    made = cli("-p", room, *override, "--as", "Ada")
    assert made.code == 0, made.err
    assert f"WGA-1 draft 1: overridden by Ada: {reason}" in " ".join(made.out.split())
    actor, role, action, subject, detail = _events(room)[-1]
    assert (actor, role, action, subject) == ("Ada", "producer", "guardrail override", "draft 1")
    assert detail["reason"] == reason and WRITER in detail["violation"]
    sent = _export(cli, room, out, "--to", WRITER)
    assert sent.code == 0, sent.err
    assert out.exists()
    # The override is for that writer's send only.
    assert _export(cli, room, tmp_path / "to_wren.fountain", "--to", "Wren Adair").code == 2


def test_ai_text_is_listed_as_ai_generated_material_never_as_source_material(room: Path, cli, tmp_path: Path) -> None:
    assert cli("-p", room, "import", EXAMPLE, "--ai-material").code == 0
    assert cli("-p", room, "plan").code == 0
    cut = cli("-p", room, "cut", "-o", tmp_path / "cut", "--scene", "1")
    assert cut.code == 0, cut.err
    html = (tmp_path / "cut" / "cut_disclosure.html").read_text(encoding="utf-8")
    with Production.open(room) as production, session_scope(production.engine) as session:
        sha = session.scalars(select(Draft.source_sha256)).one()
    assert "<h2>AI-generated material</h2>" in html
    assert f"Screenplay draft 1, sha256 {sha[:12]}: AI-generated text" in html
    assert "never as source material in the credits" in html
    assert "Parts of the screenplay were generated with AI." in html
    # The cut lists no source material, and the WGA-3 check of its release finds none.
    with Production.open(room) as production:
        assert not [v for v in production.guardrails_check().violations if v.rule_id == "WGA-3"]
    report = cli("-p", room, "guardrails", "report", "-o", tmp_path / "report")
    assert report.code == 0, report.err
    compliance = (tmp_path / "report" / "compliance.html").read_text(encoding="utf-8")
    assert "AI-generated material" in compliance
    assert f"Screenplay draft 1, sha256 {sha[:12]}" in compliance  # as the disclosure report names it
    assert "never source material" in compliance
