"""The page every PDF report prints on (schedules, books, compliance, disclosure): fpdf2 with a
Unicode font where the system has one.

Cast, set and performer names come from screenplays and are not always Latin-1 (the PDF core
fonts' limit), so DejaVu Sans is used when installed, and text is made drawable otherwise.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fpdf import FPDF

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


class ReportPdf(FPDF):
    """An A4 (or letter) report, landscape by default, with page numbers in the footer.

    ``title`` is the document's title; ``footer`` what each page's footer says before its
    number (the title by default); ``made_at`` the creation date written into the file (so the
    same report made twice is the same file); ``body_size`` the text's size after a heading.
    """

    def __init__(
        self,
        title: str,
        *,
        footer: str | None = None,
        orientation: str = "landscape",
        page_format: str = "A4",
        made_at: datetime | None = None,
        body_size: float = 8,
    ) -> None:
        super().__init__(orientation=orientation, format=page_format)
        self.report_title, self.footer_text, self.body_size = title, footer or title, body_size
        if (_DEJAVU / "DejaVuSans.ttf").exists() and (_DEJAVU / "DejaVuSans-Bold.ttf").exists():
            self.add_font("DejaVu", "", _DEJAVU / "DejaVuSans.ttf")
            self.add_font("DejaVu", "B", _DEJAVU / "DejaVuSans-Bold.ttf")
            self.font_name, self.unicode_font = "DejaVu", True
        else:
            self.font_name, self.unicode_font = "Helvetica", False
        if made_at is not None:
            self.set_creation_date(made_at)
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
        self.cell(0, 5, self.text_of(f"{self.footer_text}, page {self.page_no()}"))

    def title_block(self, title: str, subtitle: str = "") -> None:
        self.set_font(self.font_name, "B", 14)
        self.cell(0, 8, self.text_of(title), new_x="LMARGIN", new_y="NEXT")
        if subtitle:
            self.set_font(self.font_name, "", 9)
            self.multi_cell(0, 5, self.text_of(subtitle), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font(self.font_name, "B", 11)
        self.cell(0, 7, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.font_name, "", self.body_size)

    def paragraph(self, text: str) -> None:
        self.multi_cell(0, 5, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
