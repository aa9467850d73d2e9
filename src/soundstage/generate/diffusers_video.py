"""The ``diffusers_video`` backend: clips made on this machine with Hugging Face diffusers,
directed by the shot's previs clips and the bible's reference sheets.

Two families, told apart by the ``_class_name`` in the model folder's ``model_index.json``:

- Wan VACE (``WanVACEPipeline``): one previs pass (depth or line art, ``control``) is the
  control video, the characters' reference sheets are VACE's reference images. Wan's VAE
  packs 4 frames into one latent after the first, so a take has 4k+1 frames.
- AnimateDiff: a Stable Diffusion 1.5 pipeline with a motion adapter, either saved together
  (``AnimateDiffPipeline``, ``AnimateDiffControlNetPipeline``...) or a plain SD 1.5 folder
  with ``motion_adapter`` set. Each previs pass steers through its ControlNet frame by frame,
  the reference sheets through an IP-Adapter, and a recipe with a strength repaints the
  storyboard clip (video-to-video). The motion module sees at most its context length of
  frames (``motion_max_seq_length``, 32 for the published adapters); with ``context_stride``
  longer clips are made in overlapping windows of that length (FreeNoise).

A recipe the model cannot make (a frame count off Wan's 4k+1, more frames than AnimateDiff's
context, a size off the latent grid) is refused in ``prepare``, at queue time, in one line
that says what would fit. A take is made in one pipeline call of its own: neither family's
diffusers pipeline batches videos (Wan VACE refuses several prompts or videos per prompt;
AnimateDiff's ControlNet pipelines fix one video per call), and a clip's frames already fill
the denoiser's batch. On a GPU the speed comes from half precision, ``torch.compile`` and the
channels-last layout; VAE tiling and slicing and model CPU offload trade speed for memory.

Outputs are MP4 clips at the recipe's rate (``clips.write_take``; a PNG when ``frames`` is 1),
the same bytes for the same recipe on the same machine (CPU noise generators, pinned encoder).
Nothing is downloaded: a model is a local folder or a hub id already in the Hugging Face cache.
"""

from __future__ import annotations

import gc
import inspect
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import diffusers
import numpy as np
import torch
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field
from transformers import CLIPVisionModelWithProjection

from soundstage import __version__
from soundstage.errors import GenerateError
from soundstage.generate import clips
from soundstage.generate.backend import REFERENCE_PREFIX, STORYBOARD, BackendProgress, Inputs, Recipe
from soundstage.generate.diffusers import (
    ControlNetSettings,
    DType,
    IPAdapterSettings,
    auto_dtype,
    conditioning_weights,
    ip_adapter_folders,
    locate,
    pinned_recipe,
    pipeline_class,
    recorded_options,
    torch_device,
    weights_sha256,
)

Offload = Literal["none", "model", "sequential"]
WAN, ANIMATEDIFF = "Wan VACE", "AnimateDiff"


