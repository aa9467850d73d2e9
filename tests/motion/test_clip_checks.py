"""A clip take checked in time: sampled frames against the previs clip's frames of the same
number, findings that name their frames, and the checks across frames (flicker, identity,
motion) catching a flicker, an identity swap and a reversed move, with the previs clip itself
passing. The limits were tuned on 004_0060's variants; 003_0090 (two characters, one walking)
is the check they were not tuned on."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from soundstage.checks import CharacterIntent, FeatureEmbedder, Finding, Verdict, check_take, prepare_intent
from soundstage.checks.findings import frames_label
from soundstage.checks.temporal import ClipSample, check_clip, frame_tone, merged, sampled_frames
from soundstage.config import Checks
from soundstage.generate import clips
from soundstage.passwords import hash_password
from soundstage.project import Production, TakeOptions, blocking
from soundstage.project.checks import standings
from soundstage.store.tables import FindingRow, TakeRow
from soundstage.web.app import create_app

from .test_previs_clips import MOVING

WALK = "003_0090"  # OSWIN walks over to MAISIE in the first 96 of 184 frames
LIMITS = Checks()


class PrevisClip:
    """A moving shot's previs passes, every frame, and its cast (name -> mask id)."""

    def __init__(self, production: Production, code: str) -> None:
        stored = production.pass_clips(code)
        assert stored is not None
        self.passes = {name: clips.read_clip(path.read_bytes(), name).frames for name, path in stored.paths.items()}
        self.fps = stored.fps
        cast = blocking.characters(production.context, set(production.shot(code).subjects))
        self.cast = {name: ids[0] for name, ids in cast.items()}

    @property
    def storyboard(self) -> list[np.ndarray]:
        return self.passes["storyboard"]

    def take(self) -> list[np.ndarray]:
        """The storyboard through the take encoder (H.264 4:2:0), as a previs take is stored."""
        return clips.read_clip(clips.write_clip(self.storyboard, self.fps), "take").frames

    def check(self, take: list[np.ndarray], every: int = LIMITS.clip_every) -> list[Finding]:
        embedder = FeatureEmbedder()
        samples = []
        for n in sampled_frames(len(take), every):
            lineart, depth, ids = (self.passes[name][n] for name in ("lineart", "depth", "ids"))
            characters = {name: CharacterIntent(mask) for name, mask in self.cast.items()}
            intent = prepare_intent(lineart[..., 0], depth, ids[..., 0], characters, [], [], {}, embedder)
            samples.append(ClipSample(n, take[n], self.storyboard[n], intent))
        tones = np.array([frame_tone(f) for f in take])
        blocked = np.array([frame_tone(f) for f in self.storyboard[: len(take)]])
        return check_clip(samples, tones, blocked, LIMITS, lambda image, intent: check_take(image, intent, LIMITS))


@pytest.fixture(scope="module")
def previs_clips(rendered_example) -> dict[str, PrevisClip]:
    with Production.open(rendered_example) as production:
        return {code: PrevisClip(production, code) for code in (MOVING, WALK)}


