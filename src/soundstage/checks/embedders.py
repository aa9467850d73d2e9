"""Embedders: how the character and style checks turn a picture into a vector to compare.

The default, ``FeatureEmbedder``, needs no model weights: colour, tone, texture and clipping
histograms (``features.appearance``). A production that has a CLIP or DINOv2 model on disk sets
``[checks] embedder = "clip"`` or ``"dino"`` and ``weights`` to its folder; that embedder
(``soundstage.checks.models``) needs torch and transformers, the ``diffusers`` extra, and is
imported only then.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from soundstage.checks import features
from soundstage.config import Checks
from soundstage.errors import ConfigError

# Pictures larger than this (longer side) are shrunk before the feature embedder measures
# them: histograms of a few thousand pixels are as good as of a million, and cheaper.
_FEATURE_SIDE = 128


class Embedder(Protocol):
    """Turns pictures into unit vectors; similar pictures (in what the embedder sees) have a
    cosine near 1. Images are uint8 RGB, or RGBA where alpha > 127 marks the pixels that count
    (a character's region); any size.

    An embedder may also have ``blocks``: slices of its vector that measure different things
    (the feature embedder's colour, lightness, chroma, texture and clipping), which the style check then
    matches each against its nearest reference.
    """

    name: str
    dim: int

    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, dim) float32, each row of length 1."""
        ...


class FeatureEmbedder:
    """Colour (hue, with greys apart), lightness, chroma, texture and clipping histograms; no weights.
    The cosine of two embeddings is the weighted mean of the histograms' Bhattacharyya
    coefficients (see ``features.appearance``)."""

    name = "features"
    dim = features.appearance_dim()
    blocks = features.appearance_blocks()

    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, dim) float32 unit rows."""
        rows = np.empty((len(images), self.dim), np.float32)
        for row, image in enumerate(images):
            height, width = image.shape[:2]
            scale = _FEATURE_SIDE / max(height, width)
            if scale < 1:
                image = features.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))))
            rows[row] = features.appearance(image)
        return rows


def embedder_for(settings: Checks, root: Path) -> Embedder:
    """The embedder ``[checks]`` configures; ``weights`` is relative to the production ``root``.

    Raises ConfigError (one line) when a model embedder has no weights folder, the folder is
    not a model of that kind, or torch and transformers are not installed.
    """
    if settings.embedder == "features":
        return FeatureEmbedder()
    if not settings.weights:
        raise ConfigError(f"[checks] embedder = {settings.embedder!r} needs weights: a local model folder")
    try:
        from soundstage.checks.models import TransformersEmbedder
    except ImportError as error:
        raise ConfigError(
            f"[checks] embedder = {settings.embedder!r} needs the diffusers extra ({error.name} is missing): "
            "pip install 'soundstage[diffusers]'"
        ) from None
    return TransformersEmbedder(settings.embedder, root / settings.weights)
