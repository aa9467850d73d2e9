"""CLIP and DINOv2 embedders for the intent checks, from a local model folder.

Needs torch and transformers (the ``diffusers`` extra); ``embedders.embedder_for`` imports this
module only when a production asks for ``clip`` or ``dino``. Nothing is downloaded: the folder
holds the model (``config.json`` and weights) and its image processor
(``preprocessor_config.json``), as ``save_pretrained`` writes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import (
    AutoConfig,
    AutoImageProcessor,
    AutoModel,
    CLIPConfig,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
)
from transformers.utils import logging as hf_logging

from soundstage.checks import features
from soundstage.errors import ConfigError

KINDS = ("clip", "dino")
# The config.json model types each kind loads: transformers would load a model of another type
# with fresh random weights where they do not fit, and embed garbage without a word.
MODEL_TYPES = {
    "clip": lambda model_type: model_type in ("clip", "clip_vision_model"),
    "dino": lambda model_type: model_type.startswith("dino"),
}
BATCH = 32
# The backdrop a character's region is set on before a model sees it: mid grey, which neither
# model reads as a colour of the character.
BACKDROP = 128


class TransformersEmbedder:
    """CLIP (the vision tower's projected image embedding) or DINOv2 (the pooled class token)
    from ``weights``, a local folder; on the CPU, or the GPU where torch has one."""

    def __init__(self, kind: str, weights: Path) -> None:
        if kind not in KINDS:
            raise ConfigError(f"[checks] embedder {kind!r}: not a model embedder ({', '.join(KINDS)})")
        weights = Path(weights)
        if not (weights / "config.json").is_file():
            raise ConfigError(f"{weights}: not a {kind} model folder (no config.json); [checks] weights")
        model_type = _model_type(weights)
        if not MODEL_TYPES[kind](model_type):
            raise ConfigError(f"{weights}: a {model_type or 'unknown'} model, not a {kind} model; [checks] embedder")
        self.kind = kind
        self.name = f"{kind}:{weights.name}"
        self._model, self._processor, self.dim = _load(kind, weights.resolve())

    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, dim) float32 unit rows."""
        pictures = [_on_backdrop(image) for image in images]
        rows = []
        device = next(self._model.parameters()).device
        for start in range(0, len(pictures), BATCH):
            inputs = self._processor(images=pictures[start : start + BATCH], return_tensors="pt")
            with torch.inference_mode():
                output = self._model(pixel_values=inputs["pixel_values"].to(device))
            if self.kind == "clip":
                vectors = output.image_embeds
            else:
                pooled = getattr(output, "pooler_output", None)
                vectors = pooled if pooled is not None else output.last_hidden_state[:, 0]
            rows.append(vectors.float().cpu().numpy())
        matrix = np.concatenate(rows) if rows else np.empty((0, self.dim), np.float32)
        lengths = np.linalg.norm(matrix, axis=1, keepdims=True)
        return (matrix / np.maximum(lengths, 1e-12)).astype(np.float32)


@lru_cache(maxsize=4)
def _load(kind: str, weights: Path) -> tuple[Any, Any, int]:
    """Model, image processor and embedding width; loaded once per process, as the worker
    checks take after take with the same model."""
    # A whole CLIP model's text tower is not loaded, on purpose; transformers would print a
    # report of those unused weights, and a progress bar, into the CLI's output.
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        if kind == "clip":
            model = CLIPVisionModelWithProjection.from_pretrained(weights, config=_clip_vision_config(weights))
            dim = int(model.config.projection_dim)
        else:
            model = AutoModel.from_pretrained(weights)
            dim = int(model.config.hidden_size)
        processor = AutoImageProcessor.from_pretrained(weights)
    # transformers reports weights that do not fit the configuration as a RuntimeError.
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(f"{weights}: cannot load the {kind} model: {reason}") from None
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    model.eval()
    if torch.cuda.is_available():
        model.to("cuda")
    return model, processor, dim


def _clip_vision_config(weights: Path) -> CLIPVisionConfig:
    """The vision tower's configuration: of a vision-only folder as it is, of a whole CLIP
    model (image and text towers, as released) its vision part with the model's projection
    width, which the vision part alone does not carry."""
    config = AutoConfig.from_pretrained(weights)
    if isinstance(config, CLIPConfig):
        vision = config.vision_config
        vision.projection_dim = config.projection_dim
        return vision
    return config


def _model_type(weights: Path) -> str:
    """``model_type`` of a model folder's config.json ("" when unreadable)."""
    try:
        return str(json.loads((weights / "config.json").read_text()).get("model_type", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def _on_backdrop(image: np.ndarray) -> np.ndarray:
    """RGB for the model: an RGBA region is set on the backdrop, grey becomes RGB."""
    pixels = features.rgb(image)
    if image.ndim == 3 and image.shape[2] == 4:
        inside = image[:, :, 3:4] > 127
        pixels = np.where(inside, pixels, np.uint8(BACKDROP))
    return np.ascontiguousarray(pixels)
