"""The ``diffusers`` backend: takes made on this machine with Hugging Face diffusers, driven by
the shot's previs.

Stable Diffusion 1.5, SDXL and Flux pipelines (told apart by the ``_class_name`` in the model
folder's ``model_index.json``). The previs passes steer them: depth and line art through
ControlNets (one per pass, or one union ControlNet reading both), the storyboard through
img2img when the recipe has a strength, and the characters' reference sheets through an
IP-Adapter when one is configured. Takes of one shot that differ only in seed are made in one
batched call, with one seeded generator per image, so batching does not change a take's
noise; PyTorch's kernels are not batch-invariant, though, so a batched take may differ from
the same take made alone by one 8-bit level in a rare pixel.

Nothing is downloaded: a model is a local folder, or a hub id already in the local Hugging
Face cache. Pipelines are loaded once per process and kept.
"""

from __future__ import annotations

import gc
import hashlib
import inspect
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import diffusers
import torch
from huggingface_hub import snapshot_download
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from transformers import CLIPVisionModelWithProjection

from soundstage import __version__
from soundstage.errors import GenerateError
from soundstage.generate import clips
from soundstage.generate.backend import (
    DEPTH,
    LINEART,
    REFERENCE_PREFIX,
    STORYBOARD,
    BackendProgress,
    Inputs,
    Recipe,
)

Control = Literal["depth", "lineart", "union"]
DType = Literal["float32", "float16", "bfloat16"]
RecordedT = TypeVar("RecordedT", bound=BaseModel)  # a backend's recorded recipe options


class ControlNetSettings(BaseModel):
    """A ControlNet and the previs pass it reads; a ``union`` ControlNet reads depth and line
    art both, each under its control mode."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(description="local folder or hub id of the ControlNet")
    control: Control = Field(description="the pass it reads: depth, lineart, or union for both")
    # Union only: the network's mode index per pass. Each union checkpoint numbers its modes
    # itself; unset ones take the family's usual numbering (see _Family.union_modes).
    modes: dict[Literal["depth", "lineart"], int] = Field(default_factory=dict)


class IPAdapterSettings(BaseModel):
    """An IP-Adapter that lets the characters' reference sheets steer their look (SD 1.5, SDXL)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(description="local folder or hub id holding the adapter weights, e.g. h94/IP-Adapter")
    subfolder: str = Field("", description="folder of the weight file inside it, e.g. models")
    weight_name: str = Field(description="the weight file, e.g. ip-adapter_sd15.safetensors")
    image_encoder: str = Field(
        "image_encoder",
        description="the CLIP image encoder: a folder inside the adapter's (models/image_encoder), or a folder or hub id",
    )
    scale: float = Field(0.6, ge=0, le=2, description="how strongly the reference sheets steer")


