"""The project: opens a production folder, runs the pipeline's stages and persists what they
produce. One module of services per area (drafts, shotlist, blocking, bible, takes, checks,
editorial, people, review, trail, board, dailies), each taking the open production's
``Context`` (production.py) or a session of its engine; ``Production`` (facade.py) is the
one-object way in that the CLI and scripts use. docs/architecture.md draws the map.
"""

from __future__ import annotations

from soundstage.project.blocking import LayoutReport, PrevisReport
from soundstage.project.checks import CheckReport
from soundstage.project.drafts import ImportReport
from soundstage.project.editorial import CutReport
from soundstage.project.facade import Production
from soundstage.project.production import DATABASE_FILE, LAYOUTS_DIR, MEDIA_DIR, Context, Progress
from soundstage.project.shotlist import PlanReport
from soundstage.project.takes import TakeInfo, TakeOptions
from soundstage.reports.sheets import SceneSheet

__all__ = [
    "DATABASE_FILE",
    "LAYOUTS_DIR",
    "MEDIA_DIR",
    "CheckReport",
    "Context",
    "CutReport",
    "ImportReport",
    "LayoutReport",
    "PlanReport",
    "PrevisReport",
    "Production",
    "Progress",
    "SceneSheet",
    "TakeInfo",
    "TakeOptions",
]
