"""What each frame of the animatic shows: the take fitted to the frame (a still, or a clip's
frames one by one), the slow moves over a still, the burn-ins (label and timecode) and the
slates (head slate, NO TAKE), drawn with Pillow and OpenCV on RGB arrays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import opentimelineio as otio
from PIL import Image, ImageDraw, ImageFont

from soundstage.config import rate_label
from soundstage.cut.timeline import NO_TAKE, Cut, CutShot
from soundstage.errors import CutError, GenerateError
from soundstage.generate import clips

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core
# Moves the animatic plays out; every other move holds the still.
PUSHES = {"push-in": (1.0, 1.12), "pull-out": (1.12, 1.0)}  # zoom at the first and last frame
PANS = {"pan", "track"}
PAN_ZOOM = 1.1  # a pan frames a little tighter, so there is picture to travel over
BURN_IN_HEIGHT = 0.034  # burn-in text height, fraction of the frame height
BACKGROUND = (20, 20, 24)  # letterbox and slate background
NO_TAKE_GREY = (64, 64, 72)


def slate_lines(cut: Cut, date: dt.date) -> list[tuple[str, float]]:
    """The head slate's lines and their sizes (relative to the frame height)."""
    runtime = otio.opentime.to_timecode(otio.opentime.RationalTime(cut.frames, cut.rate), cut.rate)
    shots = f"{len(cut.shots)} shot" + ("" if len(cut.shots) == 1 else "s")
    return [
        (cut.title or "Untitled", 0.09),
        ("ANIMATIC", 0.05),
        (date.isoformat(), 0.04),
        (f"{shots}   runtime {runtime}   {rate_label(cut.fps)} fps", 0.04),
        ("scratch picture and sound: not for release", 0.03),
    ]


def take_picture(shot: CutShot) -> tuple[np.ndarray | None, str]:
    """The take's image as RGB uint8 (a clip's first frame), or None and why there is none
    ("" when there is one)."""
    if shot.take is None:
        return None, "no take yet"
    if shot.image is None:
        return None, "media missing"
    if not shot.image.is_file():
        return None, "media missing"
    try:
        image = clips.first_frame(shot.image, shot.image.name)
    except GenerateError:
        return None, "unreadable image (not a picture or clip it can decode)"
    except OSError as error:
        return None, f"unreadable image ({error.__class__.__name__})"
    return rgb(image), ""


def clip_pictures(shot: CutShot) -> Iterator[np.ndarray]:
    """A clip take's pictures for the shot, ``shot.frames`` of them, frame for frame from the
    clip's first (RGB uint8): trimmed where the clip is longer than the shot, its last frame
    held where it is shorter (the cut lengthened the shot for its dialogue). CutError naming
    the shot when the clip cannot be decoded."""
    assert shot.image is not None
    what = f"{shot.code}: take {shot.take}"
    shown, last = 0, None
    try:
        with clips.ClipReader(shot.image, what) as reader:
            for last in reader.frames():
                if shown == shot.frames:
                    break
                yield rgb(last)
                shown += 1
    except GenerateError as error:
        raise CutError(str(error)) from None
    if last is None:
        raise CutError(f"{what}: the clip has no frames")
    held = rgb(last)
    for _ in range(shot.frames - shown):
        yield held


def rgb(image: np.ndarray) -> np.ndarray:
    """A decoded picture as contiguous RGB uint8 (16-bit grey scaled, grey spread to RGB)."""
    return np.ascontiguousarray(clips.rgb8(image))


def label_text(shot: CutShot) -> str:
    """The bottom-left burn-in: shot code with size and lens, take, review status."""
    return "   ".join(part for part in (shot_label(shot), take_label(shot), shot.status) if part)


def shot_label(shot: CutShot) -> str:
    """The shot code with its size and lens, as the previs burn-in names them: ``012_0030  CU  35mm``."""
    lens = f"{shot.lens_mm:g}mm" if shot.lens_mm else ""
    return "  ".join(part for part in (shot.code, shot.size, lens) if part)


def take_label(shot: CutShot) -> str:
    return f"take {shot.take.rpartition('/')[2]}" if shot.take else NO_TAKE