class DiffusersSettings(BaseModel):
    """``[generate.diffusers]`` in soundstage.toml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field("stabilityai/stable-diffusion-xl-base-1.0", description="local folder or cached hub id")
    controlnets: list[ControlNetSettings] = Field(default_factory=list)
    ip_adapter: IPAdapterSettings | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "auto", description="auto: float32 on the CPU; float16 (SD, SDXL) or bfloat16 (Flux) on CUDA"
    )
    steps: int | None = Field(None, ge=1, le=1000, description="default steps; unset: the model family's")
    guidance: float | None = Field(None, ge=0, le=50, description="default guidance; unset: the family's")
    controlnet_scale: float = Field(0.8, ge=0, le=2)
    channels_last: bool = Field(True, description="channels-last memory layout for the convolutional models")
    sdpa: bool = Field(True, description="PyTorch's fused attention; false: the plain math, to compare numerics")
    compile: bool = Field(False, description="torch.compile the denoiser: worth it on a GPU for long runs")
    hub_cache: str | None = Field(None, description="Hugging Face cache folder; unset: the usual one")
    # A batched UNet call rounds a rare pixel one level differently from a single one, so on
    # the CPU (where batching gains little) takes are made one by one and `take reproduce`
    # matches byte for byte. On a GPU batching is the point; set this to batch on CPU too.
    batch_on_cpu: bool = False

    @model_validator(mode="after")
    def _one_union_alone(self) -> DiffusersSettings:
        unions = [c for c in self.controlnets if c.control == "union"]
        if unions and len(self.controlnets) > 1:
            raise ValueError("a union ControlNet reads every pass itself; list it alone")
        return self


class _Recorded(BaseModel):
    """What ``prepare`` writes into ``recipe.options``, so a stored recipe makes the same take
    after the settings change. Other keys artists put there are kept and ignored."""

    model_config = ConfigDict(extra="allow")

    controlnets: list[ControlNetSettings]
    controlnet_scale: float = Field(ge=0, le=2)
    ip_adapter: IPAdapterSettings | None
    dtype: DType
    # sha256 of each ControlNet folder (by model id), and of "ip_adapter" and "image_encoder".
    weights: dict[str, str]


@dataclass(frozen=True)
class _Family:
    """One kind of model: its pipeline classes in diffusers and its usual settings."""

    name: str
    plain: tuple[str, str]  # (text-to-image, img2img)
    controlnet: tuple[str, str]
    union: tuple[str, str] | None
    controlnet_model: str
    union_model: str | None
    steps: int
    guidance: float
    cuda_dtype: DType
    union_modes: dict[str, int] = field(default_factory=dict)
    ip_adapter: bool = True
    # Flux packs 2x2 latent patches, so its sizes step by twice the VAE's factor.
    size_step: int = 1

    def classes(self) -> set[str]:
        return {*self.plain, *self.controlnet, *(self.union or ())}


_FAMILIES = (
    _Family(
        "SD 1.5",
        ("StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline"),
        ("StableDiffusionControlNetPipeline", "StableDiffusionControlNetImg2ImgPipeline"),
        None,
        "ControlNetModel",
        None,
        steps=30,
        guidance=7.5,
        cuda_dtype="float16",
    ),
    _Family(
        "SDXL",
        ("StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline"),
        ("StableDiffusionXLControlNetPipeline", "StableDiffusionXLControlNetImg2ImgPipeline"),
        ("StableDiffusionXLControlNetUnionPipeline", "StableDiffusionXLControlNetUnionImg2ImgPipeline"),
        "ControlNetModel",
        "ControlNetUnionModel",
        steps=30,
        guidance=5.0,
        cuda_dtype="float16",
        union_modes={DEPTH: 1, LINEART: 3},  # xinsir's ControlNet Union: 1 depth, 3 canny/lineart
    ),
    _Family(
        "Flux",
        ("FluxPipeline", "FluxImg2ImgPipeline"),
        ("FluxControlNetPipeline", "FluxControlNetImg2ImgPipeline"),
        ("FluxControlNetPipeline", "FluxControlNetImg2ImgPipeline"),
        "FluxControlNetModel",
        "FluxControlNetModel",
        steps=28,
        guidance=3.5,
        cuda_dtype="bfloat16",
        union_modes={DEPTH: 2, LINEART: 0},  # InstantX's Flux union: 2 depth, 0 canny (nearest to line art)
        ip_adapter=False,  # Flux's IP-Adapter works differently and not with img2img; not wired here
        size_step=2,
    ),
)
_WEIGHT_SUFFIXES = {".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf"}
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


def pipeline_class(folder: Path) -> str:
    """The diffusers pipeline class saved in ``folder`` (``_class_name`` in its model_index.json)."""
    index = folder / "model_index.json"
    try:
        class_name = json.loads(index.read_text(encoding="utf-8"))["_class_name"]
    except FileNotFoundError:
        raise GenerateError(f"{index}: missing; a model must be a diffusers pipeline folder") from None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise GenerateError(f"{index}: not a diffusers model index ({type(error).__name__}: {error})") from None
    return str(class_name)


def _family(folder: Path) -> _Family:
    """The model family of the pipeline saved in ``folder``, from its model_index.json."""
    index = folder / "model_index.json"
    class_name = pipeline_class(folder)
    for family in _FAMILIES:
        if class_name in family.classes():
            return family
    raise GenerateError(f"{index}: pipeline class {class_name!r} is not one this backend drives (SD 1.5, SDXL, Flux)")


def locate(model: str, hub_cache: str | None = None) -> Path:
    """The local folder of ``model``: the folder itself, or a hub id's snapshot when it is
    already in the Hugging Face cache (nothing is downloaded)."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    if _HUB_ID.match(model):
        try:
            return Path(snapshot_download(model, cache_dir=hub_cache, local_files_only=True))
        except OSError:
            raise GenerateError(
                f"model {model!r}: no such folder, and its weights are not available offline in the "
                f"Hugging Face cache (download them first: hf download {model})"
            ) from None
    raise GenerateError(f"model folder {model} does not exist")


