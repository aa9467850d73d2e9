"""Previs renders in time: a moving shot's frame count, rate and pass clips.

Revision ID: 0013_motion
Revises: 0012_cutside
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_motion"
down_revision: str | None = "0012_cutside"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("renders") as batch:
        batch.add_column(sa.Column("frames", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("fps", sa.String(length=16), server_default="24", nullable=False))
        batch.add_column(sa.Column("clips", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("renders") as batch:
        batch.drop_column("clips")
        batch.drop_column("fps")
        batch.drop_column("frames")
