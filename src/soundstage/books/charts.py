"""The report's charts, drawn with matplotlib's object API on the Agg canvas (no pyplot, no
global state, no display): what each incentive pays, and crew hours week by week per department.
Each chart comes back as PNG (for the PDF) and SVG (for the HTML page).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Okabe and Ito's palette, which stays apart for colour-blind readers, then lighter and darker
# tones of it for productions with more departments than eight.
COLOURS = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
    "#7FB8D8", "#F2CF80", "#80CFB9", "#E6BCD3", "#003959", "#734F00", "#004F39", "#999999",
)  # fmt: skip


@dataclass(frozen=True)
class Chart:
    """One chart in both formats."""

    title: str
    png: bytes
    svg: str


def _render(figure: Figure, title: str) -> Chart:
    FigureCanvasAgg(figure)
    png, svg = io.BytesIO(), io.BytesIO()
    # A fixed date in the SVG's metadata: the same books give the same bytes.
    figure.savefig(png, format="png", dpi=150, metadata={"Software": None})
    figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return Chart(title, png.getvalue(), svg.getvalue().decode("utf-8"))


def benefit_bars(rows: Sequence[tuple[str, str, Decimal]], currency: str) -> Chart:
    """Horizontal bars of the net benefit of each (name, kind, amount): programs, stacks and
    what-if designs in different colours."""
    kinds = {"program": COLOURS[0], "stack": COLOURS[1], "what-if": COLOURS[2]}
    figure = Figure(figsize=(8, 0.9 + 0.36 * max(len(rows), 1)))
    axes = figure.add_subplot()
    names = [name for name, _, _ in rows]
    values = [float(amount) for _, _, amount in rows]  # float for drawing only; the figures stay Decimal
    axes.barh(range(len(rows)), values, color=[kinds.get(kind, COLOURS[3]) for _, kind, _ in rows])
    axes.set_yticks(range(len(rows)), names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(f"net benefit ({currency})")
    axes.xaxis.set_major_formatter(lambda x, _: f"{x:,.0f}")
    for position, value in enumerate(values):
        axes.annotate(
            f"{value:,.0f}", (value, position), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7
        )
    handles = [axes.bar([0], [0], color=colour, label=kind) for kind, colour in kinds.items()]
    axes.legend(handles=handles, fontsize=7, loc="lower right")
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return _render(figure, "Net benefit of each incentive")


def weekly_hours(weeks: Sequence[date], hours: dict[str, Sequence[Decimal]]) -> Chart:
    """Stacked bars of confirmed crew hours per week, one colour per department."""
    figure = Figure(figsize=(8, 3.6))
    axes = figure.add_subplot()
    bottom = [0.0] * len(weeks)
    for n, (department, values) in enumerate(sorted(hours.items())):
        heights = [float(v) for v in values]
        axes.bar(range(len(weeks)), heights, bottom=bottom, color=COLOURS[n % len(COLOURS)], label=department)
        bottom = [b + h for b, h in zip(bottom, heights)]
    step = max(1, len(weeks) // 12)
    axes.set_xticks(range(0, len(weeks), step), [w.strftime("%d %b") for w in weeks[::step]], fontsize=7)
    axes.set_ylabel("confirmed crew hours")
    axes.set_xlabel("week beginning")
    if hours:  # no hours yet: no legend (matplotlib warned on stderr of an empty one)
        axes.legend(fontsize=7, ncols=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return _render(figure, "Crew hours per week, by department")