_HASHES: dict[tuple[object, ...], str] = {}


def weights_sha256(path: Path) -> str:
    """sha256 over the weight files of a model folder (or one weight file), in order of their
    relative paths, each as path, NUL, content. Cached per process while no file changes."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.suffix in _WEIGHT_SUFFIXES and p.is_file()]
    named = sorted((p.relative_to(path).as_posix() if p != path else p.name, p) for p in files)
    if not named:
        raise GenerateError(f"{path}: no weight files ({', '.join(sorted(_WEIGHT_SUFFIXES))})")
    fingerprint = (str(path), *((name, p.stat().st_size, p.stat().st_mtime_ns) for name, p in named))
    if fingerprint not in _HASHES:
        digest = hashlib.sha256()
        for name, file in named:
            digest.update(name.encode() + b"\0")
            with file.open("rb") as stream:
                while chunk := stream.read(1 << 24):
                    digest.update(chunk)
        _HASHES[fingerprint] = digest.hexdigest()
    return _HASHES[fingerprint]


def refuse_changed_weights(recipe: Recipe, model: str, sha256: str, weights: dict[str, str]) -> None:
    """Fail when the weights a stored recipe names (its model's, and each extra network's in
    ``options.weights``) are not the ones here now: the take would not be the one recorded."""
    recorded = recipe.options.get("weights", {})
    for name, now, before in [
        (model, sha256, recipe.weights_sha256),
        *((k, v, recorded.get(k)) for k, v in weights.items()),
    ]:
        if before and before != now:
            raise GenerateError(
                f"shot {recipe.shot}: the weights of {name} changed since the recipe was made "
                f"(sha256 {before[:12]}, now {now[:12]})"
            )


@dataclass(frozen=True)
class _Rig:
    """Everything a loaded pipeline depends on: the key of the per-process pipeline cache."""

    model: Path
    controlnets: tuple[tuple[Path, Control], ...]
    ip_adapter: tuple[Path, Path, str, str] | None  # adapter folder, image encoder, subfolder, weight file
    device: str
    dtype: DType
    channels_last: bool
    sdpa: bool
    compile: bool


@dataclass
class _Loaded:
    """A loaded text-to-image pipeline and, made on first use, its img2img twin (same modules)."""

    family: _Family
    rig: _Rig
    text2image: Any
    image2image: Any = None

    def pipe(self, img2img: bool) -> Any:
        if not img2img:
            return self.text2image
        if self.image2image is None:
            self.image2image = getattr(diffusers, _pipeline_names(self.family, self.rig)[1]).from_pipe(self.text2image)
        return self.image2image


def _pipeline_names(family: _Family, rig: _Rig) -> tuple[str, str]:
    """The family's (text-to-image, img2img) pipeline classes for the rig's ControlNets."""
    if any(control == "union" for _, control in rig.controlnets):
        if family.union is None:
            raise GenerateError(f"{rig.model}: diffusers has no union ControlNet pipeline for {family.name}")
        return family.union
    return family.controlnet if rig.controlnets else family.plain


_PIPELINES: dict[_Rig, _Loaded] = {}


def _load(rig: _Rig, family: _Family) -> _Loaded:
    """The pipeline for ``rig``, loaded on first use and kept for the process."""
    if rig in _PIPELINES:
        return _PIPELINES[rig]
    names = _pipeline_names(family, rig)
    if rig.ip_adapter and not family.ip_adapter:
        raise GenerateError(f"{rig.model}: IP-Adapter is wired for SD 1.5 and SDXL only, not {family.name}")
    dtype = getattr(torch, rig.dtype)
    union = any(control == "union" for _, control in rig.controlnets)
    components: dict[str, Any] = {}
    try:
        if rig.controlnets:
            kind = getattr(diffusers, family.union_model if union else family.controlnet_model)
            nets = [kind.from_pretrained(path, dtype=dtype, local_files_only=True) for path, _ in rig.controlnets]
            # SDXL's union pipeline wants the network itself; the others take a list (multi-ControlNet).
            components["controlnet"] = nets[0] if union and family.name == "SDXL" else nets
        if rig.ip_adapter:
            components["image_encoder"] = CLIPVisionModelWithProjection.from_pretrained(
                rig.ip_adapter[1], dtype=dtype, local_files_only=True
            )
        pipe = getattr(diffusers, names[0]).from_pretrained(rig.model, dtype=dtype, local_files_only=True, **components)
        _set_attention(pipe, rig.sdpa)
        if rig.ip_adapter:
            folder, _, subfolder, weight_name = rig.ip_adapter
            pipe.load_ip_adapter(str(folder), subfolder=subfolder, weight_name=weight_name, image_encoder_folder=None)
    except (OSError, ValueError) as error:
        raise GenerateError(f"{rig.model}: cannot load the pipeline ({str(error).splitlines()[0]})") from None
    pipe.to(rig.device)
    pipe.set_progress_bar_config(disable=True)
    denoiser = pipe.unet if hasattr(pipe, "unet") else pipe.transformer
    if rig.channels_last:
        for module in (denoiser, pipe.vae, getattr(pipe, "controlnet", None)):
            if module is not None:
                module.to(memory_format=torch.channels_last)
    if rig.compile:
        denoiser.compile()  # in place, so the pipeline keeps its own module object
    _PIPELINES[rig] = _Loaded(family, rig, pipe)
    return _PIPELINES[rig]


def unload() -> None:
    """Forget every loaded pipeline, giving their memory back (GPU memory included)."""
    _PIPELINES.clear()
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def auto_dtype(cuda_dtype: DType, device: str) -> DType:
    """float32 on the CPU (half precision there is slow and imprecise); the family's half
    precision (``cuda_dtype``) on CUDA, float16 where the GPU has no bfloat16 (before Ampere)."""
    if device == "cpu":
        return "float32"
    if cuda_dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
        return "float16"
    return cuda_dtype


def torch_device(device: str, section: str) -> str:
    """The torch device a ``device`` setting names ("auto", "cpu" or "cuda"); "cuda" on a torch
    that sees no CUDA GPU is refused naming the settings ``section``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise GenerateError(
            f"[{section}] device is cuda, but torch {torch.__version__} sees no CUDA GPU; "
            'set device = "cpu" or install a CUDA build of torch'
        )
    return device


