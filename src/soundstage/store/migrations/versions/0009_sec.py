"""Which client link each guest comment came through (guest isolation).

Revision ID: 0009_sec
Revises: 0008_books
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_sec"
down_revision: str | None = "0008_books"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Guest comments written before this revision name no link: no guest sees them any more
    # (the crew still do), which is the safe side.
    op.create_table(
        "guest_notes",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["share_id"], ["shares.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("note_id"),
    )
    op.create_index(op.f("ix_guest_notes_share_id"), "guest_notes", ["share_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_guest_notes_share_id"), table_name="guest_notes")
    op.drop_table("guest_notes")
