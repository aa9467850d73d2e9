"""The review room's reads: a shot's subjects and frames as columns (filled from the plan with
the artist's edits), and indexes on what the board, the shot page and the media checks filter.

Revision ID: 0015_latency
Revises: 0014_strip2
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_latency"
down_revision: str | None = "0014_strip2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shots") as batch:
        batch.add_column(sa.Column("subjects", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("frames", sa.Integer(), nullable=False, server_default="0"))
    shots = sa.table(
        "shots",
        sa.column("id", sa.Integer),
        sa.column("planned", sa.JSON),
        sa.column("edits", sa.JSON),
        sa.column("subjects", sa.Text),
        sa.column("frames", sa.Integer),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(shots.c.id, shots.c.planned, shots.c.edits)).all()
    filled = [{"shot_id": r.id, **shot_summary(r.planned or {}, r.edits)} for r in rows]
    if filled:
        connection.execute(
            shots.update()
            .where(shots.c.id == sa.bindparam("shot_id"))
            .values(subjects=sa.bindparam("subjects"), frames=sa.bindparam("frames")),
            filled,
        )
    op.create_index("ix_shots_assignee", "shots", ["assignee"])


def shot_summary(planned: dict[str, object], edits: dict[str, object] | None) -> dict[str, object]:
    """The columns as store.tables.shot_summary fills them, frozen here as this revision knew it."""
    merged = {**planned, **(edits or {})}
    names = [str(name) for name in merged.get("subjects", [])]  # type: ignore[attr-defined]
    return {"subjects": "".join(f"|{n}" for n in names) + "|" if names else "", "frames": int(merged.get("frames", 0))}  # type: ignore[call-overload]


def downgrade() -> None:
    op.drop_index("ix_shots_assignee", table_name="shots")
    with op.batch_alter_table("shots") as batch:
        batch.drop_column("frames")
        batch.drop_column("subjects")
