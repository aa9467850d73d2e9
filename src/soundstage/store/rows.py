"""Finding a shot or a take by the names people use, with one clear error when there is none."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from soundstage.errors import ShotError
from soundstage.store.tables import ShotRow, TakeRow


def shot_row(session: Session, code: str, *, with_scene: bool = False) -> ShotRow:
    """The shot ``code`` ("012_0030"); ShotError if the production has none. ``with_scene``
    loads its scene in the same query (``shot.scene`` then costs no second one)."""
    query = select(ShotRow).where(ShotRow.code == code.strip().upper())
    if with_scene:
        query = query.options(joinedload(ShotRow.scene))
    row = session.scalars(query).first()
    if row is None:
        raise ShotError(f"no shot {code!r} in this production (soundstage shots lists them)")
    return row


def take_row(session: Session, shot: ShotRow, number: int | None) -> TakeRow:
    """Take ``number`` of ``shot``, or its newest take when ``number`` is None."""
    take = session.scalars(take_select(shot, number)).first()
    if take is None:
        raise no_take(shot, number)
    return take


def take_select(shot: ShotRow, number: int | None) -> Select[tuple[TakeRow]]:
    """The query of ``take_row``: take ``number`` of ``shot`` (its newest when None), at most one."""
    query = select(TakeRow).where(TakeRow.shot_id == shot.id)
    query = query.where(TakeRow.number == number) if number is not None else query.order_by(TakeRow.number.desc())
    return query.limit(1)


def no_take(shot: ShotRow, number: int | None) -> ShotError:
    """The error of a take ``take_row`` did not find."""
    which = f"take {number}" if number is not None else "takes yet"
    return ShotError(f"shot {shot.code} has no {which} (soundstage takes {shot.code})")