@dataclass(frozen=True, slots=True, eq=False)
class Burn:
    """Text to burn in: where its box goes and the text's coverage (0..255) in the box."""

    at: tuple[int, int]
    mask: np.ndarray  # uint8, box height x box width

    def apply(self, picture: np.ndarray, *, at: tuple[int, int] | None = None) -> None:
        """Darken the box (so white text reads on any picture) and draw the text, in place."""
        x, y = self.at if at is None else at
        height, width = self.mask.shape
        region = picture[y : y + height, x : x + width]
        mask = self.mask[: region.shape[0], : region.shape[1], np.newaxis].astype(np.uint16)
        dark = region // 3
        region[:] = dark + ((255 - dark) * mask // 255).astype(np.uint8)


@cache
def face(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A DejaVu face, else Pillow's own font where fonts-dejavu-core is not installed."""
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:
        return ImageFont.load_default(size)


class Art:
    """Everything drawn into the frame at one output size: fitting, moves, burn-ins, slates."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size
        width, height = size
        self.font = face("DejaVuSansMono.ttf", max(10, round(height * BURN_IN_HEIGHT)))
        left, top, right, bottom = self.font.getbbox("00:00:00:00")
        self.pad = max(2, (bottom - top) // 3)
        self.text_offset = (self.pad - left, self.pad - top)
        box_w, box_h = even(right - left + 2 * self.pad), even(bottom - top + 2 * self.pad)
        x0, y0 = even(width - box_w - self.pad) - 2, even(height - box_h - self.pad) - 2
        self.timecode_box = (max(0, x0), max(0, y0), min(width, x0 + box_w), min(height, y0 + box_h))
        self._seconds: tuple[str, np.ndarray] = ("", np.zeros(0, np.uint8))  # see timecode()
        self._frames: dict[str, np.ndarray] = {}
        self._monospaced = len({self.font.getlength(c) for c in "0123456789: "}) == 1

    # Pictures ---------------------------------------------------------------------------

    def fit(self, image: np.ndarray) -> np.ndarray:
        """The image scaled to fit the frame, centred, letterboxed where the shapes differ."""
        width, height = self.size
        h, w = image.shape[:2]
        if (w, h) == (width, height):
            return image.copy()
        scale = min(width / w, height / h)
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
        frame = np.empty((height, width, 3), np.uint8)
        frame[:] = BACKGROUND
        x, y = (width - new_w) // 2, (height - new_h) // 2
        frame[y : y + new_h, x : x + new_w] = resized
        return frame

    def moved(self, picture: np.ndarray, move: str, t: float) -> np.ndarray:
        """The frame at ``t`` (0 first, 1 last) of a slow push or pan over a fitted picture:
        a crop at a sub-pixel position, scaled back up to the frame. (Two cheap passes rather
        than one affine warp, which OpenCV does ten times slower at this size.)"""
        width, height = self.size
        ease = t * t * (3 - 2 * t)  # starts and stops gently
        if move in PUSHES:
            first, last = PUSHES[move]
            zoom, x = first + (last - first) * ease, width / 2
        else:
            zoom = PAN_ZOOM
            half = width / zoom / 2
            x = half + (width - 2 * half) * ease  # from the left of the picture to its right
        crop = (round(width / zoom), round(height / zoom))
        window = cv2.getRectSubPix(picture, crop, ((x - 0.5), (height - 1) / 2))
        return cv2.resize(window, self.size, interpolation=cv2.INTER_LINEAR)

    # Burn-ins ---------------------------------------------------------------------------

    def label(self, text: str) -> Burn:
        """Shot code, take and status for the bottom-left corner."""
        left, top, right, bottom = self.font.getbbox(text)
        x0, y0, x1, y1 = self.timecode_box
        width = min(right - left + 2 * self.pad, x0 - 2 * self.pad)
        return self._burn(text, (self.pad, y0), (max(1, width), y1 - y0))

    def timecode(self, text: str) -> Burn:
        """A timecode ``HH:MM:SS:FF`` for the bottom-right corner.

        Drawing text is most of the per-frame cost of a held still, so the mask is put
        together from two drawn once: "HH:MM:SS:" (new once a second) and "FF" (one per frame
        number). The face is monospaced, so "FF" after nine spaces lands where it would in the
        whole string, and the two never touch.
        """
        x0, y0, x1, y1 = self.timecode_box
        if not self._monospaced:  # Pillow's own font, where DejaVu is missing: draw it whole
            return self._burn(text, (x0, y0), (x1 - x0, y1 - y0))
        head, frames = text[:-2], text[-2:]
        if self._seconds[0] != head:
            self._seconds = (head, self._mask(head, (x1 - x0, y1 - y0)))
        if frames not in self._frames:
            self._frames[frames] = self._mask(" " * len(head) + frames, (x1 - x0, y1 - y0))
        return Burn((x0, y0), np.maximum(self._seconds[1], self._frames[frames]))

    def _burn(self, text: str, at: tuple[int, int], size: tuple[int, int]) -> Burn:
        return Burn(at, self._mask(text, size))

    def _mask(self, text: str, size: tuple[int, int]) -> np.ndarray:
        """How much of each pixel of a box of ``size`` the text covers (0..255)."""
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).text(self.text_offset, text, fill=255, font=self.font)
        return np.asarray(mask)

    # Slates -----------------------------------------------------------------------------

    def slate(self, lines: list[tuple[str, float]], background: tuple[int, int, int] = BACKGROUND) -> np.ndarray:
        """A frame of centred lines of text, each (text, height as a fraction of the frame)."""
        width, height = self.size
        canvas = Image.new("RGB", self.size, background)
        draw = ImageDraw.Draw(canvas)
        fonts = [self._fitting(text, fraction) for text, fraction in lines]
        heights = [font.getbbox("Ag")[3] * 1.5 for font in fonts]
        y = (height - sum(heights)) / 2
        for (text, _), font, line_height in zip(lines, fonts, heights):
            draw.text((width / 2, y + line_height / 2), text, fill=(235, 235, 235), font=font, anchor="mm")
            y += line_height
        return np.asarray(canvas)

    def _fitting(self, text: str, fraction: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        """The sans face at ``fraction`` of the frame height, smaller where the text is too wide."""
        width, height = self.size
        size = max(8, round(height * fraction))
        font = face("DejaVuSans.ttf", size)
        text_width = font.getlength(text) if text else 0
        if text_width > width * 0.9:
            font = face("DejaVuSans.ttf", max(8, int(size * width * 0.9 / text_width)))
        return font

    def no_take(self, shot: CutShot, reason: str) -> np.ndarray:
        """The slate that stands in for a shot without a picture."""
        why = reason if shot.take is None else f"{shot.take}: {reason}"
        description = shot.description if len(shot.description) <= 90 else shot.description[:89] + "…"
        lines = [(NO_TAKE, 0.14), (shot.code, 0.07), (why, 0.04)]
        if description:
            lines.append((description, 0.035))
        return self.slate(lines, NO_TAKE_GREY)


def even(value: int) -> int:
    """``value`` rounded up to an even number (chroma planes are half width)."""
    return value + (value & 1)
