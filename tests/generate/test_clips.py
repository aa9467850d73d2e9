"""Clips: the formats previs clips arrive in, the take clips written with PyAV, frame-by-frame
comparison, recipes that move (and stills that hash as before), and previs clips as takes."""

from __future__ import annotations

import hashlib
import io
import json
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from soundstage.errors import GenerateError
from soundstage.generate import clips
from soundstage.generate.backend import DEPTH, STORYBOARD, Recipe
from soundstage.generate.metadata import embed_recipe, read_recipe
from soundstage.generate.previs import PrevisBackend

W, H = 48, 32
NTSC = Fraction(24000, 1001)


def _moving(frames: int = 6) -> list[np.ndarray]:
    """A storyboard-like clip: a yellow figure crossing a gradient."""
    y, x = np.mgrid[0:H, 0:W]
    out = []
    for frame in range(frames):
        rgb = np.stack([x * 5, y * 7, np.full_like(x, 90)], axis=-1).astype(np.uint8)
        rgb[8:20, 4 + 5 * frame : 14 + 5 * frame] = (230, 200, 40)
        out.append(rgb)
    return out


def _depth(frames: int = 4) -> list[np.ndarray]:
    return [np.full((H, W), 1000 + 12000 * f, np.uint16) + np.arange(W, dtype=np.uint16) * 300 for f in range(frames)]


def _encode(frames: list[np.ndarray], fps: Fraction, container: str, codec: str, pix_fmt: str, **options: str) -> bytes:
    """A clip as another tool would write it (PyAV straight, not our writer)."""
    out = io.BytesIO()
    with av.open(out, "w", format=container) as muxer:
        stream = muxer.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt, stream.options = W, H, pix_fmt, options
        for number, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = number
            muxer.mux(stream.encode(frame))
        muxer.mux(stream.encode(None))
    return out.getvalue()


def test_previs_clips_are_read_from_every_agreed_format() -> None:
    board, depth = _moving(), _depth()
    # FFV1 in Matroska: RGB and 16-bit depth come back bit for bit.
    ffv1 = clips.read_clip(clips.write_clip(board, NTSC, lossless=True), "board")
    assert ffv1.fps == NTSC and all(np.array_equal(a, b) for a, b in zip(ffv1.frames, board, strict=True))
    deep = clips.read_clip(clips.write_clip(depth, Fraction(24), lossless=True), "depth")
    assert deep.frames[0].dtype == np.uint16 and all(
        np.array_equal(a, b) for a, b in zip(deep.frames, depth, strict=True)
    )
    # Lossless H.264 (RGB) in Matroska, and H.264 in MP4, written by PyAV directly.
    x264rgb = clips.read_clip(_encode(board, Fraction(25), "matroska", "libx264rgb", "rgb24", qp="0"), "board")
    assert x264rgb.fps == 25 and all(np.array_equal(a, b) for a, b in zip(x264rgb.frames, board, strict=True))
    mp4 = clips.read_clip(_encode(board, NTSC, "mp4", "libx264", "yuv420p", crf="10"), "board")
    assert mp4.fps == NTSC and len(mp4.frames) == len(board)
    assert np.abs(mp4.frames[3].astype(int) - board[3]).mean() < 6
    # A static shot's pass: one PNG, held for the whole take.
    out = io.BytesIO()
    Image.fromarray(depth[0]).save(out, format="PNG")
    still = clips.read_clip(out.getvalue(), "depth")
    assert still.still and still.frames[0].dtype == np.uint16
    held = clips.pass_frames(still, 5, NTSC, "depth")
    assert len(held) == 5 and all(np.array_equal(f, depth[0]) for f in held)
    # 16-bit depth becomes 8-bit pictures by scaling, never clipping.
    assert clips.rgb8(depth[3])[0, -1].tolist() == [round((1000 + 36000 + 47 * 300) / 257)] * 3


