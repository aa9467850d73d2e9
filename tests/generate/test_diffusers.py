"""The diffusers backend on tiny, randomly initialised SD 1.5, SDXL and Flux pipelines.

The models are written with ``save_pretrained`` and read back by the backend's own loading
code; the previs passes are small synthetic images in the formats previs writes. Forward
hooks watch the real networks (they observe, they change nothing) to show which inputs
reached which network.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from soundstage.errors import GenerateError
from soundstage.generate.backend import DEPTH, LINEART, STORYBOARD, Recipe
from soundstage.generate.diffusers import (
    ControlNetSettings,
    DiffusersBackend,
    DiffusersSettings,
    IPAdapterSettings,
)

from . import tiny_pipelines as tiny

SIZE = 32


class Media:
    """Conditioning images by sha256, as the media store hands them to backends."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, image: Image.Image) -> str:
        out = io.BytesIO()
        image.save(out, format="PNG")
        sha = hashlib.sha256(out.getvalue()).hexdigest()
        self.blobs[sha] = out.getvalue()
        return sha

    def read(self, sha256: str) -> bytes:
        return self.blobs[sha256]


def _storyboard(shift: int = 0) -> Image.Image:
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    rgb = np.stack([x * 8, y * 8, np.full_like(x, 90 + shift)], axis=-1)
    rgb[8:20, 10 + shift : 22 + shift] = (230, 200, 40)  # a figure, in the stand-in's colour
    return Image.fromarray(rgb.astype(np.uint8))


def _depth(radius: int = 9) -> Image.Image:
    """16-bit inverse depth, near = bright: a figure close to camera on a far wall."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    near = (x - SIZE / 2) ** 2 + (y - SIZE / 2) ** 2 < radius**2
    return Image.fromarray(np.where(near, 60000, 9000).astype(np.uint16))


def _lineart(column: int = 12) -> Image.Image:
    lines = np.zeros((SIZE, SIZE), np.uint8)
    lines[:, column] = 255
    lines[20, :] = 255
    return Image.fromarray(lines)


def _sheet(seed: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (48, 40, 3), dtype=np.uint8))


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _alone(backend: DiffusersBackend, recipes: list[Recipe], media: Media) -> list[bytes]:
    """Each recipe's take made in a call of its own."""
    return [backend.generate([recipe], media, _in_range)[0] for recipe in recipes]


def _same_takes(batched: list[bytes], alone: list[bytes]) -> None:
    """Batched takes are the takes made alone, up to float rounding.

    Each image has its own seeded noise, so batching changes no image; but PyTorch's kernels
    are not batch-invariant (a UNet output moves by ~1e-6 with the batch size), which can tip
    a rare pixel across an 8-bit rounding step.
    """
    assert len(batched) == len(alone)
    for one, other in zip(batched, alone, strict=True):
        difference = np.abs(_pixels(one) - _pixels(other))
        assert difference.max() <= 1 and (difference > 0).mean() < 0.01


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every tiny model, built once for the module."""
    root = tmp_path_factory.mktemp("models")
    sd15, sdxl, flux = tiny.build_sd15(root), tiny.build_sdxl(root), tiny.build_flux(root)
    return {
        "sd15": sd15,
        "depth": tiny.build_controlnet(sd15, "controlnet_depth", seed=1),
        "lineart": tiny.build_controlnet(sd15, "controlnet_lineart", seed=2),
        "ip_adapter": tiny.build_ip_adapter(sd15),
        "sdxl": sdxl,
        "sdxl_union": tiny.build_controlnet(sdxl, "controlnet_union", seed=3, union=True),
        "flux": flux,
        "flux_union": tiny.build_controlnet(flux, "flux_controlnet_union", seed=4, union=True),
    }


@pytest.fixture
def media() -> Media:
    return Media()


def _recipe(media: Media, **changes: object) -> Recipe:
    fields: dict[str, object] = {
        "shot": "12A",
        "backend": "diffusers",
        "prompt": "a lighthouse keeper on the stairs, dusk",
        "negative_prompt": "blurry",
        "seed": 7,
        "steps": 2,
        "width": SIZE,
        "height": SIZE,
        "conditioning": {
            STORYBOARD: media.put(_storyboard()),
            DEPTH: media.put(_depth()),
            LINEART: media.put(_lineart()),
        },
    }
    return Recipe.model_validate({**fields, **changes})


def _sd15(models: dict[str, Path], **changes: object) -> DiffusersBackend:
    settings = {
        "model": str(models["sd15"]),
        "device": "cpu",
        "controlnets": [
            ControlNetSettings(model=str(models["depth"]), control="depth"),
            ControlNetSettings(model=str(models["lineart"]), control="lineart"),
        ],
    }
    return DiffusersBackend(DiffusersSettings.model_validate({**settings, **changes}))


def _in_range(fraction: float) -> None:
    assert 0.0 <= fraction <= 1.0


def _controlnet_inputs(pipe: object) -> list[list[torch.Tensor]]:
    """Hooks that record the control image each of the pipeline's ControlNets is given."""
    seen: list[list[torch.Tensor]] = [[] for _ in pipe.controlnet.nets]
    for net, record in zip(pipe.controlnet.nets, seen, strict=True):
        net.register_forward_pre_hook(
            lambda _, args, kwargs, r=record: r.append(kwargs["controlnet_cond"]), with_kwargs=True
        )
    return seen