def flickering(frames: list[np.ndarray], every: int = 3, gain: float = 1.12) -> list[np.ndarray]:
    """Every other stretch of ``every`` frames brighter by ``gain``: a light that pulses."""
    return [
        np.clip(f.astype(np.float32) * (gain if (n // every) % 2 else 1.0), 0, 255).astype(np.uint8)
        for n, f in enumerate(frames)
    ]


def swapped(frames: list[np.ndarray], ids: list[np.ndarray], mask_id: int, start: int) -> list[np.ndarray]:
    """From frame ``start`` the character's pixels (by the id pass) recoloured: another costume."""
    out = []
    for n, frame in enumerate(frames):
        if n >= start:
            frame = frame.copy()
            region = ids[n][..., 0] == mask_id
            frame[region] = frame[region][:, [2, 0, 1]]
        out.append(frame)
    return out


def flagged(found: list[Finding], check: str) -> list[Finding]:
    return [f for f in found if f.check == check and f.verdict in (Verdict.WARN, Verdict.FAIL)]


def test_a_clip_is_sampled_every_nth_frame_and_its_last() -> None:
    assert sampled_frames(120, 12) == [0, 12, 24, 36, 48, 60, 72, 84, 96, 108, 119]  # 5 s at 24 fps
    assert sampled_frames(24, 12) == [0, 12, 23]
    assert sampled_frames(1, 12) == [0]


def test_per_frame_findings_merge_into_frame_ranges() -> None:
    def at(score: float, verdict: Verdict) -> list[Finding]:
        return [Finding("composition", "", score, verdict, f"score {score}")]

    per_sample = [at(0.1, Verdict.PASS), at(0.5, Verdict.FAIL), at(0.6, Verdict.FAIL), at(0.1, Verdict.PASS)]
    (failed,) = merged([0, 12, 24, 36], per_sample)
    assert failed.verdict is Verdict.FAIL and failed.frames == (12, 24) and failed.reason == "score 0.6"
    assert frames_label(failed.frames) == "12-24" and frames_label((5, 5)) == "5" and frames_label(None) == ""
    (passed,) = merged([0, 12], [at(0.1, Verdict.PASS), at(0.2, Verdict.PASS)])
    assert passed.verdict is Verdict.PASS and passed.frames == (0, 12) and passed.score == 0.2
    # Stored and read back as JSON, the range stays; a still's finding has none, as before.
    assert Finding.from_dict(failed.to_dict()) == failed
    still = Finding("style", "", 0.1, Verdict.PASS, "as intended")
    assert "frames" not in still.to_dict() and Finding.from_dict(still.to_dict()).frames is None


@pytest.mark.parametrize("code", [MOVING, WALK])
def test_the_previs_clip_itself_passes(previs_clips: dict[str, PrevisClip], code: str) -> None:
    clip = previs_clips[code]
    found = clip.check(clip.take())
    assert not [f for f in found if f.verdict in (Verdict.WARN, Verdict.FAIL)], found
    assert {"flicker", "identity", "motion", "composition"} <= {f.check for f in found}
    # Every finding names the frames it is about: here all of them.
    assert {f.frames for f in found} == {(0, len(clip.storyboard) - 1)}


@pytest.mark.parametrize("code", [MOVING, WALK])
def test_a_flicker_is_caught_on_its_frames(previs_clips: dict[str, PrevisClip], code: str) -> None:
    clip = previs_clips[code]
    take = clip.take()
    # The light pulses from frame 60 to frame 120 only.
    take = take[:60] + flickering(take[60:121]) + take[121:]
    (found,) = flagged(clip.check(take), "flicker")
    assert found.verdict is Verdict.FAIL and "flickers" in found.reason
    first, last = found.frames
    assert 60 <= first <= 64 and 116 <= last <= 121


@pytest.mark.parametrize("code", [MOVING, WALK])
def test_an_identity_swap_is_caught_from_its_frame(previs_clips: dict[str, PrevisClip], code: str) -> None:
    clip = previs_clips[code]
    name, mask_id = sorted(clip.cast.items())[0]
    take = swapped(clip.take(), clip.passes["ids"], mask_id, start=90)
    found = flagged(clip.check(take), "identity")
    assert [f.subject for f in found] == [name] and found[0].verdict is Verdict.FAIL
    # Sampled every 12th frame: the first sampled frame of the swap is 96, and it runs to the end.
    assert found[0].frames == (96, len(take) - 1)
    assert f"{name} changes colour or texture since frame 0" in found[0].reason


@pytest.mark.parametrize("code", [MOVING, WALK])
def test_a_reversed_move_is_caught(previs_clips: dict[str, PrevisClip], code: str) -> None:
    clip = previs_clips[code]
    found = flagged(clip.check(clip.take()[::-1]), "motion")
    assert any(f.verdict is Verdict.FAIL for f in found)
    assert any("runs backwards" in f.reason for f in found), [f.reason for f in found]
    # The end of the take (the blocking's start, played last) is where it runs backwards.
    assert max(f.frames[1] for f in found) == len(clip.storyboard) - 1


def test_the_production_checks_a_clip_take_in_time(copy_production: Production, cli) -> None:
    production = copy_production
    production.queue_takes(MOVING, TakeOptions(frames=48))
    production.work(workers=1)
    (take,) = [t for t in production.takes(MOVING) if t.path is not None]
    found = production.findings(take.name)
    assert found and all(f.frames is not None and f.frames[1] == 47 for f in found)
    assert {"flicker", "identity", "motion"} <= {f.check for f in found}
    assert not [f for f in found if f.verdict is Verdict.FAIL], found
    # The take's picture replaced by one that flickers: `soundstage check` names the frames.
    frames = clips.read_clip(take.path.read_bytes(), "take").frames
    flicker = clips.write_clip(frames[:12] + flickering(frames[12:36]) + frames[36:], Fraction(24))
    sha = production.context.media.put_bytes(flicker, ".mp4")
    with production.context.transaction() as session:
        session.execute(update(TakeRow).where(TakeRow.output_sha256 == take.path.stem).values(output_sha256=sha))
    result = cli("-p", production.root, "check", MOVING)
    assert result.code == 1, result.out + result.err
    rows = [line for line in result.out.splitlines() if "│ flicker " in line]
    assert len(rows) == 1 and "fail" in rows[0] and re.search(r"│ 1\d-3\d +│", rows[0]), result.out
    (stored,) = [f for f in production.findings(take.name) if f.check == "flicker"]
    assert stored.verdict is Verdict.FAIL and 12 <= stored.frames[0] <= 16 and 32 <= stored.frames[1] <= 36
    first, last = stored.frames
    with production.context.reading() as session:
        stored_rows = session.scalars(select(FindingRow).where(FindingRow.check == "flicker")).all()
        assert [(r.first_frame, r.last_frame) for r in stored_rows] == [stored.frames]
    # Approving it needs an override, and the reason names the frames.
    with production.context.reading() as session:
        take_id = session.scalars(select(TakeRow.id).where(TakeRow.output_sha256 == sha)).one()
        said = standings(session, [take_id])[take_id]
    assert said.needs_override and any(r.startswith(f"flicker on frames {first}-{last}: ") for r in said.reasons)
    # The board's shot page shows the range beside the finding.
    production.add_user("Sol", "supervisor", password_hash=hash_password("sol-lantern-light", who="Sol"))
    token = production.issue_token("Sol")
    app = create_app(production.root)
    try:
        client = TestClient(app, follow_redirects=False, headers={"Authorization": f"Bearer {token}"})
        shot = client.get(f"/api/shots/{MOVING}").json()
        (shown,) = [f for f in shot["takes"][0]["findings"] if f["check"] == "flicker"]
        assert shown["frames"] == list(stored.frames)
        page = client.get(f"/shots/{MOVING}").text
        assert f'<td class="frames">{first}-{last}</td>' in page
    finally:
        app.state.production.close()
