"""The stripboard in the review room: the current schedule as strips per shoot day with its day
out of days (every crew member may look), and the move a producer makes by dragging a strip to
another day (static/stripboard.js asks for the cost and conflicts over each day, then posts the
move on the drop).

A move goes through ``project.schedules.move``, the same rules as ``soundstage schedule move``:
a move that breaks one is refused with the conflict (409) and nothing is stored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from soundstage.errors import StripConflict
from soundstage.project import schedules
from soundstage.web.auth import Crew, Producer, production_of
from soundstage.web.render import render
from soundstage.web.schemas import ERRORS, MoveIn, MoveOut, PreviewOut

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/schedule", tags=["schedule"], responses=ERRORS)


@router.get("/schedule")
def schedule_page(request: Request, who: Crew) -> HTMLResponse:
    """The stripboard and day out of days; strips are draggable for producers."""
    view = schedules.board_view(production_of(request))
    can_move = who.role == "producer" and view is not None and not view.stale
    return render(request, "schedule.html", {"view": view, "can_move": can_move})


@api_router.post("/moves")
def move_strip(request: Request, who: Producer, body: MoveIn) -> MoveOut:
    """Move a scene's strip to another shoot day (producer, audited as theirs); 409 with the
    conflict when the move breaks a rule of the schedule, and nothing is stored."""
    try:
        moved = schedules.move(production_of(request), body.scene, body.day, by=who.person)
    except StripConflict as refused:
        raise HTTPException(409, str(refused)) from None
    day = moved.day_of(body.scene)
    return MoveOut(scene=body.scene, day=day.index + 1, date=day.date.isoformat(), cost=str(moved.cost.total))


@api_router.get("/preview")
def preview_move(
    request: Request,
    _who: Producer,
    scene: Annotated[str, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9.\-]+$")],
    day: Annotated[int, Query(ge=1, le=10_000)],
) -> PreviewOut:
    """What moving a strip to a day would cost and break, stored or not (producer): what the
    board shows while the strip is dragged over the day."""
    moved = schedules.try_move(production_of(request), scene, day)
    return PreviewOut(scene=scene, day=day, cost=str(moved.schedule.cost.total), conflicts=list(moved.conflicts))
