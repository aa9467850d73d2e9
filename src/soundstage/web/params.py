"""What the review room's routes take from the path and the query string, declared once: shot
codes, playlist ids, and the board's filters (the API and the board page filter alike)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from soundstage.project.board import BoardFilter
from soundstage.web.schemas import MAX_INT

ShotCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9_]{1,32}$", description="Shot code, e.g. 012_0030")]
PlaylistId = Annotated[int, Path(ge=1, le=MAX_INT)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
# A filter's value: bounded, and free of NUL (which PostgreSQL's text cannot hold).
Filter = Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00]*$")]


def board_filter(
    scene: Filter = None, status: Filter = None, character: Filter = None, assignee: Filter = None
) -> BoardFilter:
    """The board's filters from the query string (``?scene=3&character=MAISIE``)."""
    return BoardFilter(scene=scene, status=status, character=character, assignee=assignee)


Filters = Annotated[BoardFilter, Depends(board_filter)]
