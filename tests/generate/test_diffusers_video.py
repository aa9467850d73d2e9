"""The diffusers_video backend on tiny, randomly initialised Wan VACE and AnimateDiff pipelines.

The models are written with ``save_pretrained`` and read back by the backend's own loading
code; the previs passes are small synthetic clips in the formats previs writes (FFV1 Matroska,
16-bit grey for depth) or PNG stills. Forward hooks watch the real networks (they observe,
they change nothing) to show which inputs reached which network.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from soundstage.errors import GenerateError
from soundstage.generate import clips
from soundstage.generate.backend import DEPTH, LINEART, STORYBOARD, Recipe
from soundstage.generate.diffusers import ControlNetSettings, IPAdapterSettings
from soundstage.generate.diffusers_video import DiffusersVideoBackend, DiffusersVideoSettings
from soundstage.generate.metadata import embed_recipe, read_recipe

from . import tiny_pipelines as tiny

SIZE, FRAMES, FPS = 32, 9, "24000/1001"


class Media:
    """Passes and sheets by sha256, as the media store hands them to backends."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self.blobs[sha] = data
        return sha

    def read(self, sha256: str) -> bytes:
        return self.blobs[sha256]


def _depth(frame: int, radius: int = 8, shift: int = 2) -> np.ndarray:
    """16-bit inverse depth (near = bright): a figure crossing the frame on a far wall."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    near = (x - 8 - shift * frame) ** 2 + (y - SIZE / 2) ** 2 < radius**2
    return np.where(near, 60000, 9000).astype(np.uint16)


def _lineart(frame: int) -> np.ndarray:
    lines = np.zeros((SIZE, SIZE), np.uint8)
    lines[:, 6 + 2 * frame] = 255
    lines[20, :] = 255
    return np.repeat(lines[..., None], 3, axis=2)


def _storyboard(frame: int, tint: int = 90) -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    rgb = np.stack([x * 8, y * 8, np.full_like(x, tint)], axis=-1)
    rgb[8:20, 4 + 2 * frame : 14 + 2 * frame] = (230, 200, 40)
    return rgb.astype(np.uint8)


def _sheet(seed: int) -> bytes:
    picture = np.random.default_rng(seed).integers(0, 256, (48, 40, 3), dtype=np.uint8)
    return clips.write_take([picture], Fraction(24))  # one frame: a PNG


def _clip(frames: list[np.ndarray], fps: str = FPS) -> bytes:
    return clips.write_clip(frames, Fraction(fps), lossless=True)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every tiny model, built once for the module."""
    root = tmp_path_factory.mktemp("video_models")
    sd15 = tiny.build_sd15(root)
    adapter = tiny.build_motion_adapter(sd15, context=16)
    depth = tiny.build_controlnet(sd15, "controlnet_depth", seed=1)
    return {
        "wan": tiny.build_wan_vace(root),
        "sd15": sd15,
        "motion_adapter": adapter,
        "animatediff": tiny.build_animatediff(sd15, adapter, depth),
        "depth": depth,
        "lineart": tiny.build_controlnet(sd15, "controlnet_lineart", seed=2),
        "ip_adapter": tiny.build_ip_adapter(sd15),
    }


@pytest.fixture
def media() -> Media:
    return Media()


def _recipe(media: Media, **changes: object) -> Recipe:
    fields: dict[str, object] = {
        "shot": "12A",
        "backend": "diffusers_video",
        "prompt": "a lighthouse keeper crosses the lamp room, dusk",
        "negative_prompt": "blurry",
        "seed": 7,
        "steps": 2,
        "width": SIZE,
        "height": SIZE,
        "frames": FRAMES,
        "fps": FPS,
        "conditioning": {
            STORYBOARD: media.put(_clip([_storyboard(f) for f in range(FRAMES)])),
            DEPTH: media.put(_clip([_depth(f) for f in range(FRAMES)])),
            LINEART: media.put(_clip([_lineart(f) for f in range(FRAMES)])),
        },
    }
    fields.update(changes)
    return Recipe.model_validate(fields)


def _wan(models: dict[str, Path], **settings: object) -> DiffusersVideoBackend:
    return DiffusersVideoBackend(DiffusersVideoSettings(**{"model": str(models["wan"]), "device": "cpu", **settings}))


