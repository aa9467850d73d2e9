"""The screenplay a cut was made from, as its credentials and disclosure name it when the draft
holds AI-generated text (WGA MBA 2023, Art. 72: AI text is not literary material, so it is
disclosed as AI-generated material and never listed as source material). Standard library
only, so the project layer can name a draft without loading c2pa.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AiText:
    """A screenplay draft holding AI-generated text: its number in the production and the
    sha256 of its file (the rules know a draft by that hash)."""

    draft: int
    sha256: str

    @property
    def label(self) -> str:
        """How the disclosure report names it: ``draft 3, sha256 5af28615e096``."""
        return f"draft {self.draft}, sha256 {self.sha256[:12]}"

    def as_json(self) -> dict[str, Any]:
        """The entry of ``org.soundstage.cut``'s ``ai_text``: the full hash, so a reader can
        match the file itself."""
        return {"source": "screenplay", "draft": self.draft, "sha256": self.sha256}