class DiffusersVideoSettings(BaseModel):
    """``[generate.diffusers_video]`` in soundstage.toml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field("Wan-AI/Wan2.1-VACE-1.3B-diffusers", description="local folder or cached hub id")
    motion_adapter: str | None = Field(
        None, description="AnimateDiff motion adapter (folder or hub id) that animates a plain SD 1.5 model"
    )
    control: Literal["depth", "lineart"] = Field("depth", description="Wan VACE: the pass that is its control video")
    control_scale: float = Field(
        0.8, ge=0, le=2, description="how strongly the previs passes steer (VACE scale, ControlNet scale)"
    )
    controlnets: list[ControlNetSettings] = Field(default_factory=list, description="AnimateDiff: one per pass")
    ip_adapter: IPAdapterSettings | None = Field(None, description="AnimateDiff: the reference sheets' adapter")
    context_stride: int | None = Field(
        None,
        ge=1,
        le=64,
        description="AnimateDiff: make clips longer than the motion module's context in overlapping windows "
        "this many frames apart (FreeNoise); unset: refuse them",
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "auto", description="auto: float32 on the CPU; bfloat16 (Wan) or float16 (AnimateDiff) on CUDA"
    )
    steps: int | None = Field(None, ge=1, le=1000, description="default steps; unset: the family's")
    guidance: float | None = Field(None, ge=0, le=50, description="default guidance; unset: the family's")
    channels_last: bool = Field(True, description="channels-last layout for AnimateDiff's convolutional networks")
    compile: bool = Field(False, description="torch.compile the denoiser: worth it on a GPU for many takes")
    vae_tiling: bool = Field(False, description="decode in tiles: less memory for large frames (changes pixels)")
    vae_slicing: bool = Field(False, description="decode a frame batch at a time: less memory")
    offload: Offload = Field("none", description="CUDA only: keep models in CPU memory until used (model | sequential)")
    hub_cache: str | None = Field(None, description="Hugging Face cache folder; unset: the usual one")


class _Recorded(BaseModel):
    """What ``prepare`` writes into ``recipe.options``, so a stored recipe makes the same clip
    after the settings change. Other keys artists put there are kept and ignored."""

    model_config = ConfigDict(extra="allow")

    family: Literal["Wan VACE", "AnimateDiff"]
    dtype: DType
    control_scale: float = Field(ge=0, le=2)
    vae_tiling: bool
    control: Literal["depth", "lineart"] | None = None  # Wan VACE
    motion_adapter: str | None = None  # AnimateDiff
    controlnets: list[ControlNetSettings] = Field(default_factory=list)
    ip_adapter: IPAdapterSettings | None = None
    context_stride: int | None = Field(None, ge=1, le=64)  # AnimateDiff: FreeNoise windows this far apart
    weights: dict[str, str] = Field(default_factory=dict)  # model id -> sha256 of each extra network


@dataclass(frozen=True)
class _Family:
    """One kind of video model: the pipeline classes it is saved as and its usual settings."""

    name: str
    saved_as: frozenset[str]
    steps: int
    guidance: float
    cuda_dtype: DType


_FAMILIES = (
    _Family(WAN, frozenset({"WanVACEPipeline"}), steps=30, guidance=5.0, cuda_dtype="bfloat16"),
    _Family(
        ANIMATEDIFF,
        frozenset(
            {
                "AnimateDiffPipeline",
                "AnimateDiffControlNetPipeline",
                "AnimateDiffVideoToVideoPipeline",
                "AnimateDiffVideoToVideoControlNetPipeline",
            }
        ),
        steps=25,
        guidance=7.5,
        cuda_dtype="float16",
    ),
)
# AnimateDiff pipelines by (ControlNets?, video-to-video?).
_ANIMATEDIFF_PIPELINES = {
    (False, False): "AnimateDiffPipeline",
    (False, True): "AnimateDiffVideoToVideoPipeline",
    (True, False): "AnimateDiffControlNetPipeline",
    (True, True): "AnimateDiffVideoToVideoControlNetPipeline",
}


def _family(folder: Path, motion_adapter: str | None) -> _Family:
    """The video family of the pipeline in ``folder``; one line when it is none this backend drives."""
    class_name = pipeline_class(folder)
    for family in _FAMILIES:
        if class_name in family.saved_as:
            return family
    index = folder / "model_index.json"
    if class_name == "StableDiffusionPipeline":
        if motion_adapter:
            return _FAMILIES[1]
        raise GenerateError(
            f"{index}: {class_name} makes stills; set [generate.diffusers_video] motion_adapter to animate it "
            "with AnimateDiff, or make its takes with the diffusers backend"
        )
    raise GenerateError(
        f"{index}: pipeline class {class_name!r} is not a video pipeline this backend drives "
        "(WanVACEPipeline; AnimateDiff, or SD 1.5 with a motion adapter)"
    )


def _config(folder: Path, name: str) -> dict[str, Any]:
    path = folder / name / "config.json" if name else folder / "config.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise GenerateError(f"{path}: cannot read the model's configuration ({type(error).__name__})") from None


@dataclass(frozen=True)
class _Grid:
    """What sizes and frame counts a model can make, read from its configuration files."""

    size_multiple: int
    frame_step: int = 1  # Wan: frames - 1 must be a multiple of this
    max_frames: int | None = None  # AnimateDiff: the motion module's context length

    def refusal(self, recipe: Recipe, family: str) -> str | None:
        """Why the recipe's size or frame count cannot be made, or None."""
        frames, where = recipe.frames, f"shot {recipe.shot}"
        if recipe.width % self.size_multiple or recipe.height % self.size_multiple:
            return (
                f"{where}: {recipe.width}x{recipe.height} is not a multiple of {self.size_multiple} pixels, "
                f"which {family} models need"
            )
        if (frames - 1) % self.frame_step:
            below = (frames - 1) // self.frame_step * self.frame_step + 1
            return (
                f"{where}: {family} makes {self.frame_step}k+1 frames and {frames} is not one; "
                f"use {below} or {below + self.frame_step} (--frames)"
            )
        if self.max_frames is not None and frames > self.max_frames:
            return (
                f"{where}: {family}'s motion module takes at most {self.max_frames} frames (its context length); "
                f"the take asks for {frames}: use --frames {self.max_frames} or fewer, or set context_stride "
                "in [generate.diffusers_video] for longer clips"
            )
        return None