def test_prepare_fills_what_the_backend_decides(models, media) -> None:
    backend = _sd15(models)
    prepared = backend.prepare(_recipe(media, steps=0))
    assert prepared.model == str(models["sd15"])
    assert prepared.backend_version == backend.version and "+diffusers" in backend.version
    assert (prepared.steps, prepared.guidance) == (30, 7.5)  # SD 1.5's usual, from model_index.json
    assert len(prepared.weights_sha256) == 64
    options = prepared.options
    assert [c["control"] for c in options["controlnets"]] == ["depth", "lineart"]
    assert options["dtype"] == "float32" and options["controlnet_scale"] == 0.8
    assert set(options["weights"]) == {str(models["depth"]), str(models["lineart"])}
    assert options["weights"][str(models["depth"])] != options["weights"][str(models["lineart"])]
    # What the recipe already says wins, and preparing twice changes nothing.
    mine = backend.prepare(_recipe(media, steps=4, guidance=3.0, options={"controlnet_scale": 0.3}))
    assert (mine.steps, mine.guidance, mine.options["controlnet_scale"]) == (4, 3.0, 0.3)
    assert backend.prepare(prepared) == prepared


def test_weights_hash_follows_the_weight_files(models, media, tmp_path) -> None:
    copy = tmp_path / "sd15"
    shutil.copytree(models["sd15"], copy)
    backend = _sd15(models, model=str(copy), controlnets=[])
    before = backend.prepare(_recipe(media))
    (copy / "scheduler" / "scheduler_config.json").write_text("{}")  # not a weight file
    assert backend.prepare(_recipe(media)).weights_sha256 == before.weights_sha256
    weights = copy / "unet" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x01")
    assert backend.prepare(_recipe(media)).weights_sha256 != before.weights_sha256
    with pytest.raises(GenerateError, match=r"^shot 12A: the weights of .*sd15 changed since the recipe was made"):
        backend.generate([before], media, _in_range)


def test_same_recipe_same_bytes_other_seed_other_image(models, media) -> None:
    backend = _sd15(models)
    recipe = _recipe(media)
    first = backend.generate([recipe], media, _in_range)[0]
    assert backend.generate([recipe], media, _in_range)[0] == first
    assert _pixels(first).shape == (SIZE, SIZE, 3)
    other = backend.generate([recipe.model_copy(update={"seed": 8})], media, _in_range)[0]
    assert np.abs(_pixels(other) - _pixels(first)).mean() > 1


def test_on_the_cpu_takes_are_made_one_by_one_and_match_byte_for_byte(models, media) -> None:
    backend = _sd15(models)
    recipes = [_recipe(media, seed=seed) for seed in (3, 1)]
    batches: list[int] = []
    backend.pipeline(recipes[0]).unet.register_forward_pre_hook(lambda _, args: batches.append(args[0].shape[0]))
    together = backend.generate(recipes, media, _in_range)
    assert batches == [2, 2, 2, 2]  # each take alone (with and without the prompt), 2 steps each
    assert together == [backend.generate([r], media, _in_range)[0] for r in recipes]


