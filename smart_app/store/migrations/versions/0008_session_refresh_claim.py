"""Which worker process may refresh a session's tokens, and until when.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Nullable: both databases add it in place; no session holds a claim.
    op.add_column("smart_sessions", sa.Column("refresh_claimed_until", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("smart_sessions") as table:  # SQLite drops columns by copying
        table.drop_column("refresh_claimed_until")
