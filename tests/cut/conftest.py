"""Inputs for the cut tests: small stills made here and one voice cache per test session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from soundstage.cut.timeline import CutShot, Line, Note
from soundstage.render.previs import to_png

SIZE = (320, 180)
FPS = 24


def _still(path: Path, seed: int = 0) -> Path:
    """A 320x180 storyboard-like PNG: a sky, a ground and a red block that moves with ``seed``
    (so every shot's picture differs and moves are visible), with a little texture."""
    width, height = SIZE
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2] = (200, 180, 120)
    image[height // 2 :] = (40, 90, 160)
    x = 60 + (seed * 37) % 160
    image[60:120, x : x + 60] = (220, 40, 40)
    # A vertical stripe every 16 pixels: a pan or push shows up as moving edges.
    image[:, ::16] = image[:, ::16] // 2
    path.write_bytes(to_png(image))
    return path


@pytest.fixture
def make_still(tmp_path: Path) -> Callable[[str, int], Path]:
    """Write a still named ``NAME.png`` in the test's folder; returns its path."""
    return lambda name, seed=0: _still(tmp_path / f"{name}.png", seed)


@pytest.fixture(scope="session")
def voices_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One espeak-ng voice cache for the session: each line is spoken once."""
    return tmp_path_factory.mktemp("voices")


@pytest.fixture
def make_shot(tmp_path: Path) -> Callable[..., CutShot]:
    """A CutShot with a still of its own (``image=None`` for no picture, ``take=None`` for no take)."""
    counter = iter(range(1000))

    def make(
        code: str,
        frames: int = 24,
        *,
        move: str = "static",
        lines: tuple[Line, ...] = (),
        notes: tuple[Note, ...] = (),
        take: str | None = "",
        image: Path | None | str = "",
        status: str = "approved",
    ) -> CutShot:
        seed = next(counter)
        if image == "":
            image = _still(tmp_path / f"{code}.png", seed)
        if take == "":
            take = f"{code}/1"
        return CutShot(code, code[:3].lstrip("0"), frames, take, image, status, move, lines, notes, f"shot {code}")

    return make
