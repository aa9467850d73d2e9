"""``soundstage cut`` on a production with takes: which take each shot uses, scratch dialogue,
signed outputs naming their approver, and faults that leave nothing half written."""

from __future__ import annotations

from pathlib import Path

import av
import opentimelineio as otio
import pytest
from sqlalchemy import select

from soundstage.project import Production, TakeOptions
from soundstage.provenance.credentials import read_credentials
from soundstage.review.workflow import Action
from soundstage.store.db import session_scope
from soundstage.store.tables import ShotRow, TakeRow


@pytest.fixture
def taken(copy_production: Production, monkeypatch: pytest.MonkeyPatch) -> Production:
    """The rendered example (scenes 3 and 4) with a previs take per shot, two on the first, and a crew."""
    for key, value in (("WIDTH", "160"), ("HEIGHT", "90"), ("HEAD_SLATE_S", "0.5")):
        monkeypatch.setenv(f"SOUNDSTAGE_CUT__{key}", value)
    production = Production.open(copy_production.root)  # settings again, with the environment above
    production.queue_missing_takes(requested_by="Ari")
    first = production.shots(scene="3")[0].code
    production.queue_takes(first, TakeOptions(seed=7, requested_by="Ari"))
    production.work(1)
    production.add_user("Sol", "supervisor")
    yield production
    production.close()


def _clips(path: Path) -> list[tuple[str, int]]:
    timeline = otio.adapters.read_from_file(str(path))
    return [(c.name, c.duration().to_frames()) for c in timeline.video_tracks()[0].find_clips()]


def test_the_cut_uses_approved_takes_and_names_the_approver(taken: Production, tmp_path: Path, cli) -> None:
    shots = taken.shots(scene="3")
    first = shots[0].code
    taken.decide(f"{first}/1", Action.APPROVE, by="Sol", override_reason="the blocking is ours")  # older take
    report = taken.cut(tmp_path / "cut", scenes=["3"])

    clips = _clips(report.outputs["otio"])
    assert [name for name, _ in clips] == [s.code for s in shots]
    planned = {s.code: s.frames for s in shots}
    assert all(frames >= planned[name] for name, frames in clips)  # lengthened only, never cut short
    for line in report.lengthened:
        code, change = line.split(": ")
        assert int(change.split(" -> ")[1].split()[0]) == dict(clips)[code]
    for kind in ("edl", "xml"):
        assert _clips(report.outputs[kind]) == clips

    # The approved (older) take is the one cut in and signed, with its approver.
    signed = read_credentials(
        tmp_path / "cut" / "takes" / f"{first}_t1.png", trust_anchors=taken.root / "credentials" / "ca.pem"
    )
    assert signed.valid and signed.approval is not None and signed.approval.name == "Sol"
    assert not (tmp_path / "cut" / "takes" / f"{first}_t2.png").exists()
    animatic = read_credentials(report.outputs["animatic"])
    assert animatic.valid and len(animatic.ingredients) == len(shots)

    with av.open(str(report.outputs["animatic"])) as container:
        video = container.streams.video[0]
        assert (video.width, video.height) == (160, 90)
        assert container.streams.audio, "scratch dialogue is mixed in"
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 12 + sum(frames for _, frames in clips)  # the 0.5 s head slate at 24 fps

    html = report.outputs["disclosure"].read_text(encoding="utf-8")
    assert "Sol (supervisor)" in html and "the blocking is ours" in html
    assert report.outputs["disclosure_pdf"].read_bytes().startswith(b"%PDF")

    result = cli("-p", taken.root, "verify", report.outputs["animatic"])
    assert result.code == 0 and f"{first}/1" in result.out and "Sol" in result.out


def test_missing_media_gives_a_slate_and_a_warning(taken: Production, tmp_path: Path) -> None:
    code = taken.shots(scene="4")[0].code
    with session_scope(taken.engine) as session:
        take = session.scalars(select(TakeRow).join(ShotRow).where(ShotRow.code == code)).first()
    taken.media.path(take.output_sha256, ".png").unlink()
    report = taken.cut(tmp_path / "cut", scenes=["4"])
    assert any(code in line for line in report.warnings)
    assert report.outputs["animatic"].exists()


def test_faults_are_one_line_and_leave_nothing(taken: Production, tmp_path: Path, cli) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = cli("-p", taken.root, "cut", "-o", blocker / "cut", "--scene", "3")
    assert result.code == 2 and result.err.count("\n") == 1 and str(blocker) in result.err

    (taken.root / "credentials" / "signer.key").write_text("-----BEGIN PRIVATE KEY-----\nbroken\n")
    out = tmp_path / "cut"
    result = cli("-p", taken.root, "cut", "-o", out, "--scene", "3")
    assert result.code == 2 and result.err.count("\n") == 1 and "signer.key" in result.err
    assert not out.exists() or not any(out.iterdir())

    result = cli("-p", taken.root, "cut", "-o", out, "--scene", "99")
    assert result.code == 2
