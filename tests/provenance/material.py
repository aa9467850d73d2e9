"""Material for the credential tests: takes of each origin, tiny PNGs, and a tiny animatic
encoded with PyAV."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
from PIL import Image

from soundstage.generate.backend import Recipe
from soundstage.provenance.credentials import Approval, TakeProvenance

APPROVED_AT = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)


def png_bytes(seed: int = 0, size: tuple[int, int] = (64, 36)) -> bytes:
    """A small PNG of noise (so the pixel data is not a trivial run)."""
    pixels = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def take(
    origin: str, shot: str = "012_0030", number: int = 1, approved: bool = True, reason: str = ""
) -> TakeProvenance:
    """A take of ``origin`` (previs | generated | edited), approved by JUNO unless not."""
    if origin == "previs":
        recipe = Recipe(shot=shot, backend="previs", backend_version="1", seed=3, requested_by="oswin")
    else:
        recipe = Recipe(
            shot=shot,
            backend="diffusers",
            backend_version="0.42.1",
            model="tiny-sd-turbo",
            weights_sha256="c0ffee" * 10 + "abcd",
            seed=42 + number,
            strength=0.55 if origin == "edited" else None,
            requested_by="maisie",
        )
    approval = Approval("JUNO", "director", APPROVED_AT, reason) if approved else None
    return TakeProvenance(shot, f"{shot}/{number}", recipe, recipe.sha256(), approval)


def write_video(path: Path, frames: int = 12) -> None:
    """A tiny video with sound: H.264 + AAC for .mp4, ProRes 422 + PCM for .mov."""
    prores = path.suffix == ".mov"
    with av.open(str(path), "w") as container:
        video = container.add_stream("prores_ks" if prores else "h264", rate=24)
        video.width, video.height = 64, 64
        video.pix_fmt = "yuv422p10le" if prores else "yuv420p"
        audio = container.add_stream("pcm_s16le" if prores else "aac", rate=48000, layout="mono")
        for index in range(frames):
            image = np.full((64, 64, 3), index * 20 % 255, np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        samples_per_frame = 1024
        for index in range(48000 * frames // 24 // samples_per_frame):
            tone = np.sin(np.arange(samples_per_frame) / 10.0).astype(np.float32)[None, :] * 0.1
            if prores:
                frame = av.AudioFrame.from_ndarray((tone * 32767).astype(np.int16), format="s16", layout="mono")
            else:
                frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, index * samples_per_frame
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