def test_takes_of_a_shot_share_one_call_and_match_single_calls(models, media) -> None:
    backend = _sd15(models, batch_on_cpu=True)
    recipes = [_recipe(media, seed=seed) for seed in (3, 1, 4)]
    alone = _alone(backend, recipes, media)
    batches: list[int] = []
    pipe = backend.pipeline(recipes[0])
    pipe.unet.register_forward_pre_hook(lambda _, args: batches.append(args[0].shape[0]))
    fractions: list[float] = []
    together = backend.generate(recipes, media, fractions.append)
    _same_takes(together, alone)
    assert batches == [2 * len(recipes)] * 2  # one call: 3 images, with and without the prompt, 2 steps
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= 2
    # A different prompt cannot share the call; the order of the outputs is the recipes'.
    mixed = [recipes[0], _recipe(media, seed=3, prompt="the lamp room, night"), recipes[2]]
    batches.clear()
    outputs = backend.generate(mixed, media, _in_range)
    _same_takes([outputs[0], outputs[2]], [alone[0], alone[2]])
    assert np.abs(_pixels(outputs[1]) - _pixels(alone[0])).mean() > 1
    assert batches == [4, 4, 2, 2]


def test_depth_and_lineart_reach_their_controlnets(models, media) -> None:
    backend = _sd15(models)
    recipe = _recipe(media)
    seen = _controlnet_inputs(backend.pipeline(recipe))
    baseline = backend.generate([recipe], media, _in_range)[0]
    depth, lineart = seen[0][0][0], seen[1][0][0]
    # 16-bit depth arrives scaled to 0..1 (not clipped at 255), line art as drawn.
    expected_depth = np.asarray(_depth(), dtype=np.float64) / 65535
    assert np.allclose(depth.numpy(), expected_depth[None].repeat(3, 0), atol=1 / 255)
    assert np.array_equal(lineart[0].numpy(), np.asarray(_lineart()) / 255)

    closer = _recipe(media, conditioning={**recipe.conditioning, DEPTH: media.put(_depth(radius=14))})
    moved = _recipe(media, conditioning={**recipe.conditioning, LINEART: media.put(_lineart(column=25))})
    for changed in (closer, moved):
        assert backend.generate([changed], media, _in_range)[0] != baseline
    # Without ControlNets the same recipe is another image: the passes really steered it.
    plain = _sd15(models, controlnets=[]).generate([recipe], media, _in_range)[0]
    assert plain != baseline


def test_strength_makes_img2img_from_the_storyboard(models, media) -> None:
    backend = _sd15(models)
    text = _recipe(media)
    img2img = _recipe(media, strength=0.5)
    assert type(backend.pipeline(text)).__name__ == "StableDiffusionControlNetPipeline"
    assert type(backend.pipeline(img2img)).__name__ == "StableDiffusionControlNetImg2ImgPipeline"
    made = backend.generate([text, img2img], media, _in_range)
    assert made[0] != made[1]
    repainted = _recipe(
        media, strength=0.5, conditioning={**img2img.conditioning, STORYBOARD: media.put(_storyboard(6))}
    )
    assert backend.generate([repainted], media, _in_range)[0] != made[1]
    # Batched img2img gives each image its own encoding noise, as alone.
    seeds = [img2img.model_copy(update={"seed": s}) for s in (1, 2)]
    _same_takes(backend.generate(seeds, media, _in_range), _alone(backend, seeds, media))
    # Strength 0 keeps the storyboard.
    kept = backend.generate([_recipe(media, strength=0.0)], media, _in_range)[0]
    assert np.array_equal(_pixels(kept), np.asarray(_storyboard(), dtype=np.int16))


def test_reference_sheets_steer_through_the_ip_adapter(models, media) -> None:
    adapter = IPAdapterSettings(
        model=str(models["ip_adapter"]), weight_name=tiny.IP_ADAPTER_WEIGHTS, image_encoder="image_encoder", scale=1.0
    )
    backend = _sd15(models, ip_adapter=adapter)
    without = _recipe(media)
    sheets = {"reference:MAISIE": media.put(_sheet(1)), "reference:MAISIE:1": media.put(_sheet(2))}
    with_sheets = _recipe(media, conditioning={**without.conditioning, **sheets})
    pipe = backend.pipeline(with_sheets)
    encoded: list[int] = []
    pipe.image_encoder.register_forward_pre_hook(lambda _, args: encoded.append(args[0].shape[0]))

    made = backend.generate([with_sheets], media, _in_range)[0]
    assert encoded == [2]  # both sheets went through the image encoder
    other_sheet = _recipe(media, conditioning={**with_sheets.conditioning, "reference:MAISIE:1": media.put(_sheet(3))})
    assert backend.generate([other_sheet], media, _in_range)[0] != made
    # A shot with no character sheets is made exactly as with no adapter at all.
    assert backend.generate([without], media, _in_range)[0] == _sd15(models).generate([without], media, _in_range)[0]
    assert made != _sd15(models).generate([with_sheets], media, _in_range)[0]
    assert backend.prepare(with_sheets).options["ip_adapter"]["weight_name"] == tiny.IP_ADAPTER_WEIGHTS
    # img2img carries the adapter too (the twin pipeline shares the UNet and the encoder).
    assert backend.generate([with_sheets.model_copy(update={"strength": 0.5})], media, _in_range)[0] != made


