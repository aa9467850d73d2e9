"""The ``[books]`` section of ``soundstage.toml``, for ``config.Settings`` to carry:

[books]
currency = "CAD"                 # the report's and the what-if comparison's currency
programs = ["incentives"]        # folders of the studio's own program files (after the shipped)
time_zone = "America/Toronto"    # what "a day" is for hours suggested from activity
activity_gap_minutes = 45
activity_pad_minutes = 15
[books.facts]                    # production facts (books/facts.py)
kind = "series"
episodes = 10
[books.accounts.1100]            # a chart of accounts replacing the default
name = "Story and rights"
category = "rights"
[books.departments]
story = "story"
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from soundstage.books.facts import ProductionFacts, load_facts
from soundstage.books.model import Chart, load_chart
from soundstage.errors import BooksError


class BooksSettings(BaseModel):
    """The production's settings for its books."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    programs: list[str] = Field(default_factory=list, description="folders of the studio's program files")
    time_zone: str = Field("UTC", description="the production's time zone: what a day of activity is")
    activity_gap_minutes: float = Field(45, gt=0)
    activity_pad_minutes: float = Field(15, ge=0)
    facts: dict[str, Any] = Field(default_factory=dict)
    accounts: dict[str, Any] = Field(default_factory=dict)
    departments: dict[str, Any] = Field(default_factory=dict)

    def chart(self) -> Chart:
        """The production's chart of accounts, or the default for animation."""
        if not self.accounts:
            return load_chart()
        return load_chart({"accounts": self.accounts, "departments": self.departments})

    def production_facts(self) -> ProductionFacts:
        return load_facts(self.facts)

    def program_folders(self, root: Path) -> list[Path]:
        """The studio's program folders, relative to the production folder."""
        return [root / folder for folder in self.programs]

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise BooksError(f"soundstage.toml [books] time_zone: unknown time zone {self.time_zone!r}") from None

    @property
    def gap(self) -> timedelta:
        return timedelta(minutes=self.activity_gap_minutes)

    @property
    def pad(self) -> timedelta:
        return timedelta(minutes=self.activity_pad_minutes)