def _animatediff(models: dict[str, Path], **settings: object) -> DiffusersVideoBackend:
    values: dict[str, object] = {
        "model": str(models["animatediff"]),
        "device": "cpu",
        "controlnets": [
            ControlNetSettings(model=str(models["depth"]), control="depth"),
            ControlNetSettings(model=str(models["lineart"]), control="lineart"),
        ],
    }
    values.update(settings)
    return DiffusersVideoBackend(DiffusersVideoSettings(**values))


def _in_range(fraction: float) -> None:
    assert 0.0 <= fraction <= 1.0


def _make(backend: DiffusersVideoBackend, recipe: Recipe, media: Media) -> bytes:
    return backend.generate([recipe], media, _in_range)[0]


def _frames(clip: bytes) -> list[np.ndarray]:
    return [frame.astype(np.int16) for frame in clips.read_clip(clip, "the take").frames]


def test_wan_vace_makes_a_clip_at_the_recipes_rate_the_same_every_time(models, media) -> None:
    backend = _wan(models)
    recipe = _recipe(media)
    prepared = backend.prepare(recipe.model_copy(update={"steps": 0}))
    assert prepared.steps == 30 and prepared.guidance == 5.0  # Wan's usual, from model_index.json
    assert prepared.options["family"] == "Wan VACE" and prepared.options["control"] == "depth"
    assert prepared.options["dtype"] == "float32" and len(prepared.weights_sha256) == 64
    assert backend.prepare(prepared) == prepared
    clip = _make(backend, recipe, media)
    assert clips.kind_of(clip) == "mp4"
    made = clips.read_clip(clip, "the take")
    assert len(made.frames) == FRAMES and made.fps == Fraction(24000, 1001)
    assert made.frames[0].shape == (SIZE, SIZE, 3)
    assert _make(backend, recipe, media) == clip  # deterministic on the CPU, byte for byte
    other = _make(backend, recipe.model_copy(update={"seed": 8}), media)
    assert clips.compare_clips(clip, other) == (False, 0)
    # The recipe travels inside the clip, and the pictures stay as they were.
    tagged = embed_recipe(clip, prepared)
    assert read_recipe(tagged) == prepared
    assert clips.compare_clips(tagged, clip) == (True, None)


