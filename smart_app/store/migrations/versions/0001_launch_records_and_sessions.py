"""Launch records and sessions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "smart_launch_records",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("iss", sa.String(2048), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
        sa.Column("secrets", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_smart_launch_records_created_at", "smart_launch_records", ["created_at"])
    op.create_table(
        "smart_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("iss", sa.String(2048), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_smart_sessions_expires_at", "smart_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_smart_sessions_expires_at", table_name="smart_sessions")
    op.drop_table("smart_sessions")
    op.drop_index("ix_smart_launch_records_created_at", table_name="smart_launch_records")
    op.drop_table("smart_launch_records")