def ip_adapter_folders(adapter: IPAdapterSettings, hub_cache: str | None) -> tuple[Path, Path]:
    """The IP-Adapter's folder and its image encoder's: inside the adapter's folder where it
    ships there (h94/IP-Adapter), else a model of its own."""
    folder = locate(adapter.model, hub_cache)
    inside = folder / adapter.image_encoder
    return folder, inside if inside.is_dir() else locate(adapter.image_encoder, hub_cache)


def recorded_options(model: type[RecordedT], recipe: Recipe, options: dict[str, Any]) -> RecordedT:
    """A recipe's options as the backend's ``model``; the first invalid one is one line naming
    the shot and the option."""
    try:
        return model.model_validate(options)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise GenerateError(f"shot {recipe.shot}: recipe option {where}: {first['msg']}") from None


def conditioning_weights(
    controlnets: Sequence[ControlNetSettings], ip_adapter: IPAdapterSettings | None, hub_cache: str | None
) -> dict[str, str]:
    """The sha256 of every ControlNet's weights (by model id) and the IP-Adapter's and its image
    encoder's, which a take records beside the model's own."""
    weights = {c.model: weights_sha256(locate(c.model, hub_cache)) for c in controlnets}
    if ip_adapter:
        adapter_folder, encoder = ip_adapter_folders(ip_adapter, hub_cache)
        weights["ip_adapter"] = weights_sha256(adapter_folder / ip_adapter.subfolder / ip_adapter.weight_name)
        weights["image_encoder"] = weights_sha256(encoder)
    return weights


