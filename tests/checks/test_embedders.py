"""Embedders: the weightless default, and CLIP and DINOv2 from a local folder, tested on tiny
randomly initialised models that this test writes with save_pretrained and the production
loads back through its settings."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from transformers import (
    BitImageProcessor,
    CLIPConfig,
    CLIPImageProcessor,
    CLIPModel,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
    Dinov2Config,
    Dinov2Model,
)

from soundstage.checks import FeatureEmbedder, check_take, embedder_for
from soundstage.checks.features import appearance_dim
from soundstage.config import Checks
from soundstage.errors import ConfigError

from .helpers import IntentOf, shot_of

TINY = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 1, "num_attention_heads": 4}
PIXELS = {"size": {"shortest_edge": 32}, "crop_size": {"height": 32, "width": 32}}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A production folder with models/clip and models/dino: tiny, random, saved as released."""
    root = tmp_path_factory.mktemp("production")
    torch.manual_seed(0)
    config = CLIPVisionConfig(**TINY, image_size=32, patch_size=8, projection_dim=16)
    CLIPVisionModelWithProjection(config).save_pretrained(root / "models" / "clip")
    CLIPImageProcessor(**PIXELS).save_pretrained(root / "models" / "clip")
    Dinov2Model(Dinov2Config(**TINY, image_size=32, patch_size=8)).save_pretrained(root / "models" / "dino")
    BitImageProcessor(**PIXELS).save_pretrained(root / "models" / "dino")
    # A whole CLIP model, image and text towers, as CLIP checkpoints are released.
    text = {**TINY, "vocab_size": 99}
    whole = CLIPModel(CLIPConfig(text_config=text, vision_config=config.to_dict(), projection_dim=16))
    whole.save_pretrained(root / "models" / "clip-whole")
    CLIPImageProcessor(**PIXELS).save_pretrained(root / "models" / "clip-whole")
    return root


def pictures() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    flat = np.full((90, 160, 3), (200, 60, 90), np.uint8)
    noise = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    region = np.dstack([noise[:64, :40], np.pad(np.full((48, 24), 255, np.uint8), ((8, 8), (8, 8)))])
    return [flat, noise, region]


def test_the_feature_embedder_needs_no_weights_and_gives_unit_rows() -> None:
    embedder = embedder_for(Checks(), Path("/nowhere"))
    assert isinstance(embedder, FeatureEmbedder) and embedder.dim == appearance_dim()

    rows = embedder.embed(pictures())

    assert rows.shape == (3, embedder.dim) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-5)
    assert rows[0] @ rows[1] < 0.9  # flat colour and noise are not alike
    # Only the region's pixels count (and their neighbours, for texture): changing the pixels
    # further out changes nothing.
    outside = pictures()[2].copy()
    near = cv2.dilate(outside[:, :, 3], np.ones((3, 3), np.uint8)) > 0
    outside[:, :, :3][~near] = 0
    assert np.allclose(embedder.embed([outside])[0], rows[2])


@pytest.mark.parametrize(("kind", "dim"), [("clip", 16), ("dino", 32)])
def test_a_model_embedder_loads_from_the_settings_weights_folder(models: Path, kind: str, dim: int) -> None:
    embedder = embedder_for(Checks(embedder=kind, weights=f"models/{kind}"), models)

    rows = embedder.embed(pictures())

    assert embedder.name == f"{kind}:{kind}" and embedder.dim == dim
    assert rows.shape == (3, dim) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-5)
    assert np.array_equal(rows, embedder.embed(pictures()))  # deterministic
    assert not np.allclose(rows[0], rows[1])


def test_a_whole_clip_model_embeds_with_its_image_tower_and_projection(models: Path) -> None:
    folder = models / "models" / "clip-whole"
    embedder = embedder_for(Checks(embedder="clip", weights="models/clip-whole"), models)
    images = pictures()[:2]

    rows = embedder.embed(images)

    pixels = CLIPImageProcessor.from_pretrained(folder)(images=images, return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        features = CLIPModel.from_pretrained(folder).get_image_features(pixel_values=pixels)
    features = features if torch.is_tensor(features) else features.pooler_output
    expected = torch.nn.functional.normalize(features, dim=1).numpy()
    assert embedder.dim == 16 and np.allclose(rows, expected, atol=1e-5)


def test_every_check_runs_with_a_model_embedder(models: Path, intent_of: IntentOf, example_shots) -> None:
    embedder = embedder_for(Checks(embedder="clip", weights="models/clip"), models)
    code = shot_of(example_shots, {"MAISIE", "OSWIN"})
    intent = intent_of(code, embedder=embedder)

    findings = check_take(example_shots[code].storyboard, intent, Checks())

    checks = [(f.check, f.subject) for f in findings]
    assert ("character", "MAISIE") in checks and ("character", "OSWIN") in checks and ("style", "") in checks
    assert all(0.0 <= f.score <= 1.0 and f.reason for f in findings)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"embedder": "clip"}, r"\[checks\] embedder = 'clip' needs weights: a local model folder"),
        ({"embedder": "dino", "weights": "models/none"}, r"models/none: not a dino model folder \(no config.json\)"),
        ({"embedder": "clip", "weights": "models/dino"}, r"models/dino: a dinov2 model, not a clip model"),
        ({"embedder": "dino", "weights": "models/clip"}, r"models/clip: a clip_vision_model model, not a dino model"),
    ],
)
def test_a_wrong_model_setting_is_one_config_error(models: Path, settings: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        embedder_for(Checks.model_validate(settings), models)


def test_a_model_folder_without_its_image_processor_is_one_config_error(models: Path, tmp_path: Path) -> None:
    broken = tmp_path / "models" / "clip"
    broken.mkdir(parents=True)
    (broken / "config.json").write_text((models / "models" / "clip" / "config.json").read_text())

    with pytest.raises(ConfigError, match="cannot load the clip model"):
        embedder_for(Checks(embedder="clip", weights="models/clip"), tmp_path)
