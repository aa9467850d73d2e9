"""Paperwork for the crew: breakdown sheets and the shot list, as CSV and as HTML.

Files are written to a temporary name and renamed, so an interrupted run never leaves a
half-written sheet where a reader expects a whole one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from PIL import Image

from soundstage import __version__
from soundstage.config import timecode_text
from soundstage.files import write_atomic
from soundstage.plan.model import Shot
from soundstage.script.breakdown import CATEGORIES, SceneBreakdown
from soundstage.script.eighths import format_eighths

_TEMPLATES = Environment(
    loader=PackageLoader("soundstage.reports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class SceneSheet:
    """A scene's breakdown sheet: its breakdown under its production number."""

    number: str
    breakdown: SceneBreakdown


# The heading's columns, then one per breakdown category (cast, background, animals, props...).
BREAKDOWN_COLUMNS = ("scene", "heading", "int_ext", "location", "time_of_day", "eighths", *CATEGORIES)
# How a sheet heads a category where its name, capitalised, is not what the trade writes.
_LABELS = {"set_dressing": "Set dressing", "atmosphere": "FX / atmosphere", "vfx": "VFX"}
SHOTLIST_COLUMNS = (
    "code", "scene", "size", "angle", "lens_mm", "move", "subjects", "frames", "seconds", "purpose", "lines",
    "description",
)  # fmt: skip


def _csv(rows: Iterable[Sequence[object]], header: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def breakdown_rows(sheets: list[SceneSheet]) -> list[tuple[object, ...]]:
    """One CSV row per scene, in BREAKDOWN_COLUMNS order (a category's items joined by "; ")."""
    return [
        (
            s.number,
            b.heading,
            b.int_ext,
            b.location,
            b.time_of_day,
            format_eighths(b.eighths),
            *("; ".join(items) for items in category_items(b).values()),
        )
        for s in sheets
        for b in (s.breakdown,)
    ]


def category_items(breakdown: SceneBreakdown) -> dict[str, tuple[str, ...]]:
    """A scene's items by breakdown category, in ``CATEGORIES`` order."""
    return {category: getattr(breakdown, field) for category, field in CATEGORIES.items()}


def category_label(category: str) -> str:
    """A category as a sheet heads it: "Cast", "Set dressing", "VFX"."""
    return _LABELS.get(category, category.replace("_", " ").capitalize())


def shot_rows(shots: list[Shot], fps: Fraction | int) -> list[tuple[object, ...]]:
    """One CSV row per shot, in SHOTLIST_COLUMNS order."""
    return [
        (
            s.code,
            s.scene,
            s.size.value,
            s.angle.value,
            f"{s.lens_mm:g}",
            s.move.value,
            "; ".join(s.subjects),
            s.frames,
            f"{s.seconds(fps):.2f}",
            s.purpose.value,
            " ".join(str(n) for n in s.lines),
            s.description,
        )
        for s in shots
    ]


def write_breakdown(sheets: list[SceneSheet], title: str, out: Path) -> list[Path]:
    """Write ``breakdown.csv`` and ``breakdown.html`` into ``out``."""
    csv_path, html_path = out / "breakdown.csv", out / "breakdown.html"
    write_atomic(csv_path, _csv(breakdown_rows(sheets), BREAKDOWN_COLUMNS))
    html = _TEMPLATES.get_template("breakdown.html").render(
        title=title,
        sheets=sheets,
        categories=[(category, category_label(category)) for category in CATEGORIES],
        items=category_items,
        format_eighths=format_eighths,
        total_eighths=sum(s.breakdown.eighths for s in sheets),
        **_stamp(),
    )
    write_atomic(html_path, html.encode("utf-8"))
    return [csv_path, html_path]


def write_shotlist(
    shots: list[Shot],
    sheets: list[SceneSheet],
    title: str,
    fps: Fraction | int,
    out: Path,
    storyboards: dict[str, Path] | None = None,
) -> list[Path]:
    """Write ``shotlist.csv`` and ``shotlist.html`` (shots grouped under their scenes) into ``out``.

    ``storyboards`` maps shot codes to their storyboard PNGs; the HTML shows a thumbnail of
    each, written beside it in ``storyboards/`` so the folder can be handed on as it is.
    """
    csv_path, html_path = out / "shotlist.csv", out / "shotlist.html"
    write_atomic(csv_path, _csv(shot_rows(shots, fps), SHOTLIST_COLUMNS))
    thumbnails = {
        code: _thumbnail(png, out / "storyboards" / f"{code}.jpg") for code, png in (storyboards or {}).items()
    }
    by_scene: dict[str, list[Shot]] = {}
    for shot in shots:
        by_scene.setdefault(shot.scene, []).append(shot)
    html = _TEMPLATES.get_template("shotlist.html").render(
        title=title,
        scenes=[(s, by_scene.get(s.number, [])) for s in sheets],
        fps=fps,
        total_frames=sum(s.frames for s in shots),
        shot_count=len(shots),
        timecode=lambda frames: timecode_text(frames, fps),
        thumbnails={code: path.relative_to(out).as_posix() for code, path in thumbnails.items()},
        **_stamp(),
    )
    write_atomic(html_path, html.encode("utf-8"))
    return [csv_path, html_path]


def _thumbnail(png: Path, target: Path, width: int = 320) -> Path:
    """A small JPEG of a storyboard frame for the HTML shot list."""
    with Image.open(png) as frame:
        frame = frame.convert("RGB")
        frame.thumbnail((width, width))
        buffer = io.BytesIO()
        frame.save(buffer, "JPEG", quality=85)
    write_atomic(target, buffer.getvalue())
    return target


def _stamp() -> dict[str, str]:
    return {"version": __version__, "written_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