def _grid(folder: Path, family: _Family, adapter: Path | None) -> _Grid:
    """The latent grid of the model in ``folder`` (and its motion adapter), from config.json files."""
    if family.name == WAN:
        vae = _config(folder, "vae")
        downsamples = vae.get("temperal_downsample", [False, True, True])  # sic: diffusers' spelling
        patch = _config(folder, "transformer").get("patch_size", [1, 2, 2])
        return _Grid(size_multiple=2 ** len(downsamples) * int(patch[1]), frame_step=2 ** sum(map(bool, downsamples)))
    vae = _config(folder, "vae")
    motion = _config(adapter, "") if adapter else _config(folder, "unet")
    return _Grid(
        size_multiple=2 ** (len(vae.get("block_out_channels", [0] * 4)) - 1),
        max_frames=int(motion.get("motion_max_seq_length", 32)),
    )


@dataclass(frozen=True)
class _Rig:
    """Everything a loaded pipeline depends on: the key of the per-process pipeline cache."""

    family: str
    model: Path
    motion_adapter: Path | None
    controlnets: tuple[Path, ...]
    ip_adapter: tuple[Path, Path, str, str] | None  # adapter folder, image encoder, subfolder, weight file
    device: str
    dtype: DType
    channels_last: bool
    compile: bool
    vae_tiling: bool
    vae_slicing: bool
    offload: Offload
    context_stride: int | None


@dataclass
class _Loaded:
    """A loaded text-to-video pipeline and, made on first use, its video-to-video twin (same modules)."""

    rig: _Rig
    text2video: Any
    video2video: Any = None

    def pipe(self, video2video: bool) -> Any:
        if not video2video:
            return self.text2video
        if self.video2video is None:
            name = _ANIMATEDIFF_PIPELINES[bool(self.rig.controlnets), True]
            self.video2video = getattr(diffusers, name).from_pipe(self.text2video)
            _windows(self.video2video, self.rig)
        return self.video2video


_PIPELINES: dict[_Rig, _Loaded] = {}


