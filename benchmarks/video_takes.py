"""Video takes: frames per second of the diffusers_video backend against plain diffusers.

Both sides load the same pipeline folder in the same run and make the same clips: one shot's
takes (different seeds), each directed by the same previs depth clip (and, for AnimateDiff,
the same line-art clip through a second ControlNet), at the same size, frame count, steps and
guidance, one take per pipeline call on both sides (neither family's diffusers pipeline
batches videos: see generate/diffusers_video.py).

- plain diffusers: the pipeline class ``from_pretrained`` in the device's dtype, ``.to(device)``,
  called with the control frames as PIL images, as the diffusers documentation shows it;
- Soundstage: ``DiffusersVideoBackend.generate`` from recipes: the previs clips decoded from
  the media store's bytes, the channels-last layout (AnimateDiff), optionally ``torch.compile``
  (``--compile``), and each take written as its MP4 clip. Its time includes all of that.

Models, built here with random weights and saved with ``save_pretrained`` (nothing is
downloaded; a network's speed does not depend on its weights):

- on the CPU (``--scale tiny``, the default without CUDA): the tiny pipelines of the test
  suite's shape, 32x32, for correctness of the comparison, not for speed;
- on a GPU (``--scale published``, the default with CUDA): Wan2.1-VACE-1.3B's transformer and
  Wan 2.1's VAE with their published configurations (the UMT5 text encoder cut to 2 layers:
  it runs once per take), and SD 1.5 with the AnimateDiff v1.5 motion adapter and SD 1.5
  ControlNets, in bfloat16 and float16.

The sides take turns for ``--rounds`` rounds (the median round counts), so load from others on
a shared machine falls on each alike. Prints one markdown table row per side and family, with
the machine.

Run: ``.venv/bin/python benchmarks/video_takes.py [--family both] [--takes 3] [--compile]``
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import torch
from diffusers import (
    AnimateDiffControlNetPipeline,
    AutoencoderKL,
    AutoencoderKLWan,
    ControlNetModel,
    DDIMScheduler,
    FlowMatchEulerDiscreteScheduler,
    MotionAdapter,
    MultiControlNetModel,
    UNet2DConditionModel,
    WanVACEPipeline,
    WanVACETransformer3DModel,
)
from PIL import Image
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer, T5Tokenizer, UMT5Config, UMT5EncoderModel

import soundstage
from soundstage.generate import clips
from soundstage.generate.backend import DEPTH, LINEART, Recipe
from soundstage.generate.diffusers import ControlNetSettings
from soundstage.generate.diffusers_video import DiffusersVideoBackend, DiffusersVideoSettings, unload

PROMPT = "a lighthouse keeper crosses the lamp room at dusk, storm outside, warm lamp light"
NEGATIVE = "blurry, text, watermark"

# Wan-AI/Wan2.1-VACE-1.3B-diffusers transformer/config.json; Wan 2.1's VAE is AutoencoderKLWan's default.
WAN_TRANSFORMER = {
    "patch_size": [1, 2, 2], "num_attention_heads": 12, "attention_head_dim": 128, "in_channels": 16,
    "out_channels": 16, "text_dim": 4096, "freq_dim": 256, "ffn_dim": 8960, "num_layers": 30,
    "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads", "eps": 1e-6, "rope_max_seq_len": 1024,
    "vace_layers": list(range(0, 30, 2)), "vace_in_channels": 96,
}  # fmt: skip
WAN_TEXT = {"d_model": 4096, "d_kv": 64, "d_ff": 10240, "num_layers": 2, "num_heads": 64}
TINY_WAN_TRANSFORMER = {
    "patch_size": [1, 2, 2], "num_attention_heads": 2, "attention_head_dim": 12, "in_channels": 16,
    "out_channels": 16, "text_dim": 32, "freq_dim": 256, "ffn_dim": 32, "num_layers": 3, "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads", "rope_max_seq_len": 32, "vace_layers": [0, 2], "vace_in_channels": 96,
}  # fmt: skip
TINY_WAN_VAE = {"base_dim": 8, "z_dim": 16, "dim_mult": [1, 1, 1, 1], "num_res_blocks": 1}
TINY_WAN_TEXT = {"d_model": 32, "d_kv": 8, "d_ff": 37, "num_layers": 1, "num_heads": 4}

# runwayml/stable-diffusion-v1-5 unet and vae configs; guoyww/animatediff-motion-adapter-v1-5-2.
SD15_UNET = {
    "sample_size": 64, "block_out_channels": [320, 640, 1280, 1280], "layers_per_block": 2,
    "cross_attention_dim": 768, "attention_head_dim": 8,
    "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
}  # fmt: skip
SD15_VAE = {
    "block_out_channels": [128, 256, 512, 512], "layers_per_block": 2, "latent_channels": 4,
    "down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4,
}  # fmt: skip
SD15_TEXT = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12}
MOTION = {
    "block_out_channels": [320, 640, 1280, 1280], "motion_layers_per_block": 2, "motion_num_attention_heads": 8,
    "motion_norm_num_groups": 32, "motion_max_seq_length": 32, "use_motion_mid_block": True,
}  # fmt: skip
TINY_UNET = {
    "sample_size": 16, "block_out_channels": [8, 16], "layers_per_block": 1, "cross_attention_dim": 32,
    "attention_head_dim": 4, "norm_num_groups": 4, "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
}  # fmt: skip
TINY_VAE = {
    "block_out_channels": [8, 16], "layers_per_block": 1, "latent_channels": 4, "norm_num_groups": 4,
    "down_block_types": ["DownEncoderBlock2D"] * 2, "up_block_types": ["UpDecoderBlock2D"] * 2,
}  # fmt: skip
TINY_TEXT = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4}
TINY_MOTION = {
    "block_out_channels": [8, 16], "motion_layers_per_block": 1, "motion_num_attention_heads": 2,
    "motion_norm_num_groups": 4, "motion_max_seq_length": 32,
}  # fmt: skip


def _t5_tokenizer() -> T5Tokenizer:
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    return T5Tokenizer(vocab=vocab + [(chr(c), -3.0) for c in range(ord("a"), ord("z") + 1)], extra_ids=0)


def _clip_tokenizer() -> CLIPTokenizer:
    """CLIP's byte-level vocabulary with no merges: every prompt tokenises, 77 tokens as the real one."""
    chars = [chr(c) for c in range(ord("!"), ord("~") + 1)] + [" "]
    tokens = ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]
    return CLIPTokenizer(vocab={t: i for i, t in enumerate(tokens)}, merges=[], model_max_length=77)


