"""SDXL takes per second on a CUDA GPU: plain diffusers against the Soundstage backend.

Both sides load the same pipeline folder in the same run: the SDXL base architecture (the
published UNet, VAE and text-encoder configs) with random weights, built here and saved
with ``save_pretrained``, so nothing is downloaded and no licence is involved; the speed of
a network does not depend on its weights. Each side makes the same images: 1024x1024,
30 steps, one shot's takes with different seeds.

- plain diffusers: ``StableDiffusionXLPipeline`` in float16, one image per call, as the
  diffusers documentation shows it;
- Soundstage: ``DiffusersBackend.generate`` with the takes of one shot batched into one call,
  channels-last, PyTorch's fused attention, and optionally ``torch.compile``.

Prints a markdown table row per side, with the machine. Needs a CUDA GPU; exits with a
message without one.

Run: ``.venv/bin/python benchmarks/sdxl_gpu.py [--images 8] [--batch 4] [--compile]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

import soundstage
from soundstage.generate.backend import Recipe
from soundstage.generate.diffusers import DiffusersBackend, DiffusersSettings, unload

PROMPT = "a lighthouse keeper climbs the spiral stairs at dusk, storm outside, warm lamp light"

# stabilityai/stable-diffusion-xl-base-1.0, unet/config.json (what decides the work, not the weights).
SDXL_UNET = {
    "sample_size": 128,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [320, 640, 1280],
    "layers_per_block": 2,
    "transformer_layers_per_block": [1, 2, 10],
    "attention_head_dim": [5, 10, 20],
    "cross_attention_dim": 2048,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
}
SDXL_VAE = {
    "sample_size": 1024,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "layers_per_block": 2,
    "scaling_factor": 0.13025,
    "force_upcast": True,
}
# CLIP ViT-L/14 and OpenCLIP ViT-bigG/14 text towers.
SDXL_TEXT = (
    {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
     "hidden_act": "quick_gelu", "projection_dim": 768},
    {"hidden_size": 1280, "intermediate_size": 5120, "num_hidden_layers": 32, "num_attention_heads": 20,
     "hidden_act": "gelu", "projection_dim": 1280},
)  # fmt: skip


def build_sdxl(
    folder: Path, device: str, unet: dict = SDXL_UNET, vae: dict = SDXL_VAE, text: tuple = SDXL_TEXT
) -> Path:
    """An SDXL pipeline with random float16 weights, saved in ``folder``."""
    # A tokenizer that knows only its special tokens: prompts still become 77 tokens each,
    # which is all the text encoders' cost depends on.
    tokenizer = CLIPTokenizer(model_max_length=77)
    special = {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id, "pad_token_id": 0}
    texts = [CLIPTextConfig(vocab_size=49408, max_position_embeddings=77, **special, **config) for config in text]
    torch.manual_seed(0)
    with torch.device(device):  # initialise on the GPU: minutes faster than on the CPU
        pipe = StableDiffusionXLPipeline(
            unet=UNet2DConditionModel(**unet),
            vae=AutoencoderKL(**vae),
            text_encoder=CLIPTextModel(texts[0]),
            text_encoder_2=CLIPTextModelWithProjection(texts[1]),
            tokenizer=tokenizer,
            tokenizer_2=tokenizer,
            scheduler=EulerDiscreteScheduler(
                beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1,
                timestep_spacing="leading",
            ),
        )  # fmt: skip
    pipe.to(torch.float16).save_pretrained(folder)
    return folder


def _timed(make: Callable[[], None], device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    make()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def plain_diffusers(folder: Path, seeds: list[int], size: int, steps: int, device: str) -> float:
    """Seconds for plain diffusers to make one image per seed, one call each (after a warm-up)."""
    pipe = StableDiffusionXLPipeline.from_pretrained(folder, torch_dtype=torch.float16).to(device)
    pipe.set_progress_bar_config(disable=True)

    def make(some: list[int], steps: int) -> None:
        for seed in some:
            generator = torch.Generator(device).manual_seed(seed)
            pipe(PROMPT, width=size, height=size, num_inference_steps=steps, generator=generator)

    make(seeds[:1], 2)
    return _timed(lambda: make(seeds, steps), device)


class _NoInputs:
    """Text-to-image takes read no conditioning images."""

    def read(self, sha256: str) -> bytes:
        raise KeyError(sha256)


def soundstage_backend(
    folder: Path, seeds: list[int], batch: int, size: int, steps: int, device: str, compile: bool
) -> float:
    """Seconds for the Soundstage backend to make the same images, ``batch`` takes per call."""
    settings = DiffusersSettings(model=str(folder), device=device, dtype="float16", compile=compile)
    backend = DiffusersBackend(settings)

    def takes(some: list[int], steps: int) -> list[Recipe]:
        shot = {"shot": "1A", "backend": "diffusers", "prompt": PROMPT, "width": size, "height": size}
        return [backend.prepare(Recipe(**shot, seed=seed, steps=steps)) for seed in some]

    def make(recipes: list[Recipe]) -> None:
        for start in range(0, len(recipes), batch):
            backend.generate(recipes[start : start + batch], _NoInputs(), lambda fraction: None)

    make(takes(seeds[:batch], 2))  # loads, and compiles for this batch shape
    recipes = takes(seeds, steps)
    seconds = _timed(lambda: make(recipes), device)
    unload()
    return seconds


def main() -> None:
    """Build the pipeline, time both sides, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8, help="images per side")
    parser.add_argument("--batch", type=int, default=4, help="takes per call on the Soundstage side")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--compile", action="store_true", help="also time the backend with torch.compile")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit(f"benchmarks/sdxl_gpu.py needs a CUDA GPU, and torch {torch.__version__} sees none")
    device = "cuda"
    seeds = list(range(1, args.images + 1))
    name = torch.cuda.get_device_name()
    import diffusers

    print(
        f"machine: {name}, torch {torch.__version__}, diffusers {diffusers.__version__}, Soundstage {soundstage.__version__}"
    )
    print(
        f"SDXL architecture, random float16 weights, {args.size}x{args.size}, {args.steps} steps, {args.images} images"
    )
    print()
    print("| side | images per call | seconds | images/s | peak GPU GiB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        # Random weights can overflow to NaN in float16; the time is the same, only the pixels are noise.
        warnings.filterwarnings("ignore", "invalid value encountered in cast")
        folder = build_sdxl(Path(scratch) / "sdxl", device)
        torch.cuda.empty_cache()
        sides: list[tuple[str, int, Callable[[], float]]] = [
            ("plain diffusers", 1, lambda: plain_diffusers(folder, seeds, args.size, args.steps, device)),
            (
                "Soundstage (batched, channels-last, SDPA)",
                args.batch,
                lambda: soundstage_backend(folder, seeds, args.batch, args.size, args.steps, device, False),
            ),
        ]
        if args.compile:
            sides.append(
                (
                    "Soundstage + torch.compile",
                    args.batch,
                    lambda: soundstage_backend(folder, seeds, args.batch, args.size, args.steps, device, True),
                )
            )
        for label, per_call, run in sides:
            torch.cuda.reset_peak_memory_stats()
            seconds = run()
            peak = torch.cuda.max_memory_allocated() / 2**30
            print(f"| {label} | {per_call} | {seconds:.1f} | {args.images / seconds:.3f} | {peak:.1f} |", flush=True)


if __name__ == "__main__":
    main()