def test_wan_vace_reads_the_control_pass_and_the_reference_sheets(models, media) -> None:
    backend = _wan(models)
    recipe = _recipe(media)
    seen: list[tuple[int, ...]] = []
    latents: list[int] = []

    def watch(module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
        seen.append(tuple(kwargs["control_hidden_states"].shape))
        latents.append(kwargs["hidden_states"].shape[2])

    backend.pipeline(recipe).transformer.register_forward_pre_hook(watch, with_kwargs=True)
    baseline = _make(backend, recipe, media)
    # VACE's control latents: 96 channels (inactive + reactive video, and the mask), 3 latent
    # frames for 9 (1 + 8 / 4) at a quarter of the 32 pixels... per step, with and without the prompt.
    assert seen[0] == (1, 96, 3, 4, 4) and len(seen) == 4
    closer = _recipe(
        media, conditioning={**recipe.conditioning, DEPTH: media.put(_clip([_depth(f, 12) for f in range(FRAMES)]))}
    )
    assert clips.compare_clips(_make(backend, closer, media), baseline)[0] is False
    # Line art is read instead when the settings say so, and the depth clip is then ignored.
    lines = _wan(models, control="lineart")
    drawn = _make(lines, recipe, media)
    assert clips.compare_clips(drawn, baseline)[0] is False
    assert _make(lines, closer, media) == drawn
    # Reference sheets come in as extra latent frames ahead of the clip, and change the clip.
    latents.clear()
    sheets = {"reference:MAISIE": media.put(_sheet(1)), "reference:MAISIE:1": media.put(_sheet(2))}
    with_sheets = _recipe(media, conditioning={**recipe.conditioning, **sheets})
    referenced = _make(backend, with_sheets, media)
    assert latents[0] == 3 + 2
    assert len(clips.read_clip(referenced, "the take").frames) == FRAMES
    assert clips.compare_clips(referenced, baseline)[0] is False


def test_frame_counts_and_sizes_the_model_cannot_make_are_refused_with_what_fits(models, media) -> None:
    def refused(backend: DiffusersVideoBackend, recipe: Recipe, pattern: str) -> None:
        with pytest.raises(GenerateError, match=pattern) as caught:
            backend.prepare(recipe)
        assert "\n" not in str(caught.value)

    refused(
        _wan(models),
        _recipe(media, frames=10),
        r"^shot 12A: Wan VACE makes 4k\+1 frames and 10 is not one; use 9 or 13",
    )
    refused(_wan(models), _recipe(media, frames=48), r"use 45 or 49")
    refused(_wan(models), _recipe(media, width=40), r"^shot 12A: 40x32 is not a multiple of 16 pixels, which Wan VACE")
    refused(
        _animatediff(models),
        _recipe(media, frames=20),
        r"^shot 12A: AnimateDiff's motion module takes at most 16 frames \(its context length\); the take asks for 20",
    )
    refused(_animatediff(models), _recipe(media, width=33), r"33x32 is not a multiple of 2 pixels")
    refused(_wan(models), _recipe(media, strength=0.5), r"Wan VACE has no video-to-video from the storyboard")
    union = [ControlNetSettings(model=str(models["depth"]), control="union")]
    refused(_animatediff(models, controlnets=union), _recipe(media), r"AnimateDiff has no union ControlNet pipeline")
    # What fits is made: 13 frames for Wan, 16 (the whole context) for AnimateDiff.
    assert len(_frames(_make(_wan(models), _recipe(media, frames=13, conditioning=_long(media, 13)), media))) == 13
    assert _animatediff(models).prepare(_recipe(media, frames=16)).frames == 16


def _long(media: Media, frames: int) -> dict[str, str]:
    return {DEPTH: media.put(_clip([_depth(f % 9) for f in range(frames)]))}


def test_animatediff_controlnets_read_their_pass_frame_by_frame(models, media) -> None:
    backend = _animatediff(models)
    recipe = _recipe(media)
    pipe = backend.pipeline(recipe)
    assert type(pipe).__name__ == "AnimateDiffControlNetPipeline"
    hints: list[list[torch.Tensor]] = [[], []]
    for net, seen in zip(pipe.controlnet.nets, hints, strict=True):
        net.register_forward_pre_hook(
            lambda _, args, kwargs, seen=seen: seen.append(kwargs["controlnet_cond"]), with_kwargs=True
        )
    baseline = _make(backend, recipe, media)
    depth, lines = hints[0][0], hints[1][0]
    assert depth.shape == (2 * FRAMES, 3, SIZE, SIZE)  # every frame, with and without the prompt
    # Frame by frame and in order: 16-bit depth scaled to 0..1 (not clipped at 255), line art as drawn.
    for frame in (0, 4, 8):
        assert np.allclose(depth[frame, 0].numpy(), _depth(frame) / 65535, atol=1 / 255)
        assert np.array_equal(lines[frame, 0].numpy(), _lineart(frame)[..., 0] / 255)
    # One depth frame changed: the take changes, and not only at that frame, because the motion
    # module attends across frames.
    moved = [_depth(f) for f in range(FRAMES)]
    moved[6] = _depth(6, radius=13)
    changed = _recipe(media, conditioning={**recipe.conditioning, DEPTH: media.put(_clip(moved))})
    assert clips.compare_clips(_make(backend, changed, media), baseline) == (False, 0)
    # Without ControlNets it is another clip: the passes really steered it.
    plain = _animatediff(models, controlnets=[])
    assert type(plain.pipeline(recipe)).__name__ == "AnimateDiffPipeline"
    assert clips.compare_clips(_make(plain, recipe, media), baseline)[0] is False
    assert _make(backend, recipe, media) == baseline


def test_an_sd15_folder_with_a_motion_adapter_is_the_saved_animatediff_pipeline(models, media) -> None:
    saved = _animatediff(models)
    assembled = _animatediff(models, model=str(models["sd15"]), motion_adapter=str(models["motion_adapter"]))
    recipe = _recipe(media)
    prepared = assembled.prepare(recipe)
    assert prepared.options["family"] == "AnimateDiff" and prepared.steps == 2
    assert set(prepared.options["weights"]) == {
        str(models["depth"]),
        str(models["lineart"]),
        str(models["motion_adapter"]),
    }
    assert type(assembled.pipeline(recipe).unet).__name__ == "UNetMotionModel"
    assert clips.compare_clips(_make(assembled, recipe, media), _make(saved, recipe, media)) == (True, None)


def test_strength_repaints_the_storyboard_clip(models, media) -> None:
    backend = _animatediff(models)
    text = _recipe(media)
    repaint = _recipe(media, strength=0.5)
    assert type(backend.pipeline(repaint)).__name__ == "AnimateDiffVideoToVideoControlNetPipeline"
    made = _make(backend, repaint, media)
    assert clips.compare_clips(made, _make(backend, text, media))[0] is False
    other_board = media.put(_clip([_storyboard(f, tint=200) for f in range(FRAMES)]))
    tinted = _recipe(media, strength=0.5, conditioning={**repaint.conditioning, STORYBOARD: other_board})
    assert clips.compare_clips(_make(backend, tinted, media), made)[0] is False
    # Strength 0 keeps the storyboard: the take is the storyboard clip, encoded as a take.
    kept = _make(backend, _recipe(media, strength=0.0), media)
    assert kept == clips.write_take([_storyboard(f) for f in range(FRAMES)], Fraction(FPS))


def test_reference_sheets_steer_animatediff_through_the_ip_adapter(models, media) -> None:
    adapter = IPAdapterSettings(
        model=str(models["ip_adapter"]), weight_name=tiny.IP_ADAPTER_WEIGHTS, image_encoder="image_encoder", scale=1.0
    )
    backend = _animatediff(models, ip_adapter=adapter)
    without = _recipe(media)
    sheets = {"reference:MAISIE": media.put(_sheet(1)), "reference:MAISIE:1": media.put(_sheet(2))}
    with_sheets = _recipe(media, conditioning={**without.conditioning, **sheets})
    encoded: list[int] = []
    backend.pipeline(with_sheets).image_encoder.register_forward_pre_hook(
        lambda _, args: encoded.append(args[0].shape[0])
    )
    made = _make(backend, with_sheets, media)
    assert encoded == [2]
    other = _recipe(media, conditioning={**with_sheets.conditioning, "reference:MAISIE:1": media.put(_sheet(3))})
    assert clips.compare_clips(_make(backend, other, media), made)[0] is False
    # No sheets: exactly the clip made with no adapter at all.
    assert clips.compare_clips(_make(backend, without, media), _make(_animatediff(models), without, media)) == (
        True,
        None,
    )


def test_passes_arrive_as_stills_held_or_as_clips_of_either_format(models, media) -> None:
    backend = _wan(models)
    still = [_depth(0)] * FRAMES
    held = _recipe(media, conditioning={DEPTH: media.put(clips.write_take([_depth(0)], Fraction(24)))})
    assert clips.kind_of(media.read(held.conditioning[DEPTH])) == "png"
    from_clip = _recipe(media, conditioning={DEPTH: media.put(_clip(still))})
    assert _make(backend, held, media) == _make(backend, from_clip, media)
    # A longer clip gives its first frames; an H.264 MP4 is read too.
    longer = _recipe(media, conditioning={DEPTH: media.put(_clip(still + [_depth(5)] * 4))})
    assert _make(backend, longer, media) == _make(backend, from_clip, media)
    mp4 = _recipe(
        media, conditioning={DEPTH: media.put(clips.write_clip([clips.rgb8(d) for d in still], Fraction(FPS)))}
    )
    assert clips.kind_of(_make(backend, mp4, media)) == "mp4"

    def refused(recipe: Recipe, pattern: str) -> None:
        with pytest.raises(GenerateError, match=pattern) as caught:
            _make(backend, recipe, media)
        assert "\n" not in str(caught.value)

    refused(
        _recipe(media, conditioning={DEPTH: media.put(_clip(still, fps="25"))}),
        r"^shot 12A: the depth pass runs at 25 fps, the take at 24000/1001",
    )
    refused(
        _recipe(media, conditioning={DEPTH: media.put(_clip(still[:5]))}),
        r"^shot 12A: the depth pass has 5 frames, fewer than the take's 9",
    )
    # A missing pass is refused when the take is queued (prepare), before any worker runs it.
    with pytest.raises(
        GenerateError, match=r"^shot 12A: no depth pass, which Wan VACE reads; run soundstage previs first$"
    ):
        backend.prepare(_recipe(media, conditioning={LINEART: media.put(_clip(still))}))
    with pytest.raises(GenerateError, match=r"^shot 12A: no lineart or storyboard pass, which AnimateDiff reads"):
        _animatediff(models).prepare(_recipe(media, strength=0.5, conditioning={DEPTH: media.put(_clip(still))}))
    refused(
        _recipe(media, conditioning={DEPTH: media.put(b"GIF89a not a clip")}),
        r"^shot 12A: the depth pass is not a PNG, an MKV or an MP4 file",
    )


def test_a_one_frame_take_is_a_png(models, media) -> None:
    take = _make(_wan(models), _recipe(media, frames=1), media)
    assert clips.kind_of(take) == "png"
    assert clips.read_clip(take, "the take").frames[0].shape == (SIZE, SIZE, 3)


def test_memory_saving_settings_are_applied_and_tiling_is_recorded(models, media) -> None:
    backend = _animatediff(models, vae_tiling=True, vae_slicing=True, offload="model")
    recipe = _recipe(media)
    assert backend.prepare(recipe).options["vae_tiling"] is True
    pipe = backend.pipeline(recipe)
    assert pipe.vae.use_tiling and pipe.vae.use_slicing
    assert pipe.unet.device.type == "cpu"  # offload applies on CUDA only
    assert len(_frames(_make(backend, recipe, media))) == FRAMES


def test_unknown_video_model_folders_are_one_line(models, media, tmp_path, monkeypatch) -> None:
    def refused(backend: DiffusersVideoBackend, pattern: str) -> None:
        with pytest.raises(GenerateError, match=pattern) as caught:
            backend.prepare(_recipe(media))
        assert "\n" not in str(caught.value)

    refused(
        _animatediff(models, model=str(models["sd15"])),
        r"StableDiffusionPipeline makes stills; set \[generate.diffusers_video\] motion_adapter",
    )
    other = tmp_path / "flux"
    shutil.copytree(models["wan"], other)
    (other / "model_index.json").write_text(json.dumps({"_class_name": "FluxPipeline"}))
    refused(
        _wan(models, model=str(other)), r"pipeline class 'FluxPipeline' is not a video pipeline this backend drives"
    )
    (other / "model_index.json").unlink()
    refused(_wan(models, model=str(other)), r"model_index.json: missing; a model must be a diffusers pipeline folder")
    refused(_wan(models, model=str(tmp_path / "nowhere")), r"nowhere does not exist")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the test must hold on a GPU machine too
    refused(_wan(models, device="cuda"), r"device is cuda, but torch .* sees no CUDA GPU")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_half_precision_on_the_gpu(models, media) -> None:
    wan = _wan(models, device="cuda")
    recipe = _recipe(media)
    prepared = wan.prepare(recipe)
    assert prepared.options["dtype"] in ("bfloat16", "float16")
    pipe = wan.pipeline(recipe)
    assert pipe.transformer.dtype == getattr(torch, prepared.options["dtype"]) and pipe.vae.dtype == torch.float32
    assert _make(wan, recipe, media) == _make(wan, recipe, media)
    animatediff = _animatediff(models, device="cuda", compile=False)
    assert animatediff.prepare(recipe).options["dtype"] == "float16"
    assert animatediff.pipeline(recipe).unet.dtype == torch.float16
    assert len(_frames(_make(animatediff, recipe, media))) == FRAMES


def test_a_recipe_whose_weights_changed_is_refused(models, media, tmp_path) -> None:
    copy = tmp_path / "wan"
    shutil.copytree(models["wan"], copy)
    backend = _wan(models, model=str(copy))
    before = backend.prepare(_recipe(media))
    weights = copy / "transformer" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x01")
    with pytest.raises(GenerateError, match=r"^shot 12A: the weights of .*wan changed since the recipe was made"):
        backend.generate([before], media, _in_range)


def test_longer_clips_than_the_motion_context_come_in_overlapping_windows(models, media) -> None:
    windows = _animatediff(models, context_stride=4)
    passes = {
        DEPTH: media.put(_clip([_depth(f % 9) for f in range(20)])),
        LINEART: media.put(_clip([_lineart(f % 9) for f in range(20)])),
    }
    long = _recipe(media, frames=20, conditioning=passes)
    prepared = windows.prepare(long)
    assert prepared.options["context_stride"] == 4
    seen: list[int] = []
    pipe = windows.pipeline(prepared)
    assert pipe.free_noise_enabled
    pipe.unet.register_forward_pre_hook(lambda _, args: seen.append(args[0].shape[2]))
    clip = _make(windows, prepared, media)
    assert len(_frames(clip)) == 20 and seen[0] == 20  # the whole clip, windowed inside the motion modules
    assert _make(windows, prepared, media) == clip
    with pytest.raises(GenerateError, match=r"context_stride 17 is longer than the motion module's context of 16"):
        _animatediff(models, context_stride=17).prepare(long)
