"""Scenes a user pinned to a shoot date (``soundstage schedule pin|unpin``): stored here, given
to every solve and re-plan as fixed days (``ScheduleProblem.pins``), shown on the stripboard."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from soundstage.errors import ScheduleError
from soundstage.project.production import Context
from soundstage.store.tables import SchedulePinRow


def pins(context: Context) -> dict[str, date]:
    """Scene number -> the date it is pinned to, by scene number."""
    with context.reading() as session:
        rows = session.execute(select(SchedulePinRow.scene, SchedulePinRow.day).order_by(SchedulePinRow.scene))
        return {scene: date.fromisoformat(day) for scene, day in rows}


def store(context: Context, scene: str, day: date) -> None:
    """Pin ``scene`` to ``day``, replacing a pin it had (the caller checked both)."""
    with context.transaction() as session:
        row = session.scalar(select(SchedulePinRow).where(SchedulePinRow.scene == scene))
        if row is None:
            session.add(SchedulePinRow(scene=scene, day=day.isoformat()))
        else:
            row.day = day.isoformat()


def remove(context: Context, scene: str) -> date:
    """Unpin ``scene``; the date it was pinned to. One line if it was not pinned."""
    with context.transaction() as session:
        row = session.scalar(select(SchedulePinRow).where(SchedulePinRow.scene == scene))
        if row is None:
            raise ScheduleError(f"scene {scene} is not pinned")
        session.execute(delete(SchedulePinRow).where(SchedulePinRow.id == row.id))
        return date.fromisoformat(row.day)
