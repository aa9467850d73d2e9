"""``soundstage cut`` on a production with takes: which take each shot uses, scratch dialogue,
signed outputs naming their approver, and faults that leave nothing half written."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image
from sqlalchemy import select

from soundstage.cut.dialogue import true_peak
from soundstage.cut.timeline import resolve_media_url
from soundstage.project import Production, TakeOptions, board
from soundstage.project.production import console
from soundstage.provenance.credentials import read_credentials
from soundstage.render.previs import PrevisRenderer, load_scene
from soundstage.review.workflow import Action
from soundstage.store.db import session_scope
from soundstage.store.tables import ShotRow, TakeRow


def _clips(path: Path) -> list[tuple[str, int]]:
    timeline = otio.adapters.read_from_file(str(path))
    return _shots(timeline.video_tracks()[0].find_clips())


def _shots(clips: list[otio.schema.Clip]) -> list[tuple[str, int]]:
    """(shot, frames) in order: a clip take shorter than its shot (lengthened for its lines) is
    followed by its hold, "CODE hold", the rest of the same shot."""
    shots: list[tuple[str, int]] = []
    for clip in clips:
        name, frames = clip.name.removesuffix(" FF").removesuffix(" hold"), clip.duration().to_frames()
        if shots and clip.name != name and shots[-1][0] == name:
            shots[-1] = (name, shots[-1][1] + frames)
        else:
            shots.append((name, frames))
    return shots


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
    # FCPXML: OTIO's reader puts the program start (01:00:00:00) before the first shot as a gap.
    fcpxml = otio.adapters.read_from_file(str(report.outputs["fcpxml"]))[0]
    primary = next(track for track in fcpxml.tracks if track.name == "0")
    assert _shots(primary.find_clips()) == clips

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

    result = cli("cut", "--help")
    assert result.code == 0 and "FCPXML" in result.out


def test_the_cut_folder_is_whole_on_one_clock_and_reads_back(taken: Production, tmp_path: Path) -> None:
    report = taken.cut(tmp_path / "cut", scenes=["3"])
    out = tmp_path / "cut"
    assert report.outputs["fcpxml"] == out / "cut.fcpxml"
    # The spoken lines are in the folder beside the takes, and every file is referred to from it.
    assert any((out / "dialogue").glob("*.wav"))
    moved = Path(shutil.move(out, tmp_path / "sent" / "cut"))
    shutil.rmtree(taken.root / "cache" / "voices")  # the production's own copies are not needed
    timeline = otio.adapters.read_from_file(str(moved / "cut.otio"))
    references = [c.media_reference.target_url for c in timeline.find_clips() if c.media_reference.target_url]
    assert references and all(resolve_media_url(url, moved).is_file() for url in references)

    edl = (moved / "cut.edl").read_text()
    assert "FCM: NON-DROP FRAME" in edl.splitlines()[:3]
    first_event = next(line.split() for line in edl.splitlines() if line[:3].isdigit())
    assert first_event[-2] == "01:00:00:00"
    with av.open(str(moved / "cut.mp4")) as container:  # signed, the tmcd track kept
        (track,) = container.streams.data
        start = otio.opentime.from_timecode(track.metadata["timecode"], 24)
        assert container.streams.video[0].codec_context.profile == "High"
        sound = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    # The 0.5 s head slate before the program start, where the EDL's first event records.
    assert start + otio.opentime.RationalTime(12, 24) == otio.opentime.from_timecode(first_event[-2], 24)
    assert 20 * np.log10(true_peak(sound)) <= -1.0


def test_the_credentials_name_the_production_and_keep_one_time(taken: Production, tmp_path: Path) -> None:
    report = taken.cut(tmp_path / "cut", scenes=["3"], made_by="Sol")
    animatic = read_credentials(report.outputs["animatic"]).soundstage
    # The production's title (the folder is called "pilot"), and the signed time in the report.
    assert animatic["provider"] == taken.title() != taken.root.name
    assert taken.signer().organisation != taken.root.name  # made at init without a title: never the folder
    html = report.outputs["disclosure"].read_text(encoding="utf-8")
    assert f"made {animatic['created_at']} with" in html
    assert datetime.fromisoformat(animatic["created_at"]).utcoffset() == timedelta(0)
    # The same reading in the timeline.
    timeline = otio.adapters.read_from_file(str(report.outputs["otio"]))
    assert timeline.metadata["soundstage"]["made_at"] == animatic["created_at"]
    # People by their production names, with the login (and host) at the console beside them.
    assert animatic["made_by"] == {"name": "Sol", "login": console()}
    assert f"by Sol (login {console()})" in html
    first = taken.shots(scene="3")[0].code
    take = read_credentials(report.outputs["takes"] / f"{first}_t2.png").soundstage
    assert (take["requested_by"], take["requested_by_login"]) == ("Ari", console())
    assert datetime.fromisoformat(take["created_at"]).utcoffset() == timedelta(0)


def test_the_organisation_is_the_provider_everywhere(taken: Production, tmp_path: Path) -> None:
    settings = taken.root / "soundstage.toml"
    settings.write_text(
        settings.read_text().replace("[credentials]\n", '[credentials]\norganisation = "Harbour Light Films"\n')
    )
    with Production.open(taken.root) as production:
        report = production.cut(tmp_path / "cut", scenes=["3"])
    assert read_credentials(report.outputs["animatic"]).soundstage["provider"] == "Harbour Light Films"
    assert "for Harbour Light Films" in report.outputs["disclosure"].read_text(encoding="utf-8")


def test_a_take_carries_no_burn_in_into_the_cut(taken: Production, tmp_path: Path) -> None:
    # Burn-ins are one layer, drawn by the animatic: the take cut in is the picture alone.
    taken.cut(tmp_path / "cut", scenes=["3"])
    shot = taken.shots(scene="3")[0]
    take = Image.open(tmp_path / "cut" / "takes" / f"{shot.code}_t2.png").convert("RGB")
    with PrevisRenderer() as renderer:
        clean = renderer.render(load_scene(taken.layout_path(shot)), 320, 180).storyboard
    clean = np.asarray(Image.fromarray(clean).resize(take.size, Image.Resampling.LANCZOS))
    corner = np.s_[-take.size[1] // 8 :, : take.size[0] // 3]
    assert np.abs(np.asarray(take)[corner].astype(int) - clean[corner].astype(int)).mean() < 2


def test_a_production_at_23_976_cuts_an_ntsc_movie_whose_edl_and_otio_agree(
    taken: Production, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUNDSTAGE_FPS", "23.976")
    with Production.open(taken.root) as ntsc:
        assert ntsc.settings.fps == Fraction(24000, 1001)
        report = ntsc.cut(tmp_path / "cut", scenes=["3"])
    timeline = otio.adapters.read_from_file(str(report.outputs["otio"]))
    clips = [(c.name, c.duration()) for c in timeline.video_tracks()[0].find_clips()]
    assert {d.rate for _, d in clips} == {24000 / 1001}
    edl = otio.adapters.read_from_file(str(report.outputs["edl"]), rate=24000 / 1001)
    assert [(c.name, c.duration().to_frames()) for c in edl.find_clips()] == [(n, d.to_frames()) for n, d in clips]
    assert edl.duration().to_seconds() == pytest.approx(timeline.duration().to_seconds())
    with av.open(str(report.outputs["animatic"])) as container:
        video = container.streams.video[0]
        assert video.average_rate == Fraction(24000, 1001)
        frames = sum(1 for _ in container.decode(video=0))
        seconds = float(container.duration / av.time_base)
    slate = round(Fraction(1, 2) * Fraction(24000, 1001))
    assert frames == slate + timeline.duration().to_frames()
    assert seconds == pytest.approx(frames * 1001 / 24000, abs=0.05)
    assert "23.976 fps" in report.outputs["disclosure"].read_text(encoding="utf-8")


def test_a_take_whose_checks_could_not_run_is_not_checked_everywhere(
    copy_production: Production, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli
) -> None:
    # A model embedder without weights: the worker's checks cannot run, and it keeps the take.
    for key, value in (("CUT__WIDTH", "160"), ("CUT__HEIGHT", "90"), ("CHECKS__EMBEDDER", "clip")):
        monkeypatch.setenv(f"SOUNDSTAGE_{key}", value)
    with Production.open(copy_production.root) as production:
        code = production.shots(scene="4")[0].code
        production.queue_takes(code, TakeOptions(requested_by="Ari"))
        production.work(1)
        production.add_user("Sol", "supervisor")
        with session_scope(production.engine) as session:
            (card,) = [c for c in board.board(session, board.BoardFilter(scene="4")).shots if c.code == code]
        assert card.current_take == f"{code}/1" and card.not_checked and not card.flagged
        result = cli("-p", production.root, "review", "approve", f"{code}/1", "--as", "Sol")
        assert result.code == 2 and "was not checked" in result.err and "override reason" in result.err
        report = production.cut(tmp_path / "cut", scenes=["4"])
    html = report.outputs["disclosure"].read_text(encoding="utf-8")
    row = next(line for line in html.split("<tr") if f"<td>{code}/1</td>" in line)
    assert '<td class="checks">not checked</td>' in row