def pinned_recipe(
    recipe: Recipe,
    backend_version: str,
    model: str,
    folder: Path,
    weights: dict[str, str],
    options: BaseModel,
    steps: int,
    guidance: float,
) -> Recipe:
    """``recipe`` with everything that makes its take pinned: the backend's version, the model
    and the sha256 of its weights and of ``weights``, steps and guidance (the recipe's own, else
    the settings' or the family's), and its validated ``options``. Weights changed since the
    recipe was first pinned are refused."""
    sha = weights_sha256(folder)
    refuse_changed_weights(recipe, model, sha, weights)
    return Recipe.model_validate(
        {
            **recipe.model_dump(),
            "backend_version": backend_version,
            "model": model,
            "weights_sha256": sha,
            "steps": recipe.steps or steps,
            "guidance": recipe.guidance or guidance,
            "options": {**options.model_dump(mode="json"), "weights": weights},
        }
    )


def _set_attention(pipe: Any, sdpa: bool) -> None:
    """Fused scaled-dot-product attention, or the same attention in plain math operations.

    Set before an IP-Adapter is loaded, which puts its own (fused) processors on the
    cross-attention layers."""
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    controlnet = getattr(pipe, "controlnet", None)
    nets = getattr(controlnet, "nets", [controlnet] if controlnet is not None else [])
    for model in (pipe.unet if hasattr(pipe, "unet") else pipe.transformer, *nets):
        if hasattr(pipe, "unet"):  # UNets choose attention by processor, Flux by backend
            model.set_attn_processor(AttnProcessor2_0() if sdpa else AttnProcessor())
        else:
            model.set_attention_backend("native" if sdpa else "_native_math")


def _image(inputs: Inputs, recipe: Recipe, role: str, needed_by: str) -> Image.Image:
    """A conditioning image as 8-bit RGB; 16-bit depth is scaled down, not clipped. A moving
    shot's pass is a clip: a still take reads its first frame."""
    sha = recipe.conditioning.get(role)
    if sha is None:
        raise GenerateError(f"shot {recipe.shot}: the recipe has no {role!r} image, which {needed_by} needs")
    picture = clips.read_clip(inputs.read(sha), f"shot {recipe.shot}: the {role} image").frames[0]
    return Image.fromarray(clips.rgb8(picture))


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


