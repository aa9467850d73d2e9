"""Finding a shot or a take by the names people use, with one clear error when there is none."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from soundstage.errors import ShotError
from soundstage.store.tables import ShotRow, TakeRow


def shot_row(session: Session, code: str) -> ShotRow:
    """The shot ``code`` ("012_0030"); ShotError if the production has none."""
    row = session.scalars(select(ShotRow).where(ShotRow.code == code.strip().upper())).first()
    if row is None:
        raise ShotError(f"no shot {code!r} in this production (soundstage shots lists them)")
    return row


def take_row(session: Session, shot: ShotRow, number: int | None) -> TakeRow:
    """Take ``number`` of ``shot``, or its newest take when ``number`` is None."""
    query = select(TakeRow).where(TakeRow.shot_id == shot.id)
    query = query.where(TakeRow.number == number) if number is not None else query.order_by(TakeRow.number.desc())
    take = session.scalars(query.limit(1)).first()
    if take is None:
        which = f"take {number}" if number is not None else "takes yet"
        raise ShotError(f"shot {shot.code} has no {which} (soundstage takes {shot.code})")
    return take