def test_sdxl_union_controlnet_reads_both_passes(models, media) -> None:
    union = ControlNetSettings(model=str(models["sdxl_union"]), control="union")
    backend = DiffusersBackend(
        DiffusersSettings(model=str(models["sdxl"]), device="cpu", controlnets=[union], batch_on_cpu=True)
    )
    recipe = _recipe(media)
    pipe = backend.pipeline(recipe)
    assert type(pipe).__name__ == "StableDiffusionXLControlNetUnionPipeline"
    modes: list[torch.Tensor] = []
    pipe.controlnet.register_forward_pre_hook(
        lambda _, args, kwargs: modes.append(kwargs["control_type"][0]), with_kwargs=True
    )
    made = backend.generate([recipe], media, _in_range)[0]
    assert modes[0].nonzero().flatten().tolist() == [1, 3]  # depth and line art, in the union's numbering
    assert backend.prepare(recipe).steps == 2 and backend.prepare(_recipe(media, steps=0)).guidance == 5.0
    closer = _recipe(media, conditioning={**recipe.conditioning, DEPTH: media.put(_depth(radius=14))})
    assert backend.generate([closer], media, _in_range)[0] != made
    seeds = [recipe.model_copy(update={"seed": s}) for s in (5, 6)]
    _same_takes(backend.generate(seeds, media, _in_range), _alone(backend, seeds, media))
    assert backend.generate([_recipe(media, strength=0.5)], media, _in_range)[0] != made


def test_flux_with_a_union_controlnet(models, media) -> None:
    union = ControlNetSettings(model=str(models["flux_union"]), control="union", modes={"lineart": 5})
    backend = DiffusersBackend(DiffusersSettings(model=str(models["flux"]), device="cpu", controlnets=[union]))
    recipe = _recipe(media)
    pipe = backend.pipeline(recipe)
    assert type(pipe).__name__ == "FluxControlNetPipeline"
    modes: list[int] = []
    pipe.controlnet.nets[0].register_forward_pre_hook(
        lambda _, args, kwargs: modes.append(int(kwargs["controlnet_mode"][0])), with_kwargs=True
    )
    made = backend.generate([recipe], media, _in_range)[0]
    assert modes[:2] == [2, 5]  # one run per pass: depth (2), line art as configured (5)
    assert backend.generate([recipe], media, _in_range)[0] == made
    closer = _recipe(media, conditioning={**recipe.conditioning, LINEART: media.put(_lineart(column=25))})
    assert backend.generate([closer], media, _in_range)[0] != made
    seeds = [recipe.model_copy(update={"seed": s}) for s in (5, 6)]
    _same_takes(backend.generate(seeds, media, _in_range), _alone(backend, seeds, media))
    assert type(backend.pipeline(_recipe(media, strength=0.5))).__name__ == "FluxControlNetImg2ImgPipeline"
    assert backend.generate([_recipe(media, strength=0.5)], media, _in_range)[0] != made
    plain = DiffusersBackend(DiffusersSettings(model=str(models["flux"]), device="cpu"))
    assert type(plain.pipeline(_recipe(media, strength=0.5))).__name__ == "FluxImg2ImgPipeline"
    assert len({made, *plain.generate([recipe, _recipe(media, strength=0.5)], media, _in_range)}) == 3
    assert plain.prepare(_recipe(media, steps=0)).steps == 28


