"""The disclosure report of a cut: every shot with its origin (previs from human blocking, AI
generated, AI edited), the system and seed that made it and the person accountable for it;
the share of the running time that is AI made; the fields a latent disclosure carries (the
California AI Transparency Act, Bus. & Prof. Code 22757.3(b)); and a plain-language notice for
an artistic work (EU AI Act Article 50(4)). Written as self-contained HTML and as PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from soundstage.config import rate_label, timecode_text
from soundstage.errors import CutError
from soundstage.files import write_atomic
from soundstage.provenance.clock import iso, utc
from soundstage.provenance.credentials import Approval, Origin, TakeProvenance
from soundstage.provenance.screenplay import AiText
from soundstage.reports.pdf import ReportPdf

_TEMPLATES = Environment(
    loader=PackageLoader("soundstage.provenance", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
NO_TAKE = "NO TAKE"
AI_TEXT_NOTE = (
    "AI-generated text is not literary material: it is listed here, never as source material in the credits"
    " (WGA MBA 2023, Art. 72)."
)


@dataclass(frozen=True)
class DisclosureRow:
    """One shot of the cut: its take (None: the NO TAKE slate stands in), how the take was
    made, by which system and seed, its length, and who approved it."""

    shot: str
    take: str | None
    origin: Origin | None
    backend: str
    model: str
    weights_sha256: str
    seed: int | None
    frames: int
    approval: Approval | None
    requested_by: str  # the production's user name
    backend_version: str = ""
    requested_by_login: str = ""  # the operating-system login recorded beside it
    guardrail_overrides: tuple[str, ...] = ()  # "RULE by NAME: reason", as the take's credentials carry them

    checks: str = ""  # the take's intent checks in one word: pass, warn, fail or not checked

    @classmethod
    def of_take(cls, take: TakeProvenance, frames: int, checks: str = "") -> DisclosureRow:
        """The row of a shot cut with ``take`` for ``frames`` frames; ``checks``: what its
        intent checks said (pass, warn, fail, not checked)."""
        recipe = take.recipe
        return cls(
            shot=take.shot,
            take=take.take,
            origin=take.origin,
            backend=recipe.backend,
            model=recipe.model,
            weights_sha256=recipe.weights_sha256,
            seed=recipe.seed,
            frames=frames,
            approval=take.approval,
            requested_by=take.requester,
            backend_version=recipe.backend_version,
            requested_by_login=take.requested_by_login if take.requested_by_login != take.requester else "",
            guardrail_overrides=tuple(
                f"{o['rule']} by {o['by']}: {o['reason']}" for o in (take.guardrails or {}).get("overrides", [])
            ),
            checks=checks,
        )

    @classmethod
    def slate(cls, shot: str, frames: int) -> DisclosureRow:
        """The row of a shot with no take, held on a NO TAKE slate."""
        return cls(shot, None, None, "", "", "", None, frames, None, "")

    @property
    def origin_label(self) -> str:
        """The origin in words, or NO TAKE."""
        return self.origin.label if self.origin is not None else NO_TAKE

    @property
    def requester_label(self) -> str:
        """Who asked for the take, with the login beside the name where it was recorded."""
        return (
            f"{self.requested_by} (login {self.requested_by_login})" if self.requested_by_login else self.requested_by
        )

    @property
    def approval_label(self) -> str:
        """Who approved the take and when (ISO 8601 with its offset), or "not approved"."""
        text = "not approved"
        if self.approval is not None:
            text = f"{self.approval.name} ({self.approval.role}), {iso(self.approval.at)}"
            text = f"{text}; override: {self.approval.override_reason}" if self.approval.override_reason else text
        return "; ".join((text, *(f"guardrail override {o}" for o in self.guardrail_overrides)))


@dataclass(frozen=True)
class LatentField:
    """One field a latent disclosure carries: its value, where the files carry it, and the
    provision that asks for it."""

    name: str
    value: str
    carried_in: str
    provision: str


@dataclass(frozen=True)
class Disclosure:
    """The disclosure of one cut. ``cut_id`` is the cut's unique identifier (a uuid4 the
    caller makes, the same one the animatic's credentials carry); ``created_at`` the cut's one
    clock reading, the time its animatic is signed at (``Cut.made_at``); ``provider`` the
    production's title or organisation (``provider_of``), the same the animatic's credentials
    name; ``made_by`` the production's user name of whoever cut it, with the login beside it."""

    title: str
    cut_id: str
    created_at: datetime
    generator: str
    fps: Fraction | int  # exact: 24000/1001 for 23.976
    rows: tuple[DisclosureRow, ...]
    provider: str = ""
    scratch_dialogue: bool = False  # the animatic's voices are espeak-ng scratch dialogue
    made_by: str = ""
    made_by_login: str = ""
    # The draft of the screenplay the cut was made from, when it holds AI-generated text: listed
    # as AI-generated material, never as source material (WGA MBA 2023 Art. 72: AI text is not
    # literary material). The animatic's org.soundstage.cut carries the same (``ai_text``).
    ai_text: tuple[AiText, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "created_at", utc(self.created_at))

    @property
    def created(self) -> str:
        """When the cut was made, ISO 8601 with its offset, as its credentials say it."""
        return iso(self.created_at)

    @property
    def maker(self) -> str:
        """Who cut it, with the login beside the name; "" when not given."""
        if not self.made_by:
            return ""
        login = self.made_by_login if self.made_by_login != self.made_by else ""
        return f"{self.made_by} (login {login})" if login else self.made_by

    @property
    def runtime_frames(self) -> int:
        """The running time of the cut in frames."""
        return sum(row.frames for row in self.rows)

    def frames_of(self, origin: Origin | None) -> int:
        """Frames of the cut whose take has ``origin`` (None: NO TAKE slates)."""
        return sum(row.frames for row in self.rows if row.origin == origin)

    def share_of(self, origin: Origin | None) -> float:
        """The share (0..1) of the running time whose take has ``origin``."""
        return self._share(self.frames_of(origin))

    @property
    def ai_frames(self) -> int:
        """Frames generated or edited by AI."""
        return self.frames_of(Origin.GENERATED) + self.frames_of(Origin.EDITED)

    @property
    def ai_share(self) -> float:
        """The share of the running time that is AI made (generated or edited)."""
        return self._share(self.ai_frames)

    @property
    def approved_frames(self) -> int:
        """Frames whose take a person approved."""
        return sum(row.frames for row in self.rows if row.approval is not None)

    @property
    def approved_share(self) -> float:
        """The share of the running time whose take a person approved."""
        return self._share(self.approved_frames)

    @property
    def not_approved_share(self) -> float:
        """The share of the running time not approved (unapproved takes and NO TAKE slates)."""
        return self._share(self.runtime_frames - self.approved_frames) if self.rows else 0.0

    def _share(self, frames: int) -> float:
        total = self.runtime_frames
        return frames / total if total else 0.0

    def timecode(self, frames: int) -> str:
        """``frames`` as non-drop HH:MM:SS:FF at the cut's frame rate (24 a second at 23.976)."""
        return timecode_text(frames, self.fps)

    @property
    def rate(self) -> str:
        """The frame rate as people say it: "24", "23.976"."""
        return rate_label(Fraction(self.fps))

    @property
    def systems(self) -> list[str]:
        """The generative AI systems the cut's takes used: backend and version, model, weights."""
        seen: dict[str, None] = {}
        for row in self.rows:
            if row.origin is not None and row.origin.is_ai:
                name = " ".join(part for part in (row.backend, row.backend_version) if part)
                if row.model:
                    name += f", model {row.model}"
                if row.weights_sha256:
                    name += f" (weights sha256 {row.weights_sha256[:16]})"
                seen.setdefault(name, None)
        return list(seen)

    @property
    def latent_fields(self) -> list[LatentField]:
        """The fields of a latent disclosure, with where the signed files carry each."""
        systems = "; ".join(self.systems) or "none: no take in this cut was made with AI"
        return [
            LatentField(
                "Provider",
                self.provider or "(not named)",
                "signer certificate (organisation); org.soundstage.cut: provider",
                "Cal. Bus. & Prof. Code 22757.3(b)(1)(A)",
            ),
            LatentField(
                "AI system, name and version",
                f"{systems}; assembled with {self.generator}",
                "each take: c2pa.created softwareAgent and org.soundstage.take; animatic: org.soundstage.cut: systems",
                "Cal. Bus. & Prof. Code 22757.3(b)(1)(B)",
            ),
            LatentField(
                "Time and date of creation",
                self.created,
                "animatic: c2pa.created when; org.soundstage.cut: created_at",
                "Cal. Bus. & Prof. Code 22757.3(b)(1)(C)",
            ),
            LatentField(
                "Unique identifier",
                self.cut_id,
                "org.soundstage.cut: cut_id (and each manifest's own instance id)",
                "Cal. Bus. & Prof. Code 22757.3(b)(1)(D)",
            ),
            LatentField(
                "Machine-readable marking as AI generated or manipulated",
                "C2PA content credentials with an IPTC digital source type on every take and the animatic",
                "c2pa.created digitalSourceType",
                "EU AI Act Art. 50(2); Cal. Bus. & Prof. Code 22757.3(b)(3)",
            ),
        ]

    @property
    def notice(self) -> str:
        """A plain-language notice for the audience of an artistic work: it says that AI made
        part of the pictures and how much, without labels over the picture (EU AI Act Art.
        50(4): a disclosure that does not hamper the display or enjoyment of the work)."""
        title = self.title or "This work"
        if self.ai_frames:
            text = (
                f"{title} is a work of animation. {_percent(self.ai_share)} of its running time shows pictures "
                "generated or altered with AI, directed from the artists' own 3D blocking; the rest is "
                "that blocking as the artists staged it."
            )
        else:
            text = f"{title} is a work of animation. No picture in it was generated or altered with AI."
        if self.rows and self.approved_frames == self.runtime_frames:
            text += " A named member of the crew chose and approved every shot."
        else:
            text += (
                f" A named member of the crew has approved {_percent(self.approved_share)} of the running time; "
                "the rest is work in progress."
            )
        if self.ai_text:
            text += " Parts of the screenplay were generated with AI."
        if self.scratch_dialogue:
            text += " The voices are scratch dialogue from espeak-ng, rule-based speech synthesis that stands in for actors."
        return text + " The files carry content credentials (C2PA) that say, shot by shot, how each picture was made."


