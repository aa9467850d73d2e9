"""Characters with stable mask ids and colours, USD layouts per shot, previs renders per shot.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "characters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("mask_id", sa.Integer(), nullable=False),
        sa.Column("colour", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_characters"),
        sa.UniqueConstraint("name", name="uq_characters_name"),
        sa.UniqueConstraint("mask_id", name="uq_characters_mask_id"),
    )
    op.create_table(
        "layouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shot_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("written_sha256", sa.String(length=64), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shot_id"], ["shots.id"], ondelete="CASCADE", name="fk_layouts_shot_id_shots"),
        sa.PrimaryKeyConstraint("id", name="pk_layouts"),
        sa.UniqueConstraint("shot_id", name="uq_layouts_shot_id"),
    )
    op.create_table(
        "renders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shot_id", sa.Integer(), nullable=False),
        sa.Column("layout_sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("storyboard_sha256", sa.String(length=64), nullable=False),
        sa.Column("depth_sha256", sa.String(length=64), nullable=False),
        sa.Column("lineart_sha256", sa.String(length=64), nullable=False),
        sa.Column("ids_sha256", sa.String(length=64), nullable=False),
        sa.Column("issues", sa.JSON(), nullable=False),
        sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shot_id"], ["shots.id"], ondelete="CASCADE", name="fk_renders_shot_id_shots"),
        sa.PrimaryKeyConstraint("id", name="pk_renders"),
        sa.UniqueConstraint("shot_id", name="uq_renders_shot_id"),
    )


def downgrade() -> None:
    op.drop_table("renders")
    op.drop_table("layouts")
    op.drop_table("characters")