def test_a_hub_id_loads_from_the_local_cache_only(models, media, tmp_path) -> None:
    cache = tmp_path / "hub"
    commit = "0" * 40
    snapshot = cache / "models--studio--tiny-sd15" / "snapshots" / commit
    shutil.copytree(models["sd15"], snapshot)
    (cache / "models--studio--tiny-sd15" / "refs").mkdir()
    (cache / "models--studio--tiny-sd15" / "refs" / "main").write_text(commit)
    backend = _sd15(models, model="studio/tiny-sd15", controlnets=[], hub_cache=str(cache))
    prepared = backend.prepare(_recipe(media))
    assert prepared.model == "studio/tiny-sd15"
    assert prepared.weights_sha256 == _sd15(models, controlnets=[]).prepare(_recipe(media)).weights_sha256
    assert backend.generate([prepared], media, _in_range)[0][:8] == b"\x89PNG\r\n\x1a\n"
    missing = _sd15(models, model="studio/not-downloaded", hub_cache=str(cache))
    with pytest.raises(GenerateError, match=r"not available offline"):
        missing.prepare(_recipe(media))


def _one_line_error(backend: DiffusersBackend, recipe: Recipe, media: Media, pattern: str) -> None:
    with pytest.raises(GenerateError, match=pattern) as caught:
        backend.generate([recipe], media, _in_range)
    assert "\n" not in str(caught.value)


def test_errors_are_one_line_and_say_what_and_where(models, media, tmp_path, monkeypatch) -> None:
    recipe = _recipe(media)
    _one_line_error(_sd15(models, model=str(tmp_path / "nowhere")), recipe, media, r"nowhere does not exist")
    broken = tmp_path / "broken"
    shutil.copytree(models["sd15"], broken)
    (broken / "model_index.json").write_text("{ not json")
    _one_line_error(
        _sd15(models, model=str(broken)), recipe, media, r"broken/model_index.json: not a diffusers model index"
    )
    (broken / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusion3Pipeline"}))
    _one_line_error(
        _sd15(models, model=str(broken)), recipe, media, r"'StableDiffusion3Pipeline' is not one this backend"
    )
    no_depth = _recipe(media, conditioning={LINEART: recipe.conditioning[LINEART]})
    _one_line_error(
        _sd15(models), no_depth, media, r"^shot 12A: the recipe has no 'depth' image, which the depth ControlNet"
    )
    no_board = _recipe(
        media, strength=0.4, conditioning={DEPTH: recipe.conditioning[DEPTH], LINEART: recipe.conditioning[LINEART]}
    )
    _one_line_error(_sd15(models), no_board, media, r"^shot 12A: the recipe has no 'storyboard' image, which img2img")
    _one_line_error(_sd15(models), _recipe(media, width=33), media, r"^shot 12A: 33x32 is not a multiple of 2 pixels")
    _one_line_error(_sd15(models), _recipe(media, frames=9), media, r"^shot 12A: the diffusers backend makes stills")
    _one_line_error(
        _sd15(models), _recipe(media, options={"controlnet_scale": "lots"}), media, r"recipe option controlnet_scale"
    )
    sd15_union = [ControlNetSettings(model=str(models["depth"]), control="union")]
    _one_line_error(_sd15(models, controlnets=sd15_union), recipe, media, r"no union ControlNet pipeline for SD 1.5$")
    flux_ip = IPAdapterSettings(model=str(models["ip_adapter"]), weight_name=tiny.IP_ADAPTER_WEIGHTS)
    flux = DiffusersBackend(DiffusersSettings(model=str(models["flux"]), device="cpu", ip_adapter=flux_ip))
    _one_line_error(flux, recipe, media, r"IP-Adapter is wired for SD 1.5 and SDXL only, not Flux$")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the test must hold on a GPU machine too
    _one_line_error(_sd15(models, device="cuda"), recipe, media, r"device is cuda, but torch .* sees no CUDA GPU")
    with pytest.raises(ValueError, match="union ControlNet reads every pass itself"):
        DiffusersSettings(
            controlnets=[ControlNetSettings(model="a", control="union"), ControlNetSettings(model="b", control="depth")]
        )


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_half_precision_on_the_gpu(models, media) -> None:
    backend = _sd15(models, device="cuda")
    recipe = _recipe(media)
    prepared = backend.prepare(recipe)
    assert prepared.options["dtype"] == "float16"
    assert backend.pipeline(recipe).unet.dtype == torch.float16
    made = backend.generate([recipe], media, _in_range)
    assert backend.generate([recipe], media, _in_range) == made
    seeds = [recipe.model_copy(update={"seed": s}) for s in (1, 2)]
    _same_takes(backend.generate(seeds, media, _in_range), _alone(backend, seeds, media))
