"""The login throttle counts failures per client address as well as per name, and each attempt
forgets the failures older than its window: an index of (address, time) and one of time.

Revision ID: 0020_login_throttle
Revises: 0019_lease
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020_login_throttle"
down_revision: str | None = "0019_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_login_failures_address_at", "login_failures", ["address", "at"])
    op.create_index("ix_login_failures_at", "login_failures", ["at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_at", table_name="login_failures")
    op.drop_index("ix_login_failures_address_at", table_name="login_failures")
