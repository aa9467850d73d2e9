"""The stripboard: one strip per scene in shooting order, a black strip at the end of each day.

Strips are coloured as production boards always are: white for INT day, yellow for EXT day,
blue for INT night, green for EXT night (an INT/EXT scene is coloured as an exterior: it
needs the light outside). Each strip shows the scene number, INT/EXT, the set, DAY/NIGHT, the
length in pages and eighths, the cast by their cast numbers, and the stage (or location).
Written as self-contained HTML (Jinja2) and as PDF (fpdf2). The HTML carries
``data-scene`` and ``data-day`` on every strip so that the review room can make strips
draggable and ask ``evaluation.move_scene`` for the new cost and conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jinja2 import Environment, PackageLoader, select_autoescape

from soundstage.reports.pdf import ReportPdf
from soundstage.schedules.model import SceneWork, Schedule, ScheduleProblem
from soundstage.script.eighths import format_eighths

_TEMPLATES = Environment(
    loader=PackageLoader("soundstage.schedules", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# (name, RGB) per (exterior, night).
STRIP_COLOURS: dict[tuple[bool, bool], tuple[str, tuple[int, int, int]]] = {
    (False, False): ("white", (255, 255, 255)),
    (True, False): ("yellow", (255, 240, 90)),
    (False, True): ("blue", (140, 180, 230)),
    (True, True): ("green", (140, 205, 140)),
}


@dataclass(frozen=True, slots=True)
class Strip:
    """One scene on one day of the board."""

    scene: str
    day: int  # 0-based shoot day
    int_ext: str
    set: str
    day_night: str
    eighths: int
    cast_numbers: tuple[int, ...]
    stage: str  # the stage's name, or the location for scenes shot on location
    colour: str  # white, yellow, blue or green
    rgb: tuple[int, int, int]
    continued: bool = False  # a scene longer than a day, on a day after its first
    pinned: bool = False  # a user pinned the scene to its day (``schedule pin``)

    @property
    def pages(self) -> str:
        return format_eighths(self.eighths)

    @property
    def hex(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.rgb)


@dataclass(frozen=True, slots=True)
class DayBreak:
    """The black strip that ends a shoot day."""

    day: int  # 0-based shoot day
    date: date
    eighths: int
    location: str

    @property
    def pages(self) -> str:
        return format_eighths(self.eighths)


@dataclass(frozen=True, slots=True)
class Stripboard:
    title: str
    rows: tuple[Strip | DayBreak, ...]
    cast: tuple[tuple[int, str], ...]  # (cast number, name), by number
    total_cost: str

    @property
    def strips(self) -> tuple[Strip, ...]:
        return tuple(row for row in self.rows if isinstance(row, Strip))


def strip_colour(scene: SceneWork) -> tuple[str, tuple[int, int, int]]:
    """The strip's colour name and RGB for a scene."""
    return STRIP_COLOURS[(scene.exterior, scene.night)]


def stripboard(problem: ScheduleProblem, schedule: Schedule, title: str = "Stripboard") -> Stripboard:
    """The board of ``schedule``: strips day by day, each day closed by its day break."""
    numbers = _cast_numbers(problem)
    rows: list[Strip | DayBreak] = []
    seen: set[str] = set()
    for day in schedule.days:
        eighths = 0
        for number in day.scenes:
            scene = problem.scene(number)
            colour, rgb = strip_colour(scene)
            continued = number in seen
            seen.add(number)
            eighths += min(scene.eighths, problem.settings.eighths_per_day)
            rows.append(
                Strip(
                    scene=number,
                    day=day.index,
                    int_ext=scene.int_ext,
                    set=scene.set,
                    day_night=scene.day_night,
                    eighths=scene.eighths,
                    cast_numbers=tuple(sorted(numbers[name] for name in scene.cast)),
                    stage=day.stage_of.get(number, scene.location),
                    colour=colour,
                    rgb=rgb,
                    continued=continued,
                    pinned=number in problem.pins,
                )
            )
        rows.append(DayBreak(day.index, day.date, eighths, day.location))
    cast = tuple(sorted((n, name) for name, n in numbers.items()))
    return Stripboard(title, tuple(rows), cast, f"{schedule.cost.total:,.2f}")


def _cast_numbers(problem: ScheduleProblem) -> dict[str, int]:
    """Cast numbers as given, and the next free numbers for anybody not numbered yet."""
    numbers = {m.name: m.number for m in problem.cast if m.number > 0}
    next_free = max(numbers.values(), default=0) + 1
    for member in problem.cast:
        if member.name not in numbers:
            numbers[member.name] = next_free
            next_free += 1
    return numbers


def render_html(board: Stripboard) -> str:
    """The stripboard as one self-contained HTML page."""
    return _TEMPLATES.get_template("stripboard.html").render(board=board)


# Columns: heading, width in mm (A4 landscape: 277 mm between the margins).
_COLUMNS = (("Scene", 18), ("I/E", 16), ("Set", 95), ("D/N", 16), ("Pages", 18), ("Cast", 64), ("Stage / location", 50))


def render_pdf(board: Stripboard) -> bytes:
    """The stripboard as a PDF: coloured strips, black day breaks."""
    pdf = ReportPdf(board.title)
    pdf.add_page()
    pdf.title_block(board.title, f"{len(board.strips)} strips; total cost {board.total_cost}")
    pdf.set_font(pdf.font_name, "B", 8)
    pdf.set_fill_color(225, 225, 225)
    for name, width in _COLUMNS:
        pdf.cell(width, 6, name, border=1, fill=True)
    pdf.ln()
    for row in board.rows:
        if isinstance(row, DayBreak):
            pdf.set_fill_color(0, 0, 0)
            pdf.set_text_color(255, 255, 255)
            pdf.set_font(pdf.font_name, "B", 8)
            text = f"End of day {row.day + 1}: {row.date:%a %d %b %Y}, {row.pages} pages, {row.location}"
            pdf.cell(sum(w for _, w in _COLUMNS), 5, pdf.text_of(text), border=1, fill=True)
            pdf.set_text_color(0, 0, 0)
        else:
            pdf.set_fill_color(*row.rgb)
            pdf.set_font(pdf.font_name, "", 8)
            cells = (
                row.scene + (" (cont.)" if row.continued else "") + (" pin" if row.pinned else ""),
                row.int_ext,
                row.set,
                row.day_night,
                row.pages,
                ", ".join(str(n) for n in row.cast_numbers),
                row.stage,
            )
            for (_, width), text in zip(_COLUMNS, cells):
                pdf.cell(width, 5, _fit(pdf, text, width), border=1, fill=True)
        pdf.ln()
    pdf.ln(3)
    pdf.set_font(pdf.font_name, "B", 9)
    pdf.cell(0, 5, "Cast", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_name, "", 8)
    for number, name in board.cast:
        pdf.cell(0, 4, pdf.text_of(f"{number}. {name}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _fit(pdf: ReportPdf, text: str, width: float) -> str:
    """``text`` cut to fit a cell ``width`` mm wide."""
    text = pdf.text_of(text)
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "...") > width - 2:
        text = text[:-1]
    return text + "..."