def test_passes_that_do_not_fit_the_take_are_one_line() -> None:
    clip = clips.read_clip(clips.write_clip(_moving(6), NTSC, lossless=True), "shot 3A: the storyboard pass")
    assert len(clips.pass_frames(clip, 4, NTSC, "x")) == 4  # the take covers the start of the shot
    with pytest.raises(GenerateError, match=r"^shot 3A: the storyboard pass has 6 frames, fewer than the take's 9$"):
        clips.pass_frames(clip, 9, NTSC, "shot 3A: the storyboard pass")
    with pytest.raises(GenerateError, match=r"^x runs at 24000/1001 fps, the take at 24$"):
        clips.pass_frames(clip, 4, Fraction(24), "x")
    # Streamed from the file's bytes (the previs backend's way): the same frames, the same refusals.
    data = clips.write_clip(_moving(6), NTSC, lossless=True)
    streamed = list(clips.stream_pass(data, 4, NTSC, "x"))
    assert all(np.array_equal(a, b) for a, b in zip(streamed, clips.pass_frames(clip, 4, NTSC, "x"), strict=True))
    with pytest.raises(GenerateError, match=r"^x runs at 24000/1001 fps, the take at 24$"):
        clips.stream_pass(data, 4, Fraction(24), "x")
    with pytest.raises(GenerateError, match=r"^x has 6 frames, fewer than the take's 9$"):
        list(clips.stream_pass(data, 9, NTSC, "x"))
    for bad, pattern in [
        (b"GIF89a", r"^x is not a PNG, an MKV or an MP4 file$"),
        (b"\x1a\x45\xdf\xa3broken", r"^x: cannot decode the MKV clip"),
    ]:
        with pytest.raises(GenerateError, match=pattern):
            clips.read_clip(bad, "x")
    with pytest.raises(GenerateError, match=r"its width and height must be even"):
        clips.write_clip([np.zeros((H, W + 1, 3), np.uint8)] * 2, NTSC)