def build_wan(folder: Path, published: bool, device: str) -> Path:
    """A Wan VACE pipeline with random weights, saved in ``folder``."""
    torch.manual_seed(0)
    text = WAN_TEXT if published else TINY_WAN_TEXT
    tokenizer = _t5_tokenizer()
    with torch.device(device):  # initialise on the GPU: much faster than on the CPU
        pipe = WanVACEPipeline(
            transformer=WanVACETransformer3DModel(**(WAN_TRANSFORMER if published else TINY_WAN_TRANSFORMER)),
            vae=AutoencoderKLWan(**({} if published else TINY_WAN_VAE)),
            scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
            text_encoder=UMT5EncoderModel(UMT5Config(vocab_size=len(tokenizer), **text)),
            tokenizer=tokenizer,
        )
    if published:  # saved in the precision it runs in: half the disk and the loading time
        pipe.to(torch.bfloat16)
    pipe.save_pretrained(folder)
    return folder


def build_animatediff(root: Path, published: bool, device: str) -> tuple[Path, list[Path]]:
    """An SD 1.5 pipeline with a motion adapter saved as one AnimateDiff folder, and two ControlNets."""
    torch.manual_seed(0)
    tokenizer = _clip_tokenizer()
    special = {"bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 1, "max_position_embeddings": 77}
    with torch.device(device):
        unet = UNet2DConditionModel(**(SD15_UNET if published else TINY_UNET))
        # The hint encoder halves the control image as often as the VAE does (3 times for SD 1.5, once tiny).
        hint = {} if published else {"conditioning_embedding_out_channels": (8, 16)}
        nets = [ControlNetModel.from_unet(unet, **hint) for _ in range(2)]
        pipe = AnimateDiffControlNetPipeline(
            unet=unet,
            motion_adapter=MotionAdapter(**(MOTION if published else TINY_MOTION)),
            controlnet=nets[0],
            vae=AutoencoderKL(**(SD15_VAE if published else TINY_VAE)),
            text_encoder=CLIPTextModel(
                CLIPTextConfig(vocab_size=len(tokenizer), **special, **(SD15_TEXT if published else TINY_TEXT))
            ),
            tokenizer=tokenizer,
            scheduler=DDIMScheduler(beta_schedule="linear", beta_start=0.00085, beta_end=0.012, clip_sample=False),
        )
    if published:
        pipe.to(torch.float16)
    pipe.save_pretrained(root / "animatediff")
    paths = []
    for name, net in zip(("controlnet_depth", "controlnet_lineart"), nets, strict=True):
        (net.to(torch.float16) if published else net).save_pretrained(root / name)
        paths.append(root / name)
    return root / "animatediff", paths


class _Media:
    """The previs clips by sha256, as the media store hands them to backends."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self.blobs[sha] = data
        return sha

    def read(self, sha256: str) -> bytes:
        return self.blobs[sha256]


def previs(width: int, height: int, frames: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A figure crossing the frame: 16-bit depth and line-art frames."""
    y, x = np.mgrid[0:height, 0:width]
    depth, lines = [], []
    for frame in range(frames):
        centre = width * (0.2 + 0.6 * frame / max(frames - 1, 1))
        near = (x - centre) ** 2 + (y - height / 2) ** 2 < (height / 4) ** 2
        depth.append(np.where(near, 60000, 9000).astype(np.uint16))
        edge = np.abs(np.hypot(x - centre, y - height / 2) - height / 4) < 1.5
        lines.append(np.repeat(np.where(edge, 255, 0).astype(np.uint8)[..., None], 3, axis=2))
    return depth, lines


def _timed(make: Callable[[], Any], device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    make()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def plain(
    family: str, folder: Path, nets: list[Path], call: dict[str, Any], steps: int, seeds: list[int], device: str
) -> Callable[[], None]:
    """Plain diffusers making one clip per seed, loaded and warmed up: the work to time."""
    dtype = torch.float32 if device == "cpu" else (torch.bfloat16 if family == "wan" else torch.float16)
    if family == "wan":
        vae = AutoencoderKLWan.from_pretrained(folder, subfolder="vae", torch_dtype=torch.float32)
        pipe = WanVACEPipeline.from_pretrained(folder, vae=vae, torch_dtype=dtype)
    else:
        controlnet = MultiControlNetModel([ControlNetModel.from_pretrained(path, torch_dtype=dtype) for path in nets])
        pipe = AnimateDiffControlNetPipeline.from_pretrained(folder, controlnet=controlnet, torch_dtype=dtype)
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)

    def make(some: list[int], steps: int) -> None:
        for seed in some:
            generator = torch.Generator("cpu").manual_seed(seed)
            pipe(**call, num_inference_steps=steps, generator=generator, output_type="np")

    make(seeds[:1], 2)
    return lambda: make(seeds, steps)


def soundstage_backend(
    settings: DiffusersVideoSettings, recipe: Recipe, seeds: list[int], media: _Media
) -> Callable[[], None]:
    """The backend making the same clips from recipes, loaded and warmed up (compiled): the work to time."""
    backend = DiffusersVideoBackend(settings)
    backend.generate([backend.prepare(recipe.model_copy(update={"steps": 2}))], media, lambda f: None)
    recipes = [backend.prepare(recipe.model_copy(update={"seed": seed})) for seed in seeds]
    return lambda: backend.generate(recipes, media, lambda f: None)


def bench(family: str, args: argparse.Namespace, published: bool, device: str, root: Path) -> None:
    """One family: its previs clips, the timed sides (unless --io-only) and the clip I/O, printed as rows."""
    seeds = list(range(1, args.takes + 1))
    size = args.size or (("832x480" if family == "wan" else "512x512") if published else "32x32")
    width, height = (int(n) for n in size.split("x"))
    frames = args.frames or ((33 if family == "wan" else 16) if published else 9)
    steps = args.steps or (20 if published else 4)
    depth, lines = previs(width, height, frames)
    media = _Media()
    conditioning = {
        DEPTH: media.put(clips.write_clip(depth, Fraction(24), lossless=True)),
        LINEART: media.put(clips.write_clip(lines, Fraction(24), lossless=True)),
    }
    recipe = Recipe(
        shot="1A", backend="diffusers_video", prompt=PROMPT, negative_prompt=NEGATIVE, steps=steps, guidance=5.0,
        width=width, height=height, frames=frames, fps="24", conditioning=conditioning,
    )  # fmt: skip
    if not args.io_only:
        time_sides(family, args, published, device, root, recipe, media, depth, lines, seeds)
    # What the backend adds to the pipeline's work for each take, on the CPU whatever the device:
    # decoding the previs passes and writing the take's MP4.
    passes = [DEPTH, LINEART] if family == "animatediff" else [DEPTH]

    def clip_io() -> None:
        for role in passes:
            clip = clips.read_clip(media.read(conditioning[role]), role)
            clips.pass_frames(clip, frames, Fraction(24), role)
        clips.write_take([clips.rgb8(d) for d in depth], Fraction(24))

    io_seconds = statistics.median(_timed(clip_io, "cpu") for _ in range(args.rounds)) * len(seeds)
    print(
        f"| {family} | clip I/O alone (read {len(passes)} pass{'es' * (len(passes) > 1)}, write the MP4) | {width}x{height} | "
        f"{frames} x {len(seeds)} | | {io_seconds:.2f} | {frames * len(seeds) / io_seconds:.1f} | |",
        flush=True,
    )


def time_sides(
    family: str,
    args: argparse.Namespace,
    published: bool,
    device: str,
    root: Path,
    recipe: Recipe,
    media: _Media,
    depth: list[np.ndarray],
    lines: list[np.ndarray],
    seeds: list[int],
) -> None:
    """Build the family's pipeline, time plain diffusers and the backend on it, print their rows."""
    width, height, frames, steps = recipe.width, recipe.height, recipe.frames, recipe.steps
    if family == "wan":
        folder, nets = build_wan(root / "wan_vace", published, device), []
    else:
        folder, nets = build_animatediff(root, published, device)
    if device == "cuda":
        torch.cuda.empty_cache()
    control = [Image.fromarray(clips.rgb8(d)) for d in depth]
    call: dict[str, Any] = {
        "prompt": PROMPT, "negative_prompt": NEGATIVE, "width": width, "height": height, "num_frames": frames,
        "guidance_scale": 5.0,
    }  # fmt: skip
    if family == "wan":
        call.update(video=control, conditioning_scale=0.8)
    else:
        line_frames = [Image.fromarray(f) for f in lines]
        call.update(conditioning_frames=[control, line_frames], controlnet_conditioning_scale=[0.8, 0.8])
    nets_settings = [
        ControlNetSettings(model=str(path), control=control)
        for path, control in zip(nets, ("depth", "lineart"), strict=False)
    ]
    settings = DiffusersVideoSettings(model=str(folder), device=device, controlnets=nets_settings)
    sides: dict[str, Callable[[], None]] = {
        "plain diffusers": plain(family, folder, nets, call, steps, seeds, device),
        "Soundstage" + (" (channels-last)" if family == "animatediff" else ""): soundstage_backend(
            settings, recipe, seeds, media
        ),
    }
    if args.compile:
        compiled = settings.model_copy(update={"compile": True})
        sides["Soundstage + torch.compile"] = soundstage_backend(compiled, recipe, seeds, media)
    # The sides take turns, round after round, so a neighbour's load on a shared machine falls
    # on every side alike; each side's median round is reported.
    times: dict[str, list[float]] = {label: [] for label in sides}
    for _ in range(args.rounds):
        for label, make in sides.items():
            times[label].append(_timed(make, device))
    baseline = None
    for label, seconds in times.items():
        median = statistics.median(seconds)
        rate = frames * len(seeds) / median
        baseline = baseline or rate
        print(
            f"| {family} | {label} | {width}x{height} | {frames} x {len(seeds)} | {steps} | {median:.2f} "
            f"({min(seconds):.2f}-{max(seconds):.2f}) | {rate:.2f} | {rate / baseline:.2f}x |",
            flush=True,
        )
    unload()


def main() -> None:
    """Time every family and side, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=("wan", "animatediff", "both"), default="both")
    parser.add_argument("--scale", choices=("tiny", "published"), default=None, help="default: published on CUDA")
    parser.add_argument("--takes", type=int, default=3, help="takes (seeds) per side")
    parser.add_argument("--frames", type=int, default=None, help="default: 33 (Wan), 16 (AnimateDiff); 9 tiny")
    parser.add_argument("--steps", type=int, default=None, help="default: 20; 4 tiny")
    parser.add_argument("--size", default=None, help="WxH; default: 832x480 (Wan), 512x512 (AnimateDiff); 32x32 tiny")
    parser.add_argument("--compile", action="store_true", help="also time the backend with torch.compile")
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed rounds per side, taken in turns; the median counts"
    )
    parser.add_argument("--io-only", action="store_true", help="time only the clip I/O (no model): any size on a CPU")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    published = (args.scale or ("published" if device == "cuda" else "tiny")) == "published"
    machine = (
        torch.cuda.get_device_name()
        if device == "cuda"
        else f"{platform.machine()}, {torch.get_num_threads()} CPU threads"
    )
    print(
        f"machine: {machine}, torch {torch.__version__}, diffusers {diffusers.__version__}, Soundstage {soundstage.__version__}"
    )
    print()
    print(
        f"| family | side | size | frames x takes | steps | seconds, median ({args.rounds} rounds: min-max) | frames/s | vs plain |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    families = ("wan", "animatediff") if args.family == "both" else (args.family,)
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        # Random weights can overflow in half precision; the time is the same, only the pixels are noise.
        warnings.filterwarnings("ignore", "invalid value encountered in cast")
        warnings.filterwarnings("ignore", category=FutureWarning)
        for family in families:
            bench(family, args, published, device, Path(scratch) / family)


if __name__ == "__main__":
    main()
