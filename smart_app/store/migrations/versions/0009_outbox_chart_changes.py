"""What a write-back found changed in the chart, and what the user agreed to write over.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["branch_labels", "depends_on", "down_revision", "downgrade", "revision", "upgrade"]

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Nullable: both databases add them in place; no item has seen or accepted a change yet.
    op.add_column("outbox_items", sa.Column("chart_changes_json", sa.Text(), nullable=True))
    op.add_column("outbox_items", sa.Column("accepted_changes_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_items") as table:  # SQLite drops columns by copying
        table.drop_column("accepted_changes_json")
        table.drop_column("chart_changes_json")
