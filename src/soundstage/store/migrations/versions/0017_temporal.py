"""Findings name the frames of a clip take they are about (the clip checks in time).

Revision ID: 0017_temporal
Revises: 0016_writer
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_temporal"
down_revision: str | None = "0016_writer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("first_frame", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_frame", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("last_frame")
        batch.drop_column("first_frame")