class DiffusersBackend:
    """Takes from SD 1.5, SDXL or Flux on this machine's CPU or CUDA GPU."""

    name: ClassVar[str] = "diffusers"
    version: ClassVar[str] = f"{__version__}+diffusers{diffusers.__version__}"

    def __init__(self, settings: DiffusersSettings | None = None) -> None:
        self.settings = settings or DiffusersSettings()

    def prepare(self, recipe: Recipe) -> Recipe:
        """The recipe with model, weights hash, steps, guidance and the backend's options filled
        in where blank (what the recipe already says wins), after checking that the weights it
        names are here and unchanged."""
        if recipe.moves:
            raise GenerateError(
                f"shot {recipe.shot}: the diffusers backend makes stills; a take of {recipe.frames} frames "
                "needs a video backend (diffusers_video)"
            )
        settings = self.settings
        model = recipe.model or settings.model
        folder = locate(model, settings.hub_cache)
        family = _family(folder)
        device = self._device()
        defaults = {
            "controlnets": [c.model_dump() for c in settings.controlnets],
            "controlnet_scale": settings.controlnet_scale,
            "ip_adapter": settings.ip_adapter.model_dump() if settings.ip_adapter else None,
            "dtype": settings.dtype if settings.dtype != "auto" else auto_dtype(family.cuda_dtype, device),
        }
        options = recorded_options(_Recorded, recipe, {**defaults, **recipe.options, "weights": {}})
        weights = conditioning_weights(options.controlnets, options.ip_adapter, settings.hub_cache)
        guidance = settings.guidance if settings.guidance is not None else family.guidance
        return pinned_recipe(
            recipe, self.version, model, folder, weights, options, settings.steps or family.steps, guidance
        )

    def generate(self, recipes: Sequence[Recipe], inputs: Inputs, progress: BackendProgress) -> list[bytes]:
        """One PNG per recipe, in order. On a GPU (or with ``batch_on_cpu``) recipes that differ
        only in seed (and who asked) share one batched pipeline call; each image still has its
        own generator, so it is the image made alone, up to float rounding."""
        prepared = [self.prepare(recipe) for recipe in recipes]
        batching = self._device() != "cpu" or self.settings.batch_on_cpu
        groups: dict[str, list[int]] = {}
        for index, recipe in enumerate(prepared):
            key = json.dumps(recipe.model_dump(mode="json", exclude={"seed", "requested_by"}), sort_keys=True)
            groups.setdefault(key if batching else str(index), []).append(index)
        outputs: list[bytes] = [b""] * len(prepared)
        done = 0
        for indices in groups.values():
            batch = [prepared[i] for i in indices]

            def report(fraction: float, done: int = done, size: int = len(batch)) -> None:
                progress((done + size * fraction) / len(prepared))

            for index, png in zip(indices, self._batch(batch, inputs, report), strict=True):
                outputs[index] = png
            done += len(batch)
            progress(done / len(prepared))
        return outputs

    def pipeline(self, recipe: Recipe) -> Any:
        """The diffusers pipeline that makes ``recipe``'s take, loaded on first use: for
        benchmarks, and for looking inside."""
        recipe = self.prepare(recipe)
        return self._loaded(recipe)[0].pipe(recipe.strength is not None)

    def _loaded(self, recipe: Recipe) -> tuple[_Loaded, _Recorded]:
        options = recorded_options(_Recorded, recipe, recipe.options)
        rig = self._rig(recipe, options)
        return _load(rig, _family(rig.model)), options

    def _batch(self, batch: list[Recipe], inputs: Inputs, report: Callable[[float], None]) -> list[bytes]:
        """Images for recipes that differ only in seed, from one pipeline call."""
        first = batch[0]
        loaded, options = self._loaded(first)
        rig, family = loaded.rig, loaded.family
        img2img = first.strength is not None
        if img2img:
            storyboard = _image(inputs, first, STORYBOARD, "img2img (the recipe has a strength)")
            assert first.strength is not None
            if int(first.steps * first.strength) < 1:
                # No denoising step would run: the take is the storyboard, as the strength asks.
                frame = storyboard.resize((first.width, first.height), Image.Resampling.LANCZOS)
                report(1.0)
                return [_png(frame)] * len(batch)
        pipe = loaded.pipe(img2img)
        multiple = pipe.vae_scale_factor * family.size_step
        if first.width % multiple or first.height % multiple:
            raise GenerateError(
                f"shot {first.shot}: {first.width}x{first.height} is not a multiple of {multiple} pixels, "
                f"which {family.name} models need"
            )

        def on_step(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            report((step + 1) / max(pipe.num_timesteps, 1))  # img2img runs steps * strength of them
            return {}

        call: dict[str, Any] = {
            "prompt": first.prompt,
            "negative_prompt": first.negative_prompt or None,
            "width": first.width,
            "height": first.height,
            "num_inference_steps": first.steps,
            "guidance_scale": first.guidance,
            "num_images_per_prompt": len(batch),
            # CPU generators: the same noise whatever the device, one per image so batching
            # does not change any image.
            "generator": [torch.Generator("cpu").manual_seed(r.seed) for r in batch],
            "callback_on_step_end": on_step,
        }
        if family.name == "Flux":
            del call["negative_prompt"]  # Flux only reads one with true CFG, which its distilled models do not use
        if img2img:
            call.update(image=storyboard, strength=first.strength)
        if rig.controlnets:
            call.update(self._control(pipe, family, options, inputs, first))
        if rig.ip_adapter:
            assert options.ip_adapter is not None
            call.update(self._references(pipe, inputs, first, options.ip_adapter))
        try:
            images = pipe(**call).images
        except torch.cuda.OutOfMemoryError:
            raise GenerateError(
                f"shot {first.shot}: the GPU ran out of memory for {len(batch)} images at "
                f"{first.width}x{first.height}; lower [generate] batch or the size"
            ) from None
        return [_png(image) for image in images]

    def _control(
        self, pipe: Any, family: _Family, options: _Recorded, inputs: Inputs, recipe: Recipe
    ) -> dict[str, Any]:
        """The pipeline arguments that hand each ControlNet its pass."""
        images, modes = [], []
        for net in options.controlnets:
            reads = (DEPTH, LINEART) if net.control == "union" else (net.control,)
            for role in reads:
                images.append(_image(inputs, recipe, role, f"the {net.control} ControlNet {net.model}"))
                modes.append({**family.union_modes, **net.modes}[role] if net.control == "union" else None)
        # The text-to-image ControlNet pipelines of SD and SDXL name the control image `image`;
        # their img2img and union variants, and Flux's, use `image` for the init image.
        name = "control_image" if "control_image" in inspect.signature(pipe.__call__).parameters else "image"
        call: dict[str, Any] = {name: images, "controlnet_conditioning_scale": options.controlnet_scale}
        if any(mode is not None for mode in modes):
            call["control_mode"] = modes
        if family.name == "Flux":
            # Flux's multi-ControlNet zips scales and guidance windows with the images: one each,
            # or a union network run once per pass would see only the first.
            call.update(
                controlnet_conditioning_scale=[options.controlnet_scale] * len(images),
                control_guidance_start=[0.0] * len(images),
                control_guidance_end=[1.0] * len(images),
            )
        return call

    def _references(self, pipe: Any, inputs: Inputs, recipe: Recipe, adapter: IPAdapterSettings) -> dict[str, Any]:
        """The characters' reference sheets for the IP-Adapter, all steering together."""
        roles = sorted(role for role in recipe.conditioning if role.startswith(REFERENCE_PREFIX))
        sheets = [_image(inputs, recipe, role, "the IP-Adapter") for role in roles]
        # The pipeline needs an image once an adapter is loaded; a shot with no characters gets
        # a blank one at scale 0, which adds exactly nothing.
        pipe.set_ip_adapter_scale(adapter.scale if sheets else 0.0)
        return {"ip_adapter_image": [sheets or [Image.new("RGB", (64, 64))]]}

    def _rig(self, recipe: Recipe, options: _Recorded) -> _Rig:
        settings, adapter = self.settings, options.ip_adapter
        return _Rig(
            model=locate(recipe.model, settings.hub_cache),
            controlnets=tuple((locate(c.model, settings.hub_cache), c.control) for c in options.controlnets),
            ip_adapter=(*ip_adapter_folders(adapter, settings.hub_cache), adapter.subfolder, adapter.weight_name)
            if adapter
            else None,
            device=self._device(),
            dtype=options.dtype,
            channels_last=settings.channels_last,
            sdpa=settings.sdpa,
            compile=settings.compile,
        )

    def _device(self) -> str:
        return torch_device(self.settings.device, "generate.diffusers")