def _load(rig: _Rig) -> _Loaded:
    """The pipeline for ``rig``, loaded on first use and kept for the process."""
    if rig in _PIPELINES:
        return _PIPELINES[rig]
    dtype = getattr(torch, rig.dtype)
    components: dict[str, Any] = {}
    try:
        if rig.family == WAN:
            # Wan's VAE is kept in float32 whatever the transformer runs in, as Wan's authors do:
            # its causal 3D convolutions lose detail in half precision.
            components["vae"] = diffusers.AutoencoderKLWan.from_pretrained(
                rig.model, subfolder="vae", dtype=torch.float32, local_files_only=True
            )
            kind = diffusers.WanVACEPipeline
        else:
            if rig.motion_adapter is not None:
                components["motion_adapter"] = diffusers.MotionAdapter.from_pretrained(
                    rig.motion_adapter, dtype=dtype, local_files_only=True
                )
            if rig.controlnets:
                # Wrapped, not a list: a folder saved with one ControlNet inside refuses a list in its place.
                components["controlnet"] = diffusers.MultiControlNetModel(
                    [
                        diffusers.ControlNetModel.from_pretrained(path, dtype=dtype, local_files_only=True)
                        for path in rig.controlnets
                    ]
                )
            if rig.ip_adapter:
                components["image_encoder"] = CLIPVisionModelWithProjection.from_pretrained(
                    rig.ip_adapter[1], dtype=dtype, local_files_only=True
                )
            kind = getattr(diffusers, _ANIMATEDIFF_PIPELINES[bool(rig.controlnets), False])
        pipe = kind.from_pretrained(rig.model, dtype=dtype, local_files_only=True, **components)
        if rig.ip_adapter:
            folder, _, subfolder, weight_name = rig.ip_adapter
            pipe.load_ip_adapter(str(folder), subfolder=subfolder, weight_name=weight_name, image_encoder_folder=None)
    except (OSError, ValueError) as error:
        raise GenerateError(f"{rig.model}: cannot load the pipeline ({str(error).splitlines()[0]})") from None
    if rig.offload != "none" and rig.device == "cuda":
        offload = pipe.enable_model_cpu_offload if rig.offload == "model" else pipe.enable_sequential_cpu_offload
        offload(device=rig.device)
    else:
        pipe.to(rig.device)
    pipe.set_progress_bar_config(disable=True)
    if rig.vae_tiling:
        pipe.vae.enable_tiling()
    if rig.vae_slicing:
        pipe.vae.enable_slicing()
    denoiser = pipe.transformer if rig.family == WAN else pipe.unet
    if rig.channels_last and rig.family == ANIMATEDIFF:
        # The UNet, ControlNets and VAE run 2D convolutions over frames folded into the batch.
        for module in (pipe.unet, pipe.vae, getattr(pipe, "controlnet", None)):
            if module is not None:
                module.to(memory_format=torch.channels_last)
    _windows(pipe, rig)
    if rig.compile:
        denoiser.compile()  # in place, so the pipeline keeps its own module object
    _PIPELINES[rig] = _Loaded(rig, pipe)
    return _PIPELINES[rig]


def _windows(pipe: Any, rig: _Rig) -> None:
    """FreeNoise's overlapping windows of the motion module's context length, when asked for."""
    if rig.context_stride is not None:
        context = pipe.unet.config.motion_max_seq_length  # the motion UNet's, whichever folder it came from
        pipe.enable_free_noise(context_length=context, context_stride=rig.context_stride)


def unload() -> None:
    """Forget every loaded video pipeline, giving their memory back (GPU memory included)."""
    _PIPELINES.clear()
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _frames(inputs: Inputs, recipe: Recipe, role: str, needed_by: str) -> list[Image.Image]:
    """A pass as the take's frames, 8-bit RGB (16-bit depth scaled down); a still is held."""
    sha = recipe.conditioning.get(role)
    what = f"shot {recipe.shot}: the {role} pass"
    if sha is None:
        raise GenerateError(f"shot {recipe.shot}: the recipe has no {role!r} pass, which {needed_by} needs")
    clip = clips.read_clip(inputs.read(sha), what)
    return [Image.fromarray(clips.rgb8(f)) for f in clips.pass_frames(clip, recipe.frames, recipe.frame_rate, what)]


def _sheets(inputs: Inputs, recipe: Recipe) -> list[Image.Image]:
    """The characters' reference sheets, in the order of their roles."""
    roles = sorted(role for role in recipe.conditioning if role.startswith(REFERENCE_PREFIX))
    return [
        Image.fromarray(
            clips.rgb8(clips.read_clip(inputs.read(recipe.conditioning[r]), f"shot {recipe.shot}: {r}").frames[0])
        )
        for r in roles
    ]