def _percent(share: float) -> str:
    """A share as a percentage; never rounds a small non-zero share down to 0 %."""
    if 0 < share < 0.005:
        return "under 1 %"
    return f"{share * 100:.0f} %"


def render_html(disclosure: Disclosure) -> str:
    """The disclosure as one self-contained HTML page."""
    return _TEMPLATES.get_template("disclosure.html").render(
        d=disclosure, Origin=Origin, percent=_percent, ai_text_note=AI_TEXT_NOTE
    )


# PDF columns: heading, width in mm (A4 landscape, 277 mm between the margins).
_COLUMNS = (
    ("Shot", 22), ("Take", 24), ("Origin", 34), ("System / model", 46), ("Weights", 26), ("Seed", 20),
    ("Duration", 24), ("Requested by", 22), ("Checks", 18), ("Approved by", 41),
)  # fmt: skip


def render_pdf(disclosure: Disclosure) -> bytes:
    """The disclosure as a PDF (fpdf2)."""
    d = disclosure
    pdf = ReportPdf(f"Disclosure: {d.title}", footer=f"{d.title}, cut {d.cut_id}", made_at=d.created_at, body_size=9)
    pdf.add_page()
    pdf.set_font(pdf.font_name, "B", 16)
    pdf.cell(0, 10, pdf.text_of(f"AI disclosure: {d.title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_name, "", 9)
    made = f"Cut {d.cut_id}, made {d.created} with {d.generator}"
    made += f" for {d.provider}" if d.provider else ""
    made += f" by {d.maker}" if d.maker else ""
    pdf.paragraph(made + ".")
    pdf.heading("Notice to the audience")
    pdf.paragraph(d.notice)
    pdf.heading("Totals")
    total = d.runtime_frames
    lines = [f"Running time: {d.timecode(total)} ({total} frames at {d.rate} fps)"]
    for origin in (*Origin, None):
        label = origin.label if origin is not None else NO_TAKE
        lines.append(f"{label}: {_percent(d.share_of(origin))} ({d.frames_of(origin)} frames)")
    lines.append(f"AI generated or edited: {_percent(d.ai_share)} of the running time ({d.ai_frames} frames)")
    lines.append(f"Approved: {_percent(d.approved_share)}; not approved: {_percent(d.not_approved_share)}")
    for line in lines:
        pdf.paragraph(line)
    if d.ai_text:
        pdf.heading("AI-generated material")
        pdf.paragraph(AI_TEXT_NOTE)
        for text in d.ai_text:
            pdf.paragraph(f"Screenplay {text.label}: AI-generated text")
    pdf.heading("Latent disclosure (in every signed file's content credentials)")
    with pdf.table(col_widths=(50, 110, 72, 45), text_align="LEFT", line_height=4.5) as table:
        table.row(["Field", "Value", "Carried in", "Provision"])
        for entry in d.latent_fields:
            table.row([pdf.text_of(v) for v in (entry.name, entry.value, entry.carried_in, entry.provision)])
    pdf.heading("Shots")
    pdf.set_font(pdf.font_name, "", 8)
    with pdf.table(col_widths=tuple(w for _, w in _COLUMNS), text_align="LEFT", line_height=4) as table:
        table.row([name for name, _ in _COLUMNS])
        for row in d.rows:
            system = " ".join(p for p in (row.backend, row.backend_version) if p)
            if row.model:
                system += f" / {row.model}"
            cells = (
                row.shot,
                row.take or NO_TAKE,
                row.origin_label,
                system,
                row.weights_sha256[:12],
                "" if row.seed is None else str(row.seed),
                d.timecode(row.frames),
                row.requester_label,
                row.checks,
                row.approval_label,
            )
            table.row([pdf.text_of(cell) for cell in cells])
    return bytes(pdf.output())


def write_disclosure(disclosure: Disclosure, html: Path, pdf: Path) -> None:
    """Write the disclosure as HTML and as PDF, each atomically."""
    write_atomic(html, render_html(disclosure).encode("utf-8"), what="disclosure report", error=CutError)
    write_atomic(pdf, render_pdf(disclosure), what="disclosure PDF", error=CutError)
