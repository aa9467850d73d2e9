"""The page every schedule report prints on: fpdf2 with a Unicode font where the system has one.

Cast and set names come from screenplays and are not always Latin-1 (the PDF core fonts'
limit), so DejaVu Sans is used when installed, as the disclosure report does.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


class ReportPdf(FPDF):
    """A landscape A4 (or letter) report with a title and page numbers in the footer."""

    def __init__(self, title: str, *, orientation: str = "landscape", page_format: str = "A4") -> None:
        super().__init__(orientation=orientation, format=page_format)
        self.report_title = title
        if (_DEJAVU / "DejaVuSans.ttf").exists() and (_DEJAVU / "DejaVuSans-Bold.ttf").exists():
            self.add_font("DejaVu", "", _DEJAVU / "DejaVuSans.ttf")
            self.add_font("DejaVu", "B", _DEJAVU / "DejaVuSans-Bold.ttf")
            self.font_name, self.unicode_font = "DejaVu", True
        else:
            self.font_name, self.unicode_font = "Helvetica", False
        self.set_title(title)
        self.set_auto_page_break(auto=True, margin=12)
        self.set_margins(10, 10, 10)

    def text_of(self, value: object) -> str:
        """Text the font can draw: the core fonts hold Latin-1 only."""
        text = str(value)
        return text if self.unicode_font else text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(self.font_name, "", 7)
        self.cell(0, 5, self.text_of(f"{self.report_title}, page {self.page_no()}"))

    def title_block(self, title: str, subtitle: str = "") -> None:
        self.set_font(self.font_name, "B", 14)
        self.cell(0, 8, self.text_of(title), new_x="LMARGIN", new_y="NEXT")
        if subtitle:
            self.set_font(self.font_name, "", 9)
            self.multi_cell(0, 5, self.text_of(subtitle), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