class DiffusersVideoBackend:
    """Clips from Wan VACE or AnimateDiff on this machine's CPU or CUDA GPU."""

    name: ClassVar[str] = "diffusers_video"
    version: ClassVar[str] = f"{__version__}+diffusers{diffusers.__version__}"

    def __init__(self, settings: DiffusersVideoSettings | None = None) -> None:
        self.settings = settings or DiffusersVideoSettings()

    def prepare(self, recipe: Recipe) -> Recipe:
        """The recipe with model, weights hash, steps, guidance and the backend's options filled
        in where blank (what the recipe already says wins), after checking that the weights are
        here and unchanged and that the model can make the recipe's frames at its size."""
        settings = self.settings
        model = recipe.model or settings.model
        folder = locate(model, settings.hub_cache)
        adapter_id = recipe.options.get("motion_adapter", settings.motion_adapter)
        family = _family(folder, adapter_id)
        defaults: dict[str, Any] = {
            "family": family.name,
            "dtype": settings.dtype if settings.dtype != "auto" else auto_dtype(family.cuda_dtype, self._device()),
            "control_scale": settings.control_scale,
            "vae_tiling": settings.vae_tiling,
        }
        if family.name == WAN:
            defaults["control"] = settings.control
        else:
            defaults |= {
                "motion_adapter": adapter_id,
                "controlnets": [c.model_dump() for c in settings.controlnets],
                "ip_adapter": settings.ip_adapter.model_dump() if settings.ip_adapter else None,
                "context_stride": settings.context_stride,
            }
        options = recorded_options(
            _Recorded, recipe, {**defaults, **recipe.options, "family": family.name, "weights": {}}
        )
        self._check_fit(recipe, family, options)
        adapter = locate(options.motion_adapter, settings.hub_cache) if options.motion_adapter else None
        grid = _grid(folder, family, adapter)
        if options.context_stride is not None and grid.max_frames is not None:
            if options.context_stride > grid.max_frames:
                raise GenerateError(
                    f"shot {recipe.shot}: context_stride {options.context_stride} is longer than the motion "
                    f"module's context of {grid.max_frames} frames; the windows would not overlap"
                )
            grid = replace(grid, max_frames=None)  # the windows cover any length
        refusal = grid.refusal(recipe, family.name)
        if refusal:
            raise GenerateError(refusal)
        weights = conditioning_weights(options.controlnets, options.ip_adapter, settings.hub_cache)
        if adapter is not None and options.motion_adapter is not None:
            weights[options.motion_adapter] = weights_sha256(adapter)
        guidance = settings.guidance if settings.guidance is not None else family.guidance
        return pinned_recipe(
            recipe, self.version, model, folder, weights, options, settings.steps or family.steps, guidance
        )

    def generate(self, recipes: Sequence[Recipe], inputs: Inputs, progress: BackendProgress) -> list[bytes]:
        """One take per recipe, in order: an MP4 clip (a PNG for one frame), each made in a
        pipeline call of its own (see the module docstring for why not batched)."""
        outputs = []
        for index, recipe in enumerate(recipes):
            prepared = self.prepare(recipe)

            def report(fraction: float, index: int = index) -> None:
                progress((index + fraction) / len(recipes))

            frames = self._clip(prepared, inputs, report)
            outputs.append(clips.write_take(frames, prepared.frame_rate))
            progress((index + 1) / len(recipes))
        return outputs

    def pipeline(self, recipe: Recipe) -> Any:
        """The diffusers pipeline that makes ``recipe``'s take, loaded on first use: for
        benchmarks, and for looking inside."""
        recipe = self.prepare(recipe)
        return self._loaded(recipe)[0].pipe(recipe.strength is not None)

    def _loaded(self, recipe: Recipe) -> tuple[_Loaded, _Recorded]:
        options = recorded_options(_Recorded, recipe, recipe.options)
        return _load(self._rig(recipe, options)), options

    def _clip(self, recipe: Recipe, inputs: Inputs, report: BackendProgress) -> list[np.ndarray]:
        """The take's frames, 8-bit RGB."""
        loaded, options = self._loaded(recipe)
        video2video = recipe.strength is not None
        if video2video:
            board = _frames(inputs, recipe, STORYBOARD, "video-to-video (the recipe has a strength)")
            assert recipe.strength is not None
            if int(recipe.steps * recipe.strength) < 1:
                # No denoising step would run: the take is the storyboard, as the strength asks.
                report(1.0)
                size = (recipe.width, recipe.height)
                return [np.asarray(f.resize(size, Image.Resampling.LANCZOS)) for f in board]
        pipe = loaded.pipe(video2video)

        def on_step(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            report((step + 1) / max(pipe.num_timesteps, 1))
            return {}

        call: dict[str, Any] = {
            "prompt": recipe.prompt,
            "negative_prompt": recipe.negative_prompt or None,
            "width": recipe.width,
            "height": recipe.height,
            "num_frames": recipe.frames,
            "num_inference_steps": recipe.steps,
            "guidance_scale": recipe.guidance,
            # A CPU generator: the same noise whatever the device.
            "generator": torch.Generator("cpu").manual_seed(recipe.seed),
            "output_type": "np",
            "callback_on_step_end": on_step,
        }
        if options.family == WAN:
            assert options.control is not None
            call["video"] = _frames(inputs, recipe, options.control, f"Wan VACE's control video ({options.control})")
            call["conditioning_scale"] = options.control_scale
            sheets = _sheets(inputs, recipe)
            call["reference_images"] = sheets or None
        else:
            if video2video:
                del call["num_frames"]  # the storyboard clip sets it
                call.update(video=board, strength=recipe.strength)
            if options.controlnets:
                call["conditioning_frames"] = [
                    _frames(inputs, recipe, net.control, f"the {net.control} ControlNet {net.model}")
                    for net in options.controlnets
                ]
                call["controlnet_conditioning_scale"] = [options.control_scale] * len(options.controlnets)
            if options.ip_adapter:
                sheets = _sheets(inputs, recipe)
                # Once loaded, the adapter needs an image; a shot with no characters gets a blank
                # one at scale 0, which adds exactly nothing.
                pipe.set_ip_adapter_scale(options.ip_adapter.scale if sheets else 0.0)
                call["ip_adapter_image"] = [sheets or [Image.new("RGB", (64, 64))]]
        accepted = inspect.signature(pipe.__call__).parameters
        try:
            video = pipe(**{k: v for k, v in call.items() if k in accepted}).frames[0]
        except torch.cuda.OutOfMemoryError:
            raise GenerateError(
                f"shot {recipe.shot}: the GPU ran out of memory for {recipe.frames} frames at "
                f"{recipe.width}x{recipe.height}; set vae_tiling, vae_slicing or offload in [generate.diffusers_video]"
            ) from None
        # As diffusers makes PIL images of them: scaled to 0..255 and rounded.
        return [frame for frame in np.clip(np.round(np.asarray(video) * 255), 0, 255).astype(np.uint8)]

    def _check_fit(self, recipe: Recipe, family: _Family, options: _Recorded) -> None:
        """Refuse what the family cannot do at all, in one line, before anything is loaded."""
        where = f"shot {recipe.shot}"
        if family.name == WAN:
            if recipe.strength is not None:
                raise GenerateError(
                    f"{where}: Wan VACE has no video-to-video from the storyboard; leave strength unset "
                    "(the previs passes steer it through its control video)"
                )
            if options.controlnets or options.ip_adapter:
                raise GenerateError(
                    f"{where}: Wan VACE reads the passes and the reference sheets itself; "
                    "ControlNets and IP-Adapters are for AnimateDiff"
                )
        elif any(net.control == "union" for net in options.controlnets):
            raise GenerateError(f"{where}: AnimateDiff has no union ControlNet pipeline; list one ControlNet per pass")
        # A pass the take reads must be there now, not found missing when a worker runs it.
        needed = [options.control] if family.name == WAN else [net.control for net in options.controlnets]
        needed += [STORYBOARD] if recipe.strength is not None else []
        missing = [role for role in needed if role and role not in recipe.conditioning]
        if missing:
            raise GenerateError(
                f"{where}: no {' or '.join(missing)} pass, which {family.name} reads; run soundstage previs first"
            )

    def _rig(self, recipe: Recipe, options: _Recorded) -> _Rig:
        settings, adapter = self.settings, options.ip_adapter
        return _Rig(
            family=options.family,
            model=locate(recipe.model, settings.hub_cache),
            motion_adapter=locate(options.motion_adapter, settings.hub_cache) if options.motion_adapter else None,
            controlnets=tuple(locate(c.model, settings.hub_cache) for c in options.controlnets),
            ip_adapter=(*ip_adapter_folders(adapter, settings.hub_cache), adapter.subfolder, adapter.weight_name)
            if adapter
            else None,
            device=self._device(),
            dtype=options.dtype,
            channels_last=settings.channels_last,
            compile=settings.compile,
            vae_tiling=options.vae_tiling,
            vae_slicing=settings.vae_slicing,
            offload=settings.offload,
            context_stride=options.context_stride,
        )

    def _device(self) -> str:
        return torch_device(self.settings.device, "generate.diffusers_video")