def test_take_clips_are_frame_exact_tagged_and_the_same_bytes_every_time() -> None:
    board = _moving(8)
    take = clips.write_take(board, NTSC)
    assert clips.kind_of(take) == "mp4" and clips.suffix_for(take) == ".mp4"
    assert take == clips.write_take(board, NTSC)
    with av.open(io.BytesIO(take)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == NTSC and stream.codec_context.name == "h264"
        decoded = list(container.decode(stream))
        times = [frame.pts * stream.time_base for frame in decoded]
        assert times == [Fraction(n) / NTSC for n in range(8)]  # one timestamp per frame, exactly
        assert decoded[0].colorspace == 1 and decoded[0].color_range == 1  # BT.709, limited range, as tagged
    back = clips.read_clip(take, "take")
    assert max(np.abs(a.astype(int) - b).mean() for a, b in zip(back.frames, board, strict=True)) < 5
    # One frame is a still: a PNG.
    assert clips.kind_of(clips.write_take(board[:1], NTSC)) == "png"
    assert clips.take_suffix(1) == ".png" and clips.take_suffix(8) == ".mp4" == clips.suffix_for(take)
    # Lossless Matroska is deterministic too (the muxer's random segment id is turned off).
    assert clips.write_clip(board, NTSC, lossless=True) == clips.write_clip(board, NTSC, lossless=True)


def test_compare_clips_finds_the_first_frame_that_differs() -> None:
    board = _moving(8)
    a = clips.write_clip(board, NTSC, lossless=True)
    assert clips.compare_clips(a, clips.write_clip(board, NTSC, lossless=True)) == (True, None)
    touched = [f.copy() for f in board]
    touched[5][0, 0] = (0, 0, 0)
    assert clips.compare_clips(a, clips.write_clip(touched, NTSC, lossless=True)) == (False, 5)
    assert clips.compare_clips(a, clips.write_clip(board[:6], NTSC, lossless=True)) == (False, 6)
    assert clips.compare_clips(clips.write_clip(board[:6], NTSC, lossless=True), a) == (False, 6)
    # The same pictures at another rate are not the same clip: frame 1 comes at another time.
    assert clips.compare_clips(clips.write_take(board, NTSC), clips.write_take(board, Fraction(24))) == (False, 1)
    # (Matroska keeps times to the millisecond: 1/24 s and 1001/24000 s part only at frame 5.)
    assert clips.compare_clips(a, clips.write_clip(board, Fraction(24), lossless=True)) == (False, 5)
    # Tags do not count; stills compare as one-frame clips.
    assert clips.compare_clips(a, clips.retag(a, {"soundstage:recipe": "{}"})) == (True, None)
    still = clips.write_take(board[:1], NTSC)
    assert clips.compare_clips(still, still) == (True, None)
    assert clips.compare_clips(still, a) == (False, 1)


RECIPE = {
    "shot": "012_0030", "backend": "diffusers", "model": "models/sdxl", "seed": 7, "steps": 30, "guidance": 5.0,
    "prompt": "a lighthouse keeper on the stairs, dusk", "strength": 0.6, "options": {"dtype": "float16"},
    "conditioning": {"depth": "a" * 64, "reference:MAISIE": "b" * 64}, "requested_by": "ana",
}  # fmt: skip


def test_a_still_recipe_serialises_and_hashes_as_before_clips() -> None:
    still = Recipe.model_validate(RECIPE)
    # The digest of this recipe as the code before clips computed it (commit e3967c4).
    assert still.sha256() == "815f1f72d4c04750d6b3c3e481fd3f93a11b034a8502dbcd2494b93233089f50"
    dumped = still.model_dump(mode="json")
    assert "frames" not in dumped and "fps" not in dumped
    before = {k: v for k, v in dumped.items() if k not in ("frames", "fps")}
    canonical = json.dumps(before, sort_keys=True, separators=(",", ":"))
    assert still.sha256() == hashlib.sha256(canonical.encode()).hexdigest()
    # A clip's recipe carries its frames and rate, hashes otherwise, and round-trips.
    clip = Recipe.model_validate({**RECIPE, "frames": 49, "fps": "24000/1001"})
    assert clip.model_dump(mode="json")["frames"] == 49 and clip.frame_rate == NTSC and clip.moves
    assert clip.sha256() != still.sha256()
    assert Recipe.model_validate_json(clip.model_dump_json()) == clip
    assert Recipe.model_validate(clip.model_dump()) == clip
    # A still at another rate keeps the rate it was given.
    assert Recipe.model_validate({**RECIPE, "fps": "25"}).model_dump()["fps"] == "25"
    for bad in ("23.976", "0", "24/0", "-24", "24000/1001/2"):
        with pytest.raises(ValueError):
            Recipe.model_validate({**RECIPE, "fps": bad})
    with pytest.raises(ValueError):
        Recipe.model_validate({**RECIPE, "frames": 0})


def test_a_clip_take_carries_its_recipe_in_container_tags() -> None:
    recipe = Recipe.model_validate({**RECIPE, "frames": 8, "fps": "24000/1001"})
    take = clips.write_take(_moving(8), NTSC)
    tagged = embed_recipe(take, recipe)
    assert read_recipe(tagged) == recipe and read_recipe(take) is None
    assert clips.tags(tagged)["software"].startswith("Soundstage ")
    assert clips.compare_clips(tagged, take) == (True, None)
    assert embed_recipe(take, recipe) == tagged
    lossless = clips.write_clip(_moving(8), NTSC, lossless=True)
    assert read_recipe(embed_recipe(lossless, recipe)) == recipe  # Matroska keeps tags in upper case


class _Media:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self.blobs[sha] = data
        return sha

    def read(self, sha256: str) -> bytes:
        return self.blobs[sha256]


def test_previs_takes_a_moving_shot_as_its_storyboard_clip() -> None:
    media, backend = _Media(), PrevisBackend()
    board = _moving(8)
    moving = Recipe(
        shot="3A", backend="previs", width=W, height=H, frames=6, fps="24000/1001",
        conditioning={STORYBOARD: media.put(clips.write_clip(board, NTSC, lossless=True)), DEPTH: "c" * 64},
    )  # fmt: skip
    take = backend.generate([backend.prepare(moving)], media, lambda fraction: None)[0]
    assert take == clips.write_take(board[:6], NTSC)  # the first 6 frames, as a take clip
    assert backend.generate([moving], media, lambda fraction: None)[0] == take
    # At another size every frame is resized; a still recipe of a moving shot is its first frame.
    bigger = backend.generate([moving.model_copy(update={"width": 96, "height": 64})], media, lambda f: None)[0]
    assert clips.read_clip(bigger, "take").frames[0].shape == (64, 96, 3)
    first = backend.generate([moving.model_copy(update={"frames": 1})], media, lambda f: None)[0]
    assert np.array_equal(clips.read_clip(first, "take").frames[0], board[0])
    # A static shot's storyboard (one PNG) is held for a moving take.
    png = clips.write_take(board[:1], NTSC)
    held = backend.generate(
        [moving.model_copy(update={"conditioning": {STORYBOARD: media.put(png)}})], media, lambda f: None
    )[0]
    assert held == clips.write_take([board[0]] * 6, NTSC)
    with pytest.raises(GenerateError, match=r"^shot 3A: the storyboard has 8 frames, fewer than the take's 12$"):
        backend.generate([moving.model_copy(update={"frames": 12})], media, lambda f: None)
